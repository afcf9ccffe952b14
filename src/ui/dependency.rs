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

pub fn render(frame: &mut Frame, view: &View, inner: Rect) {
    let words = dependency_strings(view.lang);
    let model = view.model;
    let theme = view.theme;
    let value = |signal| model.current(signal);
    let none = || "—".to_string();
    let label = |text: &str| Span::styled(format!("{text} "), theme.muted_style());
    let figure = |text: String, color: Color| {
        Span::styled(
            format!("{text}  "),
            theme.base_style().fg(color).add_modifier(Modifier::BOLD),
        )
    };
    let plain = |text: String| Span::styled(format!("{text}  "), theme.base_style());
    // Red above the rules' 10 %, amber for any failure.
    let share_color = |ratio: Option<f64>| match ratio {
        Some(r) if r > 0.1 => theme.critical,
        Some(r) if r > 0.0 => theme.warning,
        _ => theme.ok,
    };
    let history: Vec<Sample> = model
        .live
        .store
        .series(Signal::BreakerState)
        .copied()
        .collect();
    let changes = transitions(&history, TRANSITIONS_SHOWN);

    let mut breaker = vec![label(words.breaker)];
    match value(Signal::BreakerState) {
        Some(state) => {
            let (word, color) = breaker_word(state, words, view);
            breaker.push(figure(word.to_string(), color));
            if let Some(last) = changes.first() {
                breaker.push(label(words.since));
                breaker.push(plain(format::age(model.now - last.at)));
            }
        }
        None => breaker.push(plain(none())),
    }

    let up = value(Signal::UpstreamUp);
    let failed = value(Signal::UpstreamErrorRatio);
    let provider = vec![
        label(words.provider),
        match up {
            Some(up) if up >= 1.0 => figure(format!("● {}", words.up), theme.ok),
            Some(_) => figure(format!("○ {}", words.down), theme.critical),
            None => plain(none()),
        },
        label("p95"),
        plain(value(Signal::UpstreamLatencyP95).map_or_else(none, format::latency)),
        plain(value(Signal::UpstreamRps).map_or_else(none, format::rate)),
        label(words.calls),
        figure(
            failed.map_or_else(none, format::percent),
            share_color(failed),
        ),
        label(words.failed),
    ];

    let payments_failed = value(Signal::PaymentsFailedRatio);
    let doubled = value(Signal::DoubleCredits);
    let payments = vec![
        label(words.payments),
        figure(
            payments_failed.map_or_else(none, format::percent),
            share_color(payments_failed),
        ),
        label(words.failed),
        plain(value(Signal::PaymentsPending).map_or_else(none, |v| format!("{v:.0}"))),
        label(words.pending),
    ];

    let rejected = value(Signal::WebhooksRejectedRate);
    let webhooks = vec![
        label(words.webhooks),
        plain(value(Signal::WebhooksDuplicateRate).map_or_else(none, format::rate)),
        label(words.duplicate),
        figure(
            rejected.map_or_else(none, format::rate),
            if rejected.is_some_and(|r| r > 0.0) {
                theme.critical
            } else {
                theme.ok
            },
        ),
        label(words.rejected),
    ];

    let guards = vec![
        label(words.double_credits),
        figure(
            doubled.map_or_else(none, |v| format!("{v:.0}")),
            if doubled.is_some_and(|d| d > 0.0) {
                theme.critical
            } else {
                theme.ok
            },
        ),
        label(words.bulkhead),
        plain(value(Signal::BulkheadInUse).map_or_else(none, |v| format!("{v:.0}"))),
        label(words.retries),
        plain(value(Signal::RetriesRate).map_or_else(none, format::rate)),
    ];

    let mut lines: Vec<Line> = [breaker, provider, payments, webhooks, guards]
        .into_iter()
        .map(Line::from)
        .collect();
    if changes.is_empty() {
        lines.push(Line::from(vec![
            label(words.changes),
            Span::styled(words.no_changes, theme.muted_style()),
        ]));
    }
    for change in &changes {
        let (from, from_color) = breaker_word(change.from, words, view);
        let (to, to_color) = breaker_word(change.to, words, view);
        lines.push(Line::from(vec![
            label(words.changes),
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
