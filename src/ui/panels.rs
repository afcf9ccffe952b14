//! The panels: a frame titled with what it shows and its source, and the content of the
//! non-chart panels (transactions, alerts, failures, log).

use ratatui::Frame;
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::symbols;
use ratatui::text::{Line, Span};

use super::{View, charts, dependency, format, frame, text};
use crate::alerts::{AlertState, AlertStatus, DEPENDENCY_ALERTS};
use crate::model::PanelId;
use crate::signals::Signal;
use crate::sources::{LogLevel, SourceKind};

pub fn render_panel(frame: &mut Frame, view: &View, panel: PanelId, area: Rect) {
    let focused = view.model.view.focus == panel;
    let text = view.text;
    let target = &view.model.session.target;
    let metrics = format!(
        "{} · {} {}",
        target.metrics_source.label(),
        text.window,
        target.metrics_window
    );
    let (title, source) = match panel {
        PanelId::Latency => (format!("{} p50/p95/p99", text.latency), metrics),
        PanelId::Traffic => (
            format!(
                "{}: {} & {}",
                text.traffic, text.requests_per_second, text.errors
            ),
            metrics,
        ),
        PanelId::Memory => (
            text.memory.to_string(),
            target
                .memory_source
                .unwrap_or(target.metrics_source)
                .label()
                .to_string(),
        ),
        PanelId::Transactions => (
            text.transactions.to_string(),
            target.metrics_source.label().to_string(),
        ),
        PanelId::Alerts => (
            text.alerts.to_string(),
            if view.model.uses_local_rules() {
                text.local_rules.to_string()
            } else {
                SourceKind::Prometheus.label().to_string()
            },
        ),
        PanelId::Failures => (text.failures.to_string(), "GET /api/failures".to_string()),
        PanelId::Dependency => (dependency::title(view).to_string(), metrics),
        PanelId::Logs => (text.logs.to_string(), log_source(view)),
    };
    // The source goes on the right only where it fits beside the title.
    let fits = title.chars().count() + source.chars().count() + 8 <= usize::from(area.width);
    let source = fits.then_some(source.as_str());
    let inner = frame::draw_panel(frame.buffer_mut(), view, area, &title, source, focused);
    match panel {
        PanelId::Latency => charts::latency(frame, view, inner),
        PanelId::Traffic => charts::traffic(frame, view, inner),
        PanelId::Memory => charts::memory(frame, view, inner),
        PanelId::Transactions => transactions(frame, view, inner),
        PanelId::Alerts => alerts(frame, view, inner),
        PanelId::Failures => failures(frame, view, inner),
        PanelId::Dependency => dependency::render(frame, view, inner),
        PanelId::Logs => logs(frame, view, inner),
    }
}

fn log_source(view: &View) -> String {
    if view.model.session.target.embedded {
        "sandbox".to_string()
    } else if view.model.session.target.memory_source == Some(SourceKind::Docker) {
        SourceKind::Docker.label().to_string()
    } else {
        "—".to_string()
    }
}

