//! The one way the model changes: `update(&mut Model, Msg) -> Vec<Effect>`, for key actions,
//! source updates, the clock and the effects runner's reports alike. Pure: whatever reaches
//! beyond the model comes back as an [`Effect`].

use super::drill::{DrillRequest, DrillSession};
use super::keys::Action;
use super::modal::{DetectChoice, InjectForm, Modal, ModalResult, PatternsForm, ProviderForm};
use super::msg::{Effect, LoadChange, Msg, TargetRequest};
use super::{LiveData, LoadStatus, Model};
use crate::actions::ActionKind;
use crate::drill::PhaseMachine;
use crate::drill::record::SessionRecord;
use crate::signals::{Signal, UnixSeconds};
use crate::sources::{LogLevel, SourceKind, Update};

pub fn update(model: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Action(action) => apply_action(model, action),
        Msg::Source(source_update) => apply_source(model, source_update),
        Msg::Tick { load } => {
            if let (Some(drill), Some(snapshot)) = (model.drill.as_mut(), load.as_deref()) {
                drill.observe_clients(model.now, client_counts(snapshot.outcomes));
            }
            if let (Some(status), Some(snapshot)) = (model.live.load.as_mut(), load) {
                status.snapshot = Some(*snapshot);
            }
            with_drill(model, |drill, now| drill.tick(now))
        }
        Msg::LoadChanged {
            rate,
            profile,
            by_user,
        } => {
            let snapshot = model.live.load.take().and_then(|status| status.snapshot);
            model.live.load = Some(LoadStatus {
                rate,
                profile,
                snapshot,
            });
            if by_user {
                with_drill(model, |drill, now| drill.load_changed(rate, now))
            } else {
                Vec::new()
            }
        }
        Msg::LoadStopped => {
            model.live.load = None;
            Vec::new()
        }
        Msg::RequestRefused => {
            model.requests.pending = None;
            log(
                model,
                LogLevel::Warn,
                "gameday: still waiting for earlier requests; try again in a moment".to_string(),
            );
            Vec::new()
        }
        Msg::RecordNotSaved { reason } => {
            if let Some(drill) = model.drill.as_mut() {
                drill.message = Some(format!("cannot save the session record: {reason}"));
            }
            log(
                model,
                LogLevel::Error,
                format!("gameday: cannot save the session record: {reason}"),
            );
            Vec::new()
        }
        Msg::DrillLoadFailed { reason } => {
            log(
                model,
                LogLevel::Error,
                format!("gameday: the case's load: {reason}"),
            );
            Vec::new()
        }
        Msg::Started => offer_resume_or_start(model),
    }
}

fn log(model: &mut Model, level: LogLevel, text: String) {
    let now = model.now;
    model.live.push_log(now, level, text);
}

/// Runs `step` on the drill, if there is one; its log lines go to the log panel.
fn client_counts(outcomes: crate::load::UserOutcomes) -> crate::drill::impact::ClientCounts {
    crate::drill::impact::ClientCounts {
        requests: outcomes.requests,
        failed: outcomes.failed,
        slow: outcomes.slow,
        transfers: outcomes.transfers,
        transfers_failed: outcomes.transfers_failed,
        transfer_cents_failed: outcomes.transfer_cents_failed,
        payments: outcomes.payments,
        payments_failed: outcomes.payments_failed,
        payments_pending: outcomes.payments_pending,
        payment_cents_at_risk: outcomes.payment_cents_at_risk,
    }
}

fn with_drill(
    model: &mut Model,
    step: impl FnOnce(&mut DrillSession, UnixSeconds) -> Vec<Effect>,
) -> Vec<Effect> {
    let now = model.now;
    let Some(drill) = model.drill.as_mut() else {
        return Vec::new();
    };
    let effects = step(drill, now);
    for line in std::mem::take(&mut drill.log) {
        model.live.push_log(now, LogLevel::Info, line);
    }
    effects
}

/// Notes a request as in flight and hands it to the controller.
fn send(model: &mut Model, request: TargetRequest) -> Vec<Effect> {
    model.requests.pending = Some(request.describe());
    vec![Effect::Send(request)]
}

