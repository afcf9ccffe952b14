//! The review of a finished drill: the figures with their units, the alerts' timing, the
//! business impact, a chart of the case's signals with the phases marked, the timeline since
//! the fault, the signal table, every checklist item done or missed, and the hints used.

use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::drill::{clock, hints};
use super::{View, big_digits, review_chart};
use crate::drill::case::Step;
use crate::drill::impact::Impact;
use crate::drill::marks::{MarkKind, marks};
use crate::drill::signal_words::duration_words;
use crate::drill::signal_words::{signal_name, signal_value};
use crate::drill::{Figures, Phase, PhaseMachine};
use crate::i18n::{Lang, Strings};

/// The drill's moments since the fault, one a line: crossings, the alert, detection, the fix,
/// recovery (the report has the same, with clock times).
fn timeline<'a>(view: &View, machine: &PhaseMachine, lines: &mut Vec<Line<'a>>) {
    let text = view.text;
    let Some(injected) = machine.state().injected_at else {
        return;
    };
    lines.push(Line::default());
    lines.push(Line::styled(text.timeline, view.theme.muted_style()));
    for mark in marks(machine.state()) {
        let name = mark.name.clone().unwrap_or_default();
        let what = match mark.kind {
            MarkKind::Injection => text.tl_injected.to_string(),
            MarkKind::FirstCrossing => {
                let shown = crate::signals::Signal::from_name(&name)
                    .map_or(name.clone(), |signal| {
                        signal_name(signal, view.lang).to_string()
                    });
                format!("{shown} {}", text.tl_crossed)
            }
            MarkKind::AlertCondition => format!("{}: {name}", text.tl_alert_condition),
            MarkKind::AlertWouldFire => format!("{}: {name}", text.tl_alert_would_fire),
            MarkKind::AlertFiring => format!("{}: {name}", text.tl_alert_fired),
            MarkKind::Detection => text.tl_detected.to_string(),
            MarkKind::Reset => text.tl_reset.to_string(),
            MarkKind::Remedy => name,
            MarkKind::PlatformRestart => text.tl_restart.to_string(),
            MarkKind::Recovered => text.tl_recovered.to_string(),
            MarkKind::Phase | MarkKind::FailuresCleared | MarkKind::Verified => continue,
        };
        lines.push(Line::styled(
            format!("{:>11}  {what}", plus(mark.at - injected, view.lang)),
            view.theme.base_style(),
        ));
    }
}

/// The watched signal that crossed its threshold first after the injection.
fn first_crossed(machine: &PhaseMachine) -> Option<crate::signals::Signal> {
    machine
        .state()
        .signals
        .iter()
        .filter_map(|track| Some((track.first_crossed_at?, track.signal)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, signal)| signal)
}

/// Every item of every step, done or missed, so the debrief can go through what was skipped.
fn review_checklist<'a>(
    view: &View,
    machine: &PhaseMachine,
    figures: &Figures,
    lines: &mut Vec<Line<'a>>,
) {
    lines.push(Line::default());
    lines.push(Line::styled(
        format!(
            "{} {}/{}",
            view.text.fig_checklist, figures.checklist_done, figures.checklist_total
        ),
        view.theme.muted_style(),
    ));
    let width = Step::ALL
        .iter()
        .map(|step| step_phase(*step).word(view.text).chars().count())
        .max()
        .unwrap_or(0);
    for step in Step::ALL {
        let states = machine.state().checklist.get(step.index());
        for (index, item) in machine.case().checklist_for(step).iter().enumerate() {
            let done = states
                .and_then(|states| states.get(index))
                .is_some_and(|state| state.done_at.is_some());
            let (mark, style) = if done {
                ("✓", view.theme.base_style().fg(view.theme.ok))
            } else {
                ("✗", view.theme.base_style().fg(view.theme.critical))
            };
            lines.push(Line::styled(
                format!(
                    "{mark} {:<width$} {}",
                    step_phase(step).word(view.text),
                    item.text.get(view.lang)
                ),
                style,
            ));
        }
    }
}

fn step_phase(step: Step) -> Phase {
    match step {
        Step::Baseline => Phase::Baseline,
        Step::Inject => Phase::Inject,
        Step::Detect => Phase::Detect,
        Step::Respond => Phase::Respond,
        Step::Recover => Phase::Recover,
    }
}

/// `+8.0 s` from the injection (`-2.0 s` before it), in the panel's language.
fn plus(seconds: f64, lang: Lang) -> String {
    let sign = if seconds >= 0.0 { "+" } else { "" };
    format!("{sign}{}", duration_words(seconds, lang))
}

fn seconds(value: Option<f64>, text: &Strings, lang: Lang) -> String {
    value.map_or_else(|| text.never.to_string(), |s| duration_words(s, lang))
}

