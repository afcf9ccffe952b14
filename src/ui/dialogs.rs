//! The dialogs drawn over the dashboard: the injection panel, the container menu, the
//! confirmation and the question on quitting.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::{View, frame};
use crate::actions::ContainerAction;
use crate::drill::signal_words::condition_words;
use crate::i18n::Strings;
use crate::model::modal::{DetectChoice, FieldValue, InjectForm, Modal};

pub fn render(frame: &mut Frame, view: &View, modal: &Modal, area: Rect) {
    let text = view.text;
    let (title, lines) = match modal {
        Modal::Inject(form) => (text.inject_title, inject_lines(view, form)),
        Modal::Provider(form) => (
            text.provider_title,
            super::dependency_dialogs::provider_lines(view, form),
        ),
        Modal::Patterns(form) => (
            text.patterns_title,
            super::dependency_dialogs::patterns_lines(view, form),
        ),
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
                    DetectChoice::Signal(Some(signal)) => {
                        crate::drill::signal_words::signal_name(*signal, view.lang).to_string()
                    }
                    DetectChoice::Signal(None) => text.no_signal.to_string(),
                    DetectChoice::Alert(name) => format!("{}: {name}", text.detect_alert),
                    DetectChoice::Log => text.detect_log.to_string(),
                    DetectChoice::Complaint => text.detect_complaint.to_string(),
                    // In the interface's language, whatever language the request was made in.
                    DetectChoice::Diagnosis { case_id, label } => view
                        .model
                        .session
                        .cases
                        .iter()
                        .find(|case| &case.id == case_id)
                        .map_or_else(
                            || label.clone(),
                            |case| case.diagnosis.get(view.lang).to_string(),
                        ),
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
            let mut lines = list_lines(view, &labels, *selected);
            lines.push(Line::styled(
                text.cases_blind_hint,
                view.theme.muted_style(),
            ));
            (text.cases_title, lines)
        }
        Modal::Briefing => briefing(view),
        Modal::QuitDrill => (
            text.quit_drill_title,
            vec![
                Line::styled(
                    text.quit_drill_question,
                    view.theme.base_style().add_modifier(Modifier::BOLD),
                ),
                Line::default(),
                Line::styled(text.quit_drill_keys, view.theme.muted_style()),
            ],
        ),
        Modal::Note { text: typed } => (
            text.note_title,
            vec![
                Line::styled(
                    format!("> {typed}▏"),
                    view.theme.base_style().add_modifier(Modifier::BOLD),
                ),
                Line::default(),
                Line::styled(text.note_keys, view.theme.muted_style()),
            ],
        ),
        Modal::FaultGone => {
            let bold = view.theme.base_style().add_modifier(Modifier::BOLD);
            let mut lines: Vec<Line> = text
                .fault_gone_text
                .lines()
                .map(|line| Line::styled(line, bold))
                .collect();
            lines.push(Line::default());
            lines.extend(
                text.fault_gone_keys
                    .lines()
                    .map(|line| Line::styled(line, view.theme.muted_style())),
            );
            (text.fault_gone_title, lines)
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

/// The case's briefing before its baseline; a blind drill's says nothing of the case.
fn briefing<'a>(view: &View) -> (&'static str, Vec<Line<'a>>) {
    let text = view.text;
    let Some(drill) = &view.model.drill else {
        return (text.briefing_title, Vec::new());
    };
    let request = drill.request();
    let case = &request.case;
    let bold = view.theme.base_style().add_modifier(Modifier::BOLD);
    let muted = view.theme.muted_style();
    let mut lines = Vec::new();
    // Wrapped here, not by the paragraph: the box is as high as its lines.
    let paragraph = |text: &str, lines: &mut Vec<Line<'a>>| {
        for row in wrap_words(text, BRIEFING_WIDTH) {
            lines.push(Line::styled(row, view.theme.base_style()));
        }
    };
    let title = if request.blind {
        paragraph(text.briefing_blind_text, &mut lines);
        text.briefing_blind_title
    } else {
        lines.push(Line::styled(case.title.get(view.lang).to_string(), bold));
        lines.push(Line::default());
        for part in case.briefing.get(view.lang).trim().split("\n\n") {
            paragraph(&part.replace('\n', " "), &mut lines);
        }
        lines.push(Line::default());
        let watched: Vec<String> = case
            .signals
            .iter()
            .map(|watched| condition_words(&watched.condition, view.lang))
            .collect();
        // One signal per row: a joined line would wrap past the box's counted height.
        lines.push(Line::styled(format!("{}:", text.briefing_watch), muted));
        for condition in watched {
            lines.push(Line::styled(
                format!("  {condition}"),
                view.theme.base_style(),
            ));
        }
        text.briefing_title
    };
    lines.push(Line::from(vec![
        Span::styled(format!("{}: ", text.briefing_baseline), muted),
        Span::styled(
            crate::units::HumanDuration(case.baseline).to_string(),
            view.theme.base_style(),
        ),
    ]));
    lines.push(Line::default());
    for row in wrap_words(text.briefing_keys, BRIEFING_WIDTH) {
        lines.push(Line::styled(row, muted));
    }
    // First, so that a briefing taller than a small terminal still says how to go on.
    lines.insert(
        0,
        Line::styled(
            text.briefing_begin,
            view.theme.key_style().add_modifier(Modifier::BOLD),
        ),
    );
    lines.insert(1, Line::default());
    (title, lines)
}

/// The briefing's text width: the dialog's 90 columns less its border and a margin.
const BRIEFING_WIDTH: usize = 86;

/// Greedy word wrap at `width` characters.
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut rows: Vec<String> = Vec::new();
    let mut row = String::new();
    for word in text.split_whitespace() {
        let needed = row.chars().count() + usize::from(!row.is_empty()) + word.chars().count();
        if !row.is_empty() && needed > width {
            rows.push(std::mem::take(&mut row));
        }
        if !row.is_empty() {
            row.push(' ');
        }
        row.push_str(word);
    }
    if !row.is_empty() {
        rows.push(row);
    }
    rows
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