fn apply_source(model: &mut Model, source_update: Update) -> Vec<Effect> {
    match source_update {
        Update::Status(kind, status) => {
            if let Some((level, text)) = model.live.set_status(kind, status) {
                log(model, level, text);
            }
            Vec::new()
        }
        Update::Signals { source, at, values } => {
            let taken = model.live.push_signals(source, at, values);
            let effects = with_drill(model, |drill, _| drill.samples(&taken));
            tell_drill_alerts(model);
            effects
        }
        Update::History { signal, samples } => {
            model.live.extend_history(signal, samples);
            Vec::new()
        }
        Update::Alerts(alerts) => {
            if model.live.set_alerts(alerts) {
                tell_drill_alerts(model);
            }
            Vec::new()
        }
        Update::Failures(view) => {
            note_outside_change(model, &view);
            let effects = with_drill(model, |drill, now| drill.failures(&view, now));
            model.live.failures = Some(view);
            if model.drill.as_ref().is_some_and(|drill| drill.fault_lost) {
                model.view.modal = Some(Modal::FaultGone);
            }
            effects
        }
        Update::ProviderFailures(view) => {
            let ours = |kind: &ActionKind| {
                matches!(
                    kind,
                    ActionKind::ProviderFailureChange { .. } | ActionKind::ProviderReset
                )
            };
            note_dependency_change(model, "the provider's failure state", ours, |live| {
                let old = live.provider_failures.as_ref()?;
                Some(provider_differences(old, &view))
            });
            let effects = with_drill(model, |drill, now| drill.provider_failures(&view, now));
            model.live.provider_failures = Some(view);
            effects
        }
        Update::Patterns(view) => {
            let ours = |kind: &ActionKind| matches!(kind, ActionKind::PatternChange { .. });
            note_dependency_change(model, "the patterns", ours, |live| {
                let old = live.patterns.as_ref()?;
                Some(pattern_differences(old, &view))
            });
            let effects = with_drill(model, |drill, now| drill.patterns(&view, now));
            model.live.patterns = Some(view);
            effects
        }
        Update::Logs(mut lines) => {
            if conceals(model) {
                for line in &mut lines {
                    if names_a_knob(&line.text) {
                        line.text = "the failure state changed (hidden in a blind drill)".into();
                    }
                }
            }
            model.live.push_logs(lines);
            Vec::new()
        }
        Update::Lifecycle { event } => {
            model.live.lifecycle = Some((model.now, event));
            Vec::new()
        }
        Update::Health(health) => {
            let now = model.now;
            if let Some((level, text)) = model.live.set_health(health, now) {
                log(model, level, text);
            }
            Vec::new()
        }
        Update::TargetUp(up) => {
            if up != model.live.target_up {
                let change = match up {
                    Some(false) => Some((
                        LogLevel::Warn,
                        "gameday: Prometheus cannot scrape the FinCore target (up = 0)",
                    )),
                    Some(true) if model.live.target_up == Some(false) => Some((
                        LogLevel::Info,
                        "gameday: Prometheus scrapes the FinCore target again (up = 1)",
                    )),
                    None if model.live.target_up.is_some() => Some((
                        LogLevel::Warn,
                        "gameday: Prometheus no longer has a FinCore target",
                    )),
                    _ => None,
                };
                if let Some((level, text)) = change {
                    log(model, level, text.to_string());
                }
                model.live.target_up = up;
            }
            Vec::new()
        }
        Update::PatternsEnabled(patterns) => {
            model.live.patterns_enabled = patterns;
            Vec::new()
        }
        Update::Processes(count) => {
            if count != model.live.processes {
                let prometheus = model.session.target.metrics_source == SourceKind::Prometheus;
                let (level, text) = if count > 1 && prometheus {
                    (
                        LogLevel::Warn,
                        "gameday: several processes answer behind the target and each of \
                         Prometheus's scrapes sees one: its rates count every change of worker \
                         as a counter reset and are not reliable"
                            .to_string(),
                    )
                } else if count > 1 {
                    (
                        LogLevel::Warn,
                        format!(
                            "gameday: {count} processes answer behind the API's address and \
                             each scrape sees one: rates are added process by process (told \
                             apart by their start time); gauges show one process at a time"
                        ),
                    )
                } else {
                    (
                        LogLevel::Info,
                        "gameday: one process answers /metrics again".to_string(),
                    )
                };
                log(model, level, text);
                model.live.processes = count;
            }
            Vec::new()
        }
        Update::ReplayPosition { offset_s, finished } => {
            if let Some(replay) = model.replay.as_mut() {
                replay.position_s = offset_s.clamp(0.0, replay.length_s);
                replay.finished |= finished;
            }
            Vec::new()
        }
        Update::Capabilities(capabilities) => {
            let own = capabilities.sandbox;
            model.live.capabilities = Some(capabilities);
            // Before the drill's load starts, so that load is not held back.
            let mut effects = if own {
                vec![Effect::OwnSandbox]
            } else {
                Vec::new()
            };
            effects.extend(start_drill_if_ready(model));
            effects
        }
        Update::Outcome(outcome) => {
            model.requests.pending = None;
            let level = if outcome.ok {
                LogLevel::Info
            } else {
                LogLevel::Error
            };
            let mut text = format!("gameday: {} → {}", outcome.request, outcome.answer);
            for note in &outcome.notes {
                text.push_str("; ");
                text.push_str(note);
            }
            if conceals(model) && outcome.kind.changes_the_target() {
                text = format!(
                    "gameday: a failure was injected at {} (hidden in a blind drill)",
                    clock_utc(outcome.at)
                );
            }
            model.live.push_log(outcome.at, level, text);
            let mut effects = with_drill(model, |drill, _| drill.outcome(&outcome));
            let quit_now = model.requests.quitting && outcome.kind == ActionKind::FailureReset;
            model.requests.last_outcome = Some(outcome);
            if quit_now {
                effects.push(Effect::Quit);
            }
            effects
        }
    }
}

