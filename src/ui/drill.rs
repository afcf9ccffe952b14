//! The drill panel beside the live panels: the phases, a large timer, the next thing to do,
//! the current checklist and the hints; after the drill, the review with its figures.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{View, big_digits, format, frame};
use crate::drill::case::Step;
use crate::drill::marks::{MarkKind, marks};
use crate::drill::signal_words::{signal_name, signal_value};
use crate::drill::{Figures, Phase, PhaseMachine};
use crate::i18n::Strings;
use crate::model::DrillSession;

const STEPS: [Phase; 5] = [
    Phase::Baseline,
    Phase::Inject,
    Phase::Detect,
    Phase::Respond,
    Phase::Recover,
];

pub fn render(frame: &mut Frame, view: &View, drill: &DrillSession, area: Rect) {
    let request = drill.request();
    let revealed = !drill.conceals_cause();
    let title = if revealed {
        format!(
            "{} · {}",
            view.text.drill,
            request.case.title.get(view.lang)
        )
    } else {
        format!("{} · {}", view.text.drill, view.text.hidden_case)
    };
    let block = frame::panel_block(view, &title, true);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = Vec::new();
    match &drill.machine {
        None => lines.push(next_line(view, view.text.next_waiting)),
        Some(machine) => {
            lines.push(phase_bar(view, machine.phase()));
            lines.push(Line::default());
            if machine.phase().is_finished() {
                review(view, machine, &mut lines);
            } else {
                timer(view, machine, &mut lines);
                lines.push(Line::default());
                lines.push(next_line(view, next_text(view.text, machine)));
                // Blind, until the cause is named: the items and hints worded without it.
                let concealed = drill.conceals_cause();
                checklist(view, machine, concealed, &mut lines);
                hints(view, machine, concealed, &mut lines);
            }
        }
    }
    if let Some(message) = &drill.message {
        lines.push(Line::default());
        lines.push(Line::styled(
            message.clone(),
            view.theme.base_style().fg(view.theme.warning),
        ));
    }
    if let Some(path) = &drill.record_path {
        lines.push(Line::styled(
            format!("{}: {}", view.text.record, path.display()),
            view.theme.muted_style(),
        ));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn phase_bar<'a>(view: &View, current: Phase) -> Line<'a> {
    let theme = view.theme;
    let position = STEPS.iter().position(|phase| *phase == current);
    let mut spans = Vec::new();
    for (index, phase) in STEPS.iter().enumerate() {
        if index > 0 {
            spans.push(Span::styled(" ▸ ", view.theme.muted_style()));
        }
        let style = match position {
            Some(at) if at == index => theme.key_style().bg(theme.selection),
            Some(at) if index < at => view.theme.base_style().fg(theme.ok),
            None if current == Phase::Review => view.theme.base_style().fg(theme.ok),
            _ => view.theme.muted_style(),
        };
        spans.push(Span::styled(phase.word(view.text), style));
    }
    if position.is_none() {
        spans.push(Span::styled("  ■ ", view.theme.muted_style()));
        spans.push(Span::styled(
            current.word(view.text),
            view.theme.base_style().add_modifier(Modifier::BOLD),
        ));
    }
    Line::from(spans)
}

fn next_line<'a>(view: &View, what: &str) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{}: ", view.text.next), view.theme.muted_style()),
        Span::styled(
            what.to_string(),
            view.theme.base_style().add_modifier(Modifier::BOLD),
        ),
    ])
}

fn next_text(text: &'static Strings, machine: &PhaseMachine) -> &'static str {
    match machine.phase() {
        Phase::Baseline => text.next_baseline,
        Phase::Inject if machine.state().manual_inject => text.next_inject_manual,
        Phase::Inject => text.next_inject,
        Phase::Detect => text.next_detect,
        Phase::Respond => text.next_respond,
        Phase::Recover => text.next_recover,
        Phase::Review | Phase::Abandoned | Phase::Refused => text.next_review,
    }
}

/// Minutes and seconds, as a wall clock shows them.
fn clock(seconds: f64) -> String {
    let whole = seconds.max(0.0).floor() as u64;
    format!("{}:{:02}", whole / 60, whole % 60)
}

fn timer<'a>(view: &View, machine: &PhaseMachine, lines: &mut Vec<Line<'a>>) {
    let now = view.model.now;
    let state = machine.state();
    let (label, seconds) = match (machine.phase(), state.injected_at) {
        (Phase::Baseline, _) => (view.text.timer_baseline, machine.baseline_ends_at() - now),
        (_, Some(injected)) => (view.text.timer_since_fault, now - injected),
        (_, None) => (view.text.timer_since_fault, 0.0),
    };
    let style = view
        .theme
        .base_style()
        .fg(view.theme.title)
        .add_modifier(Modifier::BOLD);
    for row in big_digits::rows(&clock(seconds)) {
        lines.push(Line::styled(format!("  {row}"), style));
    }
    lines.push(Line::styled(format!("  {label}"), view.theme.muted_style()));
    if let Some(left) = machine.hold_remaining(now) {
        lines.push(Line::styled(
            format!("  {} {}", view.text.timer_hold, format::age(left)),
            view.theme.base_style().fg(view.theme.ok),
        ));
    }
}

