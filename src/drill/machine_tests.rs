//! The phase machine with scripted samples and a clock the test controls: every input carries
//! its timestamp, so each scenario is exact and instant.

use super::case::{Case, Step, TargetCapabilities};
use super::library::CaseLibrary;
use super::machine::{ActionKind, Directive, DrillOptions, Phase, PhaseMachine};
use super::state::DrillState;
use super::validate::check_case;
use crate::knobs::Knob;
use crate::signals::{Sample, Signal};

/// Baseline 10 s, hold 5 s; watches p95 > 1 and error ratio > 0.1; recovers on p95.
const CASE: &str = r#"
id = "test-latency"
difficulty = "easy"
alerts = ["HighLatency"]
title = { en = "Test", ru = "Тест" }
briefing = { en = "Slow.", ru = "Медленно." }
baseline = { duration = "10s" }
injection = { failures = { latency_ms = 2000 } }
load = { profile = "steady", rate = 5 }
recovery = { signals = ["latency_p95"], hold = "5s" }
diagnosis = { en = "Delay", ru = "Задержка" }
hints = [{ en = "One", ru = "Один" }, { en = "Two", ru = "Два" }]

[[signals]]
signal = "latency_p95"
comparison = "above"
threshold = 1.0

[[signals]]
signal = "error_ratio"
comparison = "above"
threshold = 0.1

[checklist]
baseline = [{ en = "Fast", ru = "Быстро", verify = { signal = "latency_p95", comparison = "below", threshold = 0.5 } }]
inject = [{ en = "Injected", ru = "Внесено" }]
detect = [{ en = "Slow", ru = "Медленно", verify = { signal = "latency_p95", comparison = "above", threshold = 1.0 } }]
respond = [{ en = "Reset", ru = "Сброс" }]
recover = [{ en = "Fast again", ru = "Снова быстро", verify = { signal = "latency_p95", comparison = "below", threshold = 0.5 } }]
"#;

fn case() -> Case {
    let report = check_case("test.toml", CASE);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    report.case.expect("valid test case")
}

fn sample(at: f64, value: f64) -> Sample {
    Sample { at, value }
}

fn phases(directives: &[Directive]) -> Vec<Phase> {
    directives
        .iter()
        .filter_map(|directive| match directive {
            Directive::PhaseChanged { to, .. } => Some(*to),
            _ => None,
        })
        .collect()
}

/// Feeds one healthy second: p95 100 ms, no errors, up.
fn healthy(machine: &mut PhaseMachine, at: f64) -> Vec<Directive> {
    let mut directives = machine.sample(Signal::Up, sample(at, 1.0));
    directives.extend(machine.sample(Signal::ErrorRatio, sample(at, 0.0)));
    let p95 = [0.10, 0.11, 0.12][(at as usize) % 3];
    directives.extend(machine.sample(Signal::LatencyP95, sample(at, p95)));
    directives
}

/// A machine through the baseline (0..=10 s) and injected at 11 s.
fn injected_machine(options: DrillOptions) -> PhaseMachine {
    let (mut machine, _) = PhaseMachine::start(case(), options, 0.0);
    for second in 0..10 {
        healthy(&mut machine, f64::from(second));
    }
    let directives = machine.tick(10.0);
    assert_eq!(phases(&directives), [Phase::Inject]);
    machine.injected(11.0);
    assert_eq!(machine.phase(), Phase::Detect);
    machine
}

