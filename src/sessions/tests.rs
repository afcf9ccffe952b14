//! The texts of `gameday sessions` from records of real phase-machine runs, driven with
//! scripted samples and a clock the test controls, and dates written in UTC.

use super::chart::chart_svg;
use super::document::{ChartLink, to_html, to_markdown};
use super::facts::Clock;
use super::history::histories;
use super::postmortem::postmortem;
use super::show::{list_text, show_text};
use super::store::{StoredRecord, find};
use crate::drill::record::SessionRecord;
use crate::drill::{ActionKind, Case, CaseLibrary, DrillOptions, Phase, PhaseMachine};
use crate::i18n::Lang;
use crate::signals::{Sample, Signal};

/// 2026-11-18 11:06:40 UTC.
const START: f64 = 1_795_000_000.0;

fn latency() -> Case {
    CaseLibrary::shipped()
        .get("latency")
        .expect("shipped")
        .clone()
}

fn feed(machine: &mut PhaseMachine, at: f64, p95: f64) {
    machine.sample(Signal::Up, Sample { at, value: 1.0 });
    machine.sample(Signal::ErrorRatio, Sample { at, value: 0.0 });
    machine.sample(Signal::LatencyP95, Sample { at, value: p95 });
    machine.sample(
        Signal::LatencyP99,
        Sample {
            at,
            value: p95 * 1.5,
        },
    );
}

/// A latency drill from `start` to its review: injected at +61 s, detected `detect_after`
/// seconds later, a hint, a reset refused, a note, then a reset that takes 10 s later.
fn finished_drill(start: f64, detect_after: f64) -> PhaseMachine {
    let (mut machine, _) = PhaseMachine::start(latency(), DrillOptions::default(), start);
    for second in 0..60 {
        feed(&mut machine, start + f64::from(second), 0.1);
    }
    machine.tick(start + 60.0);
    let injected = start + 61.0;
    machine.injected(injected);
    feed(&mut machine, injected + 1.0, 2.2);
    feed(&mut machine, injected + 2.0, 2.4);
    let detected = injected + detect_after;
    machine.declare_detection(detected, Some(Signal::LatencyP95), None);
    machine.action(detected + 1.0, ActionKind::HintOpened { index: 0 });
    machine.failed_action(
        detected + 2.0,
        ActionKind::FailureReset,
        "connection refused",
    );
    machine.note(detected + 3.0, "checked <failures> & | the pool");
    machine.action(detected + 10.0, ActionKind::FailureReset);
    machine.failures_read_back(detected + 10.5, false, None);
    let back = detected + 11.0;
    for second in 0..=31 {
        feed(&mut machine, back + f64::from(second), 0.1);
    }
    machine.tick(back + 31.0);
    assert_eq!(
        machine.phase(),
        Phase::Review,
        "{:?}",
        machine.state().phases
    );
    machine
}

fn stored(machine: &PhaseMachine) -> StoredRecord {
    let record = SessionRecord::from_machine(machine, "embedded sandbox");
    let id = record.file_name().trim_end_matches(".json").to_string();
    StoredRecord { id, record }
}

#[test]
fn the_list_has_one_line_per_record_with_units() {
    let older = stored(&finished_drill(START, 9.0));
    let (mut abandoned, _) = PhaseMachine::start(latency(), DrillOptions::default(), START + 600.0);
    abandoned.abandon(START + 610.0, "lunch");
    let newer = stored(&abandoned);
    let text = list_text(&[newer, older], Lang::En, Clock::utc());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("ID "), "{text}");
    assert!(lines[0].ends_with("MTTR"), "{text}");
    assert!(
        lines[1].starts_with("20261118T111640Z-latency  latency  2026-11-18 11:16  abandoned"),
        "{text}"
    );
    assert!(lines[1].contains("—"), "{text}");
    assert!(
        lines[2].starts_with("20261118T110640Z-latency  latency  2026-11-18 11:06  completed"),
        "{text}"
    );
    assert!(lines[2].contains("9.0 s"), "MTTD: {text}");
    assert!(lines[2].trim_end().ends_with("20.0 s"), "MTTR: {text}");
    let ru = list_text(&[stored(&abandoned)], Lang::Ru, Clock::utc());
    assert!(ru.contains("ИТОГ") && ru.contains("прервано"), "{ru}");
}

