//! What the clients saw, bounded in memory: counters, a status map and HDR histograms for the
//! whole run, and a ring of per-second histograms for the last few seconds.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::time::Instant;

use super::mix::Endpoint;
use super::retry::TRANSPORT_ERROR;

/// The highest latency recorded; anything slower is recorded as this (10 min, in µs).
const MAX_LATENCY_US: u64 = 600_000_000;
/// Seconds in the recent window.
pub const WINDOW_SECONDS: u64 = 10;

#[expect(
    clippy::panic,
    reason = "constant bounds and 2 or 3 digits, which hdrhistogram always takes"
)]
fn histogram(significant_digits: u8) -> Histogram<u64> {
    match Histogram::new_with_bounds(1, MAX_LATENCY_US, significant_digits) {
        Ok(histogram) => histogram,
        Err(err) => panic!("HDR histogram bounds 1..{MAX_LATENCY_US} µs: {err}"),
    }
}

fn micros(latency: Duration) -> u64 {
    u64::try_from(latency.as_micros())
        .unwrap_or(u64::MAX)
        .clamp(1, MAX_LATENCY_US)
}

/// A request slower than this failed its user as surely as an error: the workshop's
/// HighLatency rule draws the line at 2 s.
pub const SLOW_REQUEST: Duration = Duration::from_secs(2);

/// What the clients lived through, cumulative over the run: a drill's review counts the
/// difference between the injection and recovery as the fault's business impact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserOutcomes {
    /// Requests done (their last attempt answered), retries not counted again.
    pub requests: u64,
    /// Of them, failed after any retries (5xx or no answer).
    pub failed: u64,
    /// Of them, slower than [`SLOW_REQUEST`] from their scheduled time.
    pub slow: u64,
    pub transfers: u64,
    pub transfers_failed: u64,
    /// The money the failed transfers did not move, in cents.
    pub transfer_cents_failed: u64,
    /// Payments asked; of them failed (5xx or no answer), and accepted as pending (202: the
    /// fallback took them while the provider was away), and the money of both, in cents.
    pub payments: u64,
    pub payments_failed: u64,
    pub payments_pending: u64,
    pub payment_cents_at_risk: u64,
}

/// Figures of the whole run (the dashboard's cumulative view and the headless summary).
#[derive(Debug, Clone)]
pub struct LoadStats {
    /// Attempts sent, retries included.
    pub sent: u64,
    /// Requests due while `MAX_IN_FLIGHT` were outstanding: counted, never sent late.
    pub dropped: u64,
    /// Answers to attempts by status code; transport errors and timeouts under 0.
    pub statuses: BTreeMap<u16, u64>,
    /// Latency of each request in microseconds from its scheduled time to its last answer
    /// (corrected for coordinated omission; retries and their waits included).
    pub latency_us: Histogram<u64>,
}

impl Default for LoadStats {
    fn default() -> Self {
        LoadStats {
            sent: 0,
            dropped: 0,
            statuses: BTreeMap::new(),
            latency_us: histogram(3),
        }
    }
}

impl LoadStats {
    pub fn answered(&self) -> u64 {
        self.statuses.values().sum()
    }

    pub fn errors(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(status, _)| **status == TRANSPORT_ERROR || **status >= 500)
            .map(|(_, count)| count)
            .sum()
    }

    pub fn quantile_ms(&self, quantile: f64) -> Option<f64> {
        (!self.latency_us.is_empty())
            .then(|| self.latency_us.value_at_quantile(quantile) as f64 / 1000.0)
    }
}

/// p50/p95/p99/max of a histogram, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentiles {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Percentiles {
    pub fn of(histogram: &Histogram<u64>) -> Option<Percentiles> {
        let ms = |us: u64| us as f64 / 1000.0;
        (!histogram.is_empty()).then(|| Percentiles {
            p50_ms: ms(histogram.value_at_quantile(0.50)),
            p95_ms: ms(histogram.value_at_quantile(0.95)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            max_ms: ms(histogram.max()),
            mean_ms: histogram.mean() / 1000.0,
        })
    }
}

/// The last [`WINDOW_SECONDS`] seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct RecentWindow {
    /// How much time the window covers (less than the full window early in a run).
    pub span: Duration,
    /// Answers per second in the window.
    pub requests_per_s: f64,
    /// Share of answers that were 5xx or transport errors, 0..=1.
    pub error_ratio: f64,
    /// Latency of the requests that finished in the window, from their scheduled time.
    pub latency: Option<Percentiles>,
}