/// A change of ours shows in the read-back within this long of its answer.
const OWN_CHANGE_WINDOW_S: f64 = 10.0;
/// A knob whose time to live was this close to its end when last read expired by itself.
const TTL_SLACK_S: f64 = 3.0;

/// A failure state that changed although gameday sent nothing is said in the log and on the
/// failure panel, with why when it can be told: a time to live that ran out, a restart of the
/// app (which loses every injected failure), or someone else.
fn note_outside_change(model: &mut Model, view: &crate::fincore::FailureView) {
    let Some(old) = &model.live.failures else {
        return;
    };
    let differences = LiveData::failure_differences(old, view);
    if differences.is_empty() {
        return;
    }
    let now = model.now;
    let ours = model.requests.pending.is_some()
        || model.requests.last_outcome.as_ref().is_some_and(|outcome| {
            outcome.kind.changes_the_target() || outcome.kind == ActionKind::FailureReset
        } && now - outcome.at <= OWN_CHANGE_WINDOW_S);
    if ours {
        return;
    }
    let expired = view
        .knobs
        .iter()
        .filter(|(knob, value)| *value == 0.0 && old.value(knob).is_some_and(|v| v != 0.0))
        .all(|(knob, _)| old.ttl_of(knob).is_some_and(|left| left <= TTL_SLACK_S));
    let restarted = model
        .live
        .lifecycle
        .as_ref()
        .is_some_and(|(at, _)| now - at <= OWN_CHANGE_WINDOW_S);
    let all_cleared = !view.any_active();
    let why = if all_cleared && restarted {
        "lost when the app restarted"
    } else if all_cleared && expired {
        "its time to live ran out"
    } else {
        "changed outside gameday"
    };
    let text = if conceals(model) {
        format!("{why} (hidden in a blind drill)")
    } else {
        format!("{why}: {}", differences.join(", "))
    };
    log(
        model,
        LogLevel::Warn,
        format!("gameday: the failure state {text}"),
    );
    model.live.failures_changed_outside = Some((now, text));
}

