//! A shipped case run as a drill in tmux against the workshop-shaped service, at a
//! participant's pace (seconds to notice, to answer, to act) and with short phases. While it
//! runs, a watcher asks the service every half second on a new connection: it must always
//! answer within 5 s (the drill's load must never keep it from answering a reset). Afterwards
//! the record is held against the key presses and against gunicorn's own access log.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::GAMEDAY;
use super::tmux::Tmux;
use super::workshop::{Logged, Workshop};

const WAIT: Duration = Duration::from_secs(60);

/// The short phases every workshop drill test runs with.
const SHORT_PHASES: &str = "--baseline 10s --recover-hold 5s --poll-interval 1s";

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

/// Whether a knob of `GET /api/failures` reads as cleared (the workshop's reset writes 0 for
/// the booleans too).
fn cleared(value: &serde_json::Value) -> bool {
    value == &serde_json::json!(0) || value == &serde_json::json!(false)
}

fn logged(log: &[Logged], method: &str, path: &str) -> Vec<f64> {
    log.iter()
        .filter(|line| line.method == method && line.path == path && line.status == 200)
        .map(|line| line.at)
        .collect()
}

/// At most this many drills at once. Each runs a gunicorn service, a dashboard and its load;
/// seven at once on two cores starve the services, whose in-flight gauge then reads as if
/// loaded (a chaos baseline was refused once with active transactions at a median of 1).
const DRILLS_AT_ONCE: usize = 3;
static DRILLS_RUNNING: std::sync::Mutex<usize> = std::sync::Mutex::new(0);
static DRILL_ENDED: std::sync::Condvar = std::sync::Condvar::new();

/// A place among the drills running at once, given back when dropped.
struct DrillSlot;

impl DrillSlot {
    fn take() -> DrillSlot {
        let mut running = DRILLS_RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        while *running >= DRILLS_AT_ONCE {
            running = DRILL_ENDED.wait(running).unwrap_or_else(|e| e.into_inner());
        }
        *running += 1;
        DrillSlot
    }
}

impl Drop for DrillSlot {
    fn drop(&mut self) {
        let mut running = DRILLS_RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        *running -= 1;
        DRILL_ENDED.notify_one();
    }
}

