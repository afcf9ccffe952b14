//! Every state change the user can ask for is an `Action`; keys map to actions here and
//! nowhere else. Only key presses count (a release or repeat must not act twice). Actions
//! that reach beyond the screen come back from [`apply`] as an [`Effect`] for the loop.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::control::Command;
use super::modal::{DetectChoice, InjectForm, Modal, ModalResult};
use super::state::{AppState, PanelId};
use crate::fincore::presets::Preset;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    /// Ctrl-C in the quit question: leave without resetting.
    ForceQuit,
    Inject(Preset),
    ResetFailures,
    OpenInjectPanel,
    OpenContainers,
    /// A key for the open dialog.
    ModalKey(KeyCode),
    LoadFaster,
    LoadSlower,
    NextProfile,
    /// Enter in a drill: declare detection.
    DrillDetect,
    DrillHint,
    /// Tick item N (from 0) of the current checklist.
    DrillCheck(usize),
    OpenCases,
    /// Esc after a drill ended: back to the dashboard alone.
    CloseDrill,
    FocusNext,
    FocusPrevious,
    ToggleZoom,
    Unzoom,
    ToggleHelp,
    CloseHelp,
    CycleTheme,
    ScrollLog(i32),
}

pub fn action_for(key: KeyEvent, state: &AppState) -> Option<Action> {
    if key.kind != KeyEventKind::Press {
        return None;
    }
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        return Some(match state.modal {
            Some(Modal::QuitPrompt) => Action::ForceQuit,
            _ => Action::Quit,
        });
    }
    if state.modal.is_some() {
        return Some(Action::ModalKey(key.code));
    }
    if state.help {
        // Any key closes the help; `q` still quits, as users expect.
        return Some(match key.code {
            KeyCode::Char('q') => Action::Quit,
            _ => Action::CloseHelp,
        });
    }
    let scrolling = state.zoomed && state.focus == PanelId::Logs;
    if let Some(action) = drill_action(key.code, state) {
        return Some(action);
    }
    if let Some(action) = changing_action(key.code, state) {
        return Some(action);
    }
    Some(match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('?') => Action::ToggleHelp,
        KeyCode::Char('z') => Action::ToggleZoom,
        KeyCode::Esc => Action::Unzoom,
        KeyCode::Char('t') => Action::CycleTheme,
        KeyCode::Up if scrolling => Action::ScrollLog(1),
        KeyCode::Down if scrolling => Action::ScrollLog(-1),
        KeyCode::PageUp if scrolling => Action::ScrollLog(20),
        KeyCode::PageDown if scrolling => Action::ScrollLog(-20),
        KeyCode::Tab | KeyCode::Right | KeyCode::Down => Action::FocusNext,
        KeyCode::BackTab | KeyCode::Left | KeyCode::Up => Action::FocusPrevious,
        _ => return None,
    })
}

/// Keys that change the target or its load; none of them exist in read-only mode.
fn changing_action(code: KeyCode, state: &AppState) -> Option<Action> {
    if state.read_only {
        return None;
    }
    let KeyCode::Char(key) = code else {
        return None;
    };
    if let Some(preset) = Preset::from_key(key) {
        return Some(Action::Inject(preset));
    }
    let has_load = state.load.is_some();
    Some(match key {
        'r' => Action::ResetFailures,
        'i' => Action::OpenInjectPanel,
        's' => Action::OpenContainers,
        '+' | '=' if has_load => Action::LoadFaster,
        '-' if has_load => Action::LoadSlower,
        'p' if has_load => Action::NextProfile,
        _ => return None,
    })
}

/// Keys of a drill: Enter declares detection, h reveals a hint, 1-9 tick the checklist; c
/// picks a case when none runs; Esc closes a finished drill's review.
fn drill_action(code: KeyCode, state: &AppState) -> Option<Action> {
    let running = state.drill_running();
    match code {
        KeyCode::Enter if running => Some(Action::DrillDetect),
        KeyCode::Char('h') if running => Some(Action::DrillHint),
        KeyCode::Char(digit @ '1'..='9') if running => {
            Some(Action::DrillCheck(digit as usize - '1' as usize))
        }
        KeyCode::Char('c') if !running && !state.read_only && !state.cases.is_empty() => {
            Some(Action::OpenCases)
        }
        KeyCode::Esc if state.drill.is_some() && !running && !state.zoomed => {
            Some(Action::CloseDrill)
        }
        _ => None,
    }
}

