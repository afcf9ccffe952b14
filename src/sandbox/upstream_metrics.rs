//! The metrics of FinCore's dependency on the payment provider, in the workshop's style:
//! calls by outcome and their latency, whether the provider is up, payments by status,
//! webhooks by result, and the double-credit check read from the database.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use super::metrics::{Histogram, LATENCY_BUCKETS};

/// The one upstream so far, as its label.
pub const PROVIDER: &str = "provider";

#[derive(Default)]
struct Counted {
    calls: BTreeMap<&'static str, u64>,
    latency: Option<Histogram>,
    payments: BTreeMap<&'static str, u64>,
    webhooks: BTreeMap<&'static str, u64>,
}

pub struct UpstreamMetrics {
    counted: Mutex<Counted>,
    /// 1 when the last health probe of the provider was answered, 0 when not, -1 before any.
    up: AtomicI64,
}

impl Default for UpstreamMetrics {
    fn default() -> Self {
        UpstreamMetrics {
            counted: Mutex::default(),
            up: AtomicI64::new(-1),
        }
    }
}

/// Every label a counter may carry, so a series exists (at 0) before its first event.
/// `breaker_open` and `bulkhead_full`: calls the patterns refused without calling.
const OUTCOMES: [&str; 10] = [
    "success",
    "timeout",
    "http_5xx",
    "http_429",
    "http_408",
    "http_4xx",
    "connect_error",
    "malformed",
    "breaker_open",
    "bulkhead_full",
];
/// `pending`: created at the provider, its webhook awaited; `fallback_pending`: accepted by the
/// fallback (202) while the provider could not be reached; `completed_late`: such a payment
/// created at the provider later; `error`: the call failed and the client was told so.
const PAYMENT_STATUSES: [&str; 6] = [
    "pending",
    "succeeded",
    "failed",
    "error",
    "fallback_pending",
    "completed_late",
];
const WEBHOOK_RESULTS: [&str; 3] = ["processed", "duplicate", "rejected"];

impl UpstreamMetrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counted> {
        self.counted
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn record_call(&self, outcome: &'static str, took: Duration) {
        let mut counted = self.lock();
        *counted.calls.entry(outcome).or_default() += 1;
        counted
            .latency
            .get_or_insert_with(|| Histogram::new(&LATENCY_BUCKETS))
            .observe(took.as_secs_f64());
    }

    /// A call the patterns refused without calling the upstream: counted, no latency.
    pub fn record_rejected(&self, outcome: &'static str) {
        *self.lock().calls.entry(outcome).or_default() += 1;
    }

    pub fn record_payment(&self, status: &'static str) {
        *self.lock().payments.entry(status).or_default() += 1;
    }

    pub fn record_webhook(&self, result: &'static str) {
        *self.lock().webhooks.entry(result).or_default() += 1;
    }

    pub fn set_up(&self, up: bool) {
        self.up.store(i64::from(up), Ordering::Relaxed);
    }

    /// The exposition; `double_credits` is `None` when the database did not answer in time.
    pub fn render(&self, out: &mut String, double_credits: Option<i64>) {
        let counted = self.lock();
        out.push_str(
            "# HELP fintech_upstream_requests_total Calls to upstream services by outcome \
             (breaker_open, bulkhead_full: refused by the patterns without calling)\n",
        );
        out.push_str("# TYPE fintech_upstream_requests_total counter\n");
        for outcome in OUTCOMES {
            let count = counted.calls.get(outcome).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "fintech_upstream_requests_total{{upstream=\"{PROVIDER}\",outcome=\"{outcome}\"}} {count}"
            );
        }
        out.push_str(
            "# HELP fintech_upstream_latency_seconds Latency of calls to upstream services\n",
        );
        out.push_str("# TYPE fintech_upstream_latency_seconds histogram\n");
        counted
            .latency
            .clone()
            .unwrap_or_else(|| Histogram::new(&LATENCY_BUCKETS))
            .render(
                out,
                "fintech_upstream_latency_seconds",
                &format!("upstream=\"{PROVIDER}\""),
            );
        let up = self.up.load(Ordering::Relaxed);
        if up >= 0 {
            out.push_str(
                "# HELP fintech_upstream_up Whether the upstream answered its last health probe\n",
            );
            out.push_str("# TYPE fintech_upstream_up gauge\n");
            let _ = writeln!(out, "fintech_upstream_up{{upstream=\"{PROVIDER}\"}} {up}");
        }
        out.push_str(
            "# HELP fintech_payments_total Payments by status (pending: created, webhook awaited; \
             error: the provider call failed; fallback_pending: accepted while the provider \
             was unreachable; completed_late: such a payment created later)\n",
        );
        out.push_str("# TYPE fintech_payments_total counter\n");
        for status in PAYMENT_STATUSES {
            let count = counted.payments.get(status).copied().unwrap_or(0);
            let _ = writeln!(out, "fintech_payments_total{{status=\"{status}\"}} {count}");
        }
        out.push_str("# HELP fintech_webhooks_total Provider webhooks by result\n");
        out.push_str("# TYPE fintech_webhooks_total counter\n");
        for result in WEBHOOK_RESULTS {
            let count = counted.webhooks.get(result).copied().unwrap_or(0);
            let _ = writeln!(out, "fintech_webhooks_total{{result=\"{result}\"}} {count}");
        }
        if let Some(doubled) = double_credits {
            out.push_str("# HELP fintech_ledger_double_credits Webhook events credited more than once (must be 0)\n");
            out.push_str("# TYPE fintech_ledger_double_credits gauge\n");
            let _ = writeln!(out, "fintech_ledger_double_credits {doubled}");
        }
    }
}
