//! Checks a case file and turns it into a [`Case`], reporting every problem as
//! `FILE:LINE:COLUMN: FIELD: what is wrong; expected ...`. Syntax and type errors come from toml
//! (one per file: parsing stops there); the meaning of values that parsed is checked here, all
//! problems at once.

use std::fmt;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

pub(crate) use super::toml_place::line_column;
use super::toml_place::{field_at, reword};

use super::case::{
    Case, ChecklistItem, ClosedLoop, Condition, ContainerInjection, ContainerWhen, FailureBody,
    Hint, Injection, LoadSpec, RecoverySpec, Requirement, Text, WatchedSignal, comparison_serde,
};
use super::case_file::{
    CaseFile, ChecklistItemFile, ConditionFile, FailuresFile, HintFile, InjectionFile, LoadFile,
    TextFile,
};
use super::validate_blind::CauseTerms;
use crate::actions::{ContainerAction, ContainerActionParts};
use crate::alerts::workshop_rules;
use crate::knobs::{self, IntegerRange, KnobKind, KnobValue, TTL_NAME, TTL_RANGE};
use crate::load::Mix;
use crate::signals::Signal;
use crate::toml_errors::closest_key;
use crate::units::HumanDuration;

pub fn check_profile_name(name: &str) -> Result<(), String> {
    name.parse::<crate::load::Profile>().map(|_| ())
}

const DEFAULT_BASELINE: Duration = Duration::from_secs(60);
const DEFAULT_HOLD: Duration = Duration::from_secs(30);
const DEFAULT_TOLERANCE: f64 = 0.25;
const DEFAULT_MIX: &str = "balance=70,transfer=20,health=10";
/// A closed loop's clients: the workshop's scripts use one; a handful is already a crowd for
/// a service of four threads.
const MAX_CLOSED_CLIENTS: i64 = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemSeverity {
    Error,
    Warning,
}

/// One problem in a case file, at a place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseProblem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The key path: `signals[0].threshold`; empty for the whole file.
    pub field: String,
    pub message: String,
    pub severity: ProblemSeverity,
}

impl fmt::Display for CaseProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if self.severity == ProblemSeverity::Warning {
            f.write_str("warning: ")?;
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// What checking one file found: the case when it has no errors, and every problem.
#[derive(Debug, Clone)]
pub struct CaseReport {
    pub file: String,
    pub case: Option<Case>,
    pub problems: Vec<CaseProblem>,
    /// Line and column of the `id` value, for a duplicate found across files.
    pub id_at: (usize, usize),
}

impl CaseReport {
    pub fn errors(&self) -> impl Iterator<Item = &CaseProblem> {
        self.problems
            .iter()
            .filter(|problem| problem.severity == ProblemSeverity::Error)
    }
}

/// Parses and checks the case file `text`; `file` names it in problems.
pub fn check_case(file: &str, text: &str) -> CaseReport {
    let mut checker = Checker {
        file,
        text,
        problems: Vec::new(),
        id_at: (1, 1),
    };
    let case = match toml::from_str::<CaseFile>(text) {
        Ok(raw) => checker.case(raw),
        Err(error) => {
            checker.toml_error(&error);
            None
        }
    };
    let has_errors = checker
        .problems
        .iter()
        .any(|problem| problem.severity == ProblemSeverity::Error);
    CaseReport {
        file: file.to_string(),
        case: case.filter(|_| !has_errors),
        problems: checker.problems,
        id_at: checker.id_at,
    }
}

pub(super) struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    problems: Vec<CaseProblem>,
    id_at: (usize, usize),
}