/// A change of the provider's failures or of the patterns that gameday did not make (a drill's
/// script, curl, another dashboard) is said in the log, as the target's own failure state is.
fn note_dependency_change(
    model: &mut Model,
    what: &str,
    ours: impl Fn(&ActionKind) -> bool,
    differences: impl FnOnce(&LiveData) -> Option<Vec<String>>,
) {
    let Some(differences) = differences(&model.live) else {
        return;
    };
    if differences.is_empty() {
        return;
    }
    let now = model.now;
    let ours =
        model.requests.pending.is_some()
            || model.requests.last_outcome.as_ref().is_some_and(|outcome| {
                ours(&outcome.kind) && now - outcome.at <= OWN_CHANGE_WINDOW_S
            });
    if ours {
        return;
    }
    let text = if conceals(model) {
        format!("gameday: {what} changed outside gameday (hidden in a blind drill)")
    } else {
        format!(
            "gameday: {what} changed outside gameday: {}",
            differences.join(", ")
        )
    };
    log(model, LogLevel::Warn, text);
}

/// The provider's knobs that differ between two reads, as `name old → new`.
fn provider_differences(
    old: &crate::fincore::dependency::ProviderFailureView,
    new: &crate::fincore::dependency::ProviderFailureView,
) -> Vec<String> {
    new.knobs
        .iter()
        .filter(|(knob, value)| old.value(knob).unwrap_or(0.0) != *value)
        .map(|(knob, value)| format!("{knob} {} → {value}", old.value(knob).unwrap_or(0.0)))
        .collect()
}

/// The patterns switched on or off between two reads, as `name on` / `name off`, and the
/// other settings that changed as `name changed`.
fn pattern_differences(
    old: &crate::pattern_settings::PatternConfig,
    new: &crate::pattern_settings::PatternConfig,
) -> Vec<String> {
    let mut differences: Vec<String> = old
        .enabled()
        .iter()
        .zip(new.enabled())
        .filter(|((_, before), (_, now))| before != now)
        .map(|(_, (name, on))| format!("{name} {}", if on { "on" } else { "off" }))
        .collect();
    if differences.is_empty() && old != new {
        differences.push("settings changed".to_string());
    }
    differences
}

/// `HH:MM:SS` UTC, as the header's clock shows time.
fn clock_utc(at: UnixSeconds) -> String {
    chrono::DateTime::from_timestamp(at.max(0.0) as i64, 0).map_or_else(
        || "--:--:--".to_string(),
        |time| time.format("%H:%M:%S").to_string(),
    )
}

/// Whether a blind drill hides its cause now.
fn conceals(model: &Model) -> bool {
    model
        .drill
        .as_ref()
        .is_some_and(crate::model::DrillSession::conceals_cause)
}

/// Whether a line of the target's log names a failure knob (and so the cause).
fn names_a_knob(text: &str) -> bool {
    crate::knobs::names().any(|knob| text.contains(knob))
}

fn tell_drill_alerts(model: &mut Model) {
    let now = model.now;
    if let Some(drill) = model.drill.as_mut() {
        drill.alerts(&model.live.alerts, now);
    }
}

