//! Alert rules over signals, evaluated locally with Prometheus's semantics when there is no
//! Prometheus to ask; and [`AlertStatus`], which the Prometheus source (reading
//! `/api/v1/alerts`) produces too, so panels and drills see alerts the same way from either.
//!
//! Prometheus's lifecycle, which the participants learn from: an alert whose condition holds
//! turns *pending*; if it keeps holding for the rule's `for` it turns *firing*; as soon as the
//! condition stops holding (or the signal has no value) it is *inactive* again. A pending alert
//! that never fired leaves nothing behind; a firing one is resolved.

use std::fmt;
use std::time::Duration;

use crate::signals::{Signal, UnixSeconds};

/// How urgent an alert is: the rule's `severity` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Severity {
    #[default]
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// Reads a `severity` label as Prometheus reports it (case-insensitive).
    pub fn from_label(label: &str) -> Option<Severity> {
        [Severity::Warning, Severity::Critical]
            .into_iter()
            .find(|severity| label.eq_ignore_ascii_case(severity.as_str()))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an alert is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AlertState {
    #[default]
    Inactive,
    Pending,
    Firing,
}

impl AlertState {
    /// The name Prometheus's API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }

    /// Reads the `state` of an alert from Prometheus's API.
    pub fn from_api(state: &str) -> Option<AlertState> {
        [
            AlertState::Inactive,
            AlertState::Pending,
            AlertState::Firing,
        ]
        .into_iter()
        .find(|candidate| state == candidate.as_str())
    }
}

impl fmt::Display for AlertState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which side of the threshold is alarming. Strict, as PromQL's `>` and `<` are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Comparison {
    #[default]
    Above,
    Below,
}

impl Comparison {
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Above => value > threshold,
            Comparison::Below => value < threshold,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Above => ">",
            Comparison::Below => "<",
        }
    }
}

/// `signal <comparison> threshold` held for `for_duration`. Public and plain so that a case
/// file can add rules of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    pub name: String,
    pub signal: Signal,
    pub comparison: Comparison,
    pub threshold: f64,
    pub for_duration: Duration,
    pub severity: Severity,
}

impl AlertRule {
    /// A rule that alerts while `signal > threshold`, the shape of all the workshop's rules.
    pub fn above(
        name: impl Into<String>,
        signal: Signal,
        threshold: f64,
        for_duration: Duration,
        severity: Severity,
    ) -> Self {
        AlertRule {
            name: name.into(),
            signal,
            comparison: Comparison::Above,
            threshold,
            for_duration,
            severity,
        }
    }

    /// A rule that alerts while `signal < threshold`.
    pub fn below(
        name: impl Into<String>,
        signal: Signal,
        threshold: f64,
        for_duration: Duration,
        severity: Severity,
    ) -> Self {
        AlertRule {
            comparison: Comparison::Below,
            ..AlertRule::above(name, signal, threshold, for_duration, severity)
        }
    }

    /// Whether `value` is on the alarming side. NaN never is, as in PromQL.
    pub fn holds(&self, value: f64) -> bool {
        self.comparison.holds(value, self.threshold)
    }
}

/// The workshop's four alert rules (`prometheus.rules.yml`), over our signals, with the
/// workshop's windows (p95 and error ratio over 5 minutes) and `for` durations, so a rule of
/// the same name fires when the workshop's would. The workshop's expressions have no
/// `sum by (le)`; ours are aggregated over endpoints, which is what they mean with the single
/// endpoint each case drives.
///
/// Then the dependency's four (`assets/prometheus/rules.yml`, `fintech-dependency-alert-rules`).
/// Their `== 0` and `== 2` compare gauges that only take the values 0/1 and 0/1/2, so `< 1`
/// and `> 1` say the same. A target without the provider gives their signals no value, and a
/// rule without a value stays inactive.
pub fn workshop_rules() -> Vec<AlertRule> {
    let minute = Duration::from_secs(60);
    vec![
        AlertRule::above(
            "HighLatency",
            Signal::LatencyP95Over5m,
            2.0,
            minute,
            Severity::Warning,
        ),
        AlertRule::above(
            "HighErrorRate",
            Signal::ErrorRatioOver5m,
            0.1,
            minute,
            Severity::Warning,
        ),
        AlertRule::above(
            "DBSlowTransactions",
            Signal::ActiveTransactions,
            10.0,
            2 * minute,
            Severity::Warning,
        ),
        AlertRule::above(
            "MemoryPressure",
            Signal::MemoryBytes,
            450e6,
            minute,
            Severity::Critical,
        ),
        AlertRule::below(
            "ProviderDown",
            Signal::UpstreamUp,
            1.0,
            Duration::from_secs(30),
            Severity::Critical,
        ),
        AlertRule::above(
            "CircuitBreakerOpen",
            Signal::BreakerStateMax1m,
            1.0,
            Duration::from_secs(15),
            Severity::Warning,
        ),
        AlertRule::above(
            "WebhookSignatureFailures",
            Signal::WebhooksRejected5m,
            0.0,
            Duration::ZERO,
            Severity::Critical,
        ),
        AlertRule::above(
            "PaymentsFailing",
            Signal::PaymentsFailedRatioOver5m,
            0.1,
            minute,
            Severity::Warning,
        ),
    ]
}

