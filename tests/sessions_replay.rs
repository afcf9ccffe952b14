//! `gameday sessions replay` in a real terminal: a record written the way the dashboard writes
//! it (a phase machine fed scripted samples: p95 5 ms, then 2 s from the injection at +20 s to
//! the reset at +30 s, then 5 ms again) played back at ×4. The screen must show each value
//! within its recorded offsets, the phase of the drill there and the bar moving to its end;
//! Space holds it; a version 1 record and a bad speed are refused before the terminal is taken.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use gameday::drill::record::{SessionRecord, write_record};
use gameday::drill::{ActionKind, CaseLibrary, DrillOptions, Phase, PhaseMachine};
use gameday::signals::{Sample, Signal};
use support::tmux::Tmux;

/// 2026-11-18 11:06:40 UTC.
const START: f64 = 1_795_000_000.0;
const BASELINE_P95: f64 = 0.005;
const FAULT_P95: f64 = 2.0;
const WAIT: Duration = Duration::from_secs(60);

fn feed(machine: &mut PhaseMachine, at: f64, p95: f64) {
    for (signal, value) in [
        (Signal::Up, 1.0),
        (Signal::ErrorRatio, 0.0),
        (Signal::LatencyP95, p95),
        (Signal::LatencyP99, p95 * 1.5),
    ] {
        machine.sample(signal, Sample { at, value });
    }
}

/// A latency drill: baseline 0–19 s, injected at +20 s, p95 at 2 s for offsets 20–30 s,
/// detected at +24 s, reset at +30 s, back to 5 ms from +31 s, reviewed after a 3 s hold.
fn drill() -> PhaseMachine {
    let mut case = CaseLibrary::shipped().get("latency").unwrap().clone();
    case.baseline = Duration::from_secs(20);
    case.recovery.hold = Duration::from_secs(3);
    let (mut machine, _) = PhaseMachine::start(case, DrillOptions::default(), START);
    for second in 0..20 {
        feed(&mut machine, START + f64::from(second), BASELINE_P95);
    }
    machine.tick(START + 20.0);
    machine.injected(START + 20.0);
    for second in 20..=30 {
        feed(&mut machine, START + f64::from(second), FAULT_P95);
        if second == 24 {
            machine.declare_detection(START + 24.0, Some(Signal::LatencyP95), None);
        }
    }
    machine.action(START + 30.2, ActionKind::FailureReset);
    machine.failures_read_back(START + 30.5, false, None);
    for second in 31..=42 {
        feed(&mut machine, START + f64::from(second), BASELINE_P95);
        machine.tick(START + f64::from(second));
    }
    assert_eq!(machine.phase(), Phase::Review);
    machine
}