fn apply_action(model: &mut Model, action: Action) -> Vec<Effect> {
    match action {
        Action::Quit if model.drill_running() => {
            model.view.modal = Some(Modal::QuitDrill);
            Vec::new()
        }
        Action::Quit => quit_or_ask_to_reset(model),
        Action::ForceQuit => vec![Effect::Quit],
        Action::DrillDetect => {
            open_detection(model);
            Vec::new()
        }
        Action::DrillHint => with_drill(model, |drill, now| drill.hint(now)),
        Action::DrillNote => {
            if model.drill.is_some() {
                model.view.modal = Some(Modal::Note {
                    text: String::new(),
                });
            }
            Vec::new()
        }
        Action::DrillCheck(index) => with_drill(model, |drill, now| drill.toggle_item(now, index)),
        Action::OpenCases => {
            model.view.modal = Some(Modal::Cases {
                selected: 0,
                count: model.session.cases.len(),
            });
            Vec::new()
        }
        Action::CloseDrill => {
            model.drill = None;
            model.view.review_scroll = 0;
            Vec::new()
        }
        Action::Inject(preset) => send(model, TargetRequest::Preset(preset)),
        Action::ResetFailures => send(model, TargetRequest::Reset),
        Action::OpenInjectPanel => {
            let ttl_s = model.session.ttl.map(|ttl| ttl.as_secs());
            let form = InjectForm::new(
                model.live.failures.as_ref(),
                model.live.capabilities.as_ref(),
                ttl_s,
            );
            model.view.modal = Some(Modal::Inject(form));
            Vec::new()
        }
        Action::OpenContainers => {
            model.view.modal = Some(Modal::Containers { selected: 0 });
            Vec::new()
        }
        Action::OpenProviderFailures => {
            if let Some(why) = no_dependency(model, Dependency::Provider) {
                log(model, LogLevel::Warn, why);
            } else {
                let form = ProviderForm::new(model.live.provider_failures.as_ref());
                model.view.modal = Some(Modal::Provider(form));
            }
            Vec::new()
        }
        Action::ResetProvider => match no_dependency(model, Dependency::Provider) {
            Some(why) => {
                log(model, LogLevel::Warn, why);
                Vec::new()
            }
            None => send(model, TargetRequest::ProviderReset),
        },
        Action::OpenPatterns => {
            match (
                no_dependency(model, Dependency::Patterns),
                model.live.patterns.as_ref(),
            ) {
                (Some(why), _) => log(model, LogLevel::Warn, why),
                (None, None) => log(
                    model,
                    LogLevel::Warn,
                    "gameday: the patterns have not been read yet; try again in a moment"
                        .to_string(),
                ),
                (None, Some(view)) => {
                    model.view.modal = Some(Modal::Patterns(PatternsForm::new(view)));
                }
            }
            Vec::new()
        }
        Action::ModalKey(code) => {
            let result = match model.view.modal.as_mut() {
                Some(modal) => modal.handle(code),
                None => ModalResult::Close,
            };
            modal_result(model, result)
        }
        Action::LoadFaster => vec![Effect::Load(LoadChange::Faster)],
        Action::LoadSlower => vec![Effect::Load(LoadChange::Slower)],
        Action::NextProfile => vec![Effect::Load(LoadChange::NextProfile)],
        Action::FocusNext => {
            model.view.focus = model.view.focus.next(model.has_provider());
            Vec::new()
        }
        Action::FocusPrevious => {
            model.view.focus = model.view.focus.previous(model.has_provider());
            Vec::new()
        }
        Action::ToggleZoom => {
            model.view.zoomed = !model.view.zoomed;
            model.view.log_scroll = 0;
            Vec::new()
        }
        Action::Unzoom => {
            model.view.zoomed = false;
            model.view.log_scroll = 0;
            Vec::new()
        }
        Action::ToggleHelp => {
            model.view.help = !model.view.help;
            Vec::new()
        }
        Action::CloseHelp => {
            model.view.help = false;
            Vec::new()
        }
        Action::ToggleReplayPause => match model.replay.as_mut() {
            Some(replay) if !replay.finished => {
                replay.paused = !replay.paused;
                vec![Effect::PauseReplay(replay.paused)]
            }
            _ => Vec::new(),
        },
        Action::CycleTheme => {
            let names = &model.session.theme_names;
            let index = names
                .iter()
                .position(|name| *name == model.view.theme_name)
                .map_or(0, |i| (i + 1) % names.len().max(1));
            if let Some(name) = names.get(index) {
                model.view.theme_name = name.clone();
            }
            Vec::new()
        }
        Action::ScrollReview(rows) => {
            let most = model.view.review_scroll_most.get();
            let scroll = i64::try_from(model.view.review_scroll).unwrap_or(0) + i64::from(rows);
            model.view.review_scroll = usize::try_from(scroll.max(0)).unwrap_or(0).min(most);
            Vec::new()
        }
        Action::ScrollLog(lines) => {
            let most = model.live.logs.len().saturating_sub(1);
            let scroll = i64::try_from(model.view.log_scroll).unwrap_or(0) + i64::from(lines);
            model.view.log_scroll = usize::try_from(scroll.max(0)).unwrap_or(0).min(most);
            Vec::new()
        }
    }
}