/// Runs `case` as a drill on a service of `workers` workers, from the baseline to the review,
/// and checks what a drill promises; panics with the screen or the record otherwise. Every
/// watched signal must cross its threshold before the review, except those in `may_stay`.
pub fn drill_at_a_participants_pace(case: &str, workers: u32, may_stay: &[&str]) {
    let _slot = DrillSlot::take();
    let began = Instant::now();
    let workshop = Workshop::with_workers(workers);
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch(workshop.url.clone(), Arc::clone(&stop));
    let tmux = Tmux::start(
        &format!(
            "{GAMEDAY} drill {case} --api {} {SHORT_PHASES}",
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
    let detected_pressed = now_unix();
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
    let reset_pressed = now_unix();
    tmux.keys("r");
    let screen = tmux.wait_for("the review", Duration::from_secs(120), |screen| {
        screen.contains("time to recover (MTTR)")
    });
    stop.store(true, Ordering::Relaxed);
    let (slowest, late, asked) = watcher.join().expect("the watcher");
    eprintln!(
        "{case} on {workers} worker(s): slowest answer {:.2} s of {asked}, {late} at 5 s or more",
        slowest.as_secs_f64()
    );
    assert_eq!(late, 0, "the service stopped answering in time:\n{screen}");
    assert!(screen.contains("time to detect (MTTD)"), "{screen}");

    let sessions = tmux.home().join("data/sessions");
    let path = std::fs::read_dir(&sessions)
        .expect("sessions")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|path| path.extension().is_some_and(|ext| ext == "json"))
        .expect("a record");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("record")).expect("JSON");
    let drill = &record["drill"];
    let figures = &record["figures"];

    // Detection is timed at Enter, not at the answer to the question.
    let detected = drill["detection"]["at"].as_f64().expect("detection");
    assert!(
        (detected - detected_pressed).abs() < 1.0,
        "detection timed at Enter ({detected_pressed}), not at the answer: {detected}"
    );
    let injected = drill["injected_at"].as_f64().expect("injected_at");
    let mttd = figures["time_to_detect"].as_f64().expect("MTTD");
    assert!((mttd - (detected - injected)).abs() < 1e-6, "{record}");

    // The injection's time is the service's first accepted change; the log counts whole
    // seconds, at the end of the answer.
    let log = workshop.access_log();
    let injections = logged(&log, "POST", "/api/failures");
    let first_injection = *injections.first().expect("the injection in the access log");
    assert!(
        first_injection - 1.0 <= injected && injected < first_injection + 2.0,
        "injected_at {injected}, the service logged the first change at {first_injection}"
    );

    // The reset: only after r, timed at its verified read-back.
    let resets = logged(&log, "POST", "/api/reset");
    let first_reset = *resets.first().expect("the reset in the access log");
    assert!(
        first_reset >= reset_pressed.floor(),
        "a reset reached the service at {first_reset}, before r was pressed at {reset_pressed}"
    );
    let action = &drill["actions"][0];
    assert_eq!(action["kind"], "failure_reset", "{record}");
    let reset_at = action["at"].as_f64().expect("the reset's time");
    assert!(
        reset_at >= first_reset - 1.0 && reset_at - reset_pressed < 10.0,
        "reset verified at {reset_at}; r pressed at {reset_pressed}, first reset logged at \
         {first_reset}"
    );

    // Recovered after the reset, never before, and the figure says so.
    let recovered = drill["recovered_at"].as_f64().expect("recovered_at");
    let mttr = figures["time_to_recover"].as_f64().expect("MTTR");
    assert!((mttr - (recovered - injected)).abs() < 1e-6, "{record}");
    assert!(
        recovered >= reset_at,
        "recovered at {recovered}, before the verified reset at {reset_at}"
    );
    // The service's own log says when the fault stopped showing: the last failed or slow
    // answer of an endpoint that applies the failures. `recovered_at` is when the signals
    // were back to stay (the start of the hold), so never before that (the log counts whole
    // seconds).
    let fault_seen_last = log
        .iter()
        .filter(|line| ["/health", "/api/balance", "/api/transfer"].contains(&line.path.as_str()))
        .filter(|line| line.status >= 500 || line.took >= 1.0)
        .map(|line| line.at)
        .fold(f64::NAN, f64::max);
    assert!(
        fault_seen_last.is_nan() || recovered >= fault_seen_last - 1.0,
        "recovered at {recovered}, but the service logged a failed or slow answer at \
         {fault_seen_last}"
    );

    // Every signal the case watches moved past its threshold: the case shows its fault here.
    let crossed: Vec<String> = drill["signals"]
        .as_array()
        .expect("signals")
        .iter()
        .map(|track| {
            format!(
                "{} {} {} (peak {}, first {})",
                track["signal"].as_str().unwrap_or("?"),
                track["comparison"].as_str().unwrap_or("?"),
                track["threshold"],
                track["peak"],
                track["first_crossed_at"]
                    .as_f64()
                    .map_or("never".to_string(), |at| format!("+{:.1} s", at - injected)),
            )
        })
        .collect();
    eprintln!(
        "{case} on {workers} worker(s): MTTD {mttd:.1} s, MTTR {mttr:.1} s ({:.1} s after the \
         verified reset, {:.1} s after the last failed or slow answer logged); signals: {}; \
         {:.0} s in all",
        recovered - reset_at,
        recovered - fault_seen_last,
        crossed.join("; "),
        began.elapsed().as_secs_f64()
    );
    let stayed: Vec<&String> = crossed
        .iter()
        .filter(|line| line.ends_with("first never)"))
        .filter(|line| {
            !may_stay
                .iter()
                .any(|name| line.starts_with(&format!("{name} ")))
        })
        .collect();
    assert!(
        stayed.is_empty(),
        "a watched signal never crossed its threshold: {stayed:?}"
    );

    // After the verified reset, every worker is clean.
    let reads = workshop.fresh_failure_reads(20);
    assert!(
        reads.iter().all(|config| {
            config
                .as_object()
                .is_some_and(|knobs| knobs.values().all(cleared))
        }),
        "{reads:?}"
    );
}

/// Starts a drill of `case` that `workshop` cannot run: it must be refused before anything is
/// injected or any load sent, with `reason` on screen.
pub fn refused_on_the_workshop(workshop: &Workshop, case: &str, reason: &str) {
    let tmux = Tmux::start(
        &format!(
            "{GAMEDAY} drill {case} --api {} {SHORT_PHASES}",
            workshop.url
        ),
        200,
        50,
    );
    tmux.begin_drill();
    tmux.wait_for(&format!("the refusal of {case}"), WAIT, |screen| {
        screen.contains(reason)
    });
    tmux.keys("q");
    tmux.wait_exit(WAIT);
    let log = workshop.access_log();
    assert!(
        logged(&log, "POST", "/api/failures").is_empty()
            && logged(&log, "POST", "/api/patterns").is_empty(),
        "a refused drill injected: {log:?}"
    );
    assert!(
        !log.iter()
            .any(|line| line.path == "/api/balance" || line.path == "/api/transfer"),
        "a refused drill sent load: {log:?}"
    );
}
