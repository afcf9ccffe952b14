//! The embedded default's supervisor: the sandbox child stays up, is killed when it outgrows
//! its memory limit (as the OOM killer would), restarted on the same address with its database
//! kept, and stopped on shutdown.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::time::Duration;

use gameday::sandbox::supervisor::{self, SupervisorConfig, SupervisorEvent};
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

    api.post("/api/failures", r#"{"memory_leak_mb": 10}"#).await;
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