/// What the loop must do beyond the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Send(Command),
    Quit,
    /// Reset the failures, wait for the answer (briefly), then quit.
    ResetThenQuit,
    Load(LoadChange),
    /// Run the case's load (or, with None, go back to the load from before the drill).
    DrillLoad(Option<crate::drill::case::LoadSpec>),
    /// Start the drill of case `index` of the picker.
    StartDrill(usize),
    /// Resume the unfinished drill found at start, or record it as abandoned.
    Resume(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadChange {
    Faster,
    Slower,
    NextProfile,
}

/// Applies an action to the state; what else must happen comes back as an effect.
pub fn apply(action: Action, state: &mut AppState, theme_names: &[String]) -> Option<Effect> {
    match action {
        Action::Quit => {
            if state.should_ask_before_quit() {
                state.modal = Some(Modal::QuitPrompt);
            } else {
                // Nothing outlives us (or nothing is active): a drill under way is abandoned.
                state.with_drill(|drill, now| {
                    drill.abandon(now, "quit");
                    Vec::new()
                });
                return Some(Effect::Quit);
            }
        }
        Action::DrillDetect => {
            let choices = detect_choices(state);
            let open = state
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
                state.modal = Some(Modal::Detect {
                    choices,
                    selected: 0,
                });
            } else if let Some(drill) = state.drill.as_mut() {
                drill.message =
                    Some("nothing to declare yet: the fault is not injected".to_string());
            }
        }
        Action::DrillHint => state.with_drill(|drill, now| drill.hint(now)),
        Action::DrillCheck(index) => state.with_drill(|drill, now| drill.toggle_item(now, index)),
        Action::OpenCases => {
            state.modal = Some(Modal::Cases {
                selected: 0,
                count: state.cases.len(),
            });
        }
        Action::CloseDrill => state.drill = None,
        Action::ForceQuit => return Some(Effect::Quit),
        Action::Inject(preset) => return Some(state.sending(Command::Preset(preset))),
        Action::ResetFailures => return Some(state.sending(Command::Reset)),
        Action::OpenInjectPanel => {
            let ttl_s = state.ttl.map(|ttl| ttl.as_secs());
            let form = InjectForm::new(state.failures.as_ref(), state.capabilities.as_ref(), ttl_s);
            state.modal = Some(Modal::Inject(form));
        }
        Action::OpenContainers => state.modal = Some(Modal::Containers { selected: 0 }),
        Action::ModalKey(code) => {
            let result = match state.modal.as_mut() {
                Some(modal) => modal.handle(code),
                None => ModalResult::Close,
            };
            return match result {
                ModalResult::Stay => None,
                ModalResult::Close => {
                    state.modal = None;
                    None
                }
                ModalResult::Confirm(container_action) => {
                    state.modal = Some(Modal::Confirm(container_action));
                    None
                }
                ModalResult::Inject { knobs, ttl_s } => {
                    state.modal = None;
                    Some(state.sending(Command::Custom { knobs, ttl_s }))
                }
                ModalResult::Container(container_action) => {
                    state.modal = None;
                    Some(state.sending(Command::Container(container_action)))
                }
                ModalResult::Declare(choice) => {
                    state.modal = None;
                    let (signal, diagnosis) = match choice {
                        DetectChoice::Signal(signal) => (signal, None),
                        DetectChoice::Diagnosis { case_id, .. } => (None, Some(case_id)),
                    };
                    state.with_drill(|drill, now| drill.declare(now, signal, diagnosis));
                    None
                }
                ModalResult::PickCase(index) => {
                    state.modal = None;
                    Some(Effect::StartDrill(index))
                }
                ModalResult::Resume(resume) => {
                    state.modal = None;
                    Some(Effect::Resume(resume))
                }
                ModalResult::Quit { reset_first } => {
                    state.modal = None;
                    state.with_drill(|drill, now| {
                        drill.abandon(now, "quit");
                        Vec::new()
                    });
                    Some(if reset_first {
                        state.quitting = true;
                        Effect::ResetThenQuit
                    } else {
                        Effect::Quit
                    })
                }
            };
        }
        Action::LoadFaster => return Some(Effect::Load(LoadChange::Faster)),
        Action::LoadSlower => return Some(Effect::Load(LoadChange::Slower)),
        Action::NextProfile => return Some(Effect::Load(LoadChange::NextProfile)),
        Action::FocusNext => state.focus = state.focus.next(),
        Action::FocusPrevious => state.focus = state.focus.previous(),
        Action::ToggleZoom => {
            state.zoomed = !state.zoomed;
            state.log_scroll = 0;
        }
        Action::Unzoom => {
            state.zoomed = false;
            state.log_scroll = 0;
        }
        Action::ToggleHelp => state.help = !state.help,
        Action::CloseHelp => state.help = false,
        Action::CycleTheme => {
            let index = theme_names
                .iter()
                .position(|name| *name == state.theme_name)
                .map_or(0, |i| (i + 1) % theme_names.len().max(1));
            if let Some(name) = theme_names.get(index) {
                state.theme_name = name.clone();
            }
        }
        Action::ScrollLog(lines) => {
            let most = state.logs.len().saturating_sub(1);
            let scroll = i64::try_from(state.log_scroll).unwrap_or(0) + i64::from(lines);
            state.log_scroll = usize::try_from(scroll.max(0)).unwrap_or(0).min(most);
        }
    }
    None
}

/// What the participant may name at detection: the case's signals (or none), or, blind, every
/// case's cause.
fn detect_choices(state: &AppState) -> Vec<DetectChoice> {
    let Some(drill) = &state.drill else {
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
    let mut choices = vec![DetectChoice::Signal(None)];
    for watched in &request.case.signals {
        let signal = Some(watched.condition.signal);
        if !choices.contains(&DetectChoice::Signal(signal)) {
            choices.push(DetectChoice::Signal(signal));
        }
    }
    choices
}
