//! One driver for every periodic source. A source implements [`Poller`] (one poll, with state
//! it owns), and [`run_poller`] owns the rest: the schedule, one poll in flight at a time,
//! a retry floor after failures, a deadline for a poll that hangs, and the status the header shows
//! (ok with the time of the last good poll, or down with the reason and the first failure's
//! time).

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use super::{SourceKind, SourceStatus, Update, UpdateSender};
use crate::signals::{UnixSeconds, now_unix};

/// Longest a poll may take before it is dropped and the source is shown as down. Each request
/// has its own, shorter timeout; this catches a poll that hangs despite them.
pub const POLL_DEADLINE: Duration = Duration::from_secs(30);

/// Why a poll failed, as far as the driver needs to tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceError {
    /// Nobody listens for updates any more: the driver stops.
    Closed,
    /// The poll did not finish within the driver's deadline.
    Hung(Duration),
    /// The source failed; the message is the reason shown.
    Failed(String),
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceError::Closed => f.write_str("the dashboard stopped listening"),
            SourceError::Hung(after) => write!(f, "no answer within {} s", after.as_secs()),
            SourceError::Failed(reason) => f.write_str(reason),
        }
    }
}

impl std::error::Error for SourceError {}

impl From<String> for SourceError {
    fn from(reason: String) -> SourceError {
        SourceError::Failed(reason)
    }
}

/// Sends one update, or says that nobody listens any more.
pub async fn send(updates: &UpdateSender, update: Update) -> Result<(), SourceError> {
    updates.send(update).await.map_err(|_| SourceError::Closed)
}

/// A periodic source: what one poll does. The poller keeps whatever it needs between polls
/// (a window of samples, a connection, counters) in its own fields.
pub trait Poller: Send {
    /// The source this poller reads, under which its status shows.
    const KIND: SourceKind;
    /// Whether the header shows this poller's status. A poller whose failure is itself a
    /// reading (the health check: no answer is `up` = 0) leaves it to the source's other poller.
    const REPORTS_STATUS: bool = true;

    /// Reads the source once and sends what it read.
    fn poll(
        &mut self,
        updates: &UpdateSender,
    ) -> impl Future<Output = Result<(), SourceError>> + Send;

    /// How long to wait before the next poll after a good one: the usual `interval` unless
    /// the poller has reason to look again sooner.
    fn next_wait(&self, interval: Duration) -> Duration {
        interval
    }
}

/// The shortest wait before polling a failing source again. No longer backoff: a source
/// that comes back must show within one poll, and a failing local poll costs next to nothing
/// (one that times out is already slowed by its own timeout).
const RETRY_FLOOR: Duration = Duration::from_secs(1);

/// Polls every `interval` until nobody listens, one poll at a time; after a failure the next
/// poll waits at least [`RETRY_FLOOR`].
pub async fn run_poller<P: Poller>(poller: P, interval: Duration, updates: UpdateSender) {
    drive(poller, interval, RETRY_FLOOR, updates).await;
}

async fn drive<P: Poller>(
    mut poller: P,
    interval: Duration,
    retry_floor: Duration,
    updates: UpdateSender,
) {
    let mut health = Health::default();
    loop {
        let started = Instant::now();
        let outcome = match tokio::time::timeout(POLL_DEADLINE, poller.poll(&updates)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(SourceError::Hung(POLL_DEADLINE)),
        };
        if outcome == Err(SourceError::Closed) || updates.is_closed() {
            return;
        }
        if let Err(error) = &outcome {
            tracing::debug!(source = P::KIND.label(), %error, "poll failed");
        }
        let status = health.after(outcome, now_unix());
        if P::REPORTS_STATUS
            && send(&updates, Update::Status(P::KIND, status))
                .await
                .is_err()
        {
            return;
        }
        let wait = match health.failures_in_a_row {
            0 => poller.next_wait(interval),
            _ => interval.max(retry_floor),
        };
        tokio::time::sleep_until(started + wait).await;
    }
}

/// Failures in a row and when the first of them happened.
#[derive(Debug, Default)]
struct Health {
    failures_in_a_row: u32,
    down_since: Option<UnixSeconds>,
}

