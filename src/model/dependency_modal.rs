//! The dependency's dialogs: the payment provider's failures (every knob of
//! `provider::knobs::ALL` with its kind and range, starting from what the provider has now) and
//! the resilience patterns (each switched on or off, with its main number). Enter sends only
//! what was changed; the controller reads it back.

use crossterm::event::KeyCode;
use serde_json::{Map, Value};

use super::modal::ModalResult;
use crate::fincore::dependency::ProviderFailureView;
use crate::pattern_settings::PatternConfig;
use crate::provider::knobs::{self as provider_knobs, ProviderKnobKind, ProviderKnobSpec};

/// A number being edited: its range and step, and how many decimals it shows and sends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EditNumber {
    pub value: f64,
    pub min: f64,
    pub max: f64,
    pub step: f64,
    /// 0 for an integer; a fraction shows and sends 2.
    pub decimals: u8,
}

impl EditNumber {
    fn integer(value: f64, min: u64, max: u64, step: u64) -> EditNumber {
        EditNumber {
            value,
            min: min as f64,
            max: max as f64,
            step: step as f64,
            decimals: 0,
        }
        .clamped()
    }

    fn fraction(value: f64, min: f64, max: f64, step: f64) -> EditNumber {
        EditNumber {
            value,
            min,
            max,
            step,
            decimals: 2,
        }
        .clamped()
    }

    /// Within the range, rounded to what it shows (0.15000000000000002 is 0.15).
    fn clamped(mut self) -> EditNumber {
        let scale = 10f64.powi(i32::from(self.decimals));
        let value = if self.value.is_finite() {
            self.value
        } else {
            self.min
        };
        self.value = ((value * scale).round() / scale).clamp(self.min, self.max);
        self
    }

    fn step_by(&mut self, direction: f64) {
        self.value += direction * self.step;
        *self = self.clamped();
    }

    pub fn shown(&self) -> String {
        format!("{:.*}", usize::from(self.decimals), self.value)
    }

    fn json(&self) -> Value {
        if self.decimals == 0 {
            Value::from(self.value.max(0.0) as u64)
        } else {
            Value::from(self.value)
        }
    }
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EditValue {
    Number(EditNumber),
    Flag(bool),
}

impl EditValue {
    fn json(&self) -> Value {
        match self {
            EditValue::Number(number) => number.json(),
            EditValue::Flag(flag) => Value::Bool(*flag),
        }
    }
}

/// Digits (and a point for fractions) typed into the selected number, not yet committed.
fn type_char(typing: &mut Option<String>, number: Option<&EditNumber>, c: char) {
    let Some(number) = number else { return };
    let wanted = c.is_ascii_digit() || (c == '.' && number.decimals > 0);
    if wanted {
        let typed = typing.get_or_insert_with(String::new);
        if typed.len() < 8 {
            typed.push(c);
        }
    }
}

/// Typed text becomes the value, clamped to the range.
fn commit(typing: &mut Option<String>, number: Option<&mut EditNumber>) {
    let (Some(typed), Some(number)) = (typing.take(), number) else {
        return;
    };
    if let Ok(value) = typed.parse::<f64>() {
        number.value = value;
        *number = number.clamped();
    }
}

/// The keys both dependency dialogs share: Up/Down move (Tab too), Left/Right step the
/// selected number (or set its switch where the row has none), digits type into it, Space
/// switches, Enter commits what was typed and sends, Esc closes.
trait EditRows {
    fn row_count(&self) -> usize;
    fn selected_mut(&mut self) -> &mut usize;
    fn typing_mut(&mut self) -> &mut Option<String>;
    fn number_at(&mut self, row: usize) -> Option<&mut EditNumber>;
    /// Space on the selected row.
    fn switch_selected(&mut self);
    /// Left/Right on a row without a number.
    fn step_switch(&mut self, _row: usize, _on: bool) {}
    /// Enter: what to send, or Close when nothing changed.
    fn request(&self) -> ModalResult;

    fn handle_edit(&mut self, key: KeyCode) -> ModalResult {
        match key {
            KeyCode::Esc => return ModalResult::Close,
            KeyCode::Enter => {
                self.commit_typing();
                return self.request();
            }
            KeyCode::Up | KeyCode::BackTab => self.move_selection(-1),
            KeyCode::Down | KeyCode::Tab => self.move_selection(1),
            KeyCode::Left | KeyCode::Char('-') => self.step(-1.0),
            KeyCode::Right | KeyCode::Char('+') | KeyCode::Char('=') => self.step(1.0),
            KeyCode::Char(' ') => self.switch_selected(),
            KeyCode::Char(c) => {
                let row = *self.selected_mut();
                let number = self.number_at(row).copied();
                type_char(self.typing_mut(), number.as_ref(), c);
            }
            KeyCode::Backspace => {
                if let Some(typing) = self.typing_mut() {
                    typing.pop();
                }
            }
            _ => {}
        }
        ModalResult::Stay
    }

