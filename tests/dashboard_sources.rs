//! The dashboard's sources wired as `gameday --api ... --prometheus ... --docker` wires them,
//! feeding the same state the screen is drawn from, against real services: the panel values
//! equal the same PromQL queried directly, and the memory panel equals the engine's own stats
//! and shows a container killed for memory and restarted.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::time::{Duration, Instant};

use gameday::app::wiring::{self, Running};
use gameday::config::{DockerSetting, Lang, LoadSetting, Settings};
use gameday::model::{Model, PanelId};
use gameday::signals::Signal;
use gameday::sources::Update;
use gameday::theme::Themes;
use gameday::units::HumanDuration;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use support::podman::Podman;
use support::{Api, Prometheus, Sandbox};
use tokio::sync::mpsc;

fn settings(api: &str) -> Settings {
    let mut settings = Settings::defaults(&|_: &str| None);
    settings.api = Some(api.to_string());
    settings.load = LoadSetting::Off;
    settings.poll_interval = HumanDuration(Duration::from_secs(1));
    settings
}

/// The wired sources and the state they feed, as the app loop keeps it.
struct Dashboard {
    running: Option<Running>,
    updates: mpsc::Receiver<Update>,
    state: Model,
}

impl Dashboard {
    async fn start(settings: &Settings) -> Dashboard {
        let (sender, updates) = mpsc::channel(1024);
        let running = wiring::start(settings, sender)
            .await
            .expect("sources start");
        let state = Model::for_target(
            running.target.clone(),
            &running.sources,
            running.local_rules,
            gameday::signals::now_unix(),
        );
        Dashboard {
            running: Some(running),
            updates,
            state,
        }
    }

    /// Applies updates until `done` holds, or panics after `timeout`.
    async fn until(&mut self, what: &str, timeout: Duration, done: impl Fn(&Model) -> bool) {
        let deadline = Instant::now() + timeout;
        while !done(&self.state) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            if let Ok(Some(update)) =
                tokio::time::timeout(Duration::from_millis(500), self.updates.recv()).await
            {
                self.state.now = gameday::signals::now_unix();
                self.state.apply(update);
            }
        }
    }

    fn screen(&self, width: u16, height: u16) -> String {
        let themes = Themes::builtin();
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        terminal
            .draw(|frame| gameday::ui::render(frame, &self.state, themes.default_theme(), Lang::En))
            .expect("draws");
        terminal.backend().to_string()
    }

    async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }
}

