//! Contract tests of `gameday sandbox` over HTTP on 127.0.0.1: every endpoint, every failure,
//! reset, bad input, idempotent transfers, capacity and the control token.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Api, Sandbox, eventually, run_gameday};

#[tokio::test]
async fn discovery_health_and_balance_answer_as_the_workshop_does() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);

    let (status, root) = api.get("/").await;
    assert_eq!(status, 200);
    assert_eq!(root["service"], "fintech-api");
    assert_eq!(root["version"], "2.0.0");
    let endpoints: Vec<&str> = root["endpoints"]
        .as_array()
        .expect("endpoints list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for path in [
        "/health",
        "/metrics",
        "/api/balance",
        "/api/transfer",
        "/api/failures",
        "/api/reset",
    ] {
        assert!(
            endpoints.contains(&path),
            "{path} missing from {endpoints:?}"
        );
    }
    assert_eq!(root["extensions"]["ttl_s"], true);

    let (status, health) = api.get("/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "healthy");
    assert_eq!(health["database"], "connected");
    let timestamp = health["timestamp"].as_str().expect("timestamp");
    assert!(
        chrono::NaiveDateTime::parse_from_str(timestamp, "%Y-%m-%dT%H:%M:%S%.f").is_ok(),
        "ISO timestamp without zone: {timestamp}"
    );

    let (status, balance) = api.get("/api/balance").await;
    assert_eq!(status, 200);
    assert_eq!(
        balance,
        json!({"account": "ACC-001", "balance": 10000.0, "currency": "USD"})
    );

    let (status, failures) = api.get("/api/failures").await;
    assert_eq!(status, 200);
    assert_eq!(
        failures["current_config"],
        json!({"latency_ms": 0, "error_rate": 0, "memory_leak_mb": 0, "db_slow": false, "db_fail": false})
    );

    let (status, missing) = api.get("/nope").await;
    assert_eq!(status, 404);
    assert!(missing["error"].is_string());
    let (status, _) = api.post("/api/balance", "{}").await;
    assert_eq!(status, 405);
}

#[tokio::test]
async fn transfers_are_real_transactions_and_refuse_overdrafts() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);

    let (status, done) = api
        .post(
            "/api/transfer",
            r#"{"amount": 250.75, "to_account": "ACC-002"}"#,
        )
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "completed");
    assert_eq!(done["amount"], 250.75);
    assert_eq!(done["to_account"], "ACC-002");
    assert!(
        done["transaction_id"]
            .as_str()
            .expect("id")
            .starts_with("TXN-")
    );
    assert!(done["timestamp"].is_string());
    assert_eq!(api.get("/api/balance").await.1["balance"], 9749.25);

    let (status, refused) = api
        .post(
            "/api/transfer",
            r#"{"amount": 9749.26, "to_account": "ACC-002"}"#,
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"], "insufficient funds");
    assert_eq!(api.get("/api/balance").await.1["balance"], 9749.25);

    // Draining the account exactly is allowed; one cent more is not.
    let (status, _) = api
        .post(
            "/api/transfer",
            r#"{"amount": 9749.25, "to_account": "ACC-003"}"#,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(api.get("/api/balance").await.1["balance"], 0.0);
    let (status, _) = api
        .post(
            "/api/transfer",
            r#"{"amount": 0.01, "to_account": "ACC-003"}"#,
        )
        .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn an_idempotency_key_makes_a_retry_return_the_first_answer_without_a_second_debit() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    let send = |key: &'static str, amount: f64| {
        let http = api.http.clone();
        let url = format!("{}/api/transfer", api.base);
        async move {
            let response = http
                .post(url)
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", key)
                .body(json!({"amount": amount, "to_account": "ACC-009"}).to_string())
                .send()
                .await
                .expect("transfer answers");
            let replayed = response.headers().contains_key("idempotent-replayed");
            let status = response.status().as_u16();
            (
                status,
                replayed,
                response.json::<Value>().await.expect("JSON"),
            )
        }
    };

    // Ten concurrent retries of one request: one debit, one transaction id.
    let answers = futures_join_all((0..10).map(|_| send("order-42", 100.0))).await;
    let ids: Vec<&Value> = answers
        .iter()
        .map(|(_, _, body)| &body["transaction_id"])
        .collect();
    assert!(
        answers.iter().all(|(status, _, _)| *status == 200),
        "{answers:?}"
    );
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(
        answers.iter().filter(|(_, replayed, _)| !replayed).count(),
        1
    );
    assert_eq!(api.get("/api/balance").await.1["balance"], 9900.0);

    // The same key for a different transfer is refused and debits nothing.
    let (status, _, body) = send("order-42", 5.0).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(api.get("/api/balance").await.1["balance"], 9900.0);

    let (status, _, _) = send("order-43", 5.0).await;
    assert_eq!(status, 200);
    assert_eq!(api.get("/api/balance").await.1["balance"], 9895.0);
}