/// The dependency's alert rules: a target without a payment provider never fires them, so the
/// alerts panel leaves them out there while they are inactive.
pub const DEPENDENCY_ALERTS: [&str; 4] = [
    "ProviderDown",
    "CircuitBreakerOpen",
    "WebhookSignatureFailures",
    "PaymentsFailing",
];

/// One alert as the screen shows it, from local rules or from Prometheus.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertStatus {
    pub name: String,
    pub severity: Severity,
    pub state: AlertState,
    /// When the condition started holding (Prometheus's `activeAt`); `None` when inactive.
    pub active_since: Option<UnixSeconds>,
    /// When the alert last turned firing; kept after it resolves (see
    /// [`LocalAlerts::resolved_at`]), cleared when a new episode starts pending.
    pub fired_at: Option<UnixSeconds>,
    /// The signal's value at the last evaluation, whatever the state (so a panel can show how
    /// far from the threshold it is); `None` when the signal had no value.
    pub value: Option<f64>,
    /// The rule's `for`, in seconds: how long it must pend before it fires.
    pub for_seconds: Option<f64>,
}

impl AlertStatus {
    /// Pending or firing.
    pub fn is_active(&self) -> bool {
        self.state != AlertState::Inactive
    }
}

/// Local evaluation of a set of rules, one status per rule in the rules' order.
#[derive(Debug, Clone)]
pub struct LocalAlerts {
    rules: Vec<AlertRule>,
    statuses: Vec<AlertStatus>,
    /// Per rule, when its last firing episode resolved. Kept beside the statuses because
    /// Prometheus's alerts API has no such field for its source to fill.
    resolved_at: Vec<Option<UnixSeconds>>,
    last_evaluated_at: Option<UnixSeconds>,
}

impl LocalAlerts {
    pub fn new(rules: Vec<AlertRule>) -> Self {
        let statuses = rules
            .iter()
            .map(|rule| AlertStatus {
                name: rule.name.clone(),
                severity: rule.severity,
                for_seconds: Some(rule.for_duration.as_secs_f64()),
                ..AlertStatus::default()
            })
            .collect();
        LocalAlerts {
            resolved_at: vec![None; rules.len()],
            rules,
            statuses,
            last_evaluated_at: None,
        }
    }

    /// The workshop's four rules and the dependency's four.
    pub fn workshop() -> Self {
        LocalAlerts::new(workshop_rules())
    }

    pub fn rules(&self) -> &[AlertRule] {
        &self.rules
    }

    pub fn statuses(&self) -> &[AlertStatus] {
        &self.statuses
    }

    pub fn status(&self, name: &str) -> Option<&AlertStatus> {
        self.statuses.iter().find(|status| status.name == name)
    }

    /// When the named alert's last firing ended; `None` while it fires again or pends anew.
    pub fn resolved_at(&self, name: &str) -> Option<UnixSeconds> {
        let index = self
            .statuses
            .iter()
            .position(|status| status.name == name)?;
        self.resolved_at.get(index).copied().flatten()
    }

    pub fn firing(&self) -> impl Iterator<Item = &AlertStatus> {
        self.statuses
            .iter()
            .filter(|status| status.state == AlertState::Firing)
    }

