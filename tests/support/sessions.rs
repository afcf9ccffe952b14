//! Session records written the way the dashboard writes them (`write_record` of a
//! `SessionRecord` from a phase machine, driven with scripted samples instead of a live
//! target), and `gameday` run against them with a private home, for `gameday sessions` tests.

use std::path::Path;
use std::process::Command;

use gameday::drill::record::{SessionRecord, write_record};
use gameday::drill::{ActionKind, CaseLibrary, DrillOptions, Phase, PhaseMachine};
use gameday::signals::{Sample, Signal};

/// 2026-11-18 11:06:40 UTC.
pub const START: f64 = 1_795_000_000.0;

pub fn feed(machine: &mut PhaseMachine, at: f64, p95: f64) {
    for (signal, value) in [
        (Signal::Up, 1.0),
        (Signal::ErrorRatio, 0.0),
        (Signal::LatencyP95, p95),
        (Signal::LatencyP99, p95 * 1.5),
    ] {
        machine.sample(signal, Sample { at, value });
    }
}

/// A latency drill to its review: injected at +61 s, detected `detect_after` s later, a hint,
/// a note, a reset; every signal back 11 s after the detection.
pub fn finished_drill(start: f64, detect_after: f64) -> PhaseMachine {
    let case = CaseLibrary::shipped().get("latency").unwrap().clone();
    let (mut machine, _) = PhaseMachine::start(case, DrillOptions::default(), start);
    for second in 0..60 {
        feed(&mut machine, start + f64::from(second), 0.1);
    }
    machine.tick(start + 60.0);
    let injected = start + 61.0;
    machine.injected(injected);
    feed(&mut machine, injected + 1.0, 2.4);
    let detected = injected + detect_after;
    machine.declare_detection(detected, Some(Signal::LatencyP95), None);
    machine.action(detected + 1.0, ActionKind::HintOpened { index: 1 });
    machine.note(detected + 3.0, "looked at <the pool> & the failures");
    machine.action(detected + 10.0, ActionKind::FailureReset);
    machine.failures_read_back(detected + 10.5, false, None);
    for second in 0..=31 {
        feed(&mut machine, detected + 11.0 + f64::from(second), 0.1);
    }
    machine.tick(detected + 42.0);
    assert_eq!(machine.phase(), Phase::Review);
    machine
}

/// Two completed latency drills (MTTD 9 s and 20 s) and an abandoned one, newest last, and a
/// file that is not a record.
pub fn write_records(data: &Path) {
    for machine in [
        finished_drill(START, 9.0),
        finished_drill(START + 1000.0, 20.0),
    ] {
        write_record(
            data,
            &SessionRecord::from_machine(&machine, "embedded sandbox"),
        )
        .unwrap();
    }
    let case = CaseLibrary::shipped().get("slow-db").unwrap().clone();
    let (mut abandoned, _) = PhaseMachine::start(case, DrillOptions::default(), START + 2000.0);
    abandoned.abandon(START + 2010.0, "stopped by the participant");
    write_record(
        data,
        &SessionRecord::from_machine(&abandoned, "embedded sandbox"),
    )
    .unwrap();
    std::fs::write(data.join("sessions/notes.json"), "{").unwrap();
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `gameday ARGS` with a private home, `data` as the data folder, UTC dates and `lang`'s
/// locale.
pub fn gameday(data: &Path, args: &[&str], lang: &str) -> Run {
    let home = tempfile::tempdir().unwrap();
    let output = Command::new(super::GAMEDAY)
        .args(args)
        .current_dir(home.path())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("GAMEDAY_DATA_DIR", data)
        .env("TZ", "UTC")
        .env_remove("GAMEDAY_CONFIG")
        .env_remove("GAMEDAY_LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", lang)
        .output()
        .expect("gameday runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub fn assert_contains(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "missing {part:?} in\n{text}");
    }
}

pub const FIRST: &str = "20261118T110640Z-latency";
