//! Dialogs over the dashboard: the injection panel, the container menu and its confirmation,
//! and the question on quitting with failures active. Each takes keys and says what to do;
//! the dashboard keeps running underneath.

use crossterm::event::KeyCode;
use serde_json::Value;

pub use super::dependency_modal::{PatternsForm, ProviderForm};
use crate::actions::ContainerAction;
use crate::fincore::FailureView;
use crate::fincore::presets::Capabilities;
use crate::knobs;

#[derive(Debug, Clone, PartialEq)]
pub enum Modal {
    Inject(InjectForm),
    Containers {
        selected: usize,
    },
    Confirm(ContainerAction),
    /// Failures are active on a target that outlives us: reset them before quitting?
    QuitPrompt,
    /// Declaring detection: what told you (or, blind, what is the cause)?
    Detect {
        choices: Vec<DetectChoice>,
        selected: usize,
        /// When Enter was pressed: detection is timed then, not when a choice is made.
        pressed_at: crate::signals::UnixSeconds,
    },
    /// Which case to drill.
    Cases {
        selected: usize,
        count: usize,
    },
    /// An unfinished drill was found: resume it?
    Resume {
        case_id: String,
    },
    /// The case's briefing, before the baseline starts: Enter begins, Esc cancels.
    Briefing,
    /// A drill is running: quitting records it as abandoned.
    QuitDrill,
    /// A resumed drill's fault is gone from the target: inject it again, or record the drill
    /// abandoned.
    FaultGone,
    /// A note for the drill's record, as typed so far.
    Note {
        text: String,
    },
    /// The payment provider's failures (`model/dependency_modal.rs`).
    Provider(ProviderForm),
    /// The target's resilience patterns.
    Patterns(PatternsForm),
}

#[derive(Debug, Clone, PartialEq)]
pub enum DetectChoice {
    /// The signal that told them, or none named ("nothing in particular").
    Signal(Option<crate::signals::Signal>),
    /// An alert, by name.
    Alert(String),
    /// The log panel.
    Log,
    /// A user complained.
    Complaint,
    /// Blind drills: a cause, by case id, with its label.
    Diagnosis { case_id: String, label: String },
}

/// The longest note: a few sentences, one line in the record.
pub const MAX_NOTE_CHARS: usize = 300;

