//! The resilience patterns against a real upstream over real HTTP: until the payment provider
//! exists, a second `gameday sandbox` is the upstream (its failure knobs make it slow or
//! failing), called through `Patterns::call` with a reqwest client. And `/api/patterns` on the
//! sandbox binary: strict, guarded by the control token, left alone by `/api/reset`.
//! `Retry-After` is covered by the unit tests of `patterns::retry` and `Patterns::call`: the
//! sandbox sends it only when refusing a connection at its limit, and it answers such a
//! connection before reading the request, so a client sometimes sees the connection broken
//! rather than the 503; the provider's 429s will be the real upstream for it.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use gameday::sandbox::patterns::breaker::BreakerState;
use gameday::sandbox::patterns::upstream_error::parse_retry_after;
use gameday::sandbox::patterns::{PatternError, Patterns, UpstreamError};
use serde_json::Value;
use support::{Api, Sandbox, eventually};

const UPSTREAM: &str = "balance";

/// The upstream's `GET /api/balance`, one attempt, its failures read as the provider's will be.
async fn balance(http: &reqwest::Client, base: &str) -> Result<Value, UpstreamError> {
    let response = http
        .get(format!("{base}/api/balance"))
        .send()
        .await
        .map_err(|err| UpstreamError::from_reqwest(&err))?;
    let status = response.status();
    if !status.is_success() {
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(parse_retry_after);
        return Err(UpstreamError::from_status(
            status.as_u16(),
            retry_after,
            status.canonical_reason().unwrap_or("?"),
        ));
    }
    response
        .json()
        .await
        .map_err(|err| UpstreamError::Connect(err.to_string()))
}

/// A sandbox as the upstream, and patterns set by `settings` (a `POST /api/patterns` body).
struct Rig {
    upstream: Sandbox,
    api: Api,
    patterns: Arc<Patterns>,
}

impl Rig {
    fn start(upstream_args: &[&str], settings: &str) -> Rig {
        let upstream = Sandbox::start(upstream_args);
        let api = Api::new(&upstream.url);
        let patterns = Arc::new(Patterns::new(&[UPSTREAM]));
        patterns
            .apply_body(settings.as_bytes())
            .expect("valid settings");
        Rig {
            upstream,
            api,
            patterns,
        }
    }

    async fn inject(&self, failures: &str) {
        let (status, body) = self.api.post("/api/failures", failures).await;
        assert_eq!(status, 200, "{body}");
    }

    async fn call(&self, idempotent: bool) -> Result<Value, PatternError> {
        let http = self.api.http.clone();
        let base = self.upstream.url.clone();
        self.patterns
            .call(UPSTREAM, idempotent, || balance(&http, &base))
            .await
    }

    /// Requests the upstream answered with `status` on `/api/balance`.
    async fn answered(&self, status: u16) -> f64 {
        let series = format!(
            "fintech_requests_total{{endpoint=\"/api/balance\",method=\"GET\",status=\"{status}\"}} "
        );
        self.api
            .metrics()
            .await
            .lines()
            .find_map(|line| line.strip_prefix(&series)?.trim().parse().ok())
            .unwrap_or(0.0)
    }

    fn breaker(&self) -> BreakerState {
        self.patterns.figures(UPSTREAM).expect("known").breaker
    }
}

