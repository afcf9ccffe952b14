//! The header of a replay: which record, where the playback is, how fast, the drill's phase
//! there, and the position bar with the phases and marks on it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::{View, format, text};
use crate::drill::marks::MarkKind;
use crate::model::replay::{ReplayView, offset_text};

/// Two lines: what is played and where, then the bar and its legend.
pub fn render_header(frame: &mut Frame, view: &View, replay: &ReplayView, area: Rect) {
    let theme = view.theme;
    let words = view.text;
    let muted = theme.muted_style();
    // On a narrow terminal the position and phase matter more than the program's name.
    let brand = if area.width >= 110 { " gameday " } else { " " };
    let mut spans = vec![
        Span::styled(
            brand,
            theme
                .base_style()
                .fg(theme.title)
                .add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!("{} {}", words.replay_of, replay.id),
            theme.base_style().add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!(
                " · {} / {} · ×{}",
                offset_text(replay.position_s),
                offset_text(replay.length_s),
                replay.speed
            ),
            theme.base_style(),
        ),
    ];
    if let Some(phase) = replay.phase() {
        spans.push(Span::styled(format!(" · {} ", words.replay_phase), muted));
        spans.push(Span::styled(
            phase.word(words),
            theme.base_style().fg(theme.warning),
        ));
    }
    if replay.paused && !replay.finished {
        spans.push(Span::styled("  │ ", muted));
        spans.push(Span::styled(
            words.replay_paused,
            theme
                .base_style()
                .fg(theme.warning)
                .add_modifier(Modifier::BOLD),
        ));
    }
    if replay.finished {
        spans.push(Span::styled("  │ ", muted));
        spans.push(Span::styled(
            words.replay_ended,
            theme.base_style().fg(theme.ok).add_modifier(Modifier::BOLD),
        ));
    }
    let legend = format!("  {}", words.replay_legend);
    let room = usize::from(area.width).saturating_sub(1);
    // The legend only where the bar keeps 60 cells or more.
    let (bar_width, legend) = if room >= 60 + legend.chars().count() {
        (room - legend.chars().count() - 2, legend)
    } else {
        (room.saturating_sub(2), String::new())
    };
    let bar = Line::from(vec![
        Span::styled(" ", muted),
        Span::styled(replay.bar(bar_width), theme.base_style()),
        Span::styled(legend, muted),
    ]);
    text::put_lines(frame.buffer_mut(), area, &[Line::from(spans), bar]);
}

/// The failures panel in a replay: when the fault was injected and fixed, as far as played.
pub fn failure_lines(view: &View, replay: &ReplayView) -> Vec<Line<'static>> {
    let theme = view.theme;
    let played = |kinds: &[MarkKind]| {
        replay
            .marks
            .iter()
            .find(|(offset, kind)| kinds.contains(kind) && *offset <= replay.position_s)
            .map(|(offset, _)| replay.origin_at + offset)
    };
    let mut lines = Vec::new();
    match played(&[MarkKind::Injection]) {
        Some(at) => lines.push(Line::styled(
            format!("{} {}", view.text.blind_injected_at, format::clock(at)),
            theme.base_style().fg(theme.warning),
        )),
        None => lines.push(Line::styled(
            view.text.replay_not_injected,
            theme.muted_style(),
        )),
    }
    if let Some(at) = played(&[MarkKind::Reset, MarkKind::Remedy]) {
        lines.push(Line::styled(
            format!("{} {}", view.text.replay_fixed_at, format::clock(at)),
            theme.base_style().fg(theme.ok),
        ));
    }
    lines
}