#[test]
fn show_gives_every_item_action_hint_and_note() {
    let record = stored(&finished_drill(START, 9.0));
    let case = latency();
    let text = show_text(&record, Some(&case), Lang::En, Clock::utc());
    for part in [
        "20261118T110640Z-latency — Latency: every request takes two seconds longer",
        "target: embedded sandbox   outcome: completed",
        "  Baseline         2026-11-18 11:06:40  T-1 min 01 s",
        "  Respond          2026-11-18 11:07:50  T+9.0 s",
        "time to detect (MTTD)                  9.0 s",
        "time to recover (MTTR)                 20.0 s",
        "p95 latency                    100 ms",
        "2.40 s",
        "[x] p95 latency is under half a second — done (auto, 11:06:",
        "[ ] Note the normal request rate — missed",
        "Hints used\n  1. Compare p50 and p99",
        "11:07:52  reset the failures — failed: connection refused",
        "11:08:00  reset the failures — ok",
        "opened hint 1: Compare p50",
        "every request is slowed, not a few.\n",
        "Notes\n  11:07:53  checked <failures> & | the pool",
        "Signal series (signals × points): 4 × ≤ 93 (thinned 0)",
    ] {
        assert!(text.contains(part), "missing {part:?} in\n{text}");
    }
    let ru = show_text(&record, Some(&case), Lang::Ru, Clock::utc());
    for part in [
        "Задержка: каждый запрос",
        "итог: завершено",
        "[ ] Запомните обычный RPS — пропущено",
        "сброс отказов — не удалось: connection refused",
        "сброс отказов — принято",
        "p95 задержки",
    ] {
        assert!(ru.contains(part), "missing {part:?} in\n{ru}");
    }
    let gone = show_text(&record, None, Lang::En, Clock::utc());
    assert!(gone.contains("the case is no longer known"), "{gone}");
    // A version 2 record keeps its items' texts.
    assert!(
        gone.contains("[ ] Note the normal request rate — missed"),
        "{gone}"
    );
    let mut old = record.clone();
    old.record.checklist.clear();
    let gone = show_text(&old, None, Lang::En, Clock::utc());
    assert!(gone.contains("[ ] #2 — missed"), "{gone}");
}

