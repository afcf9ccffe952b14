//! The sandbox records what the workshop's gunicorn service would, over HTTP on 127.0.0.1:
//! requests whose clients gave up are still finished and counted with their real duration, and
//! requests waiting on a slow database count as active transactions beyond the worker count.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::time::Duration;

use support::{Api, Sandbox, eventually};

/// The value of one sample line of a `/metrics` text.
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no `{series}` in {metrics}"))
}

/// Sends `count` GET requests to `path` at once, each giving up after `patience`; returns the
/// HTTP statuses, `None` for a client that gave up.
async fn impatient_clients(
    api: &Api,
    path: &str,
    count: usize,
    patience: Duration,
) -> Vec<Option<u16>> {
    let client = gameday::fincore::tls::client_builder()
        .timeout(patience)
        .build()
        .expect("HTTP client");
    let requests: Vec<_> = (0..count)
        .map(|_| {
            let request = client.get(format!("{}{path}", api.base)).send();
            tokio::spawn(async move { request.await.ok().map(|r| r.status().as_u16()) })
        })
        .collect();
    let mut statuses = Vec::new();
    for request in requests {
        statuses.push(request.await.expect("client task"));
    }
    statuses
}

#[tokio::test]
async fn a_client_that_gives_up_during_a_slow_database_call_is_still_counted_with_its_real_duration()
 {
    // One worker: the second request waits 2 s for it, then holds the database 2 s itself.
    let sandbox = Sandbox::start(&["--workers", "1"]);
    let api = Api::new(&sandbox.url);
    api.post("/api/failures", r#"{"db_slow": true}"#).await;

    let statuses = impatient_clients(&api, "/api/balance", 2, Duration::from_millis(500)).await;
    assert_eq!(
        statuses,
        vec![None, None],
        "both clients gave up after 0.5 s"
    );

    let counted = eventually(
        "both abandoned requests to be finished and counted",
        Duration::from_secs(10),
        || async {
            let metrics = api.metrics().await;
            metrics
                .contains(
                    "fintech_requests_total{endpoint=\"/api/balance\",method=\"GET\",status=\"200\"} 2\n",
                )
                .then_some(metrics)
        },
    )
    .await;
    let sample = |series: &str| sample(&counted, series);
    let histogram = "fintech_request_latency_seconds";
    assert_eq!(
        sample(&format!("{histogram}_count{{endpoint=\"/api/balance\"}}")),
        2.0
    );
    // Real durations: about 2 s for the first and 4 s for the second (queued, then slow).
    let bucket = |le: &str| {
        sample(&format!(
            "{histogram}_bucket{{endpoint=\"/api/balance\",le=\"{le}\"}}"
        ))
    };
    assert_eq!(bucket("1.0"), 0.0, "{counted}");
    assert_eq!(bucket("2.5"), 1.0, "{counted}");
    assert_eq!(bucket("5.0"), 2.0, "{counted}");
    let sum = sample(&format!("{histogram}_sum{{endpoint=\"/api/balance\"}}"));
    assert!((6.0..7.5).contains(&sum), "2 s + 4 s, got {sum}");
    assert_eq!(api.metric("fintech_active_transactions").await, 0.0);
}

#[tokio::test]
async fn under_a_slow_database_active_transactions_exceed_the_workers_so_db_slow_transactions_can_fire()
 {
    let sandbox = Sandbox::start(&["--workers", "8"]);
    let api = Api::new(&sandbox.url);
    api.post("/api/failures", r#"{"db_slow": true}"#).await;

    let clients = {
        let api = Api::new(&sandbox.url);
        tokio::spawn(async move {
            impatient_clients(&api, "/api/balance", 12, Duration::from_secs(10)).await
        })
    };
    let (active, busy, queued) = eventually(
        "all 12 requests to be in flight",
        Duration::from_secs(5),
        || async {
            // One scrape, so the three gauges describe the same moment.
            let text = api.metrics().await;
            let metrics = (
                sample(&text, "fintech_active_transactions"),
                sample(&text, "fintech_workers_busy"),
                sample(&text, "fintech_queued_requests"),
            );
            (metrics.1 >= 8.0 && metrics.2 >= 4.0).then_some(metrics)
        },
    )
    .await;
    assert_eq!(busy, 8.0, "only the 8 workers hold connections");
    assert_eq!(queued, 4.0);
    assert_eq!(
        active, 12.0,
        "8 holding a transaction + 4 waiting for the database"
    );
    assert!(active > 10.0, "DBSlowTransactions (active > 10) can fire");

    let statuses = clients.await.expect("clients");
    assert_eq!(statuses, vec![Some(200); 12]);
    assert_eq!(api.metric("fintech_active_transactions").await, 0.0);
}

#[tokio::test]
async fn a_queue_behind_injected_latency_is_not_counted_as_database_transactions() {
    let sandbox = Sandbox::start(&["--workers", "8"]);
    let api = Api::new(&sandbox.url);
    api.post("/api/failures", r#"{"latency_ms": 2000}"#).await;

    let clients = {
        let api = Api::new(&sandbox.url);
        tokio::spawn(async move {
            impatient_clients(&api, "/api/balance", 12, Duration::from_secs(10)).await
        })
    };
    eventually(
        "a queue behind the workers",
        Duration::from_secs(5),
        || async { (api.metric("fintech_queued_requests").await >= 4.0).then_some(()) },
    )
    .await;
    assert_eq!(api.metric("fintech_workers_busy").await, 8.0);
    assert_eq!(
        api.metric("fintech_active_transactions").await,
        0.0,
        "the workers sleep in injected latency, not in the database"
    );
    let statuses = clients.await.expect("clients");
    assert_eq!(statuses, vec![Some(200); 12]);
}