fn transactions(frame: &mut Frame, view: &View, inner: Rect) {
    let state = view.model;
    let theme = view.theme;
    let figure = |signal| {
        state
            .current(signal)
            .map(|v: f64| format!("{v:.0}"))
            .unwrap_or_else(|| "—".to_string())
    };
    let active = state.current(Signal::ActiveTransactions).unwrap_or(0.0);
    let active_color = if active > 10.0 {
        theme.critical
    } else if active > 5.0 {
        theme.warning
    } else {
        theme.ok
    };
    let queued = state.current(Signal::QueuedRequests).unwrap_or(0.0);
    let lines = vec![
        Line::from(vec![
            Span::styled(format!("{} ", view.text.active), view.theme.muted_style()),
            Span::styled(
                figure(Signal::ActiveTransactions),
                view.theme
                    .base_style()
                    .fg(active_color)
                    .add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!("   {} ", view.text.queued),
                view.theme.muted_style(),
            ),
            Span::styled(
                figure(Signal::QueuedRequests),
                view.theme
                    .base_style()
                    .fg(if queued > 0.0 {
                        theme.warning
                    } else {
                        theme.text
                    })
                    .add_modifier(Modifier::BOLD),
            ),
        ]),
        Line::from(vec![
            Span::styled(format!("{} ", view.text.pool), view.theme.muted_style()),
            Span::styled(
                figure(Signal::PoolInUse),
                view.theme.base_style().add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!(" {} / ", view.text.in_use),
                view.theme.muted_style(),
            ),
            Span::styled(
                figure(Signal::PoolIdle),
                view.theme.base_style().add_modifier(Modifier::BOLD),
            ),
            Span::styled(format!(" {}", view.text.idle), view.theme.muted_style()),
        ]),
    ];
    let text_height = 2.min(inner.height);
    let text_area = Rect {
        height: text_height,
        ..inner
    };
    text::put_lines(frame.buffer_mut(), text_area, &lines);
    let spark_area = Rect {
        y: inner.y + text_height,
        height: inner.height.saturating_sub(text_height),
        ..inner
    };
    if spark_area.height == 0 {
        return;
    }
    // One bar per sample, newest on the right, scaled to the highest of all kept.
    let samples = state
        .live
        .store
        .since(Signal::ActiveTransactions, state.now - 900.0);
    let bar = |value: f64| value.max(0.0).round() as u64;
    // The highest bar is the bar of the highest value (rounding keeps the order), so one
    // rounding instead of one a sample.
    let mut highest = 0.0;
    for sample in samples.clone() {
        if sample.value > highest {
            highest = sample.value;
        }
    }
    let count = samples.len();
    let shown = count.min(usize::from(spark_area.width));
    let values = samples.skip(count - shown).map(|sample| bar(sample.value));
    put_sparkline(
        frame.buffer_mut(),
        spark_area,
        values,
        bar(highest).max(12),
        view.theme.base_style().fg(active_color),
    );
}

/// The cell of a bar's row holding `eighths` of it (full from 8), in the widget's nine
/// levels, as a constant copied as it is (see `text::put_symbol`).
#[inline(always)]
fn bar_cell(eighths: u128) -> Cell {
    use symbols::bar::NINE_LEVELS as SET;
    match eighths {
        0 => const { Cell::new(SET.empty) },
        1 => const { Cell::new(SET.one_eighth) },
        2 => const { Cell::new(SET.one_quarter) },
        3 => const { Cell::new(SET.three_eighths) },
        4 => const { Cell::new(SET.half) },
        5 => const { Cell::new(SET.five_eighths) },
        6 => const { Cell::new(SET.three_quarters) },
        7 => const { Cell::new(SET.seven_eighths) },
        _ => const { Cell::new(SET.full) },
    }
}

/// The bars a `Sparkline` of `values` with this maximum and style draws, from the left, written
/// straight into the cells: no list of values first, and each bar's symbols copied, not built.
fn put_sparkline(
    buf: &mut Buffer,
    area: Rect,
    values: impl Iterator<Item = u64>,
    max: u64,
    style: Style,
) {
    let area = area.intersection(buf.area);
    if area.is_empty() || max == 0 {
        return;
    }
    let most = u128::from(area.height) * 8;
    let width = usize::from(buf.area.width);
    for (x, value) in (area.left()..area.right()).zip(values) {
        // Eighths of a row, as the widget scales them.
        let mut height = (u128::from(value) * most / u128::from(max)).min(most);
        let mut at = buf.index_of(x, area.bottom() - 1);
        for _ in 0..area.height {
            text::put_symbol(&mut buf.content[at], bar_cell(height)).set_style(style);
            height = height.saturating_sub(8);
            at = at.saturating_sub(width);
        }
    }
}

