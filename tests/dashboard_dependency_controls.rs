//! The dependency's controls from the keyboard, end to end: the dashboard in a real terminal
//! (tmux) against a real `gameday sandbox` and the payment provider it starts, each change
//! read back on screen and checked on the services themselves (the provider's
//! `GET /api/failures`, the sandbox's `GET /api/patterns`).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::tmux::Tmux;
use support::{Api, GAMEDAY, Sandbox};

const WAIT: Duration = Duration::from_secs(15);

async fn provider_knob(provider: &Api, knob: &str, expected: Value) {
    support::eventually(
        &format!("{knob} = {expected} at the provider"),
        WAIT,
        || async {
            let (status, body) = provider.get("/api/failures").await;
            assert_eq!(status, 200, "{body}");
            (body["current_config"][knob] == expected).then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provider_and_the_patterns_are_changed_from_their_dialogs_and_read_back() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    let (status, discovery) = api.get("/").await;
    assert_eq!(status, 200);
    let provider_url = discovery["extensions"]["provider"]["url"]
        .as_str()
        .expect("the sandbox names its provider")
        .to_string();
    let provider = Api::new(&provider_url);
    let tmux = Tmux::start(
        &format!(
            "{GAMEDAY} --api {} --load off --poll-interval 500ms",
            sandbox.url
        ),
        // Wide enough for the whole answer in the failures panel beside the provider's panel.
        280,
        50,
    );
    // The keys show once the target has said it has a provider and patterns; their state is
    // read back before anything is changed.
    tmux.wait_for("the dependency keys and state", WAIT, |screen| {
        screen.contains("P  provider…")
            && screen.contains("b  patterns…")
            && screen.contains("provider  no failure set")
            && screen.contains("patterns  none on")
    });

    // The provider's latency one step (500 ms) up, from its dialog.
    tmux.keys("P");
    tmux.wait_for("the provider's dialog", WAIT, |screen| {
        screen.contains("Payment provider failures") && screen.contains("webhook_forged_rate")
    });
    tmux.keys("Right");
    tmux.keys("Enter");
    provider_knob(&provider, "latency_ms", Value::from(500)).await;
    tmux.wait_for("the latency read back on screen", WAIT, |screen| {
        screen.contains("provider  latency_ms 500")
            && screen.contains("the provider has latency_ms 500")
    });

    // Its error rate typed as a fraction: 0.5 (the provider's scale, not FinCore's percent).
    tmux.keys("P");
    tmux.wait_for("the provider's dialog again", WAIT, |screen| {
        screen.contains("Payment provider failures")
    });
    for key in ["Down", "0", ".", "5", "Enter"] {
        tmux.keys(key);
    }
    provider_knob(&provider, "error_rate", Value::from(0.5)).await;
    tmux.wait_for("the error rate read back on screen", WAIT, |screen| {
        screen.contains("provider  latency_ms 500 · error_rate 0.50")
    });

    // The timeout pattern switched on from its dialog; the sandbox has it.
    tmux.keys("b");
    tmux.wait_for("the patterns' dialog", WAIT, |screen| {
        screen.contains("Resilience patterns") && screen.contains("circuit_breaker")
    });
    tmux.keys("Space");
    tmux.keys("Enter");
    let patterns = support::eventually("the timeout on at the sandbox", WAIT, || async {
        let (status, body) = api.get("/api/patterns").await;
        assert_eq!(status, 200, "{body}");
        (body["config"]["timeout"]["enabled"] == true).then_some(body)
    })
    .await;
    let ms = patterns["config"]["timeout"]["ms"].as_u64().expect("ms");
    tmux.wait_for("the timeout read back on screen", WAIT, |screen| {
        screen.contains(&format!("patterns  timeout {ms} ms"))
    });

    // A change made elsewhere (curl) shows too, and is said in the log.
    let (status, body) = provider.post("/api/failures", r#"{"down": true}"#).await;
    assert_eq!(status, 200, "{body}");
    tmux.wait_for("the outside change on screen", WAIT, |screen| {
        screen.contains("error_rate 0.50 · dow")
            && screen.contains("the provider's failure state changed outside gameday: down 0 → 1")
    });

    // `O` resets the provider; the patterns stay (they are the fix, not a failure).
    tmux.keys("O");
    support::eventually("every provider knob back to 0", WAIT, || async {
        let (_, body) = provider.get("/api/failures").await;
        let config = body["current_config"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let clear = !config.is_empty()
            && config
                .values()
                .all(|value| value.as_f64() == Some(0.0) || value.as_bool() == Some(false));
        clear.then_some(())
    })
    .await;
    tmux.wait_for("the reset read back on screen", WAIT, |screen| {
        screen.contains("provider  no failure set")
            && screen.contains("the provider has no failure set")
            && screen.contains(&format!("patterns  timeout {ms} ms"))
    });
    let (_, after) = api.get("/api/patterns").await;
    assert_eq!(after["config"]["timeout"]["enabled"], true);

    tmux.keys("q");
}
