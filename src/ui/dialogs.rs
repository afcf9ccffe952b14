//! The dialogs drawn over the dashboard: the injection panel, the container menu, the
//! confirmation and the question on quitting.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::{View, frame};
use crate::actions::ContainerAction;
use crate::i18n::Strings;
use crate::model::modal::{DetectChoice, FieldValue, InjectForm, Modal};

pub fn render(frame: &mut Frame, view: &View, modal: &Modal, area: Rect) {
    let text = view.text;
    let (title, lines) = match modal {
        Modal::Inject(form) => (text.inject_title, inject_lines(view, form)),
        Modal::Containers { selected } => (text.containers_title, container_lines(view, *selected)),
        Modal::Confirm(action) => (
            text.confirm_title,
            vec![
                Line::styled(
                    format!("{}?", action_label(text, *action)),
                    view.theme.base_style().add_modifier(Modifier::BOLD),
                ),
                Line::default(),
                Line::styled(text.confirm_keys, view.theme.muted_style()),
            ],
        ),
        Modal::QuitPrompt => (text.quit_title, quit_lines(view)),
        Modal::Detect {
            choices, selected, ..
        } => {
            let blind = choices
                .iter()
                .any(|choice| matches!(choice, DetectChoice::Diagnosis { .. }));
            let labels: Vec<String> = choices
                .iter()
                .map(|choice| match choice {
                    DetectChoice::Signal(Some(signal)) => signal.name().to_string(),
                    DetectChoice::Signal(None) => text.no_signal.to_string(),
                    DetectChoice::Diagnosis { label, .. } => label.clone(),
                })
                .collect();
            let title = if blind {
                text.diagnose_title
            } else {
                text.detect_title
            };
            (title, list_lines(view, &labels, *selected))
        }
        Modal::Cases { selected, .. } => {
            let labels: Vec<String> = view
                .model
                .session
                .cases
                .iter()
                .map(|case| {
                    format!(
                        "{:<16} {:<8} {}",
                        case.id,
                        case.difficulty.label(view.lang),
                        case.title.get(view.lang)
                    )
                })
                .collect();
            (text.cases_title, list_lines(view, &labels, *selected))
        }
        Modal::Resume { case_id } => (
            text.resume_title,
            vec![
                Line::styled(
                    text.resume_question,
                    view.theme.base_style().add_modifier(Modifier::BOLD),
                ),
                Line::styled(format!("  {case_id}"), view.theme.base_style()),
                Line::default(),
                Line::styled(text.resume_keys, view.theme.muted_style()),
            ],
        ),
    };
    overlay(frame, view, title, lines, 90, area);
}

/// A box of `lines` in the middle of `area`, at most `max_width` wide, over what is below.
pub fn overlay(
    frame: &mut Frame,
    view: &View,
    title: &str,
    lines: Vec<Line>,
    max_width: u16,
    area: Rect,
) {
    let width = max_width.min(area.width.saturating_sub(2));
    let height = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
    let rect = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .style(view.theme.base_style())
            .wrap(Wrap { trim: false })
            .block(frame::panel_block(view, title, true)),
        rect,
    );
}

pub fn action_label(text: &Strings, action: ContainerAction) -> &'static str {
    match action {
        ContainerAction::RestartApp => text.restart_app,
        ContainerAction::StopApp => text.stop_app,
        ContainerAction::StartApp => text.start_app,
        ContainerAction::StopDb => text.stop_db,
        ContainerAction::StartDb => text.start_db,
    }
}

fn inject_lines<'a>(view: &View, form: &InjectForm) -> Vec<Line<'a>> {
    let theme = view.theme;
    let mut lines = Vec::new();
    for (index, field) in form.fields.iter().enumerate() {
        let selected = index == form.selected;
        let label = if field.name == crate::knobs::TTL_NAME {
            view.text.ttl_label
        } else {
            field.name
        };
        let value = match (field.value, selected, &form.typing) {
            (FieldValue::Number { .. }, true, Some(typing)) => format!("{typing}▏"),
            (FieldValue::Number { value, .. }, ..) => value.to_string(),
            (FieldValue::Flag(flag), ..) => if flag { "[x]" } else { "[ ]" }.to_string(),
        };
        let marker = if selected { "▶ " } else { "  " };
        let style = match (&field.unavailable, selected) {
            (Some(_), _) => view.theme.muted_style(),
            (None, true) => theme.key_style().bg(theme.selection),
            (None, false) => view.theme.base_style(),
        };
        let mut spans = vec![
            Span::styled(format!("{marker}{label:<18}"), style),
            Span::styled(format!("{value:>8}"), style.add_modifier(Modifier::BOLD)),
        ];
        if let Some(why) = &field.unavailable {
            spans.push(Span::styled(
                format!("  {}: {why}", view.text.unavailable),
                view.theme.muted_style(),
            ));
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::default());
    lines.push(Line::styled(
        view.text.inject_hint,
        view.theme.muted_style(),
    ));
    lines
}

fn container_lines<'a>(view: &View, selected: usize) -> Vec<Line<'a>> {
    let theme = view.theme;
    let mut lines: Vec<Line> = ContainerAction::ALL
        .iter()
        .enumerate()
        .map(|(index, action)| {
            let style = if index == selected {
                theme.key_style().bg(theme.selection)
            } else {
                view.theme.base_style()
            };
            Line::styled(
                format!(" {}  {}", index + 1, action_label(view.text, *action)),
                style,
            )
        })
        .collect();
    lines.push(Line::default());
    if view.model.session.target.embedded {
        lines.push(Line::styled(
            view.text.containers_embedded,
            view.theme.muted_style(),
        ));
    }
    lines.push(Line::styled(
        view.text.containers_hint,
        view.theme.muted_style(),
    ));
    lines
}

fn list_lines<'a>(view: &View, labels: &[String], selected: usize) -> Vec<Line<'a>> {
    let theme = view.theme;
    let mut lines: Vec<Line> = labels
        .iter()
        .enumerate()
        .map(|(index, label)| {
            let style = if index == selected {
                theme.key_style().bg(theme.selection)
            } else {
                view.theme.base_style()
            };
            let number = if index < 9 {
                format!("{}", index + 1)
            } else {
                " ".to_string()
            };
            Line::styled(format!(" {number}  {label}"), style)
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::styled(view.text.list_hint, view.theme.muted_style()));
    lines
}

fn quit_lines<'a>(view: &View) -> Vec<Line<'a>> {
    let mut lines = vec![Line::styled(
        view.text.quit_question,
        view.theme.base_style().add_modifier(Modifier::BOLD),
    )];
    if let Some(failures) = &view.model.live.failures {
        for (knob, value) in failures.knobs.iter().filter(|(_, v)| *v != 0.0) {
            lines.push(Line::styled(
                format!("  {knob} = {value}"),
                view.theme.base_style().fg(view.theme.critical),
            ));
        }
    }
    lines.push(Line::default());
    lines.push(Line::styled(view.text.quit_keys, view.theme.muted_style()));
    lines
}