/// `fired +78.0 s`, or `condition +18.0 s, would fire +78.0 s`, and how far ahead of it the
/// participant detected: beating the alert is the lesson.
fn alert_timing(
    alert: &crate::drill::figures::AlertFigure,
    detect: Option<f64>,
    text: &Strings,
    lang: Lang,
) -> String {
    let fire = alert.delay.or(alert.would_fire_after);
    let mut out = match (alert.delay, alert.condition_after, alert.would_fire_after) {
        (Some(fired), _, _) => format!("{} {}", text.alert_fired, plus(fired, lang)),
        (None, Some(held), Some(would)) => format!(
            "{} {}, {} {}",
            text.alert_condition,
            plus(held, lang),
            text.alert_would_fire,
            plus(would, lang)
        ),
        (None, Some(held), None) => format!("{} {}", text.alert_condition, plus(held, lang)),
        (None, None, _) => text.never.to_string(),
    };
    if let (Some(fire), Some(detect)) = (fire, detect)
        && detect < fire
    {
        out.push_str(&format!(
            "; {} {}",
            text.alert_beaten_by,
            duration_words(fire - detect, lang)
        ));
    }
    out
}

pub(super) fn review<'a>(
    view: &View,
    machine: &PhaseMachine,
    width: u16,
    lines: &mut Vec<Line<'a>>,
) {
    let text = view.text;
    let figures: Figures = machine.figures();
    if let Some(reason) = &machine.state().reason {
        lines.push(Line::styled(
            reason.clone(),
            view.theme.base_style().fg(view.theme.warning),
        ));
    }
    let big = figures.time_to_recover.map(clock);
    if let Some(mttr) = big {
        let style = view
            .theme
            .base_style()
            .fg(view.theme.ok)
            .add_modifier(Modifier::BOLD);
        for row in big_digits::rows(&mttr) {
            lines.push(Line::styled(format!("  {row}"), style));
        }
    }
    let mut detect = seconds(figures.time_to_detect, text, view.lang);
    if figures.detected_before_first_signal {
        detect.push_str(&format!(" ({})", text.before_signal));
    }
    let mut first_signal = seconds(figures.time_to_first_signal, text, view.lang);
    if let Some(signal) = first_crossed(machine) {
        first_signal.push_str(&format!(" ({})", signal_name(signal, view.lang)));
    }
    let rows = [
        (text.fig_first_signal, first_signal),
        (text.fig_detect, detect),
        (
            text.fig_first_action,
            seconds(figures.time_to_first_action, text, view.lang),
        ),
        (
            text.fig_recover,
            match figures.recovered_by_platform_after {
                Some(after) => format!(
                    "{} ({})",
                    text.recovered_by_platform,
                    duration_words(after, view.lang)
                ),
                None => seconds(figures.time_to_recover, text, view.lang),
            },
        ),
    ];
    for (label, value) in rows {
        lines.push(Line::from(vec![
            Span::styled(format!("{label:<25} "), view.theme.muted_style()),
            Span::styled(value, view.theme.base_style().add_modifier(Modifier::BOLD)),
        ]));
    }
    if let Some(right) = figures.diagnosis_correct {
        let (word, color) = if right {
            (text.right, view.theme.ok)
        } else {
            (text.wrong, view.theme.critical)
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:<26}", text.fig_diagnosis),
                view.theme.muted_style(),
            ),
            Span::styled(
                format!("{word}: {}", machine.case().diagnosis.get(view.lang)),
                view.theme
                    .base_style()
                    .fg(color)
                    .add_modifier(Modifier::BOLD),
            ),
        ]));
    }
    for alert in &figures.alerts {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:<26}", format!("{} {}", text.fig_alerts, alert.name)),
                view.theme.muted_style(),
            ),
            Span::styled(
                alert_timing(alert, figures.time_to_detect, text, view.lang),
                view.theme.base_style(),
            ),
        ]));
    }
    if let Some(impact) = &figures.impact {
        impact_lines(view, impact, lines);
    }
    lines.extend(review_chart::lines(view, machine, width));

    if !machine.case().debrief.is_empty() && machine.phase() == Phase::Review {
        lines.push(Line::default());
        lines.push(Line::styled(text.debrief, view.theme.muted_style()));
        for question in &machine.case().debrief {
            lines.push(Line::styled(
                format!("? {}", question.get(view.lang)),
                view.theme.base_style(),
            ));
        }
    }
    timeline(view, machine, lines);
    lines.push(Line::default());
    lines.push(Line::styled(text.signal_table, view.theme.muted_style()));
    for signal in &figures.signals {
        let show = |value: Option<f64>| {
            value.map_or_else(
                || "—".to_string(),
                |v| signal_value(signal.signal, v, view.lang),
            )
        };
        lines.push(Line::styled(
            format!(
                "{:<22} {} → {} → {}",
                signal_name(signal.signal, view.lang),
                show(signal.baseline_median),
                show(signal.peak),
                show(signal.recovery_value)
            ),
            view.theme.base_style(),
        ));
    }
    review_checklist(view, machine, &figures, lines);
    hints(view, machine, false, lines);
}

/// What the fault cost: what our load's clients lived through, and what the target counted.
fn impact_lines<'a>(view: &View, impact: &Impact, lines: &mut Vec<Line<'a>>) {
    let rows = impact.rows(view.text);
    if rows.is_empty() {
        return;
    }
    lines.push(Line::default());
    lines.push(Line::styled(
        impact.heading(view.text, view.lang),
        view.theme.muted_style(),
    ));
    for row in rows {
        let style = if row.loss {
            view.theme.base_style().fg(view.theme.critical)
        } else {
            view.theme.base_style()
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<25} ", row.label), view.theme.muted_style()),
            Span::styled(row.value, style.add_modifier(Modifier::BOLD)),
        ]));
    }
}