#[test]
fn the_postmortem_follows_the_course_template_in_both_languages() {
    let record = stored(&finished_drill(START, 9.0));
    let case = latency();
    let md = to_markdown(
        &postmortem(&record, Some(&case), Lang::En, Clock::utc()),
        ChartLink::File("chart.svg"),
    );
    let order: Vec<usize> = [
        "# Postmortem: Latency: every request takes two seconds longer",
        "## Figures",
        "## Timeline",
        "## Cause",
        "## What we did",
        "## What we will change",
    ]
    .iter()
    .map(|heading| {
        md.find(heading)
            .unwrap_or_else(|| panic!("{heading} in\n{md}"))
    })
    .collect();
    assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "{md}");
    for part in [
        "| time to detect (MTTD) | 9.0 s |",
        "| time to recover (MTTR) | 20.0 s |",
        "| alerts HighLatency | never |",
        "| p95 latency | 100 ms | 2.40 s | 1.0 s | 100 ms |",
        "| 11:07:41 | T+0.0 s | fault injected: {\"latency\\_ms\":2000} |",
        "| 11:07:42 | T+1.0 s | p95 latency past its threshold (above 1.00 s) |",
        "| 11:07:50 | T+9.0 s | detection declared, seen on p95 latency |",
        "| 11:06:40 | T-1 min 01 s | phase: Baseline |",
        "Every request is delayed by a fixed amount.",
        "- T+11.0 s — reset the failures — failed: connection refused",
        "- T+19.0 s — reset the failures — ok",
        "| Baseline | Note the normal request rate | missed |",
        "| Detect | p95 latency is above one second | done (auto, T+1.0 s) |",
        "- 1. Compare p50 and p99",
        "## Chart\n\n![The case's signals over the drill, phases shaded](chart.svg)",
        "- Why did the request rate drop although the load generator kept sending?",
        "| T+12.0 s | note: checked \\<failures\\> & \\| the pool |",
    ] {
        assert!(md.contains(part), "missing {part:?} in\n{md}");
    }
    let ru = to_markdown(
        &postmortem(&record, Some(&case), Lang::Ru, Clock::utc()),
        ChartLink::File("chart.svg"),
    );
    for part in [
        "# Постмортем: Задержка",
        "## Хронология",
        "## Причина",
        "## Что сделали",
        "## Что изменим",
        "Каждый запрос задерживается на одно и то же время.",
        "| время обнаружения (MTTD) | 9.0 с |",
        "Почему упал RPS",
    ] {
        assert!(ru.contains(part), "missing {part:?} in\n{ru}");
    }
    let html = to_html(&postmortem(&record, Some(&case), Lang::Ru, Clock::utc()));
    assert!(html.contains("<html lang=\"ru\">"), "{html}");
    assert!(html.contains("<h2>Хронология</h2>"), "{html}");
    assert!(
        html.contains("checked &lt;failures&gt; &amp; | the pool"),
        "{html}"
    );
    assert!(!html.contains("<failures>"), "{html}");
}

#[test]
fn history_takes_medians_and_bests_of_the_runs_that_reached_them() {
    let runs = [
        stored(&finished_drill(START, 9.0)),
        stored(&finished_drill(START + 1000.0, 20.0)),
        stored(&finished_drill(START + 2000.0, 13.0)),
        stored(&{
            let (mut machine, _) =
                PhaseMachine::start(latency(), DrillOptions::default(), START + 3000.0);
            machine.abandon(START + 3010.0, "lunch");
            machine
        }),
    ];
    let all = histories(&runs);
    assert_eq!(all.len(), 1);
    let latency = &all[0];
    assert_eq!((latency.runs, latency.completed), (4, 3));
    assert_eq!(latency.time_to_detect.measured, 3);
    assert_eq!(latency.time_to_detect.median, Some(13.0));
    assert_eq!(latency.time_to_detect.best, Some(9.0));
    // Every signal is back 11 s after detection in every run.
    assert_eq!(latency.time_to_recover.median, Some(24.0));
    assert_eq!(latency.time_to_recover.best, Some(20.0));
    let text = super::history::history_text(&all, Lang::En);
    assert!(text.contains("latency"), "{text}");
    assert!(text.contains("13.0 s"), "{text}");
    assert!(text.contains("mean of the middle two"), "{text}");
}

#[test]
fn an_unknown_id_says_what_is_expected() {
    let runs = [stored(&finished_drill(START, 9.0))];
    assert!(find(&runs, "20261118T110640Z-latency.json").is_ok());
    let error = find(&runs, "nope").expect_err("unknown");
    assert!(
        error.contains(
            "expected an id as `gameday sessions list` shows it, such as 20261118T110640Z-latency"
        ),
        "{error}"
    );
    let error = find(&[], "nope").expect_err("none");
    assert!(error.contains("no session records yet"), "{error}");
}

#[test]
fn the_report_in_both_languages_carries_units_timeline_checklist_and_hints() {
    let record = stored(&finished_drill(START, 9.0));
    let case = latency();
    for (lang, name) in [(Lang::En, "report_en"), (Lang::Ru, "report_ru")] {
        let md = to_markdown(
            &postmortem(&record, Some(&case), lang, Clock::utc()),
            ChartLink::File("chart.svg"),
        );
        insta::assert_snapshot!(name, md);
    }
}

