//! The resilience patterns for the sandbox's calls to its upstreams (the payment provider):
//! bulkhead, circuit breaker, timeout and retry around one call, and the fallback as a flag
//! the caller reads. All off until `POST /api/patterns` switches them on.
//!
//! A call goes: bulkhead (a place, or refused at once) → for each attempt: circuit breaker
//! (refused at once while open) → the attempt under the timeout → the outcome to the breaker
//! → retry (backoff with jitter, `Retry-After`) or the answer.

pub mod breaker;
pub mod bulkhead;
mod exposition;
pub mod http;
pub mod retry;
pub use crate::pattern_settings as settings;
pub mod upstream_error;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use serde_json::{Map, Value, json};

use breaker::{Admission, BreakerState, CircuitBreaker, Ticket};
use bulkhead::Bulkhead;
use retry::NextStep;
pub use settings::{PatternConfig, PatternUpdate};
pub use upstream_error::{PatternError, UpstreamError};

/// The upstream the sandbox calls for payments; its series exist from the start.
pub const PROVIDER: &str = "provider";

/// The patterns' settings and each upstream's breaker, bulkhead and retry count.
pub struct Patterns {
    config: Mutex<PatternConfig>,
    upstreams: Mutex<BTreeMap<String, Arc<Upstream>>>,
}

struct Upstream {
    breaker: Mutex<CircuitBreaker>,
    bulkhead: Bulkhead,
    retries: AtomicU64,
}

impl Upstream {
    fn breaker(&self) -> MutexGuard<'_, CircuitBreaker> {
        lock(&self.breaker)
    }
}

/// Every update under these locks is whole before it is released: a poisoned lock still holds
/// a consistent value.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What an upstream's patterns have done, for tests and the read-back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpstreamFigures {
    pub breaker: BreakerState,
    pub in_use: usize,
    pub rejected: u64,
    pub retries: u64,
}

impl Patterns {
    /// Everything off, with `upstreams` known from the start (their series read 0, not absent).
    pub fn new(upstreams: &[&str]) -> Self {
        let patterns = Patterns {
            config: Mutex::new(PatternConfig::default()),
            upstreams: Mutex::new(BTreeMap::new()),
        };
        for name in upstreams {
            patterns.upstream(name);
        }
        patterns
    }

    pub fn config(&self) -> PatternConfig {
        *lock(&self.config)
    }

    /// Whether the caller should fall back (e.g. accept a payment as pending) when a call
    /// fails with [`PatternError::upstream_unavailable`].
    pub fn fallback_enabled(&self) -> bool {
        lock(&self.config).fallback.enabled
    }

    /// Parses a `POST /api/patterns` body against the current settings and applies it, in one
    /// step so two changes at once cannot lose one. On an error nothing changes.
    pub fn apply_body(&self, body: &[u8]) -> Result<PatternUpdate, String> {
        let mut config = lock(&self.config);
        let update = settings::parse_update(body, &config)?;
        let before = config.circuit_breaker;
        let after = update.config.circuit_breaker;
        let now = Instant::now();
        for upstream in lock(&self.upstreams).values() {
            let mut breaker = upstream.breaker();
            breaker.set_settings(after);
            if before.enabled != after.enabled {
                let reason = if after.enabled {
                    "switched on"
                } else {
                    "switched off"
                };
                breaker.reset(now, reason);
            }
        }
        *config = update.config;
        Ok(update)
    }

    fn upstream(&self, name: &str) -> Arc<Upstream> {
        if let Some(upstream) = lock(&self.upstreams).get(name) {
            return Arc::clone(upstream);
        }
        // The settings' lock first, as `apply_body` takes them: the new breaker starts with
        // the settings no change can slip in before.
        let config = lock(&self.config);
        let mut upstreams = lock(&self.upstreams);
        let upstream = upstreams.entry(name.to_string()).or_insert_with(|| {
            Arc::new(Upstream {
                breaker: Mutex::new(CircuitBreaker::new(
                    name,
                    config.circuit_breaker,
                    Instant::now(),
                )),
                bulkhead: Bulkhead::default(),
                retries: AtomicU64::new(0),
            })
        });
        Arc::clone(upstream)
    }

