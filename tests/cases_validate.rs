//! `gameday cases` against the shipped cases and a set of broken case files: every problem is
//! reported at its file, line and column with the field and what is expected, and the exit code
//! says whether all files were valid.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cases")
}

/// Runs `gameday ARGS` in the fixtures folder with a private home (no user cases unless
/// `config_dir` has them) and the given locale; returns (exit code, stdout, stderr).
fn gameday(args: &[&str], lang: &str, config_dir: Option<&Path>) -> (i32, String, String) {
    let home = tempfile::tempdir().expect("temporary home");
    let mut command = Command::new(support::GAMEDAY);
    command
        .args(args)
        .current_dir(fixtures())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("GAMEDAY_DATA_DIR", home.path().join("data"))
        .env_remove("GAMEDAY_LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", lang);
    match config_dir {
        Some(dir) => command.env("GAMEDAY_CONFIG", dir.join("config.toml")),
        None => command.env_remove("GAMEDAY_CONFIG"),
    };
    let output = command.output().expect("gameday runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Each broken fixture and the start of the message it must produce: file:line:column: field.
const BROKEN: &[(&str, &str, &str)] = &[
    (
        "provider_fraction",
        "broken/provider_fraction.toml:15:1: injection.provider.error_rate: ",
        "field `error_rate`: expected a number from 0 to 1; got 50",
    ),
    (
        "unknown_pattern_field",
        "broken/unknown_pattern_field.toml:15:14: baseline.patterns: ",
        "unknown field `retry.tries`: expected enabled, max_attempts, base_ms, max_ms, jitter",
    ),
    (
        "threshold_string",
        "broken/threshold_string.toml:23:13: signals[0].threshold: ",
        "expected a number, found a string",
    ),
    (
        "unknown_key",
        "broken/unknown_key.toml:23:1: signals[0].treshold: ",
        "unknown key (did you mean `threshold`?)",
    ),
    (
        "unknown_signal",
        "broken/unknown_signal.toml:21:10: signals[0].signal: ",
        "`latency_p42` is not a signal; expected one of latency_p50",
    ),
    (
        "unknown_knob",
        "broken/unknown_knob.toml:14:1: injection.failures.latency_msec: ",
        "unknown key (did you mean `latency_ms`?); expected one of latency_ms, error_rate",
    ),
    (
        "knob_out_of_range",
        "broken/knob_out_of_range.toml:14:14: injection.failures.error_rate: ",
        "150 is out of range; expected 0 to 100 (percent)",
    ),
    (
        "knob_wrong_type",
        "broken/knob_wrong_type.toml:14:11: injection.failures.db_slow: ",
        "expected a boolean, found an integer",
    ),
    (
        "db_fail_without_sandbox",
        "broken/db_fail_without_sandbox.toml:14:11: injection.failures.db_fail: ",
        "works only on gameday's sandbox; expected \"sandbox\" in `requires`",
    ),
    (
        "missing_translation",
        "broken/missing_translation.toml:5:1: title: ",
        "missing key `ru`",
    ),
    (
        "untranslated",
        "broken/untranslated.toml:11:6: briefing.ru: ",
        "the same as `en`; expected a Russian translation",
    ),
    (
        "empty_alert",
        "broken/empty_alert.toml:4:11: alerts[0]: ",
        "empty; expected an alert name",
    ),
    (
        "empty_checklist",
        "broken/empty_checklist.toml:29:1: checklist.respond: ",
        "no items for `respond`; expected at least one per phase",
    ),
    (
        "bad_comparison",
        "broken/bad_comparison.toml:22:14: signals[0].comparison: ",
        "`over` is not a comparison; expected \"above\" or \"below\"",
    ),
    (
        "bad_profile",
        "broken/bad_profile.toml:17:11: load.profile: ",
        "`stedy` is not a profile: expected steady, ramp[:to=5x,over=30s], spike[:factor=5x,at=10s,for=5s], burst[:size=100,every=10s] or retry-storm",
    ),
    ("bad_toml", "broken/bad_toml.toml:18:8: ", "extra `=`"),
    (
        "bad_difficulty",
        "broken/bad_difficulty.toml:3:14: difficulty: ",
        "`trivial` is not allowed; expected one of \"easy\", \"medium\", \"hard\"",
    ),
    (
        "bad_duration",
        "broken/bad_duration.toml:34:8: recovery.hold: ",
        "`soon` is not a duration",
    ),
    (
        "unknown_recovery_signal",
        "broken/unknown_recovery_signal.toml:33:27: recovery.signals[1]: ",
        "`latency` is not a signal",
    ),
    (
        "blind_names_cause",
        "broken/blind_names_cause.toml:27:65: checklist.inject[0].blind.en: ",
        "names the cause (`latency_ms`); expected a wording without the case id",
    ),
    (
        "nothing_injected",
        "broken/nothing_injected.toml:13:1: injection: ",
        "nothing to inject; expected `failures`, `container`, `provider`",
    ),
];

#[test]
fn every_broken_case_is_reported_at_its_place_with_what_is_expected() {
    for (name, place, message) in BROKEN {
        let file = format!("broken/{name}.toml");
        let (code, stdout, stderr) = gameday(&["cases", "validate", &file], "C", None);
        assert_eq!(code, 1, "{name}: {stdout}{stderr}");
        let expected = format!("{place}{message}");
        assert!(
            stderr.contains(&expected),
            "{name}: expected\n{expected}\nin\n{stderr}"
        );
        assert!(
            stdout.contains(&format!("invalid {file}")),
            "{name}: {stdout}"
        );
    }
}

#[test]
fn every_broken_fixture_has_an_expectation() {
    let mut names: Vec<String> = std::fs::read_dir(fixtures().join("broken"))
        .expect("broken fixtures")
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".toml").map(str::to_string)
        })
        .filter(|name| name != "duplicate_id")
        .collect();
    names.sort();
    let mut expected: Vec<String> = BROKEN.iter().map(|(name, _, _)| name.to_string()).collect();
    expected.sort();
    assert_eq!(names, expected);
}

