//! `update` for every action, source update and runner report, and the key table resolving
//! presses in context — no terminal, no network, no disk.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::*;
use crate::actions::{ActionKind as Done, ActionOutcome, ContainerAction};
use crate::alerts::{AlertState, AlertStatus, Severity};
use crate::drill::{CaseLibrary, Phase};
use crate::fincore::presets::{Capabilities, Preset};
use crate::signals::Sample;
use crate::sources::{LogLevel, LogLine, SourceStatus, Update};

const NOW: f64 = 1_000.0;

fn model() -> Model {
    let target = TargetInfo::embedded("http://127.0.0.1:5000".to_string());
    let mut model = Model::for_target(
        target,
        &[SourceKind::Scrape, SourceKind::Process, SourceKind::Api],
        true,
        NOW,
    );
    model.session.theme_names = vec!["dark".into(), "light".into(), "projector".into()];
    model.session.cases = CaseLibrary::shipped().cases().to_vec();
    model
}

/// A model watching a target that outlives us, with a failure active on it.
fn external_with_failure() -> Model {
    let mut model = model();
    model.session.target.embedded = false;
    model.apply(Update::Failures(FailureView {
        knobs: vec![("latency_ms".to_string(), 2000.0)],
        ..FailureView::default()
    }));
    model
}

fn act(model: &mut Model, action: Action) -> Vec<Effect> {
    update(model, Msg::Action(action))
}

fn press(model: &Model, code: KeyCode) -> Option<Action> {
    let key = KeyEvent::new(code, KeyModifiers::NONE);
    model.action_for(key)
}

fn outcome(kind: Done, request: &str, ok: bool) -> ActionOutcome {
    ActionOutcome {
        kind,
        sent_at: NOW,
        at: NOW + 0.2,
        request: request.to_string(),
        answer: if ok { "200 updated" } else { "500 boom" }.to_string(),
        ok,
        notes: Vec::new(),
    }
}

fn saves_record(effects: &[Effect]) -> bool {
    effects
        .iter()
        .any(|effect| matches!(effect, Effect::SaveRecord { .. }))
}

/// The latency drill, picked with `c`, through its baseline and injected: in Detect.
fn drill_in_detect(model: &mut Model) {
    model.apply(Update::Capabilities(Capabilities::sandbox_with_every_knob()));
    let index = model
        .session
        .cases
        .iter()
        .position(|case| case.id == "latency")
        .expect("the latency case");
    act(model, Action::OpenCases);
    for _ in 0..index {
        act(model, Action::ModalKey(KeyCode::Down));
    }
    act(model, Action::ModalKey(KeyCode::Enter));
    // The briefing, read: Enter begins.
    assert_eq!(model.view.modal, Some(Modal::Briefing));
    act(model, Action::ModalKey(KeyCode::Enter));
    let ends = model
        .drill
        .as_ref()
        .and_then(|d| d.machine.as_ref())
        .map(|m| m.baseline_ends_at())
        .expect("a started drill");
    let mut at = NOW;
    let mut effects = Vec::new();
    while at <= ends {
        model.now = at;
        for (signal, value) in [(Signal::LatencyP95, 0.045), (Signal::Up, 1.0)] {
            effects.extend(model.apply(Update::Signals {
                source: if signal == Signal::Up {
                    SourceKind::Api
                } else {
                    SourceKind::Scrape
                },
                at,
                values: vec![(signal, value)],
            }));
        }
        at += 1.0;
    }
    model.now = at;
    effects.extend(update(model, Msg::Tick { load: None }));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Send(TargetRequest::Custom { .. }))),
        "the drill injects its fault: {effects:?}"
    );
    let mut injected = outcome(
        Done::FailureChange {
            body: serde_json::json!({"latency_ms": 2000}),
        },
        r#"POST /api/failures {"latency_ms":2000}"#,
        true,
    );
    injected.at = at;
    model.apply(Update::Outcome(injected));
    assert_eq!(phase(model), Some(Phase::Detect));
}

fn phase(model: &Model) -> Option<Phase> {
    model
        .drill
        .as_ref()
        .and_then(|d| d.machine.as_ref())
        .map(|m| m.phase())
}

#[test]
fn quitting_with_nothing_left_behind_quits_at_once() {
    let mut model = model();
    assert_eq!(act(&mut model, Action::Quit), [Effect::Quit]);
    assert_eq!(act(&mut model, Action::ForceQuit), [Effect::Quit]);
}

#[test]
fn quitting_with_failures_on_an_outside_target_asks_then_resets_then_quits() {
    let mut model = external_with_failure();
    assert!(act(&mut model, Action::Quit).is_empty());
    assert_eq!(model.view.modal, Some(Modal::QuitPrompt));
    let effects = act(&mut model, Action::ModalKey(KeyCode::Enter));
    assert_eq!(
        effects,
        [Effect::Send(TargetRequest::Reset), Effect::QuitAfterReset]
    );
    assert!(model.requests.quitting);
    let effects = model.apply(Update::Outcome(outcome(
        Done::FailureReset,
        "POST /api/reset",
        true,
    )));
    assert_eq!(effects, [Effect::Quit]);
}

#[test]
fn quitting_without_the_reset_leaves_at_once() {
    let mut model = external_with_failure();
    act(&mut model, Action::Quit);
    assert_eq!(
        act(&mut model, Action::ModalKey(KeyCode::Char('n'))),
        [Effect::Quit]
    );
    assert!(!model.requests.quitting);
}

#[test]
fn failure_keys_send_requests_and_note_them_in_flight() {
    let mut model = model();
    assert_eq!(
        act(&mut model, Action::Inject(Preset::Latency)),
        [Effect::Send(TargetRequest::Preset(Preset::Latency))]
    );
    assert_eq!(
        model.requests.pending.as_deref(),
        Some("inject latency 2 s")
    );
    assert_eq!(
        act(&mut model, Action::ResetFailures),
        [Effect::Send(TargetRequest::Reset)]
    );
    let effects = model.apply(Update::Outcome(outcome(
        Done::FailureReset,
        "POST /api/reset",
        true,
    )));
    assert!(effects.is_empty(), "no quit unless quitting: {effects:?}");
    assert_eq!(model.requests.pending, None);
    let last = model.live.logs.back().expect("a log line");
    assert_eq!(last.text, "gameday: POST /api/reset → 200 updated");
    assert_eq!(last.level, LogLevel::Info);
}