impl Health {
    fn after(&mut self, outcome: Result<(), SourceError>, at: UnixSeconds) -> SourceStatus {
        match outcome {
            Ok(()) => {
                self.failures_in_a_row = 0;
                self.down_since = None;
                SourceStatus::Ok { at }
            }
            Err(error) => {
                self.failures_in_a_row += 1;
                SourceStatus::Down {
                    reason: error.to_string(),
                    since: *self.down_since.get_or_insert(at),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;

    #[test]
    fn a_source_that_stays_down_keeps_its_first_failure_time_until_it_is_back() {
        let mut health = Health::default();
        let failed = || Err(SourceError::Failed("refused".to_string()));
        let down = |since| SourceStatus::Down {
            reason: "refused".to_string(),
            since,
        };
        assert_eq!(health.after(failed(), 10.0), down(10.0));
        assert_eq!(health.after(failed(), 15.0), down(10.0));
        assert_eq!(health.after(Ok(()), 20.0), SourceStatus::Ok { at: 20.0 });
        assert_eq!(health.after(failed(), 25.0), down(25.0));
    }

    /// Fails its first `failing` polls, then succeeds; notes when each poll started and
    /// whether another was still running then.
    struct Scripted {
        failing: u32,
        pause: Duration,
        started: Vec<Instant>,
        running: bool,
        overlapped: bool,
    }

    impl Poller for Scripted {
        const KIND: SourceKind = SourceKind::Scrape;

        async fn poll(&mut self, _: &UpdateSender) -> Result<(), SourceError> {
            self.overlapped |= self.running;
            self.running = true;
            self.started.push(Instant::now());
            tokio::time::sleep(self.pause).await;
            self.running = false;
            if self.started.len() as u32 <= self.failing {
                return Err(SourceError::Failed(format!("try {}", self.started.len())));
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn failures_wait_the_retry_floor_and_report_their_reason_then_polls_resume_at_the_interval()
     {
        let (sender, mut receiver) = mpsc::channel(16);
        let unit = Duration::from_millis(50);
        let interval = Duration::from_millis(20);
        let poller = Scripted {
            failing: 3,
            pause: Duration::from_millis(5),
            started: Vec::new(),
            running: false,
            overlapped: false,
        };
        let task = tokio::spawn(async move {
            let mut poller = poller;
            // The driver stops once the receiver below is dropped; the timeout only bounds a
            // broken one. The poller comes back with its notes.
            let driven = drive(&mut poller, interval, unit, sender);
            let _ = tokio::time::timeout(Duration::from_secs(2), driven).await;
            poller
        });
        let mut statuses = Vec::new();
        while let Some(Update::Status(kind, status)) = receiver.recv().await {
            assert_eq!(kind, SourceKind::Scrape);
            statuses.push(status);
            if statuses.len() == 6 {
                break;
            }
        }
        drop(receiver);
        let poller = task.await.expect("the driver's task");
        let reasons: Vec<&str> = statuses
            .iter()
            .map(|status| match status {
                SourceStatus::Down { reason, .. } => reason.as_str(),
                SourceStatus::Ok { .. } => "ok",
                SourceStatus::Connecting => "connecting",
            })
            .collect();
        assert_eq!(reasons[..5], ["try 1", "try 2", "try 3", "ok", "ok"]);
        let firsts: Vec<UnixSeconds> = statuses[..3]
            .iter()
            .filter_map(|status| match status {
                SourceStatus::Down { since, .. } => Some(*since),
                _ => None,
            })
            .collect();
        assert!(firsts.iter().all(|since| *since == firsts[0]), "{firsts:?}");
        // Gaps: the floor after each failure, so a source that is back shows at the next
        // poll; then the interval.
        let gaps: Vec<Duration> = poller
            .started
            .windows(2)
            .map(|pair| pair[1] - pair[0])
            .collect();
        for (gap, least) in gaps.iter().zip([unit, unit, unit, interval]) {
            assert!(*gap >= least && *gap < least + unit, "{gaps:?}");
        }
        assert!(!poller.overlapped, "two polls ran at once");
    }

    impl<P: Poller> Poller for &mut P {
        const KIND: SourceKind = P::KIND;
        const REPORTS_STATUS: bool = P::REPORTS_STATUS;

        fn poll(
            &mut self,
            updates: &UpdateSender,
        ) -> impl Future<Output = Result<(), SourceError>> + Send {
            (**self).poll(updates)
        }
    }

    struct Silent;

    impl Poller for Silent {
        const KIND: SourceKind = SourceKind::Api;
        const REPORTS_STATUS: bool = false;

        async fn poll(&mut self, updates: &UpdateSender) -> Result<(), SourceError> {
            send(updates, Update::Logs(Vec::new())).await
        }
    }

    #[tokio::test]
    async fn a_poller_without_status_sends_only_its_readings_and_stops_with_the_receiver() {
        let (sender, mut receiver) = mpsc::channel(4);
        let task = tokio::spawn(run_poller(Silent, Duration::from_millis(5), sender));
        for _ in 0..3 {
            let update = receiver.recv().await;
            assert!(matches!(update, Some(Update::Logs(_))), "{update:?}");
        }
        drop(receiver);
        tokio::time::timeout(Duration::from_secs(2), task)
            .await
            .expect("the driver stops once nobody listens")
            .expect("the driver's task");
    }
}