#[tokio::test]
async fn the_timeout_cuts_a_two_second_upstream_at_200_ms() {
    let rig = Rig::start(&[], r#"{"timeout": {"ms": 200}}"#);
    rig.inject(r#"{"latency_ms": 2000}"#).await;

    // Off: the caller waits the whole 2 s.
    let started = Instant::now();
    rig.call(true).await.expect("slow but fine");
    let without = started.elapsed();
    assert!(without >= Duration::from_secs(2));

    rig.patterns
        .apply_body(br#"{"timeout": {"enabled": true}}"#)
        .expect("valid");
    let started = Instant::now();
    let result = rig.call(true).await;
    let took = started.elapsed();
    assert_eq!(
        result,
        Err(PatternError::Upstream {
            error: UpstreamError::Timeout,
            attempts: 1
        })
    );
    eprintln!(
        "upstream at 2000 ms: the call took {without:?} without the timeout, {took:?} with 200 ms"
    );
    // Cut: the error comes before the upstream's 2 s answer would have.
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_secs(2),
        "took {took:?}"
    );
}

#[tokio::test]
async fn retries_back_off_exponentially_and_only_for_idempotent_calls() {
    let rig = Rig::start(
        &[],
        r#"{"retry": {"enabled": true, "max_attempts": 4, "base_ms": 100, "max_ms": 1000, "jitter": false}}"#,
    );
    rig.inject(r#"{"error_rate": 100}"#).await;

    let started = Instant::now();
    let result = rig.call(true).await;
    let took = started.elapsed();
    assert_eq!(
        result,
        Err(PatternError::Upstream {
            error: UpstreamError::Status {
                code: 500,
                retry_after: None
            },
            attempts: 4
        })
    );
    assert_eq!(rig.answered(500).await, 4.0, "four attempts reached it");
    assert_eq!(rig.patterns.figures(UPSTREAM).map(|f| f.retries), Some(3));
    eprintln!("4 attempts with 100/200/400 ms backoff took {took:?}");
    // 100 + 200 + 400 ms of backoff between the four.
    assert!(took >= Duration::from_millis(700), "took {took:?}");

    let result = rig.call(false).await;
    assert!(matches!(
        result,
        Err(PatternError::Upstream { attempts: 1, .. })
    ));
    assert_eq!(rig.answered(500).await, 5.0, "not idempotent: one attempt");

    rig.inject(r#"{"error_rate": 0}"#).await;
    rig.call(true).await.expect("healthy again");
}

#[tokio::test]
async fn the_breaker_opens_at_its_ratio_half_opens_after_open_s_and_closes_on_good_probes() {
    let rig = Rig::start(
        &[],
        r#"{"circuit_breaker": {"enabled": true, "failure_ratio": 0.5, "window_s": 30,
            "min_calls": 6, "open_s": 1, "half_open_probes": 2}}"#,
    );
    for _ in 0..3 {
        rig.call(true).await.expect("healthy");
    }
    rig.inject(r#"{"error_rate": 100}"#).await;
    // 1 of 4 and 2 of 5 failed: closed; 3 of 6 is the 50 %.
    for expected in [
        BreakerState::Closed,
        BreakerState::Closed,
        BreakerState::Open,
    ] {
        let result = rig.call(true).await;
        assert!(
            matches!(result, Err(PatternError::Upstream { .. })),
            "{result:?}"
        );
        assert_eq!(rig.breaker(), expected);
    }
    let reached = rig.answered(500).await;
    let refused = rig.call(true).await;
    assert!(
        matches!(refused, Err(PatternError::BreakerOpen { .. })),
        "{refused:?}"
    );
    assert_eq!(rig.answered(500).await, reached, "refused without calling");

    rig.inject(r#"{"error_rate": 0}"#).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(rig.breaker(), BreakerState::HalfOpen);
    rig.call(true).await.expect("first probe");
    assert_eq!(rig.breaker(), BreakerState::HalfOpen);
    rig.call(true).await.expect("second probe");
    assert_eq!(rig.breaker(), BreakerState::Closed);

    // Open again (6 failures in a fresh window), and a failed probe opens it once more.
    rig.inject(r#"{"error_rate": 100}"#).await;
    for _ in 0..6 {
        let _ = rig.call(true).await;
    }
    assert_eq!(rig.breaker(), BreakerState::Open);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let probe = rig.call(true).await;
    assert!(
        matches!(probe, Err(PatternError::Upstream { .. })),
        "{probe:?}"
    );
    assert_eq!(rig.breaker(), BreakerState::Open);

    let read_back = rig.patterns.to_json();
    let transitions: Vec<(String, String)> =
        read_back["upstreams"][UPSTREAM]["circuit_breaker"]["transitions"]
            .as_array()
            .expect("transitions")
            .iter()
            .map(|t| (t["from"].to_string(), t["to"].to_string()))
            .collect();
    let expected: Vec<(String, String)> = [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "open"),
    ]
    .iter()
    .map(|(from, to)| (format!("\"{from}\""), format!("\"{to}\"")))
    .collect();
    assert_eq!(transitions, expected);
}

#[tokio::test]
async fn the_bulkhead_refuses_call_n_plus_1_at_once_while_n_are_in_flight() {
    let rig = Rig::start(
        &[],
        r#"{"bulkhead": {"enabled": true, "max_concurrent": 3}}"#,
    );
    rig.inject(r#"{"latency_ms": 1500}"#).await;
    let in_flight: Vec<_> = (0..3)
        .map(|_| {
            let patterns = Arc::clone(&rig.patterns);
            let http = rig.api.http.clone();
            let base = rig.upstream.url.clone();
            tokio::spawn(async move {
                patterns
                    .call(UPSTREAM, true, || balance(&http, &base))
                    .await
            })
        })
        .collect();
    eventually("three calls in flight", Duration::from_secs(5), || async {
        (rig.patterns.figures(UPSTREAM)?.in_use == 3).then_some(())
    })
    .await;

    let refused = rig.call(true).await;
    assert_eq!(
        refused,
        Err(PatternError::BulkheadFull {
            upstream: UPSTREAM.to_string(),
            limit: 3
        })
    );
    assert!(
        in_flight.iter().all(|call| !call.is_finished()),
        "refused while the three were still waiting on the upstream"
    );
    let figures = rig.patterns.figures(UPSTREAM).expect("known");
    assert_eq!((figures.in_use, figures.rejected), (3, 1));

    for call in in_flight {
        call.await.expect("task").expect("slow but fine");
    }
    assert_eq!(rig.patterns.figures(UPSTREAM).map(|f| f.in_use), Some(0));
}

#[tokio::test]
async fn api_patterns_is_strict_guarded_and_survives_a_reset() {
    let sandbox = Sandbox::start(&["--control-token", "s3cret"]);
    let api = Api::new(&sandbox.url);
    let token = "s3cret";

    let (status, initial) = api.get("/api/patterns").await;
    assert_eq!(status, 200);
    for pattern in [
        "timeout",
        "retry",
        "circuit_breaker",
        "bulkhead",
        "fallback",
    ] {
        assert_eq!(initial["config"][pattern]["enabled"], false, "{pattern}");
    }
    let provider = &initial["upstreams"]["provider"];
    assert_eq!(provider["circuit_breaker"]["state"], "closed");
    assert_eq!(
        provider["circuit_breaker"]["transitions"],
        Value::Array(vec![])
    );
    let (_, discovery) = api.get("/").await;
    assert!(
        discovery["endpoints"]
            .as_array()
            .expect("endpoints")
            .contains(&Value::from("/api/patterns"))
    );

    let change = r#"{"timeout": {"enabled": true, "ms": 300}, "bulkhead": {"enabled": true, "max_concurrent": 4}}"#;
    let (status, refusal) = api.post("/api/patterns", change).await;
    assert_eq!(status, 401, "no token");
    assert!(
        refusal.to_string().contains("for POST /api/patterns"),
        "{refusal}"
    );
    let (status, _) = api.post_with_token("/api/patterns", change, "wrong").await;
    assert_eq!(status, 401, "wrong token");
    assert_eq!(
        api.get("/api/patterns").await.1["config"],
        initial["config"]
    );

    let (status, changed) = api.post_with_token("/api/patterns", change, token).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["status"], "updated");
    assert_eq!(changed["config"]["timeout"]["ms"], 300);
    assert_eq!(changed["config"]["bulkhead"]["max_concurrent"], 4);
    assert_eq!(changed["config"]["retry"], initial["config"]["retry"]);
    let state = api.get("/api/patterns").await.1;
    assert_eq!(state["config"], changed["config"]);

    for (body, field) in [
        (r#"{"timeout": {"ms": 0}}"#, "`timeout.ms`"),
        (r#"{"retry": {"max_attempts": 11}}"#, "`retry.max_attempts`"),
        (
            r#"{"bulkhead": {"enabled": false}, "circuit_breaker": {"failure_ratio": 2}}"#,
            "`circuit_breaker.failure_ratio`",
        ),
        (r#"{"fallback": {"enabled": "yes"}}"#, "`fallback.enabled`"),
        (r#"{"retry": {"tries": 3}}"#, "`retry.tries`"),
        (r#"{"cache": {}}"#, "`cache`"),
        (
            r#"{"timeout": {"enabled": false, "enabled": true}}"#,
            "duplicate field `enabled`",
        ),
        (r#"{}"#, "names no pattern"),
        (r#"not json"#, "not valid JSON"),
    ] {
        let (status, answer) = api.post_with_token("/api/patterns", body, token).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let message = answer["error"].as_str().expect("an error message");
        assert!(message.contains(field), "{body}: {message}");
        assert_eq!(
            api.get("/api/patterns").await.1["config"],
            state["config"],
            "{body} changed the state"
        );
    }
    let plain = api
        .http
        .post(format!("{}/api/patterns", api.base))
        .bearer_auth(token)
        .header("Content-Type", "text/plain")
        .body(r#"{"fallback": {"enabled": true}}"#)
        .send()
        .await
        .expect("answers");
    assert_eq!(plain.status().as_u16(), 415);

    let metrics = api.metrics().await;
    for line in [
        "fintech_pattern_enabled{pattern=\"timeout\"} 1\n",
        "fintech_pattern_enabled{pattern=\"bulkhead\"} 1\n",
        "fintech_pattern_enabled{pattern=\"retry\"} 0\n",
        "fintech_circuit_breaker_state{upstream=\"provider\"} 0\n",
        "fintech_bulkhead_in_use{upstream=\"provider\"} 0\n",
        "fintech_bulkhead_rejected_total{upstream=\"provider\"} 0\n",
        "fintech_retries_total{upstream=\"provider\"} 0\n",
    ] {
        assert!(metrics.contains(line), "missing {line:?}");
    }

    // A reset clears the failures, not the participant's fix.
    let (status, _) = api
        .post_with_token("/api/failures", r#"{"latency_ms": 100}"#, token)
        .await;
    assert_eq!(status, 200);
    let (status, _) = api.post_with_token("/api/reset", "", token).await;
    assert_eq!(status, 200);
    assert_eq!(
        api.get("/api/failures").await.1["current_config"]["latency_ms"],
        0
    );
    assert_eq!(api.get("/api/patterns").await.1["config"], state["config"]);

    let log = sandbox.log_lines();
    let change = log
        .iter()
        .find(|line| line["event"] == "pattern_change")
        .unwrap_or_else(|| panic!("no pattern_change in the log: {log:?}"));
    let text = change.to_string();
    assert!(
        text.contains("timeout.ms") && text.contains("bulkhead.max_concurrent"),
        "{text}"
    );
}
