//! Payments through the resilience patterns, against the sandbox's embedded payment provider
//! over real HTTP: the timeout cuts a slow provider, the breaker opens on failures and stops
//! calling it, then half-opens and closes; the bulkhead refuses the call past its limit; the
//! fallback accepts a payment while the provider is down and completes it, credited once, when
//! it is back (on SQLite and PostgreSQL); retries honour the provider's `Retry-After`; and with timeout, breaker and bulkhead on, a provider slowed to 10 s no longer
//! takes `/api/balance` down with it.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Api, Postgres, Sandbox, eventually};

const BODY: &str = r#"{"amount": 1, "account": "ACC-001"}"#;

/// The sandbox and its embedded provider's API.
async fn start(args: &[&str]) -> (Sandbox, Api, Api) {
    let sandbox = Sandbox::start(args);
    let api = Api::new(&sandbox.url);
    let (_, discovery) = api.get("/").await;
    let url = discovery["extensions"]["provider"]["url"]
        .as_str()
        .expect("the provider's URL in GET /")
        .to_string();
    (sandbox, api, Api::new(&url))
}

async fn set(api: &Api, path: &str, body: &str) {
    let (status, answer) = api.post(path, body).await;
    assert_eq!(status, 200, "{path} {body}: {answer}");
}

/// A payment: its status, body, `Retry-After` and how long it took.
async fn pay(api: &Api, key: &str, body: &str) -> (u16, Value, Option<String>, Duration) {
    let started = Instant::now();
    let response = api
        .http
        .post(format!("{}/api/payments", api.base))
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(body.to_string())
        .send()
        .await
        .expect("POST /api/payments answers");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body, retry_after, started.elapsed())
}

