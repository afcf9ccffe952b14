//! The embedded default's supervisor: the sandbox child stays up, is killed when it outgrows
//! its memory limit (as the OOM killer would), restarted on the same address with its database
//! kept, and stopped on shutdown.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::time::Duration;

use gameday::sandbox::supervisor::{self, SupervisorConfig, SupervisorEvent};
use gameday::secret::Secret;
use support::Api;
use tokio::sync::mpsc;

async fn next_event(
    events: &mut mpsc::Receiver<SupervisorEvent>,
    what: &str,
    matches: impl Fn(&SupervisorEvent) -> bool,
) -> SupervisorEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .expect("supervisor running");
        if matches(&event) {
            return event;
        }
    }
}

#[tokio::test]
async fn a_child_that_outgrows_its_limit_is_killed_restarted_and_counted() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let listen = format!("127.0.0.1:{}", support::free_port())
        .parse()
        .expect("address");
    let (sender, mut events) = mpsc::channel(256);
    let handle = supervisor::spawn(
        SupervisorConfig {
            exe: support::GAMEDAY.into(),
            listen,
            memory_limit: 96 << 20,
            database_path: dir.path().join("fincore.db"),
            control_token: Secret::new("supervisor-test-token".to_string()),
        },
        sender,
    );
    let SupervisorEvent::Started { pid, url } = next_event(&mut events, "the start", |e| {
        matches!(e, SupervisorEvent::Started { .. })
    })
    .await
    else {
        unreachable!()
    };
    let api = Api::new(&url);
    // It stays up: memory reports keep coming and the API answers.
    next_event(&mut events, "a memory report", |e| {
        matches!(e, SupervisorEvent::Memory { .. })
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(api.get("/health").await.0, 200);
    let (status, _) = api
        .post(
            "/api/transfer",
            r#"{"amount": 100, "to_account": "ACC-002"}"#,
        )
        .await;
    assert_eq!(status, 200);

    // Only the supervisor's token changes the child's failures.
    let (status, _) = api.post("/api/failures", r#"{"memory_leak_mb": 10}"#).await;
    assert_eq!(status, 401, "the child takes changes only with its token");
    let (status, _) = api
        .post_with_token(
            "/api/failures",
            r#"{"memory_leak_mb": 10}"#,
            "supervisor-test-token",
        )
        .await;
    assert_eq!(status, 200);
    for _ in 0..30 {
        if api
            .http
            .get(format!("{url}/api/balance"))
            .send()
            .await
            .is_err()
        {
            break;
        }
    }
    let killed = next_event(&mut events, "the OOM kill", |e| {
        matches!(e, SupervisorEvent::OomKilled { .. })
    })
    .await;
    if let SupervisorEvent::OomKilled { rss, limit } = killed {
        assert!(rss > limit);
    }
    assert_eq!(
        next_event(&mut events, "the restart count", |e| matches!(
            e,
            SupervisorEvent::Restarts(_)
        ))
        .await,
        SupervisorEvent::Restarts(1)
    );
    let SupervisorEvent::Started {
        pid: new_pid,
        url: new_url,
    } = next_event(&mut events, "the restart", |e| {
        matches!(e, SupervisorEvent::Started { .. })
    })
    .await
    else {
        unreachable!()
    };
    assert_ne!(new_pid, pid);
    assert_eq!(new_url, url, "same address after a restart");
    // A fresh process (no failure left) on the same database (the transfer is still there).
    assert_eq!(
        api.get("/api/failures").await.1["current_config"]["memory_leak_mb"],
        0
    );
    assert_eq!(api.get("/api/balance").await.1["balance"], 9900.0);

    handle.shutdown().await;
    assert!(
        !std::path::Path::new(&format!("/proc/{new_pid}")).exists(),
        "child outlived shutdown"
    );
}

/// A child that dies at once is restarted later and later (0.5 s, doubling), said as a crash
/// loop with its count, instead of thousands of restarts a minute.
#[tokio::test]
async fn a_child_that_keeps_dying_is_restarted_with_a_growing_wait() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let listen = format!("127.0.0.1:{}", support::free_port())
        .parse()
        .expect("address");
    let (sender, mut events) = mpsc::channel(256);
    let handle = supervisor::spawn(
        SupervisorConfig {
            // Exits at once, whatever it is told: a sandbox that cannot start.
            exe: "false".into(),
            listen,
            memory_limit: 96 << 20,
            database_path: dir.path().join("fincore.db"),
            control_token: Secret::random(),
        },
        sender,
    );
    let mut waits = Vec::new();
    let mut restarts = 0;
    while waits.len() < 3 {
        match next_event(&mut events, "a crash loop report", |e| {
            matches!(
                e,
                SupervisorEvent::CrashLoop { .. } | SupervisorEvent::Restarts(_)
            )
        })
        .await
        {
            SupervisorEvent::CrashLoop {
                in_a_row,
                next_start_in,
            } => waits.push((in_a_row, next_start_in.as_secs_f64())),
            SupervisorEvent::Restarts(count) => restarts = count,
            _ => {}
        }
    }
    assert_eq!(waits, [(2, 1.0), (3, 2.0), (4, 4.0)]);
    assert_eq!(restarts, 4, "one restart counted per crash");
    handle.shutdown().await;
}
