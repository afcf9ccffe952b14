//! Pollers, one task per source, each sending typed updates over one channel to the app loop.
//! At most one request is in flight per source; a source that fails is shown as down with the
//! reason and retried with backoff, and resumes on its first good answer.

pub mod api;
pub mod docker;
pub mod exposition;
pub mod owners;
pub mod prometheus;
pub mod scrape;
pub mod scrape_window;
pub mod store;

use std::time::Duration;

use tokio::sync::mpsc;

pub use owners::SignalOwners;

use crate::actions::ActionOutcome;
use crate::alerts::AlertStatus;
use crate::fincore::FailureView;
use crate::fincore::presets::Capabilities;
use crate::signals::{Sample, Signal, UnixSeconds};

/// Where a figure came from; the header shows each one's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceKind {
    /// The API's failure state and health: first, as it is the target itself.
    Api,
    /// The API's own `/metrics`, scraped and differenced locally.
    Scrape,
    Prometheus,
    Docker,
    /// The embedded sandbox's process, watched by its supervisor.
    Process,
}

impl SourceKind {
    pub fn label(self) -> &'static str {
        match self {
            SourceKind::Scrape => "metrics",
            SourceKind::Prometheus => "prometheus",
            SourceKind::Docker => "docker",
            SourceKind::Process => "process",
            SourceKind::Api => "api",
        }
    }
}

/// A source's health as the header shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceStatus {
    Connecting,
    Ok { at: UnixSeconds },
    Down { reason: String, since: UnixSeconds },
}

/// A log line for the log panel.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub at: UnixSeconds,
    pub level: LogLevel,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Info,
    Warn,
    Error,
}

/// Everything a source tells the app.
#[derive(Debug, Clone)]
pub enum Update {
    Status(SourceKind, SourceStatus),
    Signals {
        source: SourceKind,
        at: UnixSeconds,
        values: Vec<(Signal, f64)>,
    },
    /// Older history to backfill, e.g. from a Prometheus range query at start.
    History {
        signal: Signal,
        samples: Vec<Sample>,
    },
    Alerts(Vec<AlertStatus>),
    Failures(FailureView),
    Logs(Vec<LogLine>),
    /// The embedded sandbox's lifecycle (started, killed for memory, restarted).
    Lifecycle {
        event: String,
    },
    /// What the target can take, learnt once it answers.
    Capabilities(Capabilities),
    /// The answer to something the user asked of the target.
    Outcome(ActionOutcome),
}

pub type UpdateSender = mpsc::Sender<Update>;

/// Retry delays after failures: 1 s, 2 s, 4 s, capped at 5 s so a source that comes back is
/// seen again quickly.
pub fn backoff(failures_in_a_row: u32) -> Duration {
    let seconds = 1u64 << failures_in_a_row.saturating_sub(1).min(3);
    Duration::from_secs(seconds.min(5))
}

/// Runs `poll` every `interval` until the receiver is gone, reporting status, and backing off
/// after failures. `poll` sends its own data updates and returns an error reason on failure.
pub async fn poll_loop<F, Fut>(
    kind: SourceKind,
    interval: Duration,
    updates: UpdateSender,
    mut poll: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let mut failures = 0u32;
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let status = match poll().await {
            Ok(()) => {
                failures = 0;
                SourceStatus::Ok {
                    at: crate::signals::now_unix(),
                }
            }
            Err(reason) => {
                failures += 1;
                SourceStatus::Down {
                    reason,
                    since: crate::signals::now_unix(),
                }
            }
        };
        if updates.send(Update::Status(kind, status)).await.is_err() {
            return;
        }
        if failures > 0 {
            tokio::time::sleep(backoff(failures).saturating_sub(interval)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_short() {
        let delays: Vec<u64> = (1..=6).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 5, 5, 5]);
    }
}
