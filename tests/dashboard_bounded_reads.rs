//! Reads of a target are bounded: a 50 MB `/metrics` and one that never ends are refused and
//! said on screen, while the dashboard's memory stays bounded; a valid exposition of
//! implausible values (negative latencies and memory, NaN, a counter of a million digits) has
//! them dropped with a note, and none of them drawn. The real binary in tmux, against a
//! FinCore-shaped target on loopback (`support::hostile`).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::time::Duration;

use support::hostile::HostileTarget;
use support::tmux::Tmux;

/// A correctness bound, not a speed figure: the dashboard idles at ~12 MiB, and a 16 MiB cap
/// on each of two scrapes at once keeps it far below this.
const RSS_BOUND_KIB: u64 = 100 * 1024;

fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .expect("VmRSS")
}

/// The dashboard against `api`, with no load of its own.
fn dashboard(api: &str) -> Tmux {
    let command = format!("{} --api {api} --load off", support::GAMEDAY);
    Tmux::start(&command, 200, 50)
}

/// Watches the dashboard for `seconds`, sampling its resident size every 200 ms; the peak.
fn peak_rss_over(tmux: &Tmux, seconds: u64) -> u64 {
    let pid = tmux.command_pid().expect("the dashboard's pid");
    let mut peak = 0;
    for _ in 0..seconds * 5 {
        peak = peak.max(resident_kib(pid));
        std::thread::sleep(Duration::from_millis(200));
    }
    peak
}

#[test]
fn a_50_mb_metrics_answer_is_refused_on_screen_and_memory_stays_bounded() {
    let target = HostileTarget::start();
    let tmux = dashboard(&target.url("big"));
    let screen = tmux.wait_for("the refusal", Duration::from_secs(20), |s| {
        s.contains("metrics down") && s.contains("answer over 16 MiB, not read")
    });
    assert!(screen.contains("api ok"), "{screen}");
    // Several scrapes more (the backoff after failures is 1, 2, 4 s).
    let peak = peak_rss_over(&tmux, 10);
    eprintln!("50 MB /metrics: peak VmRSS {peak} KiB over 10 s");
    assert!(peak < RSS_BOUND_KIB, "VmRSS {peak} KiB");
    tmux.keys("q");
    assert_eq!(tmux.wait_exit(Duration::from_secs(10)), "0");
}

#[test]
fn an_endless_metrics_answer_is_refused_on_screen_and_memory_stays_bounded() {
    let target = HostileTarget::start();
    let tmux = dashboard(&target.url("endless"));
    let screen = tmux.wait_for("the refusal", Duration::from_secs(20), |s| {
        s.contains("metrics down") && s.contains("not read")
    });
    assert!(
        screen.contains("answer over 16 MiB, not read")
            || screen.contains("answer not finished in 5 s, not read"),
        "{screen}"
    );
    let peak = peak_rss_over(&tmux, 10);
    eprintln!("endless /metrics: peak VmRSS {peak} KiB over 10 s");
    assert!(peak < RSS_BOUND_KIB, "VmRSS {peak} KiB");
    tmux.keys("q");
    assert_eq!(tmux.wait_exit(Duration::from_secs(10)), "0");
}

#[test]
fn implausible_values_are_dropped_with_a_note_and_never_drawn() {
    let target = HostileTarget::start();
    let tmux = dashboard(&target.url("hostile"));
    let screen = tmux.wait_for(
        "the metrics read with a note of what was dropped",
        Duration::from_secs(20),
        |s| s.contains("metrics ok") && s.contains("implausible values dropped"),
    );
    // Traffic is read (20 requests/s of the ordinary counter)…
    tmux.wait_for("the request rate", Duration::from_secs(20), |s| {
        s.contains("req/s 20 ")
    });
    // …and for a while nothing impossible is drawn.
    for _ in 0..10 {
        let screen = tmux.screen();
        for impossible in [
            "-1000",
            "-953674316406",
            "-1e",
            "NaN",
            "inf",
            "-7",
            "-5.00 s",
            "-1.00 s",
        ] {
            assert!(
                !screen.contains(impossible),
                "`{impossible}` drawn:\n{screen}"
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    // The note is given once, not every scrape.
    let notes = tmux
        .run(&["capture-pane", "-p", "-t", "gd", "-S", "-"])
        .matches("implausible values dropped")
        .count();
    assert_eq!(notes, 1, "{screen}");
    let peak = peak_rss_over(&tmux, 3);
    eprintln!("hostile exposition (1 MB line): peak VmRSS {peak} KiB");
    assert!(peak < RSS_BOUND_KIB, "VmRSS {peak} KiB");
    tmux.keys("q");
    assert_eq!(tmux.wait_exit(Duration::from_secs(10)), "0");
}