    /// Evaluates every rule at time `at` against the signals' current values. Call it on a
    /// regular tick (Prometheus does every 15 s, we can every second): a `for` is only noticed
    /// to have passed at an evaluation. An evaluation earlier than the previous one is ignored.
    pub fn evaluate(&mut self, at: UnixSeconds, value_of: impl Fn(Signal) -> Option<f64>) {
        if !at.is_finite() || self.last_evaluated_at.is_some_and(|last| at < last) {
            return;
        }
        self.last_evaluated_at = Some(at);
        let rules_and_state = self
            .rules
            .iter()
            .zip(&mut self.statuses)
            .zip(&mut self.resolved_at);
        for ((rule, status), resolved_at) in rules_and_state {
            let value = value_of(rule.signal).filter(|value| !value.is_nan());
            status.value = value;
            let holds = value.is_some_and(|value| rule.holds(value));
            match (status.state, holds) {
                (AlertState::Inactive, true) => {
                    status.state = AlertState::Pending;
                    status.active_since = Some(at);
                    status.fired_at = None;
                    *resolved_at = None;
                }
                (AlertState::Pending, false) => {
                    status.state = AlertState::Inactive;
                    status.active_since = None;
                }
                (AlertState::Firing, false) => {
                    status.state = AlertState::Inactive;
                    status.active_since = None;
                    *resolved_at = Some(at);
                }
                (AlertState::Inactive, false)
                | (AlertState::Pending, true)
                | (AlertState::Firing, true) => {}
            }
            // In the same evaluation as turning pending, so `for: 0` fires at once, as in
            // Prometheus.
            if status.state == AlertState::Pending
                && status
                    .active_since
                    .is_some_and(|since| held_for(since, at, rule.for_duration))
            {
                status.state = AlertState::Firing;
                status.fired_at = Some(at);
            }
        }
    }
}