/// What the dependency's keys control.
#[derive(Clone, Copy)]
enum Dependency {
    Provider,
    Patterns,
}

/// Why the target's dependency cannot be controlled, or None if it can: a target that names no
/// provider (the workshop service) or has no patterns is told so, not sent a request.
fn no_dependency(model: &Model, what: Dependency) -> Option<String> {
    let Some(capabilities) = &model.live.capabilities else {
        return Some(
            "gameday: the target has not said yet what it has; try again in a moment".to_string(),
        );
    };
    match what {
        Dependency::Provider if capabilities.provider.is_none() => Some(
            "gameday: this target names no payment provider: it has no provider failures to set"
                .to_string(),
        ),
        Dependency::Patterns if !capabilities.patterns => {
            Some("gameday: this target has no resilience patterns to switch".to_string())
        }
        _ => None,
    }
}

fn modal_result(model: &mut Model, result: ModalResult) -> Vec<Effect> {
    match result {
        ModalResult::ProviderFailures { knobs } => {
            model.view.modal = None;
            send(model, TargetRequest::ProviderFailures { knobs })
        }
        ModalResult::ProviderReset => {
            model.view.modal = None;
            send(model, TargetRequest::ProviderReset)
        }
        ModalResult::Patterns { body } => {
            model.view.modal = None;
            send(model, TargetRequest::Patterns { body })
        }
        ModalResult::Stay => Vec::new(),
        ModalResult::Close => {
            model.view.modal = None;
            Vec::new()
        }
        ModalResult::Confirm(container_action) => {
            model.view.modal = Some(Modal::Confirm(container_action));
            Vec::new()
        }
        ModalResult::Inject { knobs, ttl_s } => {
            model.view.modal = None;
            send(model, TargetRequest::Custom { knobs, ttl_s })
        }
        ModalResult::Container(container_action) => {
            model.view.modal = None;
            send(model, TargetRequest::Container(container_action))
        }
        ModalResult::Declare(choice) => {
            let pressed_at = match model.view.modal.take() {
                Some(Modal::Detect { pressed_at, .. }) => pressed_at,
                _ => model.now,
            };
            let (signal, source, diagnosis) = match choice {
                DetectChoice::Signal(signal) => (signal, None, None),
                DetectChoice::Alert(name) => (None, Some(format!("alert {name}")), None),
                DetectChoice::Log => (None, Some("log".to_string()), None),
                DetectChoice::Complaint => (None, Some("user complaint".to_string()), None),
                DetectChoice::Diagnosis { case_id, .. } => (None, None, Some(case_id)),
            };
            with_drill(model, |drill, _| {
                drill.declare(pressed_at, signal, source, diagnosis)
            })
        }
        ModalResult::PickCase(index) => {
            model.view.modal = None;
            match model.session.cases.get(index).cloned() {
                Some(case) => start_drill(
                    model,
                    DrillRequest {
                        case,
                        blind: false,
                        manual_inject: false,
                        diagnoses: Vec::new(),
                    },
                ),
                None => Vec::new(),
            }
        }
        ModalResult::PickBlind => {
            model.view.modal = None;
            let cases = model.session.cases.clone();
            // The clock's bits as the seed: a pure pick that differs from run to run.
            let seed = model.now.to_bits();
            let library = crate::drill::CaseLibrary::from_cases(cases);
            match library.pick_random(seed).cloned() {
                Some(case) => {
                    let diagnoses = library.diagnosis_choices(seed, crate::i18n::Lang::En);
                    start_drill(
                        model,
                        DrillRequest {
                            case,
                            blind: true,
                            manual_inject: false,
                            diagnoses,
                        },
                    )
                }
                None => Vec::new(),
            }
        }
        ModalResult::Begin(begin) => {
            model.view.modal = None;
            if begin {
                if let Some(drill) = model.drill.as_mut() {
                    drill.briefed = true;
                }
                start_drill_if_ready(model)
            } else {
                model.drill = None;
                Vec::new()
            }
        }
        ModalResult::QuitDrill => {
            model.view.modal = None;
            quit_or_ask_to_reset(model)
        }
        ModalResult::Note(text) => {
            model.view.modal = None;
            with_drill(model, |drill, now| drill.note(now, text))
        }
        ModalResult::FaultGone(inject_again) => {
            model.view.modal = None;
            with_drill(model, |drill, now| {
                drill.answer_fault_lost(inject_again, now)
            })
        }
        ModalResult::Resume(resume) => {
            model.view.modal = None;
            answer_resume(model, resume)
        }
        ModalResult::Quit { reset_first } => {
            model.view.modal = None;
            let mut effects = with_drill(model, |drill, now| drill.abandon(now, "quit"));
            if reset_first {
                model.requests.quitting = true;
                effects.extend(send(model, TargetRequest::Reset));
                effects.push(Effect::QuitAfterReset);
            } else {
                effects.push(Effect::Quit);
            }
            effects
        }
    }
}

