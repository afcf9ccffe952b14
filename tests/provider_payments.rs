//! The payment provider and payments through it, over real HTTP: the sandbox (with its
//! embedded provider, or `gameday provider` as an external one), each provider knob's effect,
//! payments settled by signed webhooks, forged and duplicate deliveries, and the cascade a slow
//! provider causes with no resilience pattern on.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use support::{Api, Postgres, ProviderProcess, Sandbox, eventually};

fn client(timeout: Duration) -> reqwest::Client {
    gameday::fincore::tls::client_builder()
        .timeout(timeout)
        .build()
        .expect("HTTP client")
}

/// The embedded provider's URL, from the sandbox's discovery.
async fn provider_of(api: &Api) -> Api {
    let (_, discovery) = api.get("/").await;
    let url = discovery["extensions"]["provider"]["url"]
        .as_str()
        .expect("the provider's URL in GET /");
    assert_eq!(discovery["extensions"]["provider"]["embedded"], true);
    Api::new(url)
}

async fn pay(api: &Api, key: &str, body: &str) -> (u16, Value, bool) {
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
    let replayed = response.headers().contains_key("idempotent-replayed");
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        replayed,
    )
}

async fn balance(api: &Api) -> f64 {
    let (status, body) = api.get("/api/balance").await;
    assert_eq!(status, 200, "{body}");
    body["balance"].as_f64().expect("balance")
}

async fn settled(api: &Api, id: &str) -> String {
    eventually("the payment to settle", Duration::from_secs(10), || async {
        let (_, body) = api.get(&format!("/api/payments/{id}")).await;
        let status = body["status"].as_str().unwrap_or("").to_string();
        (status != "pending").then_some(status)
    })
    .await
}