#[test]
fn a_refused_request_clears_the_pending_note_and_says_so() {
    let mut model = model();
    act(&mut model, Action::ResetFailures);
    update(&mut model, Msg::RequestRefused);
    assert_eq!(model.requests.pending, None);
    assert!(
        model
            .live
            .logs
            .back()
            .is_some_and(|l| l.level == LogLevel::Warn)
    );
}

#[test]
fn the_injection_panel_sends_what_it_shows() {
    let mut model = model();
    model.apply(Update::Capabilities(Capabilities::sandbox_with_every_knob()));
    act(&mut model, Action::OpenInjectPanel);
    assert!(matches!(model.view.modal, Some(Modal::Inject(_))));
    act(&mut model, Action::ModalKey(KeyCode::Right));
    let effects = act(&mut model, Action::ModalKey(KeyCode::Enter));
    let [Effect::Send(TargetRequest::Custom { knobs, .. })] = effects.as_slice() else {
        panic!("expected one custom injection, got {effects:?}");
    };
    assert!(knobs.contains(&("latency_ms".to_string(), serde_json::Value::from(100))));
    assert_eq!(model.view.modal, None);
}

#[test]
fn container_actions_need_a_confirmation() {
    let mut model = model();
    act(&mut model, Action::OpenContainers);
    assert_eq!(model.view.modal, Some(Modal::Containers { selected: 0 }));
    assert!(act(&mut model, Action::ModalKey(KeyCode::Char('4'))).is_empty());
    assert_eq!(
        model.view.modal,
        Some(Modal::Confirm(ContainerAction::StopDb))
    );
    assert_eq!(
        act(&mut model, Action::ModalKey(KeyCode::Char('y'))),
        [Effect::Send(TargetRequest::Container(
            ContainerAction::StopDb
        ))]
    );
    act(&mut model, Action::OpenContainers);
    act(&mut model, Action::ModalKey(KeyCode::Esc));
    assert_eq!(model.view.modal, None);
}

#[test]
fn load_keys_ask_the_runner_and_its_answer_is_shown() {
    let mut model = model();
    assert_eq!(
        act(&mut model, Action::LoadFaster),
        [Effect::Load(LoadChange::Faster)]
    );
    assert_eq!(
        act(&mut model, Action::LoadSlower),
        [Effect::Load(LoadChange::Slower)]
    );
    assert_eq!(
        act(&mut model, Action::NextProfile),
        [Effect::Load(LoadChange::NextProfile)]
    );
    update(
        &mut model,
        Msg::LoadChanged {
            rate: 30.0,
            profile: "spike".into(),
            by_user: true,
        },
    );
    let load = model.live.load.as_ref().expect("a load");
    assert_eq!((load.rate, load.profile.as_str()), (30.0, "spike"));
    update(&mut model, Msg::LoadStopped);
    assert_eq!(model.live.load, None);
}

#[test]
fn the_review_scrolls_within_what_the_last_frame_measured() {
    let mut model = model();
    model.view.review_scroll_most.set(12);
    act(&mut model, Action::ScrollReview(10));
    act(&mut model, Action::ScrollReview(10));
    assert_eq!(model.view.review_scroll, 12, "never past the review's end");
    act(&mut model, Action::ScrollReview(-1));
    assert_eq!(model.view.review_scroll, 11, "one press up moves at once");
    act(&mut model, Action::ScrollReview(-40));
    assert_eq!(model.view.review_scroll, 0);
    act(&mut model, Action::ScrollReview(5));
    act(&mut model, Action::CloseDrill);
    assert_eq!(
        model.view.review_scroll, 0,
        "the next review starts at its top"
    );
}

#[test]
fn the_view_keys_move_focus_zoom_help_theme_and_scroll() {
    let mut model = model();
    act(&mut model, Action::FocusNext);
    assert_eq!(model.view.focus, PanelId::Traffic);
    act(&mut model, Action::FocusPrevious);
    act(&mut model, Action::FocusPrevious);
    assert_eq!(model.view.focus, PanelId::Logs);
    act(&mut model, Action::ToggleZoom);
    assert!(model.view.zoomed);
    for n in 0..30 {
        model
            .live
            .push_log(NOW, LogLevel::Info, format!("line {n}"));
    }
    act(&mut model, Action::ScrollLog(20));
    act(&mut model, Action::ScrollLog(20));
    assert_eq!(model.view.log_scroll, 29, "never past the oldest line");
    act(&mut model, Action::ScrollLog(-40));
    assert_eq!(model.view.log_scroll, 0);
    act(&mut model, Action::ScrollLog(3));
    act(&mut model, Action::Unzoom);
    assert!(!model.view.zoomed);
    assert_eq!(model.view.log_scroll, 0);
    act(&mut model, Action::ToggleHelp);
    assert!(model.view.help);
    act(&mut model, Action::CloseHelp);
    assert!(!model.view.help);
    act(&mut model, Action::CycleTheme);
    assert_eq!(model.view.theme_name, "light");
    act(&mut model, Action::CycleTheme);
    act(&mut model, Action::CycleTheme);
    assert_eq!(model.view.theme_name, "dark");
}

#[test]
fn a_source_that_stays_down_keeps_its_first_failure_time_and_logs_once() {
    let mut model = model();
    let down = |since: f64| SourceStatus::Down {
        reason: "connection refused".to_string(),
        since,
    };
    model.apply(Update::Status(SourceKind::Scrape, down(10.0)));
    model.apply(Update::Status(SourceKind::Scrape, down(15.0)));
    assert_eq!(model.live.sources[&SourceKind::Scrape], down(10.0));
    model.apply(Update::Status(
        SourceKind::Scrape,
        SourceStatus::Ok { at: 20.0 },
    ));
    let texts: Vec<&str> = model.live.logs.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "gameday: metrics down: connection refused",
            "gameday: metrics back"
        ]
    );
}

