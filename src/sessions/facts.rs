//! A session record read into rows of words: its figures, its signals, its timeline, its
//! actions and checklist. `show` and `postmortem` lay the same rows out differently.

use chrono::{DateTime, FixedOffset, Local, TimeZone};

use super::words::{Words, maybe_duration, words};
use crate::actions::ActionKind;
use crate::drill::case::{Case, Step};
use crate::drill::record::SessionRecord;
use crate::drill::signal_words::{comparison_word, signal_name, signal_value};
use crate::drill::state::{ActionRecord, Phase};
use crate::i18n::{Lang, strings};
use crate::signals::UnixSeconds;

/// The time zone dates are written in: the machine's own, or a fixed one (tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    fixed: Option<FixedOffset>,
}

impl Clock {
    pub fn local() -> Clock {
        Clock { fixed: None }
    }

    #[cfg(test)]
    pub fn utc() -> Clock {
        Clock {
            fixed: FixedOffset::east_opt(0),
        }
    }

    fn format(&self, at: UnixSeconds, pattern: &str) -> String {
        let Some(utc) = DateTime::from_timestamp(at.floor() as i64, 0) else {
            return format!("{at:.0}");
        };
        match self.fixed {
            Some(offset) => offset
                .from_utc_datetime(&utc.naive_utc())
                .format(pattern)
                .to_string(),
            None => utc.with_timezone(&Local).format(pattern).to_string(),
        }
    }

    /// `2026-11-18 11:06`, local time to the minute.
    pub fn date_minute(&self, at: UnixSeconds) -> String {
        self.format(at, "%Y-%m-%d %H:%M")
    }

    /// `2026-11-18 11:06:40`.
    pub fn date_time(&self, at: UnixSeconds) -> String {
        self.format(at, "%Y-%m-%d %H:%M:%S")
    }

    /// `11:06:40`.
    pub fn time_of_day(&self, at: UnixSeconds) -> String {
        self.format(at, "%H:%M:%S")
    }
}

/// The case's title in `lang`, or the record's English one when the case is gone.
pub fn title(record: &SessionRecord, case: Option<&Case>, lang: Lang) -> String {
    case.map_or_else(
        || record.case_title.clone(),
        |case| case.title.get(lang).to_string(),
    )
}

pub fn phase_word(phase: Phase, lang: Lang) -> &'static str {
    phase.word(strings(lang))
}

/// Seconds from the injection: `T+9.0 s`, `T-50.0 s`; `—` when nothing was injected.
pub fn since_injection(record: &SessionRecord, at: UnixSeconds, lang: Lang) -> String {
    match record.drill.injected_at {
        Some(injected) if at >= injected => {
            format!("T+{}", maybe_duration(Some(at - injected), lang))
        }
        Some(injected) => format!("T-{}", maybe_duration(Some(injected - at), lang)),
        None => "—".to_string(),
    }
}

/// The figures as (label, value) rows, with units.
pub fn figure_rows(record: &SessionRecord, lang: Lang) -> Vec<(String, String)> {
    let text = strings(lang);
    let w = words(lang);
    let figures = &record.figures;
    let mut detect = maybe_duration(figures.time_to_detect, lang);
    if figures.detected_before_first_signal {
        detect.push_str(&format!(" ({})", text.before_signal));
    }
    let recover = match figures.recovered_by_platform_after {
        Some(after) => format!(
            "{} ({})",
            text.recovered_by_platform,
            maybe_duration(Some(after), lang)
        ),
        None => maybe_duration(figures.time_to_recover, lang),
    };
    let mut rows = vec![
        (
            text.fig_first_signal.to_string(),
            maybe_duration(figures.time_to_first_signal, lang),
        ),
        (text.fig_detect.to_string(), detect),
        (
            text.fig_first_action.to_string(),
            maybe_duration(figures.time_to_first_action, lang),
        ),
        (text.fig_recover.to_string(), recover),
        (
            w.first_action_to_recover.to_string(),
            maybe_duration(figures.recover_after_first_action, lang),
        ),
        (
            text.fig_checklist.to_string(),
            format!("{}/{}", figures.checklist_done, figures.checklist_total),
        ),
        (
            text.fig_hints.to_string(),
            format!("{}/{}", figures.hints_used, figures.hints_total),
        ),
    ];
    if let Some(right) = figures.diagnosis_correct {
        let word = if right { text.right } else { text.wrong };
        rows.push((text.fig_diagnosis.to_string(), word.to_string()));
    }
    for alert in &figures.alerts {
        let mut value = alert
            .delay
            .map_or_else(|| text.never.to_string(), |d| maybe_duration(Some(d), lang));
        let mut about = Vec::new();
        if let Some(after) = alert.condition_after {
            about.push(format!(
                "{} {}",
                w.condition_after,
                maybe_duration(Some(after), lang)
            ));
        }
        if let Some(after) = alert.would_fire_after.filter(|_| alert.delay.is_none()) {
            about.push(format!(
                "{} {}",
                w.would_fire_after,
                maybe_duration(Some(after), lang)
            ));
        }
        if !alert.expected {
            about.push(w.unexpected.to_string());
        }
        if !about.is_empty() {
            value.push_str(&format!(" ({})", about.join(", ")));
        }
        rows.push((format!("{} {}", text.fig_alerts, alert.name), value));
    }
    if let Some(impact) = &figures.impact {
        let heading = impact.heading(text, lang);
        for row in impact.rows(text) {
            rows.push((format!("{heading}: {}", row.label), row.value));
        }
    }
    rows
}