    fn commit_typing(&mut self) {
        let mut typing = self.typing_mut().take();
        let row = *self.selected_mut();
        commit(&mut typing, self.number_at(row));
    }

    fn move_selection(&mut self, by: isize) {
        self.commit_typing();
        let count = self.row_count().max(1) as isize;
        let selected = self.selected_mut();
        *selected = (*selected as isize + by).rem_euclid(count) as usize;
    }

    fn step(&mut self, direction: f64) {
        self.commit_typing();
        let row = *self.selected_mut();
        match self.number_at(row) {
            Some(number) => number.step_by(direction),
            None => self.step_switch(row, direction > 0.0),
        }
    }
}

/// A step for fractions: the provider's knobs say 0 to 1 and no step.
const FRACTION_STEP: f64 = 0.05;

/// One knob of the provider.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderField {
    pub spec: &'static ProviderKnobSpec,
    pub value: EditValue,
    /// What the provider had when the dialog opened: only changes are sent.
    initial: Value,
}

/// The provider's failures dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderForm {
    pub fields: Vec<ProviderField>,
    pub selected: usize,
    pub typing: Option<String>,
}

impl ProviderForm {
    pub fn new(current: Option<&ProviderFailureView>) -> ProviderForm {
        let now = |name: &str| current.and_then(|view| view.value(name)).unwrap_or(0.0);
        let fields = provider_knobs::ALL
            .iter()
            .map(|spec| {
                let value = match spec.kind {
                    ProviderKnobKind::Integer(range) => EditValue::Number(EditNumber::integer(
                        now(spec.name),
                        range.min,
                        range.max,
                        range.step,
                    )),
                    ProviderKnobKind::Fraction => EditValue::Number(EditNumber::fraction(
                        now(spec.name),
                        0.0,
                        1.0,
                        FRACTION_STEP,
                    )),
                    ProviderKnobKind::Flag => EditValue::Flag(now(spec.name) != 0.0),
                };
                ProviderField {
                    spec,
                    value,
                    initial: value.json(),
                }
            })
            .collect();
        ProviderForm {
            fields,
            selected: 0,
            typing: None,
        }
    }

    pub fn handle(&mut self, key: KeyCode) -> ModalResult {
        match key {
            KeyCode::Char('r') | KeyCode::Char('R') => ModalResult::ProviderReset,
            _ => self.handle_edit(key),
        }
    }
}

impl EditRows for ProviderForm {
    fn row_count(&self) -> usize {
        self.fields.len()
    }

    fn selected_mut(&mut self) -> &mut usize {
        &mut self.selected
    }

    fn typing_mut(&mut self) -> &mut Option<String> {
        &mut self.typing
    }

    fn number_at(&mut self, row: usize) -> Option<&mut EditNumber> {
        match self.fields.get_mut(row).map(|field| &mut field.value) {
            Some(EditValue::Number(number)) => Some(number),
            _ => None,
        }
    }

    fn switch_selected(&mut self) {
        if let Some(EditValue::Flag(flag)) =
            self.fields.get_mut(self.selected).map(|f| &mut f.value)
        {
            *flag = !*flag;
        }
    }

    fn step_switch(&mut self, row: usize, on: bool) {
        if let Some(EditValue::Flag(flag)) = self.fields.get_mut(row).map(|f| &mut f.value) {
            *flag = on;
        }
    }

    /// The knobs changed since the dialog opened; nothing changed closes it.
    fn request(&self) -> ModalResult {
        let knobs: Vec<(String, Value)> = self
            .fields
            .iter()
            .map(|field| (field.spec.name.to_string(), field.value.json()))
            .zip(&self.fields)
            .filter(|((_, value), field)| *value != field.initial)
            .map(|(pair, _)| pair)
            .collect();
        if knobs.is_empty() {
            ModalResult::Close
        } else {
            ModalResult::ProviderFailures { knobs }
        }
    }
}