#[test]
fn a_drill_goes_through_every_phase_and_the_figures_follow_the_timestamps() {
    let (mut machine, directives) = PhaseMachine::start(case(), DrillOptions::default(), 0.0);
    assert_eq!(machine.phase(), Phase::Baseline);
    assert!(
        directives
            .iter()
            .any(|d| matches!(d, Directive::StartLoad(load) if load.rate == 5.0))
    );
    assert!(directives.contains(&Directive::SaveRecord));

    for second in 0..10 {
        assert!(phases(&healthy(&mut machine, f64::from(second))).is_empty());
    }
    assert_eq!(machine.baseline_ends_at(), 10.0);
    let directives = machine.tick(10.0);
    assert_eq!(phases(&directives), [Phase::Inject]);
    let Some(Directive::Inject(plan)) = directives
        .iter()
        .find(|d| matches!(d, Directive::Inject(_)))
    else {
        panic!("no inject directive: {directives:?}");
    };
    assert_eq!(
        plan.failures
            .as_ref()
            .and_then(|f| f.number(Knob::LatencyMs)),
        Some(2000)
    );
    let band = *machine.state().band(Signal::LatencyP95).expect("band");
    assert_eq!((band.median, band.samples), (0.11, 10));

    assert_eq!(phases(&machine.injected(11.0)), [Phase::Detect]);
    machine.sample(Signal::LatencyP95, sample(11.5, 0.8));
    machine.sample(Signal::LatencyP95, sample(12.0, 2.0));
    machine.sample(Signal::LatencyP95, sample(13.0, 2.4));
    machine.alert_fired("HighLatency", 20.0);
    machine.alert_fired("HighLatency", 21.0);
    machine.alert_fired("Unexpected", 22.0);
    assert_eq!(
        phases(&machine.declare_detection(15.0, Some(Signal::LatencyP95), None)),
        [Phase::Respond]
    );
    machine.action(16.0, ActionKind::HintOpened { index: 0 });
    let directives = machine.action(18.0, ActionKind::FailureReset);
    assert_eq!(phases(&directives), [Phase::Recover]);
    assert!(directives.contains(&Directive::ReadBackFailures));
    machine.failures_read_back(19.0, false, None);
    machine.sample(Signal::LatencyP95, sample(19.5, 1.5));
    for second in 20..25 {
        machine.sample(Signal::LatencyP95, sample(f64::from(second), 0.12));
        assert_eq!(
            machine.phase(),
            Phase::Recover,
            "hold not complete at {second}"
        );
    }
    assert_eq!(machine.hold_remaining(24.0), Some(1.0));
    let directives = machine.tick(25.0);
    assert_eq!(phases(&directives), [Phase::Review]);
    assert!(directives.contains(&Directive::StopLoad));

    let state = machine.state();
    assert_eq!(state.recovered_at, Some(20.0));
    assert_eq!(state.verified_at, Some(25.0));
    let figures = machine.figures();
    assert_eq!(figures.time_to_first_signal, Some(1.0));
    assert_eq!(figures.time_to_detect, Some(4.0));
    assert!(!figures.detected_before_first_signal);
    assert_eq!(
        figures.time_to_first_action,
        Some(7.0),
        "hints are not actions"
    );
    assert_eq!(figures.time_to_recover, Some(9.0));
    assert_eq!(figures.recover_after_first_action, Some(2.0));
    let alerts: Vec<(&str, bool, Option<f64>)> = figures
        .alerts
        .iter()
        .map(|a| (a.name.as_str(), a.expected, a.delay))
        .collect();
    assert_eq!(
        alerts,
        [
            ("HighLatency", true, Some(9.0)),
            ("Unexpected", false, Some(11.0))
        ]
    );
    assert_eq!((figures.hints_used, figures.hints_total), (1, 2));
    // Auto items: baseline (fast), detect (slow), recover (fast again); inject and respond
    // are manual and unticked.
    assert_eq!((figures.checklist_done, figures.checklist_total), (3, 5));
    let p95 = figures
        .signals
        .iter()
        .find(|s| s.signal == Signal::LatencyP95)
        .expect("p95");
    assert_eq!(p95.baseline_median, Some(0.11));
    assert_eq!(p95.peak, Some(2.4));
    assert_eq!(p95.crossed_after, Some(1.0));
    assert_eq!(p95.recovery_value, Some(0.12));
    let errors = figures
        .signals
        .iter()
        .find(|s| s.signal == Signal::ErrorRatio)
        .expect("errors");
    assert_eq!((errors.crossed_after, errors.peak), (None, None));
    assert_eq!(figures.diagnosis_correct, None);

    let entered: Vec<Phase> = state.phases.iter().map(|p| p.phase).collect();
    assert_eq!(
        entered,
        [
            Phase::Baseline,
            Phase::Inject,
            Phase::Detect,
            Phase::Respond,
            Phase::Recover,
            Phase::Review
        ]
    );
    assert!(
        machine.tick(30.0).is_empty(),
        "a finished drill takes no more input"
    );
}

