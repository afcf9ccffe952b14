//! The payment provider's signals from the sandbox's `/metrics`, computed over the same window
//! of scrapes as the rest (see [`super::scrape_window`]): what each scrape step added to the
//! dependency's counters, the gauges of the newest scrape, and the signals made of them.
//!
//! A target without the provider's series (the workshop service) gives none of these signals:
//! each one needs its own metric family in the newest scrape, so nothing reads as 0 there.
//!
//! `PaymentsPending` is a balance of the payment counters since the sandbox started: every
//! payment enters once as `pending` (created at the provider, its webhook awaited) or
//! `fallback_pending` (accepted while the provider was unreachable), and leaves once as
//! `succeeded` or `failed` (its webhook, or the provider refusing a fallback payment later).
//! `completed_late` marks a fallback payment created at the provider after all: it still waits
//! for its webhook, so it neither enters nor leaves. `error` payments were refused to the
//! client at once and never wait. Hence `pending + fallback_pending − succeeded − failed`.

use crate::signals::{Signal, UnixSeconds};
use crate::sources::exposition::MetricSample;

use super::scrape_window::histogram_quantile;

pub(super) const UPSTREAM_REQUESTS: &str = "fintech_upstream_requests_total";
pub(super) const UPSTREAM_BUCKET: &str = "fintech_upstream_latency_seconds_bucket";
pub(super) const RETRIES: &str = "fintech_retries_total";
pub(super) const PAYMENTS: &str = "fintech_payments_total";
pub(super) const WEBHOOKS: &str = "fintech_webhooks_total";
const UPSTREAM_UP: &str = "fintech_upstream_up";
const BREAKER_STATE: &str = "fintech_circuit_breaker_state";
const BULKHEAD_IN_USE: &str = "fintech_bulkhead_in_use";
const DOUBLE_CREDITS: &str = "fintech_ledger_double_credits";
/// The endpoint that must stay healthy while the payment path fails.
pub(super) const BALANCE_ENDPOINT: &str = "/api/balance";

/// The window of `max_over_time(fintech_circuit_breaker_state[1m])` in CircuitBreakerOpen.
const BREAKER_MAX_WINDOW_S: f64 = 60.0;

/// What the dependency's counters added in one scrape step.
#[derive(Debug, Clone, Default)]
pub(super) struct DependencyStep {
    balance_requests: f64,
    balance_errors: f64,
    balance_buckets: Vec<(f64, f64)>,
    upstream_calls: f64,
    upstream_failed: f64,
    upstream_buckets: Vec<(f64, f64)>,
    retries: f64,
    /// `failed` and `error`: the numerator of PaymentsFailing.
    payments_failed: f64,
    /// `pending`, `error` and `fallback_pending`: each payment once, when it is asked.
    payments_asked: f64,
    webhooks_rejected: f64,
    webhooks_duplicate: f64,
    /// The breaker's state at the step's end, for its highest state over a minute.
    breaker_state: Option<f64>,
}

/// The dependency's gauges in the newest scrape, and which counter families it had.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct DependencyGauges {
    upstream_up: Option<f64>,
    breaker_state: Option<f64>,
    bulkhead_in_use: Option<f64>,
    double_credits: Option<f64>,
    /// Payments entered minus payments settled, from the counters' totals.
    payments_waiting: Option<f64>,
    /// The `completed_late` counter's total.
    payments_completed_late: Option<f64>,
    has_upstream_calls: bool,
    has_retries: bool,
    has_webhooks: bool,
    has_payments: bool,
}

impl DependencyStep {
    /// Adds the increase of one counter series of the families above (the caller computes the
    /// increase, resets and all).
    pub(super) fn add_counter(&mut self, sample: &MetricSample, increase: f64) {
        match sample.name.as_str() {
            UPSTREAM_REQUESTS => {
                self.upstream_calls += increase;
                if sample.label("outcome") != Some("success") {
                    self.upstream_failed += increase;
                }
            }
            RETRIES => self.retries += increase,
            PAYMENTS => match sample.label("status") {
                Some("failed") => self.payments_failed += increase,
                Some("error") => {
                    self.payments_failed += increase;
                    self.payments_asked += increase;
                }
                Some("pending" | "fallback_pending") => self.payments_asked += increase,
                _ => {}
            },
            WEBHOOKS => match sample.label("result") {
                Some("rejected") => self.webhooks_rejected += increase,
                Some("duplicate") => self.webhooks_duplicate += increase,
                _ => {}
            },
            _ => {}
        }
    }