/// One row of the patterns dialog: a pattern's switch and its main number, or (the breaker's
/// second row) a number alone.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternRow {
    pub pattern: &'static str,
    /// The switch, on the pattern's first row.
    pub enabled: Option<bool>,
    /// The field the number sets (`ms`, `max_attempts`, …) and the number.
    pub number: Option<(&'static str, EditNumber)>,
    initial: (Option<bool>, Option<f64>),
}

/// The patterns dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternsForm {
    pub rows: Vec<PatternRow>,
    pub selected: usize,
    pub typing: Option<String>,
}

impl PatternsForm {
    /// The rows from what the target has now. The ranges are the sandbox's
    /// (`sandbox/patterns/settings.rs`, checked against it in the tests); it judges every body.
    pub fn new(view: &PatternConfig) -> PatternsForm {
        let row = |pattern, enabled: Option<bool>, number: Option<(&'static str, EditNumber)>| {
            PatternRow {
                pattern,
                enabled,
                number,
                initial: (enabled, number.map(|(_, n)| n.value)),
            }
        };
        let breaker = &view.circuit_breaker;
        let rows = vec![
            row(
                "timeout",
                Some(view.timeout.enabled),
                Some((
                    "ms",
                    EditNumber::integer(view.timeout.ms as f64, 1, 60_000, 100),
                )),
            ),
            row(
                "retry",
                Some(view.retry.enabled),
                Some((
                    "max_attempts",
                    EditNumber::integer(f64::from(view.retry.max_attempts), 1, 10, 1),
                )),
            ),
            row(
                "circuit_breaker",
                Some(breaker.enabled),
                Some((
                    "failure_ratio",
                    EditNumber::fraction(breaker.failure_ratio, 0.01, 1.0, FRACTION_STEP),
                )),
            ),
            row(
                "circuit_breaker",
                None,
                Some((
                    "open_s",
                    EditNumber::integer(breaker.open_s as f64, 1, 600, 1),
                )),
            ),
            row(
                "bulkhead",
                Some(view.bulkhead.enabled),
                Some((
                    "max_concurrent",
                    EditNumber::integer(view.bulkhead.max_concurrent as f64, 1, 1024, 1),
                )),
            ),
            row("fallback", Some(view.fallback.enabled), None),
        ];
        PatternsForm {
            rows,
            selected: 0,
            typing: None,
        }
    }

    pub fn handle(&mut self, key: KeyCode) -> ModalResult {
        self.handle_edit(key)
    }
}

impl EditRows for PatternsForm {
    fn row_count(&self) -> usize {
        self.rows.len()
    }

    fn selected_mut(&mut self) -> &mut usize {
        &mut self.selected
    }

    fn typing_mut(&mut self) -> &mut Option<String> {
        &mut self.typing
    }

    fn number_at(&mut self, row: usize) -> Option<&mut EditNumber> {
        self.rows
            .get_mut(row)
            .and_then(|row| row.number.as_mut())
            .map(|(_, number)| number)
    }

    fn switch_selected(&mut self) {
        self.commit_typing();
        if let Some(enabled) = self
            .rows
            .get_mut(self.selected)
            .and_then(|row| row.enabled.as_mut())
        {
            *enabled = !*enabled;
        }
    }

