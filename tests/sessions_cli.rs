//! `gameday sessions` and `gameday cases runbook` as a person runs them: records written the
//! way the dashboard writes them (`write_record` of a `SessionRecord` from a phase machine,
//! driven here with scripted samples instead of a live target), then the binary with a
//! private home and data folder, in English and Russian.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::path::Path;
use std::process::Command;

use support::sessions::{FIRST, assert_contains, gameday, write_records};

#[test]
fn list_and_show_read_the_records_back() {
    let data = tempfile::tempdir().unwrap();
    write_records(data.path());

    let list = gameday(data.path(), &["sessions", "list"], "C.UTF-8");
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list.stderr.contains("skipped"), "{}", list.stderr);
    assert!(list.stderr.contains("notes.json"), "{}", list.stderr);
    let lines: Vec<&str> = list.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", list.stdout);
    assert!(
        lines[1].starts_with("20261118T114000Z-slow-db"),
        "newest first: {}",
        list.stdout
    );
    assert!(
        lines[1].contains("2026-11-18 11:40  abandoned"),
        "{}",
        list.stdout
    );
    assert!(
        lines[2].starts_with("20261118T112320Z-latency"),
        "{}",
        list.stdout
    );
    assert!(lines[3].starts_with(FIRST), "{}", list.stdout);
    assert!(
        lines[3].contains("2026-11-18 11:06  completed"),
        "{}",
        list.stdout
    );
    assert!(lines[3].contains("9.0 s"), "{}", list.stdout);
    assert!(lines[3].trim_end().ends_with("20.0 s"), "{}", list.stdout);

    let ru = gameday(data.path(), &["sessions", "list"], "ru_RU.UTF-8");
    assert_eq!(ru.code, 0, "{}", ru.stderr);
    assert_contains(&ru.stdout, &["СЛУЧАЙ", "завершено", "прервано", "9.0 с"]);

    let show = gameday(data.path(), &["sessions", "show", FIRST], "C.UTF-8");
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert_contains(
        &show.stdout,
        &[
            "Latency: every request takes two seconds longer",
            "outcome: completed",
            "Phases",
            "Review",
            "time to detect (MTTD)",
            "p95 latency",
            "2.40 s",
            "[x] p95 latency is under half a second — done (auto",
            "[ ] Note the normal request rate — missed",
            "Hints used\n  2. Errors are flat",
            "reset the failures — ok",
            "looked at <the pool> & the failures",
        ],
    );
    let show_ru = gameday(
        data.path(),
        &["sessions", "show", &format!("{FIRST}.json"), "--lang", "ru"],
        "C.UTF-8",
    );
    assert_eq!(show_ru.code, 0, "{}", show_ru.stderr);
    assert_contains(
        &show_ru.stdout,
        &[
            "Задержка",
            "пропущено",
            "сброс отказов — принято",
            "Заметки",
        ],
    );
}

#[test]
fn a_report_is_a_postmortem_in_markdown_or_html() {
    let data = tempfile::tempdir().unwrap();
    write_records(data.path());

    let md = gameday(data.path(), &["sessions", "report", FIRST], "C.UTF-8");
    assert_eq!(md.code, 0, "{}", md.stderr);
    assert_contains(
        &md.stdout,
        &[
            "# Postmortem: Latency: every request takes two seconds longer",
            "## Timeline",
            "| 11:07:50 | T+9.0 s | detection declared, seen on p95 latency |",
            "## Cause\n\nEvery request is delayed by a fixed amount.",
            "## What we did",
            "- T+19.0 s — reset the failures — ok",
            "## What we will change",
            "- Which dashboard panel would you look at first next time?",
            "| time to recover (MTTR) | 20.0 s |",
        ],
    );

    let file = data.path().join("postmortem.html");
    let html = gameday(
        data.path(),
        &[
            "sessions",
            "report",
            FIRST,
            "--format",
            "html",
            "--lang",
            "ru",
            "--output",
            file.to_str().unwrap(),
        ],
        "C.UTF-8",
    );
    assert_eq!(html.code, 0, "{}", html.stderr);
    assert!(html.stdout.is_empty(), "{}", html.stdout);
    let page = std::fs::read_to_string(&file).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert_contains(
        &page,
        &[
            "<html lang=\"ru\">",
            "<style>",
            "<h2>Хронология</h2>",
            "<h2>Причина</h2>",
            "<h2>Что сделали</h2>",
            "<h2>Что изменим</h2>",
            "looked at &lt;the pool&gt; &amp; the failures",
        ],
    );
    assert!(!page.contains("<the pool>"), "escaped: {page}");
}