#[tokio::test]
async fn a_payment_goes_through_the_provider_and_its_webhook_credits_once() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    let start = balance(&api).await;
    let (status, body, _) = pay(&api, "p-1", r#"{"amount": 12.34, "account": "ACC-001"}"#).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    assert!(id.starts_with("pay_"), "{id}");
    assert_eq!(settled(&api, &id).await, "succeeded");
    assert!((balance(&api).await - (start + 12.34)).abs() < 1e-9);

    // The same key: the same payment, no second charge, no second credit.
    let (status, again, replayed) =
        pay(&api, "p-1", r#"{"amount": 12.34, "account": "ACC-001"}"#).await;
    assert_eq!((status, replayed), (201, true), "{again}");
    assert_eq!(again["id"], id.as_str());
    let (status, body, _) = pay(&api, "p-1", r#"{"amount": 99, "account": "ACC-001"}"#).await;
    assert_eq!(status, 422, "{body}");

    // Above the provider's limit the payment is declined: failed, nothing credited.
    let (status, body, _) = pay(&api, "p-2", r#"{"amount": 20000, "account": "ACC-001"}"#).await;
    assert_eq!(status, 201, "{body}");
    let declined = body["id"].as_str().expect("id").to_string();
    assert_eq!(settled(&api, &declined).await, "failed");
    assert!((balance(&api).await - (start + 12.34)).abs() < 1e-9);
    assert_eq!(
        api.metric("fintech_payments_total{status=\"succeeded\"}")
            .await,
        1.0
    );
    assert_eq!(
        api.metric("fintech_payments_total{status=\"failed\"}")
            .await,
        1.0
    );
    assert_eq!(
        api.metric("fintech_webhooks_total{result=\"processed\"}")
            .await,
        2.0
    );
    assert_eq!(api.metric("fintech_ledger_double_credits").await, 0.0);
    assert_eq!(
        api.metric("fintech_upstream_requests_total{upstream=\"provider\",outcome=\"success\"}")
            .await,
        2.0
    );
    let (status, _) = api.get("/api/payments/pay_unknown").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bad_payments_are_refused_with_the_field_and_reach_no_provider() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    for (body, field) in [
        (r#"{"amount": 0, "account": "ACC-001"}"#, "`amount`"),
        (r#"{"amount": 1.001, "account": "ACC-001"}"#, "`amount`"),
        (r#"{"amount": 5}"#, "`account` is missing"),
        (r#"{"amount": 5, "account": "no spaces"}"#, "`account`"),
        (
            r#"{"amount": 5, "account": "A", "memo": 1}"#,
            "unknown field `memo`",
        ),
        (
            r#"{"amount": 5, "amount": 6, "account": "A"}"#,
            "duplicate field `amount`",
        ),
    ] {
        let (status, answer, _) = pay(&api, "bad", body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let message = answer["error"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{body}: {message}");
    }
    let (status, answer) = api
        .post("/api/payments", r#"{"amount": 5, "account": "ACC-001"}"#)
        .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap_or_default()
            .contains("Idempotency-Key")
    );
    assert_eq!(
        api.metric("fintech_upstream_requests_total{upstream=\"provider\",outcome=\"success\"}")
            .await,
        0.0,
        "nothing reached the provider"
    );
    // The provider's knobs: strict, naming the field, the state unchanged.
    let provider = provider_of(&api).await;
    let (status, _) = provider
        .post("/api/failures", r#"{"latency_ms": 200}"#)
        .await;
    assert_eq!(status, 200);
    for (body, field) in [
        (r#"{"latency_ms": 120001}"#, "field `latency_ms`"),
        (r#"{"error_rate": 2}"#, "field `error_rate`"),
        (r#"{"down": "yes"}"#, "field `down`"),
        (r#"{"rate_limit_per_s": -1}"#, "field `rate_limit_per_s`"),
        (
            r#"{"latency_ms": 1, "latency_ms": 2}"#,
            "duplicate field `latency_ms`",
        ),
        (
            r#"{"webhook_delay_ms": 1, "bogus": 1}"#,
            "unknown field `bogus`",
        ),
    ] {
        let (status, answer) = provider.post("/api/failures", body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let message = answer["error"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{body}: {message}");
    }
    let (_, state) = provider.get("/api/failures").await;
    assert_eq!(state["current_config"]["latency_ms"], 200, "{state}");
    assert_eq!(state["current_config"]["webhook_delay_ms"], 0, "{state}");
}

#[tokio::test]
async fn each_provider_knob_acts_over_http() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    let provider = provider_of(&api).await;
    let body = r#"{"amount": 1, "account": "ACC-001"}"#;
    let direct = |key: &'static str, timeout: Duration| {
        client(timeout)
            .post(format!("{}/v1/payments", provider.base))
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(body)
            .send()
    };

    // latency_ms: the provider's answer, and so the payment, takes at least that long.
    provider
        .post("/api/failures", r#"{"latency_ms": 400}"#)
        .await;
    let started = Instant::now();
    let (status, _, _) = pay(&api, "lat", body).await;
    assert_eq!(status, 201);
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    provider.post("/api/reset", "").await;

    // error_rate 1: every call fails with 500 or 503, and the payment with 502 naming it.
    provider.post("/api/failures", r#"{"error_rate": 1}"#).await;
    let (status, answer, _) = pay(&api, "err", body).await;
    assert_eq!(status, 502, "{answer}");
    assert_eq!(answer["outcome"], "http_5xx", "{answer}");
    let answered = direct("err-direct", Duration::from_secs(5))
        .await
        .expect("answer");
    assert!(matches!(answered.status().as_u16(), 500 | 503));
    provider.post("/api/reset", "").await;

    // timeout: accepted, never answered; a client that gives up sees its own timeout, and a
    // request still waiting is answered once the knob is cleared.
    provider.post("/api/failures", r#"{"timeout": true}"#).await;
    let gave_up = direct("to-1", Duration::from_millis(500)).await;
    assert!(gave_up.is_err_and(|err| err.is_timeout()));
    let waiting = tokio::spawn(direct("to-2", Duration::from_secs(10)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    provider.post("/api/reset", "").await;
    let answered = waiting.await.expect("task").expect("answered after reset");
    assert_eq!(answered.status().as_u16(), 201);

    // rate_limit_per_s: above it, 429 with Retry-After, which the payment passes on.
    provider
        .post("/api/failures", r#"{"rate_limit_per_s": 2}"#)
        .await;
    let mut limited = 0;
    for attempt in 0..6 {
        let answer = direct(
            ["r0", "r1", "r2", "r3", "r4", "r5"][attempt],
            Duration::from_secs(5),
        )
        .await
        .expect("answer");
        if answer.status().as_u16() == 429 {
            assert!(answer.headers().contains_key("retry-after"));
            limited += 1;
        }
    }
    assert!(limited >= 3, "{limited} of 6 limited at 2 per second");
    provider.post("/api/reset", "").await;

    // down: connections closed without an answer, health too; the controls still answer.
    provider.post("/api/failures", r#"{"down": true}"#).await;
    let closed = direct("down", Duration::from_secs(5)).await;
    assert!(closed.is_err(), "no answer while down");
    let health = client(Duration::from_secs(5))
        .get(format!("{}/health", provider.base))
        .send()
        .await;
    assert!(health.is_err(), "health does not answer while down");
    let (status, answer, _) = pay(&api, "down", body).await;
    assert_eq!(status, 502, "{answer}");
    assert_eq!(answer["outcome"], "connect_error", "{answer}");
    eventually(
        "fintech_upstream_up to fall",
        Duration::from_secs(6),
        || async {
            (api.metric("fintech_upstream_up{upstream=\"provider\"}")
                .await
                == 0.0)
                .then_some(())
        },
    )
    .await;
    let (status, _) = provider.post("/api/failures", r#"{"down": false}"#).await;
    assert_eq!(status, 200);
    let (status, _, _) = pay(&api, "up-again", body).await;
    assert_eq!(status, 201);

    // webhook_delay_ms: the payment stays pending until the webhook comes.
    provider
        .post("/api/failures", r#"{"webhook_delay_ms": 1500}"#)
        .await;
    let (_, created, _) = pay(&api, "late", body).await;
    let id = created["id"].as_str().expect("id").to_string();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, now) = api.get(&format!("/api/payments/{id}")).await;
    assert_eq!(now["status"], "pending", "{now}");
    assert_eq!(settled(&api, &id).await, "succeeded");
    provider.post("/api/reset", "").await;

    // webhook_duplicate_rate 1: every event twice, credited once.
    let before = balance(&api).await;
    provider
        .post("/api/failures", r#"{"webhook_duplicate_rate": 1}"#)
        .await;
    let (_, created, _) = pay(&api, "dup", r#"{"amount": 7.5, "account": "ACC-001"}"#).await;
    settled(&api, created["id"].as_str().expect("id")).await;
    eventually(
        "the duplicate to arrive",
        Duration::from_secs(5),
        || async {
            (api.metric("fintech_webhooks_total{result=\"duplicate\"}")
                .await
                >= 1.0)
                .then_some(())
        },
    )
    .await;
    assert!((balance(&api).await - (before + 7.5)).abs() < 1e-9);
    provider.post("/api/reset", "").await;

    // webhook_forged_rate 1: refused (400), counted, logged, nothing credited or settled.
    let before = balance(&api).await;
    provider
        .post("/api/failures", r#"{"webhook_forged_rate": 1}"#)
        .await;
    let (_, created, _) = pay(&api, "forged", body).await;
    eventually(
        "the forged webhook to be refused",
        Duration::from_secs(5),
        || async {
            (api.metric("fintech_webhooks_total{result=\"rejected\"}")
                .await
                >= 1.0)
                .then_some(())
        },
    )
    .await;
    let (_, now) = api
        .get(&format!(
            "/api/payments/{}",
            created["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(now["status"], "pending", "{now}");
    assert_eq!(balance(&api).await, before);
    assert!(
        sandbox
            .log_lines()
            .iter()
            .any(|line| line["event"] == "webhook_rejected"),
        "the refusal is logged"
    );
    assert_eq!(api.metric("fintech_ledger_double_credits").await, 0.0);
}

/// 5 000 events, each delivered twice, shuffled, 32 in flight, plus forged and unsigned ones:
/// every unique event credited once, nothing else.
async fn deliveries_credit_each_event_once(api: &Api, secret: &str) {
    let start = balance(api).await;
    let mut deliveries = Vec::with_capacity(10_000);
    let mut expected_cents: i64 = 0;
    for index in 0..5_000 {
        let cents = 1 + (index * 7919) % 10_000;
        expected_cents += cents;
        let body = json!({
            "event_id": format!("evt_{index:06}"),
            "payment_id": format!("pay_{index:06}"),
            "status": "succeeded",
            "amount": cents as f64 / 100.0,
            "account": "ACC-001",
        })
        .to_string();
        let signature = gameday::provider::signature::sign(secret.as_bytes(), body.as_bytes());
        deliveries.push((body.clone(), Some(signature.clone())));
        deliveries.push((body, Some(signature)));
    }
    for index in 0..100 {
        let body = json!({
            "event_id": format!("evt_forged_{index}"),
            "payment_id": "pay_x",
            "status": "succeeded",
            "amount": 1000,
            "account": "ACC-001",
        })
        .to_string();
        let forged = gameday::provider::signature::sign(b"wrong", body.as_bytes());
        deliveries.push((body.clone(), Some(forged)));
        deliveries.push((body, None));
    }
    // A fixed shuffle, so both copies of an event are usually in flight together.
    let count = deliveries.len();
    for index in (1..count).rev() {
        deliveries.swap(index, (index * 104_729 + 7) % (index + 1));
    }
    let http = client(Duration::from_secs(30));
    let url = format!("{}/api/webhooks/provider", api.base);
    let started = Instant::now();
    let answers: Vec<(u16, Value)> = futures_util::stream::iter(deliveries)
        .map(|(body, signature)| {
            let mut request = http
                .post(&url)
                .header("content-type", "application/json")
                .body(body);
            if let Some(signature) = signature {
                request = request.header("x-signature", signature);
            }
            async move {
                let response = request.send().await.expect("the webhook is answered");
                let status = response.status().as_u16();
                (status, response.json().await.unwrap_or(Value::Null))
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    // A figure for the record, not a limit.
    eprintln!(
        "{} deliveries, 32 in flight, in {:.2} s",
        answers.len(),
        started.elapsed().as_secs_f64()
    );
    let count = |status: u16, result: &str| {
        answers
            .iter()
            .filter(|(code, body)| {
                *code == status && (result.is_empty() || body["status"] == result)
            })
            .count()
    };
    assert_eq!(count(200, "processed"), 5_000);
    assert_eq!(count(200, "duplicate"), 5_000);
    assert_eq!(count(400, ""), 200, "forged and unsigned refused");
    let credited = balance(api).await - start;
    assert!(
        (credited - expected_cents as f64 / 100.0).abs() < 1e-6,
        "credited {credited}, expected {}",
        expected_cents as f64 / 100.0
    );
    assert_eq!(api.metric("fintech_ledger_double_credits").await, 0.0);
    assert_eq!(
        api.metric("fintech_webhooks_total{result=\"rejected\"}")
            .await,
        200.0
    );
}

fn external_provider(secret: &str) -> (ProviderProcess, tempfile::TempDir, String) {
    // The provider's own webhooks go nowhere here: the test delivers every event itself.
    let dead = format!("http://127.0.0.1:{}/", support::free_port());
    let provider = ProviderProcess::start(&dead, secret);
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("secret");
    std::fs::write(&path, format!("{secret}\n")).expect("secret written");
    let path = path.to_string_lossy().into_owned();
    (provider, dir, path)
}

#[tokio::test]
async fn concurrent_duplicate_deliveries_credit_once_on_sqlite() {
    let secret = "sqlite-test-secret";
    let (provider, _dir, secret_file) = external_provider(secret);
    let sandbox = Sandbox::start(&[
        "--provider-url",
        &provider.url,
        "--provider-secret-file",
        &secret_file,
    ]);
    let api = Api::new(&sandbox.url);
    let (_, discovery) = api.get("/").await;
    assert_eq!(discovery["extensions"]["provider"]["embedded"], false);
    assert_eq!(
        discovery["extensions"]["provider"]["url"],
        provider.url.as_str()
    );
    deliveries_credit_each_event_once(&api, secret).await;
}

#[tokio::test]
async fn concurrent_duplicate_deliveries_credit_once_on_postgresql() {
    let postgres = Postgres::start();
    let database = postgres.create_database("fincore");
    let secret = "postgres-test-secret";
    let (provider, _dir, secret_file) = external_provider(secret);
    let sandbox = Sandbox::start(&[
        "--database-url",
        &database,
        "--provider-url",
        &provider.url,
        "--provider-secret-file",
        &secret_file,
    ]);
    let api = Api::new(&sandbox.url);
    deliveries_credit_each_event_once(&api, secret).await;
    assert_eq!(
        postgres.psql(
            "fincore",
            "SELECT count(*), count(DISTINCT event_id) FROM credits"
        ),
        "5000|5000"
    );
    assert_eq!(
        postgres.psql("fincore", "SELECT count(*) FROM webhook_events"),
        "5000"
    );
}

/// With no pattern on, payments to a provider slowed to 10 s hold every worker, and the
/// balance, which never calls the provider, stops answering too.
#[tokio::test]
async fn a_slow_provider_holds_every_worker_and_the_balance_fails_too() {
    let sandbox = Sandbox::start(&["--workers", "4"]);
    let api = Api::new(&sandbox.url);
    let provider = provider_of(&api).await;
    let (status, _) = provider
        .post("/api/failures", r#"{"latency_ms": 10000}"#)
        .await;
    assert_eq!(status, 200);
    let payments: Vec<_> = (0..4)
        .map(|index| {
            let api = Api::new(&sandbox.url);
            tokio::spawn(async move {
                pay(
                    &api,
                    &format!("slow-{index}"),
                    r#"{"amount": 1, "account": "ACC-001"}"#,
                )
                .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let quick = client(Duration::from_secs(2));
    let balance = quick
        .get(format!("{}/api/balance", sandbox.url))
        .send()
        .await;
    let failed = match &balance {
        Err(err) => err.is_timeout(),
        Ok(response) => response.status().is_server_error(),
    };
    assert!(
        failed,
        "the balance answered while every worker waited: {balance:?}"
    );
    assert_eq!(api.metric("fintech_workers_busy").await, 4.0);
    // The payments finish once the provider answers, and the balance with them.
    for payment in payments {
        let (status, body, _) = payment.await.expect("task");
        assert_eq!(status, 201, "{body}");
    }
    let (status, _) = api.get("/api/balance").await;
    assert_eq!(status, 200);
}

#[test]
fn provider_flags_say_what_is_missing_or_wrong() {
    let run = |args: &[&str], secret: Option<&str>| {
        let mut command = std::process::Command::new(support::GAMEDAY);
        command.args(args).env_remove("GAMEDAY_PROVIDER_SECRET");
        if let Some(secret) = secret {
            command.env("GAMEDAY_PROVIDER_SECRET", secret);
        }
        let output = command.output().expect("gameday runs");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, stderr) = run(
        &[
            "provider",
            "--listen",
            "127.0.0.1:0",
            "--webhook-url",
            "http://127.0.0.1:9/x",
        ],
        None,
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("GAMEDAY_PROVIDER_SECRET"), "{stderr}");
    let (code, stderr) = run(
        &[
            "provider",
            "--listen",
            "127.0.0.1:0",
            "--webhook-url",
            "ftp://x",
        ],
        Some("s3cret"),
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("--webhook-url"), "{stderr}");
    let (code, stderr) = run(
        &[
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--provider-url",
            "http://127.0.0.1:9",
        ],
        None,
    );
    assert_ne!(code, Some(0), "{stderr}");
    assert!(stderr.contains("--provider-secret-file"), "{stderr}");
}

#[tokio::test]
async fn a_webhook_refused_with_a_5xx_is_delivered_again_with_backoff() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    let provider = provider_of(&api).await;
    let before = balance(&api).await;
    provider
        .post("/api/failures", r#"{"webhook_delay_ms": 300}"#)
        .await;
    let (status, created, _) = pay(&api, "retry", r#"{"amount": 3, "account": "ACC-001"}"#).await;
    assert_eq!(status, 201, "{created}");
    // FinCore fails every request for a moment: the first deliveries get 500.
    api.post("/api/failures", r#"{"error_rate": 100}"#).await;
    eventually(
        "a delivery to be retried",
        Duration::from_secs(5),
        || async {
            let text = provider.metrics().await;
            text.contains("provider_webhook_deliveries_total{result=\"retried\"} ")
                .then(|| {
                    provider_sample(
                        &text,
                        "provider_webhook_deliveries_total{result=\"retried\"}",
                    )
                })
                .filter(|retried| *retried >= 1.0)
        },
    )
    .await;
    api.post("/api/reset", "").await;
    let id = created["id"].as_str().expect("id").to_string();
    assert_eq!(settled(&api, &id).await, "succeeded");
    assert!((balance(&api).await - (before + 3.0)).abs() < 1e-9);
}

fn provider_sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}