fn checklist<'a>(view: &View, machine: &PhaseMachine, concealed: bool, lines: &mut Vec<Line<'a>>) {
    let Some(step) = machine.phase().step() else {
        return;
    };
    let items = machine.case().checklist_for(step);
    if items.is_empty() {
        return;
    }
    lines.push(Line::default());
    lines.push(Line::styled(
        format!("{} (1-9)", view.text.checklist),
        view.theme.muted_style(),
    ));
    let states = machine.state().checklist.get(step.index());
    for (index, item) in items.iter().enumerate() {
        let state = states.and_then(|states| states.get(index));
        let done = state.is_some_and(|state| state.done_at.is_some());
        let mark = if done { "[x]" } else { "[ ]" };
        let style: Style = if done {
            view.theme.base_style().fg(view.theme.ok)
        } else {
            view.theme.base_style()
        };
        let auto = if item.verify.is_some() {
            format!(" ({})", view.text.auto)
        } else {
            String::new()
        };
        // Numbered as ever: the keys tick by the item's place, shown or not.
        let (shown, style) = match item.blind.shown(&item.text, concealed) {
            Some(text) => (text.get(view.lang), style),
            None => (view.text.blind_hidden_item, view.theme.muted_style()),
        };
        lines.push(Line::styled(
            format!("{mark} {} {shown}{auto}", index + 1),
            style,
        ));
    }
}

fn hints<'a>(view: &View, machine: &PhaseMachine, concealed: bool, lines: &mut Vec<Line<'a>>) {
    let opened = &machine.state().hints_opened;
    if opened.is_empty() {
        return;
    }
    lines.push(Line::default());
    lines.push(Line::styled(
        format!(
            "{} ({}/{})",
            view.text.hints,
            opened.len(),
            machine.case().hints.len()
        ),
        view.theme.muted_style(),
    ));
    for index in opened {
        if let Some(hint) = machine.case().hints.get(*index) {
            let line = match hint.blind.shown(&hint.text, concealed) {
                Some(text) => Line::styled(
                    format!("• {}", text.get(view.lang)),
                    view.theme.base_style().fg(view.theme.warning),
                ),
                None => Line::styled(
                    format!("• {}", view.text.blind_hidden_item),
                    view.theme.muted_style(),
                ),
            };
            lines.push(line);
        }
    }
}

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
            format!("{:>+8.1} s  {what}", mark.at - injected),
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
                    "{mark} {:<9} {}",
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

fn seconds(value: Option<f64>, text: &Strings) -> String {
    value.map_or_else(|| text.never.to_string(), |s| format!("{s:.1} s"))
}

/// `fired +78.0 s`, or `condition +18.0 s, would fire +78.0 s`, and how far ahead of it the
/// participant detected: beating the alert is the lesson.
fn alert_timing(
    alert: &crate::drill::figures::AlertFigure,
    detect: Option<f64>,
    text: &Strings,
) -> String {
    let fire = alert.delay.or(alert.would_fire_after);
    let mut out = match (alert.delay, alert.condition_after, alert.would_fire_after) {
        (Some(fired), _, _) => format!("{} +{fired:.1} s", text.alert_fired),
        (None, Some(held), Some(would)) => format!(
            "{} +{held:.1} s, {} +{would:.1} s",
            text.alert_condition, text.alert_would_fire
        ),
        (None, Some(held), None) => format!("{} +{held:.1} s", text.alert_condition),
        (None, None, _) => text.never.to_string(),
    };
    if let (Some(fire), Some(detect)) = (fire, detect)
        && detect < fire
    {
        out.push_str(&format!(
            "; {} {:.1} s",
            text.alert_beaten_by,
            fire - detect
        ));
    }
    out
}

fn review<'a>(view: &View, machine: &PhaseMachine, lines: &mut Vec<Line<'a>>) {
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
    let mut detect = seconds(figures.time_to_detect, text);
    if figures.detected_before_first_signal {
        detect.push_str(&format!(" ({})", text.before_signal));
    }
    let mut first_signal = seconds(figures.time_to_first_signal, text);
    if let Some(signal) = first_crossed(machine) {
        first_signal.push_str(&format!(" ({})", signal_name(signal, view.lang)));
    }
    let rows = [
        (text.fig_first_signal, first_signal),
        (text.fig_detect, detect),
        (
            text.fig_first_action,
            seconds(figures.time_to_first_action, text),
        ),
        (
            text.fig_recover,
            match figures.recovered_by_platform_after {
                Some(after) => format!("{} ({after:.1} s)", text.recovered_by_platform),
                None => seconds(figures.time_to_recover, text),
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
                alert_timing(alert, figures.time_to_detect, text),
                view.theme.base_style(),
            ),
        ]));
    }

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