#[test]
fn an_unhealthy_baseline_is_refused_with_a_reason() {
    let (mut machine, _) = PhaseMachine::start(case(), DrillOptions::default(), 0.0);
    let directives = machine.tick(10.0);
    assert_eq!(phases(&directives), [Phase::Refused]);
    assert!(
        machine
            .state()
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("no samples"))
    );

    let (mut machine, _) = PhaseMachine::start(case(), DrillOptions::default(), 0.0);
    for second in 0..10 {
        machine.sample(Signal::Up, sample(f64::from(second), 0.0));
    }
    machine.tick(10.0);
    assert_eq!(machine.phase(), Phase::Refused);
    assert!(
        machine
            .state()
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("up = 0"))
    );

    let (mut machine, _) = PhaseMachine::start(case(), DrillOptions::default(), 0.0);
    for second in 0..10 {
        machine.sample(Signal::ErrorRatio, sample(f64::from(second), 0.3));
    }
    machine.tick(10.0);
    assert_eq!(machine.phase(), Phase::Refused);
    assert!(
        machine
            .state()
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("30% of requests"))
    );
}

#[test]
fn a_baseline_with_a_case_alert_active_or_a_signal_past_its_threshold_is_refused() {
    // HighLatency pending when the baseline ends: refused, naming it.
    let (mut machine, _) = PhaseMachine::start(case(), DrillOptions::default(), 0.0);
    for second in 0..10 {
        healthy(&mut machine, f64::from(second));
    }
    machine.alert_states([
        ("HighLatency", Some("pending")),
        ("MemoryPressure", Some("firing")),
    ]);
    machine.tick(10.0);
    assert_eq!(machine.phase(), Phase::Refused);
    let reason = machine.state().reason.clone().unwrap_or_default();
    assert_eq!(
        reason,
        "HighLatency is already pending: let it resolve (or mend the target) first"
    );

    // An alert the case does not name does not stop it; one that resolved before the end
    // does not either.
    let (mut machine, _) = PhaseMachine::start(case(), DrillOptions::default(), 0.0);
    machine.alert_states([("HighLatency", Some("firing"))]);
    for second in 0..10 {
        healthy(&mut machine, f64::from(second));
    }
    machine.alert_states([("HighLatency", None), ("MemoryPressure", Some("firing"))]);
    machine.tick(10.0);
    assert_eq!(machine.phase(), Phase::Inject);

    // p95 already above the case's threshold of 1 s.
    let (mut machine, _) = PhaseMachine::start(case(), DrillOptions::default(), 0.0);
    for second in 0..10 {
        let at = f64::from(second);
        machine.sample(Signal::Up, sample(at, 1.0));
        machine.sample(Signal::ErrorRatio, sample(at, 0.0));
        machine.sample(Signal::LatencyP95, sample(at, 1.79));
    }
    machine.tick(10.0);
    assert_eq!(machine.phase(), Phase::Refused);
    assert_eq!(
        machine.state().reason.as_deref(),
        Some("latency_p95 is already > 1 (median 1.79) before anything is injected")
    );
}

#[test]
fn a_case_the_target_cannot_run_is_refused_at_once() {
    let library = CaseLibrary::shipped();
    let case = library.get("db-down").expect("db-down").clone();
    let (machine, directives) = PhaseMachine::start(case, DrillOptions::default(), 0.0);
    assert_eq!(machine.phase(), Phase::Refused);
    assert!(
        !directives
            .iter()
            .any(|d| matches!(d, Directive::StartLoad(_)))
    );
    assert!(
        machine
            .state()
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("needs the sandbox"))
    );
}