#[test]
fn history_gives_medians_and_bests_per_case() {
    let data = tempfile::tempdir().unwrap();
    write_records(data.path());

    let all = gameday(data.path(), &["sessions", "history"], "C.UTF-8");
    assert_eq!(all.code, 0, "{}", all.stderr);
    let latency = all
        .stdout
        .lines()
        .find(|line| line.starts_with("latency"))
        .unwrap_or_else(|| panic!("{}", all.stdout));
    // MTTD 9 and 20 s: the median of two is their mean; MTTR 20 and 31 s.
    let cells: Vec<&str> = latency
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cells,
        ["latency", "2", "2", "14.5 s", "9.0 s", "25.5 s", "20.0 s"],
        "{}",
        all.stdout
    );
    assert!(all.stdout.contains("slow-db"), "{}", all.stdout);
    assert!(
        all.stdout.contains("mean of the middle two"),
        "{}",
        all.stdout
    );

    let one = gameday(
        data.path(),
        &["sessions", "history", "latency", "--lang", "ru"],
        "C.UTF-8",
    );
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert_contains(&one.stdout, &["ЗАПУСКИ", "MTTD медиана", "14.5 с", FIRST]);
    assert!(!one.stdout.contains("slow-db"), "{}", one.stdout);

    let none_yet = gameday(data.path(), &["sessions", "history", "chaos"], "C.UTF-8");
    assert_eq!(none_yet.code, 0, "{}", none_yet.stderr);
    assert!(
        none_yet.stdout.contains("no session records yet"),
        "{}",
        none_yet.stdout
    );
}

#[test]
fn bad_input_says_what_is_expected_and_fails() {
    let data = tempfile::tempdir().unwrap();
    write_records(data.path());

    let unknown = gameday(data.path(), &["sessions", "show", "nope"], "C.UTF-8");
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("no session `nope`; expected an id as `gameday sessions list` shows it, such as 20261118T114000Z-slow-db"),
        "{}",
        unknown.stderr
    );
    let report = gameday(data.path(), &["sessions", "report", "nope"], "C.UTF-8");
    assert_eq!(report.code, 1, "{}", report.stderr);

    let format = gameday(
        data.path(),
        &["sessions", "report", FIRST, "--format", "pdf"],
        "C.UTF-8",
    );
    assert_ne!(format.code, 0);
    assert!(
        format.stderr.contains("[possible values: md, html]"),
        "{}",
        format.stderr
    );

    let lang = gameday(
        data.path(),
        &["sessions", "list", "--lang", "de"],
        "C.UTF-8",
    );
    assert_ne!(lang.code, 0);
    assert!(
        lang.stderr.contains(r#"expected "en" or "ru""#),
        "{}",
        lang.stderr
    );

    let case = gameday(data.path(), &["sessions", "history", "nope"], "C.UTF-8");
    assert_eq!(case.code, 1);
    assert!(
        case.stderr.contains("no case `nope`; expected one of"),
        "{}",
        case.stderr
    );

    let empty = tempfile::tempdir().unwrap();
    let nothing = gameday(empty.path(), &["sessions", "list"], "C.UTF-8");
    assert_eq!(nothing.code, 0, "{}", nothing.stderr);
    assert_eq!(nothing.stdout, "no session records yet\n");
    let nothing = gameday(empty.path(), &["sessions", "show", "x"], "C.UTF-8");
    assert_eq!(nothing.code, 1);
    assert!(
        nothing.stderr.contains("there are no session records yet"),
        "{}",
        nothing.stderr
    );
}

#[test]
fn a_case_becomes_a_runbook() {
    let data = tempfile::tempdir().unwrap();
    let en = gameday(data.path(), &["cases", "runbook", "slow-db"], "C.UTF-8");
    assert_eq!(en.code, 0, "{}", en.stderr);
    assert_contains(
        &en.stdout,
        &[
            "# Runbook: ",
            "## What it looks like",
            "## How to confirm",
            "## What to do",
            "## How to know it is over",
            "## Questions for the debrief",
        ],
    );
    let ru = gameday(data.path(), &["cases", "runbook", "latency"], "ru_RU.UTF-8");
    assert_eq!(ru.code, 0, "{}", ru.stderr);
    assert_contains(
        &ru.stdout,
        &["# Ранбук: ", "## Что делать", "p95 задержки выше 1.00 с"],
    );
    let unknown = gameday(data.path(), &["cases", "runbook", "nope"], "C.UTF-8");
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("no case `nope`; expected one of"),
        "{}",
        unknown.stderr
    );
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.len() > 24, "{} bytes", png.len());
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    assert_eq!(&png[12..16], b"IHDR");
    let word = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

