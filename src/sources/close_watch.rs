//! Polling closely for a few seconds when a change is on its way: right after start (so the
//! first rates come within a second, not after a whole interval) and after gameday's own
//! injection or reset (so the change shows as soon as the target's figures have it). Shared
//! between whoever makes the change and the poller that watches for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// How often to poll while watching closely: a quarter of the usual second, still far from
/// costing the target anything (`/metrics` is not instrumented).
pub const CLOSE_INTERVAL: Duration = Duration::from_millis(250);
/// How long to watch closely after a change: an injected delay of 2 s shows only when the
/// first slowed requests end, so a little longer than that.
pub const AFTER_CHANGE: Duration = Duration::from_secs(5);

/// Until when to poll closely, in milliseconds since `origin`.
#[derive(Debug, Clone)]
pub struct CloseWatch {
    origin: Instant,
    until_ms: Arc<AtomicU64>,
}

impl Default for CloseWatch {
    fn default() -> Self {
        CloseWatch {
            origin: Instant::now(),
            until_ms: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl CloseWatch {
    /// Watch closely for `period` from now (never shortens a watch already longer).
    pub fn watch_for(&self, period: Duration) {
        let until = self.millis(Instant::now() + period);
        self.until_ms.fetch_max(until, Ordering::Relaxed);
    }

    /// The wait before the next poll: [`CLOSE_INTERVAL`] while watching closely (if shorter
    /// than `interval`), else `interval`.
    pub fn next_wait(&self, interval: Duration) -> Duration {
        let watching = self.millis(Instant::now()) < self.until_ms.load(Ordering::Relaxed);
        if watching {
            interval.min(CLOSE_INTERVAL)
        } else {
            interval
        }
    }

    fn millis(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.origin).as_millis()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watches_closely_for_the_period_then_returns_to_the_interval() {
        let watch = CloseWatch::default();
        let second = Duration::from_secs(1);
        assert_eq!(watch.next_wait(second), second);
        watch.watch_for(Duration::from_millis(200));
        assert_eq!(watch.next_wait(second), CLOSE_INTERVAL);
        // A shorter usual interval is kept.
        let short = Duration::from_millis(100);
        assert_eq!(watch.next_wait(short), short);
        // A shorter watch does not cut a longer one.
        watch.watch_for(Duration::ZERO);
        assert_eq!(watch.next_wait(second), CLOSE_INTERVAL);
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(watch.next_wait(second), second);
    }
}