#[test]
fn detection_before_the_first_crossing_is_recorded_as_such() {
    let mut machine = injected_machine(DrillOptions::default());
    machine.sample(Signal::LatencyP95, sample(12.0, 0.9));
    machine.declare_detection(13.0, None, Some("looks slow".to_string()));
    machine.sample(Signal::LatencyP95, sample(14.0, 1.2));
    let detection = machine.state().detection.clone().expect("declared");
    assert!(detection.before_first_crossing);
    let figures = machine.figures();
    assert!(figures.detected_before_first_signal);
    assert_eq!(figures.time_to_detect, Some(2.0));
    assert_eq!(figures.time_to_first_signal, Some(3.0));
    let again = machine.declare_detection(15.0, None, None);
    assert!(
        matches!(again[..], [Directive::Ignored { .. }]),
        "only one declaration"
    );
}

#[test]
fn detection_after_the_first_crossing_is_not_early() {
    let mut machine = injected_machine(DrillOptions::default());
    machine.sample(Signal::ErrorRatio, sample(12.0, 0.2));
    machine.declare_detection(14.0, Some(Signal::ErrorRatio), None);
    assert!(!machine.figures().detected_before_first_signal);
    assert_eq!(machine.figures().time_to_first_signal, Some(1.0));
}

#[test]
fn detection_cannot_be_declared_before_the_injection() {
    let (mut machine, _) = PhaseMachine::start(case(), DrillOptions::default(), 0.0);
    let directives = machine.declare_detection(1.0, None, None);
    assert!(matches!(directives[..], [Directive::Ignored { .. }]));
    assert_eq!(machine.phase(), Phase::Baseline);
}

/// A machine in Recover at 18 s with the failures read back cleared at 18 s.
fn recovering_machine() -> PhaseMachine {
    let mut machine = injected_machine(DrillOptions::default());
    machine.sample(Signal::LatencyP95, sample(12.0, 2.0));
    machine.declare_detection(15.0, Some(Signal::LatencyP95), None);
    machine.action(18.0, ActionKind::FailureReset);
    machine.failures_read_back(18.0, false, None);
    assert_eq!(machine.phase(), Phase::Recover);
    machine
}

#[test]
fn a_signal_that_never_recovers_keeps_the_drill_in_recover() {
    let mut machine = recovering_machine();
    for second in 19..200 {
        machine.sample(Signal::LatencyP95, sample(f64::from(second), 1.8));
        machine.tick(f64::from(second) + 0.5);
    }
    assert_eq!(machine.phase(), Phase::Recover);
    assert_eq!(machine.hold_remaining(200.0), None);
    assert_eq!(machine.figures().time_to_recover, None);
}

#[test]
fn a_flap_outside_the_band_restarts_the_hold() {
    let mut machine = recovering_machine();
    // Band: p95 of the baseline is 0.12, so back means at most 0.12 + 0.05 (the noise floor).
    for (at, value) in [
        (19.0, 0.1),
        (20.0, 0.1),
        (21.0, 0.1),
        (22.0, 0.3),
        (23.0, 0.1),
    ] {
        machine.sample(Signal::LatencyP95, sample(at, value));
    }
    machine.tick(26.0);
    assert_eq!(machine.phase(), Phase::Recover, "only 3 s since the flap");
    assert_eq!(machine.hold_remaining(26.0), Some(2.0));
    machine.sample(Signal::LatencyP95, sample(27.0, 0.16));
    machine.tick(28.0);
    assert_eq!(machine.phase(), Phase::Review);
    assert_eq!(machine.state().recovered_at, Some(23.0));
    assert_eq!(machine.figures().time_to_recover, Some(12.0));
}