#[tokio::test]
async fn panels_read_the_same_values_as_the_promql_queried_directly() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    let prometheus = Prometheus::start(sandbox.host_port(), "groups: []\n");
    let mut settings = settings(&sandbox.url);
    settings.prometheus = Some(prometheus.url.clone());
    // The dashboard's own load makes the traffic.
    settings.load = LoadSetting::Rate(40.0);
    api.post("/api/failures", r#"{"latency_ms": 120, "error_rate": 20}"#)
        .await;
    let mut dashboard = Dashboard::start(&settings).await;
    dashboard
        .until(
            "every panel to have a value",
            Duration::from_secs(40),
            |state| {
                [
                    Signal::LatencyP95,
                    Signal::Rps,
                    Signal::ErrorRatio,
                    Signal::MemoryBytes,
                ]
                .iter()
                .all(|signal| state.current(*signal).is_some())
                    && state.current(Signal::Rps).is_some_and(|rps| rps > 10.0)
            },
        )
        .await;

    let window = "1m";
    let expected = [
        (
            Signal::LatencyP50,
            format!(
                "histogram_quantile(0.5, sum by (le) (rate(fintech_request_latency_seconds_bucket[{window}])))"
            ),
        ),
        (
            Signal::LatencyP95,
            format!(
                "histogram_quantile(0.95, sum by (le) (rate(fintech_request_latency_seconds_bucket[{window}])))"
            ),
        ),
        (
            Signal::LatencyP99,
            format!(
                "histogram_quantile(0.99, sum by (le) (rate(fintech_request_latency_seconds_bucket[{window}])))"
            ),
        ),
        (
            Signal::Rps,
            format!("sum(rate(fintech_requests_total[{window}]))"),
        ),
        (
            Signal::ErrorRatio,
            format!(
                "sum(rate(fintech_requests_total{{status=~\"5..\"}}[{window}])) / sum(rate(fintech_requests_total[{window}]))"
            ),
        ),
        (
            Signal::ActiveTransactions,
            "sum(fintech_active_transactions)".to_string(),
        ),
        (
            Signal::MemoryBytes,
            "sum(process_resident_memory_bytes{job=\"fincore\"})".to_string(),
        ),
    ];
    for (signal, promql) in expected {
        let sample = dashboard.state.live.store.latest(signal).expect("a sample");
        let direct: f64 = prometheus
            .query(&api.http, &promql, Some(sample.at))
            .await
            .first()
            .and_then(|result| result["value"][1].as_str()?.parse().ok())
            .unwrap_or_else(|| panic!("{promql} has no value"));
        let tolerance = 1e-9 * direct.abs().max(1.0);
        assert!(
            (sample.value - direct).abs() <= tolerance,
            "{signal}: panel {} vs PromQL {direct}",
            sample.value
        );
    }
    // And they are what the injection makes them: 120 ms of delay, 20 % errors.
    let p50 = dashboard.state.current(Signal::LatencyP50).expect("p50");
    assert!((0.1..=0.25).contains(&p50), "p50 {p50}");
    let errors = dashboard.state.current(Signal::ErrorRatio).expect("errors");
    assert!((0.1..=0.3).contains(&errors), "error ratio {errors}");
    let screen = dashboard.screen(200, 50);
    assert!(screen.contains("prometheus · window rate[1m]"), "{screen}");
    dashboard.stop().await;
}

