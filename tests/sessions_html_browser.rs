//! The HTML report opened in a real browser: Debian's `chromium`, headless, parses the page
//! `gameday sessions report ID --format html` writes (its DOM has the postmortem's headings
//! and the inline SVG chart) and draws it (a PNG of the window's size). `scripts/test.sh`
//! installs chromium when it is missing.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::sessions::{FIRST, gameday, write_records};

const CHROMIUM: &str = "/usr/bin/chromium";
/// A headless page load takes about 2 s here; a browser still running after this is stuck.
const BROWSER_LIMIT: Duration = Duration::from_secs(60);
const WINDOW: (u32, u32) = (1000, 1400);

/// The report of the first record in `lang`, written to a file; its path.
fn report(data: &Path, lang: &str) -> PathBuf {
    let file = data.join(format!("postmortem-{lang}.html"));
    let run = gameday(
        data,
        &[
            "sessions",
            "report",
            FIRST,
            "--format",
            "html",
            "--lang",
            lang,
            "--output",
            file.to_str().unwrap(),
        ],
        "C.UTF-8",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    file
}

/// Runs headless chromium with `args` then the page's URL, in its own process group and with
/// a private profile; kills the group (by its id, the browser's PID) if it overruns. Returns
/// its standard output.
fn chromium(profile: &Path, args: &[String], page: &Path) -> String {
    let output = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(output.reopen().unwrap())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("chromium runs (apt-get install chromium)");
    let deadline = Instant::now() + BROWSER_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.wait();
            panic!("chromium still running after {BROWSER_LIMIT:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "chromium: {status}");
    std::fs::read_to_string(output.path()).unwrap()
}

fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.len() > 24, "{} bytes", png.len());
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    assert_eq!(&png[12..16], b"IHDR");
    let word = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

#[test]
fn the_html_report_is_parsed_and_drawn_by_a_headless_browser() {
    let data = tempfile::tempdir().unwrap();
    write_records(data.path());
    let headings = [
        (
            "en",
            ["Timeline", "Cause", "What we did", "What we will change"],
        ),
        (
            "ru",
            ["Хронология", "Причина", "Что сделали", "Что изменим"],
        ),
    ];
    for (lang, names) in headings {
        let page = report(data.path(), lang);
        let profile = tempfile::tempdir().unwrap();
        let dom = chromium(profile.path(), &["--dump-dom".to_string()], &page);
        // The DOM as the browser built it: what it parsed, serialized again.
        assert!(dom.contains(&format!("<html lang=\"{lang}\">")), "{dom}");
        for name in names {
            assert!(
                dom.contains(&format!("<h2>{name}</h2>")),
                "{lang}: {name}\n{dom}"
            );
        }
        let svg = dom.find("<svg").expect("the inline chart in the DOM");
        assert!(dom[svg..].contains("</svg>"), "{dom}");
        assert!(
            dom[svg..].contains("<polyline") || dom[svg..].contains("<path"),
            "a drawn series: {dom}"
        );

        let png = data.path().join(format!("postmortem-{lang}.png"));
        let args = [
            format!("--screenshot={}", png.display()),
            format!("--window-size={},{}", WINDOW.0, WINDOW.1),
            "--hide-scrollbars".to_string(),
        ];
        chromium(profile.path(), &args, &page);
        let bytes = std::fs::read(&png).expect("the screenshot");
        assert_eq!(png_size(&bytes), WINDOW, "{lang}");
        // A blank page compresses to a few kilobytes; text and a chart do not.
        assert!(bytes.len() > 20_000, "{lang}: {} bytes", bytes.len());
    }
}
