//! The FinCore sandbox: the workshop's payment API served by `gameday` itself, with real
//! failures, a real database, finite capacity and the workshop's metrics.

mod audit;
pub mod bodies;
mod connection;
pub mod control_token;
mod descriptors;
mod exhaustion;
pub mod failures;
mod fallback;
pub mod leak;
pub mod ledger;
pub mod ledger_fallback;
pub mod ledger_payments;
pub mod metrics;
pub mod patterns;
mod payment_calls;
mod payment_routes;
pub mod process_stats;
pub mod provider_client;
mod routes;
mod server;
pub mod supervisor;
pub mod upstream_metrics;

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
use provider_client::ProviderClient;
use upstream_metrics::UpstreamMetrics;

use crate::provider::{self, ProviderConfig, RunningProvider};
use crate::secret::Secret;

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
    pub provider: ProviderSetup,
}

/// Where the payment provider is.
#[derive(Debug, Clone)]
pub enum ProviderSetup {
    /// Started in this process on a loopback port of its own, with a random webhook secret.
    Embedded,
    /// Already running at `url`, signing its webhooks with `secret`.
    External { url: String, secret: Secret },
}

/// How often `fintech_upstream_up` probes the provider's health.
const PROVIDER_PROBE_EVERY: Duration = Duration::from_secs(2);

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
    provider: ProviderClient,
    provider_secret: Secret,
    provider_embedded: bool,
    upstream: Arc<UpstreamMetrics>,
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
    let upstream = Arc::new(UpstreamMetrics::default());
    let (provider_url, provider_secret, embedded) = start_provider(&config.provider, bound).await?;
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
        provider: ProviderClient::new(&provider_url, Arc::clone(&upstream))?,
        provider_secret,
        provider_embedded: embedded.is_some(),
        upstream,
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
    // One write, its failure ignored: a reader may close the pipe after the first line.
    let _ = std::io::Write::write_all(
        &mut std::io::stdout(),
        format!(
            "listening on http://{bound}\npayment provider at {provider_url}{}\n",
            if embedded.is_some() {
                " (embedded)"
            } else {
                ""
            }
        )
        .as_bytes(),
    );
    tracing::info!(
        event = "provider_in_use",
        url = %provider_url,
        embedded = embedded.is_some(),
        "payments go to the provider at {provider_url}"
    );

    let expiry = tokio::spawn(expire_failures(Arc::clone(&sandbox)));
    let probe = tokio::spawn(probe_provider(Arc::clone(&sandbox)));
    let completion = tokio::spawn(fallback::complete_pending(Arc::clone(&sandbox)));
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
    probe.abort();
    completion.abort();
    drop(embedded);
    sandbox.ledger.close().await;
    tracing::info!(event = "sandbox_stopped", "FinCore sandbox stopped");
    Ok(())
}

/// The provider's URL and webhook secret, and the embedded provider if we started one. Its
/// webhooks come back to this sandbox's own address (loopback if it listens on every one).
async fn start_provider(
    setup: &ProviderSetup,
    bound: SocketAddr,
) -> Result<(String, Secret, Option<RunningProvider>), String> {
    match setup {
        ProviderSetup::External { url, secret } => Ok((url.clone(), secret.clone(), None)),
        ProviderSetup::Embedded => {
            let secret = Secret::random();
            let host = if bound.ip().is_unspecified() {
                SocketAddr::from(([127, 0, 0, 1], bound.port()))
            } else {
                bound
            };
            let running = provider::start(ProviderConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                webhook_url: format!("http://{host}/api/webhooks/provider"),
                webhook_secret: secret.clone(),
            })
            .await?;
            Ok((running.url(), secret, Some(running)))
        }
    }
}

/// Keeps `fintech_upstream_up` current.
async fn probe_provider(sandbox: Arc<Sandbox>) {
    let mut every = tokio::time::interval(PROVIDER_PROBE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let up = sandbox.provider.probe().await;
        sandbox.upstream.set_up(up);
    }
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
