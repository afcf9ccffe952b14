//! Breaking and repairing FinCore from the keyboard, end to end: the dashboard in a real
//! terminal (tmux) against a real `gameday sandbox`, each key's change checked on the service
//! itself through its own API.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::tmux::Tmux;
use support::{Api, GAMEDAY, Sandbox};

const WAIT: Duration = Duration::from_secs(15);

fn dashboard(api: &str, extra: &str) -> Tmux {
    let tmux = Tmux::start(
        &format!("{GAMEDAY} --api {api} --load off --poll-interval 500ms {extra}"),
        200,
        50,
    );
    tmux.wait_for("the API source up", WAIT, |screen| {
        screen.contains("api ok")
    });
    tmux
}

async fn failures(api: &Api) -> Value {
    let (status, body) = api.get("/api/failures").await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn wait_for_knob(api: &Api, knob: &str, expected: Value) -> Value {
    support::eventually(
        &format!("{knob} = {expected} on the service"),
        WAIT,
        || async {
            let body = failures(api).await;
            (body["current_config"][knob] == expected).then_some(body)
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_key_reaches_the_service_reads_back_and_reset_clears_everything() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    let tmux = dashboard(&sandbox.url, "--ttl 10m");

    let presses: [(&str, &[(&str, Value)]); 6] = [
        ("l", &[("latency_ms", Value::from(2000))]),
        ("e", &[("error_rate", Value::from(30))]),
        ("d", &[("db_slow", Value::Bool(true))]),
        ("m", &[("memory_leak_mb", Value::from(5))]),
        ("f", &[("db_fail", Value::Bool(true))]),
        (
            "x",
            &[
                ("latency_ms", Value::from(800)),
                ("error_rate", Value::from(10)),
                ("db_slow", Value::Bool(true)),
            ],
        ),
    ];
    for (key, knobs) in presses {
        tmux.keys(key);
        for (knob, value) in knobs {
            let body = wait_for_knob(&api, knob, value.clone()).await;
            let ttl = body["ttl_remaining_s"][knob].as_f64().unwrap_or_default();
            assert!(
                (590.0..=600.0).contains(&ttl),
                "{key}: {knob} carries the 10 min time to live, read {ttl}"
            );
        }
        // The panel shows the service's answer, and the values read back.
        tmux.wait_for("the answer on screen", WAIT, |screen| {
            screen.contains("last: 200 updated")
        });
    }
    tmux.wait_for("the chaos values read back", WAIT, |screen| {
        screen.contains("latency_ms     800") && screen.contains("error_rate     10")
    });

    tmux.keys("r");
    support::eventually("every failure cleared", WAIT, || async {
        let body = failures(&api).await;
        let config = body["current_config"].as_object().cloned()?;
        config
            .values()
            .all(|value| value == &Value::from(0) || value == &Value::Bool(false))
            .then_some(())
    })
    .await;
    tmux.wait_for("the reset read back on screen", WAIT, |screen| {
        screen.contains("reset complete") && screen.contains("none: the service is healthy")
    });
    tmux.keys("q");
    assert_eq!(tmux.wait_exit(WAIT), "0", "nothing active: q quits at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_injection_panel_sets_sizes_and_a_time_to_live_that_expires() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    let tmux = dashboard(&sandbox.url, "");
    tmux.keys("i");
    tmux.wait_for("the injection panel", WAIT, |screen| {
        screen.contains("Inject failures") && screen.contains("time to live, s")
    });
    // latency 1500 ms, error rate 20 %, then down to the time to live: 3 s.
    for key in ["1", "5", "0", "0", "Down", "2", "0"] {
        tmux.keys(key);
    }
    for _ in 0..4 {
        tmux.keys("Down");
    }
    tmux.keys("BSpace");
    tmux.keys("3");
    tmux.keys("Enter");
    let body = wait_for_knob(&api, "latency_ms", Value::from(1500)).await;
    assert_eq!(body["current_config"]["error_rate"], 20, "{body}");
    let ttl = body["ttl_remaining_s"]["latency_ms"]
        .as_f64()
        .unwrap_or_default();
    assert!(
        ttl > 0.0 && ttl <= 3.0,
        "the panel's 3 s time to live: {ttl}"
    );

    // The service ends the failure by itself, and the panel follows the read-back state.
    wait_for_knob(&api, "latency_ms", Value::from(0)).await;
    tmux.wait_for("the expiry on screen", WAIT, |screen| {
        screen.contains("none: the service is healthy")
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_with_failures_active_asks_and_resets_by_default() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);

    let tmux = dashboard(&sandbox.url, "");
    tmux.keys("l");
    wait_for_knob(&api, "latency_ms", Value::from(2000)).await;
    tmux.wait_for("the failure read back", WAIT, |screen| {
        screen.contains("latency_ms     2000")
    });
    tmux.keys("q");
    tmux.wait_for("the question", WAIT, |screen| {
        screen.contains("Reset them before quitting?")
    });
    tmux.keys("Enter");
    assert_eq!(tmux.wait_exit(WAIT), "0");
    assert_eq!(failures(&api).await["current_config"]["latency_ms"], 0);

    // `n` leaves them, and says so once the terminal is back (on stderr, kept in a file
    // here: tmux does not always show what a pane printed just before it died).
    let stderr_dir = tempfile::tempdir().expect("temporary folder");
    let stderr_file = stderr_dir.path().join("stderr");
    let tmux = dashboard(&sandbox.url, &format!("2>{}", stderr_file.display()));
    tmux.keys("e");
    wait_for_knob(&api, "error_rate", Value::from(30)).await;
    tmux.wait_for("the failure read back", WAIT, |screen| {
        screen.contains("error_rate     30")
    });
    tmux.keys("q");
    tmux.wait_for("the question", WAIT, |screen| {
        screen.contains("Reset them before quitting?")
    });
    tmux.keys("n");
    assert_eq!(tmux.wait_exit(WAIT), "0");
    let stderr = std::fs::read_to_string(&stderr_file).expect("stderr");
    assert!(
        stderr.contains("failures are still active")
            && stderr.contains("error_rate=30")
            && stderr.contains("/api/reset"),
        "{stderr}"
    );
    assert_eq!(failures(&api).await["current_config"]["error_rate"], 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_mode_hides_and_ignores_every_changing_key() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    let (status, _) = api.post("/api/failures", r#"{"latency_ms":300}"#).await;
    assert_eq!(status, 200);
    let tmux = dashboard(&sandbox.url, "--read-only");
    let screen = tmux.wait_for("the state read back", WAIT, |screen| {
        screen.contains("latency_ms     300")
    });
    assert!(screen.contains("READ-ONLY"), "{screen}");
    let key_bar = screen.lines().last().unwrap_or_default();
    assert!(
        screen.contains("?  help") && !key_bar.contains("inject") && !key_bar.contains("reset"),
        "no changing key offered: {key_bar}"
    );
    for key in ["e", "r", "x", "i", "s"] {
        tmux.keys(key);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let body = failures(&api).await;
    assert_eq!(body["current_config"]["latency_ms"], 300, "{body}");
    assert_eq!(body["current_config"]["error_rate"], 0, "{body}");
    let screen = tmux.screen();
    assert!(!screen.contains("Inject failures"), "{screen}");
    // Quitting a read-only view never asks to reset someone else's failures.
    tmux.keys("q");
    assert_eq!(tmux.wait_exit(WAIT), "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_or_unanswered_request_is_shown_and_changes_nothing() {
    let sandbox = Sandbox::start(&["--control-token", "facilitator-only"]);
    let api = Api::new(&sandbox.url);
    let tmux = dashboard(&sandbox.url, "");
    tmux.keys("l");
    let screen = tmux.wait_for("the refusal", WAIT, |screen| screen.contains("last: 401"));
    assert!(screen.contains("latency_ms     0"), "{screen}");
    assert_eq!(failures(&api).await["current_config"]["latency_ms"], 0);

    drop(sandbox);
    tmux.keys("r");
    tmux.wait_for("the failed call", WAIT, |screen| {
        screen.contains("last: connection refused")
    });
}

/// A database outage shows in the header as the API's health, degraded with the body's
/// message, within one probe period, and is logged; it clears when the database is back.
#[tokio::test]
async fn a_database_outage_shows_as_degraded_health_and_clears() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    let tmux = dashboard(&sandbox.url, "");
    tmux.wait_for("health ok", WAIT, |screen| screen.contains("health ok"));
    let (status, _) = api.post("/api/failures", r#"{"db_fail":true}"#).await;
    assert_eq!(status, 200);
    let screen = tmux.wait_for("health degraded", WAIT, |screen| {
        screen.contains("health degraded 503")
    });
    assert!(
        screen.contains("gameday: api health: degraded (503), database:"),
        "{screen}"
    );
    let (status, _) = api.post("/api/reset", "").await;
    assert_eq!(status, 200);
    tmux.wait_for("health ok again", WAIT, |screen| {
        screen.contains("health ok") && screen.contains("gameday: api health: ok (200)")
    });
    tmux.keys("q");
    assert_eq!(tmux.wait_exit(WAIT), "0");
}
