//! A real Prometheus scrapes the sandbox with the workshop's own alert rules and with ours:
//! the alerts fire on the faults they are written for, the PromQL of the workshop dashboard
//! reads what the fault does, `promtool check metrics` accepts the exposition, and the
//! dependency alerts pass their `promtool test rules` on synthetic series.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::{Api, Prometheus, Sandbox, eventually};

const WORKSHOP_RULES: &str = include_str!("fixtures/workshop.rules.yml");
const OUR_RULES: &str = include_str!("../assets/prometheus/rules.yml");

/// The rules with every `for:` shortened so a test sees an alert fire in seconds.
fn with_short_for(rules: &str) -> String {
    rules
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("for:") {
                let indent = &line[..line.len() - line.trim_start().len()];
                format!("{indent}for: 3s")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Steady traffic at the sandbox, about 50 requests/s, until the handle is dropped or 120 s.
struct Traffic(tokio::task::JoinHandle<()>);

impl Traffic {
    fn start(api: &Api) -> Traffic {
        let http = api.http.clone();
        let base = api.base.clone();
        Traffic(tokio::spawn(async move {
            for _ in 0..6000 {
                let _ = http.get(format!("{base}/api/balance")).send().await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }))
    }
}

impl Traffic {
    /// About 10 payments/s through the embedded provider, each with its own key, so the
    /// provider's calls, payments and webhooks have rates too.
    fn payments(api: &Api) -> Traffic {
        let http = api.http.clone();
        let base = api.base.clone();
        Traffic(tokio::spawn(async move {
            for index in 0..1200 {
                let _ = http
                    .post(format!("{base}/api/payments"))
                    .header("content-type", "application/json")
                    .header("idempotency-key", format!("traffic-{index}"))
                    .body(r#"{"amount": 1, "account": "ACC-001"}"#)
                    .send()
                    .await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }))
    }
}

impl Drop for Traffic {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn alert_state(api: &Api, prometheus: &Prometheus, name: &str) -> Option<String> {
    let response: Value = api
        .http
        .get(format!("{}/api/v1/alerts", prometheus.url))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    response["data"]["alerts"]
        .as_array()?
        .iter()
        .find(|alert| alert["labels"]["alertname"] == name)
        .and_then(|alert| alert["state"].as_str().map(str::to_string))
}

#[tokio::test]
async fn the_workshop_high_error_rate_alert_fires_on_injected_errors() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    let prometheus = Prometheus::start(sandbox.host_port(), &with_short_for(WORKSHOP_RULES));
    let _traffic = Traffic::start(&api);

    // A healthy baseline first: nothing fires.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(alert_state(&api, &prometheus, "HighErrorRate").await, None);

    api.post("/api/failures", r#"{"error_rate": 50}"#).await;
    eventually("HighErrorRate to fire", Duration::from_secs(60), || async {
        (alert_state(&api, &prometheus, "HighErrorRate")
            .await
            .as_deref()
            == Some("firing"))
        .then_some(())
    })
    .await;
    assert_eq!(alert_state(&api, &prometheus, "HighLatency").await, None);
}

#[tokio::test]
async fn our_rules_fire_high_latency_and_the_dashboard_quantile_reads_the_injected_delay() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    let prometheus = Prometheus::start(sandbox.host_port(), &with_short_for(OUR_RULES));
    let _traffic = Traffic::start(&api);

    api.post("/api/failures", r#"{"latency_ms": 2600}"#).await;
    eventually("HighLatency to fire", Duration::from_secs(60), || async {
        (alert_state(&api, &prometheus, "HighLatency")
            .await
            .as_deref()
            == Some("firing"))
        .then_some(())
    })
    .await;

    // 300 ms from now on, over a window that only sees the new delay: the workshop reads p95
    // as about 0.48 s (interpolated between the 0.25 and 0.5 buckets); so must we.
    api.post("/api/failures", r#"{"latency_ms": 300}"#).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let result = prometheus.query(
        &api.http,
        "histogram_quantile(0.95, sum by (le) (rate(fintech_request_latency_seconds_bucket{endpoint=\"/api/balance\"}[3s])))",
        None,
    )
    .await;
    let p95: f64 = result
        .first()
        .and_then(|sample| sample["value"][1].as_str())
        .and_then(|value| value.parse().ok())
        .expect("a p95 sample");
    assert!((0.25..=0.5).contains(&p95), "p95 = {p95}");
}

#[tokio::test]
async fn promtool_accepts_the_exposition_and_the_rule_files() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    api.get("/api/balance").await;
    api.post("/api/transfer", r#"{"amount": 1, "to_account": "ACC-002"}"#)
        .await;
    api.post("/api/failures", r#"{"error_rate": 100}"#).await;
    api.get("/health").await;
    let exposition = api.metrics().await;
    for series in [
        "fintech_requests_total{",
        "fintech_request_latency_seconds_bucket{endpoint=\"/api/balance\",le=\"0.005\"}",
        "fintech_request_latency_seconds_bucket{endpoint=\"/api/balance\",le=\"10.0\"}",
        "fintech_active_transactions ",
        "fintech_db_pool_connections{state=\"in_use\"}",
        "fintech_db_pool_connections{state=\"idle\"}",
        "fintech_db_pool_wait_seconds_count",
        "process_resident_memory_bytes ",
        "process_cpu_seconds_total ",
        "process_start_time_seconds ",
        "process_open_fds ",
        "fintech_pattern_enabled{pattern=\"circuit_breaker\"} 0",
        "fintech_circuit_breaker_state{upstream=\"provider\"} 0",
        "fintech_bulkhead_in_use{upstream=\"provider\"} 0",
        "fintech_retries_total{upstream=\"provider\"} 0",
    ] {
        assert!(exposition.contains(series), "missing {series}");
    }

    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is installed (scripts/test.sh installs it)");
    promtool
        .stdin
        .take()
        .expect("stdin")
        .write_all(exposition.as_bytes())
        .expect("write exposition");
    let output = promtool.wait_with_output().expect("promtool finishes");
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let rules = Command::new("promtool")
        .args([
            "check",
            "rules",
            "assets/prometheus/rules.yml",
            "tests/fixtures/workshop.rules.yml",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("promtool runs");
    assert!(
        rules.status.success(),
        "{}",
        String::from_utf8_lossy(&rules.stdout)
    );

    // The dependency alerts on synthetic series: each fires on what it is written for.
    let unit_tests = Command::new("promtool")
        .args(["test", "rules", "tests/fixtures/dependency_alerts.test.yml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("promtool runs");
    assert!(
        unit_tests.status.success(),
        "{}{}",
        String::from_utf8_lossy(&unit_tests.stdout),
        String::from_utf8_lossy(&unit_tests.stderr)
    );
}

/// The dashboard's Prometheus source asks its queries side by side; each value must still be
/// the one its own query gives alone, at the same instant and over the same range. Prints how
/// long a poll and the start-up history take.
#[tokio::test]
async fn each_polled_value_and_history_equals_its_query_asked_alone() {
    use gameday::sources::prometheus::{PrometheusSource, queries};
    use std::time::Instant;

    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    let prometheus = Prometheus::start(sandbox.host_port(), "groups: []\n");
    let _traffic = Traffic::start(&api);
    let _payments = Traffic::payments(&api);
    api.post("/api/failures", r#"{"latency_ms": 40, "error_rate": 20}"#)
        .await;
    let source = PrometheusSource::new(api.http.clone(), &prometheus.url);
    // Two rate windows' worth of samples, so every query has a value.
    let at = eventually("a request rate", Duration::from_secs(30), || async {
        let at = gameday::signals::now_unix() - 2.0;
        let values = source.query_signals(at).await.ok()?;
        (values.len() == queries().len()).then_some(at)
    })
    .await;

    let values = source.query_signals(at).await.expect("a poll");
    for (signal, promql) in queries() {
        let alone = prometheus.query(&api.http, &promql, Some(at)).await;
        let expected: Option<f64> = alone
            .first()
            .and_then(|sample| sample["value"][1].as_str())
            .and_then(|text| text.parse().ok());
        let polled = values.iter().find(|(s, _)| *s == signal).map(|(_, v)| *v);
        assert_eq!(polled, expected, "{signal:?}: {promql}");
    }

    let end = at;
    let history = source.history(end).await.expect("history");
    assert_eq!(history.len(), queries().len());
    for ((signal, samples), (query_signal, promql)) in history.iter().zip(queries()) {
        assert_eq!(*signal, query_signal);
        let response: Value = api
            .http
            .get(format!("{}/api/v1/query_range", prometheus.url))
            .query(&[
                ("query", promql.clone()),
                ("start", format!("{:.3}", end - 900.0)),
                ("end", format!("{end:.3}")),
                ("step", "5".to_string()),
            ])
            .send()
            .await
            .expect("Prometheus answers")
            .json()
            .await
            .expect("JSON");
        let expected: Vec<(f64, f64)> = response["data"]["result"][0]["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|point| Some((point[0].as_f64()?, point[1].as_str()?.parse().ok()?)))
            .filter(|(_, value): &(f64, f64)| value.is_finite())
            .collect();
        let got: Vec<(f64, f64)> = samples.iter().map(|s| (s.at, s.value)).collect();
        assert_eq!(got, expected, "{signal:?}: {promql}");
    }

    // On loopback a query takes a fraction of a millisecond; across a network each round trip
    // adds its latency, which is what asking side by side saves.
    let target = prometheus.url.trim_start_matches("http://").to_string();
    let (far_url, _far) = delaying_proxy(target, ROUND_TRIP).await;
    let far = PrometheusSource::new(api.http.clone(), &far_url);
    for (name, source) in [("loopback", &source), ("20 ms away", &far)] {
        const ROUNDS: u32 = 10;
        let started = Instant::now();
        for _ in 0..ROUNDS {
            source.query_signals(at).await.expect("a poll");
        }
        let poll_ms = started.elapsed().as_secs_f64() * 1000.0 / f64::from(ROUNDS);
        let started = Instant::now();
        for _ in 0..ROUNDS {
            source.history(end).await.expect("history");
        }
        let history_ms = started.elapsed().as_secs_f64() * 1000.0 / f64::from(ROUNDS);
        eprintln!(
            "{name}: {} queries: a poll takes {poll_ms:.1} ms, the start-up history {history_ms:.1} ms (mean of {ROUNDS})",
            queries().len()
        );
    }
}

/// The delay [`delaying_proxy`] adds to every request.
const ROUND_TRIP: Duration = Duration::from_millis(20);

/// A loopback proxy to `target` (host:port) that holds every chunk a client sends for `delay`
/// before passing it on, as if the server were that far away. Stops when dropped.
async fn delaying_proxy(target: String, delay: Duration) -> (String, AbortOnDrop) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("its address"));
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(&target).await else {
                continue;
            };
            let (mut from_client, mut to_client) = client.into_split();
            let (mut from_server, mut to_server) = server.into_split();
            tokio::spawn(async move {
                let mut chunk = vec![0u8; 16 * 1024];
                while let Ok(read) = from_client.read(&mut chunk).await {
                    if read == 0 {
                        break;
                    }
                    tokio::time::sleep(delay).await;
                    if to_server.write_all(&chunk[..read]).await.is_err() {
                        break;
                    }
                }
            });
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
            });
        }
    });
    (url, AbortOnDrop(task))
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Absent means zero only where Prometheus means zero: before any request the rate is 0 and
/// there is no error ratio and no quantile; with successes only (no 5xx series at all) the
/// error ratio is 0 %, as scrape mode reads it; the first errors then show.
#[tokio::test]
async fn no_5xx_series_reads_zero_errors_and_no_traffic_reads_no_quantiles() {
    use gameday::signals::{Signal, now_unix};
    use gameday::sources::prometheus::PrometheusSource;

    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    let prometheus = Prometheus::start(sandbox.host_port(), "groups: []\n");
    let source = PrometheusSource::new(api.http.clone(), &prometheus.url);
    let value = |values: &[(Signal, f64)], wanted: Signal| {
        values.iter().find(|(s, _)| *s == wanted).map(|(_, v)| *v)
    };

    let fresh = eventually("the target scraped", Duration::from_secs(30), || async {
        let values = source.query_signals(now_unix()).await.ok()?;
        // A request rate (0 until traffic comes) exists once the target is scraped.
        value(&values, Signal::Rps).is_some().then_some(values)
    })
    .await;
    assert_eq!(value(&fresh, Signal::Rps), Some(0.0), "{fresh:?}");
    assert_eq!(value(&fresh, Signal::ErrorRatio), None, "{fresh:?}");
    assert_eq!(value(&fresh, Signal::LatencyP95), None, "{fresh:?}");

    let traffic = Traffic::start(&api);
    let served = eventually("a request rate", Duration::from_secs(30), || async {
        let values = source.query_signals(now_unix()).await.ok()?;
        (value(&values, Signal::Rps)? > 0.0 && value(&values, Signal::LatencyP95).is_some())
            .then_some(values)
    })
    .await;
    let server_errors = prometheus
        .query(&api.http, "fintech_requests_total{status=~\"5..\"}", None)
        .await;
    assert!(server_errors.is_empty(), "{server_errors:?}");
    assert_eq!(value(&served, Signal::ErrorRatio), Some(0.0), "{served:?}");

    api.post("/api/failures", r#"{"error_rate": 50}"#).await;
    eventually("errors to show", Duration::from_secs(30), || async {
        let values = source.query_signals(now_unix()).await.ok()?;
        (value(&values, Signal::ErrorRatio)? > 0.0).then_some(())
    })
    .await;
    drop(traffic);
}