#[test]
fn recovery_needs_values_back_in_band_not_their_absence() {
    let mut machine = recovering_machine();
    machine.sample(Signal::LatencyP95, sample(19.0, 0.1));
    machine.sample(Signal::LatencyP95, sample(20.0, 0.1));
    // Then the figure stops coming (no requests complete, the target is down): silence is
    // not "back", however long it lasts.
    for now in [31.0, 60.0, 100.0] {
        machine.tick(now);
        assert_eq!(machine.phase(), Phase::Recover, "at {now}");
        assert_eq!(machine.hold_remaining(now), None, "at {now}");
    }
    // Values back in band: the hold starts from their return, not from before the silence.
    for second in 101..=105 {
        machine.sample(Signal::LatencyP95, sample(f64::from(second), 0.1));
    }
    machine.tick(105.5);
    assert_eq!(machine.phase(), Phase::Recover);
    assert_eq!(machine.hold_remaining(105.5), Some(0.5));
    machine.tick(106.0);
    assert_eq!(machine.phase(), Phase::Review);
    assert_eq!(machine.state().recovered_at, Some(101.0));
}

#[test]
fn a_baseline_without_any_value_of_the_recovery_signals_is_refused() {
    // Up and errors but no latency figure: recovery on p95 could never be verified, and
    // leaving it out would declare recovery on nothing.
    let (mut machine, _) = PhaseMachine::start(case(), DrillOptions::default(), 0.0);
    for second in 0..10 {
        machine.sample(Signal::Up, sample(f64::from(second), 1.0));
        machine.sample(Signal::ErrorRatio, sample(f64::from(second), 0.0));
    }
    machine.tick(10.0);
    assert_eq!(machine.phase(), Phase::Refused);
    assert!(
        machine
            .state()
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("no value of latency_p95")),
        "{:?}",
        machine.state().reason
    );
}

#[test]
fn recovery_waits_for_the_failures_to_read_back_cleared() {
    let mut machine = injected_machine(DrillOptions::default());
    machine.declare_detection(13.0, None, None);
    machine.action(14.0, ActionKind::LoadChange { rate: 0.0 });
    assert_eq!(machine.phase(), Phase::Recover);
    machine.failures_read_back(14.5, true, None);
    for second in 15..40 {
        machine.sample(Signal::LatencyP95, sample(f64::from(second), 0.1));
    }
    machine.tick(40.0);
    assert_eq!(machine.phase(), Phase::Recover, "failures still set");
    machine.failures_read_back(41.0, false, None);
    machine.tick(45.0);
    assert_eq!(machine.phase(), Phase::Recover);
    machine.tick(46.0);
    assert_eq!(machine.phase(), Phase::Review);
    assert_eq!(machine.state().recovered_at, Some(41.0));
}

#[test]
fn failures_cleared_outside_gameday_after_detection_start_the_verification() {
    let mut machine = injected_machine(DrillOptions::default());
    machine.failures_read_back(12.0, false, None);
    assert_eq!(
        machine.phase(),
        Phase::Detect,
        "one read in Detect proves nothing"
    );
    machine.declare_detection(13.0, None, None);
    let directives = machine.failures_read_back(14.0, false, None);
    assert_eq!(phases(&directives), [Phase::Recover]);
}

#[test]
fn a_remedy_before_declaring_moves_on_without_a_detection() {
    let mut machine = injected_machine(DrillOptions::default());
    let directives = machine.action(14.0, ActionKind::FailureReset);
    assert_eq!(phases(&directives), [Phase::Respond, Phase::Recover]);
    assert_eq!(machine.figures().time_to_detect, None);
    machine.declare_detection(15.0, None, None);
    assert_eq!(
        machine.figures().time_to_detect,
        Some(4.0),
        "a late declaration still counts"
    );
    assert_eq!(machine.phase(), Phase::Recover);
}