    /// One `fintech_requests_total` series' increase; counted when it is `/api/balance`'s.
    pub(super) fn add_request(&mut self, sample: &MetricSample, increase: f64, server_error: bool) {
        if sample.label("endpoint") == Some(BALANCE_ENDPOINT) {
            self.balance_requests += increase;
            if server_error {
                self.balance_errors += increase;
            }
        }
    }

    /// One latency bucket's increase: `/api/balance`'s request latency, or a provider call's.
    pub(super) fn add_bucket(&mut self, sample: &MetricSample, bound: f64, increase: f64) {
        if sample.name == UPSTREAM_BUCKET {
            super::scrape_window::add_to_bucket(&mut self.upstream_buckets, bound, increase);
        } else if sample.label("endpoint") == Some(BALANCE_ENDPOINT) {
            super::scrape_window::add_to_bucket(&mut self.balance_buckets, bound, increase);
        }
    }

    pub(super) fn set_breaker_state(&mut self, gauges: &DependencyGauges) {
        self.breaker_state = gauges.breaker_state;
    }
}

/// The name of the dependency's counter family `name` is (compared scrape by scrape), if any.
pub(super) fn counter_family(name: &str) -> Option<&'static str> {
    [UPSTREAM_REQUESTS, RETRIES, PAYMENTS, WEBHOOKS]
        .into_iter()
        .find(|family| *family == name)
}

impl DependencyGauges {
    /// Reads one sample of the newest scrape: gauges summed (the breaker and `up`: the worst
    /// and best of the upstreams, as the rules' `max` reads them), and which families exist.
    pub(super) fn read(&mut self, sample: &MetricSample) {
        let value = sample.value;
        match sample.name.as_str() {
            UPSTREAM_UP => {
                self.upstream_up = Some(self.upstream_up.map_or(value, |v| v.max(value)))
            }
            BREAKER_STATE => {
                self.breaker_state = Some(self.breaker_state.map_or(value, |v| v.max(value)));
            }
            BULKHEAD_IN_USE => add(&mut self.bulkhead_in_use, value),
            DOUBLE_CREDITS => add(&mut self.double_credits, value),
            UPSTREAM_REQUESTS => self.has_upstream_calls = true,
            RETRIES => self.has_retries = true,
            WEBHOOKS => self.has_webhooks = true,
            PAYMENTS => {
                self.has_payments = true;
                let sign = match sample.label("status") {
                    Some("pending" | "fallback_pending") => 1.0,
                    Some("succeeded" | "failed") => -1.0,
                    _ => 0.0,
                };
                add(&mut self.payments_waiting, sign * value);
                if sample.label("status") == Some("completed_late") {
                    add(&mut self.payments_completed_late, value);
                }
            }
            _ => {}
        }
    }
}

fn add(total: &mut Option<f64>, value: f64) {
    *total = Some(total.unwrap_or(0.0) + value);
}

