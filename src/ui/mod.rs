//! Rendering from state only: no I/O here. `render` draws the whole dashboard for any size
//! down to 60×20, and a clear message below that.

pub mod big_digits;
mod charts;
mod dependency;
mod dependency_dialogs;
mod dialogs;
mod drill;
mod drill_review;
pub mod format;
mod frame;
mod keys_text;
mod panels;
mod replay;
mod review_chart;
mod text;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::i18n::{Lang, Strings};
use crate::model::{Model, PanelId};
use crate::sources::SourceStatus;
use crate::theme::Theme;

pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 20;

/// Everything a panel needs to draw itself.
pub struct View<'a> {
    pub model: &'a Model,
    pub theme: &'a Theme,
    pub text: &'static Strings,
    pub lang: Lang,
}

pub fn render(frame: &mut Frame, model: &Model, theme: &Theme, lang: Lang) {
    let area = frame.area();
    let view = View {
        model,
        theme,
        text: crate::i18n::strings(lang),
        lang,
    };
    frame::fill(frame.buffer_mut(), area, view.theme.base_style());
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        render_too_small(frame, &view, area);
        return;
    }
    let header_height = if model.replay.is_some() { 2 } else { 1 };
    let [header, body, keys] = Layout::vertical([
        Constraint::Length(header_height),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    match &model.replay {
        Some(playing) => replay::render_header(frame, &view, playing, header),
        None => render_header(frame, &view, header),
    }
    // A drill takes a column on the right; the live panels keep the rest.
    let body = match &model.drill {
        Some(session) if body.width >= 100 => {
            let width = (body.width * 36 / 100).max(46);
            let [live, side] =
                Layout::horizontal([Constraint::Min(0), Constraint::Length(width)]).areas(body);
            drill::render(frame, &view, session, side);
            live
        }
        Some(session) => {
            let [live, side] =
                Layout::vertical([Constraint::Percentage(45), Constraint::Min(0)]).areas(body);
            drill::render(frame, &view, session, side);
            live
        }
        None => body,
    };
    let dependency = model.has_provider();
    for (panel, rect) in panel_areas(body, model.view.focus, model.view.zoomed, dependency) {
        panels::render_panel(frame, &view, panel, rect);
    }
    render_key_bar(frame, &view, keys);
    if let Some(modal) = &model.view.modal {
        dialogs::render(frame, &view, modal, area);
    } else if model.view.help {
        render_help(frame, &view, area);
    }
}

/// Where each panel goes. Zoomed: the focused panel alone. Otherwise two chart panels on top,
/// four small panels in one row (or a 2×2 grid when narrow), and the log below when there is
/// room; on a short terminal the log is reached by focusing and zooming it.
///
/// With a payment provider (`dependency`), its panel shares the bottom row with the log, which
/// grows to 30 % of the height so the panel's lines fit (half the width, 60 % below 100
/// columns). On a short terminal it is a fifth small panel where the row is 150 columns wide,
/// and otherwise reached by focus and zoom, as the log is. Without one, nothing moves.
pub fn panel_areas(
    body: Rect,
    focus: PanelId,
    zoomed: bool,
    dependency: bool,
) -> Vec<(PanelId, Rect)> {
    if zoomed {
        return vec![(focus, body)];
    }
    let with_logs = body.height >= 28;
    let [charts, middle, bottom] = match (with_logs, dependency) {
        (true, false) => Layout::vertical([
            Constraint::Percentage(45),
            Constraint::Min(9),
            Constraint::Percentage(22),
        ])
        .areas(body),
        (true, true) => Layout::vertical([
            Constraint::Percentage(40),
            Constraint::Min(9),
            Constraint::Percentage(30),
        ])
        .areas(body),
        (false, _) => {
            let [charts, middle] =
                Layout::vertical([Constraint::Percentage(55), Constraint::Min(8)]).areas(body);
            [charts, middle, Rect::default()]
        }
    };
    let [latency, traffic] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(charts);
    let mut areas = vec![(PanelId::Latency, latency), (PanelId::Traffic, traffic)];
    let small = [
        PanelId::Memory,
        PanelId::Transactions,
        PanelId::Alerts,
        PanelId::Failures,
    ];
    if dependency && !with_logs && middle.width >= 150 {
        let columns = Layout::horizontal([Constraint::Ratio(1, 5); 5]).split(middle);
        let five = small.into_iter().chain([PanelId::Dependency]);
        areas.extend(five.zip(columns.iter().copied()));
    } else if middle.width >= 120 {
        let columns = Layout::horizontal([Constraint::Ratio(1, 4); 4]).split(middle);
        areas.extend(small.into_iter().zip(columns.iter().copied()));
    } else {
        let rows = Layout::vertical([Constraint::Ratio(1, 2); 2]).split(middle);
        for (row, pair) in rows.iter().zip(small.chunks(2)) {
            let columns = Layout::horizontal([Constraint::Ratio(1, 2); 2]).split(*row);
            areas.extend(pair.iter().copied().zip(columns.iter().copied()));
        }
    }
    match (with_logs, dependency) {
        (true, true) => {
            let share = if bottom.width >= 100 { 50 } else { 60 };
            let [logs, provider] = Layout::horizontal([
                Constraint::Percentage(100 - share),
                Constraint::Percentage(share),
            ])
            .areas(bottom);
            areas.push((PanelId::Dependency, provider));
            areas.push((PanelId::Logs, logs));
        }
        (true, false) => areas.push((PanelId::Logs, bottom)),
        (false, _) => {}
    }
    areas
}

fn render_too_small(frame: &mut Frame, view: &View, area: Rect) {
    let lines = vec![
        Line::styled(
            view.text.too_small,
            view.theme.base_style().add_modifier(Modifier::BOLD),
        ),
        Line::styled(
            format!(
                "{}×{} — {} {MIN_WIDTH}×{MIN_HEIGHT}",
                area.width, area.height, view.text.too_small_need
            ),
            view.theme.muted_style(),
        ),
        Line::styled(
            format!("q: {}", view.text.key_quit),
            view.theme.muted_style(),
        ),
    ];
    let top = area.height.saturating_sub(3) / 2;
    let rect = Rect::new(area.x, area.y + top, area.width, area.height.min(3));
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        rect,
    );
}