#[test]
fn memory_comes_from_the_more_direct_source_only() {
    let mut model = model();
    model.apply(Update::Signals {
        source: SourceKind::Scrape,
        at: NOW,
        values: vec![(Signal::MemoryBytes, 1.0), (Signal::Rps, 20.0)],
    });
    model.apply(Update::Signals {
        source: SourceKind::Process,
        at: NOW,
        values: vec![(Signal::MemoryBytes, 2.0)],
    });
    assert_eq!(model.current(Signal::MemoryBytes), Some(2.0));
    assert_eq!(model.current(Signal::Rps), Some(20.0));
}

#[test]
fn prometheus_history_fills_only_the_signals_prometheus_owns() {
    let mut target = TargetInfo::embedded("http://127.0.0.1:5000".to_string());
    target.metrics_source = SourceKind::Prometheus;
    target.memory_source = Some(SourceKind::Docker);
    let mut model = Model::for_target(target, &[SourceKind::Prometheus], false, NOW);
    let history = |signal| Update::History {
        signal,
        samples: vec![Sample {
            at: NOW - 5.0,
            value: 7.0,
        }],
    };
    model.apply(history(Signal::Rps));
    model.apply(history(Signal::MemoryBytes));
    assert_eq!(model.current(Signal::Rps), Some(7.0));
    assert_eq!(model.current(Signal::MemoryBytes), None);
}

#[test]
fn alerts_come_from_prometheus_only_when_rules_are_not_local() {
    let alert = AlertStatus {
        name: "HighLatency".to_string(),
        severity: Severity::Warning,
        state: AlertState::Firing,
        active_since: Some(NOW - 60.0),
        fired_at: Some(NOW - 30.0),
        value: Some(2.0),
        for_seconds: Some(30.0),
    };
    let mut local = model();
    local.apply(Update::Alerts(vec![alert.clone()]));
    assert!(
        local
            .live
            .alerts
            .iter()
            .all(|a| a.state != AlertState::Firing)
    );
    let target = TargetInfo::embedded("http://127.0.0.1:5000".to_string());
    let mut remote = Model::for_target(target, &[SourceKind::Prometheus], false, NOW);
    remote.apply(Update::Alerts(vec![alert.clone()]));
    assert_eq!(remote.live.alerts, [alert]);
}

#[test]
fn failures_logs_lifecycle_and_capabilities_are_kept() {
    let mut model = model();
    let view = FailureView {
        knobs: vec![("error_rate".to_string(), 30.0)],
        ..FailureView::default()
    };
    model.apply(Update::Failures(view.clone()));
    assert_eq!(model.live.failures, Some(view));
    let line = |n: usize| LogLine {
        at: NOW,
        level: LogLevel::Info,
        text: format!("{n}"),
    };
    model.apply(Update::Logs(
        (0..live::LOG_CAPACITY + 5).map(line).collect(),
    ));
    assert_eq!(model.live.logs.len(), live::LOG_CAPACITY);
    assert_eq!(model.live.logs.front().map(|l| l.text.as_str()), Some("5"));
    model.apply(Update::Lifecycle {
        event: "sandbox restarted (1)".to_string(),
    });
    assert_eq!(
        model.live.lifecycle,
        Some((NOW, "sandbox restarted (1)".to_string()))
    );
    model.apply(Update::Capabilities(Capabilities::sandbox_with_every_knob()));
    assert!(model.live.capabilities.is_some());
}

#[test]
fn a_drill_asked_for_starts_when_the_target_is_known() {
    let mut model = model();
    let case = model.session.cases[0].clone();
    model.drill_start.requested = Some(DrillRequest {
        case,
        blind: false,
        manual_inject: false,
        diagnoses: Vec::new(),
    });
    update(&mut model, Msg::Started);
    assert!(model.drill.as_ref().is_some_and(|d| d.machine.is_none()));
    // The briefing first: the target being known starts nothing until Enter.
    assert_eq!(model.view.modal, Some(Modal::Briefing));
    let effects = model.apply(Update::Capabilities(Capabilities::sandbox_with_every_knob()));
    // Our own sandbox: a drill's load there is not held to a few requests in flight.
    assert_eq!(effects, [Effect::OwnSandbox]);
    assert!(model.drill.as_ref().is_some_and(|d| d.machine.is_none()));
    let effects = act(&mut model, Action::ModalKey(KeyCode::Enter));
    assert_eq!(phase(&model), Some(Phase::Baseline));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::DrillLoad(Some(_)))),
        "the case's load starts: {effects:?}"
    );
}

#[test]
fn a_drill_goes_through_detect_with_hints_ticks_and_records_written_elsewhere() {
    let mut model = model();
    let data = tempfile::tempdir().expect("a folder");
    model.session.data_dir = data.path().to_path_buf();
    drill_in_detect(&mut model);
    act(&mut model, Action::DrillDetect);
    let Some(Modal::Detect { choices, .. }) = &model.view.modal else {
        panic!("the detection question is open");
    };
    assert!(choices.contains(&modal::DetectChoice::Signal(Some(Signal::LatencyP95))));
    let effects = act(&mut model, Action::ModalKey(KeyCode::Enter));
    assert!(saves_record(&effects), "{effects:?}");
    assert_eq!(phase(&model), Some(Phase::Respond));
    assert!(saves_record(&act(&mut model, Action::DrillHint)));
    assert!(saves_record(&act(&mut model, Action::DrillCheck(0))));
    // The model only asks; the runner writes.
    let sessions = data.path().join("sessions");
    assert!(!sessions.exists(), "nothing written by update");
    let path = model
        .drill
        .as_ref()
        .and_then(|d| d.record_path.clone())
        .expect("the record's path is known");
    assert!(path.starts_with(&sessions));
    // The participant's reset is an action of the drill.
    let effects = model.apply(Update::Outcome(outcome(
        Done::FailureReset,
        "POST /api/reset",
        true,
    )));
    assert!(saves_record(&effects) || phase(&model) == Some(Phase::Respond));
    update(
        &mut model,
        Msg::RecordNotSaved {
            reason: "disk full".to_string(),
        },
    );
    assert_eq!(
        model.drill.as_ref().and_then(|d| d.message.as_deref()),
        Some("cannot save the session record: disk full")
    );
}

