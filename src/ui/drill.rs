//! The drill panel beside the live panels: the phases, a large timer, the next thing to do,
//! the current checklist and the hints; after the drill, the review with its figures.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{View, big_digits, drill_review, format, frame};
use crate::drill::{Phase, PhaseMachine};
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
                drill_review::review(view, machine, inner.width, &mut lines);
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
    let reviewing = drill
        .machine
        .as_ref()
        .is_some_and(|machine| machine.phase().is_finished());
    let (scroll, most) = if reviewing {
        review_scroll(view, &lines, inner)
    } else {
        (0, 0)
    };
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        inner,
    );
    if most > 0 {
        let arrows = match (scroll > 0, scroll < most) {
            (true, true) => "↑↓",
            (false, _) => "↓",
            (true, false) => "↑",
        };
        let marker = format!(" {arrows} {} ", view.text.review_more);
        let marker_width = u16::try_from(marker.chars().count()).unwrap_or(u16::MAX);
        if marker_width < inner.width && inner.height > 0 {
            let corner = Rect {
                x: inner.right() - marker_width,
                y: inner.bottom() - 1,
                width: marker_width,
                height: 1,
            };
            frame.render_widget(Paragraph::new(marker).style(view.theme.key_style()), corner);
        }
    }
}

/// How far the review is scrolled (↑/↓, PgUp/PgDn), never past its end; a marker in the
/// corner says there is more below or above.
fn review_scroll(view: &View, lines: &[Line], inner: Rect) -> (u16, u16) {
    let width = usize::from(inner.width.max(1));
    let total: usize = lines
        .iter()
        .map(|line| line.width().div_ceil(width).max(1))
        .sum();
    let most = total.saturating_sub(usize::from(inner.height));
    view.model.view.review_scroll_most.set(most);
    let scroll = view.model.view.review_scroll.min(most);
    let as_rows = |rows: usize| u16::try_from(rows).unwrap_or(u16::MAX);
    (as_rows(scroll), as_rows(most))
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
        // A case about the dependency is fixed with the patterns or at the provider.
        Phase::Respond if machine.case().starting_patterns.is_some() => {
            text.next_respond_dependency
        }
        Phase::Respond => text.next_respond,
        Phase::Recover => text.next_recover,
        Phase::Review | Phase::Abandoned | Phase::Refused => text.next_review,
    }
}

/// Minutes and seconds, as a wall clock shows them.
pub(super) fn clock(seconds: f64) -> String {
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

pub(super) fn hints<'a>(
    view: &View,
    machine: &PhaseMachine,
    concealed: bool,
    lines: &mut Vec<Line<'a>>,
) {
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