/// Per signal: name, baseline median, peak, time past its threshold, value at recovery.
pub fn signal_rows(record: &SessionRecord, lang: Lang) -> Vec<[String; 5]> {
    record
        .figures
        .signals
        .iter()
        .map(|figure| {
            let value = |v: Option<f64>| {
                v.map_or_else(|| "—".to_string(), |v| signal_value(figure.signal, v, lang))
            };
            [
                signal_name(figure.signal, lang).to_string(),
                value(figure.baseline_median),
                value(figure.peak),
                maybe_duration(figure.crossed_after, lang),
                value(figure.recovery_value),
            ]
        })
        .collect()
}

/// What the participant did, in words: `reset the failures`, `opened hint 2: …`.
pub fn action_words(kind: &ActionKind, case: Option<&Case>, lang: Lang) -> String {
    let w = words(lang);
    match kind {
        ActionKind::FailureReset => w.reset.to_string(),
        ActionKind::FailureChange { body } => format!("{} {body}", w.failure_change),
        ActionKind::Container(action) => format!("{}: {}", w.container, action.name()),
        ActionKind::ProviderFailureChange { body } => {
            format!("{} {body}", w.provider_failure_change)
        }
        ActionKind::ProviderReset => w.provider_reset.to_string(),
        ActionKind::PatternChange { body } => format!("{} {body}", w.pattern_change),
        ActionKind::HintOpened { index } => {
            let hint = case
                .and_then(|case| case.hints.get(*index))
                .map(|hint| format!(": {}", hint.text.get(lang)))
                .unwrap_or_default();
            format!("{} {}{hint}", w.hint, index + 1)
        }
        ActionKind::LoadChange { rate } => format!(
            "{} {}",
            w.load_change,
            signal_value(crate::signals::Signal::Rps, *rate, lang)
        ),
    }
}

/// An action and how it went: `reset the failures — ok`, `… — failed: connection refused`.
pub fn action_line(action: &ActionRecord, case: Option<&Case>, lang: Lang) -> String {
    let w = words(lang);
    let what = action_words(&action.kind, case, lang);
    match (&action.failed, &action.kind) {
        // Opening a hint asks nothing of the target: there is no answer to report.
        (None, ActionKind::HintOpened { .. }) => what,
        (None, _) => format!("{what} — {}", w.took),
        (Some(reason), _) => format!("{what} — {}: {reason}", w.failed),
    }
}

/// One moment of the drill.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub at: UnixSeconds,
    pub text: String,
}

