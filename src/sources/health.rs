//! `up`: 1 while the API's `GET /health` answers 200, 0 when it answers anything else or
//! nothing. A poller of its own, since an injected delay slows the health check and must not
//! slow the failure read-back.

use super::poller::{Poller, SourceError, send};
use super::{SourceKind, Update, UpdateSender};
use crate::fincore::FincoreClient;
use crate::signals::{Signal, now_unix};

pub struct HealthCheck {
    client: FincoreClient,
}

impl HealthCheck {
    pub fn new(client: FincoreClient) -> HealthCheck {
        HealthCheck { client }
    }
}

impl Poller for HealthCheck {
    const KIND: SourceKind = SourceKind::Api;
    /// No answer is a reading (`up` = 0), not a failure of the source: the API's status is
    /// the failure read-back's.
    const REPORTS_STATUS: bool = false;

    async fn poll(&mut self, updates: &UpdateSender) -> Result<(), SourceError> {
        let up = self
            .client
            .health()
            .await
            .is_ok_and(|health| health.status_code == 200);
        let update = Update::Signals {
            source: SourceKind::Api,
            at: now_unix(),
            values: vec![(Signal::Up, f64::from(u8::from(up)))],
        };
        send(updates, update).await
    }
}