#[tokio::test]
async fn the_memory_panel_equals_the_engine_and_shows_a_restart_after_an_oom_kill() {
    let podman = Podman::start();
    podman.build_sandbox_image();
    let container = podman.run_sandbox("fincore-app", &[]);
    let api = Api::new(&container.url);
    let mut settings = settings(&container.url);
    settings.docker = DockerSetting::Host(podman.host.clone());
    settings.container = Some(container.name.clone());
    let mut dashboard = Dashboard::start(&settings).await;
    dashboard
        .until("the container's memory", Duration::from_secs(30), |state| {
            state.current(Signal::MemoryBytes).is_some()
                && state.current(Signal::MemoryLimitBytes).is_some()
        })
        .await;
    let panel = dashboard
        .state
        .current(Signal::MemoryBytes)
        .expect("memory");
    let stats = podman.api_get(&format!("/containers/{}/stats?stream=false", container.id));
    let engine = stats["memory_stats"]["usage"].as_f64().expect("usage");
    assert!(
        (panel - engine).abs() <= 2.0 * 1_048_576.0,
        "panel {panel} vs engine {engine}"
    );
    assert_eq!(
        dashboard.state.current(Signal::MemoryLimitBytes),
        Some(256.0 * 1_048_576.0)
    );
    assert_eq!(dashboard.state.current(Signal::Restarts), Some(0.0));

    // Leak until the engine kills it for memory; --restart=always brings it back.
    api.post("/api/failures", r#"{"memory_leak_mb": 5}"#).await;
    for _ in 0..300 {
        if api
            .http
            .get(format!("{}/api/balance", container.url))
            .send()
            .await
            .is_err()
        {
            break;
        }
    }
    dashboard
        .until(
            "the restart on the panel",
            Duration::from_secs(60),
            |state| {
                state
                    .current(Signal::Restarts)
                    .is_some_and(|restarts| restarts >= 1.0)
            },
        )
        .await;
    assert!(
        dashboard
            .state
            .live
            .logs
            .iter()
            .any(|line| line.text.starts_with("gameday: container fincore-app")),
        "the container's restart is in the log: {:?}",
        dashboard.state.live.logs
    );
    dashboard.state.view.focus = PanelId::Memory;
    dashboard.state.view.zoomed = true;
    let screen = dashboard.screen(100, 30);
    assert!(screen.contains("restarts 1"), "{screen}");
    assert!(screen.contains("limit 256 MiB"), "{screen}");
    dashboard.stop().await;
}

/// The `Up` values sent so far.
fn up_values(updates: &mut mpsc::Receiver<Update>) -> Vec<f64> {
    let mut values = Vec::new();
    while let Ok(update) = updates.try_recv() {
        if let Update::Signals { values: read, .. } = update {
            values.extend(
                read.iter()
                    .filter(|(s, _)| *s == Signal::Up)
                    .map(|(_, v)| *v),
            );
        }
    }
    values
}

/// A light observer: polled every 200 ms, the health check still sends `up` every poll but
/// asks the instrumented `/health` at most once per 5 s, gives up on it after 2 s (slow is
/// not down: `up` stays 1 while the API answers), and a 503 is `up` = 0 within a probe period.
#[tokio::test]
async fn the_health_check_probes_at_most_every_5_s_and_slow_is_not_down() {
    use gameday::fincore::FincoreClient;
    use gameday::sources::health::HealthCheck;
    use gameday::sources::run_poller;

    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    let client = FincoreClient::new(&sandbox.url).expect("client");
    let (sender, mut updates) = mpsc::channel(1024);
    let started = Instant::now();
    let poller = tokio::spawn(run_poller(
        HealthCheck::new(client),
        Duration::from_millis(200),
        sender,
    ));
    tokio::time::sleep(Duration::from_millis(11_000)).await;
    let probes = api
        .metric("fintech_requests_total{endpoint=\"/health\",method=\"GET\",status=\"200\"}")
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    let ups = up_values(&mut updates);
    eprintln!(
        "in {elapsed:.1} s at a 200 ms poll interval: {} up values, {probes} /health requests",
        ups.len()
    );
    assert!(
        (2.0..=3.0).contains(&probes),
        "{probes} probes in {elapsed:.1} s"
    );
    assert!(ups.len() >= 40, "{} up values", ups.len());
    assert!(ups.iter().all(|up| *up == 1.0), "{ups:?}");

    // 3 s on every request, /health included: the probe gives up at 2 s, but the API answers.
    api.post("/api/failures", r#"{"latency_ms": 3000}"#).await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    let slow = up_values(&mut updates);
    assert!(
        slow.iter().all(|up| *up == 1.0),
        "slow is not down: {slow:?}"
    );
    api.post("/api/reset", "").await;

    // The database fails: /health answers 503, which is down.
    api.post("/api/failures", r#"{"db_fail": true}"#).await;
    let deadline = Instant::now() + Duration::from_secs(9);
    let mut seen = Vec::new();
    while !seen.contains(&0.0) {
        assert!(Instant::now() < deadline, "up never 0: {seen:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        seen.extend(up_values(&mut updates));
    }
    api.post("/api/reset", "").await;
    poller.abort();
}

/// The probe says who it is, so the target's logs can tell it from real traffic.
#[tokio::test]
async fn the_health_probe_has_its_own_user_agent() {
    use gameday::fincore::{FincoreClient, OBSERVER_USER_AGENT};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("a connection");
        let mut request = vec![0u8; 4096];
        let read = stream.read(&mut request).await.expect("a request");
        let body = r#"{"status":"healthy","database":"connected"}"#;
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(answer.as_bytes()).await.expect("answer");
        String::from_utf8_lossy(&request[..read]).to_lowercase()
    });
    let client = FincoreClient::new(&url).expect("client");
    let health = client.health().await.expect("an answer");
    assert_eq!(health.status_code, 200);
    let request = server.await.expect("server");
    assert!(request.starts_with("get /health "), "{request}");
    let agent = format!("user-agent: {}\r\n", OBSERVER_USER_AGENT.to_lowercase());
    assert!(request.contains(&agent), "{request}");
    assert!(OBSERVER_USER_AGENT.ends_with(" (observer)"));
}