/// The dependency's signals over a window: gauges of the newest scrape, and rates, ratios and
/// p95s over `steps` (`seconds` long; no rates when 0). A ratio without a denominator and a
/// quantile without observations are left out, as `ErrorRatio` is.
pub(super) fn window_signals<'a>(
    steps: impl Iterator<Item = &'a DependencyStep> + Clone,
    seconds: f64,
    gauges: &DependencyGauges,
) -> Vec<(Signal, f64)> {
    let mut signals: Vec<(Signal, f64)> = [
        (Signal::UpstreamUp, gauges.upstream_up),
        (Signal::BreakerState, gauges.breaker_state),
        (Signal::BulkheadInUse, gauges.bulkhead_in_use),
        (Signal::DoubleCredits, gauges.double_credits),
        (
            Signal::PaymentsPending,
            gauges.payments_waiting.map(|waiting| waiting.max(0.0)),
        ),
        (
            Signal::PaymentsCompletedLate,
            gauges.payments_completed_late,
        ),
    ]
    .into_iter()
    .filter_map(|(signal, value)| Some((signal, value?)))
    .collect();
    if seconds <= 0.0 {
        return signals;
    }
    let total = |field: fn(&DependencyStep) -> f64| steps.clone().map(field).sum::<f64>();
    let ratio = |part: f64, whole: f64| (whole > 0.0).then(|| part / whole);
    let p95 = |field: fn(&DependencyStep) -> &Vec<(f64, f64)>| {
        let mut buckets = Vec::new();
        for step in steps.clone() {
            for &(bound, increase) in field(step) {
                super::scrape_window::add_to_bucket(&mut buckets, bound, increase);
            }
        }
        Some(histogram_quantile(0.95, &buckets)).filter(|value| value.is_finite())
    };
    let calls = total(|s| s.upstream_calls);
    let has = |present: bool, value: f64| present.then_some(value);
    let computed = [
        (Signal::BalanceLatencyP95, p95(|s| &s.balance_buckets)),
        (
            Signal::BalanceErrorRatio,
            ratio(total(|s| s.balance_errors), total(|s| s.balance_requests)),
        ),
        (Signal::UpstreamLatencyP95, p95(|s| &s.upstream_buckets)),
        (
            Signal::UpstreamRps,
            has(gauges.has_upstream_calls, calls / seconds),
        ),
        (
            Signal::UpstreamErrorRatio,
            ratio(total(|s| s.upstream_failed), calls),
        ),
        (
            Signal::RetriesRate,
            has(gauges.has_retries, total(|s| s.retries) / seconds),
        ),
        (
            Signal::PaymentsFailedRatio,
            ratio(total(|s| s.payments_failed), total(|s| s.payments_asked)),
        ),
        (
            Signal::WebhooksRejectedRate,
            has(
                gauges.has_webhooks,
                total(|s| s.webhooks_rejected) / seconds,
            ),
        ),
        (
            Signal::WebhooksDuplicateRate,
            has(
                gauges.has_webhooks,
                total(|s| s.webhooks_duplicate) / seconds,
            ),
        ),
    ];
    signals.extend(
        computed
            .into_iter()
            .filter_map(|(signal, value)| Some((signal, value?))),
    );
    signals
}

