//! Rendering from state only: no I/O here. `render` draws the whole dashboard for any size
//! down to 60×20, and a clear message below that.

pub mod big_digits;
mod charts;
mod dialogs;
mod drill;
pub mod format;
mod frame;
mod panels;
mod text;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::app::state::{AppState, PanelId};
use crate::i18n::{Lang, Strings};
use crate::sources::SourceStatus;
use crate::theme::Theme;

pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 20;

/// Everything a panel needs to draw itself.
pub struct View<'a> {
    pub state: &'a AppState,
    pub theme: &'a Theme,
    pub text: &'static Strings,
    pub lang: Lang,
}

pub fn render(frame: &mut Frame, state: &AppState, theme: &Theme, lang: Lang) {
    let area = frame.area();
    let view = View {
        state,
        theme,
        text: crate::i18n::strings(lang),
        lang,
    };
    frame.render_widget(Block::new().style(view.theme.base_style()), area);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        render_too_small(frame, &view, area);
        return;
    }
    let [header, body, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(frame, &view, header);
    // A drill takes a column on the right; the live panels keep the rest.
    let body = match &state.drill {
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
    for (panel, rect) in panel_areas(body, state.focus, state.zoomed) {
        panels::render_panel(frame, &view, panel, rect);
    }
    render_key_bar(frame, &view, keys);
    if let Some(modal) = &state.modal {
        dialogs::render(frame, &view, modal, area);
    } else if state.help {
        render_help(frame, &view, area);
    }
}

/// Where each panel goes. Zoomed: the focused panel alone. Otherwise two chart panels on top,
/// four small panels in one row (or a 2×2 grid when narrow), and the log below when there is
/// room; on a short terminal the log is reached by focusing and zooming it.
pub fn panel_areas(body: Rect, focus: PanelId, zoomed: bool) -> Vec<(PanelId, Rect)> {
    if zoomed {
        return vec![(focus, body)];
    }
    let with_logs = body.height >= 28;
    let [charts, middle, logs] = if with_logs {
        Layout::vertical([
            Constraint::Percentage(45),
            Constraint::Min(9),
            Constraint::Percentage(22),
        ])
        .areas(body)
    } else {
        let [charts, middle] =
            Layout::vertical([Constraint::Percentage(55), Constraint::Min(8)]).areas(body);
        [charts, middle, Rect::default()]
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
    if middle.width >= 120 {
        let columns = Layout::horizontal([Constraint::Ratio(1, 4); 4]).split(middle);
        areas.extend(small.into_iter().zip(columns.iter().copied()));
    } else {
        let rows = Layout::vertical([Constraint::Ratio(1, 2); 2]).split(middle);
        for (row, pair) in rows.iter().zip(small.chunks(2)) {
            let columns = Layout::horizontal([Constraint::Ratio(1, 2); 2]).split(*row);
            areas.extend(pair.iter().copied().zip(columns.iter().copied()));
        }
    }
    if with_logs {
        areas.push((PanelId::Logs, logs));
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
    let state = view.state;
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
    let address = state.target.api_url.trim_start_matches("http://");
    let target = match (state.target.embedded, area.width >= 140) {
        (true, true) => format!("{} {}", view.text.embedded, state.target.api_url),
        (true, false) => format!("sandbox {address}"),
        (false, true) => state.target.api_url.clone(),
        (false, false) => address.to_string(),
    };
    spans.push(Span::styled(target, view.theme.base_style()));
    for (kind, status) in &state.sources {
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
    if state.read_only {
        spans.push(Span::styled("  │ ", view.theme.muted_style()));
        spans.push(Span::styled(
            view.text.read_only,
            view.theme
                .base_style()
                .fg(theme.warning)
                .add_modifier(Modifier::BOLD),
        ));
    }
    if state.quitting {
        spans.push(Span::styled("  │ ", view.theme.muted_style()));
        spans.push(Span::styled(
            view.text.resetting,
            view.theme.base_style().fg(theme.warning),
        ));
    }
    if let Some((at, event)) = &state.lifecycle {
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

/// The keys the focused view offers, most useful first.
pub fn key_bar_entries(state: &AppState, text: &Strings) -> Vec<(&'static str, &'static str)> {
    let mut keys = vec![("?", text.key_help), ("q", text.key_quit)];
    if state.drill_running() {
        keys.push(("Enter", text.key_detect));
        keys.push(("h", text.key_hint));
        keys.push(("1-9", text.key_check));
    } else if !state.read_only && !state.cases.is_empty() {
        keys.push(("c", text.key_cases));
    }
    if !state.read_only {
        keys.push(("l e d m x f", text.key_inject));
        keys.push(("r", text.key_reset));
        keys.push(("i", text.key_inject_panel));
        keys.push(("s", text.key_containers));
        if state.load.is_some() {
            keys.push(("+/-", text.key_load));
            keys.push(("p", text.key_profile));
        }
    }
    keys.push(("Tab", text.key_focus));
    if state.zoomed {
        keys.push(("z/Esc", text.key_unzoom));
        if state.focus == PanelId::Logs {
            keys.push(("↑↓", text.key_scroll));
        }
    } else {
        keys.push(("z", text.key_zoom));
    }
    keys.push(("t", text.key_theme));
    keys
}

/// The keys that fit, most useful first, and the theme's name: an entry that would be cut is
/// left out whole (`?` lists them all).
fn render_key_bar(frame: &mut Frame, view: &View, area: Rect) {
    let theme_label = format!("{}: {}", view.text.theme, view.state.theme_name);
    let room = usize::from(area.width).saturating_sub(theme_label.chars().count());
    let mut used = 0;
    let mut spans = Vec::new();
    for (key, label) in key_bar_entries(view.state, view.text) {
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

fn render_help(frame: &mut Frame, view: &View, area: Rect) {
    let text = view.text;
    let mut rows = vec![
        ("?", text.help_help),
        ("q, Ctrl-C", text.help_quit),
        ("Tab, Shift-Tab, ←↑→↓", text.help_focus),
        ("z, Esc", text.help_zoom),
        ("↑↓ PgUp PgDn", text.help_scroll),
        ("t", text.help_theme),
    ];
    if view.state.read_only {
        rows.push(("", text.help_read_only));
    } else {
        rows.push(("l e d", text.help_presets));
        rows.push(("m x f", text.help_presets_more));
        rows.push(("r", text.help_reset));
        rows.push(("c", text.help_cases));
        rows.push(("Enter h 1-9", text.help_drill));
        rows.push(("i", text.help_inject_panel));
        rows.push(("s", text.help_containers));
        if view.state.load.is_some() {
            rows.push(("+ -", text.help_load));
            rows.push(("p", text.help_profile));
        }
    }
    let mut lines: Vec<Line> = rows
        .iter()
        .map(|(key, what)| {
            Line::from(vec![
                Span::styled(format!("{key:>22}  "), view.theme.key_style()),
                Span::styled(*what, view.theme.base_style()),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::styled(
        format!("  {}", text.help_close),
        view.theme.muted_style(),
    ));
    // The help keeps two columns of the dashboard visible on each side.
    let max_width = 100.min(area.width.saturating_sub(4));
    dialogs::overlay(frame, view, text.help_title, lines, max_width, area);
}
