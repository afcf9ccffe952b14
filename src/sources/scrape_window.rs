//! Signals from successive scrapes of one target's `/metrics`, computed over a short sliding
//! window the way PromQL's `rate()` and `histogram_quantile()` would, for when there is no
//! Prometheus to ask.
//!
//! # Window semantics
//!
//! Every [`ScrapeWindow::push`] after the first one records a *step*: what each counter
//! increased by since the previous scrape, compared series by series. Rates cover the steps
//! from the *baseline* — the newest scrape at or before `newest - window` — to the newest
//! scrape, so once the window has filled they span at least `window` (at most `window` plus one
//! scrape interval). Only that baseline and the scrapes after it are kept. Before the window has
//! filled, rates cover whatever has been scraped since the first scrape; with one scrape there
//! are no rates at all, only gauges. Gauges are the newest scrape's values. After a gap in the
//! scrapes (the target was down), the first scrape is a new baseline, as the first one was.
//!
//! Unlike PromQL there is no extrapolation to the window's edges: the increase is divided by
//! the time the scrapes actually span. In steady state that is what `rate()` returns too,
//! because PromQL's extrapolation stretches the same increase over a proportionally longer time.
//!
//! The rates follow the newest pushed scrape, not the wall clock: when scrapes stop, the last
//! signals stay as they were, and whoever polls must notice the silence.

