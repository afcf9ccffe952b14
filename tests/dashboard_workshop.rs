//! The dashboard against a service shaped like the workshop's (gunicorn, 2 workers, each with
//! its own failure state, no TTL, `db_fail` stored but never read): knobs it lacks are not
//! sent, no time to live is added, and a change is sent again on new connections until every
//! worker has it.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::time::Duration;

use support::tmux::Tmux;
use support::workshop::Workshop;

const WAIT: Duration = Duration::from_secs(20);

/// The dashboard against `workshop`, its metrics scraped every 500 ms.
fn dashboard(workshop: &Workshop, load: &str) -> Tmux {
    Tmux::start(
        &format!(
            "{} --api {} {load} --poll-interval 500ms",
            support::GAMEDAY,
            workshop.url
        ),
        200,
        50,
    )
}

#[test]
fn against_the_workshop_service_inert_knobs_are_refused_and_changes_reach_every_worker() {
    let workshop = Workshop::start();
    let tmux = dashboard(&workshop, "--load off");
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

    // One POST reaches one worker: the dashboard sends again, on new connections, until every
    // read agrees. Then any new connection, on either worker, shows the change.
    let screen = press_until_every_worker(&tmux, &workshop, "l", "POST /api/failures", 2000);
    // The workshop has no TTL: none was sent (the request is in the log panel).
    assert!(
        screen.contains(r#"POST /api/failures {"latency_ms":2000}"#),
        "{screen}"
    );
    assert!(!screen.contains("ttl_s"), "{screen}");
    press_until_every_worker(&tmux, &workshop, "r", "POST /api/reset → 200", 0);
}

/// Presses `key` and waits for its answer, then asks 20 new connections whether every worker
/// has `latency_ms` = `expected`. One press nearly always reaches both workers (the change is
/// sent four at a time and read back sixteen times); which worker accepts a connection is not
/// fair, so a second press is allowed, never a third.
fn press_until_every_worker(
    tmux: &Tmux,
    workshop: &Workshop,
    key: &str,
    answer: &str,
    expected: i64,
) -> String {
    for press in 1..=2 {
        let before = tmux.screen().matches(answer).count();
        tmux.keys(key);
        let screen = tmux.wait_for("the answer", WAIT, |screen| {
            screen.matches(answer).count() > before && !screen.contains("sending:")
        });
        let reads = workshop.fresh_failure_reads(20);
        if reads.iter().all(|config| config["latency_ms"] == expected) {
            return screen;
        }
        eprintln!("press {press} of {key} left a worker behind: {reads:?}");
    }
    panic!("two presses of {key} did not reach every worker");
}

/// Two gunicorn workers keep two sets of counters and each scrape sees one: the traffic and
/// latency panels say the rates are added per process, and the log says why.
#[test]
fn two_workers_behind_one_address_are_flagged_on_the_panels() {
    let workshop = Workshop::start();
    let tmux = dashboard(&workshop, "--load 4");
    let screen = tmux.wait_for("the processes warning", Duration::from_secs(40), |screen| {
        screen.contains("2 processes, each scrape sees one: rates added per process")
    });
    assert!(
        screen.contains("gameday: 2 processes answer behind the API's address"),
        "{screen}"
    );
}

/// In Prometheus mode with 2 workers, Prometheus's scrapes reach either worker (its interval
/// outlasts gunicorn's 2 s keep-alive, as the workshop's 5–15 s do): the panels say its rates
/// are not reliable. When the service stops, the header says Prometheus has lost the target.
#[test]
fn in_prometheus_mode_two_workers_are_flagged_and_a_lost_target_is_shown() {
    let workshop = Workshop::start();
    let target = workshop.url.trim_start_matches("http://").to_string();
    let prometheus = support::Prometheus::start_every(&target, "groups: []\n", "3s");
    let tmux = Tmux::start(
        &format!(
            "{} --api {} --prometheus {} --load 4 --poll-interval 1s",
            support::GAMEDAY,
            workshop.url,
            prometheus.url
        ),
        200,
        50,
    );
    let screen = tmux.wait_for("the processes warning", Duration::from_secs(90), |screen| {
        screen.contains("several processes behind the target, each scrape sees one")
    });
    assert!(
        screen.contains("gameday: several processes answer"),
        "{screen}"
    );
    assert!(!screen.contains("target down"), "{screen}");
    drop(workshop);
    tmux.wait_for("the lost target", Duration::from_secs(30), |screen| {
        screen.contains("target down (up = 0)")
            && screen.contains("Prometheus cannot scrape the FinCore target")
    });
}

/// One worker: no warning, however long it runs.
#[test]
fn one_worker_is_not_flagged() {
    let workshop = Workshop::with_workers(1);
    let tmux = dashboard(&workshop, "--load 4");
    tmux.wait_for("the API source up", WAIT, |screen| {
        screen.contains("api ok")
    });
    std::thread::sleep(Duration::from_secs(10));
    let screen = tmux.screen();
    assert!(
        !screen.contains("processes, each scrape sees one"),
        "{screen}"
    );
}
