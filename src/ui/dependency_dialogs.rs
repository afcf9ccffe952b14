//! The dependency's dialogs: the payment provider's failures (each knob with its words from
//! `provider::knobs`) and the resilience patterns (a switch and a number per row).

use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::View;
use crate::i18n::Lang;
use crate::model::dependency_modal::{EditValue, PatternsForm, ProviderForm};

pub fn provider_lines<'a>(view: &View, form: &ProviderForm) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    for (index, field) in form.fields.iter().enumerate() {
        let selected = index == form.selected;
        let value = match (field.value, selected, &form.typing) {
            (EditValue::Number(_), true, Some(typing)) => format!("{typing}▏"),
            (EditValue::Number(number), ..) => number.shown(),
            (EditValue::Flag(flag), ..) => if flag { "[x]" } else { "[ ]" }.to_string(),
        };
        let label = match view.lang {
            Lang::En => field.spec.label.en,
            Lang::Ru => field.spec.label.ru,
        };
        let style = row_style(view, selected);
        lines.push(Line::from(vec![
            Span::styled(
                format!("{}{:<24}", marker(selected), field.spec.name),
                style,
            ),
            Span::styled(format!("{value:>8}"), style.add_modifier(Modifier::BOLD)),
            Span::styled(format!("  {label}"), view.theme.muted_style()),
        ]));
    }
    lines.push(Line::default());
    lines.push(Line::styled(
        view.text.provider_fraction_note,
        view.theme.muted_style(),
    ));
    lines.push(Line::styled(
        view.text.inject_hint,
        view.theme.muted_style(),
    ));
    lines
}

pub fn patterns_lines<'a>(view: &View, form: &PatternsForm) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    for (index, row) in form.rows.iter().enumerate() {
        let selected = index == form.selected;
        let style = row_style(view, selected);
        // The breaker's second row carries only its number, under the first.
        let (name, switch) = match row.enabled {
            Some(on) => (
                row.pattern,
                if on {
                    format!("[x] {}", view.text.switched_on)
                } else {
                    format!("[ ] {}", view.text.switched_off)
                },
            ),
            None => ("", String::new()),
        };
        let mut spans = vec![
            Span::styled(format!("{}{name:<16}", marker(selected)), style),
            Span::styled(format!("{switch:<9}"), style.add_modifier(Modifier::BOLD)),
        ];
        if let Some((field, number)) = &row.number {
            let value = match (&form.typing, selected) {
                (Some(typing), true) => format!("{typing}▏"),
                _ => number.shown(),
            };
            spans.push(Span::styled(format!("  {field:<15}"), style));
            spans.push(Span::styled(
                format!("{value:>7}"),
                style.add_modifier(Modifier::BOLD),
            ));
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::default());
    lines.push(Line::styled(
        view.text.patterns_hint,
        view.theme.muted_style(),
    ));
    lines
}

fn marker(selected: bool) -> &'static str {
    if selected { "▶ " } else { "  " }
}

fn row_style(view: &View, selected: bool) -> ratatui::style::Style {
    if selected {
        view.theme.key_style().bg(view.theme.selection)
    } else {
        view.theme.base_style()
    }
}

/// The failures panel's lines for the dependency: the provider's knobs that are set and the
/// patterns that are on, one line each; none for a target without them.
pub fn failure_panel_lines<'a>(view: &View) -> Vec<Line<'a>> {
    let live = &view.model.live;
    let mut lines = Vec::new();
    let label = |word: &str| Span::styled(format!("{word:<10}"), view.theme.base_style());
    if let Some(provider) = &live.provider_failures {
        let set: Vec<String> = crate::provider::knobs::in_table_order(provider.active())
            .into_iter()
            .map(|(knob, value)| provider_value(knob, *value))
            .collect();
        let shown = if set.is_empty() {
            Span::styled(view.text.provider_none_set, view.theme.muted_style())
        } else {
            Span::styled(
                set.join(" · "),
                view.theme
                    .base_style()
                    .fg(view.theme.critical)
                    .add_modifier(Modifier::BOLD),
            )
        };
        lines.push(Line::from(vec![label(view.text.failures_provider), shown]));
    }
    if let Some(patterns) = &live.patterns {
        let on = patterns.on_words();
        let shown = if on.is_empty() {
            Span::styled(view.text.patterns_none_on, view.theme.muted_style())
        } else {
            Span::styled(on.join(" · "), view.theme.base_style().fg(view.theme.ok))
        };
        lines.push(Line::from(vec![label(view.text.failures_patterns), shown]));
    }
    lines
}

/// A provider knob as the panel shows it: a flag by its name, a fraction with two decimals.
fn provider_value(knob: &str, value: f64) -> String {
    use crate::provider::knobs::{ProviderKnobKind, by_name};
    match by_name(knob).map(|spec| spec.kind) {
        Some(ProviderKnobKind::Flag) => knob.to_string(),
        Some(ProviderKnobKind::Fraction) => format!("{knob} {value:.2}"),
        _ => format!("{knob} {value:.0}"),
    }
}