#[test]
fn all_errors_of_all_files_are_reported_together() {
    let files: Vec<String> = BROKEN
        .iter()
        .map(|(name, _, _)| format!("broken/{name}.toml"))
        .collect();
    let mut args = vec!["cases", "validate", "valid/minimal.toml"];
    args.extend(files.iter().map(String::as_str));
    let (code, stdout, stderr) = gameday(&args, "C", None);
    assert_eq!(code, 1, "{stderr}");
    for (_, place, message) in BROKEN {
        assert!(
            stderr.contains(&format!("{place}{message}")),
            "{place}: {stderr}"
        );
    }
    assert!(
        stdout.contains("ok valid/minimal.toml: minimal (easy)"),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!(
            "{} of {} case files are invalid",
            BROKEN.len(),
            BROKEN.len() + 1
        )),
        "{stderr}"
    );
}

#[test]
fn a_repeated_id_is_an_error_on_the_second_file() {
    let (code, _, stderr) = gameday(
        &[
            "cases",
            "validate",
            "valid/minimal.toml",
            "broken/duplicate_id.toml",
        ],
        "C",
        None,
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "broken/duplicate_id.toml:2:6: id: `minimal` is already the id of valid/minimal.toml"
        ),
        "{stderr}"
    );
}

#[test]
fn an_unknown_alert_is_a_warning_not_an_error() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let text = std::fs::read_to_string(fixtures().join("valid/minimal.toml")).expect("fixture");
    let text = text.replace(
        "difficulty = \"easy\"",
        "difficulty = \"easy\"\nalerts = [\"PaymentsStuck\"]",
    );
    let path = dir.path().join("custom_alert.toml");
    std::fs::write(&path, text).expect("write case");
    let path = path.to_string_lossy().into_owned();
    let (code, stdout, stderr) = gameday(&["cases", "validate", &path], "C", None);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(":4:11: warning: alerts[0]: `PaymentsStuck` is not a workshop alert"),
        "{stderr}"
    );
    assert!(
        stdout.contains("1 case file(s) valid, 1 warning(s)"),
        "{stdout}"
    );
}

#[test]
fn all_shipped_cases_validate() {
    let (code, stdout, stderr) = gameday(&["cases", "validate"], "C", None);
    assert_eq!(code, 0, "{stdout}{stderr}");
    for id in [
        "latency",
        "error-rate",
        "slow-db",
        "memory-leak",
        "chaos",
        "db-down",
        "pool-exhaustion",
        "cascade",
        "provider-timeout",
        "provider-outage",
        "rate-limit",
        "duplicate-webhook",
        "forged-webhook",
        "db-restart",
    ] {
        assert!(
            stdout.contains(&format!("ok cases/{id}.toml: {id} (")),
            "{id}: {stdout}"
        );
    }
    assert!(
        stdout.contains("14 case file(s) valid, 0 warning(s)"),
        "{stdout}"
    );
    assert_eq!(stderr, "");
}

#[test]
fn list_shows_every_case_in_the_interface_language() {
    let (code, stdout, stderr) = gameday(&["cases", "list"], "C", None);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("ID"), "{stdout}");
    assert!(
        stdout.contains("latency           easy        Latency: every request"),
        "{stdout}"
    );
    assert!(stdout.contains("pool-exhaustion   hard"), "{stdout}");
    assert_eq!(stdout.lines().count(), 15, "{stdout}");

    let (code, stdout, _) = gameday(&["cases", "list"], "ru_RU.UTF-8", None);
    assert_eq!(code, 0);
    assert!(stdout.contains("СЛОЖНОСТЬ"), "{stdout}");
    assert!(
        stdout.contains("latency           просто      Задержка: каждый запрос"),
        "{stdout}"
    );

    let (_, stdout, _) = gameday(&["cases", "list", "--lang", "en"], "ru_RU.UTF-8", None);
    assert!(
        stdout.contains("Latency: every request"),
        "the flag wins: {stdout}"
    );
    let (code, _, stderr) = gameday(&["cases", "list", "--lang", "de"], "C", None);
    assert_eq!(code, 1);
    assert!(stderr.contains("--lang: "), "{stderr}");
}