/// Payment requests the provider answered, whatever the status (its own `/metrics`).
async fn provider_payment_calls(provider: &Api) -> f64 {
    provider
        .metrics()
        .await
        .lines()
        .filter(|line| line.starts_with("provider_requests_total{route=\"/v1/payments\","))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn breaker_state(api: &Api) -> String {
    let (_, patterns) = api.get("/api/patterns").await;
    patterns["upstreams"]["provider"]["circuit_breaker"]["state"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn balance(api: &Api) -> f64 {
    let (status, body) = api.get("/api/balance").await;
    assert_eq!(status, 200, "{body}");
    body["balance"].as_f64().expect("balance")
}

#[tokio::test]
async fn the_timeout_fails_a_payment_to_a_slow_provider_fast() {
    let (_sandbox, api, provider) = start(&[]).await;
    set(&provider, "/api/failures", r#"{"latency_ms": 3000}"#).await;
    set(
        &api,
        "/api/patterns",
        r#"{"timeout": {"enabled": true, "ms": 300}}"#,
    )
    .await;
    let (status, body, _, took) = pay(&api, "slow-1", BODY).await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["outcome"], "timeout", "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("provider"),
        "{body}"
    );
    // Cut at 300 ms, far from the provider's 3 s (a bound, not a speed target).
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(2500),
        "{took:?}"
    );
    assert_eq!(
        api.metric("fintech_upstream_requests_total{upstream=\"provider\",outcome=\"timeout\"}")
            .await,
        1.0
    );
    assert_eq!(
        api.metric("fintech_payments_total{status=\"error\"}").await,
        1.0
    );
}

#[tokio::test]
async fn the_breaker_opens_stops_calling_the_provider_then_half_opens_and_closes() {
    let (_sandbox, api, provider) = start(&[]).await;
    set(
        &api,
        "/api/patterns",
        r#"{"circuit_breaker": {"enabled": true, "failure_ratio": 0.5, "window_s": 30,
            "min_calls": 4, "open_s": 2, "half_open_probes": 1}}"#,
    )
    .await;
    set(&provider, "/api/failures", r#"{"error_rate": 1}"#).await;
    for index in 0..4 {
        let (status, body, _, _) = pay(&api, &format!("fail-{index}"), BODY).await;
        assert_eq!(status, 502, "{body}");
        assert_eq!(body["outcome"], "http_5xx", "{body}");
    }
    assert_eq!(breaker_state(&api).await, "open");
    assert_eq!(
        api.metric("fintech_circuit_breaker_state{upstream=\"provider\"}")
            .await,
        2.0
    );
    let reached = provider_payment_calls(&provider).await;
    assert_eq!(reached, 4.0);

    // Open: refused at once, 503 naming the breaker, the provider not called.
    for index in 0..5 {
        let (status, body, retry_after, _) = pay(&api, &format!("open-{index}"), BODY).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["pattern"], "circuit_breaker", "{body}");
        assert_eq!(body["outcome"], "breaker_open", "{body}");
        let seconds: u64 = retry_after.expect("Retry-After").parse().expect("seconds");
        assert!((1..=2).contains(&seconds), "{seconds}");
    }
    assert_eq!(provider_payment_calls(&provider).await, reached);
    assert_eq!(
        api.metric(
            "fintech_upstream_requests_total{upstream=\"provider\",outcome=\"breaker_open\"}"
        )
        .await,
        5.0
    );

    // The provider recovers; after open_s one probe goes through and closes the breaker.
    set(&provider, "/api/reset", "").await;
    eventually(
        "the breaker to half-open",
        Duration::from_secs(5),
        || async { (breaker_state(&api).await == "half_open").then_some(()) },
    )
    .await;
    let (status, body, _, _) = pay(&api, "probe", BODY).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(breaker_state(&api).await, "closed");
    let (_, patterns) = api.get("/api/patterns").await;
    let moves: Vec<(String, String)> =
        patterns["upstreams"]["provider"]["circuit_breaker"]["transitions"]
            .as_array()
            .expect("transitions")
            .iter()
            .map(|t| {
                (
                    t["from"].as_str().unwrap_or_default().to_string(),
                    t["to"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
    for expected in [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ] {
        assert!(
            moves
                .iter()
                .any(|(from, to)| (from.as_str(), to.as_str()) == expected),
            "{expected:?} in {moves:?}"
        );
    }
}

#[tokio::test]
async fn the_bulkhead_refuses_the_third_concurrent_payment_at_once() {
    let (sandbox, api, provider) = start(&[]).await;
    set(&provider, "/api/failures", r#"{"latency_ms": 2000}"#).await;
    set(
        &api,
        "/api/patterns",
        r#"{"bulkhead": {"enabled": true, "max_concurrent": 2}}"#,
    )
    .await;
    let held: Vec<_> = (0..2)
        .map(|index| {
            let api = Api::new(&sandbox.url);
            tokio::spawn(async move { pay(&api, &format!("held-{index}"), BODY).await })
        })
        .collect();
    eventually(
        "two calls in the bulkhead",
        Duration::from_secs(5),
        || async {
            (api.metric("fintech_bulkhead_in_use{upstream=\"provider\"}")
                .await
                == 2.0)
                .then_some(())
        },
    )
    .await;
    let (status, body, retry_after, took) = pay(&api, "third", BODY).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["pattern"], "bulkhead", "{body}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert!(
        took < Duration::from_millis(1500),
        "refused at once: {took:?}"
    );
    for payment in held {
        let (status, body, _, _) = payment.await.expect("task");
        assert_eq!(status, 201, "{body}");
    }
    assert_eq!(
        api.metric("fintech_bulkhead_rejected_total{upstream=\"provider\"}")
            .await,
        1.0
    );
    assert_eq!(provider_payment_calls(&provider).await, 2.0);
}

#[tokio::test]
async fn the_fallback_accepts_while_the_provider_is_down_and_completes_once_it_is_back() {
    let (_sandbox, api, provider) = start(&[]).await;
    fallback_completes_once(&api, &provider).await;
}

#[tokio::test]
async fn the_fallback_completes_once_on_postgresql() {
    let postgres = Postgres::start();
    let database = postgres.create_database("fincore");
    let (_sandbox, api, provider) = start(&["--database-url", &database]).await;
    fallback_completes_once(&api, &provider).await;
    assert_eq!(
        postgres.psql(
            "fincore",
            "SELECT state, provider_id LIKE 'pay_%' FROM fallback_payments"
        ),
        "created|t"
    );
    assert_eq!(
        postgres.psql("fincore", "SELECT count(*) FROM credits"),
        "1"
    );
}

/// Fallback on, provider down: 202 pending; provider back: created, settled, credited once.
async fn fallback_completes_once(api: &Api, provider: &Api) {
    set(api, "/api/patterns", r#"{"fallback": {"enabled": true}}"#).await;
    let start_balance = balance(api).await;
    set(provider, "/api/failures", r#"{"down": true}"#).await;
    let body = r#"{"amount": 4.25, "account": "ACC-001"}"#;
    let (status, accepted, _, _) = pay(api, "offline-1", body).await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["status"], "pending", "{accepted}");
    assert_eq!(accepted["fallback"], true, "{accepted}");
    let id = accepted["id"].as_str().expect("id").to_string();
    assert!(id.starts_with("fb_"), "{id}");
    // The same key while it waits: the same payment, 202 again.
    let (status, again, _, _) = pay(api, "offline-1", body).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(again["id"], id.as_str());
    let (status, read) = api.get(&format!("/api/payments/{id}")).await;
    assert_eq!((status, read["status"].as_str()), (200, Some("pending")));
    assert_eq!(balance(api).await, start_balance);
    assert_eq!(
        api.metric("fintech_payments_total{status=\"fallback_pending\"}")
            .await,
        1.0
    );

    // The provider comes back: the payment is created there, its webhook credits it.
    set(provider, "/api/failures", r#"{"down": false}"#).await;
    eventually(
        "the pending payment to settle",
        Duration::from_secs(10),
        || async {
            let (_, read) = api.get(&format!("/api/payments/{id}")).await;
            (read["status"] == "succeeded").then_some(())
        },
    )
    .await;
    assert!((balance(api).await - (start_balance + 4.25)).abs() < 1e-9);
    assert_eq!(
        api.metric("fintech_payments_total{status=\"completed_late\"}")
            .await,
        1.0
    );
    // Later rounds and a replay of the key change nothing: credited exactly once.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, replay, _, _) = pay(api, "offline-1", body).await;
    assert_eq!(status, 201, "{replay}");
    assert_eq!(replay["id"], id.as_str());
    assert_eq!(replay["status"], "succeeded");
    assert!((balance(api).await - (start_balance + 4.25)).abs() < 1e-9);
    assert_eq!(api.metric("fintech_ledger_double_credits").await, 0.0);
    assert_eq!(
        api.metric("fintech_webhooks_total{result=\"processed\"}")
            .await,
        1.0
    );
    let created = provider
        .metrics()
        .await
        .lines()
        .find_map(|line| {
            line.strip_prefix("provider_payments_created_total ")?
                .parse::<f64>()
                .ok()
        })
        .expect("provider_payments_created_total");
    assert_eq!(created, 1.0);
}

#[tokio::test]
async fn with_timeout_breaker_and_bulkhead_a_slow_provider_leaves_the_balance_healthy() {
    let (sandbox, api, provider) = start(&["--workers", "4"]).await;
    set(&provider, "/api/failures", r#"{"latency_ms": 10000}"#).await;
    set(
        &api,
        "/api/patterns",
        r#"{"timeout": {"enabled": true, "ms": 500},
            "circuit_breaker": {"enabled": true, "min_calls": 4, "open_s": 30},
            "bulkhead": {"enabled": true, "max_concurrent": 2}}"#,
    )
    .await;
    // 12 clients paying one after another for 3 s, as impatient clients do.
    let until = Instant::now() + Duration::from_secs(3);
    let payments: Vec<_> = (0..12)
        .map(|client| {
            let api = Api::new(&sandbox.url);
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                let mut index = 0;
                while Instant::now() < until {
                    let key = format!("cascade-{client}-{index}");
                    let (status, body, _, _) = pay(&api, &key, BODY).await;
                    statuses.push((status, body));
                    index += 1;
                }
                statuses
            })
        })
        .collect();
    let quick = gameday::fincore::tls::client_builder()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    let mut healthy = 0;
    for _ in 0..10 {
        let answered = quick
            .get(format!("{}/api/balance", sandbox.url))
            .send()
            .await;
        if answered.is_ok_and(|response| response.status().as_u16() == 200) {
            healthy += 1;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert_eq!(healthy, 10, "every balance probe answered within 2 s");
    let mut outcomes = Vec::new();
    for payment in payments {
        for (status, body) in payment.await.expect("task") {
            assert!(matches!(status, 503 | 504), "{status}: {body}");
            outcomes.push(body["outcome"].as_str().unwrap_or_default().to_string());
        }
    }
    for expected in ["timeout", "bulkhead_full", "breaker_open"] {
        assert!(
            outcomes.iter().any(|outcome| outcome == expected),
            "{expected} in {outcomes:?}"
        );
    }
    assert_eq!(breaker_state(&api).await, "open");
}

#[tokio::test]
async fn retries_honour_the_providers_retry_after_for_an_idempotent_payment() {
    let (_sandbox, api, provider) = start(&[]).await;
    set(&provider, "/api/failures", r#"{"rate_limit_per_s": 1}"#).await;
    // Off: the second payment in the same second gets the provider's 429, passed on.
    let (status, body, _, _) = pay(&api, "limited-1", BODY).await;
    assert_eq!(status, 201, "{body}");
    let (status, body, retry_after, _) = pay(&api, "limited-2", BODY).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["outcome"], "http_429", "{body}");
    assert!(
        retry_after.is_some(),
        "the provider's Retry-After passed on"
    );

    // On: the same key is tried again after the provider's Retry-After, and goes through.
    set(
        &api,
        "/api/patterns",
        r#"{"retry": {"enabled": true, "max_attempts": 3, "max_ms": 3000}}"#,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body, _, _) = pay(&api, "limited-3", BODY).await;
    assert_eq!(status, 201, "{body}");
    let (status, body, _, _) = pay(&api, "limited-2", BODY).await;
    assert_eq!(status, 201, "{body}");
    assert!(
        api.metric("fintech_retries_total{upstream=\"provider\"}")
            .await
            >= 1.0
    );
    assert!(
        api.metric("fintech_upstream_requests_total{upstream=\"provider\",outcome=\"http_429\"}")
            .await
            >= 2.0
    );
}
