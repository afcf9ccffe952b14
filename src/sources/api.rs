//! The API source's failure read-back: `GET /api/failures` every poll, so the failure panel
//! always shows what the service has now. Its status is the API's status in the header.

use super::poller::{Poller, SourceError, send};
use super::{SourceKind, Update, UpdateSender};
use crate::fincore::FincoreClient;

pub struct FailureReadBack {
    client: FincoreClient,
}

impl FailureReadBack {
    pub fn new(client: FincoreClient) -> FailureReadBack {
        FailureReadBack { client }
    }
}

impl Poller for FailureReadBack {
    const KIND: SourceKind = SourceKind::Api;

    async fn poll(&mut self, updates: &UpdateSender) -> Result<(), SourceError> {
        let view = self.client.failures().await?;
        send(updates, Update::Failures(view)).await
    }
}
