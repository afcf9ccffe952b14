//! The history of every signal that the charts draw, drills read and records summarise.
//!
//! Memory is bounded twice over: by time (samples older than the retention behind a signal's
//! newest sample are dropped on every push, and [`SeriesStore::prune`] ages out signals that
//! stopped coming) and by count (a hard cap per signal, so a source that pushes far too fast
//! shortens the history instead of growing it). Samples stay in time order, which lets every
//! range query be a binary search.

use std::collections::{HashMap, VecDeque, vec_deque};
use std::time::Duration;

use crate::signals::{Sample, Signal, UnixSeconds};

/// 15 minutes of one sample a second fit four times over.
pub const DEFAULT_MAX_SAMPLES: usize = 4096;

/// What a signal without any sample reads as.
static NO_SAMPLES: VecDeque<Sample> = VecDeque::new();

/// Per-signal sample history with a retention and a cap.
#[derive(Debug, Clone)]
pub struct SeriesStore {
    retention_seconds: f64,
    max_samples: usize,
    series: HashMap<Signal, VecDeque<Sample>>,
}

impl SeriesStore {
    pub fn new(retention: Duration) -> Self {
        SeriesStore::with_max_samples(retention, DEFAULT_MAX_SAMPLES)
    }

    /// A store keeping at most `max_samples` (at least 1) per signal.
    pub fn with_max_samples(retention: Duration, max_samples: usize) -> Self {
        SeriesStore {
            retention_seconds: retention.as_secs_f64(),
            max_samples: max_samples.max(1),
            series: HashMap::new(),
        }
    }

    pub fn retention(&self) -> Duration {
        Duration::from_secs_f64(self.retention_seconds)
    }

    /// Appends a live sample. Returns whether it was kept: a non-finite time or value is
    /// ignored (a chart cannot draw NaN), and so is a sample older than the signal's newest,
    /// so history never goes back. One at the same time as the newest replaces it.
    pub fn push(&mut self, signal: Signal, sample: Sample) -> bool {
        if !is_finite(&sample) {
            return false;
        }
        let samples = self.series.entry(signal).or_default();
        match samples.back_mut() {
            Some(newest) if sample.at < newest.at => return false,
            Some(newest) if sample.at == newest.at => *newest = sample,
            _ => samples.push_back(sample),
        }
        trim(samples, self.retention_seconds, self.max_samples);
        true
    }

    /// Merges older history (from a Prometheus range query at start) with what is stored, in
    /// time order, whatever order `history` comes in. Where both have a sample at the same
    /// time the stored one stays: it is what the screen already showed. Non-finite samples
    /// are skipped; retention and cap apply as for [`Self::push`].
    pub fn extend_history(&mut self, signal: Signal, history: impl IntoIterator<Item = Sample>) {
        let stored = self.series.remove(&signal).unwrap_or_default();
        let mut merged: Vec<Sample> = stored.into_iter().collect();
        merged.extend(history.into_iter().filter(is_finite));
        // A stable sort keeps stored samples ahead of history with the same time, and the
        // dedup keeps the first of equal times.
        merged.sort_by(|a, b| a.at.total_cmp(&b.at));
        merged.dedup_by(|later, kept| later.at == kept.at);
        let mut samples = VecDeque::from(merged);
        trim(&mut samples, self.retention_seconds, self.max_samples);
        if !samples.is_empty() {
            self.series.insert(signal, samples);
        }
    }

    /// Drops every sample older than `now - retention`, for signals that stopped coming too.
    pub fn prune(&mut self, now: UnixSeconds) {
        let oldest_kept = now - self.retention_seconds;
        for samples in self.series.values_mut() {
            let expired = samples.partition_point(|sample| sample.at < oldest_kept);
            samples.drain(..expired);
        }
        self.series.retain(|_, samples| !samples.is_empty());
    }

