//! The drill's side of the dependency with scripted read-backs and samples: the cascade's
//! recovery (patterns on, the provider still slow) and a case whose fix is the provider's.

use serde_json::json;

use crate::actions::ActionKind;
use crate::drill::case::{Case, TargetCapabilities};
use crate::drill::machine::{Directive, DrillOptions, Phase, PhaseMachine};
use crate::drill::validate::check_case;
use crate::signals::{Sample, Signal};

fn case(extra: &str) -> Case {
    let text = format!(
        r#"
id = "test-dependency"
difficulty = "hard"
requires = ["sandbox"]
title = {{ en = "Test", ru = "Тест" }}
briefing = {{ en = "Slow provider.", ru = "Медленный провайдер." }}
load = {{ profile = "steady", rate = 5 }}
diagnosis = {{ en = "Slow dependency", ru = "Медленная зависимость" }}
{extra}

[[signals]]
signal = "balance_latency_p95"
comparison = "above"
threshold = 1.0

[checklist]
baseline = [{{ en = "Fast", ru = "Быстро" }}]
inject = [{{ en = "Injected", ru = "Внесено" }}]
detect = [{{ en = "Slow", ru = "Медленно" }}]
respond = [{{ en = "Fix", ru = "Исправить" }}]
recover = [{{ en = "Fast again", ru = "Снова быстро" }}]
"#
    );
    let report = check_case("test.toml", &text);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    report.case.expect("valid test case")
}

const CASCADE: &str = r#"
baseline = { duration = "10s", patterns = { retry = { enabled = true } } }
injection = { provider = { latency_ms = 10000 } }
recovery = { signals = ["balance_latency_p95"], hold = "5s", provider_still_failing = true, patterns = ["timeout", "circuit_breaker"] }
"#;

const PROVIDER_FIX: &str = r#"
baseline = { duration = "10s" }
injection = { provider = { webhook_duplicate_rate = 1.0 } }
recovery = { signals = ["balance_latency_p95"], hold = "5s" }
"#;

fn on_sandbox() -> DrillOptions {
    DrillOptions {
        target: TargetCapabilities {
            sandbox: true,
            provider: true,
            ..TargetCapabilities::default()
        },
        ..DrillOptions::default()
    }
}

fn balance(machine: &mut PhaseMachine, at: f64, value: f64) -> Vec<Directive> {
    machine.sample(Signal::BalanceLatencyP95, Sample { at, value })
}

/// Through the baseline, injected at 11 s, detected at 14 s.
fn detected(case: Case) -> PhaseMachine {
    let (mut machine, directives) = PhaseMachine::start(case, on_sandbox(), 0.0);
    let patterns = directives.iter().find_map(|d| match d {
        Directive::SetPatterns(body) => Some(body.clone()),
        _ => None,
    });
    let patterns = patterns.expect("a drill about the dependency sets the patterns first");
    // The whole configuration: what the case names on, everything else off.
    let retry_on =
        machine.case().starting_patterns.as_ref().expect("patterns")["retry"]["enabled"].clone();
    assert_eq!(patterns["retry"]["enabled"], retry_on);
    assert_eq!(patterns["circuit_breaker"]["enabled"], false);
    for second in 0..10 {
        balance(&mut machine, f64::from(second), 0.01);
    }
    let directives = machine.tick(10.0);
    let plan = directives.iter().find_map(|d| match d {
        Directive::Inject(plan) => Some(plan.clone()),
        _ => None,
    });
    let plan = plan.expect("an injection");
    assert!(plan.failures.is_none());
    assert!(plan.provider.is_some());
    machine.injected(11.0);
    machine.provider_read_back(11.5, true);
    balance(&mut machine, 12.0, 9.0);
    machine.declare_detection(14.0, Some(Signal::BalanceLatencyP95), None);
    assert_eq!(machine.phase(), Phase::Respond);
    machine
}