    /// A partial body of what changed since the dialog opened; nothing changed closes it.
    fn request(&self) -> ModalResult {
        let mut body = Map::new();
        for row in &self.rows {
            let mut fields = Map::new();
            if let Some(enabled) = row.enabled.filter(|on| Some(*on) != row.initial.0) {
                fields.insert("enabled".to_string(), Value::Bool(enabled));
            }
            if let Some((field, number)) = row
                .number
                .filter(|(_, number)| Some(number.value) != row.initial.1)
            {
                fields.insert(field.to_string(), number.json());
            }
            if fields.is_empty() {
                continue;
            }
            let entry = body
                .entry(row.pattern.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(existing) = entry {
                existing.extend(fields);
            }
        }
        if body.is_empty() {
            ModalResult::Close
        } else {
            ModalResult::Patterns {
                body: Value::Object(body),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn press(handle: &mut impl FnMut(KeyCode) -> ModalResult, keys: &[KeyCode]) -> ModalResult {
        let mut last = ModalResult::Stay;
        for key in keys {
            last = handle(*key);
        }
        last
    }

    #[test]
    fn the_provider_form_has_every_knob_of_the_table_and_sends_only_changes() {
        let view = ProviderFailureView {
            knobs: vec![
                ("latency_ms".to_string(), 1000.0),
                ("down".to_string(), 0.0),
            ],
        };
        let mut form = ProviderForm::new(Some(&view));
        let names: Vec<&str> = form.fields.iter().map(|f| f.spec.name).collect();
        assert_eq!(names, provider_knobs::ALL.map(|spec| spec.name));
        // Nothing changed: Enter closes.
        assert_eq!(form.clone().handle(KeyCode::Enter), ModalResult::Close);
        // latency_ms one step up (500 ms, the table's step), error_rate typed as 0.25,
        // `timeout` switched on.
        let result = press(
            &mut |key| form.handle(key),
            &[
                KeyCode::Right,
                KeyCode::Down,
                KeyCode::Char('0'),
                KeyCode::Char('.'),
                KeyCode::Char('2'),
                KeyCode::Char('5'),
                KeyCode::Down,
                KeyCode::Char(' '),
                KeyCode::Enter,
            ],
        );
        assert_eq!(
            result,
            ModalResult::ProviderFailures {
                knobs: vec![
                    ("latency_ms".to_string(), json!(1500)),
                    ("error_rate".to_string(), json!(0.25)),
                    ("timeout".to_string(), json!(true)),
                ]
            }
        );
    }

    #[test]
    fn provider_numbers_stay_in_their_range_and_r_resets() {
        let mut form = ProviderForm::new(None);
        // error_rate: typed 7 is clamped to 1 (the knob is a fraction 0 to 1).
        let result = press(
            &mut |key| form.handle(key),
            &[KeyCode::Down, KeyCode::Char('7'), KeyCode::Enter],
        );
        assert_eq!(
            result,
            ModalResult::ProviderFailures {
                knobs: vec![("error_rate".to_string(), json!(1.0))]
            }
        );
        let mut form = ProviderForm::new(None);
        assert_eq!(form.handle(KeyCode::Left), ModalResult::Stay);
        assert_eq!(form.handle(KeyCode::Enter), ModalResult::Close, "0 stays 0");
        assert_eq!(form.handle(KeyCode::Char('r')), ModalResult::ProviderReset);
    }

    fn defaults() -> PatternConfig {
        // Through the read-back's JSON, as the dashboard meets it.
        let config = PatternConfig::default().to_json();
        PatternConfig::from_json(&config).expect("the sandbox's read-back")
    }

    #[test]
    fn the_patterns_form_switches_and_edits_and_sends_a_partial_body() {
        let mut form = PatternsForm::new(&defaults());
        assert_eq!(form.clone().handle(KeyCode::Enter), ModalResult::Close);
        let result = press(
            &mut |key| form.handle(key),
            &[
                // timeout on, 200 ms typed
                KeyCode::Char(' '),
                KeyCode::Char('2'),
                KeyCode::Char('0'),
                KeyCode::Char('0'),
                // the breaker on, its ratio one step down, open_s 30
                KeyCode::Down,
                KeyCode::Down,
                KeyCode::Char(' '),
                KeyCode::Left,
                KeyCode::Down,
                KeyCode::Char('3'),
                KeyCode::Char('0'),
                // the fallback on
                KeyCode::Down,
                KeyCode::Down,
                KeyCode::Char(' '),
                KeyCode::Enter,
            ],
        );
        assert_eq!(
            result,
            ModalResult::Patterns {
                body: json!({
                    "timeout": {"enabled": true, "ms": 200},
                    "circuit_breaker": {"enabled": true, "failure_ratio": 0.45, "open_s": 30},
                    "fallback": {"enabled": true},
                })
            }
        );
    }

    /// The dialog's ranges are the sandbox's: each end is accepted, one past it refused.
    #[test]
    fn the_patterns_ranges_match_what_the_sandbox_accepts() {
        use crate::pattern_settings::parse_update;
        let form = PatternsForm::new(&defaults());
        for row in &form.rows {
            let Some((field, number)) = row.number else {
                continue;
            };
            let body = |value: f64| {
                let value = if number.decimals == 0 {
                    json!(value as u64)
                } else {
                    json!(value)
                };
                json!({ (row.pattern): { (field): value } }).to_string()
            };
            let accepts =
                |value: f64| parse_update(body(value).as_bytes(), &PatternConfig::default());
            assert!(accepts(number.min).is_ok(), "{}.{field} min", row.pattern);
            assert!(accepts(number.max).is_ok(), "{}.{field} max", row.pattern);
            assert!(
                accepts(number.max + number.step).is_err(),
                "{}.{field} past max",
                row.pattern
            );
            if number.decimals == 0 {
                assert!(
                    accepts(number.min - 1.0).is_err(),
                    "{}.{field} below min",
                    row.pattern
                );
            }
        }
    }
}