    /// Calls `upstream` through the patterns switched on: `op` makes one attempt and is called
    /// again for each retry. Only an `idempotent` call is retried.
    pub async fn call<T, F, Fut>(
        &self,
        upstream: &str,
        idempotent: bool,
        mut op: F,
    ) -> Result<T, PatternError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, UpstreamError>>,
    {
        let config = self.config();
        let name = upstream;
        let upstream = self.upstream(name);
        let limit = config
            .bulkhead
            .enabled
            .then_some(config.bulkhead.max_concurrent);
        // The place is held through the backoff too: a caller waiting to retry is still a
        // caller held by this upstream.
        let Some(_place) = upstream.bulkhead.try_enter(limit) else {
            return Err(PatternError::BulkheadFull {
                upstream: name.to_string(),
                limit: config.bulkhead.max_concurrent,
            });
        };
        let mut attempt = 1;
        loop {
            let mut pass = BreakerPass::new(&upstream);
            if config.circuit_breaker.enabled {
                match upstream.breaker().admit(Instant::now()) {
                    Admission::Admitted(ticket) => pass.ticket = Some(ticket),
                    Admission::Refused { retry_in } => {
                        return Err(PatternError::BreakerOpen {
                            upstream: name.to_string(),
                            retry_in,
                        });
                    }
                }
            }
            let outcome = match config.attempt_timeout() {
                Some(limit) => tokio::time::timeout(limit, op())
                    .await
                    .unwrap_or(Err(UpstreamError::Timeout)),
                None => op().await,
            };
            let error = match outcome {
                Ok(value) => {
                    pass.finish(false);
                    return Ok(value);
                }
                Err(error) => error,
            };
            pass.finish(error.counts_against_upstream());
            let random: f64 = rand::random();
            match retry::next_step(&config.retry, idempotent, attempt, &error, random) {
                NextStep::RetryAfter(wait) => {
                    upstream.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                NextStep::GiveUp(_) => {
                    return Err(PatternError::Upstream {
                        error,
                        attempts: attempt,
                    });
                }
            }
        }
    }

    /// What an upstream's patterns have done, if it was ever named.
    pub fn figures(&self, upstream: &str) -> Option<UpstreamFigures> {
        let upstream = lock(&self.upstreams).get(upstream).cloned()?;
        let breaker = upstream.breaker().state(Instant::now());
        Some(UpstreamFigures {
            breaker,
            in_use: upstream.bulkhead.in_use(),
            rejected: upstream.bulkhead.rejected(),
            retries: upstream.retries.load(Ordering::Relaxed),
        })
    }

    /// The `GET /api/patterns` body: the settings, and for each upstream its breaker's state
    /// and last transitions, its bulkhead and its retries.
    pub fn to_json(&self) -> Value {
        let config = self.config();
        let now = Instant::now();
        let wall = chrono::Utc::now();
        let upstreams: Vec<(String, Arc<Upstream>)> = lock(&self.upstreams)
            .iter()
            .map(|(name, upstream)| (name.clone(), Arc::clone(upstream)))
            .collect();
        let mut states = Map::new();
        for (name, upstream) in upstreams {
            let mut breaker = upstream.breaker();
            let state = breaker.state(now);
            let transitions: Vec<Value> = breaker
                .transitions()
                .map(|transition| {
                    let ago =
                        chrono::Duration::from_std(now.saturating_duration_since(transition.at))
                            .unwrap_or_default();
                    json!({
                        "from": transition.from.name(),
                        "to": transition.to.name(),
                        "at": crate::sandbox::iso_timestamp(wall - ago),
                        "reason": transition.reason,
                    })
                })
                .collect();
            drop(breaker);
            states.insert(
                name,
                json!({
                    "circuit_breaker": {"state": state.name(), "transitions": transitions},
                    "bulkhead": {
                        "in_use": upstream.bulkhead.in_use(),
                        "rejected": upstream.bulkhead.rejected(),
                    },
                    "retries": upstream.retries.load(Ordering::Relaxed),
                }),
            );
        }
        json!({"config": config.to_json(), "upstreams": states})
    }

    /// Appends the patterns' series to a `/metrics` exposition.
    pub fn render_metrics(&self, out: &mut String) {
        let config = self.config();
        let now = Instant::now();
        let upstreams: Vec<exposition::UpstreamSample> = lock(&self.upstreams)
            .iter()
            .map(|(name, upstream)| exposition::UpstreamSample {
                name: name.clone(),
                breaker: upstream.breaker().state(now),
                in_use: upstream.bulkhead.in_use(),
                rejected: upstream.bulkhead.rejected(),
                retries: upstream.retries.load(Ordering::Relaxed),
            })
            .collect();
        exposition::render(out, &config, &upstreams);
    }
}

/// One attempt's way through the breaker: the outcome is recorded once; an attempt dropped
/// before its outcome (its caller went away) frees its probe's place.
struct BreakerPass<'a> {
    upstream: &'a Upstream,
    ticket: Option<Ticket>,
}

impl<'a> BreakerPass<'a> {
    fn new(upstream: &'a Upstream) -> Self {
        BreakerPass {
            upstream,
            ticket: None,
        }
    }

    fn finish(&mut self, failed: bool) {
        if let Some(ticket) = self.ticket.take() {
            self.upstream
                .breaker()
                .record(ticket, failed, Instant::now());
        }
    }
}

impl Drop for BreakerPass<'_> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            self.upstream.breaker().abandon(ticket);
        }
    }
}

#[cfg(test)]
#[path = "call_tests.rs"]
mod call_tests;