/// Quits, first asking whether to reset failures that would outlive us; a drill under way is
/// recorded as abandoned.
fn quit_or_ask_to_reset(model: &mut Model) -> Vec<Effect> {
    if model.should_ask_before_quit() {
        model.view.modal = Some(Modal::QuitPrompt);
        return Vec::new();
    }
    let mut effects = with_drill(model, |drill, now| drill.abandon(now, "quit"));
    effects.push(Effect::Quit);
    effects
}

/// Enter in a drill: asks what told the participant, once the fault is in.
fn open_detection(model: &mut Model) {
    let open = model
        .drill
        .as_ref()
        .and_then(|d| d.machine.as_ref())
        .is_some_and(|m| {
            m.state().detection.is_none()
                && matches!(
                    m.phase(),
                    crate::drill::Phase::Detect
                        | crate::drill::Phase::Respond
                        | crate::drill::Phase::Recover
                )
        });
    if open {
        let choices = detect_choices(model);
        model.view.modal = Some(Modal::Detect {
            choices,
            selected: 0,
            pressed_at: model.now,
        });
    } else if let Some(drill) = model.drill.as_mut() {
        drill.message = Some("nothing to declare yet: the fault is not injected".to_string());
    }
}

/// What the participant may name at detection: the case's signals (or none), or, blind, every
/// case's cause.
fn detect_choices(model: &Model) -> Vec<DetectChoice> {
    let Some(drill) = &model.drill else {
        return Vec::new();
    };
    let request = drill.request();
    if request.blind {
        return request
            .diagnoses
            .iter()
            .map(|(case_id, label)| DetectChoice::Diagnosis {
                case_id: case_id.clone(),
                label: label.clone(),
            })
            .collect();
    }
    // The same question whatever the case, so the list cannot give the answer away: every
    // signal the panels show, the alerts active now, the log, a user.
    let mut choices = vec![DetectChoice::Signal(None)];
    choices.extend(DETECTION_SIGNALS.map(|signal| DetectChoice::Signal(Some(signal))));
    choices.extend(
        model
            .live
            .alerts
            .iter()
            .filter(|alert| alert.is_active())
            .map(|alert| DetectChoice::Alert(alert.name.clone())),
    );
    choices.push(DetectChoice::Log);
    choices.push(DetectChoice::Complaint);
    choices
}

/// The signals a participant can name at detection: those the panels show, in their order.
const DETECTION_SIGNALS: [Signal; 8] = [
    Signal::LatencyP95,
    Signal::LatencyP99,
    Signal::ErrorRatio,
    Signal::Rps,
    Signal::ActiveTransactions,
    Signal::MemoryBytes,
    Signal::Restarts,
    Signal::Up,
];

