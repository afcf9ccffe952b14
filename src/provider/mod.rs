//! The payment provider FinCore depends on over the network: it creates payments
//! (`POST /v1/payments`, idempotent by `Idempotency-Key`), later reports each outcome by a
//! signed webhook, and has failure knobs of its own (`knobs.rs`). `gameday provider` serves it
//! alone; `gameday sandbox` starts it in its own process on a loopback port of its own.

pub mod knobs;
mod metrics;
mod routes;
mod server;
pub mod signature;
mod store;
mod webhooks;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::secret::Secret;
use knobs::ProviderFailures;
use metrics::ProviderMetrics;
use store::PaymentStore;

/// Where the secret comes from when `--webhook-secret-file` is not given.
pub const SECRET_ENV: &str = "GAMEDAY_PROVIDER_SECRET";

/// Everything the provider is told at start.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub listen: SocketAddr,
    /// Where every webhook is posted (FinCore's `/api/webhooks/provider`).
    pub webhook_url: String,
    /// The HMAC key of the webhooks' signatures.
    pub webhook_secret: Secret,
}

/// The provider's shared state.
pub struct Provider {
    failures: watch::Sender<ProviderFailures>,
    store: Mutex<PaymentStore>,
    rate: Mutex<RateWindow>,
    secret: Secret,
    webhook_url: String,
    webhook_client: reqwest::Client,
    metrics: ProviderMetrics,
}

impl Provider {
    fn new(config: &ProviderConfig) -> Result<Provider, String> {
        let webhook_client =
            crate::fincore::tls::build_client(|builder| builder.timeout(webhooks::ATTEMPT_TIMEOUT))
                .map_err(|err| format!("cannot build the webhook client: {err}"))?;
        Ok(Provider {
            failures: watch::Sender::new(ProviderFailures::default()),
            store: Mutex::new(PaymentStore::default()),
            rate: Mutex::new(RateWindow::new()),
            secret: config.webhook_secret.clone(),
            webhook_url: config.webhook_url.clone(),
            webhook_client,
            metrics: ProviderMetrics::default(),
        })
    }

    fn failures(&self) -> ProviderFailures {
        *self.failures.borrow()
    }

    fn store(&self) -> MutexGuard<'_, PaymentStore> {
        // Every change of the store is whole inside the lock: a poisoned lock is consistent.
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a request in the current one-second window; `Err(wait)` above `limit` per second.
    fn admit(&self, limit: u64) -> Result<(), Duration> {
        let mut window = self
            .rate
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        window.admit(limit, Instant::now())
    }
}

/// A fixed one-second window of requests, for `rate_limit_per_s`.
struct RateWindow {
    started: Instant,
    count: u64,
}

impl RateWindow {
    fn new() -> RateWindow {
        RateWindow {
            started: Instant::now(),
            count: 0,
        }
    }

    fn admit(&mut self, limit: u64, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.started);
        if elapsed >= Duration::from_secs(1) {
            self.started = now;
            self.count = 0;
        }
        self.count += 1;
        if limit == 0 || self.count <= limit {
            Ok(())
        } else {
            Err(Duration::from_secs(1).saturating_sub(elapsed))
        }
    }
}

/// A provider serving on its own listener, in the current runtime.
pub struct RunningProvider {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl RunningProvider {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `config.listen` and serves in a task of the current runtime until dropped.
pub async fn start(config: ProviderConfig) -> Result<RunningProvider, String> {
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|err| format!("the provider cannot listen on {}: {err}", config.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|err| format!("cannot read the provider's bound address: {err}"))?;
    let provider = Arc::new(Provider::new(&config)?);
    tracing::info!(
        event = "provider_started",
        listen = %addr,
        webhook_url = %config.webhook_url,
        "payment provider listening on {addr}, webhooks to {}",
        config.webhook_url
    );
    let task = tokio::spawn(server::serve(listener, provider));
    Ok(RunningProvider { addr, task })
}

/// `gameday provider`: serves until SIGINT or SIGTERM. Prints `listening on http://ADDR` once
/// bound, as the sandbox does, for a supervisor or a test.
pub async fn run(config: ProviderConfig) -> Result<(), String> {
    let running = start(config).await?;
    println!("listening on {}", running.url());
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!(event = "provider_stopped", "payment provider stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_window_admits_the_limit_per_second() {
        let mut window = RateWindow::new();
        let start = window.started;
        assert!(window.admit(2, start).is_ok());
        assert!(window.admit(2, start).is_ok());
        let wait = window
            .admit(2, start + Duration::from_millis(300))
            .expect_err("third");
        assert_eq!(wait, Duration::from_millis(700));
        assert!(window.admit(2, start + Duration::from_secs(1)).is_ok());
        assert!(
            window.admit(0, start + Duration::from_secs(1)).is_ok(),
            "0 = off"
        );
    }
}
