//! The FinCore sandbox: the workshop's payment API served by `gameday` itself, with real
//! failures, a real database, finite capacity and the workshop's metrics.

mod audit;
pub mod bodies;
mod connection;
pub mod control_token;
mod descriptors;
mod exhaustion;
pub mod failures;
pub mod leak;
pub mod ledger;
pub mod metrics;
pub mod patterns;
pub mod process_stats;
mod routes;
mod server;
pub mod supervisor;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};

use failures::FailureState;
use leak::LeakStore;
use ledger::Ledger;
use metrics::Metrics;

/// Everything `gameday sandbox` is told on its command line.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub listen: SocketAddr,
    pub database_url: Option<String>,
    pub workers: usize,
    pub db_pool: u32,
    pub memory_cap_bytes: u64,
    pub default_ttl: Option<Duration>,
    pub control_token: Option<String>,
    pub connections: ConnectionLimits,
    /// Stop when stdin closes: a supervisor holds our stdin, so we never outlive it.
    pub exit_with_stdin: bool,
}

/// How many connections may be open and how long each may wait, from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// `None`: [`DEFAULT_MAX_CONNECTIONS`], lowered if the descriptor limit cannot hold it.
    pub max_connections: Option<usize>,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
}

/// Above the load generator's 512 requests in flight (so an injected latency is not turned
/// into refusals) with the dashboard's probes, and under the common descriptor limit of 1024
/// with room for the database and the refusals.
pub const DEFAULT_MAX_CONNECTIONS: usize = 768;

/// The longest a shutdown waits for requests in flight (an injected 60 s delay must not hold
/// the process).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// The service's shared state.
pub struct Sandbox {
    failures: Mutex<FailureState>,
    failures_changed: Notify,
    ledger: Ledger,
    metrics: Arc<Metrics>,
    leak: LeakStore,
    workers: Semaphore,
    worker_count: usize,
    default_ttl: Option<Duration>,
    control_token: Option<String>,
    patterns: patterns::Patterns,
}

impl Sandbox {
    fn failures(&self) -> MutexGuard<'_, FailureState> {
        // Every update of the state is a plain assignment: a poisoned lock still holds a
        // consistent value.
        self.failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Serves the sandbox until SIGINT or SIGTERM. Prints `listening on http://ADDR` on stdout once
/// the port is bound, so a supervisor or a test can find a port chosen by the system.
pub async fn run(config: SandboxConfig) -> Result<(), String> {
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|err| format!("cannot listen on {}: {err}", config.listen))?;
    let bound = listener
        .local_addr()
        .map_err(|err| format!("cannot read the bound address: {err}"))?;
    if !bound.ip().is_loopback() {
        eprintln!(
            "WARNING: the sandbox listens on {bound}: anyone who can reach this address can inject failures{}.",
            if config.control_token.is_some() {
                " if they know the control token"
            } else {
                " (set --control-token to require a token)"
            }
        );
    }
    let fitted = descriptors::fit(
        config
            .connections
            .max_connections
            .unwrap_or(DEFAULT_MAX_CONNECTIONS),
        config.connections.max_connections.is_some(),
        descriptors::reserve(config.db_pool, server::REFUSALS_AT_ONCE),
    );
    let limits = server::ServerLimits {
        max_connections: fitted.max_connections,
        timeouts: connection::ConnectionTimeouts {
            header: config.connections.header_timeout,
            idle: config.connections.idle_timeout,
        },
    };
    let metrics = Arc::new(Metrics::default());
    let ledger = Ledger::open(
        config.database_url.as_deref(),
        config.db_pool,
        Arc::clone(&metrics),
    )
    .await?;
    let sandbox = Arc::new(Sandbox {
        failures: Mutex::new(FailureState::default()),
        failures_changed: Notify::new(),
        ledger,
        metrics,
        leak: LeakStore::new(config.memory_cap_bytes),
        workers: Semaphore::new(config.workers),
        worker_count: config.workers,
        default_ttl: config.default_ttl,
        control_token: config.control_token.clone(),
        patterns: patterns::Patterns::new(&[patterns::PROVIDER]),
    });
    tracing::info!(
        event = "sandbox_started",
        listen = %bound,
        database = ?sandbox.ledger.backend(),
        workers = config.workers,
        db_pool = config.db_pool,
        memory_cap_bytes = config.memory_cap_bytes,
        max_connections = limits.max_connections,
        header_timeout_ms = millis(limits.timeouts.header),
        idle_timeout_ms = millis(limits.timeouts.idle),
        descriptor_limit = fitted.descriptors,
        "FinCore sandbox listening on {bound}: at most {} connections, header timeout {:?}, \
         idle timeout {:?}",
        limits.max_connections,
        limits.timeouts.header,
        limits.timeouts.idle,
    );
    if let Some(note) = &fitted.note {
        tracing::warn!(event = "connection_limit_adjusted", "{note}");
        eprintln!("WARNING: {note}");
    }
    println!("listening on http://{bound}");

    let expiry = tokio::spawn(expire_failures(Arc::clone(&sandbox)));
    let app = routes::router(Arc::clone(&sandbox));
    server::serve(
        listener,
        app,
        limits,
        Arc::clone(&sandbox.metrics),
        shutdown_signal(config.exit_with_stdin),
        SHUTDOWN_GRACE,
    )
    .await;
    expiry.abort();
    sandbox.ledger.close().await;
    tracing::info!(event = "sandbox_stopped", "FinCore sandbox stopped");
    Ok(())
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Resets each knob when its time to live runs out.
async fn expire_failures(sandbox: Arc<Sandbox>) {
    loop {
        let next = sandbox.failures().next_expiry();
        match next {
            Some(at) => {
                tokio::select! {
                    () = tokio::time::sleep_until(at.into()) => {}
                    () = sandbox.failures_changed.notified() => continue,
                }
            }
            None => {
                sandbox.failures_changed.notified().await;
                continue;
            }
        }
        let (expired, config) = {
            let mut state = sandbox.failures();
            let expired = state.expire(Instant::now());
            (expired, state.config())
        };
        if expired.is_empty() {
            continue;
        }
        let freed = if expired.contains(&crate::knobs::Knob::MemoryLeakMb) {
            sandbox.leak.free_all()
        } else {
            0
        };
        audit::expired(&expired, &config, freed);
    }
}

async fn shutdown_signal(exit_with_stdin: bool) {
    let stdin_closed = async {
        if exit_with_stdin {
            let _ = tokio::io::copy(&mut tokio::io::stdin(), &mut tokio::io::sink()).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = stdin_closed => {}
        () = interrupt_or_terminate() => {}
    }
}

async fn interrupt_or_terminate() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = interrupt => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// ISO 8601 in UTC without a zone, as the workshop service writes timestamps.
pub fn iso_timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}
