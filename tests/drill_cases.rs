//! Every shipped case end to end against a real `gameday sandbox`, with short baseline and hold
//! times: the drill injects, the participant declares and resets, and the record's figures agree
//! with what the service itself logged (the injection and the reset) to within one poll.
//! memory-leak, which needs restarts, runs on the embedded default instead.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::tmux::Tmux;
use support::{GAMEDAY, Sandbox};

const POLL_S: f64 = 0.5;
const WAIT: Duration = Duration::from_secs(90);

/// The sandbox's own time for its first `failure_change` of `action`, in Unix seconds.
fn logged_at(sandbox: &Sandbox, action: &str) -> f64 {
    let line = sandbox
        .log_lines()
        .into_iter()
        .find(|line| line["event"] == "failure_change" && line["action"] == action)
        .unwrap_or_else(|| panic!("no {action} in the sandbox's log"));
    let stamp = line["timestamp"].as_str().expect("timestamp");
    let parsed = chrono::DateTime::parse_from_rfc3339(stamp).expect("RFC 3339 timestamp");
    parsed.timestamp_micros() as f64 / 1e6
}

const SHORT_PHASES: &str = "--baseline 5s --recover-hold 5s --poll-interval 500ms";

/// Declares, answers and resets at once, waits for the review and quits; the saved record.
fn drive(tmux: &Tmux, case: &str) -> Value {
    tmux.begin_drill();
    tmux.wait_for("the fault injected", WAIT, |screen| {
        screen.contains("since the fault")
    });
    tmux.keys("Enter");
    tmux.wait_for("the detection question", WAIT, |screen| {
        screen.contains("What told you?")
    });
    tmux.keys("Enter");
    tmux.wait_for("the Respond phase", WAIT, |screen| {
        screen.contains("fix it: r resets failures")
    });
    tmux.keys("r");
    tmux.wait_for("the review", Duration::from_secs(120), |screen| {
        screen.contains("time to recover (MTTR)")
    });
    tmux.keys("q");
    assert_eq!(tmux.wait_exit(WAIT), "0");

    let sessions = tmux.home().join("data/sessions");
    let path = std::fs::read_dir(&sessions)
        .expect("sessions folder")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|path| path.extension().is_some_and(|ext| ext == "json"))
        .expect("a record");
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("record")).expect("JSON");
    assert_eq!(record["case_id"], case);
    assert_eq!(record["outcome"], "completed", "{record}");
    record
}

fn run_case(case: &str) {
    let sandbox = Sandbox::start(&[]);
    let tmux = Tmux::start(
        &format!(
            "{GAMEDAY} drill {case} --api {} {SHORT_PHASES}",
            sandbox.url
        ),
        200,
        50,
    );
    let record = drive(&tmux, case);
    let drill = &record["drill"];

    // The fault's time is the answer to the injection: the service logged it just before.
    let injected = drill["injected_at"].as_f64().expect("injected_at");
    let service_injected = logged_at(&sandbox, "inject");
    assert!(
        (injected - service_injected).abs() <= POLL_S,
        "{case}: injected at {injected}, the service says {service_injected}"
    );
    // The reset as the participant's action, at the service's time.
    let reset = &drill["actions"][0];
    assert_eq!(reset["kind"], "failure_reset", "{case}: {drill}");
    let reset_at = reset["at"].as_f64().expect("reset time");
    let service_reset = logged_at(&sandbox, "reset");
    assert!(
        (reset_at - service_reset).abs() <= POLL_S,
        "{case}: reset at {reset_at}, the service says {service_reset}"
    );
    // Recovery is measured after the reset, and the figures are its differences.
    let recovered = drill["recovered_at"].as_f64().expect("recovered_at");
    assert!(recovered >= reset_at, "{case}: recovered before the reset");
    let figures = &record["figures"];
    let mttr = figures["time_to_recover"].as_f64().expect("MTTR");
    assert!((mttr - (recovered - injected)).abs() < 1e-6);
    let first_action = figures["time_to_first_action"]
        .as_f64()
        .expect("first action");
    assert!((first_action - (reset_at - injected)).abs() < 1e-6);
    let detected = drill["detection"]["at"].as_f64().expect("detection");
    let mttd = figures["time_to_detect"].as_f64().expect("MTTD");
    assert!((mttd - (detected - injected)).abs() < 1e-6);
    eprintln!("{case}: MTTD {mttd:.1} s, first action {first_action:.1} s, MTTR {mttr:.1} s");
}

#[test]
fn latency() {
    run_case("latency");
}

#[test]
fn error_rate() {
    run_case("error-rate");
}

#[test]
fn slow_db() {
    run_case("slow-db");
}

/// memory-leak watches restarts, which a standalone sandbox cannot show (no supervisor, no
/// limit): refused there with the reason, it runs on the embedded default.
#[test]
fn memory_leak() {
    let sandbox = Sandbox::start(&[]);
    let refused = Tmux::start(
        &format!(
            "{GAMEDAY} drill memory-leak --api {} {SHORT_PHASES}",
            sandbox.url
        ),
        200,
        50,
    );
    refused.begin_drill();
    refused.wait_for("the refusal", WAIT, |screen| {
        screen.contains("needs a memory limit and restarts")
    });
    refused.keys("q");
    refused.wait_exit(WAIT);
    assert!(
        !sandbox
            .log_lines()
            .iter()
            .any(|line| line["event"] == "failure_change"),
        "a refused drill changed the failures"
    );

    let tmux = Tmux::start(
        &format!("{GAMEDAY} drill memory-leak {SHORT_PHASES}"),
        200,
        50,
    );
    let record = drive(&tmux, "memory-leak");
    let drill = &record["drill"];
    let injected = drill["injected_at"].as_f64().expect("injected_at");
    let reset_at = drill["actions"][0]["at"].as_f64().expect("reset time");
    let recovered = drill["recovered_at"].as_f64().expect("recovered_at");
    assert!(recovered >= reset_at, "recovered before the reset");
    let mttr = record["figures"]["time_to_recover"].as_f64().expect("MTTR");
    assert!((mttr - (recovered - injected)).abs() < 1e-6);
    eprintln!("memory-leak (embedded): MTTR {mttr:.1} s");
}

#[test]
fn chaos() {
    run_case("chaos");
}

#[test]
fn db_down() {
    run_case("db-down");
}

#[test]
fn pool_exhaustion() {
    run_case("pool-exhaustion");
}
