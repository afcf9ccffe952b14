//! A case against the target it will run on: what the target must export, accept and alert
//! on for the case to show what it is about. `gameday cases validate --api …` runs it on every
//! case; the drill runs it at start. Pure: the caller learns the target.

use std::collections::BTreeSet;

use super::case::{Case, FailureBody};
use super::validate::ProblemSeverity;
use crate::fincore::presets::Capabilities;
use crate::load::Endpoint;
use crate::signals::Signal;

/// What a target offers, as learnt from it.
#[derive(Debug, Clone, Default)]
pub struct TargetProfile {
    /// What its failure state takes.
    pub capabilities: Capabilities,
    /// The metric families its `/metrics` exports; `None` when not known (a drill starting
    /// before the first scrape), taken as all there.
    pub metrics: Option<BTreeSet<String>>,
    /// Memory, its limit and restarts come from Docker or the embedded supervisor.
    pub memory_source: bool,
    /// The alert rules Prometheus evaluates; `None` when gameday evaluates its own.
    pub alert_rules: Option<Vec<String>>,
}

/// One thing a case needs that the target does not give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: ProblemSeverity,
    pub message: String,
}

/// What each signal is computed from: a metric family, or the memory source.
fn source_of(signal: Signal) -> Option<&'static str> {
    match signal {
        Signal::LatencyP50 | Signal::LatencyP95 | Signal::LatencyP99 | Signal::LatencyP95Over5m => {
            Some("fintech_request_latency_seconds_bucket")
        }
        Signal::Rps | Signal::ErrorRatio | Signal::ErrorRatioOver5m => {
            Some("fintech_requests_total")
        }
        Signal::ActiveTransactions => Some("fintech_active_transactions"),
        Signal::PoolInUse | Signal::PoolIdle => Some("fintech_db_pool_connections"),
        Signal::QueuedRequests => Some("fintech_queued_requests"),
        Signal::MemoryBytes => Some("process_resident_memory_bytes"),
        Signal::CpuCores => Some("process_cpu_seconds_total"),
        Signal::BalanceLatencyP95 => Some("fintech_request_latency_seconds_bucket"),
        Signal::BalanceErrorRatio => Some("fintech_requests_total"),
        Signal::UpstreamUp => Some("fintech_upstream_up"),
        Signal::UpstreamLatencyP95 => Some("fintech_upstream_latency_seconds_bucket"),
        Signal::UpstreamRps | Signal::UpstreamErrorRatio => Some("fintech_upstream_requests_total"),
        Signal::BreakerState | Signal::BreakerStateMax1m => Some("fintech_circuit_breaker_state"),
        Signal::BulkheadInUse => Some("fintech_bulkhead_in_use"),
        Signal::RetriesRate => Some("fintech_retries_total"),
        Signal::PaymentsFailedRatio
        | Signal::PaymentsPending
        | Signal::PaymentsCompletedLate
        | Signal::PaymentsFailedRatioOver5m => Some("fintech_payments_total"),
        Signal::WebhooksRejectedRate
        | Signal::WebhooksDuplicateRate
        | Signal::WebhooksRejected5m => Some("fintech_webhooks_total"),
        Signal::DoubleCredits => Some("fintech_ledger_double_credits"),
        Signal::MemoryLimitBytes | Signal::Restarts | Signal::Up => None,
    }
}

fn can_produce(target: &TargetProfile, signal: Signal) -> bool {
    match signal {
        Signal::Up => true,
        Signal::MemoryLimitBytes | Signal::Restarts => target.memory_source,
        Signal::MemoryBytes | Signal::CpuCores if target.memory_source => true,
        other => source_of(other).is_some_and(|family| {
            target
                .metrics
                .as_ref()
                .is_none_or(|metrics| metrics.contains(family))
        }),
    }
}

fn why_missing(signal: Signal) -> String {
    match source_of(signal) {
        Some(family) => format!("the target exports no `{family}`"),
        None => "it needs Docker (--docker) or the embedded sandbox".to_string(),
    }
}