/// A copy of the figures at one moment; cheap enough to take every second.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSnapshot {
    pub profile: String,
    /// The rate the profile schedules right now (0 for the closed model or when paused).
    pub target_rate: f64,
    pub elapsed: Duration,
    /// How long requests were being started: the whole run, or up to now while it goes on.
    pub sending: Duration,
    /// Requests due (sent or dropped), retries not included.
    pub scheduled: u64,
    /// Attempts sent, retries included.
    pub sent: u64,
    /// Of `sent`, attempts that were retries.
    pub retries: u64,
    pub dropped: u64,
    /// Attempts answered (an HTTP status, or a transport error or timeout).
    pub answered: u64,
    /// Attempts sent and not yet answered.
    pub in_flight: u64,
    /// Attempts that timed out (also counted under status 0).
    pub timeouts: u64,
    /// Requests whose last attempt failed (5xx or transport error) after any retries.
    pub failed_requests: u64,
    pub statuses: BTreeMap<u16, u64>,
    /// Per request, from its scheduled time to its last answer (corrected).
    pub latency: Option<Percentiles>,
    /// Per attempt, from the moment it was sent (not corrected: what a closed-loop tool sees).
    pub service_time: Option<Percentiles>,
    pub recent: RecentWindow,
    pub outcomes: UserOutcomes,
}

impl LoadSnapshot {
    pub fn errors(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(status, _)| **status == TRANSPORT_ERROR || **status >= 500)
            .map(|(_, count)| count)
            .sum()
    }

    /// Answers per second over the time requests were being started.
    pub fn requests_per_s(&self) -> f64 {
        let seconds = self.sending.as_secs_f64();
        if seconds > 0.0 {
            self.answered as f64 / seconds
        } else {
            0.0
        }
    }
}

/// One second of the recent window.
struct SecondBucket {
    second: u64,
    answered: u64,
    errors: u64,
    latency_us: Histogram<u64>,
}

struct RecorderState {
    totals: LoadStats,
    scheduled: u64,
    retries: u64,
    timeouts: u64,
    failed_requests: u64,
    outcomes: UserOutcomes,
    service_us: Histogram<u64>,
    window: Vec<SecondBucket>,
    sending_ended: Option<Instant>,
}

/// Where every request reports; the engine writes, the UI or the summary reads snapshots.
pub struct Recorder {
    started: Instant,
    state: Mutex<RecorderState>,
}