fn alerts(frame: &mut Frame, view: &View, inner: Rect) {
    let state = view.model;
    let theme = view.theme;
    let mut lines = Vec::new();
    // Without a provider its rules are noise: listed only should one be active anyway.
    let has_provider = state.has_provider();
    let shown: Vec<&AlertStatus> = state
        .live
        .alerts
        .iter()
        .filter(|alert| {
            has_provider || alert.is_active() || !DEPENDENCY_ALERTS.contains(&alert.name.as_str())
        })
        .collect();
    let name_width = shown
        .iter()
        .map(|alert| alert.name.chars().count())
        .max()
        .unwrap_or(0)
        + 1;
    // The state word must stay readable in a narrow panel: long names give way first.
    let widest_word = [view.text.firing, view.text.pending, view.text.inactive]
        .iter()
        .map(|word| word.chars().count())
        .max()
        .unwrap_or(0);
    let name_width = name_width.min(
        usize::from(inner.width)
            .saturating_sub(2 + widest_word)
            .max(8),
    );
    let mut sorted = shown;
    sorted.sort_by_key(|alert| match alert.state {
        AlertState::Firing => 0,
        AlertState::Pending => 1,
        AlertState::Inactive => 2,
    });
    for alert in sorted {
        let (mark, word, color) = match alert.state {
            AlertState::Firing => ("●", view.text.firing, theme.critical),
            AlertState::Pending => ("◐", view.text.pending, theme.warning),
            AlertState::Inactive => ("○", view.text.inactive, theme.ok),
        };
        let mut spans = vec![
            Span::styled(format!("{mark} "), view.theme.base_style().fg(color)),
            Span::styled(
                format!(
                    "{:<name_width$}",
                    format::shorten(&alert.name, name_width.saturating_sub(1))
                ),
                view.theme
                    .base_style()
                    .add_modifier(if alert.state == AlertState::Inactive {
                        Modifier::empty()
                    } else {
                        Modifier::BOLD
                    }),
            ),
            Span::styled(
                word.to_string(),
                view.theme
                    .base_style()
                    .fg(color)
                    .add_modifier(Modifier::BOLD),
            ),
        ];
        // Pending and firing ages apart: how long it has fired, and how long it pended first
        // (the rule's `for` is part of the time to detect).
        let ages = match (alert.state, alert.active_since, alert.fired_at) {
            (AlertState::Firing, Some(since), Some(fired)) => format!(
                " {}, {} {}",
                format::age(state.now - fired),
                view.text.pending_before,
                format::age(fired - since)
            ),
            (AlertState::Pending, Some(since), _) => match alert.for_seconds {
                Some(hold) if hold > 0.0 => format!(
                    " {} {} {}",
                    format::age(state.now - since),
                    view.text.pending_of,
                    format::age(hold)
                ),
                _ => format!(" {}", format::age(state.now - since)),
            },
            (_, Some(since), _) => format!(" {}", format::age(state.now - since)),
            _ => String::new(),
        };
        if !ages.is_empty() {
            spans.push(Span::styled(ages, view.theme.muted_style()));
        }
        lines.push(Line::from(spans));
    }
    if lines.is_empty() {
        lines.push(Line::styled(view.text.no_alerts, view.theme.muted_style()));
    }
    text::put_lines(frame.buffer_mut(), inner, &lines);
}

