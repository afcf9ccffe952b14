//! The sandbox on a real PostgreSQL server: same schema and seed, real transactions, idempotent
//! retries, and the pool visible in the metrics.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::time::Duration;

use support::{Api, Postgres, Sandbox, eventually};

#[tokio::test]
async fn the_sandbox_keeps_its_ledger_in_postgresql() {
    let postgres = Postgres::start();
    let url = postgres.create_database("fincore");
    let sandbox = Sandbox::start(&["--database-url", &url, "--db-pool", "4", "--workers", "8"]);
    let api = Api::new(&sandbox.url);

    assert_eq!(api.get("/health").await.0, 200);
    assert_eq!(api.get("/api/balance").await.1["balance"], 10000.0);
    assert_eq!(
        postgres.psql(
            "fincore",
            "SELECT balance_cents, currency FROM accounts WHERE account_number = 'ACC-001'"
        ),
        "1000000|USD"
    );

    let (status, done) = api
        .post(
            "/api/transfer",
            r#"{"amount": 99.99, "to_account": "ACC-777"}"#,
        )
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(
        postgres.psql(
            "fincore",
            "SELECT balance_cents FROM accounts WHERE account_number = 'ACC-777'"
        ),
        "9999"
    );
    assert_eq!(
        postgres.psql("fincore", "SELECT count(*) FROM transfers"),
        "1"
    );

    // Concurrent retries with one key: one debit.
    let retries: Vec<_> = (0..6)
        .map(|_| {
            let http = api.http.clone();
            let url = format!("{}/api/transfer", api.base);
            tokio::spawn(async move {
                http.post(url)
                    .header("Content-Type", "application/json")
                    .header("Idempotency-Key", "pg-retry-1")
                    .body(r#"{"amount": 10, "to_account": "ACC-777"}"#)
                    .send()
                    .await
                    .expect("answers")
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for retry in retries {
        assert_eq!(retry.await.expect("task"), 200);
    }
    assert_eq!(
        postgres.psql("fincore", "SELECT count(*) FROM transfers"),
        "2"
    );
    assert_eq!(api.get("/api/balance").await.1["balance"], 9890.01);

    let (status, _) = api
        .post(
            "/api/transfer",
            r#"{"amount": 20000, "to_account": "ACC-777"}"#,
        )
        .await;
    assert_eq!(status, 422);

    // db_slow holds pooled connections: with a pool of 4 and 8 workers, 4 wait for one.
    api.post("/api/failures", r#"{"db_slow": true, "ttl_s": 60}"#)
        .await;
    let slow: Vec<_> = (0..8)
        .map(|_| {
            let http = api.http.clone();
            let url = format!("{}/api/balance", api.base);
            tokio::spawn(async move {
                http.get(url)
                    .send()
                    .await
                    .expect("answers")
                    .status()
                    .as_u16()
            })
        })
        .collect();
    eventually(
        "the pool to be exhausted",
        Duration::from_secs(5),
        || async {
            let in_use = api
                .metric("fintech_db_pool_connections{state=\"in_use\"}")
                .await;
            let active = api.metric("fintech_active_transactions").await;
            // 4 hold a connection and 4 wait for one: all 8 are active transactions.
            (in_use == 4.0 && active == 8.0).then_some(())
        },
    )
    .await;
    let sessions = postgres.psql(
        "fincore",
        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'fincore' AND state = 'idle in transaction'",
    );
    assert_eq!(
        sessions, "4",
        "the held transactions are visible to PostgreSQL too"
    );
    for request in slow {
        assert_eq!(request.await.expect("task"), 200);
    }
    let waited = api.metric("fintech_db_pool_wait_seconds_sum").await;
    assert!(
        waited >= 4.0 * 1.5,
        "four requests each waited about 2 s for a connection: {waited}"
    );
    api.post("/api/reset", "").await;
}

#[test]
fn an_unreachable_database_is_a_clear_error() {
    let port = support::free_port();
    let (code, _, stderr) = support::run_gameday(&[
        "sandbox",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        &format!("postgres://app:hunter2@127.0.0.1:{port}/fincore"),
    ]);
    assert_ne!(code, 0);
    assert!(stderr.contains("cannot open the database"), "{stderr}");
    assert!(
        !stderr.contains("hunter2"),
        "the password must not be printed: {stderr}"
    );
}
