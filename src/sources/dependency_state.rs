//! The dependency's state read back every poll, like the failure state: the payment provider's
//! failures (on the address the target names in `GET /`) and the target's resilience patterns,
//! so a change made by someone else (curl, a drill's script) shows on the dashboard.
//!
//! It shares the API's status in the header without reporting one: a provider that cannot be
//! read is not the API being down. A target without a provider or patterns (the workshop
//! service) is asked `GET /` once and then left alone.

use super::poller::{Poller, SourceError, send};
use super::{SourceKind, Update, UpdateSender};
use crate::fincore::FincoreClient;
use crate::fincore::dependency::ProviderControl;

pub struct DependencyState {
    client: FincoreClient,
    /// What the target's discovery said: None until it has answered, and again after the
    /// provider could not be read (a restarted sandbox names a new address).
    known: Option<Dependency>,
}

struct Dependency {
    provider: Option<ProviderControl>,
    patterns: bool,
}

impl DependencyState {
    pub fn new(client: FincoreClient) -> DependencyState {
        DependencyState {
            client,
            known: None,
        }
    }

    async fn learn(&mut self) -> Result<&Dependency, SourceError> {
        if self.known.is_none() {
            let discovery = self.client.discover().await?;
            let provider = discovery
                .provider
                .map(|provider| ProviderControl::new(&provider.url))
                .transpose()?;
            self.known = Some(Dependency {
                provider,
                patterns: discovery.patterns,
            });
        }
        self.known
            .as_ref()
            .ok_or_else(|| SourceError::Failed("no discovery".to_string()))
    }
}

impl Poller for DependencyState {
    const KIND: SourceKind = SourceKind::Api;
    const REPORTS_STATUS: bool = false;

    async fn poll(&mut self, updates: &UpdateSender) -> Result<(), SourceError> {
        let dependency = self.learn().await?;
        let patterns = dependency.patterns;
        let provider = dependency.provider.clone();
        if patterns {
            let view = self.client.patterns().await?;
            send(updates, Update::Patterns(view)).await?;
        }
        if let Some(provider) = provider {
            match provider.failures().await {
                Ok(view) => send(updates, Update::ProviderFailures(view)).await?,
                Err(reason) => {
                    self.known = None;
                    return Err(SourceError::Failed(reason));
                }
            }
        }
        Ok(())
    }
}