impl Recorder {
    pub fn new(started: Instant) -> Recorder {
        let window = (0..WINDOW_SECONDS)
            .map(|_| SecondBucket {
                second: u64::MAX,
                answered: 0,
                errors: 0,
                // Two digits (1 %) is plenty for a live view and keeps the ring small.
                latency_us: histogram(2),
            })
            .collect();
        Recorder {
            started,
            state: Mutex::new(RecorderState {
                totals: LoadStats::default(),
                scheduled: 0,
                retries: 0,
                timeouts: 0,
                failed_requests: 0,
                outcomes: UserOutcomes::default(),
                service_us: histogram(3),
                window,
                sending_ended: None,
            }),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut RecorderState) -> T) -> T {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut state)
    }

    fn second_at(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.started).as_secs()
    }

    pub fn scheduled(&self, dropped: bool) {
        self.with(|s| {
            s.scheduled += 1;
            if dropped {
                s.totals.dropped += 1;
            }
        });
    }

    pub fn attempt_sent(&self, retry: bool) {
        self.with(|s| {
            s.totals.sent += 1;
            if retry {
                s.retries += 1;
            }
        });
    }

    /// An attempt's answer, with the time since it was sent.
    pub fn attempt_answered(&self, status: u16, timed_out: bool, service_time: Duration) {
        self.attempt_answered_at(Instant::now(), status, timed_out, service_time);
    }

    fn attempt_answered_at(
        &self,
        at: Instant,
        status: u16,
        timed_out: bool,
        service_time: Duration,
    ) {
        let second = self.second_at(at);
        self.with(|s| {
            *s.totals.statuses.entry(status).or_insert(0) += 1;
            if timed_out {
                s.timeouts += 1;
            }
            let _ = s.service_us.record(micros(service_time));
            let bucket = s.bucket(second);
            bucket.answered += 1;
            if status == TRANSPORT_ERROR || status >= 500 {
                bucket.errors += 1;
            }
        });
    }

    /// A request to `endpoint` done (its last attempt answered `status`), with the time since
    /// it was scheduled.
    pub fn request_done(&self, endpoint: Endpoint, status: u16, latency: Duration) {
        self.request_done_at(Instant::now(), endpoint, status, latency);
    }

    fn request_done_at(&self, at: Instant, endpoint: Endpoint, status: u16, latency: Duration) {
        let second = self.second_at(at);
        let us = micros(latency);
        let failed = super::retry::RetryPolicy::is_retryable(status);
        self.with(|s| {
            if failed {
                s.failed_requests += 1;
            }
            s.outcomes.count(endpoint, status, failed, latency);
            let _ = s.totals.latency_us.record(us);
            let _ = s.bucket(second).latency_us.record(us);
        });
    }

    /// No more requests will be started (the run's end, or a stop).
    pub fn sending_ended(&self) {
        self.sending_ended_at(Instant::now());
    }

    fn sending_ended_at(&self, at: Instant) {
        self.with(|s| {
            s.sending_ended.get_or_insert(at);
        });
    }

    /// The cumulative figures alone.
    pub fn totals(&self) -> LoadStats {
        self.with(|s| s.totals.clone())
    }

    pub fn snapshot(&self, profile: &str, target_rate: f64) -> LoadSnapshot {
        self.snapshot_at(Instant::now(), profile, target_rate)
    }

    fn snapshot_at(&self, now: Instant, profile: &str, target_rate: f64) -> LoadSnapshot {
        let elapsed = now.saturating_duration_since(self.started);
        let current = elapsed.as_secs();
        self.with(|s| {
            let first = current.saturating_sub(WINDOW_SECONDS - 1);
            let mut latency = histogram(2);
            let (mut answered, mut errors) = (0, 0);
            for bucket in s
                .window
                .iter()
                .filter(|b| (first..=current).contains(&b.second))
            {
                answered += bucket.answered;
                errors += bucket.errors;
                let _ = latency.add(&bucket.latency_us);
            }
            let span = elapsed.saturating_sub(Duration::from_secs(first));
            let sending = s
                .sending_ended
                .unwrap_or(now)
                .saturating_duration_since(self.started);
            let answered_total = s.totals.answered();
            LoadSnapshot {
                profile: profile.to_string(),
                target_rate,
                elapsed,
                sending,
                scheduled: s.scheduled,
                sent: s.totals.sent,
                retries: s.retries,
                dropped: s.totals.dropped,
                answered: answered_total,
                in_flight: s.totals.sent.saturating_sub(answered_total),
                timeouts: s.timeouts,
                failed_requests: s.failed_requests,
                outcomes: s.outcomes,
                statuses: s.totals.statuses.clone(),
                latency: Percentiles::of(&s.totals.latency_us),
                service_time: Percentiles::of(&s.service_us),
                recent: RecentWindow {
                    span,
                    requests_per_s: if span.is_zero() {
                        0.0
                    } else {
                        answered as f64 / span.as_secs_f64()
                    },
                    error_ratio: if answered == 0 {
                        0.0
                    } else {
                        errors as f64 / answered as f64
                    },
                    latency: Percentiles::of(&latency),
                },
            }
        })
    }
}

impl UserOutcomes {
    fn count(&mut self, endpoint: Endpoint, status: u16, failed: bool, latency: Duration) {
        self.requests += 1;
        self.failed += u64::from(failed);
        self.slow += u64::from(latency > SLOW_REQUEST);
        match endpoint {
            Endpoint::Transfer => {
                self.transfers += 1;
                if failed {
                    self.transfers_failed += 1;
                    self.transfer_cents_failed += Endpoint::TRANSFER_CENTS;
                }
            }
            Endpoint::Payment => {
                self.payments += 1;
                let pending = status == 202;
                self.payments_failed += u64::from(failed);
                self.payments_pending += u64::from(pending);
                if failed || pending {
                    self.payment_cents_at_risk += Endpoint::TRANSFER_CENTS;
                }
            }
            Endpoint::Balance | Endpoint::Health => {}
        }
    }
}