/// `width="W" height="H"` of the SVG's root element.
fn svg_size(svg: &str) -> (u32, u32) {
    let root = &svg[svg.find("<svg").unwrap()..];
    let root = &root[..root.find('>').unwrap()];
    let attribute = |name: &str| -> u32 {
        let start = root.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        root[start..].split('"').next().unwrap().parse().unwrap()
    };
    (attribute("width"), attribute("height"))
}

/// `rsvg-convert` (Debian's librsvg2-bin) renders `svg` to a PNG of the SVG's own size: it
/// fails on SVG that is not well-formed.
fn assert_renders(svg_file: &Path) {
    let png = svg_file.with_extension("png");
    let output = Command::new("rsvg-convert")
        .arg("-o")
        .arg(&png)
        .arg(svg_file)
        .output()
        .expect("rsvg-convert runs (apt-get install librsvg2-bin)");
    assert!(
        output.status.success(),
        "rsvg-convert: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let svg = std::fs::read_to_string(svg_file).unwrap();
    assert_eq!(png_size(&std::fs::read(&png).unwrap()), svg_size(&svg));
}

#[test]
fn the_report_chart_is_well_formed_svg_that_renders() {
    let data = tempfile::tempdir().unwrap();
    write_records(data.path());
    for lang in ["en", "ru"] {
        // Markdown to a file: the chart is a file beside it, linked by its name.
        let report = data.path().join(format!("report-{lang}.md"));
        let md = gameday(
            data.path(),
            &[
                "sessions",
                "report",
                FIRST,
                "--lang",
                lang,
                "--output",
                report.to_str().unwrap(),
            ],
            "C.UTF-8",
        );
        assert_eq!(md.code, 0, "{}", md.stderr);
        let text = std::fs::read_to_string(&report).unwrap();
        assert!(text.contains(&format!("](report-{lang}.svg)")), "{text}");
        let chart = data.path().join(format!("report-{lang}.svg"));
        assert_renders(&chart);
        let (width, height) = svg_size(&std::fs::read_to_string(&chart).unwrap());
        assert_eq!(width, 760);
        assert!(height > 300, "two panels and a legend: {height}");

        // HTML: the same chart inline.
        let html = gameday(
            data.path(),
            &[
                "sessions", "report", FIRST, "--format", "html", "--lang", lang,
            ],
            "C.UTF-8",
        );
        assert_eq!(html.code, 0, "{}", html.stderr);
        let start = html.stdout.find("<svg").expect("inline svg");
        let end = html.stdout.find("</svg>").expect("closed") + "</svg>".len();
        let inline = data.path().join(format!("inline-{lang}.svg"));
        std::fs::write(&inline, &html.stdout[start..end]).unwrap();
        assert_renders(&inline);
    }
    // To the standard output, the chart is inside the Markdown as a data URI.
    let stdout = gameday(data.path(), &["sessions", "report", FIRST], "C.UTF-8");
    assert_eq!(stdout.code, 0, "{}", stdout.stderr);
    assert!(
        stdout.stdout.contains("](data:image/svg+xml;base64,PHN2Zy"),
        "{}",
        stdout.stdout
    );
}

#[test]
fn a_version_1_record_still_lists_shows_and_reports() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sessions/v1");
    let list = gameday(&fixture, &["sessions", "list"], "C.UTF-8");
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list.stderr.is_empty(), "{}", list.stderr);
    assert!(
        list.stdout
            .contains(&format!("{FIRST}  latency  2026-11-18 11:06  completed")),
        "{}",
        list.stdout
    );
    let show = gameday(&fixture, &["sessions", "show", FIRST], "C.UTF-8");
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert_contains(
        &show.stdout,
        &[
            "time to detect (MTTD)",
            "9.0 s",
            "[ ] Note the normal request rate — missed",
        ],
    );
    let report = gameday(
        &fixture,
        &["sessions", "report", FIRST, "--lang", "ru"],
        "C.UTF-8",
    );
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert_contains(
        &report.stdout,
        &[
            "## Хронология",
            "## График",
            "В этой записи нет рядов сигналов",
            "| Обнаружение | p95 задержки выше одной секунды | выполнено (авто, T+1.0 с) |",
            "- 2. ",
        ],
    );
    assert!(!report.stdout.contains("data:image"), "{}", report.stdout);
}
