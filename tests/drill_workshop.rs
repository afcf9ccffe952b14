//! The latency drill against the workshop-shaped service (gunicorn + Flask + PostgreSQL) with
//! 1 and with 2 workers, at a participant's pace: seconds to notice, to answer, to act. While
//! it runs, a watcher asks the service every half second on a new connection: it must always
//! answer within 5 s (the drill's load must never keep it from answering a reset).
//!
//! With 2 workers each scrape of `/metrics` sees one worker's histograms; the scrape source
//! tells them apart by their start time, so the figures settle and the drill recovers too.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use support::tmux::Tmux;
use support::workshop::Workshop;

const WAIT: Duration = Duration::from_secs(60);

fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Asks `GET /api/failures` on a new connection every 500 ms until stopped; the slowest
/// answer and how many took 5 s or more (or none came).
fn watch(url: String, stop: Arc<AtomicBool>) -> thread::JoinHandle<(Duration, usize, usize)> {
    thread::spawn(move || {
        let (mut slowest, mut late, mut asked) = (Duration::ZERO, 0, 0);
        while !stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            let answered = Command::new("curl")
                .args(["-sf", "-o", "/dev/null", "--max-time", "5"])
                .arg(format!("{url}/api/failures"))
                .status()
                .is_ok_and(|status| status.success());
            let took = started.elapsed();
            asked += 1;
            slowest = slowest.max(took);
            if !answered || took >= Duration::from_secs(5) {
                late += 1;
            }
            thread::sleep(Duration::from_millis(500));
        }
        (slowest, late, asked)
    })
}

fn drill_at_a_participants_pace(workers: u32, expect_review: bool) {
    let workshop = Workshop::with_workers(workers);
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch(workshop.url.clone(), Arc::clone(&stop));
    let tmux = Tmux::start(
        &format!(
            "{} drill latency --api {} --baseline 10s --recover-hold 5s --poll-interval 1s",
            support::GAMEDAY,
            workshop.url
        ),
        200,
        50,
    );
    tmux.begin_drill();
    tmux.wait_for("the fault injected", WAIT, |screen| {
        screen.contains("since the fault")
    });
    // Seconds to notice, then the question read before it is answered.
    thread::sleep(Duration::from_secs(4));
    let pressed = now_unix();
    tmux.keys("Enter");
    tmux.wait_for("the detection question", WAIT, |screen| {
        screen.contains("What told you?")
    });
    thread::sleep(Duration::from_secs(3));
    tmux.keys("2");
    tmux.wait_for("the Respond phase", WAIT, |screen| {
        screen.contains("fix it: r resets failures")
    });
    thread::sleep(Duration::from_secs(5));
    tmux.keys("r");
    let screen = if expect_review {
        tmux.wait_for("the review", Duration::from_secs(120), |screen| {
            screen.contains("time to recover (MTTR)")
        })
    } else {
        tmux.wait_for("the Recover phase", WAIT, |screen| {
            screen.contains("wait: every signal must stay back in its band")
        });
        // A participant's while after acting; the watcher keeps asking meanwhile.
        thread::sleep(Duration::from_secs(20));
        tmux.screen()
    };
    stop.store(true, Ordering::Relaxed);
    let (slowest, late, asked) = watcher.join().expect("the watcher");
    eprintln!(
        "{workers} worker(s): slowest answer {:.2} s of {asked}, {late} at 5 s or more",
        slowest.as_secs_f64()
    );
    assert_eq!(late, 0, "the service stopped answering in time:\n{screen}");
    if expect_review {
        assert!(screen.contains("time to detect (MTTD)"), "{screen}");
    } else {
        // Quitting (confirmed) saves the record, with what happened so far.
        tmux.keys("q");
        tmux.wait_for("the confirmation", WAIT, |screen| {
            screen.contains("Quit now?")
        });
        tmux.keys("y");
        tmux.wait_exit(WAIT);
    }

    let sessions = tmux.home().join("data/sessions");
    let path = std::fs::read_dir(&sessions)
        .expect("sessions")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|path| path.extension().is_some_and(|ext| ext == "json"))
        .expect("a record");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("record")).expect("JSON");
    let drill = &record["drill"];
    let detected = drill["detection"]["at"].as_f64().expect("detection");
    assert!(
        (detected - pressed).abs() < 1.0,
        "detection timed at Enter ({pressed}), not at the answer: {detected}"
    );
    let injected = drill["injected_at"].as_f64().expect("injected_at");
    let mttd = record["figures"]["time_to_detect"].as_f64().expect("MTTD");
    assert!((mttd - (detected - injected)).abs() < 1e-6);
    let mttr = record["figures"]["time_to_recover"].as_f64();
    eprintln!("{workers} worker(s): MTTD {mttd:.1} s, MTTR {mttr:?} s");
    assert_eq!(mttr.is_some(), expect_review, "{record}");
    assert_eq!(drill["actions"][0]["kind"], "failure_reset");
    // After the verified reset, every worker is clean.
    let reads = workshop.fresh_failure_reads(20);
    assert!(
        reads.iter().all(|config| config["latency_ms"] == 0),
        "{reads:?}"
    );
}

#[test]
fn the_latency_drill_on_one_worker_at_a_participants_pace() {
    drill_at_a_participants_pace(1, true);
}

#[test]
fn the_latency_drill_on_two_workers_at_a_participants_pace() {
    drill_at_a_participants_pace(2, true);
}
