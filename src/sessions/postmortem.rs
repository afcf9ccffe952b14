//! `gameday sessions report`: a drill's record and its case in the course's postmortem
//! template — Timeline, Cause, What we did, What we will change — with the figures.
//!
//! Under the figures, a chart of the case's signals (`chart`) from the series a version 2
//! record keeps; a version 1 record has none, and the report says so.

use super::chart::chart_svg;
use super::document::{Block, Document};
use super::facts::{
    Clock, checklist_lines, figure_rows, signal_rows, since_injection, step_word, timeline, title,
};
use super::store::StoredRecord;
use super::words::{outcome_word, words};
use crate::drill::case::Case;
use crate::i18n::{Lang, strings};

pub fn postmortem(
    stored: &StoredRecord,
    case: Option<&Case>,
    lang: Lang,
    clock: Clock,
) -> Document {
    let w = words(lang);
    let record = &stored.record;
    let drill = &record.drill;
    let mut blocks = Vec::new();

    let blind = if drill.blind {
        format!(" ({})", w.blind)
    } else {
        String::new()
    };
    blocks.push(Block::Paragraph(format!(
        "{} {}{blind}: {} {}, {} {}, {} {}. gameday {}.",
        w.drill_line,
        stored.id,
        w.started,
        clock.date_minute(record.started_at),
        w.target,
        record.target,
        w.outcome.to_lowercase(),
        outcome_word(record.outcome, lang),
        record.tool_version
    )));

    blocks.push(Block::Heading(w.figures.to_string()));
    blocks.push(Block::Table {
        header: vec![w.figure.to_string(), w.value.to_string()],
        rows: figure_rows(record, lang)
            .into_iter()
            .map(|(label, value)| vec![label, value])
            .collect(),
    });
    let signals = signal_rows(record, lang);
    if !signals.is_empty() {
        blocks.push(Block::Table {
            header: w.signal_header.iter().map(|h| h.to_string()).collect(),
            rows: signals.into_iter().map(Vec::from).collect(),
        });
    }

    blocks.push(Block::Heading(w.chart.to_string()));
    blocks.push(match chart_svg(record, lang, clock) {
        Some(svg) => Block::Chart {
            svg,
            alt: w.chart_title.to_string(),
        },
        None => Block::Paragraph(w.no_series.to_string()),
    });

    blocks.push(Block::Heading(w.timeline.to_string()));
    blocks.push(Block::Table {
        header: vec![
            w.time.to_string(),
            w.since_injection.to_string(),
            w.event.to_string(),
        ],
        rows: timeline(record, case, lang)
            .into_iter()
            .map(|event| {
                vec![
                    clock.time_of_day(event.at),
                    since_injection(record, event.at, lang),
                    event.text,
                ]
            })
            .collect(),
    });

    blocks.push(Block::Heading(w.cause.to_string()));
    blocks.push(Block::Paragraph(match case {
        Some(case) => format!("{}.", case.diagnosis.get(lang).trim_end_matches('.')),
        None => format!("{}: {}.", record.case_id, w.unknown_case),
    }));
    if let Some(right) = record.figures.diagnosis_correct {
        let text = strings(lang);
        let named = drill
            .detection
            .as_ref()
            .and_then(|detection| detection.diagnosis.as_deref())
            .unwrap_or("—");
        let word = if right { text.right } else { text.wrong };
        blocks.push(Block::Paragraph(format!(
            "{}: {named} ({word}).",
            w.named_cause
        )));
    }
    if let Some(reason) = &drill.reason {
        blocks.push(Block::Paragraph(format!("{}: {reason}", w.reason)));
    }

    blocks.push(Block::Heading(w.what_we_did.to_string()));
    let actions: Vec<String> = drill
        .actions
        .iter()
        .map(|action| {
            format!(
                "{} — {}",
                since_injection(record, action.at, lang),
                super::facts::action_line(action, case, lang)
            )
        })
        .collect();
    if actions.is_empty() {
        blocks.push(Block::Paragraph(w.no_actions.to_string()));
    } else {
        blocks.push(Block::List(actions));
    }
    blocks.push(Block::Paragraph(format!("{}:", w.checklist)));
    blocks.push(Block::Table {
        header: vec![
            w.step.to_string(),
            w.item.to_string(),
            w.done_or_missed.to_string(),
        ],
        rows: checklist_lines(record, case, lang)
            .into_iter()
            .map(|line| {
                let state = match line.done_at {
                    Some(at) if line.auto => format!(
                        "{} ({}, {})",
                        w.done,
                        w.auto,
                        since_injection(record, at, lang)
                    ),
                    Some(at) => format!("{} ({})", w.done, since_injection(record, at, lang)),
                    None => w.missed.to_string(),
                };
                vec![step_word(line.step, lang).to_string(), line.text, state]
            })
            .collect(),
    });
    blocks.push(Block::Paragraph(format!("{}:", w.hints_used)));
    if drill.hints_opened.is_empty() {
        blocks.push(Block::List(vec![w.none.to_string()]));
    } else {
        blocks.push(Block::List(
            drill
                .hints_opened
                .iter()
                .map(|&index| hint_text(record, case, index, lang))
                .collect(),
        ));
    }

    blocks.push(Block::Heading(w.what_we_will_change.to_string()));
    blocks.push(Block::Paragraph(w.change_prompt.to_string()));
    if let Some(case) = case.filter(|case| !case.debrief.is_empty()) {
        blocks.push(Block::List(
            case.debrief
                .iter()
                .map(|question| question.get(lang).to_string())
                .collect(),
        ));
    }

    Document {
        lang: lang.code(),
        title: format!("{}: {}", w.postmortem, title(record, case, lang)),
        blocks,
    }
}

/// `2. Errors are flat…`: the hint's number and text, from the case or else the record.
fn hint_text(
    record: &crate::drill::record::SessionRecord,
    case: Option<&Case>,
    index: usize,
    lang: Lang,
) -> String {
    let text = case
        .and_then(|case| case.hints.get(index))
        .map(|hint| hint.text.get(lang).to_string())
        .or_else(|| {
            let kept = record
                .hints_used
                .iter()
                .find(|hint| hint.number == index + 1)?;
            Some(match lang {
                Lang::En => kept.text.en.clone(),
                Lang::Ru => kept.text.ru.clone(),
            })
        })
        .unwrap_or_default();
    format!("{}. {text}", index + 1)
}
