//! The API source: the failure state read back from `GET /api/failures` every poll, so the
//! failure panel always shows what the service has now.

use std::time::Duration;

use super::{SourceKind, Update, UpdateSender, poll_loop};
use crate::fincore::FincoreClient;

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
