//! The sandbox's Prometheus metrics: the workshop's names, labels and buckets, plus the
//! sandbox's own (pool, queue, injected failures), rendered in the text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// The default buckets of the Python client, which the workshop service uses.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Buckets for the time spent waiting for a pooled database connection.
pub const POOL_WAIT_BUCKETS: [f64; 12] = [
    0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Debug, Clone)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    pub fn observe(&mut self, seconds: f64) {
        // Counts are per bucket here and made cumulative when rendered.
        if let Some(slot) = self.bounds.iter().position(|bound| seconds <= *bound) {
            self.counts[slot] += 1;
        }
        self.sum += seconds;
        self.count += 1;
    }

    pub fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            cumulative += count;
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{}\"}} {cumulative}",
                format_bound(*bound)
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

/// Bounds as the Python client writes them (`0.005`, `1.0`, `10.0`).
fn format_bound(bound: f64) -> String {
    if bound.fract() == 0.0 {
        format!("{bound:.1}")
    } else {
        format!("{bound}")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RequestKey {
    method: &'static str,
    endpoint: &'static str,
    status: u16,
}

#[derive(Default)]
struct Recorded {
    requests: BTreeMap<RequestKey, u64>,
    latency: BTreeMap<&'static str, Histogram>,
    pool_wait: Option<Histogram>,
}

/// Gauges that change often are atomics; counters and histograms sit behind one short lock.
#[derive(Default)]
pub struct Metrics {
    recorded: Mutex<Recorded>,
    pub active_transactions: AtomicI64,
    pub queued_requests: AtomicI64,
    pub busy_workers: AtomicI64,
    pub connections: ConnectionCounts,
}

/// The server's connections: open now, the limit, and how many were refused, timed out or
/// failed to be accepted.
#[derive(Default)]
pub struct ConnectionCounts {
    open: AtomicI64,
    limit: AtomicU64,
    pub refused: AtomicU64,
    header_timeouts: AtomicU64,
    idle_timeouts: AtomicU64,
    pub accept_errors: AtomicU64,
}

impl ConnectionCounts {
    pub fn set_limit(&self, max_connections: usize) {
        self.limit.store(
            u64::try_from(max_connections).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Counts a connection open until the guard drops.
    pub fn opened(&self) -> OpenConnection<'_> {
        self.open.fetch_add(1, Ordering::Relaxed);
        OpenConnection(&self.open)
    }

    pub fn timed_out(&self, reason: super::connection::TimedOut) {
        let counter = match reason {
            super::connection::TimedOut::Header => &self.header_timeouts,
            super::connection::TimedOut::Idle => &self.idle_timeouts,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String) {
        gauge(
            out,
            "fintech_connections_open",
            "Client connections open now",
            self.open.load(Ordering::Relaxed),
        );
        gauge(
            out,
            "fintech_connections_max",
            "Most client connections open at once; more are refused with 503",
            self.limit.load(Ordering::Relaxed),
        );
        counter(
            out,
            "fintech_connections_refused_total",
            "Connections refused with 503 at the connection limit",
            self.refused.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP fintech_connections_timed_out_total Connections closed by the server: no complete headers in time (header), or idle too long (idle)"
        );
        let _ = writeln!(out, "# TYPE fintech_connections_timed_out_total counter");
        for (reason, count) in [
            ("header", &self.header_timeouts),
            ("idle", &self.idle_timeouts),
        ] {
            let _ = writeln!(
                out,
                "fintech_connections_timed_out_total{{reason=\"{reason}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        counter(
            out,
            "fintech_accept_errors_total",
            "Failed accepts of new connections (out of file descriptors, for one)",
            self.accept_errors.load(Ordering::Relaxed),
        );
    }
}

/// One open connection, uncounted when dropped.
pub struct OpenConnection<'a>(&'a AtomicI64);

impl Drop for OpenConnection<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Values read at scrape time from elsewhere in the sandbox.
pub struct ScrapeContext {
    pub workers: usize,
    pub pool_in_use: u32,
    pub pool_idle: u32,
    pub pool_max: u32,
    /// Every knob's name and value (flags as 0/1).
    pub failures: Vec<(&'static str, u64)>,
    pub leaked_bytes: u64,
    pub leak_cap_bytes: u64,
    /// Requests queued for a worker that are, in effect, waiting for the database: when the
    /// database is slow, the workers ahead of them are all stuck in it.
    pub waiting_for_database: i64,
}

impl Metrics {
    pub fn record_request(
        &self,
        method: &'static str,
        endpoint: &'static str,
        status: u16,
        latency: Duration,
    ) {
        let mut recorded = self.lock();
        *recorded
            .requests
            .entry(RequestKey {
                method,
                endpoint,
                status,
            })
            .or_insert(0) += 1;
        recorded
            .latency
            .entry(endpoint)
            .or_insert_with(|| Histogram::new(&LATENCY_BUCKETS))
            .observe(latency.as_secs_f64());
    }

    pub fn record_pool_wait(&self, waited: Duration) {
        self.lock()
            .pool_wait
            .get_or_insert_with(|| Histogram::new(&POOL_WAIT_BUCKETS))
            .observe(waited.as_secs_f64());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.recorded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The whole exposition, process metrics included.
    pub fn render(&self, context: &ScrapeContext) -> String {
        let mut out = String::with_capacity(8 * 1024);
        {
            let recorded = self.lock();
            out.push_str("# HELP fintech_requests_total Total HTTP requests\n");
            out.push_str("# TYPE fintech_requests_total counter\n");
            for (key, count) in &recorded.requests {
                let _ = writeln!(
                    out,
                    "fintech_requests_total{{endpoint=\"{}\",method=\"{}\",status=\"{}\"}} {count}",
                    key.endpoint, key.method, key.status
                );
            }
            out.push_str(
                "# HELP fintech_request_latency_seconds Request latency in seconds, from arrival (queueing included)\n",
            );
            out.push_str("# TYPE fintech_request_latency_seconds histogram\n");
            for (endpoint, histogram) in &recorded.latency {
                histogram.render(
                    &mut out,
                    "fintech_request_latency_seconds",
                    &format!("endpoint=\"{endpoint}\""),
                );
            }
            out.push_str(
                "# HELP fintech_db_pool_wait_seconds Time spent waiting for a database connection\n",
            );
            out.push_str("# TYPE fintech_db_pool_wait_seconds histogram\n");
            // Rendered as empty before the first wait, so the series exists from the start.
            match &recorded.pool_wait {
                Some(histogram) => histogram.render(&mut out, "fintech_db_pool_wait_seconds", ""),
                None => Histogram::new(&POOL_WAIT_BUCKETS).render(
                    &mut out,
                    "fintech_db_pool_wait_seconds",
                    "",
                ),
            }
        }
        gauge(
            &mut out,
            "fintech_active_transactions",
            "Requests in a database transaction or waiting for a database connection",
            self.active_transactions.load(Ordering::Relaxed) + context.waiting_for_database,
        );
        out.push_str("# HELP fintech_db_pool_connections Database pool connections by state\n");
        out.push_str("# TYPE fintech_db_pool_connections gauge\n");
        let _ = writeln!(
            out,
            "fintech_db_pool_connections{{state=\"in_use\"}} {}",
            context.pool_in_use
        );
        let _ = writeln!(
            out,
            "fintech_db_pool_connections{{state=\"idle\"}} {}",
            context.pool_idle
        );
        gauge(
            &mut out,
            "fintech_db_pool_max_connections",
            "Size limit of the database pool",
            context.pool_max,
        );
        gauge(
            &mut out,
            "fintech_workers",
            "Requests the service processes at once",
            context.workers,
        );
        gauge(
            &mut out,
            "fintech_workers_busy",
            "Requests being processed now",
            self.busy_workers.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "fintech_queued_requests",
            "Requests waiting for a free worker",
            self.queued_requests.load(Ordering::Relaxed),
        );
        out.push_str("# HELP fintech_failure_injected Injected failure knobs (booleans as 0/1)\n");
        out.push_str("# TYPE fintech_failure_injected gauge\n");
        for (knob, value) in &context.failures {
            let _ = writeln!(out, "fintech_failure_injected{{knob=\"{knob}\"}} {value}");
        }
        gauge(
            &mut out,
            "fintech_leaked_memory_bytes",
            "Memory held by the memory_leak failure",
            context.leaked_bytes,
        );
        gauge(
            &mut out,
            "fintech_leak_cap_bytes",
            "Most memory the memory_leak failure may hold",
            context.leak_cap_bytes,
        );
        self.connections.render(&mut out);
        super::process_stats::render(&mut out);
        out
    }
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} counter");
    let _ = writeln!(out, "{name} {value}");
}

pub(crate) fn gauge(out: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    let _ = writeln!(out, "{name} {value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_with_inf_equal_to_count() {
        let mut histogram = Histogram::new(&LATENCY_BUCKETS);
        for seconds in [0.001, 0.2, 0.3, 3.0, 20.0] {
            histogram.observe(seconds);
        }
        let mut out = String::new();
        histogram.render(&mut out, "h", "endpoint=\"/x\"");
        assert!(
            out.contains("h_bucket{endpoint=\"/x\",le=\"0.005\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("h_bucket{endpoint=\"/x\",le=\"0.25\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("h_bucket{endpoint=\"/x\",le=\"0.5\"} 3\n"),
            "{out}"
        );
        assert!(
            out.contains("h_bucket{endpoint=\"/x\",le=\"10.0\"} 4\n"),
            "{out}"
        );
        assert!(
            out.contains("h_bucket{endpoint=\"/x\",le=\"+Inf\"} 5\n"),
            "{out}"
        );
        assert!(out.contains("h_count{endpoint=\"/x\"} 5\n"), "{out}");
    }

    #[test]
    fn requests_are_counted_per_label_set() {
        let metrics = Metrics::default();
        metrics.record_request("GET", "/api/balance", 200, Duration::from_millis(3));
        metrics.record_request("GET", "/api/balance", 200, Duration::from_millis(4));
        metrics.record_request("GET", "/api/balance", 500, Duration::from_millis(4));
        let context = ScrapeContext {
            workers: 8,
            pool_in_use: 1,
            pool_idle: 2,
            pool_max: 10,
            failures: vec![("latency_ms", 0)],
            leaked_bytes: 0,
            leak_cap_bytes: 1 << 30,
            waiting_for_database: 0,
        };
        let text = metrics.render(&context);
        assert!(text.contains(
            "fintech_requests_total{endpoint=\"/api/balance\",method=\"GET\",status=\"200\"} 2\n"
        ));
        assert!(text.contains(
            "fintech_requests_total{endpoint=\"/api/balance\",method=\"GET\",status=\"500\"} 1\n"
        ));
        assert!(text.contains("fintech_db_pool_connections{state=\"in_use\"} 1\n"));
        assert!(text.contains("fintech_connections_open 0\n"), "{text}");
        assert!(text.contains("fintech_connections_timed_out_total{reason=\"idle\"} 0\n"));
    }
}
