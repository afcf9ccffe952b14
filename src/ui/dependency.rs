//! The dependency panel: the payment provider as FinCore sees it — whether it answers and how
//! fast, the circuit breaker in words with its last changes, the bulkhead and retries, the
//! webhooks, the payments and the double-credit check. Drawn only for a target that has a
//! provider ([`crate::model::Model::has_provider`]).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use ratatui::text::{Line, Span};

use super::{View, format, text};
use crate::i18n::{DependencyStrings, dependency_strings};
use crate::signals::{Sample, Signal, UnixSeconds};

/// How many of the breaker's changes are listed, newest first.
const TRANSITIONS_SHOWN: usize = 3;

/// The panel's title in the view's language.
pub fn title(view: &View) -> &'static str {
    dependency_strings(view.lang).title
}

/// One change of the breaker's state, seen between two samples of `BreakerState`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition {
    pub at: UnixSeconds,
    pub from: f64,
    pub to: f64,
}

/// The last `count` changes of the breaker's state in `samples` (oldest first), newest first.
/// A change is stamped with the first sample showing the new state; the scrapes in between
/// may hide a quick open → half-open → open, which the 1-minute maximum the alert reads keeps.
pub fn transitions<'a>(
    samples: impl IntoIterator<Item = &'a Sample>,
    count: usize,
) -> Vec<Transition> {
    let mut found = Vec::new();
    let mut previous: Option<f64> = None;
    for sample in samples {
        if let Some(before) = previous
            && before != sample.value
        {
            found.push(Transition {
                at: sample.at,
                from: before,
                to: sample.value,
            });
        }
        previous = Some(sample.value);
    }
    found.into_iter().rev().take(count).collect()
}

/// One figure of a line, with its words before or after it.
enum Item {
    /// `label figure`, e.g. `p95 210 ms`.
    Before(&'static str, String, Color, bool),
    /// `figure label`, e.g. `4.0 calls/s`.
    After(String, Color, bool, &'static str),
    /// `label figure label`, e.g. `payments 12 % failed`.
    Around(&'static str, String, Color, bool, &'static str),
}

/// The items of one line, three spaces apart.
fn line(view: &View, items: Vec<Item>) -> Line<'static> {
    let theme = view.theme;
    let value = |text: String, color: Color, bold: bool| {
        let style = theme.base_style().fg(color);
        Span::styled(
            text,
            if bold {
                style.add_modifier(Modifier::BOLD)
            } else {
                style
            },
        )
    };
    let mut spans = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        if index > 0 {
            spans.push(Span::raw("   "));
        }
        match item {
            Item::Before(label, text, color, bold) => {
                spans.push(Span::styled(format!("{label} "), theme.muted_style()));
                spans.push(value(text, color, bold));
            }
            Item::After(text, color, bold, label) => {
                spans.push(value(text, color, bold));
                spans.push(Span::styled(format!(" {label}"), theme.muted_style()));
            }
            Item::Around(before, text, color, bold, after) => {
                spans.push(Span::styled(format!("{before} "), theme.muted_style()));
                spans.push(value(text, color, bold));
                spans.push(Span::styled(format!(" {after}"), theme.muted_style()));
            }
        }
    }
    Line::from(spans)
}