/// What a key in a dialog leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum ModalResult {
    Stay,
    Close,
    Inject {
        knobs: Vec<(String, Value)>,
        ttl_s: Option<u64>,
    },
    /// Show the confirmation for this action.
    Confirm(ContainerAction),
    Container(ContainerAction),
    Quit {
        reset_first: bool,
    },
    Declare(DetectChoice),
    PickCase(usize),
    /// A blind drill on a case picked at random.
    PickBlind,
    Resume(bool),
    /// The briefing was read: the drill begins (or, false, is cancelled).
    Begin(bool),
    /// Quitting a running drill, confirmed.
    QuitDrill,
    /// The resumed drill's lost fault: true, inject it again; false, record it abandoned.
    FaultGone(bool),
    /// A note to write into the drill's record.
    Note(String),
    /// The provider's knobs changed in its dialog.
    ProviderFailures {
        knobs: Vec<(String, Value)>,
    },
    ProviderReset,
    /// A partial body for `POST /api/patterns`.
    Patterns {
        body: Value,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct FormField {
    /// The knob's name, or `ttl_s` for the time to live.
    pub name: &'static str,
    pub value: FieldValue,
    /// Why it cannot be sent to this target, if it cannot.
    pub unavailable: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue {
    Number {
        value: i64,
        min: i64,
        max: i64,
        step: i64,
    },
    Flag(bool),
}

/// The injection panel: every knob with its size, starting from what the service has now.
#[derive(Debug, Clone, PartialEq)]
pub struct InjectForm {
    pub fields: Vec<FormField>,
    pub selected: usize,
    /// Digits typed into the selected number, not yet committed.
    pub typing: Option<String>,
}

impl InjectForm {
    pub fn new(
        current: Option<&FailureView>,
        capabilities: Option<&Capabilities>,
        ttl_s: Option<u64>,
    ) -> InjectForm {
        let now = |knob: &str| current.and_then(|view| view.value(knob)).unwrap_or(0.0);
        let number = |value: f64, range: knobs::IntegerRange| FieldValue::Number {
            value: (value.max(0.0) as i64).clamp(as_i64(range.min), as_i64(range.max)),
            min: as_i64(range.min),
            max: as_i64(range.max),
            step: as_i64(range.step),
        };
        // Every knob of the one vocabulary, in its order, with its own limits.
        let mut fields: Vec<FormField> = knobs::ALL
            .iter()
            .map(|spec| FormField {
                name: spec.name,
                value: match spec.kind {
                    knobs::KnobKind::Integer(range) => number(now(spec.name), range),
                    knobs::KnobKind::Flag => FieldValue::Flag(now(spec.name) != 0.0),
                },
                unavailable: capabilities.and_then(|c| c.refusal(spec.name)),
            })
            .collect();
        if capabilities.is_some_and(|c| c.ttl) {
            let ttl = ttl_s.map_or(0.0, |ttl| ttl as f64);
            fields.push(FormField {
                name: knobs::TTL_NAME,
                value: number(ttl, knobs::TTL_RANGE),
                unavailable: None,
            });
        }
        let selected = fields
            .iter()
            .position(|field| field.unavailable.is_none())
            .unwrap_or(0);
        InjectForm {
            fields,
            selected,
            typing: None,
        }
    }

    pub fn handle(&mut self, key: KeyCode) -> ModalResult {
        match key {
            KeyCode::Esc => return ModalResult::Close,
            KeyCode::Enter => {
                self.commit_typing();
                return self.request();
            }
            KeyCode::Up | KeyCode::BackTab => self.move_selection(-1),
            KeyCode::Down | KeyCode::Tab => self.move_selection(1),
            KeyCode::Left | KeyCode::Char('-') => self.step(-1),
            KeyCode::Right | KeyCode::Char('+') | KeyCode::Char('=') => self.step(1),
            KeyCode::Char(' ') => self.toggle(),
            KeyCode::Char(digit) if digit.is_ascii_digit() => self.type_digit(digit),
            KeyCode::Backspace => {
                if let Some(typing) = &mut self.typing {
                    typing.pop();
                }
            }
            _ => {}
        }
        ModalResult::Stay
    }

    fn move_selection(&mut self, by: isize) {
        self.commit_typing();
        let count = self.fields.len() as isize;
        let mut index = self.selected as isize;
        // Skip what cannot be sent, so the cursor only rests on usable fields.
        for _ in 0..count {
            index = (index + by).rem_euclid(count);
            if self.fields[index as usize].unavailable.is_none() {
                break;
            }
        }
        self.selected = index as usize;
    }

    fn selected_field(&mut self) -> Option<&mut FormField> {
        self.fields
            .get_mut(self.selected)
            .filter(|field| field.unavailable.is_none())
    }

    fn step(&mut self, direction: i64) {
        self.commit_typing();
        if let Some(field) = self.selected_field() {
            match &mut field.value {
                FieldValue::Number {
                    value,
                    min,
                    max,
                    step,
                } => *value = (*value + direction * *step).clamp(*min, *max),
                FieldValue::Flag(flag) => *flag = direction > 0,
            }
        }
    }

    fn toggle(&mut self) {
        if let Some(FormField {
            value: FieldValue::Flag(flag),
            ..
        }) = self.selected_field()
        {
            *flag = !*flag;
        }
    }

    fn type_digit(&mut self, digit: char) {
        let is_number = matches!(
            self.selected_field().map(|field| field.value),
            Some(FieldValue::Number { .. })
        );
        if is_number {
            let typing = self.typing.get_or_insert_with(String::new);
            if typing.len() < 6 {
                typing.push(digit);
            }
        }
    }

    /// Typed digits become the value, clamped to the field's range.
    fn commit_typing(&mut self) {
        let Some(typing) = self.typing.take() else {
            return;
        };
        let Ok(typed) = typing.parse::<i64>() else {
            return;
        };
        if let Some(FormField {
            value: FieldValue::Number {
                value, min, max, ..
            },
            ..
        }) = self.selected_field()
        {
            *value = typed.clamp(*min, *max);
        }
    }

    /// Every usable knob with its value: the form sets the whole state, so a knob at 0 clears.
    fn request(&self) -> ModalResult {
        let mut knobs = Vec::new();
        let mut ttl_s = None;
        for field in self.fields.iter().filter(|f| f.unavailable.is_none()) {
            let value = match field.value {
                FieldValue::Number { value, .. } => Value::from(value),
                FieldValue::Flag(flag) => Value::Bool(flag),
            };
            if field.name == knobs::TTL_NAME {
                ttl_s = value.as_u64().filter(|ttl| *ttl > 0);
            } else {
                knobs.push((field.name.to_string(), value));
            }
        }
        ModalResult::Inject { knobs, ttl_s }
    }
}

impl Modal {
    pub fn handle(&mut self, key: KeyCode) -> ModalResult {
        match self {
            Modal::Inject(form) => form.handle(key),
            Modal::Provider(form) => form.handle(key),
            Modal::Patterns(form) => form.handle(key),
            Modal::Containers { selected } => {
                let count = ContainerAction::ALL.len();
                match key {
                    KeyCode::Esc | KeyCode::Char('q') => ModalResult::Close,
                    KeyCode::Up => {
                        *selected = (*selected + count - 1) % count;
                        ModalResult::Stay
                    }
                    KeyCode::Down => {
                        *selected = (*selected + 1) % count;
                        ModalResult::Stay
                    }
                    KeyCode::Enter => ContainerAction::ALL
                        .get(*selected)
                        .map_or(ModalResult::Close, |a| ModalResult::Confirm(*a)),
                    KeyCode::Char(digit @ '1'..='9') => {
                        let index = digit as usize - '1' as usize;
                        ContainerAction::ALL
                            .get(index)
                            .map_or(ModalResult::Stay, |a| ModalResult::Confirm(*a))
                    }
                    _ => ModalResult::Stay,
                }
            }
            // Stopping things is not undone by a stray Enter: only `y` confirms.
            Modal::Confirm(action) => match key {
                KeyCode::Char('y') | KeyCode::Char('Y') => ModalResult::Container(*action),
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Enter => {
                    ModalResult::Close
                }
                _ => ModalResult::Stay,
            },
            // Resetting is the safe answer, so it is the default.
            Modal::QuitPrompt => match key {
                KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                    ModalResult::Quit { reset_first: true }
                }
                KeyCode::Char('n') | KeyCode::Char('N') => ModalResult::Quit { reset_first: false },
                KeyCode::Esc => ModalResult::Close,
                _ => ModalResult::Stay,
            },
            Modal::Detect {
                choices, selected, ..
            } => match pick(key, selected, choices.len()) {
                Picked::Stay => ModalResult::Stay,
                Picked::Close => ModalResult::Close,
                Picked::Index(index) => choices.get(index).map_or(ModalResult::Stay, |choice| {
                    ModalResult::Declare(choice.clone())
                }),
            },
            Modal::Cases { .. } if matches!(key, KeyCode::Char('b') | KeyCode::Char('B')) => {
                ModalResult::PickBlind
            }
            Modal::Cases { selected, count } => match pick(key, selected, *count) {
                Picked::Stay => ModalResult::Stay,
                Picked::Close => ModalResult::Close,
                Picked::Index(index) => ModalResult::PickCase(index),
            },
            Modal::Briefing => match key {
                KeyCode::Enter => ModalResult::Begin(true),
                KeyCode::Esc => ModalResult::Begin(false),
                _ => ModalResult::Stay,
            },
            // Quitting throws the drill away: only `y` confirms.
            Modal::QuitDrill => match key {
                KeyCode::Char('y') | KeyCode::Char('Y') => ModalResult::QuitDrill,
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => ModalResult::Close,
                _ => ModalResult::Stay,
            },
            Modal::Note { text } => match key {
                KeyCode::Char(c) if text.chars().count() < MAX_NOTE_CHARS => {
                    text.push(c);
                    ModalResult::Stay
                }
                KeyCode::Backspace => {
                    text.pop();
                    ModalResult::Stay
                }
                KeyCode::Enter if !text.trim().is_empty() => {
                    ModalResult::Note(text.trim().to_string())
                }
                KeyCode::Esc => ModalResult::Close,
                _ => ModalResult::Stay,
            },
            // A choice must be made: nothing is measured until it is.
            Modal::FaultGone => match key {
                KeyCode::Enter | KeyCode::Char('y') | KeyCode::Char('Y') => {
                    ModalResult::FaultGone(true)
                }
                KeyCode::Char('a') | KeyCode::Char('A') => ModalResult::FaultGone(false),
                _ => ModalResult::Stay,
            },
            Modal::Resume { .. } => match key {
                KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                    ModalResult::Resume(true)
                }
                KeyCode::Char('n') | KeyCode::Char('N') => ModalResult::Resume(false),
                _ => ModalResult::Stay,
            },
        }
    }
}