/// Every problem of `case` on `target`: errors where the drill could not inject or verify
/// recovery, warnings where part of what it teaches would not show. `planned` is the failure
/// body the drill would send there (`Case::plan_injection`), if any.
pub fn check_against(
    case: &Case,
    planned: Option<&FailureBody>,
    target: &TargetProfile,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut error = |message: String| {
        findings.push(Finding {
            severity: ProblemSeverity::Error,
            message,
        })
    };
    if let Some(failures) = planned {
        for knob in failures.knobs.keys() {
            if let Some(refusal) = target.capabilities.refusal(knob.name()) {
                error(format!("cannot inject {refusal}"));
            }
        }
    }
    for signal in &case.recovery.signals {
        if !can_produce(target, *signal) {
            error(format!(
                "recovery signal {signal} cannot be measured: {}",
                why_missing(*signal)
            ));
        }
    }
    let mut warn = |message: String| {
        findings.push(Finding {
            severity: ProblemSeverity::Warning,
            message,
        })
    };
    for watched in &case.signals {
        let signal = watched.condition.signal;
        if !case.recovery.signals.contains(&signal) && !can_produce(target, signal) {
            warn(format!(
                "signal {signal} will show nothing: {}",
                why_missing(signal)
            ));
        }
    }
    let local_rules: Vec<String> = crate::alerts::workshop_rules()
        .into_iter()
        .map(|rule| rule.name)
        .collect();
    let rules = target.alert_rules.as_ref().unwrap_or(&local_rules);
    for alert in &case.alerts {
        if !rules.contains(alert) {
            warn(format!(
                "alert {alert} is not a rule of this target: it can never fire"
            ));
        } else if target.alert_rules.is_none()
            && let Some(rule) = crate::alerts::workshop_rules()
                .into_iter()
                .find(|rule| &rule.name == alert)
            && !can_produce(target, rule.signal)
        {
            warn(format!(
                "alert {alert} can never fire: {} ({})",
                why_missing(rule.signal),
                rule.signal
            ));
        }
    }
    // The workshop service counts a transaction only inside `/api/transfer`; the sandbox counts
    // every request holding the database.
    let watches_transactions = case
        .signals
        .iter()
        .any(|watched| watched.condition.signal == Signal::ActiveTransactions);
    if watches_transactions
        && !target.capabilities.sandbox
        && !case.load.mix.sends_to(Endpoint::Transfer)
    {
        warn(
            "signal active_transactions will not move: this target counts transactions only \
             in /api/transfer, and the case's load sends none there"
                .to_string(),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drill::check_case;

    const MINIMAL: &str = include_str!("../../tests/fixtures/cases/valid/minimal.toml");

    fn case(text: &str) -> Case {
        let report = check_case("x.toml", text);
        let problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
        report
            .case
            .unwrap_or_else(|| panic!("a valid case: {problems:?}"))
    }

    /// The workshop service as `cases validate --api` learns it: four knobs that act and
    /// `db_fail` that does not; no pool or queue gauges; no Docker.
    fn workshop() -> TargetProfile {
        let knobs = [
            "latency_ms",
            "error_rate",
            "db_slow",
            "memory_leak_mb",
            "db_fail",
        ]
        .map(str::to_string);
        let metrics = [
            "fintech_requests_total",
            "fintech_request_latency_seconds_bucket",
            "fintech_active_transactions",
            "process_resident_memory_bytes",
            "process_cpu_seconds_total",
        ]
        .map(str::to_string);
        TargetProfile {
            capabilities: Capabilities::from_workshop(&knobs),
            metrics: Some(metrics.into_iter().collect()),
            memory_source: false,
            alert_rules: None,
        }
    }

    /// With the case's own failure body, as a target that takes failures would get it.
    fn check_against_plan(case: &Case, target: &TargetProfile) -> Vec<Finding> {
        check_against(case, case.injection.failures.as_ref(), target)
    }

    fn messages(findings: &[Finding], severity: ProblemSeverity) -> Vec<&str> {
        findings
            .iter()
            .filter(|finding| finding.severity == severity)
            .map(|finding| finding.message.as_str())
            .collect()
    }

    #[test]
    fn a_case_the_workshop_can_run_has_no_findings() {
        assert_eq!(check_against_plan(&case(MINIMAL), &workshop()), []);
    }

    #[test]
    fn a_knob_the_target_ignores_and_a_recovery_signal_it_cannot_measure_are_errors() {
        // A workshop version without the memory leak.
        let mut older = workshop();
        older.capabilities = Capabilities::from_workshop(
            &["latency_ms", "error_rate", "db_slow"].map(str::to_string),
        );
        let text = MINIMAL
            .replace("latency_ms = 500", "memory_leak_mb = 5")
            .replace("signals = [\"latency_p95\"]", "signals = [\"pool_in_use\"]");
        let findings = check_against_plan(&case(&text), &older);
        let errors = messages(&findings, ProblemSeverity::Error);
        assert_eq!(errors.len(), 2, "{findings:?}");
        assert_eq!(
            errors[0],
            "cannot inject memory_leak_mb: this target has no such failure"
        );
        assert_eq!(
            errors[1],
            "recovery signal pool_in_use cannot be measured: the target exports no \
             `fintech_db_pool_connections`"
        );
    }

    #[test]
    fn transactions_watched_without_transfers_and_alerts_without_a_source_are_warnings() {
        let text = MINIMAL
            .replace("rate = 5", "rate = 5\nmix = \"balance=100\"")
            .replace(
                "signal = \"latency_p95\"\ncomparison",
                "signal = \"active_transactions\"\ncomparison",
            )
            .replace(
                "id = \"minimal\"",
                "id = \"minimal\"\nalerts = [\"MemoryPressure\", \"Nope\"]",
            );
        let findings = check_against_plan(&case(&text), &workshop());
        assert_eq!(
            messages(&findings, ProblemSeverity::Error),
            Vec::<&str>::new()
        );
        assert_eq!(
            messages(&findings, ProblemSeverity::Warning),
            [
                "alert Nope is not a rule of this target: it can never fire",
                "signal active_transactions will not move: this target counts transactions only \
                 in /api/transfer, and the case's load sends none there",
            ]
        );
        // Without the process's memory either, MemoryPressure has nothing to compare.
        let mut bare = workshop();
        if let Some(metrics) = bare.metrics.as_mut() {
            metrics.remove("process_resident_memory_bytes");
        }
        let findings = check_against_plan(&case(&text), &bare);
        assert!(
            messages(&findings, ProblemSeverity::Warning).contains(
                &"alert MemoryPressure can never fire: the target exports no \
                  `process_resident_memory_bytes` (memory_bytes)"
            ),
            "{findings:?}"
        );
        // The sandbox counts every request that holds the database.
        let sandbox = TargetProfile {
            capabilities: Capabilities::sandbox_with_every_knob(),
            memory_source: true,
            ..workshop()
        };
        let findings = check_against_plan(&case(&text), &sandbox);
        assert_eq!(
            messages(&findings, ProblemSeverity::Warning),
            ["alert Nope is not a rule of this target: it can never fire"]
        );
    }
}