#[test]
fn detection_before_the_fault_is_refused_with_a_message() {
    let mut model = model();
    model.apply(Update::Capabilities(Capabilities::sandbox_with_every_knob()));
    act(&mut model, Action::OpenCases);
    act(&mut model, Action::ModalKey(KeyCode::Enter));
    act(&mut model, Action::ModalKey(KeyCode::Enter));
    act(&mut model, Action::DrillDetect);
    assert_eq!(model.view.modal, None);
    assert_eq!(
        model.drill.as_ref().and_then(|d| d.message.as_deref()),
        Some("nothing to declare yet: the fault is not injected")
    );
}

#[test]
fn quitting_a_drill_records_it_abandoned() {
    let mut model = model();
    drill_in_detect(&mut model);
    // Asked first; `n` goes on with the drill, `y` quits.
    assert!(act(&mut model, Action::Quit).is_empty());
    assert_eq!(model.view.modal, Some(Modal::QuitDrill));
    act(&mut model, Action::ModalKey(KeyCode::Char('n')));
    assert_eq!(phase(&model), Some(Phase::Detect));
    act(&mut model, Action::Quit);
    let effects = act(&mut model, Action::ModalKey(KeyCode::Char('y')));
    assert!(saves_record(&effects));
    assert_eq!(effects.last(), Some(&Effect::Quit));
    assert_eq!(phase(&model), Some(Phase::Abandoned));
    act(&mut model, Action::CloseDrill);
    assert!(model.drill.is_none());
}

#[test]
fn a_load_change_by_the_participant_is_told_to_the_drill() {
    let mut model = model();
    drill_in_detect(&mut model);
    update(
        &mut model,
        Msg::LoadChanged {
            rate: 2.0,
            profile: "steady".into(),
            by_user: true,
        },
    );
    let actions = model
        .drill
        .as_ref()
        .and_then(|d| d.machine.as_ref())
        .map(|m| m.state().actions.len());
    assert_eq!(actions, Some(1));
    update(
        &mut model,
        Msg::DrillLoadFailed {
            reason: "bad profile".into(),
        },
    );
    assert!(
        model
            .live
            .logs
            .back()
            .is_some_and(|l| l.text.contains("bad profile"))
    );
}

#[test]
fn the_clock_refreshes_the_load_figures() {
    let mut model = model();
    update(
        &mut model,
        Msg::LoadChanged {
            rate: 20.0,
            profile: "steady".into(),
            by_user: false,
        },
    );
    let snapshot =
        crate::load::stats::Recorder::new(tokio::time::Instant::now()).snapshot("steady", 20.0);
    update(
        &mut model,
        Msg::Tick {
            load: Some(Box::new(snapshot.clone())),
        },
    );
    assert_eq!(
        model.live.load.as_ref().and_then(|l| l.snapshot.clone()),
        Some(snapshot)
    );
}

#[test]
fn keys_resolve_in_context() {
    let mut model = model();
    assert_eq!(
        press(&model, KeyCode::Char('l')),
        Some(Action::Inject(Preset::Latency))
    );
    assert_eq!(
        press(&model, KeyCode::Char('+')),
        None,
        "no load, no load keys"
    );
    model.live.load = Some(LoadStatus {
        rate: 20.0,
        profile: "steady".into(),
        snapshot: None,
    });
    assert_eq!(press(&model, KeyCode::Char('=')), Some(Action::LoadFaster));
    assert_eq!(press(&model, KeyCode::Up), Some(Action::FocusPrevious));
    model.view.focus = PanelId::Logs;
    model.view.zoomed = true;
    assert_eq!(press(&model, KeyCode::Up), Some(Action::ScrollLog(1)));
    assert_eq!(press(&model, KeyCode::Esc), Some(Action::Unzoom));
    model.view.help = true;
    assert_eq!(press(&model, KeyCode::Char('x')), Some(Action::CloseHelp));
    assert_eq!(press(&model, KeyCode::Char('q')), Some(Action::Quit));
    model.view.help = false;
    model.session.read_only = true;
    assert_eq!(press(&model, KeyCode::Char('l')), None);
    assert_eq!(press(&model, KeyCode::Char('c')), None);
    let release = KeyEvent::new_with_kind(
        KeyCode::Char('q'),
        KeyModifiers::NONE,
        KeyEventKind::Release,
    );
    assert_eq!(model.action_for(release), None);
}

#[test]
fn dialogs_take_every_key_but_ctrl_c() {
    let mut model = external_with_failure();
    act(&mut model, Action::Quit);
    assert_eq!(
        press(&model, KeyCode::Char('q')),
        Some(Action::ModalKey(KeyCode::Char('q')))
    );
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(model.action_for(ctrl_c), Some(Action::ForceQuit));
    model.view.modal = None;
    assert_eq!(model.action_for(ctrl_c), Some(Action::Quit));
}

#[test]
fn drill_keys_apply_while_a_drill_runs_and_esc_closes_its_review() {
    let mut model = model();
    assert_eq!(press(&model, KeyCode::Char('c')), Some(Action::OpenCases));
    assert_eq!(press(&model, KeyCode::Enter), None);
    drill_in_detect(&mut model);
    assert_eq!(press(&model, KeyCode::Enter), Some(Action::DrillDetect));
    assert_eq!(press(&model, KeyCode::Char('h')), Some(Action::DrillHint));
    assert_eq!(
        press(&model, KeyCode::Char('3')),
        Some(Action::DrillCheck(2))
    );
    assert_eq!(press(&model, KeyCode::Char('c')), None);
    act(&mut model, Action::Quit);
    act(&mut model, Action::ModalKey(KeyCode::Char('y')));
    assert_eq!(press(&model, KeyCode::Esc), Some(Action::CloseDrill));
}

