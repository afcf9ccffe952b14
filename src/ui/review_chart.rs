//! A small chart in the review: one row of block characters per watched signal over the whole
//! drill, red where it was past its threshold, and a row of the drill's moments under it
//! (I injection, A alert fired, D detection, F the fix, R recovery), so the room sees the
//! shape of the incident at a glance. The report's SVG chart is the full-size version.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::View;
use crate::alerts::Comparison;
use crate::drill::PhaseMachine;
use crate::drill::marks::{MarkKind, marks};
use crate::drill::signal_words::{signal_name, signal_value};
use crate::signals::{Signal, UnixSeconds};

const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// The signal's name before its row.
const LABEL_WIDTH: usize = 20;
/// The peak after its row.
const PEAK_WIDTH: usize = 12;
const MIN_COLUMNS: usize = 12;

/// The chart's lines for a panel `width` cells wide; none without a series.
pub fn lines<'a>(view: &View, machine: &PhaseMachine, width: u16) -> Vec<Line<'a>> {
    let state = machine.state();
    let Some(origin) = state.series.origin_at else {
        return Vec::new();
    };
    let columns = usize::from(width).saturating_sub(LABEL_WIDTH + PEAK_WIDTH + 1);
    if columns < MIN_COLUMNS {
        return Vec::new();
    }
    let span = (state.last_at - origin).max(1.0);
    let column_of = |at: UnixSeconds| {
        let share = ((at - origin) / span).clamp(0.0, 1.0);
        ((share * columns as f64) as usize).min(columns - 1)
    };
    let mut out = vec![
        Line::default(),
        Line::styled(view.text.review_chart, view.theme.muted_style()),
    ];
    let mut shown: Vec<Signal> = Vec::new();
    for track in &state.signals {
        if shown.contains(&track.signal) {
            continue;
        }
        shown.push(track.signal);
        let Some(series) = state.series.get(track.signal) else {
            continue;
        };
        let mut peaks: Vec<Option<f64>> = vec![None; columns];
        for (at, value) in series.points(origin) {
            let cell = &mut peaks[column_of(at)];
            *cell = Some(cell.map_or(value, |old: f64| worst(track.comparison, old, value)));
        }
        // Polls are sparser than columns on a short drill: a column between two samples
        // shows the one before it, as a step line would.
        let mut held = None;
        for cell in &mut peaks {
            match cell {
                Some(value) => held = Some(*value),
                None => *cell = held,
            }
        }
        let top = peaks
            .iter()
            .flatten()
            .copied()
            .fold(track.threshold.max(0.0), f64::max);
        let mut spans = vec![Span::styled(
            format!(
                "{:<width$}",
                signal_name(track.signal, view.lang),
                width = LABEL_WIDTH
            ),
            view.theme.muted_style(),
        )];
        let mut run = String::new();
        let mut run_style: Option<Style> = None;
        for peak in &peaks {
            let (glyph, style) = match peak {
                None => (' ', view.theme.muted_style()),
                Some(value) => {
                    let past = track.comparison.holds(*value, track.threshold);
                    let color = if past {
                        view.theme.critical
                    } else {
                        view.theme.ok
                    };
                    (level(*value, top), view.theme.base_style().fg(color))
                }
            };
            if run_style.is_some_and(|current| current != style) {
                spans.push(Span::styled(
                    std::mem::take(&mut run),
                    run_style.unwrap_or(style),
                ));
            }
            run_style = Some(style);
            run.push(glyph);
        }
        if let Some(style) = run_style {
            spans.push(Span::styled(run, style));
        }
        let worst_seen = peaks
            .iter()
            .flatten()
            .copied()
            .reduce(|a, b| worst(track.comparison, a, b));
        if let Some(value) = worst_seen {
            spans.push(Span::styled(
                format!(" {}", signal_value(track.signal, value, view.lang)),
                view.theme.base_style(),
            ));
        }
        out.push(Line::from(spans));
    }
    let mut moments = vec![' '; columns];
    for mark in marks(state) {
        let letter = match mark.kind {
            MarkKind::Injection => 'I',
            MarkKind::AlertFiring => 'A',
            MarkKind::Detection => 'D',
            MarkKind::Reset | MarkKind::Remedy => 'F',
            MarkKind::Recovered => 'R',
            _ => continue,
        };
        let cell = &mut moments[column_of(mark.at)];
        // One letter a cell: the first moment in it is kept.
        if *cell == ' ' {
            *cell = letter;
        }
    }
    out.push(Line::from(vec![
        Span::styled(
            format!("{:<width$}", "", width = LABEL_WIDTH),
            view.theme.muted_style(),
        ),
        Span::styled(
            moments.into_iter().collect::<String>(),
            view.theme.key_style(),
        ),
    ]));
    out.push(Line::styled(
        view.text.review_chart_legend,
        view.theme.muted_style(),
    ));
    out
}

/// The worse of two values in one column: the one further past the threshold's side.
fn worst(comparison: Comparison, a: f64, b: f64) -> f64 {
    match comparison {
        Comparison::Below => a.min(b),
        Comparison::Above => a.max(b),
    }
}

fn level(value: f64, top: f64) -> char {
    if top <= 0.0 || value <= 0.0 {
        return LEVELS[0];
    }
    let index = ((value / top) * LEVELS.len() as f64).ceil() as usize;
    LEVELS[index.clamp(1, LEVELS.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_rise_with_the_value_and_never_leave_the_row() {
        assert_eq!(level(0.0, 2.0), '▁');
        assert_eq!(level(2.0, 2.0), '█');
        assert_eq!(level(1.0, 2.0), '▄');
        assert_eq!(level(5.0, 2.0), '█');
        assert_eq!(level(1.0, 0.0), '▁');
    }
}