fn failures(frame: &mut Frame, view: &View, inner: Rect) {
    let theme = view.theme;
    // A blind drill hides which knob is set until the cause is named.
    let injected_at = view
        .model
        .drill
        .as_ref()
        .filter(|drill| drill.conceals_cause())
        .map(|drill| {
            drill
                .machine
                .as_ref()
                .and_then(|machine| machine.state().injected_at)
        });
    if let Some(injected_at) = injected_at {
        let text = match injected_at {
            Some(at) => format!("{} {}", view.text.blind_injected_at, format::clock(at)),
            None => view.text.blind_not_yet.to_string(),
        };
        let line = Line::styled(text, view.theme.base_style().fg(theme.warning));
        text::put_lines(frame.buffer_mut(), inner, &[line]);
        return;
    }
    // A replay has no failure state read back, only the record's marks.
    if let Some(replay) = &view.model.replay {
        let lines = super::replay::failure_lines(view, replay);
        text::put_lines(frame.buffer_mut(), inner, &lines);
        return;
    }
    let Some(failures) = &view.model.live.failures else {
        let line = Line::styled(view.text.failures_unknown, view.theme.muted_style());
        text::put_lines(frame.buffer_mut(), inner, &[line]);
        return;
    };
    let mut knob_lines = Vec::new();
    for (knob, value) in &failures.knobs {
        let active = *value != 0.0;
        let shown = if value.is_nan() {
            "?".to_string()
        } else if knob.starts_with("db_") {
            if active { "true" } else { "false" }.to_string()
        } else {
            format!("{value:.0}")
        };
        let mut spans = vec![
            Span::styled(
                format!("{knob:<15}"),
                if active {
                    view.theme.base_style()
                } else {
                    view.theme.muted_style()
                },
            ),
            Span::styled(
                shown,
                if active {
                    view.theme
                        .base_style()
                        .fg(theme.critical)
                        .add_modifier(Modifier::BOLD)
                } else {
                    view.theme.muted_style()
                },
            ),
        ];
        if let Some(left) = failures.ttl_of(knob) {
            let said = format!("  {} {}", view.text.expires_in, format::age(left));
            let used: usize = spans.iter().map(|span| span.width()).sum();
            // A narrow panel keeps the time left in a symbol rather than cut it.
            let expiry = if used + said.chars().count() <= usize::from(inner.width) {
                said
            } else {
                format!(" ⏱{}", format::age(left))
            };
            spans.push(Span::styled(expiry, view.theme.muted_style()));
        }
        let unavailable = view
            .model
            .live
            .capabilities
            .as_ref()
            .is_some_and(|capabilities| !capabilities.has(knob));
        if unavailable {
            spans.push(Span::styled(
                format!("  ({})", view.text.unavailable),
                view.theme.muted_style(),
            ));
        }
        knob_lines.push((active, Line::from(spans)));
    }
    // The dependency's state, on a target that has one: a line each, kept on a short panel.
    let dependency = super::dependency_dialogs::failure_panel_lines(view);
    // Too few rows for every knob: the ones set come first, so a short panel still shows them.
    if knob_lines.len() + 1 + dependency.len() > usize::from(inner.height) {
        knob_lines.sort_by_key(|(active, _)| !*active);
        if !dependency.is_empty() {
            let active = knob_lines.iter().filter(|(active, _)| *active).count();
            let header = usize::from(!failures.any_active());
            let room = usize::from(inner.height).saturating_sub(1 + dependency.len() + header);
            knob_lines.truncate(room.max(active));
        }
    }
    let mut lines: Vec<Line> = knob_lines.into_iter().map(|(_, line)| line).collect();
    if !failures.any_active() {
        lines.insert(
            0,
            Line::styled(view.text.no_failures, view.theme.base_style().fg(theme.ok)),
        );
    }
    lines.extend(dependency);
    // What was last asked and answered goes at the bottom, where the eye lands after a key.
    let room = usize::from(inner.height);
    // A change nobody here made is newer news than our last answer.
    let outside = view
        .model
        .live
        .failures_changed_outside
        .as_ref()
        .filter(|(at, _)| view.model.now - at < 120.0)
        .filter(|(at, _)| {
            view.model
                .requests
                .last_outcome
                .as_ref()
                .is_none_or(|outcome| outcome.at < *at)
        });
    let action_line = match (
        &view.model.requests.pending,
        &view.model.requests.last_outcome,
    ) {
        (None, _) if outside.is_some() => outside.map(|(at, text)| {
            Line::styled(
                format!("⚠ {} {text}", format::clock(*at)),
                view.theme.base_style().fg(theme.warning),
            )
        }),
        (Some(pending), _) => Some(Line::styled(
            format!("{}: {pending}…", view.text.sending),
            view.theme.base_style().fg(theme.warning),
        )),
        (None, Some(outcome)) if view.model.now - outcome.at < 120.0 => {
            let color = if outcome.ok && outcome.notes.is_empty() {
                theme.ok
            } else if outcome.ok {
                theme.warning
            } else {
                theme.critical
            };
            // The answer first: a narrow panel cuts the end, and the log keeps all of it.
            let mut text = format!("{}: {}", view.text.last_action, outcome.answer);
            for note in &outcome.notes {
                text.push_str("; ");
                text.push_str(note);
            }
            text.push_str(" ← ");
            text.push_str(&outcome.request);
            Some(Line::styled(text, view.theme.base_style().fg(color)))
        }
        _ => None,
    };
    if let Some(line) = action_line {
        if lines.len() + 1 < room {
            lines.resize(room.saturating_sub(1).max(lines.len()), Line::default());
        }
        lines.truncate(room.saturating_sub(1));
        lines.push(line);
    }
    text::put_lines(frame.buffer_mut(), inner, &lines);
}