fn as_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

enum Picked {
    Stay,
    Close,
    Index(usize),
}

/// A list: ↑↓ and Enter, or the item's number (1-9), or Esc.
fn pick(key: KeyCode, selected: &mut usize, count: usize) -> Picked {
    if count == 0 {
        return Picked::Close;
    }
    match key {
        KeyCode::Esc => Picked::Close,
        KeyCode::Up => {
            *selected = (*selected + count - 1) % count;
            Picked::Stay
        }
        KeyCode::Down => {
            *selected = (*selected + 1) % count;
            Picked::Stay
        }
        KeyCode::Enter => Picked::Index(*selected),
        KeyCode::Char(digit @ '1'..='9') => {
            let index = digit as usize - '1' as usize;
            if index < count {
                Picked::Index(index)
            } else {
                Picked::Stay
            }
        }
        _ => Picked::Stay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox() -> Capabilities {
        Capabilities::sandbox_with_every_knob()
    }

    fn press(form: &mut InjectForm, keys: &[KeyCode]) -> ModalResult {
        let mut last = ModalResult::Stay;
        for key in keys {
            last = form.handle(*key);
        }
        last
    }

    #[test]
    fn the_form_starts_from_the_service_state_and_sends_every_knob() {
        let view = FailureView {
            knobs: vec![
                ("latency_ms".to_string(), 300.0),
                ("db_slow".to_string(), 1.0),
            ],
            ..FailureView::default()
        };
        let mut form = InjectForm::new(Some(&view), Some(&sandbox()), Some(600));
        let result = press(&mut form, &[KeyCode::Right, KeyCode::Enter]);
        let ModalResult::Inject { knobs, ttl_s } = result else {
            panic!("expected an injection, got {result:?}");
        };
        assert_eq!(ttl_s, Some(600));
        let body: serde_json::Map<String, Value> = knobs.into_iter().collect();
        assert_eq!(
            Value::Object(body),
            serde_json::json!({"latency_ms": 400, "error_rate": 0, "memory_leak_mb": 0,
                               "db_slow": true, "db_fail": false})
        );
    }

    #[test]
    fn typed_numbers_are_clamped_and_flags_toggle() {
        let mut form = InjectForm::new(None, Some(&sandbox()), None);
        // error_rate: type 250, clamped to 100.
        press(
            &mut form,
            &[KeyCode::Down, KeyCode::Char('2'), KeyCode::Char('5')],
        );
        press(
            &mut form,
            &[KeyCode::Char('0'), KeyCode::Down, KeyCode::Down],
        );
        press(&mut form, &[KeyCode::Char(' ')]);
        let ModalResult::Inject { knobs, ttl_s } = form.handle(KeyCode::Enter) else {
            panic!("expected an injection");
        };
        assert_eq!(ttl_s, None, "a time to live of 0 sends none");
        assert!(knobs.contains(&("error_rate".to_string(), Value::from(100))));
        assert!(knobs.contains(&("db_slow".to_string(), Value::Bool(true))));
    }

    #[test]
    fn unavailable_knobs_are_skipped_by_the_cursor_and_not_sent() {
        let workshop = Capabilities::from_workshop(&[
            "latency_ms".to_string(),
            "error_rate".to_string(),
            "memory_leak_mb".to_string(),
            "db_slow".to_string(),
            "db_fail".to_string(),
        ]);
        let mut form = InjectForm::new(None, Some(&workshop), Some(600));
        assert!(form.fields.iter().all(|f| f.name != "ttl_s"));
        press(&mut form, &[KeyCode::Up]);
        assert_eq!(form.fields[form.selected].name, "db_slow");
        let ModalResult::Inject { knobs, .. } = form.handle(KeyCode::Enter) else {
            panic!("expected an injection");
        };
        assert!(knobs.iter().all(|(name, _)| name != "db_fail"));
    }

    #[test]
    fn quitting_resets_by_default_and_confirmations_need_y() {
        assert_eq!(
            Modal::QuitPrompt.handle(KeyCode::Enter),
            ModalResult::Quit { reset_first: true }
        );
        assert_eq!(
            Modal::QuitPrompt.handle(KeyCode::Char('n')),
            ModalResult::Quit { reset_first: false }
        );
        let mut confirm = Modal::Confirm(ContainerAction::StopDb);
        assert_eq!(confirm.handle(KeyCode::Enter), ModalResult::Close);
        assert_eq!(
            confirm.handle(KeyCode::Char('y')),
            ModalResult::Container(ContainerAction::StopDb)
        );
        let mut menu = Modal::Containers { selected: 0 };
        assert_eq!(
            menu.handle(KeyCode::Char('4')),
            ModalResult::Confirm(ContainerAction::StopDb)
        );
    }
}