/// Starts a drill waiting for the target, once what the target can take is known.
fn start_drill_if_ready(model: &mut Model) -> Vec<Effect> {
    let Some(capabilities) = &model.live.capabilities else {
        return Vec::new();
    };
    let target = crate::drill::TargetCapabilities {
        sandbox: capabilities.sandbox,
        docker: model.session.target.memory_source == Some(SourceKind::Docker),
        prometheus: model.session.target.metrics_source == SourceKind::Prometheus,
        memory: model.session.target.memory_source.is_some(),
        provider: capabilities.provider.is_some(),
    };
    // The metrics are not known yet at start (the baseline refuses a recovery signal with no
    // value); what the target takes and alerts on is.
    let prometheus_rules = (target.prometheus && !model.live.alerts.is_empty())
        .then(|| model.live.alerts.iter().map(|a| a.name.clone()).collect());
    let profile = crate::drill::target_check::TargetProfile {
        capabilities: capabilities.clone(),
        metrics: None,
        memory_source: model.session.target.memory_source.is_some(),
        alert_rules: prometheus_rules,
    };
    with_drill(model, |drill, now| drill.start(target, &profile, now))
}

/// At start: an unfinished drill on disk is offered first; otherwise the requested one starts.
fn offer_resume_or_start(model: &mut Model) -> Vec<Effect> {
    if !model.session.read_only {
        if let Some((_, record)) = &model.drill_start.resume_offer {
            model.view.modal = Some(Modal::Resume {
                case_id: record.case_id.clone(),
            });
            return Vec::new();
        }
    }
    model.drill_start.resume_offer = None;
    match model.drill_start.requested.take() {
        Some(request) => start_drill(model, request),
        None => Vec::new(),
    }
}

fn start_drill(model: &mut Model, request: DrillRequest) -> Vec<Effect> {
    let target = &model.session.target;
    let target = if target.embedded {
        format!("embedded sandbox {}", target.api_url)
    } else {
        target.api_url.clone()
    };
    let ttl_s = model.session.ttl.map(|ttl| ttl.as_secs());
    model.view.review_scroll = 0;
    model.drill = Some(DrillSession::new(
        request,
        &model.session.data_dir,
        &target,
        ttl_s,
    ));
    // The briefing first; Enter begins the baseline (once the target is known).
    model.view.modal = Some(Modal::Briefing);
    Vec::new()
}

fn answer_resume(model: &mut Model, resume: bool) -> Vec<Effect> {
    let Some((path, record)) = model.drill_start.resume_offer.take() else {
        return Vec::new();
    };
    let machine = model
        .session
        .cases
        .iter()
        .find(|case| case.id == record.case_id)
        .ok_or_else(|| format!("case {} is no longer known", record.case_id))
        .and_then(|case| PhaseMachine::resume(case.clone(), record.drill.clone()));
    let data_dir = model.session.data_dir.clone();
    match (resume, machine) {
        (true, Ok(mut machine)) => {
            machine.restart_baseline(model.now);
            // A blind drill asks for a cause again: every case's, in an order of the clock's.
            let diagnoses = if record.drill.blind {
                crate::drill::CaseLibrary::from_cases(model.session.cases.clone())
                    .diagnosis_choices(model.now.to_bits(), crate::i18n::Lang::En)
            } else {
                Vec::new()
            };
            let request = DrillRequest {
                case: machine.case().clone(),
                blind: record.drill.blind,
                manual_inject: record.drill.manual_inject,
                diagnoses,
            };
            let ttl_s = model.session.ttl.map(|ttl| ttl.as_secs());
            let (session, mut effects) =
                DrillSession::resumed(machine, request, path, &data_dir, &record.target, ttl_s);
            model.drill = Some(session);
            effects.extend(with_drill(model, |_, _| Vec::new()));
            // The drill asked for this time waits: one drill at a time.
            model.drill_start.requested = None;
            effects
        }
        (false, Ok(mut machine)) => {
            // Not resumed: recorded as abandoned, so it is not offered again.
            let _ = machine.abandon(model.now, "not resumed");
            let mut effects = vec![Effect::SaveRecord {
                data_dir,
                record: Box::new(SessionRecord::from_machine(&machine, &record.target)),
            }];
            effects.extend(offer_resume_or_start(model));
            effects
        }
        (_, Err(err)) => {
            log(
                model,
                LogLevel::Error,
                format!(
                    "gameday: cannot resume the drill in {}: {err}",
                    path.display()
                ),
            );
            offer_resume_or_start(model)
        }
    }
}