use std::collections::{HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use crate::signals::{Signal, UnixSeconds};
use crate::sources::exposition::{Exposition, MetricSample};
use crate::sources::scrape_dependency::{self as dependency, DependencyGauges, DependencyStep};

const REQUESTS_TOTAL: &str = "fintech_requests_total";
const LATENCY_BUCKET: &str = "fintech_request_latency_seconds_bucket";
const CPU_SECONDS_TOTAL: &str = "process_cpu_seconds_total";
const ACTIVE_TRANSACTIONS: &str = "fintech_active_transactions";
const POOL_CONNECTIONS: &str = "fintech_db_pool_connections";
const QUEUED_REQUESTS: &str = "fintech_queued_requests";
const RESIDENT_MEMORY: &str = "process_resident_memory_bytes";
const START_TIME: &str = "process_start_time_seconds";

const LATENCY_QUANTILES: [(Signal, f64); 3] = [
    (Signal::LatencyP50, 0.5),
    (Signal::LatencyP95, 0.95),
    (Signal::LatencyP99, 0.99),
];

/// A hard cap on the steps kept, whatever the window and however fast a caller pushes.
const MAX_STEPS: usize = 1024;

/// A step longer than this many windows *and* this many times the interval before it means
/// the target was unreachable (or the machine slept): its average would pass for a current
/// rate, so the scrape after it becomes a fresh baseline instead. The second condition keeps
/// a window shorter than the scrape interval working.
const GAP_IN_WINDOWS: f64 = 2.0;
const GAP_IN_INTERVALS: f64 = 3.0;

/// A counter series not seen for this many windows before the baseline is forgotten; should
/// it come back, it counts as new. Keeps memory bounded when label sets churn.
const FORGET_AFTER_WINDOWS: f64 = 2.0;

/// Rates and gauges of one FinCore target over a sliding window of scrapes.
#[derive(Debug, Clone)]
pub struct ScrapeWindow {
    window_seconds: f64,
    newest_at: Option<UnixSeconds>,
    /// The time between the two newest scrapes, kept across gaps.
    last_interval: Option<f64>,
    steps: VecDeque<Step>,
    /// The last value seen of each counter series, by fingerprint of the process and the
    /// series.
    counters: HashMap<u64, CounterSeries>,
    /// When each process (by start time) was last scraped.
    processes: HashMap<ProcessId, UnixSeconds>,
    gauges: Gauges,
}

/// The counter families whose series are compared scrape by scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum CounterFamily {
    Requests,
    LatencyBucket,
    CpuSeconds,
    UpstreamLatencyBucket,
    /// One of the dependency's counters, by its name.
    Dependency(&'static str),
}

/// One process behind the address, by the bits of its `process_start_time_seconds`: gunicorn's
/// workers each keep their own counters and each scrape reaches one of them, so a counter is
/// compared with its value in the same process, never with the other worker's (which would
/// read as a reset and count the whole history again). `None` when the target does not say.
type ProcessId = Option<u64>;

#[derive(Debug, Clone, Copy)]
struct CounterSeries {
    value: f64,
    seen_at: UnixSeconds,
}

/// What the counters did between two consecutive scrapes.
#[derive(Debug, Clone, Default)]
struct Step {
    seconds: f64,
    end_at: UnixSeconds,
    requests: f64,
    server_errors: f64,
    /// `None` when the scrape had no CPU counter, so its time does not dilute the rate.
    cpu_seconds: Option<f64>,
    /// Increase per bucket upper bound, summed over endpoints (`sum by (le)`), sorted by bound.
    latency_buckets: Vec<(f64, f64)>,
    dependency: DependencyStep,
}

/// Gauges of the newest scrape, summed over their series.
#[derive(Debug, Clone, Copy, Default)]
struct Gauges {
    active_transactions: Option<f64>,
    pool_in_use: Option<f64>,
    pool_idle: Option<f64>,
    queued_requests: Option<f64>,
    memory_bytes: Option<f64>,
    dependency: DependencyGauges,
}

impl ScrapeWindow {
    pub fn new(window: Duration) -> Self {
        ScrapeWindow {
            window_seconds: window.as_secs_f64(),
            newest_at: None,
            last_interval: None,
            steps: VecDeque::new(),
            counters: HashMap::new(),
            processes: HashMap::new(),
            gauges: Gauges::default(),
        }
    }

    pub fn window(&self) -> Duration {
        Duration::from_secs_f64(self.window_seconds)
    }

    /// When the newest scrape was taken: the time to stamp [`Self::signals`] with.
    pub fn newest_at(&self) -> Option<UnixSeconds> {
        self.newest_at
    }

    /// How much time the rates cover; zero until two scrapes have been pushed.
    pub fn rate_span(&self) -> Duration {
        Duration::from_secs_f64(self.steps.iter().map(|step| step.seconds).sum())
    }

    /// Forgets everything, e.g. when the target changes.
    pub fn clear(&mut self) {
        *self = ScrapeWindow::new(self.window());
    }

    /// Adds a scrape taken at `at`. A scrape not newer than the newest one is ignored, so a
    /// late answer cannot reorder history.
    pub fn push(&mut self, at: UnixSeconds, exposition: &Exposition) {
        if !at.is_finite() || self.newest_at.is_some_and(|newest| at <= newest) {
            return;
        }
        let interval = self.newest_at.map(|previous| at - previous);
        let continues = interval.is_some_and(|interval| !self.is_gap(interval));
        let start_time = exposition
            .samples
            .iter()
            .find(|sample| sample.name == START_TIME && sample.value.is_finite())
            .map(|sample| sample.value);
        let process = start_time.map(f64::to_bits);
        // A process not seen before counts from zero only if it started since the previous
        // scrape (a restart); one that was already running (the other worker, answering for the
        // first time) is a baseline, or its whole history would count as this step's increase.
        let counts_new_series = continues
            && (self.processes.contains_key(&process)
                || self.processes.is_empty()
                || match (start_time, self.newest_at) {
                    (Some(start), Some(previous)) => start >= previous - 1.0,
                    _ => true,
                });
        self.processes.insert(process, at);
        let mut step = Step {
            seconds: interval.unwrap_or(0.0),
            end_at: at,
            ..Step::default()
        };
        let mut gauges = Gauges::default();
        for sample in &exposition.samples {
            if !sample.value.is_finite() {
                continue;
            }
            match sample.name.as_str() {
                REQUESTS_TOTAL => {
                    let increase = self.increase(
                        CounterFamily::Requests,
                        sample,
                        process,
                        at,
                        counts_new_series,
                    );
                    step.requests += increase;
                    let server_error = sample.label("status").is_some_and(is_server_error);
                    if server_error {
                        step.server_errors += increase;
                    }
                    step.dependency.add_request(sample, increase, server_error);
                }
                LATENCY_BUCKET => {
                    let Some(bound) = sample.label("le").and_then(parse_bound) else {
                        continue;
                    };
                    let increase = self.increase(
                        CounterFamily::LatencyBucket,
                        sample,
                        process,
                        at,
                        counts_new_series,
                    );
                    add_to_bucket(&mut step.latency_buckets, bound, increase);
                    step.dependency.add_bucket(sample, bound, increase);
                }
                dependency::UPSTREAM_BUCKET => {
                    let Some(bound) = sample.label("le").and_then(parse_bound) else {
                        continue;
                    };
                    let increase = self.increase(
                        CounterFamily::UpstreamLatencyBucket,
                        sample,
                        process,
                        at,
                        counts_new_series,
                    );
                    step.dependency.add_bucket(sample, bound, increase);
                }
                CPU_SECONDS_TOTAL => {
                    let increase = self.increase(
                        CounterFamily::CpuSeconds,
                        sample,
                        process,
                        at,
                        counts_new_series,
                    );
                    step.cpu_seconds = Some(step.cpu_seconds.unwrap_or(0.0) + increase);
                }
                ACTIVE_TRANSACTIONS => add(&mut gauges.active_transactions, sample.value),
                POOL_CONNECTIONS => match sample.label("state") {
                    Some("in_use") => add(&mut gauges.pool_in_use, sample.value),
                    Some("idle") => add(&mut gauges.pool_idle, sample.value),
                    _ => {}
                },
                QUEUED_REQUESTS => add(&mut gauges.queued_requests, sample.value),
                RESIDENT_MEMORY => add(&mut gauges.memory_bytes, sample.value),
                name => {
                    if let Some(family) = dependency::counter_family(name) {
                        let increase = self.increase(
                            CounterFamily::Dependency(family),
                            sample,
                            process,
                            at,
                            counts_new_series,
                        );
                        step.dependency.add_counter(sample, increase);
                    }
                }
            }
            gauges.dependency.read(sample);
        }
        step.dependency.set_breaker_state(&gauges.dependency);
        self.newest_at = Some(at);
        self.last_interval = interval.or(self.last_interval);
        self.gauges = gauges;
        if continues {
            self.steps.push_back(step);
        } else {
            self.steps.clear();
        }
        self.drop_steps_before_baseline(at);
        let baseline_at = at - self.steps.iter().map(|step| step.seconds).sum::<f64>();
        let forget_before = baseline_at - FORGET_AFTER_WINDOWS * self.window_seconds;
        self.counters
            .retain(|_, series| series.seen_at >= forget_before);
        self.processes
            .retain(|_, seen_at| *seen_at >= forget_before);
    }

    fn is_gap(&self, interval: f64) -> bool {
        let usual = self
            .last_interval
            .map_or(f64::INFINITY, |last| GAP_IN_INTERVALS * last);
        interval > usual.max(GAP_IN_WINDOWS * self.window_seconds)
    }

    /// Keeps the newest scrape at or before `newest - window` as the baseline (the start of
    /// the oldest step) and drops the steps before it; always keeps the newest step.
    fn drop_steps_before_baseline(&mut self, newest: UnixSeconds) {
        let cutoff = newest - self.window_seconds;
        while self.steps.len() > 1
            && self
                .steps
                .front()
                .is_some_and(|oldest| oldest.end_at <= cutoff)
        {
            self.steps.pop_front();
        }
        while self.steps.len() > MAX_STEPS {
            self.steps.pop_front();
        }
    }

    /// How much one counter series grew since it was last seen, remembering its new value.
    fn increase(
        &mut self,
        family: CounterFamily,
        sample: &MetricSample,
        process: ProcessId,
        at: UnixSeconds,
        counts_new_series: bool,
    ) -> f64 {
        let value = sample.value.max(0.0);
        let previous = self.counters.insert(
            fingerprint(family, sample, process),
            CounterSeries { value, seen_at: at },
        );
        match previous {
            Some(previous) if value >= previous.value => value - previous.value,
            // A counter that went down was reset (the service restarted, or the other gunicorn
            // worker answered this scrape). As in PromQL, the increase across a reset is the
            // new value counted from zero. Comparing with the series' last seen value (not
            // only the previous scrape) is PromQL's way too: a series missing from a scrape is
            // skipped, not restarted.
            Some(_) => value,
            // A series first seen after the first scrape is counted from zero: the Python
            // client (and the sandbox) create a labelled series at its first increment, so its
            // value is what happened since the previous scrape. PromQL would drop that first
            // value and hide the start of an error burst (the first `status="500"`), which is
            // exactly what a drill must see.
            None if counts_new_series => value,
            // In the first scrape (or the first after a gap, or the first of a worker that was
            // already running) every series is the baseline.
            None => 0.0,
        }
    }

    /// The signals this target gives now: gauges from the newest scrape; `Rps`, `ErrorRatio`,
    /// `CpuCores` and the latency quantiles over the window. A signal without data (no
    /// requests for `ErrorRatio`, no observations for the quantiles) is left out, not zero;
    /// requests with no 5xx series among them are 0 % errors, as the Prometheus query reads.
    pub fn signals(&self) -> Vec<(Signal, f64)> {
        let mut signals = Vec::with_capacity(12);
        let gauges = [
            (Signal::ActiveTransactions, self.gauges.active_transactions),
            (Signal::PoolInUse, self.gauges.pool_in_use),
            (Signal::PoolIdle, self.gauges.pool_idle),
            (Signal::QueuedRequests, self.gauges.queued_requests),
            (Signal::MemoryBytes, self.gauges.memory_bytes),
        ];
        signals.extend(
            gauges
                .into_iter()
                .filter_map(|(signal, value)| Some((signal, value?))),
        );
        let seconds: f64 = self.steps.iter().map(|step| step.seconds).sum();
        if seconds <= 0.0 {
            return signals;
        }
        let requests: f64 = self.steps.iter().map(|step| step.requests).sum();
        signals.push((Signal::Rps, requests / seconds));
        if let Some(ratio) = self.error_ratio() {
            signals.push((Signal::ErrorRatio, ratio));
        }
        let (cpu_seconds, cpu_span) = self
            .steps
            .iter()
            .filter_map(|step| Some((step.cpu_seconds?, step.seconds)))
            .fold((0.0, 0.0), |(used, span), (cpu, seconds)| {
                (used + cpu, span + seconds)
            });
        if cpu_span > 0.0 {
            signals.push((Signal::CpuCores, cpu_seconds / cpu_span));
        }
        let buckets = self.latency_buckets();
        for (signal, quantile) in LATENCY_QUANTILES {
            let seconds = histogram_quantile(quantile, &buckets);
            if seconds.is_finite() {
                signals.push((signal, seconds));
            }
        }
        signals
    }

    /// The payment provider's signals over the window (see [`dependency`]); none for a
    /// target without its metrics.
    pub fn dependency_signals(&self) -> Vec<(Signal, f64)> {
        let seconds: f64 = self.steps.iter().map(|step| step.seconds).sum();
        let steps = self.steps.iter().map(|step| &step.dependency);
        dependency::window_signals(steps, seconds, &self.gauges.dependency)
    }

    /// What the dependency alert rules compare, over this window (meant for the rules' 5
    /// minutes): `BreakerStateMax1m`, `WebhooksRejected5m`, `PaymentsFailedRatioOver5m`.
    pub fn dependency_rule_signals(&self) -> Vec<(Signal, f64)> {
        let Some(newest_at) = self.newest_at else {
            return Vec::new();
        };
        let seconds: f64 = self.steps.iter().map(|step| step.seconds).sum();
        let steps = self
            .steps
            .iter()
            .map(|step| (step.end_at, &step.dependency));
        dependency::rule_signals(steps, newest_at, seconds, &self.gauges.dependency)
    }

    /// The share of 5xx over the window; `None` without requests.
    pub fn error_ratio(&self) -> Option<f64> {
        let requests: f64 = self.steps.iter().map(|step| step.requests).sum();
        let server_errors: f64 = self.steps.iter().map(|step| step.server_errors).sum();
        (requests > 0.0).then(|| server_errors / requests)
    }

    /// A latency quantile over the window, in seconds; `None` without observations.
    pub fn latency_quantile(&self, quantile: f64) -> Option<f64> {
        Some(histogram_quantile(quantile, &self.latency_buckets())).filter(|s| s.is_finite())
    }

    /// The window's bucket increases, summed by bound.
    fn latency_buckets(&self) -> Vec<(f64, f64)> {
        let mut buckets = Vec::new();
        for step in &self.steps {
            for &(bound, increase) in &step.latency_buckets {
                add_to_bucket(&mut buckets, bound, increase);
            }
        }
        buckets
    }
}

/// PromQL's `histogram_quantile(q, ...)` over classic buckets given as `(upper bound,
/// cumulative count)` pairs in any order, as Prometheus 2.42 computes it: buckets sorted and
/// merged by bound, counts forced monotonic, linear interpolation inside the bucket where the
/// rank falls, 0 as the lowest bucket's lower bound (unless that bound is ≤ 0), and the highest
/// finite bound when the rank falls in the `+Inf` bucket. NaN when there is no `+Inf` bucket,
/// fewer than two buckets or no observations; −∞ for q < 0 and +∞ for q > 1.
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    let mut buckets: Vec<(f64, f64)> = buckets
        .iter()
        .copied()
        .filter(|(bound, _)| !bound.is_nan())
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    if buckets
        .last()
        .is_none_or(|(bound, _)| *bound != f64::INFINITY)
    {
        return f64::NAN;
    }
    buckets.dedup_by(|later, kept| {
        let same_bound = later.0 == kept.0;
        if same_bound {
            kept.1 += later.1;
        }
        same_bound
    });
    let mut highest = f64::NEG_INFINITY;
    for (_, count) in &mut buckets {
        highest = highest.max(*count);
        *count = highest;
    }
    let [.., (below_inf, _), (_, observations)] = buckets[..] else {
        return f64::NAN;
    };
    if observations == 0.0 {
        return f64::NAN;
    }
    let rank = q * observations;
    let finite = &buckets[..buckets.len() - 1];
    let index = finite.partition_point(|(_, count)| *count < rank);
    let Some(&(bucket_end, count)) = finite.get(index) else {
        return below_inf;
    };
    if index == 0 && bucket_end <= 0.0 {
        return bucket_end;
    }
    let (bucket_start, count_below) = match index.checked_sub(1).and_then(|i| finite.get(i)) {
        Some(&previous) => previous,
        None => (0.0, 0.0),
    };
    bucket_start + (bucket_end - bucket_start) * ((rank - count_below) / (count - count_below))
}

