//! Baseline bands and what "back within the band" means for each recovery signal.

use super::case::Case;
use super::state::{Band, RecoveryTrack};
use crate::alerts::Comparison;
use crate::signals::Signal;

/// A recovery signal whose newest value is older than this is not back, whatever that value
/// was: its figure has gone (no traffic, target down), and the absence of a value is not a
/// value in band. Several polls long, so one slow poll does not restart the hold.
pub(crate) const VALUE_STALE_AFTER_S: f64 = 10.0;

/// The band of a baseline series: its median and 95th percentile (nearest rank).
pub(crate) fn band_from(signal: Signal, values: &[f64]) -> Option<Band> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    Some(Band {
        signal,
        median: quantile(&sorted, 0.5),
        p95: quantile(&sorted, 0.95),
        samples: sorted.len(),
    })
}

/// Nearest-rank quantile of sorted, non-empty values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The least slack around a band, in the signal's unit: a quiet baseline (no errors at all,
/// latency flat to the millisecond) must not make ordinary noise count as "not recovered".
fn noise_floor(signal: Signal) -> f64 {
    match signal {
        Signal::LatencyP50 | Signal::LatencyP95 | Signal::LatencyP99 => 0.05,
        Signal::LatencyP95Over5m | Signal::BalanceLatencyP95 | Signal::UpstreamLatencyP95 => 0.05,
        Signal::ErrorRatio
        | Signal::ErrorRatioOver5m
        | Signal::BalanceErrorRatio
        | Signal::UpstreamErrorRatio
        | Signal::PaymentsFailedRatio
        | Signal::PaymentsFailedRatioOver5m => 0.01,
        Signal::UpstreamRps | Signal::RetriesRate => 1.0,
        Signal::WebhooksRejectedRate | Signal::WebhooksDuplicateRate => 0.1,
        Signal::BulkheadInUse
        | Signal::PaymentsPending
        | Signal::PaymentsCompletedLate
        | Signal::WebhooksRejected5m => 1.0,
        Signal::UpstreamUp | Signal::BreakerState | Signal::BreakerStateMax1m => 0.5,
        Signal::DoubleCredits => 0.5,
        Signal::Rps => 1.0,
        Signal::ActiveTransactions
        | Signal::PoolInUse
        | Signal::PoolIdle
        | Signal::QueuedRequests => 1.0,
        Signal::MemoryBytes | Signal::MemoryLimitBytes => 16.0 * 1024.0 * 1024.0,
        Signal::Restarts => 0.5,
        Signal::CpuCores => 0.1,
        Signal::Up => 0.5,
    }
}

/// One track per recovery signal. The band is one-sided when the case watches that signal in
/// one direction (latency only needs to come back down; lower is fine), two-sided otherwise.
pub(crate) fn recovery_tracks(case: &Case, bands: &[Band]) -> Vec<RecoveryTrack> {
    case.recovery
        .signals
        .iter()
        .map(|&signal| {
            let band = bands.iter().find(|band| band.signal == signal);
            let direction = case
                .signals
                .iter()
                .find(|watched| watched.condition.signal == signal)
                .map(|watched| watched.condition.comparison);
            let (low, high) = match band {
                Some(band) => {
                    let (low, high) = band_limits(band, case.recovery.tolerance);
                    match direction {
                        Some(Comparison::Above) => (None, Some(high)),
                        Some(Comparison::Below) => (Some(low), None),
                        None => (Some(low), Some(high)),
                    }
                }
                None => (None, None),
            };
            RecoveryTrack {
                signal,
                band_low: low,
                band_high: high,
                in_band_since: None,
                last: None,
                last_at: None,
            }
        })
        .collect()
}

/// The band widened by `tolerance` (a fraction of its edges) and at least the noise floor.
pub(crate) fn band_limits(band: &Band, tolerance: f64) -> (f64, f64) {
    let floor = noise_floor(band.signal);
    let spread = (band.p95 - band.median).max(0.0);
    let high = band.p95 + (tolerance * band.p95.abs()).max(floor);
    let low = band.median - spread - (tolerance * band.median.abs()).max(floor);
    (low, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_is_median_and_p95() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let band = band_from(Signal::Rps, &values).expect("band");
        assert_eq!((band.median, band.p95, band.samples), (50.0, 95.0, 100));
        assert!(band_from(Signal::Rps, &[]).is_none());
        assert!(band_from(Signal::Rps, &[f64::NAN]).is_none());
    }

    #[test]
    fn limits_have_a_noise_floor() {
        let band = band_from(Signal::ErrorRatio, &[0.0; 10]).expect("band");
        let (low, high) = band_limits(&band, 0.25);
        assert_eq!(high, 0.01);
        assert_eq!(low, -0.01);
        let band = band_from(Signal::LatencyP95, &[1.0; 10]).expect("band");
        assert_eq!(band_limits(&band, 0.25), (0.75, 1.25));
    }
}
