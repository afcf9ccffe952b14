//! A drill end to end in a real terminal: `gameday drill latency` on the embedded sandbox,
//! Enter to declare detection, `r` to reset, the review on screen and the record on disk; and
//! a drill killed mid-way offered for resuming at the next start.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use support::tmux::Tmux;

const WAIT: Duration = Duration::from_secs(60);

fn records(data_dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(data_dir.join("sessions"))
        .map(|dir| {
            dir.filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("record")).expect("JSON record")
}

#[test]
fn a_latency_drill_runs_to_its_review_and_leaves_its_record() {
    let tmux = Tmux::start(
        &format!(
            "{} drill latency --baseline 5s --recover-hold 5s",
            support::GAMEDAY
        ),
        200,
        50,
    );
    tmux.begin_drill();
    tmux.wait_for("the baseline", WAIT, |screen| {
        screen.contains("baseline ends in")
    });
    tmux.wait_for("the fault injected", WAIT, |screen| {
        screen.contains("since the fault") && screen.contains("latency_ms     2000")
    });
    tmux.keys("Enter");
    tmux.wait_for("the detection question", WAIT, |screen| {
        screen.contains("What told you?")
    });
    tmux.keys("2");
    tmux.wait_for("the Respond phase", WAIT, |screen| {
        screen.contains("fix it: r resets failures")
    });
    tmux.keys("r");
    let screen = tmux.wait_for("the review", Duration::from_secs(90), |screen| {
        screen.contains("time to recover (MTTR)")
    });
    assert!(screen.contains("time to detect (MTTD)"), "{screen}");
    // The review says which signal crossed first, with values in their units.
    assert!(
        screen.contains("(p95 latency)") || screen.contains("(p99 latency)"),
        "{screen}"
    );
    // The business impact and the chart of the drill, with its moments marked.
    assert!(
        screen.contains("business impact (fault to recovery"),
        "{screen}"
    );
    assert!(screen.contains("requests of our clients"), "{screen}");
    assert!(screen.contains("the drill at a glance"), "{screen}");
    assert!(screen.contains("I fault  A alert fired"), "{screen}");
    // The review scrolls to what did not fit: the checklist's last step.
    for _ in 0..40 {
        tmux.keys("Down");
    }
    tmux.wait_for("the review scrolled to its end", WAIT, |screen| {
        screen.contains("Recover  HighLatency has resolved")
    });
    // A note after the fact goes into the record.
    tmux.keys("n");
    tmux.wait_for("the note dialog", WAIT, |screen| {
        screen.contains("A note for the drill's record")
    });
    tmux.run(&["send-keys", "-t", "gd", "-l", "saw it on p95 first"]);
    tmux.keys("Enter");
    tmux.wait_for("the note saved", WAIT, |screen| {
        !screen.contains("A note for the drill's record")
    });
    std::thread::sleep(Duration::from_millis(500));

    let data = tmux.home().join("data");
    let found = records(&data);
    assert_eq!(found.len(), 1, "{found:?}");
    let record = read(&found[0]);
    assert_eq!(record["schema_version"], 2);
    assert_eq!(record["case_id"], "latency");
    assert_eq!(record["outcome"], "completed");
    let drill = &record["drill"];
    let injected = drill["injected_at"].as_f64().expect("injected_at");
    let detection = drill["detection"]["at"].as_f64().expect("detection");
    assert_eq!(drill["detection"]["signal"], "latency_p95");
    let notes = drill["notes"].as_array().expect("notes");
    assert!(
        notes
            .iter()
            .any(|note| note["text"] == "saw it on p95 first"),
        "{notes:?}"
    );
    let mttd = record["figures"]["time_to_detect"].as_f64().expect("MTTD");
    assert!((mttd - (detection - injected)).abs() < 1e-6);
    assert_eq!(drill["actions"][0]["kind"], "failure_reset");
    let mttr = record["figures"]["time_to_recover"].as_f64().expect("MTTR");
    let recovered = drill["recovered_at"].as_f64().expect("recovered_at");
    assert!((mttr - (recovered - injected)).abs() < 1e-6);
    assert!(recovered >= drill["actions"][0]["at"].as_f64().unwrap_or(f64::MAX));
    // Version 2: ISO times, the baseline's samples, the series of the whole drill, the marks.
    assert!(
        drill["injected_at_iso"]
            .as_str()
            .is_some_and(|iso| iso.ends_with('Z')),
        "{record}"
    );
    assert!(
        drill["baseline_samples"]
            .as_array()
            .is_some_and(|samples| !samples.is_empty()),
        "{record}"
    );
    let series = &drill["series"];
    let origin = series["origin_at"].as_f64().expect("series origin");
    let p95 = series["signals"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["signal"] == "latency_p95"))
        .expect("a p95 series");
    let offsets = p95["offsets"].as_array().expect("offsets");
    assert_eq!(Some(offsets.len()), p95["values"].as_array().map(Vec::len));
    let first = origin + offsets[0].as_f64().unwrap_or(f64::MAX);
    let last = origin + offsets[offsets.len() - 1].as_f64().unwrap_or(0.0);
    assert!(first < injected && last >= recovered, "{series}");
    let kinds: Vec<&str> = record["marks"]
        .as_array()
        .expect("marks")
        .iter()
        .filter_map(|mark| mark["kind"].as_str())
        .collect();
    for kind in ["injection", "detection", "reset", "recovered"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    // The impact: the drill's own load saw requests slower than 2 s (every one took 2 s more),
    // and the target's rate over the same window counts about as many requests.
    let impact = &record["figures"]["impact"];
    assert_eq!(impact["recovered"], true, "{impact}");
    assert!(
        (impact["window_s"].as_f64().unwrap_or(0.0) - mttr).abs() < 1e-6,
        "{impact}"
    );
    let clients = &impact["clients"];
    let requests = clients["requests"].as_u64().unwrap_or(0);
    assert!(requests > 0, "{impact}");
    assert!(clients["slow"].as_u64().unwrap_or(0) > 0, "{impact}");
    let seen = impact["target_requests"].as_f64().unwrap_or(0.0);
    assert!(seen > 0.0, "{impact}");

    tmux.keys("q");
    assert_eq!(tmux.wait_exit(WAIT), "0");
}

/// Kills `gameday drill error-rate EXTRA` once its fault is injected (no chance to clean up),
/// and returns the data folder and the record left on disk.
fn drill_killed_in_detect(extra: &str) -> (Tmux, PathBuf, Value) {
    let command = format!(
        "{} drill error-rate --baseline 3s --recover-hold 3s {extra}",
        support::GAMEDAY
    );
    let tmux = Tmux::start(&command, 200, 50);
    tmux.begin_drill();
    tmux.wait_for("the fault injected", WAIT, |screen| {
        screen.contains("since the fault")
    });
    let pid = tmux.command_pid().expect("gameday's PID");
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    tmux.wait_exit(WAIT);
    let data = tmux.home().join("data");
    let found = records(&data);
    assert_eq!(found.len(), 1, "{found:?}");
    let before = read(&found[0]);
    assert_eq!(before["outcome"], "in-progress", "{before}");
    assert_eq!(before["drill"]["phase"], "detect");
    (tmux, found[0].clone(), before)
}

/// The same data folder, a new start: the drill is offered and resumed.
fn resume(data: &Path, extra: &str) -> Tmux {
    let again = Tmux::start(
        &format!(
            "GAMEDAY_DATA_DIR={} {} {extra}",
            data.display(),
            support::GAMEDAY
        ),
        200,
        50,
    );
    again.wait_for("the offer", WAIT, |screen| {
        screen.contains("Resume it?") && screen.contains("error-rate")
    });
    again.keys("Enter");
    again
}

/// Killed in Detect on the embedded sandbox, the fault dies with it: the resumed drill says
/// so and injects it again on Enter, the clock restarting there and the record keeping both.
#[test]
fn a_drill_killed_on_the_embedded_sandbox_is_resumed_with_its_fault_injected_again() {
    let (killed, record, before) = drill_killed_in_detect("");
    let data = killed.home().join("data");
    let again = resume(&data, "");
    again.wait_for("the lost fault said", WAIT, |screen| {
        screen.contains("The fault is gone") && screen.contains("Enter: inject it again")
    });
    again.keys("Enter");
    again.wait_for("the fault injected again", WAIT, |screen| {
        screen.contains("since the fault") && !screen.contains("The fault is gone")
    });
    // Quitting a running drill asks first.
    again.keys("q");
    again.wait_for("the confirmation", WAIT, |screen| {
        screen.contains("Quit now? The drill is recorded as abandoned.")
    });
    again.keys("y");
    assert_eq!(again.wait_exit(WAIT), "0");
    let after = read(&record);
    assert_eq!(after["outcome"], "abandoned", "quitting mid-drill: {after}");
    let lost = &after["drill"]["lost_injections"];
    assert_eq!(
        lost[0]["injected_at"], before["drill"]["injected_at"],
        "the lost injection is kept: {after}"
    );
    let first = before["drill"]["injected_at"]
        .as_f64()
        .expect("first injection");
    let second = after["drill"]["injected_at"]
        .as_f64()
        .expect("second injection");
    assert!(second > first, "the clock restarts at the new injection");
    assert_eq!(records(&data).len(), 1);
}

/// Killed in Detect against a sandbox that outlives us, the fault is still there: the resumed
/// drill says so and goes on, with the same injection.
#[test]
fn a_drill_killed_against_an_external_target_is_resumed_with_its_fault_still_on() {
    let sandbox = support::Sandbox::start(&[]);
    let target = format!("--api {} --load 20", sandbox.url);
    let (killed, record, before) = drill_killed_in_detect(&target);
    let again = resume(&killed.home().join("data"), &target);
    again.wait_for("the fault found still on", WAIT, |screen| {
        screen.contains("the fault is still on the target") && screen.contains("since the fault")
    });
    assert!(!again.screen().contains("The fault is gone"));
    again.keys("q");
    again.wait_for("the confirmation", WAIT, |screen| {
        screen.contains("Quit now?")
    });
    again.keys("y");
    again.wait_for("the reset question", WAIT, |screen| {
        screen.contains("n: quit, leave them")
    });
    again.keys("y");
    assert_eq!(again.wait_exit(WAIT), "0");
    let after = read(&record);
    assert_eq!(
        after["drill"]["injected_at"],
        before["drill"]["injected_at"]
    );
    assert_eq!(after["drill"]["lost_injections"], serde_json::json!([]));
}

/// A blind drill hides its case until the participant names a cause: neither the screen nor
/// the log shows the case's id or a failure knob's name, the record's file is neutral, the
/// checklist and the hints read in their blind wordings, and the cause is revealed once named,
/// with the real texts.
#[test]
fn a_blind_drill_gives_nothing_away_before_the_cause_is_named() {
    let tmux = Tmux::start(
        &format!(
            "{} drill --blind --seed 3 --baseline 5s --recover-hold 3s",
            support::GAMEDAY
        ),
        200,
        50,
    );
    tmux.begin_drill();
    let screen = tmux.wait_for("the fault injected", WAIT, |screen| {
        screen.contains("failure injected at")
    });
    // Every shipped case words its first detect item so; its last hint's blind wording is
    // the picked case's own (read from the record, which names the case).
    let detect_blind = "A watched signal has left its normal range";
    let picked = read(&records(&tmux.home().join("data"))[0])["case_id"]
        .as_str()
        .expect("case id")
        .to_string();
    let shipped = gameday::drill::CaseLibrary::shipped();
    let hints = &shipped.get(&picked).expect("a shipped case").hints;
    let last = hints.last().expect("hints");
    let hint_blind: String = last
        .blind
        .shown(&last.text, true)
        .expect("a hint shown")
        .en
        .chars()
        .take(40)
        .collect();
    let detecting = tmux.wait_for("the blind detect checklist", WAIT, |screen| {
        screen.contains(detect_blind)
    });
    for _ in 0..hints.len() {
        tmux.keys("h");
    }
    let all_hints = format!("({0}/{0})", hints.len());
    let hinted = tmux.wait_for("the blind hints", WAIT, |screen| {
        screen.contains(&hint_blind) && screen.contains(&all_hints)
    });
    // A few polls later: the sandbox's own log lines have come in too.
    std::thread::sleep(Duration::from_secs(3));
    let later = tmux.screen();
    let data = tmux.home().join("data");
    let found = records(&data);
    assert_eq!(found.len(), 1, "{found:?}");
    let name = found[0]
        .file_name()
        .map(|n| n.to_string_lossy().to_string());
    assert!(
        name.as_deref().is_some_and(|n| n.ends_with("-blind.json")),
        "{name:?}"
    );
    let record = read(&found[0]);
    let case_id = record["case_id"].as_str().expect("case id").to_string();
    let library = gameday::drill::CaseLibrary::shipped();
    let case = library.get(&case_id).expect("a shipped case");
    let real_hint = &case.hints.last().expect("hints").text.en;
    let real_start: String = real_hint.chars().take(30).collect();
    // "latency" is a panel's word too; every other id is no word of the screen's own.
    let id_shown = |shown: &str| case_id != "latency" && shown.contains(&case_id);
    for shown in [&screen, &detecting, &hinted, &later] {
        assert!(
            !shown.contains(&format!("drill {case_id}")),
            "{case_id}: {shown}"
        );
        assert!(!id_shown(shown), "{case_id} on screen: {shown}");
        assert!(!shown.contains(&real_start), "{real_start}: {shown}");
        for knob in [
            "latency_ms",
            "error_rate",
            "db_slow",
            "db_fail",
            "memory_leak_mb",
        ] {
            assert!(!shown.contains(knob), "{knob} on screen: {shown}");
        }
    }
    // Named (rightly or not), the case is revealed, and the hints read as written.
    tmux.keys("Enter");
    tmux.wait_for("the question", WAIT, |screen| screen.contains("1  "));
    tmux.keys("1");
    let revealed = tmux.wait_for("the case revealed", WAIT, |screen| {
        screen.contains(&real_start)
    });
    assert!(!revealed.contains("failure injected at"), "{revealed}");
    assert!(!revealed.contains(&hint_blind), "{revealed}");
    assert!(
        revealed.contains(&format!("drill {case_id}")) || revealed.contains(&case.title.en),
        "{revealed}"
    );
    tmux.keys("q");
    tmux.wait_for("the confirmation", WAIT, |screen| {
        screen.contains("Quit now?")
    });
    tmux.keys("y");
    assert_eq!(tmux.wait_exit(WAIT), "0");
}