fn logs(frame: &mut Frame, view: &View, inner: Rect) {
    let state = view.model;
    let theme = view.theme;
    let height = usize::from(inner.height);
    if state.live.logs.is_empty() {
        let line = Line::styled(view.text.no_logs, view.theme.muted_style());
        text::put_lines(frame.buffer_mut(), inner, &[line]);
        return;
    }
    let end = state.live.logs.len().saturating_sub(state.view.log_scroll);
    let start = end.saturating_sub(height);
    let lines: Vec<Line> = state
        .live
        .logs
        .range(start..end)
        .map(|line| {
            let (level, color) = match line.level {
                LogLevel::Info => ("INFO ", theme.text_muted),
                LogLevel::Warn => ("WARN ", theme.warning),
                LogLevel::Error => ("ERROR", theme.critical),
            };
            Line::from(vec![
                Span::styled(
                    format!("{} ", format::clock(line.at)),
                    view.theme.muted_style(),
                ),
                Span::styled(format!("{level} "), view.theme.base_style().fg(color)),
                Span::styled(line.text.clone(), view.theme.base_style()),
            ])
        })
        .collect();
    text::put_lines(frame.buffer_mut(), inner, &lines);
}

#[cfg(test)]
mod tests {
    use ratatui::style::Color;
    use ratatui::widgets::{Sparkline, Widget};

    use super::*;

    /// `put_sparkline` leaves the cells ratatui's `Sparkline` leaves.
    #[test]
    fn draws_what_the_sparkline_draws() {
        let style = Style::new().fg(Color::Green).add_modifier(Modifier::BOLD);
        let data: Vec<u64> = (0..60).map(|i| (i * 7919 % 23) as u64).collect();
        for (area, max) in [
            (Rect::new(1, 2, 20, 4), 12),
            (Rect::new(0, 0, 30, 1), 22),
            (Rect::new(3, 1, 7, 5), 5),
            (Rect::new(2, 2, 0, 3), 12),
        ] {
            for shown in [0, 3, 20, 60] {
                let mut expected = Buffer::empty(Rect::new(0, 0, 32, 8));
                expected.set_style(expected.area, Style::new().bg(Color::Black));
                let mut actual = expected.clone();
                Sparkline::default()
                    .data(&data[..shown])
                    .max(max)
                    .style(style)
                    .render(area, &mut expected);
                put_sparkline(&mut actual, area, data[..shown].iter().copied(), max, style);
                assert_eq!(actual, expected, "{area:?} {shown} of max {max}");
            }
        }
    }
}