#[test]
fn a_resume_offer_is_asked_first_and_a_refusal_records_it_abandoned() {
    let mut model = model();
    let data = tempfile::tempdir().expect("a folder");
    model.session.data_dir = data.path().to_path_buf();
    drill_in_detect(&mut model);
    let Some(Effect::SaveRecord { record, .. }) =
        model.drill.as_mut().and_then(|drill| drill.save())
    else {
        panic!("a record to save");
    };
    let path = data.path().join("sessions").join(record.file_name());
    let mut fresh = self::model();
    fresh.session.data_dir = data.path().to_path_buf();
    fresh.drill_start.resume_offer = Some((path.clone(), *record.clone()));
    update(&mut fresh, Msg::Started);
    assert_eq!(
        fresh.view.modal,
        Some(Modal::Resume {
            case_id: "latency".to_string()
        })
    );
    let effects = act(&mut fresh, Action::ModalKey(KeyCode::Char('n')));
    let [Effect::SaveRecord { record: saved, .. }] = effects.as_slice() else {
        panic!("the refused drill is recorded: {effects:?}");
    };
    assert_eq!(saved.outcome, crate::drill::record::Outcome::Abandoned);
    assert!(fresh.drill.is_none());

    let mut again = self::model();
    again.drill_start.resume_offer = Some((path, *record));
    update(&mut again, Msg::Started);
    let effects = act(&mut again, Action::ModalKey(KeyCode::Enter));
    assert_eq!(phase(&again), Some(Phase::Detect));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::DrillLoad(Some(_))))
    );
}

#[test]
fn detection_is_timed_at_enter_not_when_the_answer_is_chosen() {
    let mut model = model();
    drill_in_detect(&mut model);
    let pressed = model.now + 2.0;
    model.now = pressed;
    act(&mut model, Action::DrillDetect);
    // The participant reads the question for four seconds before answering.
    model.now = pressed + 4.0;
    act(&mut model, Action::ModalKey(KeyCode::Down));
    act(&mut model, Action::ModalKey(KeyCode::Enter));
    let detected_at = model
        .drill
        .as_ref()
        .and_then(|d| d.machine.as_ref())
        .and_then(|m| m.state().detection.as_ref())
        .map(|detection| detection.at);
    assert_eq!(detected_at, Some(pressed));
}

#[test]
fn a_load_change_during_the_baseline_is_not_the_first_action() {
    let mut model = model();
    model.apply(Update::Capabilities(Capabilities::sandbox_with_every_knob()));
    act(&mut model, Action::OpenCases);
    act(&mut model, Action::ModalKey(KeyCode::Enter));
    act(&mut model, Action::ModalKey(KeyCode::Enter));
    update(
        &mut model,
        Msg::LoadChanged {
            rate: 3.0,
            profile: "steady".into(),
            by_user: true,
        },
    );
    let machine = model.drill.as_ref().and_then(|d| d.machine.as_ref());
    assert_eq!(
        machine.map(|m| m.state().actions.len()),
        Some(1),
        "recorded"
    );
    assert_eq!(
        machine.and_then(|m| m.state().first_action_at()),
        None,
        "but not a response to a fault that is not there yet"
    );
}

#[test]
fn a_reset_that_failed_is_recorded_with_its_answer_and_removes_nothing() {
    let mut model = model();
    drill_in_detect(&mut model);
    let effects = model.apply(Update::Outcome(outcome(
        Done::FailureReset,
        "POST /api/reset",
        false,
    )));
    assert!(saves_record(&effects));
    let machine = model
        .drill
        .as_ref()
        .and_then(|d| d.machine.as_ref())
        .expect("a drill");
    let last = machine.state().actions.last().expect("recorded");
    assert_eq!(last.failed.as_deref(), Some("500 boom"));
    assert_eq!(
        machine.phase(),
        Phase::Detect,
        "a failed reset recovers nothing"
    );
    assert_eq!(machine.state().first_action_at(), None);
}

#[test]
fn the_apis_health_is_kept_and_every_change_logged() {
    use crate::sources::health::ApiHealth;
    let mut model = model();
    model.apply(Update::Health(ApiHealth::Ok));
    assert!(model.live.logs.is_empty(), "a healthy start says nothing");
    model.apply(Update::Health(ApiHealth::Degraded {
        database: "error: connection refused".to_string(),
    }));
    model.apply(Update::Health(ApiHealth::Degraded {
        database: "error: connection refused".to_string(),
    }));
    model.apply(Update::Health(ApiHealth::Ok));
    let texts: Vec<&str> = model.live.logs.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "gameday: api health: degraded (503), database: error: connection refused",
            "gameday: api health: ok (200)"
        ]
    );
    assert_eq!(model.live.health, Some((ApiHealth::Ok, NOW)));
}

#[test]
fn several_processes_behind_the_address_are_logged_once_each_way() {
    let mut model = model();
    model.apply(Update::Processes(1));
    model.apply(Update::Processes(2));
    model.apply(Update::Processes(2));
    model.apply(Update::Processes(1));
    assert_eq!(model.live.processes, 1);
    let texts: Vec<&str> = model.live.logs.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(
        texts[0].starts_with("gameday: 2 processes answer"),
        "{texts:?}"
    );
}

#[test]
fn prometheus_losing_the_target_is_logged_once_each_way() {
    let mut model = model();
    model.apply(Update::TargetUp(Some(true)));
    model.apply(Update::TargetUp(Some(false)));
    model.apply(Update::TargetUp(Some(false)));
    model.apply(Update::TargetUp(Some(true)));
    assert_eq!(model.live.target_up, Some(true));
    let texts: Vec<&str> = model.live.logs.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "gameday: Prometheus cannot scrape the FinCore target (up = 0)",
            "gameday: Prometheus scrapes the FinCore target again (up = 1)"
        ]
    );
}