/// `status=~"5.."` as PromQL anchors it: three characters starting with 5.
fn is_server_error(status: &str) -> bool {
    status.starts_with('5') && status.chars().count() == 3
}

/// `le` as the Python client writes it (`0.005`, `1.0`, `+Inf`); `1` and `1.0` are one bound.
fn parse_bound(le: &str) -> Option<f64> {
    le.parse::<f64>().ok().filter(|bound| !bound.is_nan())
}

fn add(total: &mut Option<f64>, value: f64) {
    *total = Some(total.unwrap_or(0.0) + value);
}

/// Adds `increase` to the bucket with upper bound `bound`, keeping `buckets` sorted by bound.
pub(super) fn add_to_bucket(buckets: &mut Vec<(f64, f64)>, bound: f64, increase: f64) {
    let index = buckets.partition_point(|(existing, _)| *existing < bound);
    match buckets.get_mut(index) {
        Some((existing, count)) if *existing == bound => *count += increase,
        _ => buckets.insert(index, (bound, increase)),
    }
}

/// A series' identity as a 64-bit hash of its family and label set, independent of label
/// order and with no allocation per lookup. Like Prometheus's own fingerprints it could in
/// theory collide; with a few dozen series the odds are about 1 in 10^16.
fn fingerprint(family: CounterFamily, sample: &MetricSample, process: ProcessId) -> u64 {
    let mut labels_hash: u64 = 0;
    for (name, value) in &sample.labels {
        let mut hasher = DefaultHasher::new();
        name.hash(&mut hasher);
        value.hash(&mut hasher);
        labels_hash = labels_hash.wrapping_add(hasher.finish());
    }
    let mut hasher = DefaultHasher::new();
    family.hash(&mut hasher);
    process.hash(&mut hasher);
    labels_hash.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::exposition::parse;

    const BUCKET_BOUNDS: [&str; 15] = [
        "0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1.0", "2.5",
        "5.0", "7.5", "10.0", "+Inf",
    ];

    fn scrape(text: &str) -> Exposition {
        parse(text).expect("valid exposition")
    }

    /// `fintech_requests_total` lines of `GET /api/balance`, one per `(status, count)`.
    fn requests(statuses: &[(&str, f64)]) -> String {
        statuses
            .iter()
            .map(|(status, count)| {
                format!(
                    "fintech_requests_total{{endpoint=\"/api/balance\",method=\"GET\",status=\"{status}\"}} {count}\n"
                )
            })
            .collect()
    }

    /// The latency histogram of one endpoint with `observations` in the bucket of bound
    /// `bucket` (as the client writes it), cumulative like the real thing.
    fn histogram(endpoint: &str, observations: &[(&str, f64)]) -> String {
        let mut text = String::new();
        let mut cumulative = 0.0;
        for bound in BUCKET_BOUNDS {
            cumulative += observations
                .iter()
                .filter(|(at, _)| *at == bound)
                .map(|(_, count)| count)
                .sum::<f64>();
            text.push_str(&format!(
                "fintech_request_latency_seconds_bucket{{endpoint=\"{endpoint}\",le=\"{bound}\"}} {cumulative}\n"
            ));
        }
        text
    }

    fn value(window: &ScrapeWindow, wanted: Signal) -> Option<f64> {
        window
            .signals()
            .into_iter()
            .find(|(signal, _)| *signal == wanted)
            .map(|(_, value)| value)
    }

    fn assert_close(actual: Option<f64>, expected: f64) {
        let actual = actual.expect("signal present");
        assert!(
            (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0),
            "{actual} != {expected}"
        );
    }

    fn window_of(seconds: u64) -> ScrapeWindow {
        ScrapeWindow::new(Duration::from_secs(seconds))
    }

    #[test]
    fn first_scrape_gives_gauges_only() {
        let mut window = window_of(10);
        let text = format!(
            "{}fintech_active_transactions 2\nfintech_db_pool_connections{{state=\"in_use\"}} 3\n\
             fintech_db_pool_connections{{state=\"idle\"}} 7\nfintech_queued_requests 1\n\
             process_resident_memory_bytes 8142848\nprocess_cpu_seconds_total 4.5\n",
            requests(&[("200", 5.0)])
        );
        window.push(100.0, &scrape(&text));
        assert_eq!(
            window.signals(),
            vec![
                (Signal::ActiveTransactions, 2.0),
                (Signal::PoolInUse, 3.0),
                (Signal::PoolIdle, 7.0),
                (Signal::QueuedRequests, 1.0),
                (Signal::MemoryBytes, 8_142_848.0),
            ]
        );
        assert_eq!(window.newest_at(), Some(100.0));
        assert_eq!(window.rate_span(), Duration::ZERO);
    }

    #[test]
    fn steady_counter_gives_its_rate_over_the_window() {
        let mut window = window_of(10);
        for second in 0..=30 {
            let at = 1000.0 + f64::from(second);
            window.push(at, &scrape(&requests(&[("200", 10.0 * f64::from(second))])));
        }
        assert_close(value(&window, Signal::Rps), 10.0);
        assert_eq!(value(&window, Signal::ErrorRatio), Some(0.0));
        assert_eq!(window.rate_span(), Duration::from_secs(10));
        assert_eq!(window.steps.len(), 10);
    }

    #[test]
    fn rates_cover_the_baseline_at_or_before_the_window_start_to_the_newest_scrape() {
        let mut window = window_of(10);
        let mut total = 0.0;
        for second in 0..=15 {
            // 10 requests a second until t=10, then 20.
            total += if second == 0 {
                0.0
            } else if second <= 10 {
                10.0
            } else {
                20.0
            };
            window.push(f64::from(second), &scrape(&requests(&[("200", total)])));
        }
        // Baseline t=5: 5 s at 10/s and 5 s at 20/s.
        assert_close(value(&window, Signal::Rps), 15.0);
        // Scrapes 3 s apart: the baseline is the newest at or before t-10, so rates span 12 s.
        let mut sparse = window_of(10);
        for (at, count) in [
            (0.0, 0.0),
            (3.0, 30.0),
            (6.0, 60.0),
            (9.0, 90.0),
            (12.0, 120.0),
            (15.0, 270.0),
        ] {
            sparse.push(at, &scrape(&requests(&[("200", count)])));
        }
        assert_eq!(sparse.rate_span(), Duration::from_secs(12));
        assert_close(value(&sparse, Signal::Rps), (270.0 - 30.0) / 12.0);
    }

    #[test]
    fn memory_stays_bounded() {
        // Steps: the window's worth plus the baseline, at any push rate.
        let mut window = window_of(10);
        for tick in 0..5000 {
            let at = f64::from(tick) * 0.1;
            window.push(at, &scrape(&requests(&[("200", f64::from(tick))])));
        }
        assert!(window.steps.len() <= 101, "{}", window.steps.len());
        assert_close(value(&window, Signal::Rps), 10.0);
        // The hard cap holds even for a long window pushed too fast.
        let mut flooded = window_of(3600);
        let empty = Exposition::default();
        for tick in 0..3000 {
            flooded.push(f64::from(tick) * 0.001, &empty);
        }
        assert_eq!(flooded.steps.len(), MAX_STEPS);
        // Series that come and go are forgotten after two windows.
        let mut churn = window_of(10);
        for second in 0..200 {
            let text = format!(
                "fintech_requests_total{{endpoint=\"/e{second}\",method=\"GET\",status=\"200\"}} 1\n"
            );
            churn.push(f64::from(second), &scrape(&text));
        }
        assert!(churn.counters.len() <= 31, "{}", churn.counters.len());
    }

    #[test]
    fn a_restart_counts_the_new_value_from_zero() {
        let mut window = window_of(60);
        for (at, count) in [(0.0, 100.0), (1.0, 110.0), (2.0, 5.0), (3.0, 15.0)] {
            window.push(at, &scrape(&requests(&[("200", count)])));
        }
        // 10, then 5 counted from zero after the reset, then 10.
        assert_close(value(&window, Signal::Rps), 25.0 / 3.0);
    }

    #[test]
    fn alternating_workers_are_counted_like_promql_rate() {
        // Two gunicorn workers, scraped in turn, one minute apart: A 100→110→120, B 50→55→60.
        // Every drop is a reset: 50 + 60 + 55 + 65 + 60 = 290, far more than the true 30,
        // as in Prometheus. Prometheus 2.42 (`promtool test rules`, input
        // `100 50 110 55 120 60` at 1m, `rate(x[5m])` at 5m) gives 0.9666… = 290/300 too.
        let mut window = window_of(300);
        for (minute, count) in [100.0, 50.0, 110.0, 55.0, 120.0, 60.0]
            .into_iter()
            .enumerate()
        {
            window.push(60.0 * minute as f64, &scrape(&requests(&[("200", count)])));
        }
        assert_close(value(&window, Signal::Rps), 290.0 / 300.0);
    }

    /// A scrape of one worker: its start time, its request count and its latency histogram.
    fn worker(start: f64, count: f64, slow: f64) -> Exposition {
        let fast = count - slow;
        scrape(&format!(
            "process_start_time_seconds {start}\n{}{}",
            requests(&[("200", count)]),
            histogram("/api/balance", &[("0.005", fast), ("2.5", slow)])
        ))
    }

    #[test]
    fn workers_known_by_start_time_are_each_compared_with_themselves() {
        // Two workers scraped in random turn, 10 requests/s each; both had a slow minute
        // (600 requests over 2 s) long before the window.
        let mut window = window_of(15);
        let order = [
            0, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1,
        ];
        for (second, &which) in order.iter().enumerate() {
            let at = 1000.0 + second as f64;
            let count = 5000.0 + 10.0 * (at - 1000.0);
            let start = [100.0, 100.5][which];
            window.push(at, &worker(start, count, 600.0));
        }
        // Both workers together: 20 requests/s, give or take the edge of the window where a
        // worker's step began before it.
        let rps = value(&window, Signal::Rps).expect("rps");
        assert!((18.0..=24.0).contains(&rps), "{rps}");
        // The old slow requests never come back as new ones.
        let p95 = value(&window, Signal::LatencyP95).expect("p95");
        assert!(p95 < 0.01, "{p95}");
    }

    #[test]
    fn a_worker_restarted_since_the_previous_scrape_counts_from_zero() {
        let mut window = window_of(60);
        window.push(0.0, &worker(100.0, 1000.0, 0.0));
        window.push(1.0, &worker(100.0, 1010.0, 0.0));
        // Restarted at 1.5 s: its 5 requests are new.
        window.push(2.0, &worker(1.5, 5.0, 0.0));
        assert_close(value(&window, Signal::Rps), 15.0 / 2.0);
    }

    #[test]
    fn a_series_missing_from_one_scrape_is_compared_with_its_last_value() {
        // Only worker B has seen errors: its 500 series is missing whenever A answers.
        let mut window = window_of(60);
        window.push(0.0, &scrape(&requests(&[("200", 100.0), ("500", 5.0)])));
        window.push(1.0, &scrape(&requests(&[("200", 110.0)])));
        window.push(2.0, &scrape(&requests(&[("200", 120.0), ("500", 7.0)])));
        assert_close(value(&window, Signal::Rps), 22.0 / 2.0);
        assert_close(value(&window, Signal::ErrorRatio), 2.0 / 22.0);
    }

    #[test]
    fn a_series_first_seen_later_counts_from_zero() {
        let mut window = window_of(10);
        window.push(0.0, &scrape(&requests(&[("200", 100.0)])));
        window.push(1.0, &scrape(&requests(&[("200", 110.0), ("500", 3.0)])));
        assert_close(value(&window, Signal::Rps), 13.0);
        assert_close(value(&window, Signal::ErrorRatio), 3.0 / 13.0);
    }

    #[test]
    fn error_ratio_counts_5xx_only() {
        let mut window = window_of(10);
        let statuses = |n: f64| {
            requests(&[
                ("200", 6.0 * n),
                ("404", n),
                ("500", n),
                ("503", 2.0 * n),
                ("5000", n),
            ])
        };
        window.push(0.0, &scrape(&statuses(0.0)));
        window.push(1.0, &scrape(&statuses(1.0)));
        assert_close(value(&window, Signal::ErrorRatio), 3.0 / 11.0);
    }

    #[test]
    fn without_requests_rps_is_zero_and_ratio_and_latency_are_left_out() {
        let mut window = window_of(10);
        let text = format!(
            "{}{}",
            requests(&[("200", 4.0)]),
            histogram("/health", &[("0.005", 4.0)])
        );
        window.push(0.0, &scrape(&text));
        window.push(1.0, &scrape(&text));
        assert_eq!(value(&window, Signal::Rps), Some(0.0));
        assert_eq!(value(&window, Signal::ErrorRatio), None);
        assert_eq!(value(&window, Signal::LatencyP95), None);
        // A service that has served nothing yet has no series at all.
        let mut fresh = window_of(10);
        fresh.push(0.0, &Exposition::default());
        fresh.push(1.0, &Exposition::default());
        assert_eq!(fresh.signals(), vec![(Signal::Rps, 0.0)]);
    }

    #[test]
    fn a_gap_in_the_scrapes_starts_a_new_baseline() {
        let mut window = window_of(10);
        window.push(0.0, &scrape(&requests(&[("200", 0.0)])));
        window.push(1.0, &scrape(&requests(&[("200", 10.0)])));
        window.push(100.0, &scrape(&requests(&[("200", 5000.0)])));
        assert_eq!(value(&window, Signal::Rps), None);
        window.push(101.0, &scrape(&requests(&[("200", 5003.0), ("500", 1.0)])));
        assert_close(value(&window, Signal::Rps), 4.0);
    }

    #[test]
    fn a_window_shorter_than_the_scrape_interval_still_gives_rates() {
        // Rates then cover just the last interval, like PromQL's `irate`.
        let mut window = window_of(2);
        for (at, count) in [(0.0, 0.0), (5.0, 50.0), (10.0, 150.0), (15.0, 250.0)] {
            window.push(at, &scrape(&requests(&[("200", count)])));
        }
        assert_close(value(&window, Signal::Rps), 20.0);
        assert_eq!(window.rate_span(), Duration::from_secs(5));
        assert_eq!(window.counters.len(), 1);
    }

    #[test]
    fn stale_duplicate_and_non_finite_scrapes_are_ignored() {
        let mut window = window_of(10);
        window.push(0.0, &scrape(&requests(&[("200", 0.0)])));
        window.push(2.0, &scrape(&requests(&[("200", 20.0)])));
        window.push(2.0, &scrape(&requests(&[("200", 999.0)])));
        window.push(1.0, &scrape(&requests(&[("200", 999.0)])));
        window.push(f64::NAN, &scrape(&requests(&[("200", 999.0)])));
        assert_close(value(&window, Signal::Rps), 10.0);
        // A NaN counter value is skipped, not taken for a reset.
        window.push(3.0, &scrape(&requests(&[("200", f64::NAN)])));
        window.push(4.0, &scrape(&requests(&[("200", 40.0)])));
        assert_close(value(&window, Signal::Rps), 10.0);
    }

    #[test]
    fn cpu_cores_is_the_rate_of_cpu_seconds() {
        let mut window = window_of(10);
        for second in 0..=4 {
            let text = format!(
                "process_cpu_seconds_total {}\n",
                12.0 + 0.25 * f64::from(second)
            );
            window.push(f64::from(second), &scrape(&text));
        }
        assert_close(value(&window, Signal::CpuCores), 0.25);
    }

    #[test]
    fn latency_quantiles_use_bucket_increases_summed_by_le() {
        // Before: 1000 fast requests. In the window: 100 observations at 0.3 s, split over two
        // endpoints. Only the increase counts, so p95 = 0.25 + 0.25 × 0.95 (Prometheus 2.42:
        // 0.4875, and 0.375 for p50).
        let mut window = window_of(60);
        let before = histogram("/health", &[("0.005", 1000.0)]);
        window.push(0.0, &scrape(&before));
        let after = format!(
            "{}{}",
            histogram("/health", &[("0.005", 1000.0), ("0.5", 40.0)]),
            histogram("/api/balance", &[("0.5", 60.0)])
        );
        window.push(30.0, &scrape(&after));
        assert_close(value(&window, Signal::LatencyP50), 0.375);
        assert_close(value(&window, Signal::LatencyP95), 0.4875);
        assert_close(value(&window, Signal::LatencyP99), 0.4975);
    }

    #[test]
    fn quantile_in_the_inf_bucket_is_the_highest_finite_bound() {
        let mut window = window_of(60);
        window.push(0.0, &scrape(&histogram("/health", &[])));
        window.push(
            1.0,
            &scrape(&histogram("/health", &[("0.1", 90.0), ("+Inf", 10.0)])),
        );
        assert_close(
            value(&window, Signal::LatencyP50),
            0.075 + 0.025 * (50.0 / 90.0),
        );
        assert_close(value(&window, Signal::LatencyP95), 10.0);
        assert_close(value(&window, Signal::LatencyP99), 10.0);
    }

    #[test]
    fn matches_prometheus_on_two_endpoints_with_a_restart() {
        // Six scrapes a minute apart; `/b` restarts at minute 3, `status="500"` resets too.
        // Prometheus 2.42 (`promtool test rules`, same series, at 5m) computes
        // `histogram_quantile(q, sum by (le) (rate(h_bucket[5m])))` = 0.095, 2.350000000000001
        // and 10 for q = 0.5, 0.95, 0.99; `sum(rate(r[5m]))` = 1.8333333333333335 and the
        // 5xx ratio 0.09090909090909091.
        let a_per_minute = [0, 0, 0, 0, 0, 10, 10, 15, 15, 15, 16, 16, 16, 16, 16];
        let b_per_minute = [3, 3, 3, 3, 3, 3, 3, 3, 5, 5, 5, 5, 5, 5, 6];
        let a_minutes = [7, 8, 9, 10, 11, 12];
        let b_minutes = [3, 4, 5, 1, 2, 3];
        let ok = [0, 100, 200, 300, 400, 500];
        let internal_error = [50, 60, 70, 5, 15, 25];
        let unavailable = [1, 2, 3, 4, 5, 6];
        let mut window = window_of(300);
        for minute in 0..6 {
            let mut text = String::new();
            for (index, bound) in BUCKET_BOUNDS.iter().enumerate() {
                for (endpoint, per_minute, minutes) in [
                    ("/a", a_per_minute, a_minutes),
                    ("/b", b_per_minute, b_minutes),
                ] {
                    text.push_str(&format!(
                        "fintech_request_latency_seconds_bucket{{endpoint=\"{endpoint}\",le=\"{bound}\"}} {}\n",
                        per_minute[index] * minutes[minute]
                    ));
                }
            }
            text.push_str(&requests(&[
                ("200", f64::from(ok[minute])),
                ("500", f64::from(internal_error[minute])),
                ("503", f64::from(unavailable[minute])),
            ]));
            window.push(60.0 * minute as f64, &scrape(&text));
        }
        assert_close(value(&window, Signal::LatencyP50), 0.095);
        assert_close(value(&window, Signal::LatencyP95), 2.350000000000001);
        assert_close(value(&window, Signal::LatencyP99), 10.0);
        assert_close(value(&window, Signal::Rps), 1.8333333333333335);
        assert_close(value(&window, Signal::ErrorRatio), 0.09090909090909091);
    }

    #[test]
    fn histogram_quantile_matches_promql() {
        let at_0_3 = [(0.25, 0.0), (0.5, 100.0), (f64::INFINITY, 100.0)];
        assert_close(Some(histogram_quantile(0.95, &at_0_3)), 0.4875);
        // The first bucket's lower bound is 0.
        let fast = [(0.005, 10.0), (0.01, 10.0), (f64::INFINITY, 10.0)];
        assert_close(Some(histogram_quantile(0.5, &fast)), 0.0025);
        // Unless its bound is ≤ 0: then the bound itself.
        let negative = [(-1.0, 10.0), (1.0, 10.0), (f64::INFINITY, 10.0)];
        assert_eq!(histogram_quantile(0.5, &negative), -1.0);
        // Order does not matter; equal bounds ("1" and "1.0") are merged.
        // Merged, the 1.0 bucket holds 4 and rank 3 falls halfway into it.
        let shuffled = [(f64::INFINITY, 8.0), (1.0, 2.0), (0.5, 2.0), (1.0, 2.0)];
        assert_close(Some(histogram_quantile(0.375, &shuffled)), 0.75);
        // Non-monotonic counts are forced monotonic: the 0.75 bucket is read as 10.
        let dip = [(0.5, 10.0), (0.75, 4.0), (1.0, 20.0), (f64::INFINITY, 20.0)];
        assert_close(Some(histogram_quantile(0.75, &dip)), 0.75 + 0.25 * 0.5);
        // Special cases.
        assert!(histogram_quantile(0.5, &[(0.5, 0.0), (f64::INFINITY, 0.0)]).is_nan());
        assert!(histogram_quantile(0.5, &[(0.5, 1.0), (1.0, 2.0)]).is_nan());
        assert!(histogram_quantile(0.5, &[(f64::INFINITY, 5.0)]).is_nan());
        assert!(histogram_quantile(0.5, &[]).is_nan());
        assert!(histogram_quantile(f64::NAN, &at_0_3).is_nan());
        assert_eq!(histogram_quantile(-0.1, &at_0_3), f64::NEG_INFINITY);
        assert_eq!(histogram_quantile(1.1, &at_0_3), f64::INFINITY);
    }

    #[test]
    fn fingerprints_ignore_label_order() {
        let a = &scrape("m{x=\"1\",y=\"2\"} 1").samples[0];
        let b = &scrape("m{y=\"2\",x=\"1\"} 1").samples[0];
        let c = &scrape("m{x=\"2\",y=\"1\"} 1").samples[0];
        assert_eq!(
            fingerprint(CounterFamily::Requests, a, None),
            fingerprint(CounterFamily::Requests, b, None)
        );
        assert_ne!(
            fingerprint(CounterFamily::Requests, a, None),
            fingerprint(CounterFamily::Requests, c, None)
        );
        assert_ne!(
            fingerprint(CounterFamily::Requests, a, None),
            fingerprint(CounterFamily::CpuSeconds, a, None)
        );
    }
}
