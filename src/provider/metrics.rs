//! The provider's own small `/metrics`: requests by route and status, webhook deliveries by
//! result, and the injected knobs.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::knobs::{ALL, ProviderFailures};

#[derive(Debug, Default)]
pub struct ProviderMetrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    pub payments_created: AtomicU64,
    /// Webhook attempts answered 2xx.
    pub webhooks_delivered: AtomicU64,
    /// Attempts that failed and will be tried again.
    pub webhooks_retried: AtomicU64,
    /// Deliveries given up: refused (4xx) or out of attempts.
    pub webhooks_abandoned: AtomicU64,
    pub webhooks_duplicated: AtomicU64,
    pub webhooks_forged: AtomicU64,
}

impl ProviderMetrics {
    pub fn record(&self, route: &'static str, status: u16) {
        let mut requests = self
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *requests.entry((route, status)).or_default() += 1;
    }

    pub fn render(&self, failures: &ProviderFailures) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP provider_requests_total Requests to the payment API by route and status\n",
        );
        out.push_str("# TYPE provider_requests_total counter\n");
        {
            let requests = self
                .requests
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for ((route, status), count) in requests.iter() {
                let _ = writeln!(
                    out,
                    "provider_requests_total{{route=\"{route}\",status=\"{status}\"}} {count}"
                );
            }
        }
        let counter = |out: &mut String, name: &str, help: &str, value: &AtomicU64| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        };
        counter(
            &mut out,
            "provider_payments_created_total",
            "Payments created",
            &self.payments_created,
        );
        out.push_str(
            "# HELP provider_webhook_deliveries_total Webhook delivery attempts by result\n",
        );
        out.push_str("# TYPE provider_webhook_deliveries_total counter\n");
        for (result, value) in [
            ("delivered", &self.webhooks_delivered),
            ("retried", &self.webhooks_retried),
            ("abandoned", &self.webhooks_abandoned),
        ] {
            let _ = writeln!(
                out,
                "provider_webhook_deliveries_total{{result=\"{result}\"}} {}",
                value.load(Ordering::Relaxed)
            );
        }
        counter(
            &mut out,
            "provider_webhooks_duplicated_total",
            "Events sent twice (webhook_duplicate_rate)",
            &self.webhooks_duplicated,
        );
        counter(
            &mut out,
            "provider_webhooks_forged_total",
            "Events sent with a wrong signature (webhook_forged_rate)",
            &self.webhooks_forged,
        );
        out.push_str("# HELP provider_failure_injected Injected failure knobs (booleans as 0/1)\n");
        out.push_str("# TYPE provider_failure_injected gauge\n");
        for spec in &ALL {
            let _ = writeln!(
                out,
                "provider_failure_injected{{knob=\"{}\"}} {}",
                spec.name,
                failures.get(spec.knob)
            );
        }
        out
    }
}
