//! The sandbox's log of running out: connections refused at the limit, connections closed by a
//! timeout, failed accepts. Each kind writes its first occurrence at once and then at most one
//! line per window with the count since, so a flood costs a few lines, not one per connection.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::connection::TimedOut;

/// The most often one kind of line is written.
pub const WINDOW: Duration = Duration::from_secs(10);

/// One kind of event: when its last line was written and how many happened since.
#[derive(Debug, Default)]
struct Tally {
    last_line: Option<Instant>,
    unreported: u64,
}

impl Tally {
    /// Counts one; the count to write now, if a line is due.
    fn hit(&mut self, now: Instant) -> Option<u64> {
        self.unreported += 1;
        let due = self
            .last_line
            .is_none_or(|last| now.duration_since(last) >= WINDOW);
        due.then(|| self.take(now))
    }

    /// The count not yet written, if any (at the end of a window).
    fn flush(&mut self, now: Instant) -> Option<u64> {
        (self.unreported > 0).then(|| self.take(now))
    }

    fn take(&mut self, now: Instant) -> u64 {
        self.last_line = Some(now);
        std::mem::take(&mut self.unreported)
    }
}

#[derive(Debug, Default)]
struct Tallies {
    refused: Tally,
    header_timeouts: Tally,
    idle_timeouts: Tally,
    accept_errors: Tally,
    last_accept_error: String,
}

/// The limits, for the lines' words.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
}

pub struct ExhaustionLog {
    limits: Limits,
    tallies: Mutex<Tallies>,
}

impl ExhaustionLog {
    pub fn new(limits: Limits) -> Self {
        ExhaustionLog {
            limits,
            tallies: Mutex::new(Tallies::default()),
        }
    }

    fn tallies(&self) -> std::sync::MutexGuard<'_, Tallies> {
        // Counts only: a poisoned lock still holds usable numbers.
        self.tallies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn refused(&self) {
        let count = self.tallies().refused.hit(Instant::now());
        if let Some(count) = count {
            self.write_refused(count);
        }
    }

    pub fn timed_out(&self, reason: TimedOut) {
        let now = Instant::now();
        let count = {
            let mut tallies = self.tallies();
            match reason {
                TimedOut::Header => tallies.header_timeouts.hit(now),
                TimedOut::Idle => tallies.idle_timeouts.hit(now),
            }
        };
        if let Some(count) = count {
            self.write_timed_out(reason, count);
        }
    }

    pub fn accept_failed(&self, err: &std::io::Error) {
        let count = {
            let mut tallies = self.tallies();
            tallies.last_accept_error = err.to_string();
            tallies.accept_errors.hit(Instant::now())
        };
        if let Some(count) = count {
            write_accept_failed(count, &err.to_string());
        }
    }

    /// Writes the counts of the window that ended; called every [`WINDOW`].
    pub fn flush(&self) {
        let now = Instant::now();
        let (refused, header, idle, accepts, error) = {
            let mut tallies = self.tallies();
            (
                tallies.refused.flush(now),
                tallies.header_timeouts.flush(now),
                tallies.idle_timeouts.flush(now),
                tallies.accept_errors.flush(now),
                tallies.last_accept_error.clone(),
            )
        };
        if let Some(count) = refused {
            self.write_refused(count);
        }
        if let Some(count) = header {
            self.write_timed_out(TimedOut::Header, count);
        }
        if let Some(count) = idle {
            self.write_timed_out(TimedOut::Idle, count);
        }
        if let Some(count) = accepts {
            write_accept_failed(count, &error);
        }
    }

    fn write_refused(&self, count: u64) {
        tracing::warn!(
            event = "connection_limit_reached",
            refused = count,
            max_connections = self.limits.max_connections,
            window_s = WINDOW.as_secs(),
            "connection limit reached: {count} connection(s) refused with 503 \
             (at most {} open; one line per {}s)",
            self.limits.max_connections,
            WINDOW.as_secs()
        );
    }

    fn write_timed_out(&self, reason: TimedOut, count: u64) {
        let (timeout, what) = match reason {
            TimedOut::Header => (
                self.limits.header_timeout,
                "sent no complete request headers within",
            ),
            TimedOut::Idle => (self.limits.idle_timeout, "stayed idle for"),
        };
        tracing::warn!(
            event = "connections_timed_out",
            reason = reason.label(),
            closed = count,
            timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            window_s = WINDOW.as_secs(),
            "closed {count} connection(s) that {what} {timeout:?} (one line per {}s)",
            WINDOW.as_secs()
        );
    }
}

fn write_accept_failed(count: u64, error: &str) {
    tracing::warn!(
        event = "accept_failed",
        failures = count,
        error,
        window_s = WINDOW.as_secs(),
        "cannot accept connections: {error} ({count} time(s); backing off; one line per {}s)",
        WINDOW.as_secs()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_writes_the_first_hit_then_counts_until_the_window_ends() {
        let start = Instant::now();
        let mut tally = Tally::default();
        assert_eq!(tally.hit(start), Some(1));
        for _ in 0..99 {
            assert_eq!(tally.hit(start + Duration::from_secs(1)), None);
        }
        assert_eq!(tally.flush(start + WINDOW), Some(99));
        assert_eq!(tally.flush(start + WINDOW), None);
        assert_eq!(tally.hit(start + WINDOW + Duration::from_secs(1)), None);
        assert_eq!(tally.hit(start + WINDOW * 2), Some(2));
    }
}