#[test]
fn manual_injection_waits_for_the_read_back_and_takes_its_since() {
    let options = DrillOptions {
        manual_inject: true,
        ..DrillOptions::default()
    };
    let (mut machine, _) = PhaseMachine::start(case(), options, 0.0);
    for second in 0..10 {
        healthy(&mut machine, f64::from(second));
    }
    let directives = machine.tick(10.0);
    assert!(directives.contains(&Directive::AwaitManualInjection));
    assert!(!directives.iter().any(|d| matches!(d, Directive::Inject(_))));
    machine.failures_read_back(12.0, false, None);
    assert_eq!(machine.phase(), Phase::Inject);
    let directives = machine.failures_read_back(15.0, true, Some(13.5));
    assert_eq!(phases(&directives), [Phase::Detect]);
    assert_eq!(machine.state().injected_at, Some(13.5));
}

#[test]
fn blind_mode_says_whether_the_named_cause_was_right() {
    let options = DrillOptions {
        blind: true,
        ..DrillOptions::default()
    };
    let mut right = injected_machine(options);
    right.declare_detection(13.0, None, Some("test-latency".to_string()));
    assert_eq!(right.figures().diagnosis_correct, Some(true));
    let mut wrong = injected_machine(options);
    wrong.declare_detection(13.0, None, Some("slow-db".to_string()));
    assert_eq!(wrong.figures().diagnosis_correct, Some(false));
    let mut silent = injected_machine(options);
    silent.declare_detection(13.0, None, None);
    assert_eq!(silent.figures().diagnosis_correct, None);
}

#[test]
fn checklist_items_tick_by_hand_and_automatic_ones_only_in_their_phase() {
    let (mut machine, _) = PhaseMachine::start(case(), DrillOptions::default(), 0.0);
    // A slow sample in the baseline must not tick the detect item.
    machine.sample(Signal::LatencyP95, sample(1.0, 3.0));
    assert!(
        machine.state().checklist[Step::Detect.index()][0]
            .done_at
            .is_none()
    );
    machine.check_item(2.0, Step::Inject, 0, true);
    assert_eq!(
        machine.state().checklist[Step::Inject.index()][0].done_at,
        Some(2.0)
    );
    machine.check_item(3.0, Step::Inject, 0, false);
    assert_eq!(
        machine.state().checklist[Step::Inject.index()][0].done_at,
        None
    );
    let directives = machine.check_item(3.0, Step::Inject, 9, true);
    assert!(matches!(directives[..], [Directive::Ignored { .. }]));
}

#[test]
fn hints_are_counted_once_and_unknown_ones_ignored() {
    let mut machine = injected_machine(DrillOptions::default());
    assert_eq!(machine.next_hint(), Some(0));
    machine.action(12.0, ActionKind::HintOpened { index: 0 });
    machine.action(13.0, ActionKind::HintOpened { index: 0 });
    assert_eq!(machine.next_hint(), Some(1));
    let directives = machine.action(14.0, ActionKind::HintOpened { index: 5 });
    assert!(matches!(directives[..], [Directive::Ignored { .. }]));
    assert_eq!(machine.state().hints_opened, [0]);
    assert_eq!(machine.phase(), Phase::Detect, "a hint is no remedy");
}

#[test]
fn abandoning_resets_an_injected_failure_and_ends_the_drill() {
    let mut machine = injected_machine(DrillOptions::default());
    let directives = machine.abandon(14.0, "out of time");
    assert!(directives.contains(&Directive::ResetFailures));
    assert!(directives.contains(&Directive::StopLoad));
    assert_eq!(phases(&directives), [Phase::Abandoned]);
    assert_eq!(machine.state().reason.as_deref(), Some("out of time"));
    assert!(matches!(
        machine.action(15.0, ActionKind::FailureReset)[..],
        [Directive::Ignored { .. }]
    ));

    let (mut early, _) = PhaseMachine::start(case(), DrillOptions::default(), 0.0);
    let directives = early.abandon(1.0, "changed my mind");
    assert!(
        !directives.contains(&Directive::ResetFailures),
        "nothing was injected"
    );
}