fn render_header(frame: &mut Frame, view: &View, area: Rect) {
    let state = view.model;
    let theme = view.theme;
    let mut spans = vec![
        Span::styled(
            " gameday ",
            view.theme
                .base_style()
                .fg(theme.title)
                .add_modifier(Modifier::BOLD),
        ),
        Span::styled(format!("{}: ", view.text.target), view.theme.muted_style()),
    ];
    // On a narrow terminal the sources' status matters more than the full address.
    let address = state.session.target.api_url.trim_start_matches("http://");
    let target = match (state.session.target.embedded, area.width >= 140) {
        (true, true) => format!("{} {}", view.text.embedded, state.session.target.api_url),
        (true, false) => format!("sandbox {address}"),
        (false, true) => state.session.target.api_url.clone(),
        (false, false) => address.to_string(),
    };
    spans.push(Span::styled(target, view.theme.base_style()));
    for (kind, status) in &state.live.sources {
        spans.push(Span::styled("  │ ", view.theme.muted_style()));
        spans.push(Span::styled(
            format!("{} ", kind.label()),
            view.theme.muted_style(),
        ));
        let (text, color) = match status {
            SourceStatus::Connecting => (view.text.connecting.to_string(), theme.text_muted),
            SourceStatus::Ok { at } => {
                let age = state.now - at;
                if age > 5.0 {
                    (
                        format!("{} {}", view.text.stale, format::age(age)),
                        theme.warning,
                    )
                } else {
                    (view.text.ok.to_string(), theme.ok)
                }
            }
            SourceStatus::Down { reason, since } => (
                format!(
                    "{} {}: {}",
                    view.text.down,
                    format::age(state.now - since),
                    format::shorten(reason, 36)
                ),
                theme.critical,
            ),
        };
        spans.push(Span::styled(text, view.theme.base_style().fg(color)));
    }
    // Prometheus may answer while the FinCore target it scrapes does not: its `up` says so.
    if state.live.target_up == Some(false) {
        spans.push(Span::styled("  │ ", view.theme.muted_style()));
        spans.push(Span::styled(
            view.text.target_down,
            view.theme.base_style().fg(theme.critical),
        ));
    }
    if let Some((health, _)) = &state.live.health {
        use crate::sources::health::ApiHealth;
        let (text, color) = match health {
            ApiHealth::Ok => (view.text.ok.to_string(), theme.ok),
            ApiHealth::Slow => (view.text.health_slow.to_string(), theme.warning),
            ApiHealth::Degraded { database } => (
                format!(
                    "{} 503: {}",
                    view.text.health_degraded,
                    format::shorten(database, 30)
                ),
                theme.warning,
            ),
            ApiHealth::Failing { status } => (
                format!("{} {status}", view.text.health_failing),
                theme.critical,
            ),
            ApiHealth::Unreachable => (view.text.health_unreachable.to_string(), theme.critical),
        };
        spans.push(Span::styled("  │ ", view.theme.muted_style()));
        spans.push(Span::styled(
            format!("{} ", view.text.health),
            view.theme.muted_style(),
        ));
        spans.push(Span::styled(text, view.theme.base_style().fg(color)));
    }
    if state.session.read_only {
        spans.push(Span::styled("  │ ", view.theme.muted_style()));
        spans.push(Span::styled(
            view.text.read_only,
            view.theme
                .base_style()
                .fg(theme.warning)
                .add_modifier(Modifier::BOLD),
        ));
    }
    if state.requests.quitting {
        spans.push(Span::styled("  │ ", view.theme.muted_style()));
        spans.push(Span::styled(
            view.text.resetting,
            view.theme.base_style().fg(theme.warning),
        ));
    }
    if let Some((at, event)) = &state.live.lifecycle {
        if state.now - at < 30.0 {
            spans.push(Span::styled("  │ ", view.theme.muted_style()));
            spans.push(Span::styled(
                event.clone(),
                view.theme.base_style().fg(theme.warning),
            ));
        }
    }
    let line = Line::from(spans);
    let clock = format!("{} UTC ", format::clock(state.now));
    // The clock only where it does not cover the sources' status.
    if line.width() + clock.len() < usize::from(area.width) {
        let [left, right] =
            Layout::horizontal([Constraint::Min(0), Constraint::Length(clock.len() as u16)])
                .areas(area);
        let buf = frame.buffer_mut();
        text::put_lines(buf, left, &[line]);
        text::put_lines(buf, right, &[Line::styled(clock, view.theme.muted_style())]);
    } else {
        text::put_lines(frame.buffer_mut(), area, &[line]);
    }
}

