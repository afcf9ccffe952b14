//! The load generator against a real `gameday sandbox` on 127.0.0.1: the open model keeps its
//! rate (counted by the clients and by the server), a stalled server shows in the corrected
//! latency but not in a closed model's, the headless command end to end, and a bounded retry
//! storm. Each run is bounded in time; the timed ones run one at a time.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use gameday::load::{LoadHandle, LoadPlan, LoadSnapshot, Mix, Profile, RetryPolicy, http_client};
use serde_json::Value;
use support::{Api, Sandbox, eventually};

/// Timed runs share two cores; one at a time keeps them honest. An async lock, as the tests
/// await while holding it (each test has its own runtime; this lock works across them).
static TIMED: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Requests the sandbox counted, every endpoint and status added up.
async fn server_requests(api: &Api) -> f64 {
    api.metrics()
        .await
        .lines()
        .filter(|line| line.starts_with("fintech_requests_total{"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn plan(profile: Profile, rate: f64, duration: Duration, mix: &str) -> LoadPlan {
    LoadPlan {
        profile,
        rate,
        duration: Some(duration),
        mix: mix.parse().expect("a valid mix"),
        retry: RetryPolicy::default(),
        max_in_flight: gameday::load::MAX_IN_FLIGHT,
        think: Duration::ZERO,
    }
}

async fn run_open(url: &str, plan: LoadPlan) -> LoadSnapshot {
    let http = http_client().expect("HTTP client");
    LoadHandle::start_open(http, url.to_string(), plan)
        .finish()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_keeps_its_rate_within_one_percent_client_and_server_side() {
    let _timed = TIMED.lock().await;
    let sandbox = Sandbox::start(&["--workers", "64"]);
    let api = Api::new(&sandbox.url);
    let before = server_requests(&api).await;
    let snapshot = run_open(
        &sandbox.url,
        plan(
            Profile::Steady,
            200.0,
            Duration::from_secs(10),
            "balance=70,transfer=20,health=10",
        ),
    )
    .await;
    let served = server_requests(&api).await - before;

    // The rate is counted over the scheduled window (10 s), not over start-up or draining.
    let window = snapshot.sending.as_secs_f64();
    assert!((9.9..10.2).contains(&window), "sending window {window}");
    assert_eq!(snapshot.dropped, 0, "{snapshot:?}");
    assert_eq!(snapshot.in_flight, 0, "{snapshot:?}");
    assert_eq!(snapshot.sent, snapshot.scheduled);
    assert_eq!(snapshot.answered, snapshot.sent);
    let client_rate = snapshot.answered as f64 / 10.0;
    let server_rate = served / 10.0;
    for (who, rate) in [("client", client_rate), ("server", server_rate)] {
        assert!(
            (rate - 200.0).abs() <= 2.0,
            "{who}-side rate {rate:.2} req/s is not within 1 % of 200: {snapshot:?}"
        );
    }
    assert_eq!(
        served, snapshot.answered as f64,
        "the server saw every answer"
    );
    assert_eq!(snapshot.statuses.get(&200), Some(&snapshot.answered));
}

/// Freezes the sandbox for `stall` in every second, `seconds` times, by SIGSTOP and SIGCONT on
/// its PID: a real stall, like a long GC pause. The process is always continued at the end.
fn stall_every_second(pid: u32, stall: Duration, seconds: u32) -> std::thread::JoinHandle<()> {
    let pid = libc::pid_t::try_from(pid).expect("a PID");
    std::thread::spawn(move || {
        for _ in 0..seconds {
            std::thread::sleep(Duration::from_secs(1) - stall);
            // SAFETY: kill(2) on the PID of a child this test started.
            unsafe { libc::kill(pid, libc::SIGSTOP) };
            std::thread::sleep(stall);
            // SAFETY: as above.
            unsafe { libc::kill(pid, libc::SIGCONT) };
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_shows_in_corrected_latency_but_hides_from_a_closed_model() {
    let _timed = TIMED.lock().await;
    let sandbox = Sandbox::start(&["--workers", "64"]);
    let stall = Duration::from_millis(200);
    let run = Duration::from_secs(10);

    // Open model at 100 req/s: requests due during a stall wait, and count from their due time.
    let stalls = stall_every_second(sandbox.pid(), stall, 10);
    let open = run_open(&sandbox.url, plan(Profile::Steady, 100.0, run, "balance=1")).await;
    stalls.join().expect("stall thread");
    let corrected = open.latency.expect("open-model latency");
    eprintln!("open model, from the scheduled time: {corrected:?}");
    eprintln!("open model, from the send: {:?}", open.service_time);
    assert!(
        corrected.p99_ms >= 150.0,
        "p99 {:.1} ms does not show the 200 ms stalls",
        corrected.p99_ms
    );
    assert!(
        corrected.p50_ms < 50.0,
        "p50 {:.1} ms: most requests are not stalled",
        corrected.p50_ms
    );
    assert_eq!(open.dropped, 0);

    // Closed model, 2 connections, the same stalls: each connection waits out a stall with one
    // request, then sends thousands of fast ones, so the stall hides below p99.
    let stalls = stall_every_second(sandbox.pid(), stall, 10);
    let http = http_client().expect("HTTP client");
    let mut closed_plan = plan(Profile::Steady, 0.0, run, "balance=1");
    closed_plan.retry.attempt_timeout = Duration::from_secs(10);
    let closed = LoadHandle::start_closed(http, sandbox.url.clone(), closed_plan, 2)
        .finish()
        .await;
    stalls.join().expect("stall thread");
    let uncorrected = closed.latency.expect("closed-model latency");
    eprintln!(
        "closed model, 2 connections ({} requests): {uncorrected:?}",
        closed.answered
    );
    assert!(
        uncorrected.max_ms >= 150.0,
        "the closed model met the stalls too (max {:.1} ms)",
        uncorrected.max_ms
    );
    assert!(
        uncorrected.p99_ms * 3.0 < corrected.p99_ms,
        "closed-model p99 {:.1} ms should be far below the corrected {:.1} ms",
        uncorrected.p99_ms,
        corrected.p99_ms
    );
}

/// `gameday load ARGS` with an empty home, so no user setting names a remote `api`.
fn gameday_load(args: &[&str]) -> (i32, String, String) {
    let home = tempfile::tempdir().expect("temporary home");
    let output = Command::new(support::GAMEDAY)
        .arg("load")
        .args(args)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env_remove("GAMEDAY_CONFIG")
        .env_remove("GAMEDAY_API")
        .output()
        .expect("gameday runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_command_prints_a_json_summary_with_the_right_counts() {
    let sandbox = Sandbox::start(&["--workers", "64"]);
    let api = Api::new(&sandbox.url);
    let before = server_requests(&api).await;
    let url = sandbox.url.clone();
    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || {
        let _timed = TIMED.blocking_lock();
        gameday_load(&[
            "--target",
            &url,
            "--rate",
            "50",
            "--duration",
            "3s",
            "--json",
        ])
    })
    .await
    .expect("gameday load ran");
    assert_eq!(code, 0, "stderr: {stderr}");
    let summary: Value = serde_json::from_str(stdout.trim()).expect("one JSON object on stdout");
    assert_eq!(summary["model"], "open");
    assert_eq!(summary["profile"], "steady");
    assert_eq!(summary["rate"], 50.0);
    assert_eq!(summary["target"], sandbox.url.as_str());
    // Due at 0, 20 ms, ... 2980 ms: 150 requests in 3 s.
    assert_eq!(summary["scheduled"], 150, "{summary}");
    assert_eq!(summary["sent"], 150, "{summary}");
    assert_eq!(summary["answered"], 150, "{summary}");
    assert_eq!(summary["dropped"], 0);
    assert_eq!(summary["unanswered"], 0);
    assert_eq!(summary["errors"], 0);
    let by_status: u64 = summary["statuses"]
        .as_object()
        .expect("statuses")
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(by_status, 150, "{summary}");
    for key in ["p50", "p95", "p99", "max"] {
        assert!(summary["latency_ms"][key].as_f64().is_some(), "{summary}");
    }
    let served = server_requests(&api).await - before;
    assert_eq!(served, 150.0, "the sandbox counted every request");
}

#[test]
fn headless_command_refuses_remote_targets_and_bad_flags() {
    let cases: [(&[&str], &str); 7] = [
        (
            &["--target", "http://192.0.2.10:5000", "--duration", "1s"],
            "sends only to loopback addresses",
        ),
        (
            &["--target", "http://127.0.0.1:9", "--duration", "0s"],
            "--duration 0s: expected 100ms to 24h",
        ),
        (
            &["--target", "http://127.0.0.1:9", "--rate", "fast"],
            "invalid value 'fast' for '--rate",
        ),
        (
            &["--target", "http://127.0.0.1:9", "--rate", "0"],
            "expected requests per second above 0",
        ),
        (
            &["--target", "http://127.0.0.1:9", "--profile", "wave"],
            "expected steady, ramp",
        ),
        (
            &[
                "--target",
                "http://127.0.0.1:9",
                "--rate",
                "5",
                "--connections",
                "4",
            ],
            "cannot be used with",
        ),
        (&["--rate", "5"], "--target <URL>"),
    ];
    for (args, expected) in cases {
        let (code, stdout, stderr) = gameday_load(args);
        assert_ne!(code, 0, "{args:?} was accepted: {stdout}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?} printed a summary: {stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_storm_amplifies_failures_within_the_policy() {
    let _timed = TIMED.lock().await;
    let sandbox = Sandbox::start(&["--workers", "64"]);
    let api = Api::new(&sandbox.url);
    let (status, body) = api.post("/api/failures", r#"{"error_rate":50}"#).await;
    assert_eq!(status, 200, "{body}");
    let before = server_requests(&api).await;
    let policy = RetryPolicy {
        max_retries: 2,
        backoff: Duration::from_millis(20),
        attempt_timeout: Duration::from_secs(5),
    };
    let storm = run_open(
        &sandbox.url,
        LoadPlan {
            retry: policy,
            ..plan(
                Profile::RetryStorm,
                50.0,
                Duration::from_secs(4),
                "balance=1",
            )
        },
    )
    .await;
    let served = server_requests(&api).await - before;
    eprintln!("retry storm: {storm:?}");

    assert_eq!(storm.scheduled, 200);
    assert_eq!(storm.dropped, 0);
    // Half of the attempts fail: about 1 + 0.5 + 0.25 attempts per request.
    assert!(
        storm.sent as f64 > storm.scheduled as f64 * 1.3,
        "no amplification: {} attempts for {} requests",
        storm.sent,
        storm.scheduled
    );
    assert!(
        storm.sent <= storm.scheduled * u64::from(1 + policy.max_retries),
        "more attempts than the policy allows"
    );
    assert_eq!(storm.retries, storm.sent - storm.scheduled);
    assert_eq!(storm.answered, storm.sent);
    assert_eq!(served, storm.sent as f64, "the server saw every attempt");
    // A request fails only when all its three attempts did: about 1 in 8.
    assert!(storm.failed_requests < storm.scheduled / 4, "{storm:?}");
    let errors = storm.statuses.get(&500).copied().unwrap_or(0);
    assert!(
        errors >= storm.retries,
        "every retry follows a 500: {errors} errors, {} retries",
        storm.retries
    );

    // The same failures without the storm profile: one attempt per request.
    let steady = run_open(
        &sandbox.url,
        plan(Profile::Steady, 50.0, Duration::from_secs(2), "balance=1"),
    )
    .await;
    assert_eq!(steady.sent, steady.scheduled);
    assert_eq!(steady.retries, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_steers_a_running_load_and_stops_it_at_once() {
    let sandbox = Sandbox::start(&["--workers", "64"]);
    let http = http_client().expect("HTTP client");
    let handle = LoadHandle::start_open(
        http,
        sandbox.url.clone(),
        LoadPlan {
            duration: None,
            mix: Mix::default(),
            ..LoadPlan::steady(0.0)
        },
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(handle.snapshot().sent, 0, "rate 0 pauses");

    handle.set_rate(50.0);
    assert_eq!(handle.rate(), 50.0);
    eventually(
        "answers after the rate is set",
        Duration::from_secs(10),
        || {
            let answered = handle.snapshot().answered;
            async move { (answered >= 20).then_some(()) }
        },
    )
    .await;
    let snapshot = handle.snapshot();
    assert_eq!(snapshot.target_rate, 50.0);
    assert!(snapshot.recent.requests_per_s > 0.0, "{snapshot:?}");
    assert!(snapshot.recent.latency.is_some(), "{snapshot:?}");

    handle.set_profile(Profile::DEFAULT_SPIKE);
    assert_eq!(handle.profile(), Profile::DEFAULT_SPIKE);
    assert_eq!(handle.snapshot().profile, "spike");

    let started = Instant::now();
    handle.stop();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "stop returns promptly"
    );
}

/// The workshop's own way of making traffic: one client, a pause after every answer. Over
/// 3 s with a 200 ms pause it sends about 15 requests, whatever the target could take; paused,
/// it sends none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_loop_with_think_time_sends_one_request_per_pause_and_can_pause() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    let before = server_requests(&api).await;
    let http = http_client().expect("HTTP client");
    let closed = LoadPlan {
        think: Duration::from_millis(200),
        ..plan(Profile::Steady, 0.0, Duration::from_secs(3), "balance=1")
    };
    let handle = LoadHandle::start_closed(http.clone(), sandbox.url.clone(), closed, 1);
    assert_eq!(
        handle.closed_description().as_deref(),
        Some("closed: 1 client, think 200ms")
    );
    let snapshot = handle.finish().await;
    let served = server_requests(&api).await - before;
    eprintln!(
        "closed loop, 200 ms think, 3 s: {} answered, {served} served",
        snapshot.answered
    );
    assert!((10..=16).contains(&snapshot.answered), "{snapshot:?}");
    assert_eq!(served, snapshot.answered as f64);

    let paused = LoadHandle::start_closed(
        http,
        sandbox.url.clone(),
        LoadPlan {
            duration: None,
            ..plan(Profile::Steady, 0.0, Duration::from_secs(1), "balance=1")
        },
        2,
    );
    paused.set_paused(true);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let at_pause = paused.snapshot().answered;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        paused.snapshot().answered,
        at_pause,
        "paused clients send nothing"
    );
    assert!(
        paused
            .closed_description()
            .is_some_and(|d| d.ends_with(", paused"))
    );
    paused.stop();
}

/// Payments in the mix go through the sandbox to its embedded provider: each request carries
/// its own idempotency key, every one is created (201), and the provider's signed webhooks
/// credit each once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_in_the_mix_are_created_once_each_and_credited_by_webhook() {
    let _timed = TIMED.lock().await;
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    let snapshot = run_open(
        &sandbox.url,
        plan(
            Profile::Steady,
            20.0,
            Duration::from_secs(2),
            "payment=1,balance=1",
        ),
    )
    .await;
    let created = snapshot.statuses.get(&201).copied().unwrap_or(0);
    assert!(created >= 15, "{:?}", snapshot.statuses);
    assert_eq!(snapshot.errors(), 0, "{:?}", snapshot.statuses);
    // Every payment the sandbox took was a new one: the keys were all different.
    let payments = |text: &str, status: &str| -> f64 {
        text.lines()
            .filter(|line| line.starts_with("fintech_payments_total{"))
            .filter(|line| line.contains(&format!("status=\"{status}\"")))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let created = created as f64;
    eventually(
        "every payment credited by its webhook",
        Duration::from_secs(15),
        || async {
            let text = api.metrics().await;
            (payments(&text, "succeeded") == created).then_some(())
        },
    )
    .await;
    let text = api.metrics().await;
    assert!(
        text.lines()
            .any(|line| line.starts_with("fintech_ledger_double_credits") && line.ends_with(" 0")),
        "{text}"
    );
}
