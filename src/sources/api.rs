//! The API source: the failure state read back from `GET /api/failures` every poll, so the
//! failure panel always shows what the service has now; and `up` from its health check.

use std::time::Duration;

use super::{SourceKind, Update, UpdateSender, poll_loop};
use crate::fincore::FincoreClient;
use crate::signals::{Signal, now_unix};

pub async fn run(client: FincoreClient, interval: Duration, updates: UpdateSender) {
    let sender = updates.clone();
    poll_loop(SourceKind::Api, interval, updates, move || {
        let client = client.clone();
        let sender = sender.clone();
        async move {
            let view = client.failures().await?;
            let _ = sender.send(Update::Failures(view)).await;
            Ok(())
        }
    })
    .await;
}

/// `up`: 1 while `GET /health` answers 200, 0 when it answers anything else or nothing. Its own
/// loop, since an injected delay slows the health check and must not slow the read-back.
pub async fn watch_health(client: FincoreClient, interval: Duration, updates: UpdateSender) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let up = client
            .health()
            .await
            .is_ok_and(|health| health.status_code == 200);
        let update = Update::Signals {
            source: SourceKind::Api,
            at: now_unix(),
            values: vec![(Signal::Up, f64::from(u8::from(up)))],
        };
        if updates.send(update).await.is_err() {
            return;
        }
    }
}
