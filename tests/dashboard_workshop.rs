//! The dashboard against a service shaped like the workshop's (gunicorn, 2 workers, each with
//! its own failure state, no TTL, `db_fail` stored but never read): knobs it lacks are not
//! sent, no time to live is added, and workers that disagree after a change are said to.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::time::Duration;

use support::tmux::Tmux;
use support::workshop::Workshop;

const WAIT: Duration = Duration::from_secs(20);

#[test]
fn against_the_workshop_service_inert_knobs_are_refused_and_worker_disagreement_shows() {
    let workshop = Workshop::start();
    let tmux = Tmux::start(
        &format!(
            "{} --api {} --load off --poll-interval 500ms",
            support::GAMEDAY,
            workshop.url
        ),
        200,
        50,
    );
    tmux.wait_for("the API source up", WAIT, |screen| {
        screen.contains("api ok")
    });

    // db_fail is in the state but does nothing there: shown as unavailable, never sent.
    tmux.wait_for("db_fail marked unavailable", WAIT, |screen| {
        screen.contains("db_fail") && screen.contains("(unavailable)")
    });
    tmux.keys("f");
    tmux.wait_for("the refusal", WAIT, |screen| {
        screen.contains("last: not sent: the target has none of these")
    });

    // One POST reaches one worker: alternate injecting and resetting until a read-back on new
    // connections sees the two workers disagree (each read lands on either worker).
    let mut seen = false;
    for round in 0..12 {
        tmux.keys(if round % 2 == 0 { "l" } else { "r" });
        let screen = tmux.wait_for("an answer", WAIT, |screen| {
            screen.contains("last: 200") && !screen.contains("sending:")
        });
        if screen.contains("differs between workers") {
            seen = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let screen = tmux.screen();
    assert!(seen, "no disagreement seen in 12 rounds:\n{screen}");
    // The workshop has no TTL: none was sent (the request is in the log panel).
    assert!(
        screen.contains(r#"POST /api/failures {"latency_ms":2000}"#),
        "{screen}"
    );
    assert!(!screen.contains("ttl_s"), "{screen}");
}
