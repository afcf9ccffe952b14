//! `gameday sessions list` and `show`: records as plain text for a terminal.

use std::fmt::Write as _;

use super::facts::{
    Clock, action_line, checklist_lines, figure_rows, phase_word, signal_rows, since_injection,
    step_word, title,
};
use super::store::StoredRecord;
use super::words::{maybe_duration, outcome_word, words};
use crate::drill::case::Case;
use crate::i18n::{Lang, strings};

/// One line per record, in the order given (newest first): id, case, date, outcome, MTTD,
/// MTTR.
pub fn list_text(records: &[StoredRecord], lang: Lang, clock: Clock) -> String {
    let w = words(lang);
    if records.is_empty() {
        return format!("{}\n", w.no_sessions);
    }
    let id_width = records
        .iter()
        .map(|stored| stored.id.chars().count())
        .max()
        .unwrap_or(0)
        .max(w.id.chars().count());
    let case_width = records
        .iter()
        .map(|stored| stored.record.case_id.chars().count())
        .max()
        .unwrap_or(0)
        .max(w.case.chars().count());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<id_width$}  {:<case_width$}  {:<16}  {:<12}  {:<11}  MTTR",
        w.id, w.case, w.date, w.outcome, "MTTD"
    );
    for stored in records {
        let record = &stored.record;
        let _ = writeln!(
            out,
            "{:<id_width$}  {:<case_width$}  {:<16}  {:<12}  {:<11}  {}",
            stored.id,
            record.case_id,
            clock.date_minute(record.started_at),
            outcome_word(record.outcome, lang),
            maybe_duration(record.figures.time_to_detect, lang),
            maybe_duration(record.figures.time_to_recover, lang),
        );
    }
    out
}

/// The whole record in readable text.
pub fn show_text(stored: &StoredRecord, case: Option<&Case>, lang: Lang, clock: Clock) -> String {
    let w = words(lang);
    let text = strings(lang);
    let record = &stored.record;
    let drill = &record.drill;
    let mut out = String::new();
    let _ = writeln!(out, "{} — {}", stored.id, title(record, case, lang));
    let blind = if drill.blind {
        format!("   ({})", w.blind)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{}: {}   {}: {}   {}: {}{blind}",
        w.case.to_lowercase(),
        record.case_id,
        w.target,
        record.target,
        w.outcome.to_lowercase(),
        outcome_word(record.outcome, lang)
    );
    if case.is_none() {
        let _ = writeln!(out, "({})", w.unknown_case);
    }
    if let Some(reason) = &drill.reason {
        let _ = writeln!(out, "{}: {reason}", w.reason);
    }

    let _ = writeln!(out, "\n{}", w.phases);
    for phase in &drill.phases {
        let _ = writeln!(
            out,
            "  {:<16} {}  {}",
            phase_word(phase.phase, lang),
            clock.date_time(phase.at),
            since_injection(record, phase.at, lang)
        );
    }

    let _ = writeln!(out, "\n{}", w.figures);
    for (label, value) in figure_rows(record, lang) {
        let _ = writeln!(out, "  {label:<38} {value}");
    }

    let rows = signal_rows(record, lang);
    if !rows.is_empty() {
        let [name, baseline, peak, crossed, recovery] = w.signal_header;
        let _ = writeln!(out, "\n{}", w.signals);
        let _ = writeln!(
            out,
            "  {name:<30} {baseline:<18} {peak:<10} {crossed:<22} {recovery}"
        );
        for [name, baseline, peak, crossed, recovery] in rows {
            let _ = writeln!(
                out,
                "  {name:<30} {baseline:<18} {peak:<10} {crossed:<22} {recovery}"
            );
        }
    }

    let series = &drill.series;
    let most = series.signals.iter().map(|s| s.values.len()).max();
    let thinned = series.signals.iter().map(|s| s.thinned).max().unwrap_or(0);
    let _ = match most {
        Some(most) => writeln!(
            out,
            "\n{}: {} × ≤ {most} ({} {thinned})",
            w.series,
            series.signals.len(),
            w.thinned
        ),
        None => writeln!(out, "\n{}: {}", w.series, w.none),
    };

    let _ = writeln!(out, "\n{}", w.checklist);
    let mut last_step = None;
    for line in checklist_lines(record, case, lang) {
        if last_step != Some(line.step) {
            let _ = writeln!(out, "  {}", step_word(line.step, lang));
            last_step = Some(line.step);
        }
        let state = match line.done_at {
            Some(at) if line.auto => format!("{} ({}, {})", w.done, w.auto, clock.time_of_day(at)),
            Some(at) => format!("{} ({})", w.done, clock.time_of_day(at)),
            None => w.missed.to_string(),
        };
        let mark = if line.done_at.is_some() { "x" } else { " " };
        let _ = writeln!(out, "    [{mark}] {} — {state}", line.text);
    }

    let _ = writeln!(out, "\n{}", w.hints_used);
    if drill.hints_opened.is_empty() {
        let _ = writeln!(out, "  {}", w.none);
    }
    for index in &drill.hints_opened {
        let hint = case
            .and_then(|case| case.hints.get(*index))
            .map_or("", |hint| hint.text.get(lang));
        let _ = writeln!(out, "  {}. {hint}", index + 1);
    }

    let _ = writeln!(out, "\n{}", w.actions);
    if drill.actions.is_empty() {
        let _ = writeln!(out, "  {}", w.none);
    }
    for action in &drill.actions {
        let _ = writeln!(
            out,
            "  {}  {}",
            clock.time_of_day(action.at),
            action_line(action, case, lang)
        );
    }

    let _ = writeln!(out, "\n{}", w.notes);
    if drill.notes.is_empty() {
        let _ = writeln!(out, "  {}", w.none);
    }
    for note in &drill.notes {
        let _ = writeln!(out, "  {}  {}", clock.time_of_day(note.at), note.text);
    }
    if let Some(right) = record.figures.diagnosis_correct {
        let named = drill
            .detection
            .as_ref()
            .and_then(|detection| detection.diagnosis.as_deref())
            .unwrap_or("—");
        let word = if right { text.right } else { text.wrong };
        let _ = writeln!(out, "\n{}: {named} ({word})", text.fig_diagnosis);
    }
    out
}