#[test]
fn a_resumed_machine_carries_on_where_the_saved_state_was() {
    let mut machine = recovering_machine();
    machine.sample(Signal::LatencyP95, sample(19.0, 0.1));
    machine.note(19.5, "reset by curl");
    let json = serde_json::to_string(machine.state()).expect("state serialises");
    let saved: DrillState = serde_json::from_str(&json).expect("state parses");
    assert_eq!(&saved, machine.state());

    let mut resumed = PhaseMachine::resume(case(), saved.clone()).expect("resumes");
    assert_eq!(resumed.phase(), Phase::Recover);
    resumed.sample(Signal::LatencyP95, sample(22.0, 0.1));
    resumed.tick(24.0);
    assert_eq!(resumed.phase(), Phase::Review);
    assert_eq!(resumed.state().recovered_at, Some(19.0));
    assert_eq!(resumed.state().notes[0].text, "reset by curl");

    let other = CaseLibrary::shipped()
        .get("latency")
        .expect("latency")
        .clone();
    assert!(PhaseMachine::resume(other, saved).is_err(), "another case");
}

#[test]
fn a_resumed_baseline_keeps_its_samples() {
    let (mut machine, _) = PhaseMachine::start(case(), DrillOptions::default(), 0.0);
    for second in 0..5 {
        healthy(&mut machine, f64::from(second));
    }
    let mut resumed = PhaseMachine::resume(case(), machine.state().clone()).expect("resumes");
    for second in 5..10 {
        healthy(&mut resumed, f64::from(second));
    }
    resumed.tick(10.0);
    assert_eq!(resumed.phase(), Phase::Inject);
    assert_eq!(
        resumed.state().band(Signal::LatencyP95).map(|b| b.samples),
        Some(10)
    );
}

#[test]
fn every_shipped_case_runs_on_the_sandbox() {
    let sandbox = DrillOptions {
        target: TargetCapabilities {
            sandbox: true,
            memory: true,
            provider: true,
            ..TargetCapabilities::default()
        },
        ..DrillOptions::default()
    };
    for case in CaseLibrary::shipped().cases() {
        let (machine, _) = PhaseMachine::start(case.clone(), sandbox, 0.0);
        assert_eq!(machine.phase(), Phase::Baseline, "{}", case.id);
    }
}

#[test]
fn a_restart_by_the_platform_before_any_remedy_is_noted_and_credits_no_recovery() {
    let mut machine = injected_machine(DrillOptions::default());
    machine.sample(Signal::Restarts, sample(11.0, 0.0));
    machine.sample(Signal::LatencyP95, sample(12.0, 2.0));
    machine.declare_detection(15.0, Some(Signal::LatencyP95), None);
    // The memory limit's kill: the restart count goes up, the failure is gone.
    machine.sample(Signal::Restarts, sample(16.0, 1.0));
    machine.failures_read_back(16.5, false, None);
    assert_eq!(machine.state().platform_restarts, vec![16.0]);
    assert!(
        machine
            .state()
            .notes
            .iter()
            .any(|note| note.text.starts_with("the platform restarted the app"))
    );
    // The participant's reset afterwards changes nothing: the recovery is not theirs.
    machine.action(20.0, ActionKind::FailureReset);
    for second in 21..30 {
        machine.sample(Signal::LatencyP95, sample(f64::from(second), 0.1));
    }
    machine.tick(30.0);
    assert_eq!(machine.phase(), Phase::Review);
    let figures = machine.figures();
    assert_eq!(figures.time_to_recover, None);
    assert_eq!(figures.recover_after_first_action, None);
    assert_eq!(figures.recovered_by_platform_after, Some(5.0));
}

#[test]
fn a_restart_the_participant_asked_for_is_their_remedy() {
    use crate::actions::ContainerAction;
    let mut machine = injected_machine(DrillOptions::default());
    machine.sample(Signal::Restarts, sample(11.0, 0.0));
    machine.declare_detection(15.0, Some(Signal::LatencyP95), None);
    machine.action(16.0, ActionKind::Container(ContainerAction::RestartApp));
    machine.sample(Signal::Restarts, sample(18.0, 1.0));
    assert!(machine.state().platform_restarts.is_empty());
    assert_eq!(machine.figures().recovered_by_platform_after, None);
}