/// The keys that apply now, most useful first, from the key table: bindings with the same
/// label share one entry (`l e d m x f inject`).
pub fn key_bar_entries(model: &Model, text: &Strings) -> Vec<(String, &'static str)> {
    let mut entries: Vec<(String, &'static str)> = Vec::new();
    for binding in model.session.keys.bar(model.key_context()) {
        let label = keys_text::bar_label(binding.label, model, text);
        match entries.last_mut() {
            Some((keys, last)) if *last == label => {
                keys.push(' ');
                keys.push_str(&binding.bar_keys());
            }
            _ => entries.push((binding.bar_keys(), label)),
        }
    }
    entries
}

/// The keys that fit, most useful first, and the theme's name: an entry that would be cut is
/// left out whole (`?` lists them all).
fn render_key_bar(frame: &mut Frame, view: &View, area: Rect) {
    let theme_label = format!("{}: {}", view.text.theme, view.model.view.theme_name);
    let room = usize::from(area.width).saturating_sub(theme_label.chars().count());
    let mut used = 0;
    let mut spans = Vec::new();
    for (key, label) in key_bar_entries(view.model, view.text) {
        let key = format!(" {key} ");
        let label = format!(" {label}  ");
        let width = key.chars().count() + label.chars().count();
        if used + width > room {
            break;
        }
        used += width;
        spans.push(Span::styled(
            key,
            view.theme.key_style().bg(view.theme.selection),
        ));
        spans.push(Span::styled(label, view.theme.key_label_style()));
    }
    spans.push(Span::styled(theme_label, view.theme.muted_style()));
    text::put_lines(frame.buffer_mut(), area, &[Line::from(spans)]);
}

/// Every binding the session can use, from the key table: its keys, what it does and, where
/// the width allows, the name `[keys]` in `config.toml` remaps it by.
fn render_help(frame: &mut Frame, view: &View, area: Rect) {
    let text = view.text;
    // Bindings with one label share a row: `Tab → ↓ / Shift-Tab ← ↑  move focus`.
    let mut rows: Vec<(String, &'static str, String)> = Vec::new();
    let mut last_label = None;
    for binding in view.model.session.keys.help(view.model.key_context()) {
        let keys = match binding.name {
            "quit" => format!("{}, Ctrl-C", binding.help_keys()),
            _ => binding.help_keys(),
        };
        match rows.last_mut() {
            Some((row_keys, _, names)) if last_label == Some(binding.label) => {
                row_keys.push_str(" / ");
                row_keys.push_str(&keys);
                names.push(' ');
                names.push_str(binding.name);
            }
            _ => rows.push((
                keys,
                keys_text::help_label(binding.label, text),
                binding.name.to_string(),
            )),
        }
        last_label = Some(binding.label);
    }
    let key_width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let what_width = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
    let names_width = rows.iter().map(|r| r.2.chars().count()).max().unwrap_or(0);
    // The names `[keys]` uses, where the terminal is wide enough for all of them: a row
    // wrapped or a name cut reads worse than none. The help keeps two columns of the dashboard
    // visible on each side.
    let with_names =
        key_width + what_width + names_width + 6 <= usize::from(area.width.saturating_sub(6));
    let wanted = key_width + what_width + 5 + if with_names { names_width + 2 } else { 0 };
    let max_width = (wanted as u16).max(60).min(area.width.saturating_sub(4));
    let mut lines: Vec<Line> = rows
        .iter()
        .map(|(keys, what, names)| {
            let mut spans = vec![
                Span::styled(format!("{keys:>key_width$}  "), view.theme.key_style()),
                Span::styled(format!("{what:<what_width$}"), view.theme.base_style()),
            ];
            if with_names {
                spans.push(Span::styled(format!("  {names}"), view.theme.muted_style()));
            }
            Line::from(spans)
        })
        .collect();
    if view.model.session.read_only {
        lines.push(Line::styled(
            format!("  {}", text.help_read_only),
            view.theme.muted_style(),
        ));
    }
    lines.push(Line::default());
    lines.push(Line::styled(
        format!("  {}", text.help_close),
        view.theme.muted_style(),
    ));
    dialogs::overlay(frame, view, text.help_title, lines, max_width, area);
}