    /// Forgets one signal's history, e.g. when its source changes.
    pub fn clear(&mut self, signal: Signal) {
        self.series.remove(&signal);
    }

    /// The signals that have at least one sample.
    pub fn signals(&self) -> impl Iterator<Item = Signal> + '_ {
        self.series.keys().copied()
    }

    pub fn latest(&self, signal: Signal) -> Option<Sample> {
        self.samples(signal).back().copied()
    }

    pub fn len(&self, signal: Signal) -> usize {
        self.samples(signal).len()
    }

    pub fn is_empty(&self, signal: Signal) -> bool {
        self.samples(signal).is_empty()
    }

    /// All of a signal's samples, oldest first.
    pub fn series(&self, signal: Signal) -> vec_deque::Iter<'_, Sample> {
        self.samples(signal).iter()
    }

    /// The samples at or after `from`, oldest first.
    pub fn since(&self, signal: Signal, from: UnixSeconds) -> vec_deque::Iter<'_, Sample> {
        let samples = self.samples(signal);
        samples.range(samples.partition_point(|sample| sample.at < from)..)
    }

    /// The samples with `from <= at <= to`, oldest first.
    pub fn between(
        &self,
        signal: Signal,
        from: UnixSeconds,
        to: UnixSeconds,
    ) -> vec_deque::Iter<'_, Sample> {
        let samples = self.samples(signal);
        let start = samples.partition_point(|sample| sample.at < from);
        let end = samples.partition_point(|sample| sample.at <= to).max(start);
        samples.range(start..end)
    }

    /// The samples of `[from, to]` as `(time, value)` points, the shape chart datasets take.
    pub fn points(&self, signal: Signal, from: UnixSeconds, to: UnixSeconds) -> Vec<(f64, f64)> {
        self.between(signal, from, to)
            .map(|sample| (sample.at, sample.value))
            .collect()
    }

    /// The highest value in `[from, to]`: for a chart's y axis, or "did p95 pass 2 s".
    pub fn max_in(&self, signal: Signal, from: UnixSeconds, to: UnixSeconds) -> Option<f64> {
        self.value_bounds(signal, from, to).map(|(_, max)| max)
    }

    pub fn min_in(&self, signal: Signal, from: UnixSeconds, to: UnixSeconds) -> Option<f64> {
        self.value_bounds(signal, from, to).map(|(min, _)| min)
    }

    /// The lowest and highest values in `[from, to]`.
    pub fn value_bounds(
        &self,
        signal: Signal,
        from: UnixSeconds,
        to: UnixSeconds,
    ) -> Option<(f64, f64)> {
        self.between(signal, from, to).fold(None, |bounds, sample| {
            let (min, max) = bounds.unwrap_or((sample.value, sample.value));
            Some((min.min(sample.value), max.max(sample.value)))
        })
    }

    /// The times of the oldest and newest samples: a chart's x axis when it shows everything.
    pub fn time_bounds(&self, signal: Signal) -> Option<(UnixSeconds, UnixSeconds)> {
        let samples = self.samples(signal);
        Some((samples.front()?.at, samples.back()?.at))
    }

    fn samples(&self, signal: Signal) -> &VecDeque<Sample> {
        self.series.get(&signal).unwrap_or(&NO_SAMPLES)
    }
}

fn is_finite(sample: &Sample) -> bool {
    sample.at.is_finite() && sample.value.is_finite()
}