#[test]
fn show_prints_the_whole_case_in_either_language() {
    let (code, stdout, stderr) = gameday(&["cases", "show", "db-down"], "C", None);
    assert_eq!(code, 0, "{stderr}");
    for part in [
        "db-down — Database down",
        "requires: sandbox",
        "POST /api/failures {\"db_fail\":true}",
        "container stop db (instead, on a target without the sandbox)",
        "steady, 10 req/s, balance=70,transfer=20,health=10",
        "error_ratio > 0.5",
        "up < 0.5",
        "HighErrorRate",
        "Respond",
        "[auto: error_ratio < 0.01]",
        "1. The service still answers",
        "error_ratio, up back within their baseline band; tolerance 25%, hold 30s",
        "Diagnosis (blind mode)\n  The database cannot be reached",
    ] {
        assert!(stdout.contains(part), "{part}: {stdout}");
    }
    let (code, stdout, _) = gameday(&["cases", "show", "db-down", "--lang", "ru"], "C", None);
    assert_eq!(code, 0);
    for part in [
        "База недоступна",
        "Вводная",
        "Чек-лист",
        "Реакция",
        "База данных недоступна",
    ] {
        assert!(stdout.contains(part), "{part}: {stdout}");
    }
    let (code, _, stderr) = gameday(&["cases", "show", "nope"], "C", None);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no case `nope`; expected one of latency, error-rate"),
        "{stderr}"
    );
}

#[test]
fn user_cases_add_to_and_replace_the_shipped_ones() {
    let config = tempfile::tempdir().expect("config folder");
    let cases = config.path().join("cases");
    std::fs::create_dir_all(&cases).expect("cases folder");
    std::fs::write(config.path().join("config.toml"), "").expect("config file");
    let minimal = std::fs::read_to_string(fixtures().join("valid/minimal.toml")).expect("fixture");
    std::fs::write(cases.join("minimal.toml"), &minimal).expect("write");
    let replaced = minimal
        .replace("id = \"minimal\"", "id = \"latency\"")
        .replace("Minimal case", "Our own latency drill");
    std::fs::write(cases.join("latency.toml"), replaced).expect("write");

    let (code, stdout, stderr) = gameday(&["cases", "list"], "C", Some(config.path()));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("latency           easy        Our own latency drill"),
        "{stdout}"
    );
    assert!(
        stdout.contains("minimal           easy        Minimal case"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 16, "{stdout}");

    let (code, stdout, _) = gameday(&["cases", "validate"], "C", Some(config.path()));
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("16 case file(s) valid"), "{stdout}");

    // A broken file of the user's is reported and fails the command, never skipped silently.
    std::fs::write(cases.join("broken.toml"), "id = 5\n").expect("write");
    let (code, _, stderr) = gameday(&["cases", "list"], "C", Some(config.path()));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("broken.toml:1:6: id: expected a string, found an integer"),
        "{stderr}"
    );
}

/// Against the workshop-shaped service (no Docker, no Prometheus): the cases it can run are
/// ok, the one that needs a database container is refused, and what would not show is said.
#[test]
fn against_the_workshop_service_each_case_is_checked_for_what_the_target_gives() {
    let workshop = support::workshop::Workshop::with_workers(1);
    let (code, out, err) = gameday(&["cases", "validate", "--api", &workshop.url], "C", None);
    eprintln!("{out}\n{err}");
    assert_ne!(code, 0, "db-down cannot run there: {out}");
    assert!(out.contains("ok latency on this target"), "{out}");
    assert!(out.contains("ok error-rate on this target"), "{out}");
    assert!(
        out.contains("db-down: error: refused at start: case db-down needs"),
        "{out}"
    );
    assert!(
        out.contains("memory-leak: warning: signal restarts will show nothing"),
        "{out}"
    );
    assert!(err.contains("problem(s) would stop cases on"), "{err}");

    // A standalone sandbox (`gameday sandbox`) runs every case but the memory leak, whose
    // restarts need the embedded supervisor or Docker.
    let sandbox = support::Sandbox::start(&[]);
    let (code, out, _) = gameday(&["cases", "validate", "--api", &sandbox.url], "C", None);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("ok db-down on this target"), "{out}");
    assert!(out.contains("ok pool-exhaustion on this target"), "{out}");
    let errors: Vec<&str> = out.lines().filter(|l| l.contains(": error: ")).collect();
    assert_eq!(errors.len(), 1, "{out}");
    assert!(
        errors[0].starts_with("memory-leak: error: refused at start"),
        "{out}"
    );
}
