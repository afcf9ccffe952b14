//! The chart panels: latency quantiles, traffic with its error ratio, and memory against its
//! limit. Each shows its current figures on top (in large digits for the projector theme) and
//! the last minutes below.

mod braille;
mod time_chart;

use std::collections::vec_deque;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};

use self::time_chart::{TimeChart, TimeSeries};
use super::{View, big_digits, format, text};
use crate::signals::{Sample, Signal};

/// Minutes shown normally, and when the panel is zoomed (all the history kept).
const WINDOW_S: f64 = 300.0;
const ZOOMED_WINDOW_S: f64 = 900.0;

/// A headline figure: label, formatted value, colour.
pub struct Figure {
    pub label: String,
    pub value: Option<String>,
    pub color: Color,
}

/// Draws the figures in one line, or the first one in large digits when the theme asks for
/// it and there is room; returns the area left below.
pub fn headline(frame: &mut Frame, view: &View, area: Rect, figures: &[Figure]) -> Rect {
    let big = view.theme.big_numbers && area.height >= 9;
    let figure_style = |figure: &Figure| {
        view.theme
            .base_style()
            .fg(figure.color)
            .add_modifier(Modifier::BOLD)
    };
    let muted = view.theme.muted_style();
    let buf = frame.buffer_mut();
    let mut row = area.y;
    if let (true, Some(first)) = (big, figures.first()) {
        let value = first.value.as_deref().unwrap_or("-");
        let digits = value.chars().filter(|c| *c != ' ');
        let drawn = big_digits::draw(buf, (area.x, row), area.width, digits, figure_style(first));
        // The large figure's name sits beside its middle row (muted, bold like the digits);
        // the other figures below.
        let label = figure_style(first).patch(muted);
        text::put_spans(
            buf,
            area.x + drawn,
            row + 1,
            [("  ", label), (first.label.as_str(), label)],
            area.width - drawn,
        );
        row += 3;
    }
    // Figures that do not fit in one line go on to the next (a narrow panel must not cut the
    // restart count), whole figures a line, while the panel has rows to spare.
    let small: Vec<&Figure> = figures.iter().skip(usize::from(big)).collect();
    let width_of = |figure: &Figure| {
        figure.label.chars().count()
            + 1
            + figure.value.as_deref().unwrap_or("—").chars().count()
            + 3
    };
    let mut start = 0;
    while start < small.len() && row < area.bottom() {
        let last_row = row + 1 >= area.bottom();
        let mut end = start + 1;
        let mut used = width_of(small[start]);
        while end < small.len()
            && (last_row || used + width_of(small[end]) - 3 <= usize::from(area.width))
        {
            used += width_of(small[end]);
            end += 1;
        }
        let spans = small[start..end].iter().flat_map(|figure| {
            [
                (figure.label.as_str(), muted),
                (" ", muted),
                (figure.value.as_deref().unwrap_or("—"), figure_style(figure)),
                ("   ", Style::default()),
            ]
        });
        text::put_spans(buf, area.x, row, spans, area.width);
        row += 1;
        start = end;
    }
    let top = row - area.y;
    Rect {
        y: row,
        height: area.height - top,
        ..area
    }
}

/// The last `window` seconds of a signal as a chart line, read where it is stored.
fn series<'a>(
    view: &View<'a>,
    signal: Signal,
    window: f64,
    scale: f64,
    color: Color,
) -> TimeSeries<vec_deque::Iter<'a, Sample>> {
    TimeSeries {
        samples: view.model.live.store.since(signal, view.model.now - window),
        scale,
        color,
    }
}

fn window(view: &View) -> f64 {
    if view.model.view.zoomed {
        ZOOMED_WINDOW_S
    } else {
        WINDOW_S
    }
}

