//! Hand-written files (`config.toml`, themes, cases) read by the real binary: invalid UTF-8 is
//! placed at its real line, big files are refused before they are parsed and echoed text is
//! cut, an integer too large says so, and only regular files are read from `themes/` and
//! `cases/` (a FIFO there once hung start-up). Then a bounded fuzz test of the case and config
//! parsers: no input makes them panic, and every error names its file and line.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Runs `gameday ARGS` with a private home whose config folder is `config_home`; (exit code,
/// stderr). A run that outlasts 20 s is killed and fails the test: nothing here may hang.
fn gameday(args: &[&str], config_home: &Path, env: &[(&str, &str)]) -> (i32, String) {
    let home = tempfile::tempdir().expect("temporary home");
    let mut command = Command::new(support::GAMEDAY);
    command
        .args(args)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", config_home)
        .env("GAMEDAY_DATA_DIR", home.path().join("data"))
        .env_remove("GAMEDAY_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("gameday runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("gameday {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A config folder `gameday/` with `config.toml` holding `text`.
fn config_home(text: &[u8]) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("config home");
    let dir = home.path().join("gameday");
    std::fs::create_dir_all(&dir).expect("config folder");
    std::fs::write(dir.join("config.toml"), text).expect("config.toml");
    home
}

fn shipped_case() -> String {
    std::fs::read_to_string(format!("{}/cases/latency.toml", env!("CARGO_MANIFEST_DIR")))
        .expect("a shipped case")
}

#[test]
fn invalid_utf8_is_reported_at_its_real_line() {
    // Line 40 of a config file.
    let mut text = "# a comment\n".repeat(39).into_bytes();
    text.extend_from_slice(b"theme = \"d\xffrk\"\n");
    let home = config_home(&text);
    let (code, stderr) = gameday(&["cases", "list"], home.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("config.toml line 40 column 11: not UTF-8; expected UTF-8 text"),
        "{stderr}"
    );

    // Line 40 of a case file.
    let dir = tempfile::tempdir().expect("tempdir");
    let case = dir.path().join("bad.toml");
    let mut lines: Vec<String> = shipped_case().lines().map(str::to_string).collect();
    lines[39] = format!("{} ", lines[39]);
    let mut bytes = lines[..39].join("\n").into_bytes();
    bytes.extend_from_slice(b"\n# caf\xe9\n");
    bytes.extend_from_slice(lines[39..].join("\n").as_bytes());
    std::fs::write(&case, bytes).expect("case");
    let path = case.display().to_string();
    let (code, stderr) = gameday(&["cases", "validate", &path], dir.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("{path}:40:6: not UTF-8; expected UTF-8 text")),
        "{stderr}"
    );
}

#[test]
fn big_files_are_refused_unparsed_and_echoed_keys_and_values_are_cut() {
    // A 10 MB key: refused by its size, without echoing it.
    let huge = format!("{} = 1\n", "k".repeat(10_000_000));
    let home = config_home(huge.as_bytes());
    let (code, stderr) = gameday(&["cases", "list"], home.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("config.toml: 10000005 bytes, over the 1024 KiB"),
        "{stderr}"
    );
    assert!(stderr.len() < 300, "{} bytes of message", stderr.len());

    // Under the size cap, a long key and a long value are echoed cut.
    let long_key = format!("{} = 1\n", "k".repeat(500_000));
    let home = config_home(long_key.as_bytes());
    let (code, stderr) = gameday(&["cases", "list"], home.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("line 1: key `kkkk"), "{stderr}");
    assert!(stderr.contains("…`: unknown key"), "{stderr}");
    assert!(stderr.len() < 600, "{} bytes of message", stderr.len());
    let long_value = format!("theme = \"{}\"\n", "v".repeat(500_000));
    let home = config_home(long_value.as_bytes());
    let (code, stderr) = gameday(&["cases", "list"], home.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("line 1: key `theme`: \"vvvv"), "{stderr}");
    assert!(stderr.len() < 600, "{} bytes of message", stderr.len());
    // A flag's value too.
    let (code, stderr) = gameday(&["--load", &"9".repeat(100_000)], home.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.len() < 600, "{} bytes of message", stderr.len());
}

#[test]
fn an_integer_too_large_says_so() {
    let home = config_home(b"poll_interval = 100000000000000000000000\n");
    let (code, stderr) = gameday(&["cases", "list"], home.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("found 100000000000000000000000, an integer too large for one"),
        "{stderr}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let case = dir.path().join("big.toml");
    let text = shipped_case().replace("rate = 5\n", "clients = 100000000000000000000000\n");
    std::fs::write(&case, text).expect("case");
    let path = case.display().to_string();
    let (code, stderr) = gameday(&["cases", "validate", &path], dir.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "load.clients: expected an integer, found 100000000000000000000000, an integer too large for one"
        ),
        "{stderr}"
    );
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

#[test]
fn a_fifo_among_themes_or_cases_is_refused_not_waited_on() {
    let home = config_home(b"");
    let themes = home.path().join("gameday/themes");
    std::fs::create_dir_all(&themes).expect("themes");
    mkfifo(&themes.join("stuck.toml"));
    let (code, stderr) = gameday(&["cases", "list"], home.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "stuck.toml: not a regular file (a FIFO, socket, device or folder); not read"
        ),
        "{stderr}"
    );

    let home = config_home(b"");
    let cases = home.path().join("gameday/cases");
    std::fs::create_dir_all(&cases).expect("cases");
    mkfifo(&cases.join("stuck.toml"));
    let (code, stderr) = gameday(&["cases", "validate"], home.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("stuck.toml:1:1: not a regular file"),
        "{stderr}"
    );
}

/// One random change of `text`: a byte flipped, inserted or removed, a line repeated or
/// dropped, a token of TOML put somewhere, or the text cut short.
fn mutate(text: &[u8], rng: &mut StdRng) -> Vec<u8> {
    const TOKENS: [&[u8]; 16] = [
        b"=",
        b"\"",
        b"[",
        b"]",
        b"[[",
        b"{",
        b"}",
        b"\n",
        b"#",
        b"1e23",
        b"-1",
        b"100000000000000000000000",
        b"nan",
        b"\xff",
        b"\"\"\"",
        b"a.b.c",
    ];
    let mut out = text.to_vec();
    if out.is_empty() {
        return TOKENS[rng.random_range(0..TOKENS.len())].to_vec();
    }
    let at = rng.random_range(0..out.len());
    match rng.random_range(0..7) {
        0 => out[at] = rng.random(),
        1 => out.insert(at, rng.random()),
        2 => {
            out.remove(at);
        }
        3 => {
            let token = TOKENS[rng.random_range(0..TOKENS.len())];
            out.splice(at..at, token.iter().copied());
        }
        4 => out.truncate(at),
        5 => {
            let end = out[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(out.len(), |n| at + n + 1);
            let line = out[at..end].to_vec();
            out.splice(at..at, line);
        }
        _ => {
            let end = out[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(out.len(), |n| at + n + 1);
            out.drain(at..end);
        }
    }
    out
}

/// At most this many inputs per parser, and at most this long in all: bounded in CI.
const FUZZ_CASES: usize = 4000;
const FUZZ_TIME: Duration = Duration::from_secs(20);

#[test]
fn the_case_and_config_parsers_never_panic_and_every_error_names_file_and_line() {
    let mut rng = StdRng::seed_from_u64(0x6a6d_6461_7921);
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");

    // Cases, through the reader the library and `cases validate` use.
    let seed = shipped_case().into_bytes();
    let mut text = seed.clone();
    let case_path = dir.path().join("fuzz.toml");
    let mut case_runs = 0;
    while case_runs < FUZZ_CASES && started.elapsed() < FUZZ_TIME / 2 {
        // Mostly one to three changes from the seed, sometimes piling up.
        if rng.random_range(0..4) == 0 {
            text = seed.clone();
        }
        for _ in 0..rng.random_range(1..4) {
            text = mutate(&text, &mut rng);
        }
        std::fs::write(&case_path, &text).expect("write case");
        let reports = std::panic::catch_unwind(|| {
            gameday::drill::library::check_files(std::slice::from_ref(&case_path))
        })
        .unwrap_or_else(|_| panic!("panicked on:\n{}", String::from_utf8_lossy(&text)));
        for problem in reports.iter().flat_map(|report| &report.problems) {
            assert!(problem.file.ends_with("fuzz.toml"), "{problem}");
            assert!(problem.line >= 1 && problem.column >= 1, "{problem}");
            assert!(problem.message.chars().count() <= 301, "{problem}");
        }
        case_runs += 1;
    }

    // Config files, through the loader every subcommand uses.
    let seed = std::fs::read(format!(
        "{}/tests/fixtures/config/valid.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the valid fixture");
    std::fs::copy(
        format!(
            "{}/tests/fixtures/config/ca.pem",
            env!("CARGO_MANIFEST_DIR")
        ),
        dir.path().join("ca.pem"),
    )
    .expect("ca.pem beside it");
    let config_path = dir.path().join("config.toml");
    let mut text = seed.clone();
    let mut config_runs = 0;
    let no_env = |_: &str| None;
    while config_runs < FUZZ_CASES && started.elapsed() < FUZZ_TIME {
        if rng.random_range(0..4) == 0 {
            text = seed.clone();
        }
        for _ in 0..rng.random_range(1..4) {
            text = mutate(&text, &mut rng);
        }
        std::fs::write(&config_path, &text).expect("write config");
        let outcome = std::panic::catch_unwind(|| {
            gameday::config::load(
                Some(&config_path),
                &no_env,
                &gameday::config::SettingsOverrides::default(),
            )
        })
        .unwrap_or_else(|_| panic!("panicked on:\n{}", String::from_utf8_lossy(&text)));
        if let Err(error) = outcome {
            let message = error.to_string();
            assert!(message.contains("config.toml line "), "{message}");
            assert!(message.chars().count() < 1000, "{message}");
        }
        config_runs += 1;
    }
    eprintln!(
        "fuzzed {case_runs} case files and {config_runs} config files in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(case_runs >= 100 && config_runs >= 100);
}