impl Checker<'_> {
    pub(super) fn push(
        &mut self,
        span: Range<usize>,
        field: &str,
        message: String,
        severity: ProblemSeverity,
    ) {
        let (line, column) = line_column(self.text, span.start);
        self.problems.push(CaseProblem {
            file: self.file.to_string(),
            line,
            column,
            field: field.to_string(),
            message,
            severity,
        });
    }

    pub(super) fn error(&mut self, span: Range<usize>, field: &str, message: impl Into<String>) {
        self.push(span, field, message.into(), ProblemSeverity::Error);
    }

    fn toml_error(&mut self, error: &toml::de::Error) {
        let span = error.span().unwrap_or(0..0);
        let field = DeTable::parse(self.text)
            .map(|root| field_at(root.get_ref(), span.start))
            .unwrap_or_default();
        let message = reword(error.message().trim(), &field);
        self.error(span, &field, message);
    }

    fn case(&mut self, raw: CaseFile) -> Option<Case> {
        let id = raw.id.get_ref().clone();
        self.id_at = line_column(self.text, raw.id.span().start);
        let id_ok = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !id_ok {
            self.error(
                raw.id.span(),
                "id",
                format!("`{id}` is not an id; expected lowercase letters, digits and dashes"),
            );
        }
        let title = self.text_pair(&raw.title, "title");
        let briefing = self.text_pair(&raw.briefing, "briefing");
        let baseline = self.duration(
            raw.baseline.duration.as_ref(),
            "baseline.duration",
            DEFAULT_BASELINE,
            Duration::from_secs(5),
        );
        let dependency = self.dependency(&raw);
        let injection = self
            .injection(&raw.injection, &raw.requires)
            .map(|injection| Injection {
                provider: dependency.provider.clone(),
                ..injection
            });
        let load = self.load(&raw);
        let signals = self.signals(&raw);
        let alerts = self.alerts(&raw.alerts);
        let terms = CauseTerms::of(&raw);
        let checklist = self.checklist(&raw, &terms);
        let hints = self.hints(&raw.hints, &terms);
        let recovery = RecoverySpec {
            provider_cleared: dependency.provider_cleared,
            provider_still_failing: dependency.provider_still_failing,
            patterns: dependency.patterns,
            ..self.recovery(&raw)
        };
        let debrief = self.texts(&raw.debrief, "debrief");
        let diagnosis = self.text_pair(&raw.diagnosis, "diagnosis");
        Some(Case {
            id,
            difficulty: raw.difficulty,
            title,
            briefing,
            requires: raw.requires,
            baseline,
            starting_patterns: dependency.starting_patterns,
            injection: injection?,
            load: load?,
            signals,
            alerts,
            checklist,
            hints,
            recovery,
            debrief,
            diagnosis,
            source: self.file.to_string(),
        })
    }

    pub(super) fn text(&mut self, en: &Spanned<String>, ru: &Spanned<String>, field: &str) -> Text {
        for (value, lang, language) in [(en, "en", "English"), (ru, "ru", "Russian")] {
            if value.get_ref().trim().is_empty() {
                let message = format!("empty; expected the text in {language}");
                self.error(value.span(), &format!("{field}.{lang}"), message);
            }
        }
        if !ru.get_ref().trim().is_empty() && ru.get_ref().trim() == en.get_ref().trim() {
            let message = "the same as `en`; expected a Russian translation";
            self.error(ru.span(), &format!("{field}.ru"), message);
        }
        Text {
            en: en.get_ref().trim().to_string(),
            ru: ru.get_ref().trim().to_string(),
        }
    }

    fn text_pair(&mut self, text: &TextFile, field: &str) -> Text {
        self.text(&text.en, &text.ru, field)
    }

    fn texts(&mut self, texts: &[TextFile], field: &str) -> Vec<Text> {
        let mut checked = Vec::new();
        for (index, text) in texts.iter().enumerate() {
            checked.push(self.text_pair(text, &format!("{field}[{index}]")));
        }
        checked
    }

    fn hints(&mut self, hints: &[HintFile], terms: &CauseTerms) -> Vec<Hint> {
        let mut checked = Vec::new();
        for (index, hint) in hints.iter().enumerate() {
            let field = format!("hints[{index}]");
            let text = self.text(&hint.en, &hint.ru, &field);
            let written = [&hint.en, &hint.ru];
            let blind = self.blind_wording(written, hint.blind.as_ref(), &field, terms);
            checked.push(Hint { text, blind });
        }
        checked
    }

    fn duration(
        &mut self,
        value: Option<&Spanned<String>>,
        field: &str,
        default: Duration,
        least: Duration,
    ) -> Duration {
        let Some(value) = value else {
            return default;
        };
        match value.get_ref().parse::<HumanDuration>() {
            Ok(HumanDuration(duration)) if duration >= least => duration,
            Ok(_) => {
                let message = format!(
                    "`{}` is too short; expected at least {}",
                    value.get_ref(),
                    HumanDuration(least)
                );
                self.error(value.span(), field, message);
                default
            }
            Err(message) => {
                self.error(value.span(), field, message);
                default
            }
        }
    }

    fn signal(&mut self, name: &Spanned<String>, field: &str) -> Option<Signal> {
        let signal = Signal::from_name(name.get_ref());
        if signal.is_none() {
            let known: Vec<&str> = Signal::ALL.iter().map(|s| s.name()).collect();
            let message = format!(
                "`{}` is not a signal; expected one of {}",
                name.get_ref(),
                known.join(", ")
            );
            self.error(name.span(), field, message);
        }
        signal
    }

    fn condition(
        &mut self,
        signal: &Spanned<String>,
        comparison: &Spanned<String>,
        threshold: &Spanned<f64>,
        field: &str,
    ) -> Option<Condition> {
        let signal = self.signal(signal, &format!("{field}.signal"));
        let parsed = comparison_serde::parse(comparison.get_ref());
        if parsed.is_none() {
            let message = format!(
                "`{}` is not a comparison; expected \"above\" or \"below\"",
                comparison.get_ref()
            );
            self.error(comparison.span(), &format!("{field}.comparison"), message);
        }
        if !threshold.get_ref().is_finite() {
            let message = "expected a finite number";
            self.error(threshold.span(), &format!("{field}.threshold"), message);
        }
        Some(Condition {
            signal: signal?,
            comparison: parsed?,
            threshold: *threshold.get_ref(),
        })
    }

    fn injection(
        &mut self,
        injection: &Spanned<InjectionFile>,
        requires: &[Requirement],
    ) -> Option<Injection> {
        let raw = injection.get_ref();
        if raw.failures.is_none() && raw.container.is_none() && raw.provider.is_none() {
            let message = "nothing to inject; expected `failures`, `container`, `provider`";
            self.error(injection.span(), "injection", message);
            return None;
        }
        let mut container = None;
        if let Some(file) = &raw.container {
            let when = *file.when.get_ref();
            let parts = ContainerActionParts {
                verb: *file.action.get_ref(),
                target: file.target,
            };
            match ContainerAction::try_from(parts) {
                Ok(action) => container = Some(ContainerInjection { action, when }),
                Err(message) => {
                    self.error(file.action.span(), "injection.container.action", message)
                }
            }
            if when == ContainerWhen::Always && !requires.contains(&Requirement::Docker) {
                let message = "a container action needs Docker; expected \"docker\" in `requires`";
                self.error(file.when.span(), "injection.container", message);
            }
            if when == ContainerWhen::NoSandbox && raw.failures.is_none() {
                let message = "\"no-sandbox\" replaces `injection.failures`, which is missing";
                self.error(file.when.span(), "injection.container.when", message);
            }
        }
        let fallback = container.is_some_and(|c| c.when == ContainerWhen::NoSandbox);
        let failures = match &raw.failures {
            Some(failures) => Some(self.failures(failures, requires, fallback)?),
            None => None,
        };
        Some(Injection {
            failures,
            container,
            provider: None,
        })
    }

    /// Every knob must be one of `crate::knobs`, with a value of its type and range.
    fn failures(
        &mut self,
        failures: &Spanned<FailuresFile>,
        requires: &[Requirement],
        has_fallback: bool,
    ) -> Option<FailureBody> {
        let mut ok = true;
        let mut body = FailureBody::default();
        let mut sandbox_only = Vec::new();
        // In the file's order, so problems read top to bottom.
        let mut entries: Vec<_> = failures.get_ref().iter().collect();
        entries.sort_by_key(|(name, _)| name.span().start);
        for (name, value) in entries {
            let field = format!("injection.failures.{}", name.get_ref());
            if name.get_ref() == TTL_NAME {
                match self.knob_integer(value, &field, TTL_RANGE) {
                    Some(ttl) => body.ttl_s = Some(ttl),
                    None => ok = false,
                }
                sandbox_only.push((field, value.span()));
                continue;
            }
            let Some(spec) = knobs::by_name(name.get_ref()) else {
                let known: Vec<&str> = knobs::names().chain([TTL_NAME]).collect();
                let hint = closest_key(name.get_ref(), &known)
                    .map(|near| format!(" (did you mean `{near}`?)"))
                    .unwrap_or_default();
                let message = format!("unknown key{hint}; expected one of {}", known.join(", "));
                self.error(name.span(), &field, message);
                ok = false;
                continue;
            };
            let parsed = match spec.kind {
                KnobKind::Integer(range) => self
                    .knob_integer(value, &field, range)
                    .map(KnobValue::Number),
                KnobKind::Flag => self.knob_flag(value, &field).map(KnobValue::Flag),
            };
            match parsed {
                Some(parsed) => {
                    body.knobs.insert(spec.knob, parsed);
                }
                None => ok = false,
            }
            if spec.sandbox_only() {
                sandbox_only.push((field, value.span()));
            }
        }
        if failures.get_ref().is_empty() {
            let names: Vec<&str> = knobs::names().collect();
            let message = format!("no knob set; expected {} or {TTL_NAME}", names.join(", "));
            self.error(failures.span(), "injection.failures", message);
            ok = false;
        }
        if !requires.contains(&Requirement::Sandbox) && !has_fallback {
            for (field, span) in sandbox_only {
                let message = "works only on gameday's sandbox; expected \"sandbox\" in \
                               `requires` (or a container action with when = \"no-sandbox\")";
                self.error(span, &field, message);
                ok = false;
            }
        }
        ok.then_some(body)
    }

    fn knob_integer(
        &mut self,
        value: &Spanned<toml::Value>,
        field: &str,
        range: IntegerRange,
    ) -> Option<u64> {
        let toml::Value::Integer(number) = *value.get_ref() else {
            let message = format!("expected an integer, found {}", toml_kind(value.get_ref()));
            self.error(value.span(), field, message);
            return None;
        };
        let in_range = u64::try_from(number).ok().filter(|n| range.contains(*n));
        if in_range.is_none() {
            let message = format!("{number} is out of range; expected {}", range.describe());
            self.error(value.span(), field, message);
        }
        in_range
    }

    fn knob_flag(&mut self, value: &Spanned<toml::Value>, field: &str) -> Option<bool> {
        let toml::Value::Boolean(flag) = *value.get_ref() else {
            let message = format!("expected a boolean, found {}", toml_kind(value.get_ref()));
            self.error(value.span(), field, message);
            return None;
        };
        Some(flag)
    }

    fn load(&mut self, raw: &CaseFile) -> Option<LoadSpec> {
        let load = &raw.load;
        let mut ok = true;
        let profile = load
            .profile
            .as_ref()
            .map_or("steady".to_string(), |profile| profile.get_ref().clone());
        if let Some(written) = &load.profile
            && let Err(message) = check_profile_name(written.get_ref())
        {
            self.error(written.span(), "load.profile", message);
            ok = false;
        }
        let closed = self.closed_loop(load, &profile, &mut ok);
        let rate = match (&load.rate, closed) {
            (Some(rate), None) => {
                let value = *rate.get_ref();
                if !(value > 0.0 && value <= 10_000.0) {
                    let message = format!(
                        "{value} is out of range; expected requests per second, 0 to 10000"
                    );
                    self.error(rate.span(), "load.rate", message);
                    ok = false;
                }
                value
            }
            (Some(rate), Some(_)) => {
                let message = "a closed loop has no rate; expected either `rate` (open) or \
                               `clients` and `think` (closed)";
                self.error(rate.span(), "load.rate", message);
                ok = false;
                0.0
            }
            (None, Some(_)) => 0.0,
            (None, None) => {
                let message = "missing; expected `rate` in requests per second, or `clients` \
                               and `think` for a closed loop";
                // No span of its own: point at another key of `[load]`.
                let span = [&load.profile, &load.mix]
                    .into_iter()
                    .flatten()
                    .map(Spanned::span)
                    .next()
                    .unwrap_or(0..0);
                self.error(span, "load.rate", message);
                ok = false;
                0.0
            }
        };
        let mix_text = load
            .mix
            .as_ref()
            .map_or(DEFAULT_MIX.to_string(), |mix| mix.get_ref().clone());
        let mix = match mix_text.parse::<Mix>() {
            Ok(mix) => Some(mix),
            Err(message) => {
                let span = load.mix.as_ref().map_or(0..0, Spanned::span);
                self.error(span, "load.mix", message);
                None
            }
        };
        Some(LoadSpec {
            profile,
            rate,
            mix: mix?,
            mix_text,
            closed,
        })
        .filter(|_| ok)
    }

    /// `clients` and `think`, when the case asks for a closed loop.
    fn closed_loop(&mut self, load: &LoadFile, profile: &str, ok: &mut bool) -> Option<ClosedLoop> {
        let Some(clients) = &load.clients else {
            if let Some(think) = &load.think {
                let message = "a pause between requests needs `clients` (a closed loop)";
                self.error(think.span(), "load.think", message);
                *ok = false;
            }
            return None;
        };
        let count = *clients.get_ref();
        if !(1..=MAX_CLOSED_CLIENTS).contains(&count) {
            let message =
                format!("{count} is out of range; expected 1 to {MAX_CLOSED_CLIENTS} clients");
            self.error(clients.span(), "load.clients", message);
            *ok = false;
        }
        if profile != "steady"
            && let Some(written) = &load.profile
        {
            let message = "profiles shape an open rate; a closed loop takes none (or `steady`)";
            self.error(written.span(), "load.profile", message);
            *ok = false;
        }
        let think = self.duration(
            load.think.as_ref(),
            "load.think",
            Duration::ZERO,
            Duration::ZERO,
        );
        Some(ClosedLoop {
            clients: usize::try_from(count.clamp(1, MAX_CLOSED_CLIENTS)).unwrap_or(1),
            think,
        })
    }

    fn signals(&mut self, raw: &CaseFile) -> Vec<WatchedSignal> {
        if raw.signals.get_ref().is_empty() {
            let message = "no signals; expected at least one signal that shows the fault";
            self.error(raw.signals.span(), "signals", message);
        }
        let mut signals = Vec::new();
        for (index, signal) in raw.signals.get_ref().iter().enumerate() {
            let field = format!("signals[{index}]");
            if let Some(promql) = &signal.promql
                && promql.get_ref().trim().is_empty()
            {
                let message = "empty; expected a PromQL expression, or no `promql` key";
                self.error(promql.span(), &format!("{field}.promql"), message);
            }
            let condition = self.condition(
                &signal.signal,
                &signal.comparison,
                &signal.threshold,
                &field,
            );
            if let Some(condition) = condition {
                signals.push(WatchedSignal {
                    condition,
                    promql: signal
                        .promql
                        .as_ref()
                        .map(|p| p.get_ref().trim().to_string()),
                });
            }
        }
        signals
    }

    /// Alert names may be the user's own Prometheus rules, so an unknown one is only a warning.
    fn alerts(&mut self, alerts: &[Spanned<String>]) -> Vec<String> {
        let known: Vec<String> = workshop_rules().into_iter().map(|rule| rule.name).collect();
        let mut names = Vec::new();
        for (index, alert) in alerts.iter().enumerate() {
            let field = format!("alerts[{index}]");
            let name = alert.get_ref().trim();
            if name.is_empty() {
                self.error(alert.span(), &field, "empty; expected an alert name");
                continue;
            }
            if !known.iter().any(|known| known == name) {
                let message = format!(
                    "`{name}` is not a workshop alert ({}); fine if your Prometheus has such a rule",
                    known.join(", ")
                );
                self.push(alert.span(), &field, message, ProblemSeverity::Warning);
            }
            names.push(name.to_string());
        }
        names
    }

    fn checklist(&mut self, raw: &CaseFile, terms: &CauseTerms) -> [Vec<ChecklistItem>; 5] {
        let lists = &raw.checklist;
        let steps: [(&str, &Vec<ChecklistItemFile>); 5] = [
            ("baseline", &lists.baseline),
            ("inject", &lists.inject),
            ("detect", &lists.detect),
            ("respond", &lists.respond),
            ("recover", &lists.recover),
        ];
        steps.map(|(step, items)| {
            if items.is_empty() {
                let message = format!("no items for `{step}`; expected at least one per phase");
                let span = self.key_span(&["checklist", step]);
                self.error(span, &format!("checklist.{step}"), message);
            }
            let mut checked = Vec::new();
            for (index, item) in items.iter().enumerate() {
                let field = format!("checklist.{step}[{index}]");
                let text = self.text(&item.en, &item.ru, &field);
                let written = [&item.en, &item.ru];
                let blind = self.blind_wording(written, item.blind.as_ref(), &field, terms);
                let verify = item.verify.as_ref().and_then(|c: &ConditionFile| {
                    self.condition(
                        &c.signal,
                        &c.comparison,
                        &c.threshold,
                        &format!("{field}.verify"),
                    )
                });
                let on_detection = match &item.on_detection {
                    Some(flag) if *flag.get_ref() && (step != "detect" || verify.is_some()) => {
                        let message = "only an item of `detect` without `verify` can be \
                                       ticked by the detection's answer";
                        self.error(flag.span(), &format!("{field}.on_detection"), message);
                        false
                    }
                    Some(flag) => *flag.get_ref(),
                    None => false,
                };
                checked.push(ChecklistItem {
                    text,
                    blind,
                    verify,
                    on_detection,
                });
            }
            checked
        })
    }

    fn recovery(&mut self, raw: &CaseFile) -> RecoverySpec {
        let recovery = &raw.recovery;
        if recovery.signals.get_ref().is_empty() {
            let message = "no signals; expected the signals that must return to their baseline";
            self.error(recovery.signals.span(), "recovery.signals", message);
        }
        let mut signals = Vec::new();
        for (index, name) in recovery.signals.get_ref().iter().enumerate() {
            if let Some(signal) = self.signal(name, &format!("recovery.signals[{index}]")) {
                signals.push(signal);
            }
        }
        let tolerance = match &recovery.tolerance {
            Some(value) if !(0.0..=10.0).contains(value.get_ref()) => {
                let message = format!(
                    "{} is out of range; expected a fraction from 0 to 10 (0.25 = 25% beyond the band)",
                    value.get_ref()
                );
                self.error(value.span(), "recovery.tolerance", message);
                DEFAULT_TOLERANCE
            }
            Some(value) => *value.get_ref(),
            None => DEFAULT_TOLERANCE,
        };
        let hold = self.duration(
            recovery.hold.as_ref(),
            "recovery.hold",
            DEFAULT_HOLD,
            Duration::from_secs(1),
        );
        RecoverySpec {
            signals,
            tolerance,
            hold,
            failures_cleared: recovery.failures_cleared.unwrap_or(true),
            provider_cleared: false,
            provider_still_failing: false,
            patterns: Vec::new(),
        }
    }

    /// Where the key at `path` is written (or the nearest table above it that is), for
    /// problems about a value as a whole.
    pub(super) fn key_span(&self, path: &[&str]) -> Range<usize> {
        let Ok(root) = DeTable::parse(self.text) else {
            return 0..0;
        };
        let mut table = root.get_ref();
        let mut span = 0..0;
        for key in path {
            let Some((name, value)) = table.iter().find(|(name, _)| name.get_ref() == key) else {
                break;
            };
            span = name.span();
            match value.get_ref() {
                DeValue::Table(inner) => table = inner,
                _ => break,
            }
        }
        span
    }
}

/// A toml value's type as a person writes it, for "expected ..., found ...".
fn toml_kind(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a number",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
    }
}