#[test]
fn a_failure_state_changed_outside_gameday_is_logged_and_shown_with_why() {
    let view = |latency: f64| FailureView {
        knobs: vec![("latency_ms".to_string(), latency)],
        ..FailureView::default()
    };
    let warnings = |model: &Model| -> Vec<String> {
        model
            .live
            .logs
            .iter()
            .filter(|line| line.level == LogLevel::Warn)
            .map(|line| line.text.clone())
            .collect()
    };
    let mut model = model();
    model.apply(Update::Failures(view(0.0)));
    // Someone else injects: said, with the knob.
    model.apply(Update::Failures(view(2000.0)));
    assert_eq!(
        warnings(&model),
        ["gameday: the failure state changed outside gameday: latency_ms 0 → 2000"]
    );
    assert!(model.live.failures_changed_outside.is_some());
    // Our own reset, answered, then read back: not news.
    model.apply(Update::Outcome(outcome(
        Done::FailureReset,
        "POST /api/reset",
        true,
    )));
    model.apply(Update::Failures(view(0.0)));
    assert_eq!(warnings(&model).len(), 1);

    // A restart loses the injected failure.
    let mut model = crate::model::update_tests::model();
    model.apply(Update::Failures(view(2000.0)));
    model.apply(Update::Lifecycle {
        event: "sandbox killed: out of memory".to_string(),
    });
    model.apply(Update::Failures(view(0.0)));
    assert_eq!(
        warnings(&model),
        ["gameday: the failure state lost when the app restarted: latency_ms 2000 → 0"]
    );
}

#[test]
fn the_briefing_can_be_cancelled_and_c_offers_a_blind_drill() {
    let mut model = model();
    model.apply(Update::Capabilities(Capabilities::sandbox_with_every_knob()));
    act(&mut model, Action::OpenCases);
    act(&mut model, Action::ModalKey(KeyCode::Enter));
    assert_eq!(model.view.modal, Some(Modal::Briefing));
    act(&mut model, Action::ModalKey(KeyCode::Esc));
    assert!(model.drill.is_none(), "cancelled at the briefing");

    act(&mut model, Action::OpenCases);
    act(&mut model, Action::ModalKey(KeyCode::Char('b')));
    assert_eq!(model.view.modal, Some(Modal::Briefing));
    let request = model
        .drill
        .as_ref()
        .map(|d| d.request().clone())
        .expect("a drill");
    assert!(request.blind);
    assert_eq!(request.diagnoses.len(), model.session.cases.len());
    act(&mut model, Action::ModalKey(KeyCode::Enter));
    assert_eq!(phase(&model), Some(Phase::Baseline));
}

#[test]
fn the_detection_question_is_open_and_naming_something_ticks_the_item_that_asks_for_it() {
    let mut model = model();
    drill_in_detect(&mut model);
    // As the local rules would have it after a while.
    model.live.alerts.push(AlertStatus {
        name: "HighErrorRate".to_string(),
        severity: Severity::Warning,
        state: AlertState::Pending,
        active_since: Some(NOW),
        fired_at: None,
        value: Some(0.3),
        for_seconds: Some(60.0),
    });
    act(&mut model, Action::DrillDetect);
    let Some(Modal::Detect { choices, .. }) = model.view.modal.clone() else {
        panic!("the detection question is open");
    };
    // Not only the case's own signals: every panel's, the active alerts, the log, a user.
    for expected in [
        modal::DetectChoice::Signal(None),
        modal::DetectChoice::Signal(Some(Signal::ErrorRatio)),
        modal::DetectChoice::Signal(Some(Signal::MemoryBytes)),
        modal::DetectChoice::Alert("HighErrorRate".to_string()),
        modal::DetectChoice::Log,
        modal::DetectChoice::Complaint,
    ] {
        assert!(choices.contains(&expected), "{expected:?} in {choices:?}");
    }
    let complaint = choices
        .iter()
        .position(|c| *c == modal::DetectChoice::Complaint)
        .expect("a complaint");
    for _ in 0..complaint {
        act(&mut model, Action::ModalKey(KeyCode::Down));
    }
    act(&mut model, Action::ModalKey(KeyCode::Enter));
    let machine = model
        .drill
        .as_ref()
        .and_then(|d| d.machine.as_ref())
        .expect("a machine");
    let detection = machine.state().detection.clone().expect("declared");
    assert_eq!(detection.source.as_deref(), Some("user complaint"));
    assert_eq!(detection.signal, None);
    // The latency case's "Say which signal showed the problem first" is ticked by the answer.
    let detect = crate::drill::Step::Detect.index();
    let items = machine.case().checklist_for(crate::drill::Step::Detect);
    let asked = items
        .iter()
        .position(|item| item.on_detection)
        .expect("an item ticked by the answer");
    assert!(machine.state().checklist[detect][asked].done_at.is_some());
}

/// A drill resumed in Detect whose fault did not outlive the stop: the first read of the
/// failure state asks what to do; Enter injects again, `a` records it abandoned. A fault
/// still on the target lets the drill go on without asking.
#[test]
fn a_resumed_drill_whose_fault_is_gone_asks_to_inject_again_or_abandon() {
    let data = tempfile::tempdir().expect("a folder");
    let mut model = model();
    model.session.data_dir = data.path().to_path_buf();
    drill_in_detect(&mut model);
    let Some(Effect::SaveRecord { record, .. }) =
        model.drill.as_mut().and_then(|drill| drill.save())
    else {
        panic!("a record to save");
    };
    let path = data.path().join("sessions").join(record.file_name());
    let resumed = |record: &crate::drill::record::SessionRecord| {
        let mut fresh = self::model();
        fresh.session.data_dir = data.path().to_path_buf();
        fresh.drill_start.resume_offer = Some((path.clone(), record.clone()));
        update(&mut fresh, Msg::Started);
        act(&mut fresh, Action::ModalKey(KeyCode::Enter));
        assert_eq!(phase(&fresh), Some(Phase::Detect));
        fresh
    };
    let clean = FailureView {
        knobs: vec![("latency_ms".to_string(), 0.0)],
        ..FailureView::default()
    };

    let mut again = resumed(&record);
    update(&mut again, Msg::Source(Update::Failures(clean.clone())));
    assert_eq!(again.view.modal, Some(Modal::FaultGone));
    let effects = act(&mut again, Action::ModalKey(KeyCode::Enter));
    assert!(
        effects.iter().any(|e| matches!(e, Effect::Send(_))),
        "the fault is sent again: {effects:?}"
    );
    assert_eq!(phase(&again), Some(Phase::Inject));
    assert_eq!(again.view.modal, None);

    let mut abandoned = resumed(&record);
    update(&mut abandoned, Msg::Source(Update::Failures(clean)));
    act(&mut abandoned, Action::ModalKey(KeyCode::Char('a')));
    assert_eq!(phase(&abandoned), Some(Phase::Abandoned));

    let mut still_there = resumed(&record);
    let faulty = FailureView {
        knobs: vec![("latency_ms".to_string(), 2000.0)],
        ..FailureView::default()
    };
    update(&mut still_there, Msg::Source(Update::Failures(faulty)));
    assert_eq!(still_there.view.modal, None);
    assert_eq!(phase(&still_there), Some(Phase::Detect));
}

