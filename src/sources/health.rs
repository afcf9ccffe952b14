//! `up`: 1 while the API's `GET /health` answers 200, 0 when it answers anything else or
//! nothing. A poller of its own, since an injected delay slows the health check and must not
//! slow the failure read-back.
//!
//! A light observer: `/health` is instrumented (and slowed by injected latency) on the workshop
//! service, so gameday's probes would count in the very figures it shows. It is asked at most
//! once per [`PROBE_EVERY`], whatever the poll interval, with a short timeout and an observer
//! `User-Agent` (a probe that could not connect reached nothing and does not count;
//! one that timed out means slow, not down). Between probes each poll asks the uninstrumented
//! `/api/failures` whether the API answers at all: no answer is `up` = 0 at once; an answer
//! carries the last probe's verdict.

use std::time::Duration;

use tokio::time::Instant;

use super::poller::{Poller, SourceError, send};
use super::{SourceKind, Update, UpdateSender};
use crate::fincore::FincoreClient;
use crate::signals::{Signal, now_unix};

/// What `/health` said last, for the header and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiHealth {
    Ok,
    /// 200 from the uninstrumented read, but `/health` outlasted the probe's timeout.
    Slow,
    /// 503: the app runs, a dependency does not (the body's `database` message).
    Degraded {
        database: String,
    },
    /// Any other answer but 200.
    Failing {
        status: u16,
    },
    /// No answer at all.
    Unreachable,
}

impl ApiHealth {
    pub fn is_up(&self) -> bool {
        matches!(self, ApiHealth::Ok | ApiHealth::Slow)
    }
}

/// At most one instrumented request per this long, per dashboard.
pub const PROBE_EVERY: Duration = Duration::from_secs(5);

pub struct HealthCheck {
    client: FincoreClient,
    /// When the last `/health` probe was sent, and what it found.
    last_probe: Option<(Instant, ApiHealth)>,
}

impl HealthCheck {
    pub fn new(client: FincoreClient) -> HealthCheck {
        HealthCheck {
            client,
            last_probe: None,
        }
    }

    fn probe_due(&self, now: Instant) -> bool {
        self.last_probe
            .as_ref()
            .is_none_or(|(sent_at, _)| now.duration_since(*sent_at) >= PROBE_EVERY)
    }

    async fn read_health(&mut self) -> ApiHealth {
        let now = Instant::now();
        if self.probe_due(now) {
            let health = match self.client.health().await {
                Ok(health) if health.status_code == 200 => ApiHealth::Ok,
                Ok(health) if health.status_code == 503 => ApiHealth::Degraded {
                    database: health.database,
                },
                Ok(health) => ApiHealth::Failing {
                    status: health.status_code,
                },
                // Nothing reached the service (not listening yet, or gone): nothing counted
                // in its figures, so the next poll may probe again.
                Err(failure) if !failure.reached => {
                    self.last_probe = None;
                    return ApiHealth::Unreachable;
                }
                // Reached but slow (an injected delay outlasts the short timeout): slow is
                // not down; the uninstrumented read says whether it answers at all.
                Err(_) if self.client.answers().await => ApiHealth::Slow,
                Err(_) => ApiHealth::Unreachable,
            };
            self.last_probe = Some((now, health.clone()));
            return health;
        }
        match &self.last_probe {
            Some((_, health)) if self.client.answers().await => health.clone(),
            _ => ApiHealth::Unreachable,
        }
    }
}

impl Poller for HealthCheck {
    const KIND: SourceKind = SourceKind::Api;
    /// No answer is a reading (`up` = 0), not a failure of the source: the API's status is
    /// the failure read-back's.
    const REPORTS_STATUS: bool = false;

    async fn poll(&mut self, updates: &UpdateSender) -> Result<(), SourceError> {
        let health = self.read_health().await;
        let update = Update::Signals {
            source: SourceKind::Api,
            at: now_unix(),
            values: vec![(Signal::Up, f64::from(u8::from(health.is_up())))],
        };
        send(updates, update).await?;
        send(updates, Update::Health(health)).await
    }
}