async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.expect("task finishes"));
    }
    outputs
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_at_fault_and_changes_nothing() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    api.post("/api/failures", r#"{"latency_ms": 10}"#).await;
    let before = api.get("/api/failures").await.1["current_config"].clone();

    let bad_failures = [
        (r#"{"latency_ms": "abc"}"#, "latency_ms"),
        (r#"{"latency_ms": 60001}"#, "latency_ms"),
        (r#"{"error_rate": 30.5}"#, "error_rate"),
        (r#"{"error_rate": -1}"#, "error_rate"),
        (r#"{"memory_leak_mb": 1000}"#, "memory_leak_mb"),
        (r#"{"db_slow": "yes"}"#, "db_slow"),
        (r#"{"db_fail": null}"#, "db_fail"),
        (r#"{"latency_ms": 5, "colour": "red"}"#, "colour"),
        (r#"{"ttl_s": 1000000, "latency_ms": 5}"#, "ttl_s"),
        (r#"{}"#, "latency_ms"),
        (r#"[1, 2]"#, "object"),
        (r#""str""#, "object"),
        (r#"{"latency_ms": "#, "JSON"),
    ];
    for (body, field) in bad_failures {
        let (status, answer) = api.post("/api/failures", body).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        let message = answer["error"].as_str().expect("error message");
        assert!(
            message.contains(field),
            "{body}: `{message}` does not name {field}"
        );
    }
    assert_eq!(api.get("/api/failures").await.1["current_config"], before);

    // Without a JSON content type: 415, as JSON.
    let response = api
        .http
        .post(format!("{}/api/failures", api.base))
        .body(r#"{"latency_ms": 2000}"#)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 415);
    assert!(response.json::<Value>().await.expect("JSON")["error"].is_string());

    // Over 64 KiB: 413.
    let huge = format!(r#"{{"latency_ms": 1, "pad": "{}"}}"#, "x".repeat(70 * 1024));
    let (status, answer) = api.post("/api/failures", &huge).await;
    assert_eq!(status, 413, "{answer}");
    let (status, _) = api.post("/api/transfer", &huge).await;
    assert_eq!(status, 413);
    assert_eq!(api.get("/api/failures").await.1["current_config"], before);

    let bad_transfers = [
        (r#"{"amount": 0, "to_account": "ACC-002"}"#, "amount"),
        (r#"{"amount": 1.001, "to_account": "ACC-002"}"#, "amount"),
        (r#"{"amount": "10", "to_account": "ACC-002"}"#, "amount"),
        (r#"{"to_account": "ACC-002"}"#, "amount"),
        (r#"{"amount": 10}"#, "to_account"),
        (r#"{"amount": 10, "to_account": "ACC 002"}"#, "to_account"),
        (
            r#"{"amount": 10, "to_account": "ACC-002", "note": 1}"#,
            "note",
        ),
        (r#"{"amount": 10,"#, "JSON"),
    ];
    for (body, field) in bad_transfers {
        let (status, answer) = api.post("/api/transfer", body).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        let message = answer["error"].as_str().expect("error message");
        assert!(
            message.contains(field),
            "{body}: `{message}` does not name {field}"
        );
    }
    assert_eq!(api.get("/api/balance").await.1["balance"], 10000.0);
}

#[tokio::test]
async fn latency_and_errors_apply_to_the_instrumented_endpoints_only() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);

    let (status, answer) = api.post("/api/failures", r#"{"latency_ms": 300}"#).await;
    assert_eq!(status, 200);
    assert_eq!(answer["status"], "updated");
    assert_eq!(answer["config"]["latency_ms"], 300);
    for path in ["/health", "/api/balance"] {
        let started = Instant::now();
        assert_eq!(api.get(path).await.0, 200);
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "{path} did not sleep"
        );
    }
    let started = Instant::now();
    api.get("/api/failures").await;
    api.metrics().await;
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "control plane slept"
    );

    api.post("/api/reset", "").await;
    api.post("/api/failures", r#"{"error_rate": 100}"#).await;
    let (status, health) = api.get("/health").await;
    assert_eq!(status, 500);
    assert_eq!(health["status"], "error");
    let (status, balance) = api.get("/api/balance").await;
    assert_eq!(status, 500);
    assert!(balance["error"].is_string());
    let (status, transfer) = api
        .post("/api/transfer", r#"{"amount": 1, "to_account": "ACC-002"}"#)
        .await;
    assert_eq!(status, 500);
    assert_eq!(transfer["error"], "Transfer failed");
    assert_eq!(api.get("/api/balance").await.1["error"], balance["error"]);

    // error_rate is a share: 40 % of 300 requests.
    api.post("/api/failures", r#"{"error_rate": 40}"#).await;
    let mut failed = 0;
    for _ in 0..300 {
        if api.get("/api/balance").await.0 == 500 {
            failed += 1;
        }
    }
    assert!(
        (80..=160).contains(&failed),
        "{failed} of 300 failed at 40 %"
    );
    let counted = api
        .metric("fintech_requests_total{endpoint=\"/api/balance\",method=\"GET\",status=\"500\"}")
        .await;
    assert_eq!(counted as u32, failed + 2);
}

#[tokio::test]
async fn a_memory_leak_holds_real_memory_up_to_the_cap_and_reset_frees_it() {
    let sandbox = Sandbox::start(&["--memory-cap", "80MiB"]);
    let api = Api::new(&sandbox.url);
    let rss = || async { api.metric("process_resident_memory_bytes").await };
    let baseline = rss().await;

    api.post("/api/failures", r#"{"memory_leak_mb": 5}"#).await;
    for _ in 0..10 {
        assert_eq!(api.get("/api/balance").await.0, 200);
    }
    let leaking = rss().await;
    assert!(
        leaking - baseline >= 45.0 * 1048576.0,
        "10 requests x 5 MiB grew RSS by only {} MiB",
        (leaking - baseline) / 1048576.0
    );
    for _ in 0..20 {
        api.get("/api/balance").await;
    }
    assert_eq!(
        api.metric("fintech_leaked_memory_bytes").await,
        80.0 * 1048576.0
    );
    assert!(
        rss().await - baseline < 100.0 * 1048576.0,
        "grew past the cap"
    );

    let (status, answer) = api.post("/api/reset", "").await;
    assert_eq!(status, 200);
    assert_eq!(answer["status"], "reset complete");
    assert_eq!(answer["freed_bytes"], 80 * 1048576);
    let after = rss().await;
    assert!(
        after - baseline < 20.0 * 1048576.0,
        "RSS stayed {} MiB above baseline after reset",
        (after - baseline) / 1048576.0
    );
}

#[tokio::test]
async fn db_slow_holds_connections_so_a_queue_builds_behind_the_workers() {
    let sandbox = Sandbox::start(&["--workers", "4", "--db-pool", "10"]);
    let api = Api::new(&sandbox.url);
    api.post("/api/failures", r#"{"db_slow": true}"#).await;

    let started = Instant::now();
    let requests: Vec<_> = (0..8)
        .map(|_| {
            let http = api.http.clone();
            let url = format!("{}/api/balance", api.base);
            tokio::spawn(async move {
                let status = http.get(url).send().await.expect("answers").status();
                (status.as_u16(), started.elapsed())
            })
        })
        .collect();
    let (active, queued) = eventually(
        "transactions to pile up",
        Duration::from_secs(5),
        || async {
            let active = api.metric("fintech_active_transactions").await;
            let queued = api.metric("fintech_queued_requests").await;
            // All 8 in flight: 4 in the workers and 4 queued (both gauges counted them).
            (active >= 8.0 && queued >= 4.0).then_some((active, queued))
        },
    )
    .await;
    assert!(queued >= 1.0);
    // Only 4 workers may hold transactions; the requests queued behind them under a slow
    // database are waiting for it too, and count as active transactions.
    assert_eq!(api.metric("fintech_workers_busy").await, 4.0);
    assert_eq!(
        active,
        4.0 + queued,
        "4 holding a transaction + {queued} waiting"
    );
    assert_eq!(
        api.metric("fintech_db_pool_connections{state=\"in_use\"}")
            .await,
        4.0
    );

    let mut elapsed = Vec::new();
    for request in requests {
        let (status, took) = request.await.expect("task");
        assert_eq!(status, 200);
        elapsed.push(took);
    }
    elapsed.sort();
    assert!(elapsed[0] >= Duration::from_secs(2), "{elapsed:?}");
    // The second four waited for the first four: two rounds of 2 s.
    assert!(elapsed[7] >= Duration::from_secs(4), "{elapsed:?}");
    assert_eq!(api.metric("fintech_active_transactions").await, 0.0);
}

#[tokio::test]
async fn db_fail_fails_every_database_call_until_reset() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    api.post("/api/failures", r#"{"db_fail": true}"#).await;

    let (status, health) = api.get("/health").await;
    assert_eq!(status, 503);
    assert_eq!(health["status"], "unhealthy");
    assert!(
        health["database"]
            .as_str()
            .expect("reason")
            .starts_with("error: ")
    );
    assert_eq!(api.get("/api/balance").await.0, 500);
    let (status, transfer) = api
        .post("/api/transfer", r#"{"amount": 1, "to_account": "ACC-002"}"#)
        .await;
    assert_eq!(status, 500);
    assert_eq!(transfer["error"], "Transfer failed");

    api.post("/api/reset", "").await;
    assert_eq!(api.get("/health").await.0, 200);
    assert_eq!(api.get("/api/balance").await.1["balance"], 10000.0);
}

#[tokio::test]
async fn failures_expire_after_their_time_to_live_and_the_log_says_who_did_what() {
    let sandbox = Sandbox::start(&["--failure-ttl", "1s"]);
    let api = Api::new(&sandbox.url);

    api.post("/api/failures", r#"{"error_rate": 50}"#).await;
    api.post("/api/failures", r#"{"latency_ms": 100, "ttl_s": 30}"#)
        .await;
    let (_, state) = api.get("/api/failures").await;
    let left = state["ttl_remaining_s"]["latency_ms"]
        .as_f64()
        .expect("time left");
    assert!(left > 25.0 && left <= 30.0, "{state}");
    assert!(state["since"]["error_rate"].is_string());

    // The default TTL of 1 s clears error_rate; latency_ms keeps its own 30 s.
    eventually("error_rate to expire", Duration::from_secs(5), || async {
        let (_, state) = api.get("/api/failures").await;
        (state["current_config"]["error_rate"] == 0).then_some(())
    })
    .await;
    assert_eq!(
        api.get("/api/failures").await.1["current_config"]["latency_ms"],
        100
    );

    api.post("/api/reset", "").await;
    let log = sandbox.log_lines();
    let changes: Vec<&Value> = log
        .iter()
        .filter(|line| line["event"] == "failure_change")
        .collect();
    let actions: Vec<&str> = changes
        .iter()
        .filter_map(|line| line["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["inject", "inject", "expire", "reset"],
        "{changes:?}"
    );
    assert_eq!(changes[0]["error_rate"], 50);
    assert_eq!(
        changes[0]["remote"]
            .as_str()
            .map(|r| r.starts_with("127.0.0.1:")),
        Some(true)
    );
    assert!(changes[0]["timestamp"].is_string());
    assert_eq!(changes[2]["changed"], "error_rate");
    assert_eq!(changes[3]["was_latency_ms"], 100);
}

#[tokio::test]
async fn a_control_token_guards_changes_but_not_reads() {
    let sandbox = Sandbox::start(&["--control-token", "s3cret"]);
    let api = Api::new(&sandbox.url);
    let post = |path: &str, token: Option<&str>| {
        let mut request = api
            .http
            .post(format!("{}{path}", api.base))
            .header("Content-Type", "application/json")
            .body(r#"{"latency_ms": 50}"#);
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        async move { request.send().await.expect("answers").status().as_u16() }
    };
    assert_eq!(post("/api/failures", None).await, 401);
    assert_eq!(post("/api/failures", Some("wrong")).await, 401);
    assert_eq!(post("/api/reset", None).await, 401);
    assert_eq!(
        api.get("/api/failures").await.1["current_config"]["latency_ms"],
        0
    );
    assert_eq!(post("/api/failures", Some("s3cret")).await, 200);
    assert_eq!(
        api.get("/api/failures").await.1["current_config"]["latency_ms"],
        50
    );
    assert_eq!(post("/api/reset", Some("s3cret")).await, 200);
    assert_eq!(
        api.get("/").await.1["extensions"]["control_token_required"],
        true
    );
    assert!(
        !std::fs::read_to_string(&sandbox.log_path)
            .expect("log")
            .contains("s3cret"),
        "the token must never be logged"
    );
}

#[test]
fn listening_beyond_loopback_warns_that_anyone_can_inject_failures() {
    let mut child = std::process::Command::new(support::GAMEDAY)
        .args(["sandbox", "--listen", "0.0.0.0:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut line).expect("a line");
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains("WARNING"), "{line}");
    assert!(line.contains("anyone"), "{line}");
}

#[test]
fn bad_flags_say_what_is_expected() {
    let cases: [(&[&str], &str); 4] = [
        (&["sandbox", "--workers", "0"], "--workers"),
        (&["sandbox", "--memory-cap", "lots"], "expected a size"),
        (&["sandbox", "--failure-ttl", "soon"], "expected a duration"),
        (
            &[
                "sandbox",
                "--listen",
                "127.0.0.1:0",
                "--database-url",
                "mysql://x",
            ],
            "expected sqlite://",
        ),
    ];
    for (args, expected) in cases {
        let (code, _, stderr) = run_gameday(args);
        assert_ne!(code, 0, "{args:?} succeeded");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