pub fn render(frame: &mut Frame, view: &View, inner: Rect) {
    let words = dependency_strings(view.lang);
    let model = view.model;
    let theme = view.theme;
    let value = |signal| model.current(signal);
    let shown = |signal, how: fn(f64) -> String| value(signal).map_or_else(|| "—".to_string(), how);
    let count = |v: f64| format!("{v:.0}");
    // Red above the rules' 10 %, amber for any failure.
    let share_color = |ratio: Option<f64>| match ratio {
        Some(r) if r > 0.1 => theme.critical,
        Some(r) if r > 0.0 => theme.warning,
        _ => theme.ok,
    };
    // Red for any: a refused webhook or a double credit is never normal.
    let none_wanted = |v: Option<f64>| {
        if v.is_some_and(|v| v > 0.0) {
            theme.critical
        } else {
            theme.ok
        }
    };
    let text_color = theme.text;
    let history: Vec<Sample> = model
        .live
        .store
        .series(Signal::BreakerState)
        .copied()
        .collect();
    let changes = transitions(&history, TRANSITIONS_SHOWN);

    let mut breaker = Vec::new();
    match value(Signal::BreakerState) {
        Some(state) => {
            let (word, color) = breaker_word(state, words, view);
            breaker.push(Item::Before(words.breaker, word.to_string(), color, true));
            if let Some(last) = changes.first() {
                breaker.push(Item::Before(
                    words.since,
                    format::age(model.now - last.at),
                    text_color,
                    false,
                ));
            }
        }
        None => breaker.push(Item::Before(
            words.breaker,
            "—".to_string(),
            text_color,
            false,
        )),
    }
    let up = match value(Signal::UpstreamUp) {
        Some(up) if up >= 1.0 => (format!("● {}", words.up), theme.ok),
        Some(_) => (format!("○ {}", words.down), theme.critical),
        None => ("—".to_string(), text_color),
    };
    let failed = value(Signal::UpstreamErrorRatio);
    let payments_failed = value(Signal::PaymentsFailedRatio);
    let rejected = value(Signal::WebhooksRejectedRate);
    let doubled = value(Signal::DoubleCredits);
    let items = vec![
        breaker,
        vec![
            Item::Before(words.provider, up.0, up.1, true),
            Item::Before(
                "p95",
                shown(Signal::UpstreamLatencyP95, format::latency),
                text_color,
                false,
            ),
            Item::After(
                shown(Signal::UpstreamRps, format::rate),
                text_color,
                false,
                words.calls,
            ),
            Item::After(
                shown(Signal::UpstreamErrorRatio, format::percent),
                share_color(failed),
                true,
                words.failed,
            ),
        ],
        vec![
            Item::Around(
                words.payments,
                shown(Signal::PaymentsFailedRatio, format::percent),
                share_color(payments_failed),
                true,
                words.failed,
            ),
            Item::After(
                shown(Signal::PaymentsPending, count),
                text_color,
                false,
                words.pending,
            ),
            Item::After(
                shown(Signal::PaymentsCompletedLate, count),
                text_color,
                false,
                words.late,
            ),
        ],
        vec![
            Item::Around(
                words.webhooks,
                shown(Signal::WebhooksRejectedRate, format::rate),
                none_wanted(rejected),
                true,
                words.rejected,
            ),
            Item::After(
                shown(Signal::WebhooksDuplicateRate, format::rate),
                text_color,
                false,
                words.duplicate,
            ),
        ],
        vec![
            Item::Before(
                words.double_credits,
                shown(Signal::DoubleCredits, count),
                none_wanted(doubled),
                true,
            ),
            Item::Before(
                words.bulkhead,
                shown(Signal::BulkheadInUse, count),
                text_color,
                false,
            ),
            Item::Before(
                words.retries,
                shown(Signal::RetriesRate, format::rate),
                text_color,
                false,
            ),
        ],
    ];
    let mut lines: Vec<Line> = items.into_iter().map(|items| line(view, items)).collect();
    // Which patterns are on, where the target says (the scrape source reads them).
    if !model.live.patterns_enabled.is_empty() {
        let on: Vec<&str> = model
            .live
            .patterns_enabled
            .iter()
            .filter(|(_, enabled)| *enabled)
            .map(|(name, _)| name.as_str())
            .collect();
        let listed = if on.is_empty() {
            words.no_patterns.to_string()
        } else {
            on.join(" ")
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", words.patterns), theme.muted_style()),
            Span::styled(listed, theme.base_style()),
        ]));
    }
    let heading = format!("{} ", words.changes);
    let indent = " ".repeat(heading.chars().count());
    if changes.is_empty() {
        lines.push(Line::from(vec![
            Span::styled(heading.clone(), theme.muted_style()),
            Span::styled(words.no_changes, theme.muted_style()),
        ]));
    }
    for (index, change) in changes.iter().enumerate() {
        let (from, from_color) = breaker_word(change.from, words, view);
        let (to, to_color) = breaker_word(change.to, words, view);
        let lead = if index == 0 { &heading } else { &indent };
        lines.push(Line::from(vec![
            Span::styled(lead.clone(), theme.muted_style()),
            Span::styled(
                format!("{} ", format::clock(change.at)),
                theme.muted_style(),
            ),
            Span::styled(from, theme.base_style().fg(from_color)),
            Span::styled(" → ", theme.muted_style()),
            Span::styled(
                to,
                theme.base_style().fg(to_color).add_modifier(Modifier::BOLD),
            ),
        ]));
    }
    text::put_lines(frame.buffer_mut(), inner, &lines);
}

/// The breaker's state (0 closed, 1 half-open, 2 open) in words and its colour.
fn breaker_word(
    state: f64,
    words: &'static DependencyStrings,
    view: &View,
) -> (&'static str, Color) {
    if state >= 2.0 {
        (words.open, view.theme.critical)
    } else if state >= 1.0 {
        (words.half_open, view.theme.warning)
    } else {
        (words.closed, view.theme.ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(values: &[(f64, f64)]) -> Vec<Sample> {
        values
            .iter()
            .map(|&(at, value)| Sample { at, value })
            .collect()
    }

    #[test]
    fn transitions_are_the_changes_newest_first() {
        let history = samples(&[
            (0.0, 0.0),
            (1.0, 0.0),
            (2.0, 2.0),
            (3.0, 2.0),
            (8.0, 1.0),
            (9.0, 0.0),
            (10.0, 2.0),
        ]);
        let found = transitions(&history, 3);
        let brief: Vec<(f64, f64, f64)> = found.iter().map(|t| (t.at, t.from, t.to)).collect();
        assert_eq!(
            brief,
            vec![(10.0, 0.0, 2.0), (9.0, 1.0, 0.0), (8.0, 2.0, 1.0)]
        );
        assert_eq!(transitions(&history, 10).len(), 4);
        assert!(transitions(&samples(&[(0.0, 0.0), (1.0, 0.0)]), 3).is_empty());
        assert!(transitions(&[], 3).is_empty());
    }
}