/// Everything the record timestamps, in order: phases, the injection, threshold crossings,
/// alerts, the detection, actions, platform restarts, recovery, notes.
pub fn timeline(record: &SessionRecord, case: Option<&Case>, lang: Lang) -> Vec<Event> {
    let w: &Words = words(lang);
    let drill = &record.drill;
    let mut events: Vec<Event> = Vec::new();
    let mut push = |at: UnixSeconds, text: String| events.push(Event { at, text });
    for phase in &drill.phases {
        push(
            phase.at,
            format!("{}: {}", w.entered, phase_word(phase.phase, lang)),
        );
    }
    if let Some(at) = drill.injected_at {
        let what = drill
            .injection
            .as_ref()
            .and_then(|plan| plan.failures.as_ref())
            .map(|body| format!(": {}", body.to_json()))
            .unwrap_or_default();
        push(at, format!("{}{what}", w.injected));
    }
    for track in &drill.signals {
        if let Some(at) = track.first_crossed_at {
            push(
                at,
                format!(
                    "{} {} ({} {})",
                    signal_name(track.signal, lang),
                    w.crossed,
                    comparison_word(track.comparison, lang),
                    signal_value(track.signal, track.threshold, lang)
                ),
            );
        }
    }
    for condition in &drill.alert_conditions {
        push(
            condition.held_at,
            format!("{}: {}", w.alert_condition, condition.name),
        );
        let fired = drill
            .alerts
            .iter()
            .any(|alert| alert.name == condition.name);
        if let Some(at) = condition.would_fire_at.filter(|_| !fired) {
            push(at, format!("{}: {}", w.alert_would_fire, condition.name));
        }
    }
    for alert in &drill.alerts {
        let unexpected = if alert.expected {
            String::new()
        } else {
            format!(" ({})", w.unexpected)
        };
        push(
            alert.fired_at,
            format!("{}: {}{unexpected}", w.alert_fired, alert.name),
        );
    }
    if let Some(detection) = &drill.detection {
        let mut text = w.detected.to_string();
        if let Some(signal) = detection.signal {
            text.push_str(&format!(
                ", {} {}",
                w.detected_on,
                signal_name(signal, lang)
            ));
        }
        if let Some(named) = &detection.diagnosis {
            text.push_str(&format!(", {}: {named}", w.named_cause));
        }
        push(detection.at, text);
    }
    for action in &drill.actions {
        push(action.at, action_line(action, case, lang));
    }
    for at in &drill.platform_restarts {
        push(*at, w.platform_restart.to_string());
    }
    if let Some(at) = drill.recovered_at {
        push(at, w.recovered.to_string());
    }
    if let Some(at) = drill.verified_at {
        push(at, w.verified.to_string());
    }
    for note in &drill.notes {
        push(note.at, format!("{}: {}", w.note, note.text));
    }
    // Stable: at the same second, phases come before what happened in them.
    events.sort_by(|a, b| a.at.total_cmp(&b.at));
    events
}

/// One checklist item with its text and whether it was done.
pub struct ChecklistLine {
    pub step: Step,
    pub text: String,
    pub done_at: Option<UnixSeconds>,
    pub auto: bool,
}

/// Every checklist item of the record, with the case's text (the record's own when the case
/// is gone, `#N` when a version 1 record's case is gone).
pub fn checklist_lines(
    record: &SessionRecord,
    case: Option<&Case>,
    lang: Lang,
) -> Vec<ChecklistLine> {
    let mut lines = Vec::new();
    for step in Step::ALL {
        let Some(items) = record.drill.checklist.get(step.index()) else {
            continue;
        };
        for (index, item) in items.iter().enumerate() {
            let id = format!("{}.{}", step.name(), index + 1);
            let kept = record.checklist.iter().find(|entry| entry.id == id);
            let text = match (
                case.and_then(|case| case.checklist_for(step).get(index)),
                kept,
            ) {
                (Some(item), _) => item.text.get(lang).to_string(),
                (None, Some(entry)) if lang == Lang::Ru => entry.text.ru.clone(),
                (None, Some(entry)) => entry.text.en.clone(),
                (None, None) => format!("#{}", index + 1),
            };
            lines.push(ChecklistLine {
                step,
                text,
                done_at: item.done_at,
                auto: item.auto,
            });
        }
    }
    lines
}

/// The step's name as the dashboard shows its phase.
pub fn step_word(step: Step, lang: Lang) -> &'static str {
    let phase = match step {
        Step::Baseline => Phase::Baseline,
        Step::Inject => Phase::Inject,
        Step::Detect => Phase::Detect,
        Step::Respond => Phase::Respond,
        Step::Recover => Phase::Recover,
    };
    phase_word(phase, lang)
}
