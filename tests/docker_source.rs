//! The Docker source against a real engine: podman's Docker-compatible API, started privately
//! per test, running the release binary's sandbox in containers (`tests/support/podman.rs`).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gameday::sources::docker::{ContainerSnapshot, DockerSource, DockerTarget};
use support::podman::{Podman, SANDBOX_MEMORY_LIMIT_BYTES};
use support::{Api, free_port};

const APP_LABEL: &str = "com.docker.compose.service=app";
const MIB: u64 = 1024 * 1024;

fn engine_with_image() -> Podman {
    let podman = Podman::start();
    podman.build_sandbox_image();
    podman
}

async fn connect(podman: &Podman, container: Option<&str>) -> DockerSource {
    let target = DockerTarget {
        host: Some(podman.host.clone()),
        container: container.map(str::to_string),
    };
    DockerSource::connect(&target)
        .await
        .unwrap_or_else(|err| panic!("connect: {err}"))
}

async fn poll_one(source: &mut DockerSource) -> ContainerSnapshot {
    let mut snapshots = source
        .poll()
        .await
        .unwrap_or_else(|err| panic!("poll: {err}"));
    assert_eq!(snapshots.len(), 1, "one container expected: {snapshots:?}");
    snapshots.remove(0)
}

/// Polls every 200 ms until `done` holds for the only snapshot, or panics after `timeout`.
async fn poll_until(
    source: &mut DockerSource,
    what: &str,
    timeout: Duration,
    done: impl Fn(&ContainerSnapshot) -> bool,
) -> ContainerSnapshot {
    let deadline = Instant::now() + timeout;
    loop {
        let snapshot = poll_one(source).await;
        if done(&snapshot) {
            return snapshot;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last: {snapshot:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

/// (a) By name and by compose label; 256 MiB limit; memory as the engine itself reports it.
#[tokio::test]
async fn poll_finds_the_container_by_name_and_label_with_the_engines_memory() {
    let podman = engine_with_image();
    let sandbox = podman.run_sandbox("fincore-a", &[APP_LABEL]);
    // Not labelled: the label search must leave it out.
    podman.run_busybox("bystander", &[], &["sleep", "600"]);

    let mut by_name = connect(&podman, Some("fincore-a")).await;
    let named = poll_one(&mut by_name).await;
    assert_eq!(named.name, "fincore-a");
    assert_eq!(named.id, sandbox.id);
    assert_eq!(named.state, "running");
    assert_eq!(named.restart_count, 0);
    assert_eq!(named.memory_limit_bytes, Some(SANDBOX_MEMORY_LIMIT_BYTES));
    assert!(named.started_at.is_some(), "{named:?}");

    let mut by_label = connect(&podman, None).await;
    let labelled = poll_one(&mut by_label).await;
    assert_eq!(labelled.id, sandbox.id);

    // Hold 20 MiB more so the figure compared is not a near-empty cgroup's.
    let api = Api::new(&sandbox.url);
    assert_eq!(
        api.post("/api/failures", r#"{"memory_leak_mb":5}"#).await.0,
        200
    );
    for _ in 0..4 {
        assert_eq!(api.get("/api/balance").await.0, 200);
    }

    let stats_path = format!("/containers/{}/stats?stream=false", sandbox.id);
    for round in 0..3 {
        let ours = poll_one(&mut by_name).await.memory_usage_bytes.unwrap_or(0);
        let engine = podman.api_get(&stats_path)["memory_stats"]["usage"]
            .as_u64()
            .unwrap_or(0);
        let difference = ours.abs_diff(engine);
        eprintln!(
            "memory round {round}: ours {ours} B, engine {engine} B, difference {difference} B"
        );
        assert!(engine > 20 * MIB, "the leak should show: {engine} B");
        assert!(difference <= 256 * 1024, "ours {ours} vs engine {engine}");
    }
    // The second and later samples carry a CPU figure; an idle sandbox is nearly idle.
    let cpu = poll_one(&mut by_name).await.cpu_cores;
    eprintln!("idle sandbox: {cpu:?} cores");
    assert!(
        cpu.is_some_and(|cores| (0.0..0.5).contains(&cores)),
        "{cpu:?}"
    );
}

/// CPU in cores agrees with the kernel's own count for a busy loop (utime + stime in /proc).
#[tokio::test]
async fn cpu_cores_match_the_kernels_count_for_a_busy_loop() {
    let podman = engine_with_image();
    let id = podman.run_busybox("burner", &[], &["sh", "-c", "while :; do :; done"]);
    let pid = podman.api_get(&format!("/containers/{id}/json"))["State"]["Pid"]
        .as_i64()
        .unwrap_or(0);
    assert!(pid > 0, "the busy loop's host PID");
    let kernel_cpu_seconds = || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Fields after the command name: state is field 3, utime 14, stime 15.
        let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let fields: Vec<f64> = after_name
            .split_whitespace()
            .map(|field| field.parse().unwrap_or(0.0))
            .collect();
        (fields[11] + fields[12]) / 100.0
    };

    let mut source = connect(&podman, Some("burner")).await;
    assert_eq!(poll_one(&mut source).await.cpu_cores, None, "first sample");
    let (kernel_before, wall_before) = (kernel_cpu_seconds(), Instant::now());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ours = poll_one(&mut source).await.cpu_cores.unwrap_or(-1.0);
    let kernel = (kernel_cpu_seconds() - kernel_before) / wall_before.elapsed().as_secs_f64();
    eprintln!("busy loop: ours {ours:.3} cores, kernel {kernel:.3} cores");
    assert!(ours > 0.2, "a busy loop is busy: {ours}");
    assert!(
        (ours - kernel).abs() < 0.15,
        "ours {ours} vs kernel {kernel}"
    );
}

/// (b) A leak of 5 MiB per request outgrows the 256 MiB limit; the container is killed (exit
/// 137, as the engine's `die` event says) and restarted, and `poll` counts the restart.
#[tokio::test]
async fn a_memory_kill_and_restart_show_in_restart_count() {
    let podman = engine_with_image();
    let sandbox = podman.run_sandbox("fincore-leak", &[APP_LABEL]);
    let mut source = connect(&podman, None).await;
    let before = poll_one(&mut source).await;
    assert_eq!(before.restart_count, 0);
    let since = unix_now() - 1;

    let api = Api::new(&sandbox.url);
    assert_eq!(
        api.post("/api/failures", r#"{"memory_leak_mb":5}"#).await.0,
        200
    );
    let client = gameday::fincore::tls::client_builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("HTTP client");
    let started = Instant::now();
    let (mut requests, mut failures, mut peak) = (0, 0, 0u64);
    // 256 MiB / 5 MiB is about 51 requests; 300 is the bound.
    while requests < 300 {
        requests += 1;
        let answered = client
            .get(format!("{}/api/balance", sandbox.url))
            .send()
            .await
            .is_ok_and(|response| response.status().is_success());
        if !answered {
            failures += 1;
        }
        if requests % 5 == 0 || !answered {
            let snapshot = poll_one(&mut source).await;
            peak = peak.max(snapshot.memory_usage_bytes.unwrap_or(0));
            if snapshot.restart_count > before.restart_count {
                break;
            }
        }
    }
    let after = poll_until(&mut source, "the restart", Duration::from_secs(30), |s| {
        s.restart_count > before.restart_count && s.state == "running"
    })
    .await;
    eprintln!(
        "leak: {requests} requests ({failures} failed), peak {} MiB seen, restarted after {:.1} s: {after:?}",
        peak / MIB,
        started.elapsed().as_secs_f64()
    );
    assert!(peak > 128 * MIB, "memory climbed toward the limit: {peak}");

    let events = podman.events(since, unix_now() + 1);
    let exit_codes: Vec<&str> = events
        .iter()
        .filter(|event| event["Action"] == "die" && event["Actor"]["ID"] == sandbox.id.as_str())
        .filter_map(|event| event["Actor"]["Attributes"]["exitCode"].as_str())
        .collect();
    assert!(exit_codes.contains(&"137"), "die events: {exit_codes:?}");
    support::eventually("the restarted sandbox", Duration::from_secs(30), || async {
        answers(&client, &sandbox.url).await.then_some(())
    })
    .await;
}

async fn answers(client: &reqwest::Client, url: &str) -> bool {
    client
        .get(format!("{url}/health"))
        .send()
        .await
        .is_ok_and(|response| response.status().is_success())
}

/// While podman restarts a container it reports a state bollard's enum does not know
/// (`stopped`); polls across many restarts must all succeed and count them.
#[tokio::test]
async fn poll_survives_a_container_that_keeps_restarting() {
    let podman = engine_with_image();
    let options = ["--restart=always", "--label", APP_LABEL];
    podman.run_busybox("flapper", &options, &["sh", "-c", "sleep 0.3; exit 3"]);
    let mut source = connect(&podman, None).await;
    let mut states = std::collections::BTreeMap::new();
    let mut last = None;
    for _ in 0..60 {
        let snapshot = poll_one(&mut source).await;
        *states.entry(snapshot.state.clone()).or_insert(0) += 1;
        last = Some(snapshot);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("states seen: {states:?}; last: {last:?}");
    let restarts = last.map(|snapshot| snapshot.restart_count).unwrap_or(0);
    assert!(restarts >= 3, "restarts counted: {restarts}");
}

/// (c) The log tail is the sandbox's stdout and stderr: its JSON log lines.
#[tokio::test]
async fn log_tail_returns_the_sandboxs_json_log_lines() {
    let podman = engine_with_image();
    let sandbox = podman.run_sandbox("fincore-logs", &[]);
    let api = Api::new(&sandbox.url);
    for _ in 0..3 {
        api.get("/api/balance").await;
    }
    let mut source = connect(&podman, Some("fincore-logs")).await;

    let lines = source
        .log_tail(&sandbox.id, 0, 100)
        .await
        .unwrap_or_else(|err| panic!("log_tail: {err}"));
    eprintln!("{} log lines, first: {:?}", lines.len(), lines.first());
    let json: Vec<serde_json::Value> = lines
        .iter()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    assert!(
        json.iter().any(|line| line["event"] == "sandbox_started"),
        "{lines:?}"
    );
    // stdout too: the address line is printed there.
    assert!(
        lines.iter().any(|line| line.starts_with("listening on ")),
        "{lines:?}"
    );

    let last = source.log_tail(&sandbox.id, 0, 1).await.unwrap_or_default();
    assert_eq!(last.len(), 1);
    assert_eq!(last.last(), lines.last());
    let future = source.log_tail(&sandbox.id, unix_now() + 3600, 100).await;
    assert_eq!(future, Ok(Vec::new()));
}

/// (d) stop, start and restart change what `poll` reports; a removed container is an error
/// that names it.
#[tokio::test]
async fn actions_change_the_state_poll_reports() {
    let podman = engine_with_image();
    let sandbox = podman.run_sandbox("fincore-actions", &[]);
    let mut source = connect(&podman, Some("fincore-actions")).await;
    let first = poll_one(&mut source).await;
    assert_eq!(first.state, "running");

    let timed = Instant::now();
    source.stop("fincore-actions").await.expect("stop");
    let stopped = poll_one(&mut source).await;
    eprintln!("stop took {:?}: {stopped:?}", timed.elapsed());
    assert_eq!(stopped.state, "exited");
    assert_eq!(stopped.memory_usage_bytes, None);
    assert_eq!(stopped.cpu_cores, None);

    source.start(&sandbox.id).await.expect("start");
    let started = poll_one(&mut source).await;
    assert_eq!(started.state, "running");
    assert_ne!(started.started_at, first.started_at);
    // Until its signal handler is in place the sandbox, as PID 1, ignores SIGTERM and a
    // restart would wait out the grace period; wait until it serves.
    let api = Api::new(&sandbox.url);
    support::eventually("the started sandbox", Duration::from_secs(30), || async {
        api.http
            .get(format!("{}/health", api.base))
            .send()
            .await
            .is_ok_and(|response| response.status().is_success())
            .then_some(())
    })
    .await;

    let timed = Instant::now();
    source.restart("fincore-actions").await.expect("restart");
    let restarted = poll_one(&mut source).await;
    eprintln!("restart took {:?}: {restarted:?}", timed.elapsed());
    assert_eq!(restarted.state, "running");
    assert_ne!(restarted.started_at, started.started_at);

    podman.remove("fincore-actions");
    let gone = source.poll().await;
    assert!(
        gone.as_ref()
            .is_err_and(|err| err.contains("fincore-actions")),
        "{gone:?}"
    );
    let missing = source.start("fincore-actions").await;
    assert!(
        missing.as_ref().is_err_and(|err| err.contains("404")),
        "{missing:?}"
    );
}

/// (e) An engine that is not there, refuses, or never answers gives a clear error quickly.
#[tokio::test]
async fn an_unreachable_engine_is_a_clear_error_not_a_hang() {
    let cases = [
        (
            "unix:///nonexistent/gameday/docker.sock".to_string(),
            "/nonexistent/gameday/docker.sock",
        ),
        (format!("tcp://127.0.0.1:{}", free_port()), "127.0.0.1"),
    ];
    for (host, named) in cases {
        let started = Instant::now();
        let target = DockerTarget {
            host: Some(host.clone()),
            container: None,
        };
        let err = DockerSource::connect(&target)
            .await
            .err()
            .unwrap_or_default();
        eprintln!("{host}: {:?}: {err}", started.elapsed());
        assert!(err.contains(named), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    // Accepts connections and never answers: the call timeout must end it.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = silent.local_addr().expect("address");
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let started = Instant::now();
    let target = DockerTarget {
        host: Some(format!("tcp://{address}")),
        container: None,
    };
    let err = DockerSource::connect(&target)
        .await
        .err()
        .unwrap_or_default();
    eprintln!("silent engine: {:?}: {err}", started.elapsed());
    assert!(err.contains("no answer within"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(8));
    holder.abort();
}
