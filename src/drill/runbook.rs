//! `gameday cases runbook ID`: a case turned into the runbook an on-call engineer would keep —
//! what the fault looks like, how to confirm it, what to do, how to know it is over, and what
//! to ask afterwards — in Markdown.

use std::fmt::Write as _;

use super::case::{Case, ChecklistItem, Step};
use super::signal_words::{condition_words, signal_name};
use crate::i18n::Lang;
use crate::units::HumanDuration;

struct RunbookWords {
    title: &'static str,
    from_case: &'static str,
    looks_like: &'static str,
    signals_intro: &'static str,
    alerts: &'static str,
    likely_cause: &'static str,
    confirm: &'static str,
    checked_by: &'static str,
    what_to_do: &'static str,
    hints: &'static str,
    over: &'static str,
    back_in_band: &'static str,
    tolerance: &'static str,
    held_for: &'static str,
    failures_cleared: &'static str,
    debrief: &'static str,
}

const EN: RunbookWords = RunbookWords {
    title: "Runbook",
    from_case: "From the drill case",
    looks_like: "What it looks like",
    signals_intro: "Any of these, where they were normal before:",
    alerts: "Alerts that fire",
    likely_cause: "Likely cause",
    confirm: "How to confirm",
    checked_by: "the dashboard shows it when",
    what_to_do: "What to do",
    hints: "If you are stuck",
    over: "How to know it is over",
    back_in_band: "back within the range it had before the fault",
    tolerance: "give or take",
    held_for: "and staying there for",
    failures_cleared: "`GET /api/failures` reads back with no failure set.",
    debrief: "Questions for the debrief",
};

const RU: RunbookWords = RunbookWords {
    title: "Ранбук",
    from_case: "По сценарию учения",
    looks_like: "Как это выглядит",
    signals_intro: "Любое из этого, если до того всё было в норме:",
    alerts: "Срабатывают алерты",
    likely_cause: "Вероятная причина",
    confirm: "Как подтвердить",
    checked_by: "дашборд отметит сам, когда",
    what_to_do: "Что делать",
    hints: "Если застряли",
    over: "Как понять, что всё закончилось",
    back_in_band: "вернулась в диапазон, который был до сбоя",
    tolerance: "с допуском",
    held_for: "и держится там",
    failures_cleared: "`GET /api/failures` показывает, что сбоев не задано.",
    debrief: "Вопросы для разбора",
};

/// The runbook of `case` in `lang`, as Markdown.
pub fn runbook_markdown(case: &Case, lang: Lang) -> String {
    let words = match lang {
        Lang::En => &EN,
        Lang::Ru => &RU,
    };
    let mut out = String::new();
    let _ = writeln!(out, "# {}: {}\n", words.title, case.title.get(lang));
    let _ = writeln!(
        out,
        "_{} `{}` ({}, {})._\n",
        words.from_case,
        case.id,
        case.difficulty.label(lang),
        case.source
    );

    let _ = writeln!(out, "## {}\n", words.looks_like);
    let _ = writeln!(out, "{}\n", words.signals_intro);
    for watched in &case.signals {
        let _ = writeln!(
            out,
            "- {} (`{}`)",
            condition_words(&watched.condition, lang),
            watched.condition
        );
    }
    if !case.alerts.is_empty() {
        let _ = writeln!(out, "\n{}: {}.", words.alerts, case.alerts.join(", "));
    }
    let _ = writeln!(
        out,
        "\n{}: {}.\n",
        words.likely_cause,
        case.diagnosis.get(lang)
    );

    let _ = writeln!(out, "## {}\n", words.confirm);
    checklist(&mut out, case.checklist_for(Step::Detect), words, lang);

    let _ = writeln!(out, "\n## {}\n", words.what_to_do);
    checklist(&mut out, case.checklist_for(Step::Respond), words, lang);
    if !case.hints.is_empty() {
        let _ = writeln!(out, "\n{}:\n", words.hints);
        for (index, hint) in case.hints.iter().enumerate() {
            let _ = writeln!(out, "{}. {}", index + 1, hint.text.get(lang));
        }
    }

    let _ = writeln!(out, "\n## {}\n", words.over);
    let recovery = &case.recovery;
    for signal in &recovery.signals {
        let _ = writeln!(
            out,
            "- {} {} ({} {:.0} %), {} {}.",
            signal_name(*signal, lang),
            words.back_in_band,
            words.tolerance,
            recovery.tolerance * 100.0,
            words.held_for,
            HumanDuration(recovery.hold)
        );
    }
    if recovery.failures_cleared {
        let _ = writeln!(out, "- {}", words.failures_cleared);
    }
    checklist(&mut out, case.checklist_for(Step::Recover), words, lang);

    if !case.debrief.is_empty() {
        let _ = writeln!(out, "\n## {}\n", words.debrief);
        for question in &case.debrief {
            let _ = writeln!(out, "- {}", question.get(lang));
        }
    }
    out
}

fn checklist(out: &mut String, items: &[ChecklistItem], words: &RunbookWords, lang: Lang) {
    for item in items {
        let check = item
            .verify
            .map(|condition| {
                format!(
                    " ({} {})",
                    words.checked_by,
                    condition_words(&condition, lang)
                )
            })
            .unwrap_or_default();
        let _ = writeln!(out, "- [ ] {}{check}", item.text.get(lang));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drill::CaseLibrary;

    fn latency() -> Case {
        CaseLibrary::shipped()
            .get("latency")
            .expect("shipped")
            .clone()
    }

    #[test]
    fn the_runbook_has_every_part_in_english() {
        let text = runbook_markdown(&latency(), Lang::En);
        for part in [
            "# Runbook: Latency: every request takes two seconds longer",
            "## What it looks like",
            "- p95 latency above 1.00 s (`latency_p95 > 1`)",
            "Alerts that fire: HighLatency.",
            "Likely cause: Every request is delayed by a fixed amount.",
            "## How to confirm",
            "- [ ] p95 latency is above one second (the dashboard shows it when p95 latency above 1.00 s)",
            "## What to do",
            "- [ ] Reset the failures",
            "1. Compare p50 and p99",
            "## How to know it is over",
            "- p99 latency back within the range it had before the fault (give or take 25 %), and staying there for 30s.",
            "`GET /api/failures` reads back with no failure set.",
            "## Questions for the debrief",
            "- Which dashboard panel would you look at first next time?",
        ] {
            assert!(text.contains(part), "missing {part:?} in\n{text}");
        }
        // The baseline and inject steps are the drill's, not the on-call engineer's.
        assert!(!text.contains("Note the normal request rate"), "{text}");
    }

    #[test]
    fn the_runbook_speaks_russian() {
        let text = runbook_markdown(&latency(), Lang::Ru);
        for part in [
            "# Ранбук: Задержка",
            "## Как это выглядит",
            "- p95 задержки выше 1.00 с",
            "## Как подтвердить",
            "## Что делать",
            "- [ ] Сбросьте отказы",
            "## Как понять, что всё закончилось",
            "## Вопросы для разбора",
        ] {
            assert!(text.contains(part), "missing {part:?} in\n{text}");
        }
    }
}