/// Whether `since..at` lasts at least `hold`, compared in whole milliseconds as Prometheus's
/// timestamps are, so that float rounding of Unix times (`t + 60 - t = 59.99999`) does not
/// delay firing by a whole evaluation.
fn held_for(since: UnixSeconds, at: UnixSeconds, hold: Duration) -> bool {
    ((at - since) * 1000.0).round() >= hold.as_millis() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixSeconds = 1_795_323_325.98;

    /// One rule, `p95 > 2 s for 1m`, evaluated with `value` at `T0 + offset`.
    fn high_latency() -> LocalAlerts {
        LocalAlerts::new(vec![AlertRule::above(
            "HighLatency",
            Signal::LatencyP95,
            2.0,
            Duration::from_secs(60),
            Severity::Warning,
        )])
    }

    fn step(alerts: &mut LocalAlerts, offset: f64, value: Option<f64>) -> AlertStatus {
        alerts.evaluate(T0 + offset, |signal| {
            assert_eq!(signal, Signal::LatencyP95);
            value
        });
        alerts.statuses()[0].clone()
    }

    #[test]
    fn workshop_rules_match_the_workshop_file() {
        let rules = workshop_rules();
        let summary: Vec<(&str, Signal, Comparison, f64, u64, Severity)> = rules
            .iter()
            .map(|rule| {
                (
                    rule.name.as_str(),
                    rule.signal,
                    rule.comparison,
                    rule.threshold,
                    rule.for_duration.as_secs(),
                    rule.severity,
                )
            })
            .collect();
        use Comparison::{Above, Below};
        use Severity::{Critical, Warning};
        assert_eq!(
            summary,
            vec![
                (
                    "HighLatency",
                    Signal::LatencyP95Over5m,
                    Above,
                    2.0,
                    60,
                    Warning
                ),
                (
                    "HighErrorRate",
                    Signal::ErrorRatioOver5m,
                    Above,
                    0.1,
                    60,
                    Warning
                ),
                (
                    "DBSlowTransactions",
                    Signal::ActiveTransactions,
                    Above,
                    10.0,
                    120,
                    Warning
                ),
                (
                    "MemoryPressure",
                    Signal::MemoryBytes,
                    Above,
                    450e6,
                    60,
                    Critical
                ),
                ("ProviderDown", Signal::UpstreamUp, Below, 1.0, 30, Critical),
                (
                    "CircuitBreakerOpen",
                    Signal::BreakerStateMax1m,
                    Above,
                    1.0,
                    15,
                    Warning
                ),
                (
                    "WebhookSignatureFailures",
                    Signal::WebhooksRejected5m,
                    Above,
                    0.0,
                    0,
                    Critical
                ),
                (
                    "PaymentsFailing",
                    Signal::PaymentsFailedRatioOver5m,
                    Above,
                    0.1,
                    60,
                    Warning
                ),
            ]
        );
        let alerts = LocalAlerts::workshop();
        assert_eq!(alerts.statuses().len(), 8);
        assert_eq!(
            alerts
                .status("MemoryPressure")
                .map(|s| (s.severity, s.state)),
            Some((Severity::Critical, AlertState::Inactive))
        );
    }

    /// Each alert of `assets/prometheus/rules.yml` as `(name, for in seconds, severity)`,
    /// read line by line (the file's own layout: `- alert:`, then `for:` and `severity:`).
    fn rules_file_alerts() -> Vec<(String, u64, String)> {
        let mut alerts: Vec<(String, u64, String)> = Vec::new();
        for line in include_str!("../assets/prometheus/rules.yml").lines() {
            let line = line.trim();
            if let Some(name) = line.strip_prefix("- alert:") {
                alerts.push((name.trim().to_string(), 0, String::new()));
            } else if let (Some(hold), Some(last)) = (line.strip_prefix("for:"), alerts.last_mut())
            {
                let hold = hold.trim();
                last.1 = match hold.strip_suffix('m') {
                    Some(minutes) => 60 * minutes.parse::<u64>().expect("minutes"),
                    None => hold.trim_end_matches('s').parse().expect("seconds"),
                };
            } else if let (Some(severity), Some(last)) =
                (line.strip_prefix("severity:"), alerts.last_mut())
            {
                last.2 = severity.trim().to_string();
            }
        }
        alerts
    }

    #[test]
    fn local_rules_have_the_rules_files_names_holds_and_severities() {
        let from_file = rules_file_alerts();
        let local: Vec<(String, u64, String)> = workshop_rules()
            .into_iter()
            .map(|rule| {
                (
                    rule.name,
                    rule.for_duration.as_secs(),
                    rule.severity.as_str().to_string(),
                )
            })
            .collect();
        assert_eq!(local, from_file);
    }

    #[test]
    fn dependency_rules_fire_on_their_signals_and_stay_inactive_without_them() {
        let mut alerts = LocalAlerts::workshop();
        let state = |alerts: &LocalAlerts, name: &str| alerts.status(name).map(|s| s.state);
        // The workshop service: no provider signals at all.
        alerts.evaluate(T0, |_| None);
        alerts.evaluate(T0 + 120.0, |_| None);
        for name in [
            "ProviderDown",
            "CircuitBreakerOpen",
            "WebhookSignatureFailures",
            "PaymentsFailing",
        ] {
            assert_eq!(state(&alerts, name), Some(AlertState::Inactive), "{name}");
        }
        let down = |signal: Signal| match signal {
            Signal::UpstreamUp => Some(0.0),
            Signal::BreakerStateMax1m => Some(2.0),
            Signal::WebhooksRejected5m => Some(1.0),
            Signal::PaymentsFailedRatioOver5m => Some(0.05),
            _ => None,
        };
        alerts.evaluate(T0 + 200.0, down);
        // No `for`: one forged webhook fires at once.
        assert_eq!(
            state(&alerts, "WebhookSignatureFailures"),
            Some(AlertState::Firing)
        );
        assert_eq!(state(&alerts, "ProviderDown"), Some(AlertState::Pending));
        alerts.evaluate(T0 + 215.0, down);
        assert_eq!(
            state(&alerts, "CircuitBreakerOpen"),
            Some(AlertState::Firing)
        );
        assert_eq!(state(&alerts, "ProviderDown"), Some(AlertState::Pending));
        alerts.evaluate(T0 + 230.0, down);
        assert_eq!(state(&alerts, "ProviderDown"), Some(AlertState::Firing));
        // 5 % of payments failing is under the rule's 10 %.
        assert_eq!(
            state(&alerts, "PaymentsFailing"),
            Some(AlertState::Inactive)
        );
        // Half-open is not open; the provider answering again resolves ProviderDown.
        alerts.evaluate(T0 + 240.0, |signal| match signal {
            Signal::UpstreamUp => Some(1.0),
            Signal::BreakerStateMax1m => Some(1.0),
            _ => None,
        });
        assert_eq!(state(&alerts, "ProviderDown"), Some(AlertState::Inactive));
        assert_eq!(
            state(&alerts, "CircuitBreakerOpen"),
            Some(AlertState::Inactive)
        );
    }

    #[test]
    fn pending_then_firing_after_for_then_resolved() {
        let mut alerts = high_latency();
        let status = step(&mut alerts, 0.0, Some(0.3));
        assert_eq!(
            (status.state, status.value),
            (AlertState::Inactive, Some(0.3))
        );
        let status = step(&mut alerts, 1.0, Some(2.5));
        assert_eq!(status.state, AlertState::Pending);
        assert_eq!(status.active_since, Some(T0 + 1.0));
        assert_eq!(
            step(&mut alerts, 60.0, Some(2.5)).state,
            AlertState::Pending
        );
        let status = step(&mut alerts, 61.0, Some(3.0));
        assert_eq!(status.state, AlertState::Firing);
        assert_eq!(status.fired_at, Some(T0 + 61.0));
        assert_eq!(status.active_since, Some(T0 + 1.0));
        assert_eq!(alerts.firing().count(), 1);
        let status = step(&mut alerts, 90.0, Some(2.1));
        assert_eq!(
            (status.state, status.fired_at),
            (AlertState::Firing, Some(T0 + 61.0))
        );
        let status = step(&mut alerts, 91.0, Some(0.4));
        assert_eq!(status.state, AlertState::Inactive);
        assert_eq!(status.active_since, None);
        assert_eq!(status.fired_at, Some(T0 + 61.0));
        assert_eq!(alerts.resolved_at("HighLatency"), Some(T0 + 91.0));
        assert!(!status.is_active());
        // A new episode starts clean.
        let status = step(&mut alerts, 120.0, Some(5.0));
        assert_eq!(status.state, AlertState::Pending);
        assert_eq!(status.fired_at, None);
        assert_eq!(alerts.resolved_at("HighLatency"), None);
    }

    #[test]
    fn threshold_is_strict() {
        let mut alerts = high_latency();
        assert_eq!(
            step(&mut alerts, 0.0, Some(2.0)).state,
            AlertState::Inactive
        );
        assert_eq!(
            step(&mut alerts, 1.0, Some(2.000_001)).state,
            AlertState::Pending
        );
    }

    #[test]
    fn flapping_around_the_threshold_never_fires() {
        let mut alerts = high_latency();
        for tick in 0..20 {
            let offset = 15.0 * f64::from(tick);
            let above = tick % 4 != 3; // true for 45 s, then one evaluation below
            let status = step(&mut alerts, offset, Some(if above { 2.2 } else { 1.9 }));
            if above {
                assert_eq!(status.state, AlertState::Pending, "at {offset}");
                let episode_start = 15.0 * f64::from(tick - tick % 4);
                assert_eq!(status.active_since, Some(T0 + episode_start));
            } else {
                assert_eq!(status.state, AlertState::Inactive, "at {offset}");
                assert_eq!(alerts.resolved_at("HighLatency"), None);
            }
            assert_eq!(status.fired_at, None);
        }
    }

    #[test]
    fn missing_data_ends_pending_and_resolves_firing() {
        let mut alerts = high_latency();
        step(&mut alerts, 0.0, Some(3.0));
        let status = step(&mut alerts, 30.0, None);
        assert_eq!((status.state, status.value), (AlertState::Inactive, None));
        step(&mut alerts, 40.0, Some(3.0));
        assert_eq!(
            step(&mut alerts, 100.0, Some(3.0)).state,
            AlertState::Firing
        );
        let status = step(&mut alerts, 101.0, Some(f64::NAN));
        assert_eq!(status.state, AlertState::Inactive);
        assert_eq!(status.value, None);
        assert_eq!(alerts.resolved_at("HighLatency"), Some(T0 + 101.0));
        assert_eq!(alerts.resolved_at("NoSuchAlert"), None);
    }

    #[test]
    fn fires_at_the_first_evaluation_after_for_even_with_float_times() {
        // Prometheus 2.42 (`promtool test rules`, `p95 > 2` for 1m, evaluated every 15 s, p95
        // at 0 then 3 from 30 s) has the alert firing at 1m30s and not yet at 1m15s.
        let mut alerts = high_latency();
        for (offset, value, expected) in [
            (0.0, 0.0, AlertState::Inactive),
            (15.0, 0.0, AlertState::Inactive),
            (30.0, 3.0, AlertState::Pending),
            (45.0, 3.0, AlertState::Pending),
            (75.0, 3.0, AlertState::Pending),
            (90.0, 3.0, AlertState::Firing),
            (105.0, 3.0, AlertState::Firing),
        ] {
            let status = step(&mut alerts, offset, Some(value));
            assert_eq!(status.state, expected, "at {offset}");
        }
        assert_eq!(alerts.statuses()[0].active_since, Some(T0 + 30.0));
        assert_eq!(alerts.statuses()[0].fired_at, Some(T0 + 90.0));
        // With a late tick, it fires at that tick.
        let mut late = high_latency();
        step(&mut late, 0.0, Some(2.5));
        step(&mut late, 59.0, Some(2.5));
        assert_eq!(step(&mut late, 75.0, Some(2.5)).fired_at, Some(T0 + 75.0));
        // Float noise below a millisecond does not hold firing back; a real shortfall does.
        let minute = Duration::from_secs(60);
        assert!(held_for(T0 + 0.1, T0 + 0.1 + 59.999_999_9, minute));
        assert!(!held_for(T0, T0 + 59.998, minute));
    }

    #[test]
    fn for_zero_fires_at_once_and_below_rules_work() {
        let mut alerts = LocalAlerts::new(vec![AlertRule {
            name: "ServiceDown".into(),
            signal: Signal::Up,
            comparison: Comparison::Below,
            threshold: 1.0,
            for_duration: Duration::ZERO,
            severity: Severity::Critical,
        }]);
        alerts.evaluate(T0, |_| Some(1.0));
        assert_eq!(alerts.statuses()[0].state, AlertState::Inactive);
        alerts.evaluate(T0 + 1.0, |_| Some(0.0));
        let status = &alerts.statuses()[0];
        assert_eq!(status.state, AlertState::Firing);
        assert_eq!(
            (status.active_since, status.fired_at),
            (Some(T0 + 1.0), Some(T0 + 1.0))
        );
    }

    #[test]
    fn each_rule_reads_its_own_signal() {
        let mut alerts = LocalAlerts::workshop();
        let values = |signal: Signal| match signal {
            Signal::ActiveTransactions => Some(12.0),
            Signal::MemoryBytes => Some(300e6),
            _ => None,
        };
        alerts.evaluate(T0, values);
        alerts.evaluate(T0 + 120.0, values);
        let states: Vec<(&str, AlertState)> = alerts
            .statuses()
            .iter()
            .map(|status| (status.name.as_str(), status.state))
            .collect();
        assert_eq!(
            states,
            vec![
                ("HighLatency", AlertState::Inactive),
                ("HighErrorRate", AlertState::Inactive),
                ("DBSlowTransactions", AlertState::Firing),
                ("MemoryPressure", AlertState::Inactive),
                ("ProviderDown", AlertState::Inactive),
                ("CircuitBreakerOpen", AlertState::Inactive),
                ("WebhookSignatureFailures", AlertState::Inactive),
                ("PaymentsFailing", AlertState::Inactive),
            ]
        );
        assert_eq!(
            alerts.status("MemoryPressure").and_then(|s| s.value),
            Some(300e6)
        );
    }

    #[test]
    fn an_evaluation_back_in_time_is_ignored() {
        let mut alerts = high_latency();
        step(&mut alerts, 10.0, Some(3.0));
        let status = step(&mut alerts, 5.0, Some(0.1));
        assert_eq!(status.state, AlertState::Pending);
        assert_eq!(status.value, Some(3.0));
    }

    #[test]
    fn names_round_trip_with_prometheus_api() {
        for state in [
            AlertState::Inactive,
            AlertState::Pending,
            AlertState::Firing,
        ] {
            assert_eq!(AlertState::from_api(state.as_str()), Some(state));
        }
        assert_eq!(AlertState::from_api("resolved"), None);
        assert_eq!(Severity::from_label("CRITICAL"), Some(Severity::Critical));
        assert_eq!(Severity::from_label("warning"), Some(Severity::Warning));
        assert_eq!(Severity::from_label("page"), None);
        assert!(Severity::Critical > Severity::Warning);
        assert_eq!(Comparison::Below.symbol(), "<");
        assert_eq!(Severity::Critical.to_string(), "critical");
    }
}