impl RecorderState {
    /// The bucket of `second`, emptied first if it still holds an older second.
    fn bucket(&mut self, second: u64) -> &mut SecondBucket {
        let index = (second % WINDOW_SECONDS) as usize;
        let bucket = &mut self.window[index];
        if bucket.second != second {
            bucket.second = second;
            bucket.answered = 0;
            bucket.errors = 0;
            bucket.latency_us.reset();
        }
        bucket
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_count_errors_and_quantiles() {
        let mut stats = LoadStats::default();
        for (status, ms) in [(200, 10), (500, 20), (0, 30)] {
            *stats.statuses.entry(status).or_insert(0) += 1;
            stats.latency_us.record(ms * 1000).expect("in range");
        }
        assert_eq!(stats.answered(), 3);
        assert_eq!(stats.errors(), 2);
        let p50 = stats.quantile_ms(0.5).expect("p50");
        assert!((19.0..=21.0).contains(&p50), "{p50}");
    }

    #[test]
    fn outcomes_count_failed_and_slow_requests_and_the_transfers_that_failed() {
        let start = Instant::now();
        let recorder = Recorder::new(start);
        let done = [
            (Endpoint::Balance, 200, 100),
            (Endpoint::Balance, 200, 2_500),
            (Endpoint::Balance, 500, 10),
            (Endpoint::Transfer, 0, 3_000),
            (Endpoint::Transfer, 200, 50),
            (Endpoint::Health, 200, 2_000),
            // A payment created, one accepted pending by the fallback, one refused.
            (Endpoint::Payment, 201, 40),
            (Endpoint::Payment, 202, 40),
            (Endpoint::Payment, 503, 40),
        ];
        for (endpoint, status, ms) in done {
            recorder.request_done_at(start, endpoint, status, Duration::from_millis(ms));
        }
        let outcomes = recorder.snapshot_at(start, "steady", 1.0).outcomes;
        assert_eq!(
            outcomes,
            UserOutcomes {
                requests: 9,
                failed: 3,
                // Exactly 2 s is not slow: the rule is "above 2 s".
                slow: 2,
                transfers: 2,
                transfers_failed: 1,
                transfer_cents_failed: 1,
                payments: 3,
                payments_failed: 1,
                payments_pending: 1,
                payment_cents_at_risk: 2,
            }
        );
    }

    #[test]
    fn snapshot_counts_requests_attempts_and_the_recent_window() {
        let start = Instant::now();
        let recorder = Recorder::new(start);
        // Second 0: one request that failed once and then succeeded.
        recorder.scheduled(false);
        recorder.attempt_sent(false);
        recorder.attempt_answered_at(start, 500, false, Duration::from_millis(5));
        recorder.attempt_sent(true);
        recorder.attempt_answered_at(start, 200, false, Duration::from_millis(5));
        recorder.request_done_at(start, Endpoint::Balance, 200, Duration::from_millis(120));
        recorder.scheduled(true);
        // Second 12: the window has moved past second 0.
        let later = start + Duration::from_secs(12);
        recorder.scheduled(false);
        recorder.attempt_sent(false);
        recorder.attempt_answered_at(later, 0, true, Duration::from_secs(1));
        recorder.request_done_at(later, Endpoint::Transfer, 500, Duration::from_secs(1));
        let snapshot = recorder.snapshot_at(later, "steady", 10.0);
        assert_eq!(snapshot.scheduled, 3);
        assert_eq!(snapshot.sent, 3);
        assert_eq!(snapshot.retries, 1);
        assert_eq!(snapshot.dropped, 1);
        assert_eq!(snapshot.answered, 3);
        assert_eq!(snapshot.in_flight, 0);
        assert_eq!(snapshot.timeouts, 1);
        assert_eq!(snapshot.failed_requests, 1);
        assert_eq!(snapshot.errors(), 2);
        let latency = snapshot.latency.expect("latency");
        assert!((119.0..=121.0).contains(&latency.p50_ms), "{latency:?}");
        assert!((999.0..=1001.0).contains(&latency.max_ms), "{latency:?}");
        // Only the second-12 answer is in the window, which spans seconds 3..=12.
        assert_eq!(snapshot.recent.span, Duration::from_secs(9));
        assert!((snapshot.recent.requests_per_s - 1.0 / 9.0).abs() < 1e-9);
        assert_eq!(snapshot.recent.error_ratio, 1.0);
        let recent = snapshot.recent.latency.expect("recent latency");
        assert!(recent.p50_ms > 990.0, "{recent:?}");
    }

    #[test]
    fn rate_is_answers_over_the_sending_time() {
        let start = Instant::now();
        let recorder = Recorder::new(start);
        for _ in 0..100 {
            recorder.attempt_sent(false);
            recorder.attempt_answered_at(start, 200, false, Duration::from_millis(1));
        }
        recorder.sending_ended_at(start + Duration::from_secs(4));
        // Time after the end of sending does not dilute the rate.
        let snapshot = recorder.snapshot_at(start + Duration::from_secs(8), "steady", 25.0);
        assert_eq!(snapshot.sending, Duration::from_secs(4));
        assert!((snapshot.requests_per_s() - 25.0).abs() < 1e-9);
    }
}