#[test]
fn an_expected_alert_s_condition_is_kept_with_when_it_would_fire_even_unfired() {
    let mut machine = injected_machine(DrillOptions::default());
    // Before injection (a baseline episode) and an alert the case does not expect: ignored.
    machine.alert_condition("HighLatency", 5.0, Some(60.0));
    machine.alert_condition("MemoryPressure", 14.0, Some(60.0));
    assert!(machine.state().alert_conditions.is_empty());
    machine.alert_condition("HighLatency", 18.0, Some(60.0));
    machine.alert_condition("HighLatency", 25.0, Some(60.0));
    machine.declare_detection(20.0, Some(Signal::LatencyP95), None);
    let figures = machine.figures();
    let alert = figures
        .alerts
        .iter()
        .find(|alert| alert.name == "HighLatency")
        .expect("the expected alert");
    // Injected at 11 s: condition at +7 s, would fire at +67 s, never fired.
    assert_eq!(alert.condition_after, Some(7.0));
    assert_eq!(alert.would_fire_after, Some(67.0));
    assert_eq!(alert.delay, None);
}

#[test]
fn a_drill_resumed_in_its_baseline_starts_the_baseline_again_and_keeps_its_ticks() {
    let (mut machine, _) = PhaseMachine::start(case(), DrillOptions::default(), 0.0);
    for second in 0..6 {
        healthy(&mut machine, f64::from(second));
    }
    machine.check_item(5.0, Step::Baseline, 0, true);
    let saved = machine.state().clone();
    let mut resumed = PhaseMachine::resume(case(), saved).expect("resumable");
    resumed.restart_baseline(100.0);
    assert_eq!(resumed.phase(), Phase::Baseline);
    assert_eq!(resumed.baseline_ends_at(), 110.0);
    assert!(resumed.state().baseline_samples.is_empty());
    assert!(
        resumed.state().checklist[Step::Baseline.index()][0]
            .done_at
            .is_some()
    );
    // Its old samples do not end it early; new ones do.
    assert!(phases(&resumed.tick(105.0)).is_empty());
    for second in 100..110 {
        healthy(&mut resumed, f64::from(second));
    }
    assert_eq!(phases(&resumed.tick(110.0)), [Phase::Inject]);
}

#[test]
fn a_fault_lost_across_a_stop_is_injected_again_and_the_clock_restarts_there() {
    let mut machine = injected_machine(DrillOptions::default());
    machine.declare_detection(15.0, None, None);
    assert_eq!(machine.phase(), Phase::Respond);
    machine.check_item(16.0, Step::Respond, 0, true);
    let saved = machine.state().clone();
    let mut resumed = PhaseMachine::resume(case(), saved).expect("resumable");
    assert!(resumed.expects_fault());

    let directives = resumed.inject_again(100.0);
    assert_eq!(phases(&directives), [Phase::Inject]);
    assert!(directives.iter().any(|d| matches!(d, Directive::Inject(_))));
    let lost = &resumed.state().lost_injections;
    assert_eq!(lost.len(), 1);
    assert_eq!(
        (
            lost[0].injected_at,
            lost[0].detected_at,
            lost[0].injected_again_at
        ),
        (11.0, Some(15.0), 100.0)
    );
    assert!(resumed.state().detection.is_none());
    // The ticks are kept; the figures count from the new injection.
    assert!(
        resumed.state().checklist[Step::Respond.index()][0]
            .done_at
            .is_some()
    );
    assert_eq!(phases(&resumed.injected(101.0)), [Phase::Detect]);
    resumed.declare_detection(104.0, None, None);
    let figures = resumed.figures();
    assert_eq!(figures.time_to_detect, Some(3.0));

    // Outside Detect and Respond there is no fault to inject again.
    let (mut baseline, _) = PhaseMachine::start(case(), DrillOptions::default(), 0.0);
    assert!(!baseline.expects_fault());
    assert!(phases(&baseline.inject_again(1.0)).is_empty());
}