/// `n` opens a note at any phase of a drill; what is typed goes into the record at Enter,
/// Esc throws it away.
#[test]
fn a_note_typed_in_a_drill_goes_into_its_record() {
    let mut model = model();
    drill_in_detect(&mut model);
    assert_eq!(press(&model, KeyCode::Char('n')), Some(Action::DrillNote));
    act(&mut model, Action::DrillNote);
    for c in "pool at 10/10".chars() {
        act(&mut model, Action::ModalKey(KeyCode::Char(c)));
    }
    act(&mut model, Action::ModalKey(KeyCode::Backspace));
    // While typing, keys are text: `q` does not quit, `h` opens no hint.
    assert_eq!(
        press(&model, KeyCode::Char('q')),
        Some(Action::ModalKey(KeyCode::Char('q')))
    );
    let effects = act(&mut model, Action::ModalKey(KeyCode::Enter));
    assert!(saves_record(&effects), "{effects:?}");
    assert_eq!(model.view.modal, None);
    let notes: Vec<String> = model
        .drill
        .as_ref()
        .and_then(|drill| drill.machine.as_ref())
        .map(|machine| {
            machine
                .state()
                .notes
                .iter()
                .map(|n| n.text.clone())
                .collect()
        })
        .unwrap_or_default();
    assert!(notes.contains(&"pool at 10/1".to_string()), "{notes:?}");

    act(&mut model, Action::DrillNote);
    act(&mut model, Action::ModalKey(KeyCode::Char('x')));
    let effects = act(&mut model, Action::ModalKey(KeyCode::Esc));
    assert!(effects.is_empty());
    assert_eq!(model.view.modal, None);
}

fn provider_view(pairs: &[(&str, f64)]) -> crate::fincore::dependency::ProviderFailureView {
    crate::fincore::dependency::ProviderFailureView {
        knobs: pairs
            .iter()
            .map(|(name, value)| (name.to_string(), *value))
            .collect(),
    }
}

fn patterns_view(timeout_on: bool) -> crate::pattern_settings::PatternConfig {
    crate::pattern_settings::PatternConfig::from_json(&serde_json::json!({
        "timeout": {"enabled": timeout_on, "ms": 200},
        "retry": {"enabled": false, "max_attempts": 3, "base_ms": 100, "max_ms": 2000, "jitter": true},
        "circuit_breaker": {"enabled": false, "failure_ratio": 0.5, "window_s": 10, "min_calls": 10, "open_s": 5, "half_open_probes": 3},
        "bulkhead": {"enabled": false, "max_concurrent": 10},
        "fallback": {"enabled": false},
    }))
    .expect("a read-back")
}

#[test]
fn the_providers_failures_and_the_patterns_are_kept_and_outside_changes_logged() {
    let warnings = |model: &Model| -> Vec<String> {
        model
            .live
            .logs
            .iter()
            .filter(|line| line.level == LogLevel::Warn)
            .map(|line| line.text.clone())
            .collect()
    };
    let mut model = model();
    assert_eq!(model.live.provider_failures, None);
    assert_eq!(model.live.patterns, None);
    model.apply(Update::ProviderFailures(provider_view(&[
        ("error_rate", 0.0),
        ("latency_ms", 0.0),
    ])));
    model.apply(Update::Patterns(patterns_view(false)));
    assert!(warnings(&model).is_empty(), "the first read is no change");
    // Someone else sets the provider's latency and switches the timeout on: said.
    model.apply(Update::ProviderFailures(provider_view(&[
        ("error_rate", 0.0),
        ("latency_ms", 3000.0),
    ])));
    model.apply(Update::Patterns(patterns_view(true)));
    assert_eq!(
        warnings(&model),
        [
            "gameday: the provider's failure state changed outside gameday: latency_ms 0 → 3000",
            "gameday: the patterns changed outside gameday: timeout on",
        ]
    );
    assert_eq!(
        model
            .live
            .provider_failures
            .as_ref()
            .and_then(|view| view.value("latency_ms")),
        Some(3000.0)
    );
    assert!(model.live.patterns.is_some_and(|view| view.timeout.enabled));
    // Our own change, answered and read back: not news.
    model.apply(Update::Outcome(outcome(
        Done::PatternChange {
            body: serde_json::json!({"timeout": {"enabled": false}}),
        },
        r#"POST /api/patterns {"timeout":{"enabled":false}}"#,
        true,
    )));
    model.apply(Update::Patterns(patterns_view(false)));
    model.apply(Update::Outcome(outcome(
        Done::ProviderReset,
        "POST http://127.0.0.1:4000/api/reset",
        true,
    )));
    model.apply(Update::ProviderFailures(provider_view(&[
        ("error_rate", 0.0),
        ("latency_ms", 0.0),
    ])));
    assert_eq!(warnings(&model).len(), 2);
    assert!(
        model
            .live
            .patterns
            .is_some_and(|view| !view.timeout.enabled)
    );
}

