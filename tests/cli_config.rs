//! The binary against valid and invalid settings: every bad value is refused before the
//! terminal is touched, with a message naming where it came from and what is expected.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::process::Command;

fn gameday(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let home = tempfile::tempdir().expect("temporary home");
    let mut command = Command::new(support::GAMEDAY);
    command
        .args(args)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("GAMEDAY_DATA_DIR", home.path().join("data"))
        .env_remove("GAMEDAY_CONFIG");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("gameday runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/config/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Flags, environment, and what the message must say.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[test]
fn bad_flags_and_variables_name_themselves_and_what_is_expected() {
    let cases: [Case; 5] = [
        (
            &["--load", "fast"],
            &[],
            r#"--load: "fast" is not a load; expected "off" or requests per second"#,
        ),
        (
            &["--theme", "nope"],
            &[],
            "--theme: \"nope\" is not a known theme; expected one of dark, light, projector, colorblind",
        ),
        (
            &["--sandbox-listen", "0.0.0.0:5000"],
            &[],
            "is not a loopback address",
        ),
        (
            &[],
            &[("GAMEDAY_POLL_INTERVAL", "5m")],
            "GAMEDAY_POLL_INTERVAL=5m: expected a duration from 100ms to 60s",
        ),
        (
            &["--api", "localhost:5000"],
            &[],
            "--api: \"localhost:5000\" is not a URL",
        ),
    ];
    for (args, env, expected) in cases {
        let (code, stderr) = gameday(args, env);
        assert_eq!(code, 1, "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?} {env:?}: {stderr}");
    }
}

#[test]
fn a_bad_config_file_is_named_with_its_line_and_key() {
    let path = fixture("unknown_key.toml");
    let (code, stderr) = gameday(&[], &[("GAMEDAY_CONFIG", &path)]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("unknown_key.toml line 3: key `thme`: unknown key"),
        "{stderr}"
    );
    let path = fixture("bad_value.toml");
    let (code, stderr) = gameday(&[], &[("GAMEDAY_CONFIG", &path)]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("line 4: key `load`"), "{stderr}");
}

#[test]
fn key_bindings_that_cannot_work_are_named_with_their_line() {
    let path = fixture("bad_keys.toml");
    let (code, stderr) = gameday(&[], &[("GAMEDAY_CONFIG", &path)]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "bad_keys.toml line 5: key `keys.reset_failures`: l is already bound to \
             inject_latency (a default)"
        ),
        "{stderr}"
    );
    let path = fixture("unknown_action.toml");
    let (code, stderr) = gameday(&[], &[("GAMEDAY_CONFIG", &path)]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("unknown_action.toml line 3: key `keys.explode`: no such action"),
        "{stderr}"
    );
}

#[test]
fn a_valid_config_gets_as_far_as_needing_a_terminal() {
    // Everything parses; without a terminal on stdout the dashboard says so instead of
    // drawing into a pipe.
    let path = fixture("valid.toml");
    let (code, stderr) = gameday(&[], &[("GAMEDAY_CONFIG", &path)]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("the dashboard needs a terminal"),
        "{stderr}"
    );
}