/// The record's id (its file stem) in `data`.
fn write(data: &Path, record: &SessionRecord) -> String {
    let path = write_record(data, record).unwrap();
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

/// The position `mm:ss / mm:ss` in the header, as seconds played.
fn position(screen: &str) -> f64 {
    let header = screen
        .lines()
        .find(|line| line.contains("replay of"))
        .unwrap_or_else(|| panic!("no replay header:\n{screen}"));
    let played = header
        .split(" · ")
        .nth(1)
        .and_then(|part| part.split(" / ").next())
        .unwrap_or_else(|| panic!("no position in {header}"));
    let (minutes, seconds) = played.trim().split_once(':').unwrap();
    minutes.parse::<f64>().unwrap() * 60.0 + seconds.parse::<f64>().unwrap()
}

fn phase_shown(screen: &str) -> String {
    let header = screen
        .lines()
        .find(|line| line.contains("replay of"))
        .unwrap();
    header
        .split(" · phase ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default()
        .to_string()
}

fn p95_shows(screen: &str, figure: &str) -> bool {
    screen
        .lines()
        .any(|line| line.contains(&format!("p95 {figure}")))
}

#[test]
fn a_replay_shows_the_recorded_values_at_their_offsets() {
    let data = tempfile::tempdir().unwrap();
    let id = write(
        data.path(),
        &SessionRecord::from_machine(&drill(), "embedded sandbox"),
    );
    let command = format!(
        "{} sessions replay {id} --speed 4 --data-dir {}",
        support::GAMEDAY,
        data.path().display()
    );
    let tmux = Tmux::start(&command, 160, 45);
    let baseline = tmux.wait_for("the baseline's p95", WAIT, |screen| {
        screen.contains(&format!("replay of {id}")) && p95_shows(screen, "5.0 ms")
    });
    assert!(baseline.contains("×4"), "{baseline}");
    assert!(position(&baseline) < 20.0, "{baseline}");
    assert_eq!(phase_shown(&baseline), "Baseline", "{baseline}");
    assert!(baseline.contains("I injection"), "{baseline}");
    // Read-only: no embedded sandbox (a child process) was started.
    let pid = tmux.command_pid().expect("gameday's PID");
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
    for task in tasks {
        let children = std::fs::read_to_string(task.unwrap().path().join("children")).unwrap();
        assert!(children.trim().is_empty(), "gameday started {children}");
    }

    // Space holds the position (and the figures) until Space again.
    tmux.keys("Space");
    let paused = tmux.wait_for("the pause", WAIT, |screen| {
        screen.contains("paused — Space plays on")
    });
    std::thread::sleep(Duration::from_millis(1500));
    let still = tmux.screen();
    assert_eq!(position(&still), position(&paused), "{still}");
    tmux.keys("Space");
    tmux.wait_for("playing again", WAIT, |screen| !screen.contains("paused"));

    let fault = tmux.wait_for("the fault's p95", WAIT, |screen| {
        p95_shows(screen, "2.00 s")
    });
    let at = position(&fault);
    assert!((20.0..=31.0).contains(&at), "2 s shown at {at} s:\n{fault}");
    assert_ne!(phase_shown(&fault), "Baseline", "{fault}");
    // The bar's position has passed the injection's mark.
    let bar = fault.lines().nth(1).unwrap();
    let injection = bar
        .find('I')
        .unwrap_or_else(|| panic!("no injection mark: {bar}"));
    assert_eq!(&bar[injection - 1..injection], "=", "{bar}");

    let after = tmux.wait_for("the recovered p95", WAIT, |screen| {
        p95_shows(screen, "5.0 ms") && position(screen) > 30.0
    });
    assert!(position(&after) >= 31.0, "{after}");

    let ended = tmux.wait_for("the end", WAIT, |screen| {
        screen.contains("replay ended — q quits")
    });
    assert_eq!(phase_shown(&ended), "Review", "{ended}");
    // At its end the position is the last point's offset: the review, after the 3 s hold.
    let header = ended
        .lines()
        .find(|line| line.contains("replay of"))
        .unwrap();
    let times = header.split(" · ").nth(1).unwrap();
    let (played, length) = times.split_once(" / ").unwrap();
    assert_eq!(played, length, "{header}");
    assert!(
        played.starts_with("00:3") || played.starts_with("00:4"),
        "{header}"
    );
    assert!(
        !ended.contains("READ"),
        "the replay's header, not the live one:\n{ended}"
    );
    // It stays on screen until q.
    std::thread::sleep(Duration::from_millis(500));
    assert!(tmux.screen().contains("replay ended"), "{}", tmux.screen());
    tmux.keys("q");
    assert_eq!(tmux.wait_exit(WAIT), "0", "{}", tmux.screen());
}

#[test]
fn a_version_1_record_and_a_bad_speed_are_refused() {
    let data = tempfile::tempdir().unwrap();
    let mut old = SessionRecord::from_machine(&drill(), "embedded sandbox");
    old.schema_version = 1;
    old.drill.series = Default::default();
    let id = write(data.path(), &old);
    let run = |args: &[&str]| {
        let output = Command::new(support::GAMEDAY)
            .args(["sessions", "replay"])
            .args(args)
            .args(["--data-dir", &data.path().display().to_string()])
            .env("GAMEDAY_LANG", "en")
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?} was not refused");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let refused = run(&[&id]);
    assert!(
        refused.contains("this record (version 1) has no signal series to replay"),
        "{refused}"
    );
    for speed in ["100", "0.1", "0"] {
        let refused = run(&[&id, "--speed", speed]);
        assert!(
            refused.contains(&format!(
                "--speed {speed}: expected a speed from 0.25 to 64"
            )),
            "{refused}"
        );
    }
    let refused = run(&["no-such-record"]);
    assert!(refused.contains("no session `no-such-record`"), "{refused}");
}