/// Applies retention behind the newest sample, then the cap (which keeps the newest).
fn trim(samples: &mut VecDeque<Sample>, retention_seconds: f64, max_samples: usize) {
    if let Some(newest) = samples.back() {
        let oldest_kept = newest.at - retention_seconds;
        let expired = samples.partition_point(|sample| sample.at < oldest_kept);
        samples.drain(..expired);
    }
    if samples.len() > max_samples {
        let excess = samples.len() - max_samples;
        samples.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIFTEEN_MINUTES: Duration = Duration::from_secs(15 * 60);

    fn sample(at: f64, value: f64) -> Sample {
        Sample { at, value }
    }

    fn values(store: &SeriesStore, signal: Signal) -> Vec<(f64, f64)> {
        store.series(signal).map(|s| (s.at, s.value)).collect()
    }

    #[test]
    fn pushes_in_time_order_and_reads_back() {
        let mut store = SeriesStore::new(FIFTEEN_MINUTES);
        assert!(store.push(Signal::Rps, sample(10.0, 1.0)));
        assert!(store.push(Signal::Rps, sample(11.0, 2.0)));
        assert!(store.push(Signal::LatencyP95, sample(11.0, 0.4)));
        assert_eq!(values(&store, Signal::Rps), vec![(10.0, 1.0), (11.0, 2.0)]);
        assert_eq!(store.latest(Signal::Rps), Some(sample(11.0, 2.0)));
        assert_eq!(store.len(Signal::LatencyP95), 1);
        assert_eq!(store.latest(Signal::Up), None);
        assert!(store.is_empty(Signal::Up));
        assert_eq!(store.series(Signal::Up).count(), 0);
        let mut signals: Vec<Signal> = store.signals().collect();
        signals.sort();
        assert_eq!(signals, vec![Signal::LatencyP95, Signal::Rps]);
    }

    #[test]
    fn rejects_non_finite_and_older_samples_and_replaces_same_time() {
        let mut store = SeriesStore::new(FIFTEEN_MINUTES);
        assert!(!store.push(Signal::Rps, sample(1.0, f64::NAN)));
        assert!(!store.push(Signal::Rps, sample(1.0, f64::INFINITY)));
        assert!(!store.push(Signal::Rps, sample(f64::NAN, 1.0)));
        assert!(store.push(Signal::Rps, sample(5.0, 1.0)));
        assert!(!store.push(Signal::Rps, sample(4.0, 9.0)));
        assert!(store.push(Signal::Rps, sample(5.0, 2.0)));
        assert_eq!(values(&store, Signal::Rps), vec![(5.0, 2.0)]);
    }

    #[test]
    fn retention_is_kept_behind_the_newest_sample() {
        let mut store = SeriesStore::new(FIFTEEN_MINUTES);
        for second in 0..2000 {
            store.push(Signal::Rps, sample(f64::from(second), 1.0));
        }
        assert_eq!(store.len(Signal::Rps), 901);
        assert_eq!(store.time_bounds(Signal::Rps), Some((1099.0, 1999.0)));
        assert_eq!(store.retention(), FIFTEEN_MINUTES);
    }

    #[test]
    fn a_source_pushing_too_fast_hits_the_cap_not_the_memory() {
        let mut store = SeriesStore::new(FIFTEEN_MINUTES);
        for tick in 0..10_000 {
            store.push(
                Signal::Rps,
                sample(f64::from(tick) * 0.001, f64::from(tick)),
            );
        }
        assert_eq!(store.len(Signal::Rps), DEFAULT_MAX_SAMPLES);
        assert_eq!(store.latest(Signal::Rps).map(|s| s.value), Some(9999.0));
        assert_eq!(
            store.series(Signal::Rps).next().map(|s| s.value),
            Some(5904.0)
        );
        let mut tiny = SeriesStore::with_max_samples(FIFTEEN_MINUTES, 0);
        tiny.push(Signal::Up, sample(1.0, 1.0));
        tiny.push(Signal::Up, sample(2.0, 0.0));
        assert_eq!(values(&tiny, Signal::Up), vec![(2.0, 0.0)]);
    }

    #[test]
    fn prune_ages_out_signals_that_stopped_coming() {
        let mut store = SeriesStore::new(Duration::from_secs(60));
        for second in 0..=100 {
            store.push(Signal::Rps, sample(f64::from(second), 1.0));
        }
        store.push(Signal::MemoryBytes, sample(10.0, 5e8));
        store.prune(100.0);
        assert_eq!(store.time_bounds(Signal::Rps), Some((40.0, 100.0)));
        assert_eq!(store.latest(Signal::MemoryBytes), None);
        assert_eq!(store.signals().collect::<Vec<_>>(), vec![Signal::Rps]);
        store.prune(1000.0);
        assert!(store.is_empty(Signal::Rps));
    }

    #[test]
    fn backfill_merges_older_history_in_order() {
        let mut store = SeriesStore::new(FIFTEEN_MINUTES);
        store.push(Signal::LatencyP95, sample(100.0, 0.5));
        store.push(Signal::LatencyP95, sample(101.0, 0.6));
        // Out of order, overlapping the live samples, with a duplicate and a NaN.
        let history = [
            sample(99.0, 0.3),
            sample(40.0, 0.1),
            sample(100.0, 9.0),
            sample(70.0, f64::NAN),
            sample(60.0, 0.2),
            sample(60.0, 0.25),
            sample(100.5, 0.55),
        ];
        store.extend_history(Signal::LatencyP95, history);
        assert_eq!(
            values(&store, Signal::LatencyP95),
            vec![
                (40.0, 0.1),
                (60.0, 0.2),
                (99.0, 0.3),
                (100.0, 0.5),
                (100.5, 0.55),
                (101.0, 0.6)
            ]
        );
        // Live pushes continue after the backfill.
        assert!(store.push(Signal::LatencyP95, sample(102.0, 0.7)));
        assert!(!store.push(Signal::LatencyP95, sample(50.0, 0.7)));
    }

    #[test]
    fn backfill_respects_retention_and_cap() {
        let mut store = SeriesStore::with_max_samples(Duration::from_secs(100), 50);
        store.extend_history(Signal::Rps, (0..1000).map(|s| sample(f64::from(s), 1.0)));
        assert_eq!(store.len(Signal::Rps), 50);
        assert_eq!(store.time_bounds(Signal::Rps), Some((950.0, 999.0)));
        let mut empty = SeriesStore::new(FIFTEEN_MINUTES);
        empty.extend_history(Signal::Rps, [sample(1.0, f64::NAN)]);
        assert_eq!(empty.signals().count(), 0);
    }

    #[test]
    fn range_queries_for_charts() {
        let mut store = SeriesStore::new(FIFTEEN_MINUTES);
        for (at, value) in [(0.0, 3.0), (1.0, 7.0), (2.0, -1.0), (3.0, 4.0), (4.0, 2.0)] {
            store.push(Signal::ErrorRatio, sample(at, value));
        }
        let since: Vec<f64> = store.since(Signal::ErrorRatio, 2.5).map(|s| s.at).collect();
        assert_eq!(since, vec![3.0, 4.0]);
        assert_eq!(store.since(Signal::ErrorRatio, 9.0).count(), 0);
        assert_eq!(
            store.points(Signal::ErrorRatio, 1.0, 3.0),
            vec![(1.0, 7.0), (2.0, -1.0), (3.0, 4.0)]
        );
        assert_eq!(store.between(Signal::ErrorRatio, 3.0, 1.0).count(), 0);
        assert_eq!(store.max_in(Signal::ErrorRatio, 2.0, 4.0), Some(4.0));
        assert_eq!(store.min_in(Signal::ErrorRatio, 0.0, 1.0), Some(3.0));
        assert_eq!(
            store.value_bounds(Signal::ErrorRatio, -10.0, 10.0),
            Some((-1.0, 7.0))
        );
        assert_eq!(store.max_in(Signal::ErrorRatio, 1.5, 1.9), None);
        assert_eq!(store.max_in(Signal::Up, 0.0, 10.0), None);
        assert_eq!(store.time_bounds(Signal::Up), None);
        store.clear(Signal::ErrorRatio);
        assert!(store.is_empty(Signal::ErrorRatio));
    }
}
