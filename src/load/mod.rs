//! The load generator: requests at a scheduled rate whatever the server does (an open model),
//! with latency measured from the scheduled time so a slow server shows as queueing. It knows
//! nothing of the UI: it reports into [`LoadStats`], which a dashboard or a summary reads.

pub mod command;
pub mod mix;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::watch;

pub use mix::{Endpoint, Mix};

/// At most this many requests in flight: a stalled server must not make us hold unbounded
/// tasks. Requests due beyond it are counted as dropped, not sent late.
pub const MAX_IN_FLIGHT: usize = 512;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Client-side figures of a run, bounded in memory: a status map and an HDR histogram.
#[derive(Debug, Clone)]
pub struct LoadStats {
    pub sent: u64,
    pub dropped: u64,
    /// Answers by status code; transport errors under 0.
    pub statuses: BTreeMap<u16, u64>,
    /// Latency in microseconds, from the scheduled send time.
    pub latency_us: Histogram<u64>,
}

impl Default for LoadStats {
    fn default() -> Self {
        LoadStats {
            sent: 0,
            dropped: 0,
            statuses: BTreeMap::new(),
            // 1 µs .. 10 min at 3 significant digits: a few tens of KiB.
            latency_us: Histogram::new_with_bounds(1, 600_000_000, 3)
                .expect("constant bounds: 1 µs to 10 min at 3 significant digits"),
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
            .filter(|(status, _)| **status == 0 || **status >= 500)
            .map(|(_, count)| count)
            .sum()
    }

    pub fn quantile_ms(&self, quantile: f64) -> Option<f64> {
        (!self.latency_us.is_empty())
            .then(|| self.latency_us.value_at_quantile(quantile) as f64 / 1000.0)
    }
}

pub type SharedStats = Arc<Mutex<LoadStats>>;

fn record(stats: &SharedStats, status: u16, latency: Duration) {
    let mut stats = stats
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    *stats.statuses.entry(status).or_insert(0) += 1;
    let micros = u64::try_from(latency.as_micros())
        .unwrap_or(u64::MAX)
        .max(1);
    let _ = stats.latency_us.record(micros.min(600_000_000));
}

/// Sends requests at the rate in `rate` (requests/s; 0 pauses) until `until` or until the rate
/// sender is dropped. Only the configured target is ever addressed.
pub async fn run_open_loop(
    http: reqwest::Client,
    target: String,
    mix: Mix,
    mut rate: watch::Receiver<f64>,
    until: Option<Instant>,
    stats: SharedStats,
) {
    let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let mut picker = mix.picker();
    let mut next_due = tokio::time::Instant::now();
    loop {
        let per_second = *rate.borrow_and_update();
        if per_second <= 0.0 {
            // Paused: wait for a new rate.
            if rate.changed().await.is_err() {
                return;
            }
            next_due = tokio::time::Instant::now();
            continue;
        }
        if until.is_some_and(|until| Instant::now() >= until) {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep_until(next_due) => {}
            changed = rate.changed() => {
                if changed.is_err() { return; }
                next_due = tokio::time::Instant::now();
                continue;
            }
        }
        let scheduled = next_due;
        next_due += Duration::from_secs_f64(1.0 / per_second);
        let endpoint = picker.next_endpoint();
        let Ok(permit) = Arc::clone(&in_flight).try_acquire_owned() else {
            stats.lock().unwrap_or_else(|p| p.into_inner()).dropped += 1;
            continue;
        };
        stats.lock().unwrap_or_else(|p| p.into_inner()).sent += 1;
        let request = endpoint.request(&http, &target).timeout(REQUEST_TIMEOUT);
        let stats = Arc::clone(&stats);
        tokio::spawn(async move {
            let status = match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    // Read the body so the connection can be reused.
                    let _ = response.bytes().await;
                    status
                }
                Err(_) => 0,
            };
            record(&stats, status, scheduled.elapsed());
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_count_errors_and_quantiles() {
        let stats: SharedStats = Arc::default();
        record(&stats, 200, Duration::from_millis(10));
        record(&stats, 500, Duration::from_millis(20));
        record(&stats, 0, Duration::from_millis(30));
        let stats = stats.lock().expect("lock");
        assert_eq!(stats.answered(), 3);
        assert_eq!(stats.errors(), 2);
        let p50 = stats.quantile_ms(0.5).expect("p50");
        assert!((19.0..=21.0).contains(&p50), "{p50}");
    }
}