#[test]
fn the_chart_has_a_panel_per_signal_the_phase_bands_and_numbered_markers() {
    let record = stored(&finished_drill(START, 9.0)).record;
    let svg = chart_svg(&record, Lang::En, Clock::utc()).expect("a series");
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{svg}"
    );
    assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
    // p95 and p99 (watched and recovery signals), each with its threshold. No value came
    // between +2 s and +11 s after the detection: each line has that gap.
    assert_eq!(svg.matches("<polyline").count(), 4, "{svg}");
    assert!(svg.contains(">p99 latency</text>"), "{svg}");
    assert!(svg.contains(">p95 latency</text>"), "{svg}");
    assert!(
        svg.contains(">1.00 s</text>"),
        "threshold with its unit: {svg}"
    );
    for band in ["baseline", "fault → detection", "response", "recovery"] {
        assert!(svg.contains(&format!(">{band}</text>")), "{band}: {svg}");
    }
    // Four bands drawn: the drill reached every phase.
    assert_eq!(svg.matches("fill-opacity=\"0.15\"").count(), 4, "{svg}");
    for marker in [
        "1  T+0.0 s  11:07:41  fault injected",
        "2  T+9.0 s  11:07:50  detection declared",
        "3  T+19.0 s  11:08:00  reset the failures",
        "4  T+20.0 s  11:08:01  every signal back in its band",
    ] {
        assert!(svg.contains(marker), "{marker}: {svg}");
    }
    let ru = chart_svg(&record, Lang::Ru, Clock::utc()).expect("a series");
    assert!(ru.contains(">сбой → обнаружение</text>"), "{ru}");
    assert!(ru.contains("сбой внесён"), "{ru}");
    // A version 1 record has no series: no chart, and the report says why.
    let mut old = record.clone();
    old.drill.series = Default::default();
    assert!(chart_svg(&old, Lang::En, Clock::utc()).is_none());
}

#[test]
fn alerts_are_timed_in_the_figures_and_marked_on_the_chart() {
    let (mut machine, _) = PhaseMachine::start(latency(), DrillOptions::default(), START);
    for second in 0..60 {
        feed(&mut machine, START + f64::from(second), 0.1);
    }
    machine.tick(START + 60.0);
    let injected = START + 61.0;
    machine.injected(injected);
    for second in 1..=30 {
        feed(&mut machine, injected + f64::from(second), 2.2);
    }
    machine.alert_condition("HighLatency", injected + 18.0, Some(60.0));
    machine.declare_detection(injected + 12.0, Some(Signal::LatencyP95), None);
    machine.abandon(injected + 30.0, "stopped");
    let record = stored(&machine);
    let md = to_markdown(
        &postmortem(&record, Some(&latency()), Lang::En, Clock::utc()),
        ChartLink::DataUri,
    );
    assert!(
        md.contains(
            "| alerts HighLatency | never (condition held after 18.0 s, would fire after 1 min 18 s) |"
        ),
        "{md}"
    );
    assert!(
        md.contains("| T+18.0 s | alert condition held: HighLatency |"),
        "{md}"
    );
    let svg = chart_svg(&record.record, Lang::En, Clock::utc()).expect("a series");
    assert!(
        svg.contains("T+18.0 s  11:07:59  alert condition held: HighLatency"),
        "{svg}"
    );
    // It would fire after the drill ended: outside the chart, in the figures only.
    assert!(!svg.contains("alert fires after"), "{svg}");
    let ru = to_markdown(
        &postmortem(&record, Some(&latency()), Lang::Ru, Clock::utc()),
        ChartLink::DataUri,
    );
    assert!(ru.contains("условие выполнено через 18.0 с"), "{ru}");
}
