//! The signal series of a whole drill, kept in its record so a report can chart it and the
//! dashboard can replay it: one point per sample the machine is given (one per poll per
//! signal), bounded. A signal that reaches [`SERIES_CAP`] points drops every other point and
//! from then on keeps points at least as far apart as the thinned ones, so a drill left running
//! for hours keeps an even, coarser series of at most the cap, and says how often it thinned.

use serde::{Deserialize, Serialize};

use super::signal_serde;
use crate::signals::{Sample, Signal, UnixSeconds};

/// Points kept per signal: 20 minutes at one poll a second before the first thinning.
pub const SERIES_CAP: usize = 1200;

/// Samples closer than this to the last kept one are not kept: the two scrapes of one poll of
/// a several-worker target arrive milliseconds apart, the close watch polls every 250 ms.
pub const MIN_GAP_S: f64 = 0.2;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DrillSeries {
    /// Every offset counts from here: the first sample's time. `None` before any sample.
    pub origin_at: Option<UnixSeconds>,
    /// At most this many points per signal.
    pub cap: usize,
    pub signals: Vec<SignalSeries>,
}

/// One signal's points, as two columns of the same length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalSeries {
    #[serde(with = "signal_serde")]
    pub signal: Signal,
    /// A sample closer than this to the last kept point is dropped; grows with each thinning.
    pub min_gap_s: f64,
    /// How many times every other point was dropped to stay within the cap (0: every poll).
    pub thinned: u32,
    /// Seconds from `origin_at`, to the millisecond, increasing.
    pub offsets: Vec<f64>,
    pub values: Vec<f64>,
}

impl SignalSeries {
    /// The points as (epoch seconds, value).
    pub fn points(&self, origin_at: UnixSeconds) -> impl Iterator<Item = (UnixSeconds, f64)> + '_ {
        self.offsets
            .iter()
            .zip(&self.values)
            .map(move |(offset, value)| (origin_at + offset, *value))
    }
}

impl DrillSeries {
    pub fn get(&self, signal: Signal) -> Option<&SignalSeries> {
        self.signals.iter().find(|series| series.signal == signal)
    }

    /// Keeps `sample` of `signal` unless it is too close to (or older than) the last point.
    pub fn push(&mut self, signal: Signal, sample: Sample) {
        if !sample.value.is_finite() {
            return;
        }
        if self.cap == 0 {
            self.cap = SERIES_CAP;
        }
        let cap = self.cap.max(2);
        let origin = *self.origin_at.get_or_insert(sample.at);
        let offset = ((sample.at - origin) * 1000.0).round() / 1000.0;
        let index = match self.signals.iter().position(|s| s.signal == signal) {
            Some(index) => index,
            None => {
                self.signals.push(SignalSeries {
                    signal,
                    min_gap_s: MIN_GAP_S,
                    thinned: 0,
                    offsets: Vec::new(),
                    values: Vec::new(),
                });
                self.signals.len() - 1
            }
        };
        let Some(series) = self.signals.get_mut(index) else {
            return;
        };
        if let Some(last) = series.offsets.last()
            && offset - last < series.min_gap_s
        {
            return;
        }
        if series.offsets.len() >= cap {
            thin(series);
        }
        series.offsets.push(offset);
        series.values.push(sample.value);
    }
}

/// Drops every other point (the first and the newest are kept), and raises the gap to the
/// thinned series' mean, so the points to come are as dense as the ones kept.
fn thin(series: &mut SignalSeries) {
    let last = series.offsets.len().saturating_sub(1);
    let keep = |(index, _): &(usize, &f64)| index % 2 == 0 || *index == last;
    series.offsets = series
        .offsets
        .iter()
        .enumerate()
        .filter(keep)
        .map(|(_, v)| *v)
        .collect();
    series.values = series
        .values
        .iter()
        .enumerate()
        .filter(keep)
        .map(|(_, v)| *v)
        .collect();
    if let (Some(first), Some(newest)) = (series.offsets.first(), series.offsets.last())
        && series.offsets.len() > 1
    {
        let mean_gap = (newest - first) / (series.offsets.len() - 1) as f64;
        series.min_gap_s = series.min_gap_s.max(mean_gap);
    }
    series.thinned += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at: f64, value: f64) -> Sample {
        Sample { at, value }
    }

    #[test]
    fn one_point_per_poll_and_none_from_the_same_poll_twice() {
        let mut series = DrillSeries::default();
        series.push(Signal::LatencyP95, sample(100.0, 0.1));
        series.push(Signal::LatencyP95, sample(100.004, 0.3)); // the other worker's scrape
        series.push(Signal::LatencyP95, sample(101.0, 0.2));
        series.push(Signal::LatencyP95, sample(99.0, 9.0)); // older: not kept
        series.push(Signal::LatencyP95, sample(101.25, 0.4)); // close watch
        series.push(Signal::Rps, sample(100.5, 4.0));
        series.push(Signal::Rps, sample(101.5, f64::NAN));
        assert_eq!(series.origin_at, Some(100.0));
        assert_eq!(series.cap, SERIES_CAP);
        let p95 = series.get(Signal::LatencyP95).expect("kept");
        assert_eq!(p95.offsets, [0.0, 1.0, 1.25]);
        assert_eq!(p95.values, [0.1, 0.2, 0.4]);
        assert_eq!(
            series
                .get(Signal::Rps)
                .expect("kept")
                .points(100.0)
                .collect::<Vec<_>>(),
            [(100.5, 4.0)]
        );
    }

    #[test]
    fn a_drill_left_running_for_hours_stays_within_the_cap_and_even() {
        let mut series = DrillSeries::default();
        // Four hours at one poll a second.
        for second in 0..(4 * 3600) {
            series.push(Signal::ErrorRatio, sample(f64::from(second), 0.01));
        }
        let errors = series.get(Signal::ErrorRatio).expect("kept");
        assert!(
            errors.offsets.len() <= SERIES_CAP,
            "{}",
            errors.offsets.len()
        );
        assert!(
            errors.offsets.len() > SERIES_CAP / 2,
            "{}",
            errors.offsets.len()
        );
        assert!(errors.thinned >= 3, "{}", errors.thinned);
        assert_eq!(errors.offsets.first(), Some(&0.0));
        assert!(
            errors
                .offsets
                .last()
                .is_some_and(|last| *last > 4.0 * 3600.0 - 60.0)
        );
        let gaps: Vec<f64> = errors.offsets.windows(2).map(|w| w[1] - w[0]).collect();
        let widest = gaps.iter().copied().fold(0.0, f64::max);
        assert!(
            widest <= 2.0 * errors.min_gap_s + 1.0,
            "{widest} vs {}",
            errors.min_gap_s
        );
        assert_eq!(errors.offsets.len(), errors.values.len());
    }
}