/// What the dependency alert rules compare, over the rules' window (5 minutes): the breaker's
/// highest state over the last minute (the newest scrape's and every step's ending within it),
/// webhooks refused over the window (a count, `increase` without extrapolation), and the share
/// of payments failed as PaymentsFailing computes it.
pub(super) fn rule_signals<'a>(
    steps: impl Iterator<Item = (UnixSeconds, &'a DependencyStep)> + Clone,
    newest_at: UnixSeconds,
    seconds: f64,
    gauges: &DependencyGauges,
) -> Vec<(Signal, f64)> {
    let breaker_max = steps
        .clone()
        .filter(|(end_at, _)| *end_at > newest_at - BREAKER_MAX_WINDOW_S)
        .filter_map(|(_, step)| step.breaker_state)
        .chain(gauges.breaker_state)
        .reduce(f64::max);
    let mut signals = Vec::with_capacity(3);
    if let Some(state) = breaker_max {
        signals.push((Signal::BreakerStateMax1m, state));
    }
    if seconds <= 0.0 {
        return signals;
    }
    let total =
        |field: fn(&DependencyStep) -> f64| steps.clone().map(|(_, s)| field(s)).sum::<f64>();
    if gauges.has_webhooks {
        signals.push((Signal::WebhooksRejected5m, total(|s| s.webhooks_rejected)));
    }
    let asked = total(|s| s.payments_asked);
    if asked > 0.0 {
        signals.push((
            Signal::PaymentsFailedRatioOver5m,
            total(|s| s.payments_failed) / asked,
        ));
    }
    signals
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::signals::Signal;
    use crate::sources::exposition::parse;
    use crate::sources::scrape_window::ScrapeWindow;

    /// The sandbox's dependency series, as `upstream_metrics.rs` and the patterns write them.
    struct Provider {
        success: f64,
        timeout: f64,
        breaker_open: f64,
        fast: f64,
        slow: f64,
        retries: f64,
        breaker: f64,
        payments: [f64; 6],
        webhooks: [f64; 3],
    }

    fn exposition(p: &Provider) -> String {
        let mut text = String::new();
        for (outcome, count) in [
            ("success", p.success),
            ("timeout", p.timeout),
            ("breaker_open", p.breaker_open),
        ] {
            text.push_str(&format!(
                "fintech_upstream_requests_total{{upstream=\"provider\",outcome=\"{outcome}\"}} {count}\n"
            ));
        }
        for (le, count) in [
            ("0.1", p.fast),
            ("1.0", p.fast + p.slow),
            ("+Inf", p.fast + p.slow),
        ] {
            text.push_str(&format!(
                "fintech_upstream_latency_seconds_bucket{{upstream=\"provider\",le=\"{le}\"}} {count}\n"
            ));
        }
        text.push_str(&format!(
            "fintech_upstream_up{{upstream=\"provider\"}} 1\n\
             fintech_circuit_breaker_state{{upstream=\"provider\"}} {}\n\
             fintech_bulkhead_in_use{{upstream=\"provider\"}} 3\n\
             fintech_retries_total{{upstream=\"provider\"}} {}\n\
             fintech_ledger_double_credits 0\n",
            p.breaker, p.retries
        ));
        let statuses = [
            "pending",
            "succeeded",
            "failed",
            "error",
            "fallback_pending",
            "completed_late",
        ];
        for (status, count) in statuses.iter().zip(p.payments) {
            text.push_str(&format!(
                "fintech_payments_total{{status=\"{status}\"}} {count}\n"
            ));
        }
        for (result, count) in ["processed", "duplicate", "rejected"]
            .iter()
            .zip(p.webhooks)
        {
            text.push_str(&format!(
                "fintech_webhooks_total{{result=\"{result}\"}} {count}\n"
            ));
        }
        text
    }

    fn quiet() -> Provider {
        Provider {
            success: 100.0,
            timeout: 0.0,
            breaker_open: 0.0,
            fast: 100.0,
            slow: 0.0,
            retries: 4.0,
            breaker: 0.0,
            payments: [50.0, 40.0, 5.0, 2.0, 3.0, 1.0],
            webhooks: [45.0, 1.0, 0.0],
        }
    }

    fn push(window: &mut ScrapeWindow, at: f64, provider: &Provider) {
        window.push(at, &parse(&exposition(provider)).expect("valid exposition"));
    }

    fn value(signals: &[(Signal, f64)], wanted: Signal) -> Option<f64> {
        signals
            .iter()
            .find(|(signal, _)| *signal == wanted)
            .map(|(_, value)| *value)
    }

    fn close(actual: Option<f64>, expected: f64) {
        let actual = actual.expect("signal present");
        assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
    }

    #[test]
    fn provider_calls_payments_and_webhooks_over_the_window() {
        let mut window = ScrapeWindow::new(Duration::from_secs(15));
        let before = quiet();
        push(&mut window, 0.0, &before);
        // Gauges at once; no rates from one scrape.
        let first = window.dependency_signals();
        close(value(&first, Signal::UpstreamUp), 1.0);
        close(value(&first, Signal::BulkheadInUse), 3.0);
        close(value(&first, Signal::DoubleCredits), 0.0);
        // 50 + 3 entered, 40 + 5 settled; completed_late and error do not wait.
        close(value(&first, Signal::PaymentsPending), 8.0);
        close(value(&first, Signal::PaymentsCompletedLate), 1.0);
        assert_eq!(value(&first, Signal::UpstreamRps), None);
        // In 10 s: 20 calls (10 ok, 6 timed out, 4 refused by the breaker), 16 timed, 4 of
        // them slow; 5 retries; 10 payments asked (6 pending, 2 error, 2 fallback) and 3
        // failed; 2 webhooks refused and 1 duplicate.
        let after = Provider {
            success: 110.0,
            timeout: 6.0,
            breaker_open: 4.0,
            fast: 112.0,
            slow: 4.0,
            retries: 9.0,
            breaker: 2.0,
            payments: [56.0, 40.0, 6.0, 4.0, 5.0, 1.0],
            webhooks: [45.0, 2.0, 2.0],
        };
        push(&mut window, 10.0, &after);
        let signals = window.dependency_signals();
        close(value(&signals, Signal::UpstreamRps), 2.0);
        close(value(&signals, Signal::UpstreamErrorRatio), 10.0 / 20.0);
        close(value(&signals, Signal::RetriesRate), 0.5);
        close(value(&signals, Signal::BreakerState), 2.0);
        close(value(&signals, Signal::PaymentsFailedRatio), 3.0 / 10.0);
        close(value(&signals, Signal::WebhooksRejectedRate), 0.2);
        close(value(&signals, Signal::WebhooksDuplicateRate), 0.1);
        close(
            value(&signals, Signal::PaymentsPending),
            56.0 + 5.0 - 40.0 - 6.0,
        );
        close(value(&signals, Signal::PaymentsCompletedLate), 1.0);
        // 16 observations, 12 under 0.1 s: rank 15.2 falls in (0.1, 1.0].
        close(
            value(&signals, Signal::UpstreamLatencyP95),
            0.1 + 0.9 * (15.2 - 12.0) / 4.0,
        );
        let rules = window.dependency_rule_signals();
        close(value(&rules, Signal::BreakerStateMax1m), 2.0);
        close(value(&rules, Signal::WebhooksRejected5m), 2.0);
        close(value(&rules, Signal::PaymentsFailedRatioOver5m), 0.3);
    }

    #[test]
    fn without_calls_ratios_are_left_out_and_rates_are_zero() {
        let mut window = ScrapeWindow::new(Duration::from_secs(15));
        push(&mut window, 0.0, &quiet());
        push(&mut window, 1.0, &quiet());
        let signals = window.dependency_signals();
        close(value(&signals, Signal::UpstreamRps), 0.0);
        close(value(&signals, Signal::WebhooksRejectedRate), 0.0);
        assert_eq!(value(&signals, Signal::UpstreamErrorRatio), None);
        assert_eq!(value(&signals, Signal::PaymentsFailedRatio), None);
        assert_eq!(value(&signals, Signal::UpstreamLatencyP95), None);
        let rules = window.dependency_rule_signals();
        close(value(&rules, Signal::WebhooksRejected5m), 0.0);
        assert_eq!(value(&rules, Signal::PaymentsFailedRatioOver5m), None);
    }

    #[test]
    fn the_breaker_reads_its_highest_state_over_the_last_minute() {
        let mut window = ScrapeWindow::new(Duration::from_secs(300));
        let mut provider = quiet();
        for (at, state) in [(0.0, 0.0), (10.0, 2.0), (20.0, 1.0), (30.0, 0.0)] {
            provider.breaker = state;
            push(&mut window, at, &provider);
        }
        let max = |window: &ScrapeWindow| {
            value(&window.dependency_rule_signals(), Signal::BreakerStateMax1m)
        };
        close(max(&window), 2.0);
        // Open within the minute; half-open once the minute has passed the open scrape; closed
        // once it has passed the half-open one too.
        push(&mut window, 69.0, &provider);
        close(max(&window), 2.0);
        push(&mut window, 71.0, &provider);
        close(max(&window), 1.0);
        push(&mut window, 81.0, &provider);
        close(max(&window), 0.0);
        close(
            value(&window.dependency_signals(), Signal::BreakerState),
            0.0,
        );
    }

    #[test]
    fn a_target_without_the_provider_gives_none_of_its_signals() {
        let workshop = "fintech_requests_total{endpoint=\"/api/transfer\",method=\"POST\",status=\"200\"} 5\n\
                        fintech_active_transactions 1\n";
        let mut window = ScrapeWindow::new(Duration::from_secs(15));
        for at in [0.0, 1.0, 2.0] {
            window.push(at, &parse(workshop).expect("valid"));
        }
        assert_eq!(window.dependency_signals(), Vec::new());
        assert_eq!(window.dependency_rule_signals(), Vec::new());
    }

    #[test]
    fn balance_alone_has_its_latency_and_errors() {
        let text = |ok: f64, failed: f64, slow: f64| {
            format!(
                "fintech_requests_total{{endpoint=\"/api/balance\",method=\"GET\",status=\"200\"}} {ok}\n\
                 fintech_requests_total{{endpoint=\"/api/balance\",method=\"GET\",status=\"503\"}} {failed}\n\
                 fintech_requests_total{{endpoint=\"/api/payments\",method=\"POST\",status=\"502\"}} {failed}\n\
                 fintech_request_latency_seconds_bucket{{endpoint=\"/api/balance\",le=\"0.5\"}} 0\n\
                 fintech_request_latency_seconds_bucket{{endpoint=\"/api/balance\",le=\"+Inf\"}} {slow}\n\
                 fintech_request_latency_seconds_bucket{{endpoint=\"/api/payments\",le=\"0.5\"}} {ok}\n\
                 fintech_request_latency_seconds_bucket{{endpoint=\"/api/payments\",le=\"+Inf\"}} {ok}\n"
            )
        };
        let mut window = ScrapeWindow::new(Duration::from_secs(15));
        window.push(0.0, &parse(&text(10.0, 0.0, 0.0)).expect("valid"));
        window.push(1.0, &parse(&text(19.0, 1.0, 10.0)).expect("valid"));
        let signals = window.dependency_signals();
        close(value(&signals, Signal::BalanceErrorRatio), 0.1);
        // All of /api/balance's observations are above 0.5 s: the highest finite bound.
        close(value(&signals, Signal::BalanceLatencyP95), 0.5);
    }
}