#[test]
fn the_cascade_recovers_by_patterns_while_the_provider_is_still_slow() {
    let mut machine = detected(case(CASCADE));
    let started = machine.case().starting_patterns.clone().expect("patterns");
    assert_eq!(
        started["retry"]["enabled"], true,
        "the case's baseline.patterns"
    );
    let fix = ActionKind::PatternChange {
        body: json!({"timeout": {"enabled": true}}),
    };
    machine.action(16.0, fix);
    assert_eq!(machine.phase(), Phase::Recover);
    // Balance is fast, but only one of the two patterns is on: not recovered.
    machine.patterns_read_back(16.5, vec!["timeout".to_string()]);
    for second in 17..25 {
        balance(&mut machine, f64::from(second), 0.01);
    }
    assert_eq!(machine.phase(), Phase::Recover);
    let both = vec!["timeout".to_string(), "circuit_breaker".to_string()];
    machine.patterns_read_back(25.0, both.clone());
    // Resetting the provider is not this case's fix: while it is clear, nothing counts.
    machine.provider_read_back(26.0, false);
    for second in 26..33 {
        balance(&mut machine, f64::from(second), 0.01);
    }
    assert_eq!(machine.phase(), Phase::Recover);
    machine.provider_read_back(33.0, true);
    machine.patterns_read_back(33.0, both);
    let mut directives = Vec::new();
    for second in 33..=38 {
        directives.extend(balance(&mut machine, f64::from(second), 0.01));
    }
    assert_eq!(machine.phase(), Phase::Review);
    assert_eq!(machine.state().recovered_at, Some(33.0));
    // The provider was left slow on purpose; the drill clears it at the end.
    assert!(
        directives.contains(&Directive::ResetProvider),
        "{directives:?}"
    );
}

#[test]
fn a_case_fixed_at_the_provider_recovers_once_it_reads_back_clear() {
    let mut machine = detected(case(PROVIDER_FIX));
    for second in 15..20 {
        balance(&mut machine, f64::from(second), 0.01);
    }
    assert_eq!(machine.phase(), Phase::Respond, "nothing was done yet");
    // Reset by hand (curl, another terminal): the read-back moves the drill on.
    machine.provider_read_back(20.0, false);
    assert_eq!(machine.phase(), Phase::Recover);
    let mut directives = Vec::new();
    for second in 20..=25 {
        directives.extend(balance(&mut machine, f64::from(second), 0.01));
    }
    assert_eq!(machine.phase(), Phase::Review);
    assert_eq!(machine.state().recovered_at, Some(20.0));
    assert!(!directives.contains(&Directive::ResetProvider));
}

#[test]
fn an_abandoned_drill_resets_the_provider_it_made_fail() {
    let mut machine = detected(case(PROVIDER_FIX));
    let directives = machine.abandon(20.0, "stopped");
    assert!(directives.contains(&Directive::ResetProvider));
    // FinCore's failures were not touched: nothing to reset there.
    assert!(!directives.contains(&Directive::ResetFailures));
}

#[test]
fn a_case_about_the_dependency_is_refused_where_there_is_no_provider() {
    let workshop = DrillOptions::default();
    let (machine, directives) = PhaseMachine::start(case(CASCADE), workshop, 0.0);
    assert_eq!(machine.phase(), Phase::Refused);
    let reason = machine.state().reason.clone().unwrap_or_default();
    assert!(reason.contains("payment provider"), "{reason}");
    assert!(
        !directives
            .iter()
            .any(|d| matches!(d, Directive::SetPatterns(_) | Directive::StartLoad(_)))
    );
}

const RETRIES: &str = r#"
baseline = { duration = "10s", patterns = { retry = { enabled = true, max_attempts = 6 } } }
injection = { provider = { rate_limit_per_s = 3 } }
recovery = { signals = ["balance_latency_p95"], hold = "5s", provider_still_failing = true }
"#;

#[test]
fn patterns_switched_by_hand_after_detection_move_the_drill_to_verify() {
    let mut machine = detected(case(RETRIES));
    machine.patterns_read_back(14.5, vec!["retry".to_string()]);
    // FinCore's own failure state reads back clear all along: no news for a provider case.
    machine.failures_read_back(15.0, false, None);
    assert_eq!(machine.phase(), Phase::Respond);
    // Retry switched off with curl: the patterns read back differ.
    machine.patterns_read_back(16.0, Vec::new());
    assert_eq!(machine.phase(), Phase::Recover);
    machine.provider_read_back(16.0, true);
    for second in 16..=22 {
        balance(&mut machine, f64::from(second), 0.01);
    }
    assert_eq!(machine.phase(), Phase::Review);
}