/// A line chart of several series sharing one y axis starting at zero.
fn line_chart(
    frame: &mut Frame,
    view: &View,
    area: Rect,
    series: &[TimeSeries<vec_deque::Iter<'_, Sample>>],
    unit: &str,
    floor_max: f64,
) {
    if area.height < 3 || area.width < 10 {
        return;
    }
    // No style of its own: the whole frame was filled with the theme's colours once. The
    // headline above names each series in its colour; a legend would cover the data.
    let chart = TimeChart {
        series,
        now: view.model.now,
        window: window(view),
        unit,
        floor_max,
        axis_style: view.theme.base_style().fg(view.theme.axis),
    };
    frame.render_widget(chart, area);
}

pub fn latency(frame: &mut Frame, view: &View, inner: Rect) {
    let theme = view.theme;
    let state = view.model;
    let quantiles = [
        ("p95", Signal::LatencyP95, theme.latency_p95),
        ("p50", Signal::LatencyP50, theme.latency_p50),
        ("p99", Signal::LatencyP99, theme.latency_p99),
    ];
    let figures: Vec<Figure> = quantiles
        .iter()
        .map(|(label, signal, color)| Figure {
            label: label.to_string(),
            value: state.current(*signal).map(format::latency),
            color: *color,
        })
        .collect();
    let rest = headline(frame, view, inner, &figures);
    let rest = processes_warning(frame, view, rest);
    let window = window(view);
    let series = [
        (Signal::LatencyP50, theme.latency_p50),
        (Signal::LatencyP95, theme.latency_p95),
        (Signal::LatencyP99, theme.latency_p99),
    ]
    .map(|(signal, color)| self::series(view, signal, window, 1000.0, color));
    line_chart(frame, view, rest, &series, " ms", 10.0);
}

pub fn traffic(frame: &mut Frame, view: &View, inner: Rect) {
    let theme = view.theme;
    let state = view.model;
    let error_ratio = state.current(Signal::ErrorRatio);
    let error_color = match error_ratio {
        Some(ratio) if ratio > 0.1 => theme.critical,
        Some(ratio) if ratio > 0.0 => theme.warning,
        _ => theme.errors,
    };
    let figures = [
        Figure {
            label: view.text.requests_per_second.to_string(),
            value: state.current(Signal::Rps).map(format::rate),
            color: theme.requests,
        },
        Figure {
            label: view.text.errors.to_string(),
            value: error_ratio.map(format::percent),
            color: error_color,
        },
    ];
    let mut rest = headline(frame, view, inner, &figures);
    rest = processes_warning(frame, view, rest);
    if let Some(line) = client_line(view) {
        if rest.height > 4 {
            let [row, below] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(rest);
            frame.render_widget(Paragraph::new(line), row);
            rest = below;
        }
    }
    let window = window(view);
    let rps = [series(view, Signal::Rps, window, 1.0, theme.requests)];
    if rest.height >= 10 {
        let [top, bottom] =
            Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(rest);
        line_chart(frame, view, top, &rps, "", 1.0);
        let errors = [series(
            view,
            Signal::ErrorRatio,
            window,
            100.0,
            theme.errors,
        )];
        line_chart(frame, view, bottom, &errors, " %", 1.0);
    } else {
        line_chart(frame, view, rest, &rps, "", 1.0);
    }
}

/// Several processes behind one address, each scrape reaching one: from our own scrapes the
/// rates are added process by process (gauges stay one worker's); Prometheus's `rate()` over
/// such scrapes counts every alternation as a reset, and cannot be mended here.
fn processes_warning(frame: &mut Frame, view: &View, area: Rect) -> Rect {
    let count = view.model.live.processes;
    if count <= 1 || area.height <= 4 {
        return area;
    }
    let [row, below] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    let text = match view.model.session.target.metrics_source {
        crate::sources::SourceKind::Prometheus => format!("⚠ {}", view.text.processes_several),
        _ => format!("⚠ {count} {}", view.text.processes_combined),
    };
    let style = view.theme.base_style().fg(view.theme.warning);
    frame.render_widget(Paragraph::new(Line::styled(text, style)), row);
    below
}

/// The load generator's own view beside the server's: what its clients sent and saw over the
/// last seconds, latency counted from each request's scheduled time.
fn client_line(view: &View) -> Option<Line<'static>> {
    let load = view.model.live.load.as_ref()?;
    let snapshot = load.snapshot.as_ref()?;
    let recent = &snapshot.recent;
    let muted = view.theme.muted_style();
    let value = view.theme.base_style().fg(view.theme.requests);
    let mut spans = vec![
        Span::styled(format!("{} ", view.text.client_load), muted),
        Span::styled(format::rate(recent.requests_per_s), value),
        Span::styled(format!(" {}", view.text.requests_per_second), muted),
    ];
    if let Some(latency) = &recent.latency {
        for (label, ms) in [
            ("p50", latency.p50_ms),
            ("p99", latency.p99_ms),
            ("max", latency.max_ms),
        ] {
            spans.push(Span::styled(format!("  {label} "), muted));
            spans.push(Span::styled(format::latency(ms / 1000.0), value));
        }
    }
    spans.push(Span::styled(format!("  {} ", view.text.errors), muted));
    spans.push(Span::styled(format::percent(recent.error_ratio), value));
    // A closed loop has no rate of its own: its description says what runs.
    let what = if load.profile.starts_with("closed") {
        load.profile.clone()
    } else {
        format!("{}/s {}", format::rate(load.rate), load.profile)
    };
    spans.push(Span::styled(
        format!("  · {} {what}", view.text.key_load),
        muted,
    ));
    Some(Line::from(spans))
}

pub fn memory(frame: &mut Frame, view: &View, inner: Rect) {
    let theme = view.theme;
    let state = view.model;
    let used = state.current(Signal::MemoryBytes);
    let limit = state
        .current(Signal::MemoryLimitBytes)
        .filter(|limit| *limit > 0.0);
    let restarts = state.current(Signal::Restarts);
    let ratio = match (used, limit) {
        (Some(used), Some(limit)) => Some((used / limit).clamp(0.0, 1.0)),
        _ => None,
    };
    let color = match ratio {
        Some(ratio) if ratio > 0.9 => theme.critical,
        Some(ratio) if ratio > 0.75 => theme.warning,
        _ => theme.memory,
    };
    let restarts_color = if restarts.unwrap_or(0.0) > 0.0 {
        theme.critical
    } else {
        theme.text
    };
    let figures = [
        Figure {
            label: view.text.memory.to_string(),
            value: used.map(format::bytes),
            color,
        },
        Figure {
            label: view.text.limit.to_string(),
            value: limit.map(format::bytes),
            color: theme.memory_limit,
        },
        Figure {
            label: view.text.restarts.to_string(),
            value: restarts.map(|r| format!("{r:.0}")),
            color: restarts_color,
        },
    ];
    let rest = headline(frame, view, inner, &figures);
    if rest.height == 0 {
        return;
    }
    let [gauge_area, chart_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(rest);
    if let Some(ratio) = ratio {
        frame.render_widget(
            Gauge::default()
                .ratio(ratio)
                .label(format::percent(ratio))
                .gauge_style(view.theme.base_style().fg(color).bg(theme.selection))
                .use_unicode(true),
            gauge_area,
        );
    }
    let window = window(view);
    let mib = 1.0 / 1_048_576.0;
    let series = [
        series(view, Signal::MemoryBytes, window, mib, color),
        series(
            view,
            Signal::MemoryLimitBytes,
            window,
            mib,
            theme.memory_limit,
        ),
    ];
    // The limit's line only while a limit is known.
    let shown = if limit.is_some() { 2 } else { 1 };
    line_chart(frame, view, chart_area, &series[..shown], " MiB", 1.0);
}