#[test]
fn dependency_requests_are_noted_in_flight_and_their_outcomes_logged() {
    let mut model = model();
    let request = TargetRequest::ProviderFailures {
        knobs: vec![("latency_ms".to_string(), serde_json::json!(3000))],
    };
    assert_eq!(request.describe(), "set provider failures");
    assert_eq!(
        TargetRequest::ProviderReset.describe(),
        "reset the provider"
    );
    let patterns = TargetRequest::Patterns {
        body: serde_json::json!({"retry": {"enabled": true}}),
    };
    assert_eq!(patterns.describe(), "switch patterns");
    let body = serde_json::json!({"latency_ms": 3000});
    let mut answered = outcome(
        Done::ProviderFailureChange { body },
        r#"POST http://127.0.0.1:4000/api/failures {"latency_ms":3000}"#,
        true,
    );
    answered.notes = vec!["the provider has latency_ms 3000".to_string()];
    model.requests.pending = Some("set provider failures".to_string());
    model.apply(Update::Outcome(answered));
    assert_eq!(model.requests.pending, None);
    let last = model.live.logs.back().map(|line| line.text.clone());
    assert_eq!(
        last.as_deref(),
        Some(
            r#"gameday: POST http://127.0.0.1:4000/api/failures {"latency_ms":3000} → 200 updated; the provider has latency_ms 3000"#
        )
    );
    // A provider failure injects a fault; the patterns and the provider's reset are remedies.
    assert!(
        Done::ProviderFailureChange {
            body: serde_json::json!({})
        }
        .changes_the_target()
    );
    assert!(Done::ProviderReset.is_remedy());
    assert!(
        Done::PatternChange {
            body: serde_json::json!({})
        }
        .is_remedy()
    );
}

fn sandbox_with_provider() -> Capabilities {
    let mut capabilities = Capabilities::sandbox_with_every_knob();
    capabilities.provider = Some(crate::fincore::dependency::ProviderInfo {
        url: "http://127.0.0.1:4000".to_string(),
        embedded: true,
    });
    capabilities.patterns = true;
    capabilities
}

#[test]
fn the_dependency_keys_open_their_dialogs_and_send_what_was_changed() {
    let mut model = model();
    model.apply(Update::Capabilities(sandbox_with_provider()));
    model.apply(Update::ProviderFailures(provider_view(&[(
        "latency_ms",
        0.0,
    )])));
    model.apply(Update::Patterns(patterns_view(false)));
    assert!(model.key_context().has_dependency);
    // `P`: the provider's dialog; latency one step up, Enter sends it.
    assert_eq!(
        press(&model, KeyCode::Char('P')),
        Some(Action::OpenProviderFailures)
    );
    act(&mut model, Action::OpenProviderFailures);
    assert!(matches!(model.view.modal, Some(Modal::Provider(_))));
    act(&mut model, Action::ModalKey(KeyCode::Right));
    let effects = act(&mut model, Action::ModalKey(KeyCode::Enter));
    assert_eq!(
        effects,
        [Effect::Send(TargetRequest::ProviderFailures {
            knobs: vec![("latency_ms".to_string(), serde_json::json!(500))]
        })]
    );
    assert_eq!(model.view.modal, None);
    assert_eq!(
        model.requests.pending.as_deref(),
        Some("set provider failures")
    );
    // `O` resets the provider at once.
    assert_eq!(
        press(&model, KeyCode::Char('O')),
        Some(Action::ResetProvider)
    );
    assert_eq!(
        act(&mut model, Action::ResetProvider),
        [Effect::Send(TargetRequest::ProviderReset)]
    );
    // `b`: the patterns; the timeout switched on.
    assert_eq!(
        press(&model, KeyCode::Char('b')),
        Some(Action::OpenPatterns)
    );
    act(&mut model, Action::OpenPatterns);
    act(&mut model, Action::ModalKey(KeyCode::Char(' ')));
    let effects = act(&mut model, Action::ModalKey(KeyCode::Enter));
    assert_eq!(
        effects,
        [Effect::Send(TargetRequest::Patterns {
            body: serde_json::json!({"timeout": {"enabled": true}})
        })]
    );
}

#[test]
fn a_target_without_a_dependency_says_so_and_read_only_refuses_the_keys() {
    let warnings = |model: &Model| -> Vec<String> {
        model
            .live
            .logs
            .iter()
            .filter(|line| line.level == LogLevel::Warn)
            .map(|line| line.text.clone())
            .collect()
    };
    // The workshop service names no provider and has no patterns.
    let mut model = model();
    model.apply(Update::Capabilities(Capabilities::from_workshop(&[
        "latency_ms".to_string(),
    ])));
    assert!(!model.key_context().has_dependency);
    for action in [
        Action::OpenProviderFailures,
        Action::ResetProvider,
        Action::OpenPatterns,
    ] {
        assert!(act(&mut model, action).is_empty());
        assert_eq!(model.view.modal, None);
    }
    assert_eq!(
        warnings(&model),
        [
            "gameday: this target names no payment provider: it has no provider failures to set",
            "gameday: this target names no payment provider: it has no provider failures to set",
            "gameday: this target has no resilience patterns to switch",
        ]
    );
    // Not in the key bar there, but in the help, and still pressed.
    let bar: Vec<&str> = model
        .session
        .keys
        .bar(model.key_context())
        .map(|binding| binding.name)
        .collect();
    assert!(!bar.contains(&"patterns"), "{bar:?}");
    assert!(
        model
            .session
            .keys
            .help(model.key_context())
            .any(|b| b.name == "patterns")
    );
    assert_eq!(
        press(&model, KeyCode::Char('b')),
        Some(Action::OpenPatterns)
    );
    // Read-only: the keys do nothing, like every change.
    let mut model = crate::model::update_tests::model();
    model.apply(Update::Capabilities(sandbox_with_provider()));
    model.session.read_only = true;
    assert_eq!(press(&model, KeyCode::Char('P')), None);
    assert_eq!(press(&model, KeyCode::Char('O')), None);
    assert_eq!(press(&model, KeyCode::Char('b')), None);
}

#[test]
fn a_pattern_change_of_ours_does_not_hide_an_outside_change_of_the_provider() {
    let mut model = model();
    model.apply(Update::ProviderFailures(provider_view(&[("down", 0.0)])));
    model.apply(Update::Outcome(outcome(
        Done::PatternChange {
            body: serde_json::json!({"timeout": {"enabled": true}}),
        },
        r#"POST /api/patterns {"timeout":{"enabled":true}}"#,
        true,
    )));
    model.apply(Update::ProviderFailures(provider_view(&[("down", 1.0)])));
    let last = model.live.logs.back().map(|line| line.text.clone());
    assert_eq!(
        last.as_deref(),
        Some("gameday: the provider's failure state changed outside gameday: down 0 → 1")
    );
}
