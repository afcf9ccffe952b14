//! The controller's requests to the target's dependency: the payment provider's failures
//! (set and reset on the provider's own address) and the target's resilience patterns. Each is
//! read back after the change, the view goes out as an update like the failure state's, and the
//! outcome says what the service has now.
//!
//! Where the provider is comes from the target's `GET /`, asked again for every request: a
//! restarted sandbox starts its provider on a new port, and a target without one (the workshop
//! service) is told so instead of being sent a request it cannot take.

use std::sync::Mutex;

use serde_json::Value;

use super::control::{ActionKind, ActionOutcome, Controls, answer_summary};
use crate::fincore::dependency::{ProviderControl, ProviderFailureView};
use crate::fincore::{Discovery, knob_number};
use crate::pattern_settings::PatternConfig;
use crate::signals::now_unix;
use crate::sources::{Update, UpdateSender};

/// The provider's control client, kept while the target names the same address.
#[derive(Default)]
pub struct ProviderClientCache {
    client: Mutex<Option<ProviderControl>>,
}

impl ProviderClientCache {
    /// A client for `url`, built once per address.
    fn for_url(&self, url: &str) -> Result<ProviderControl, String> {
        let mut cached = self
            .client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(client) = cached.as_ref().filter(|client| client.base() == url) {
            return Ok(client.clone());
        }
        let client = ProviderControl::new(url)?;
        *cached = Some(client.clone());
        Ok(client)
    }
}

/// What was sent to the provider.
enum ProviderChange<'a> {
    Set(&'a Value),
    Reset,
}

impl Controls {
    /// The target's discovery, or why a dependency request is not sent.
    async fn discovery_for_dependency(&self) -> Result<Discovery, String> {
        self.client
            .discover()
            .await
            .map_err(|reason| format!("not sent: cannot reach the API ({reason})"))
    }

    /// The provider's control client, or why there is none.
    async fn provider_control(&self) -> Result<ProviderControl, String> {
        let discovery = self.discovery_for_dependency().await?;
        let Some(provider) = discovery.provider else {
            return Err("not sent: this target names no payment provider".to_string());
        };
        self.provider_clients
            .for_url(&provider.url)
            .map_err(|reason| format!("not sent: {reason}"))
    }

    /// `POST /api/failures` on the provider with `knobs`, read back.
    pub(super) async fn provider_failures(
        &self,
        knobs: &[(String, Value)],
        updates: &UpdateSender,
    ) -> ActionOutcome {
        let body = Value::Object(knobs.iter().cloned().collect());
        self.provider_change(ProviderChange::Set(&body), updates)
            .await
    }

    /// `POST /api/reset` on the provider, read back.
    pub(super) async fn provider_reset(&self, updates: &UpdateSender) -> ActionOutcome {
        self.provider_change(ProviderChange::Reset, updates).await
    }

    async fn provider_change(
        &self,
        change: ProviderChange<'_>,
        updates: &UpdateSender,
    ) -> ActionOutcome {
        let sent_at = now_unix();
        let (kind, path, shown) = match change {
            ProviderChange::Set(body) => (
                ActionKind::ProviderFailureChange { body: body.clone() },
                "/api/failures",
                format!(" {body}"),
            ),
            ProviderChange::Reset => (ActionKind::ProviderReset, "/api/reset", String::new()),
        };
        let mut outcome = ActionOutcome {
            kind,
            sent_at,
            at: sent_at,
            request: format!("POST provider {path}{shown}"),
            answer: String::new(),
            ok: false,
            notes: Vec::new(),
        };
        let provider = match self.provider_control().await {
            Ok(provider) => provider,
            Err(reason) => {
                outcome.answer = reason;
                return outcome;
            }
        };
        outcome.request = format!("POST {}{path}{shown}", provider.base());
        let answer = match change {
            ProviderChange::Set(body) => provider.set_failures(body).await,
            ProviderChange::Reset => provider.reset().await,
        };
        outcome.at = now_unix();
        if !answered(answer, &mut outcome) {
            return outcome;
        }
        match provider.failures().await {
            Ok(view) => {
                let shows = match change {
                    ProviderChange::Set(body) => provider_shows(&view, body),
                    ProviderChange::Reset => !view.any_active(),
                };
                outcome.notes.push(provider_words(&view));
                if !shows {
                    outcome.ok = false;
                    outcome
                        .notes
                        .push("the state read back does not show the change".to_string());
                }
                if matches!(change, ProviderChange::Reset) {
                    outcome.at = now_unix();
                }
                let _ = updates.send(Update::ProviderFailures(view)).await;
            }
            Err(reason) => {
                outcome.ok = false;
                outcome.notes.push(format!("read back failed: {reason}"));
            }
        }
        outcome
    }

    /// `POST /api/patterns` on the target with a partial body, read back.
    pub(super) async fn patterns(&self, body: &Value, updates: &UpdateSender) -> ActionOutcome {
        let sent_at = now_unix();
        let mut outcome = ActionOutcome {
            kind: ActionKind::PatternChange { body: body.clone() },
            sent_at,
            at: sent_at,
            request: format!("POST /api/patterns {body}"),
            answer: String::new(),
            ok: false,
            notes: Vec::new(),
        };
        match self.discovery_for_dependency().await {
            Ok(discovery) if discovery.patterns => {}
            Ok(_) => {
                outcome.answer =
                    "not sent: this target has no resilience patterns to switch".to_string();
                return outcome;
            }
            Err(reason) => {
                outcome.answer = reason;
                return outcome;
            }
        }
        let answer = self.client.set_patterns(body).await;
        outcome.at = now_unix();
        if !self.answered_ok(answer, &mut outcome) {
            return outcome;
        }
        match self.client.patterns().await {
            Ok(view) => {
                outcome.notes.push(pattern_words(&view));
                if !view.shows(body) {
                    outcome.ok = false;
                    outcome
                        .notes
                        .push("the patterns read back do not show the change".to_string());
                }
                let _ = updates.send(Update::Patterns(view)).await;
            }
            Err(reason) => {
                outcome.ok = false;
                outcome.notes.push(format!("read back failed: {reason}"));
            }
        }
        outcome
    }
}

/// Fills the answer from the provider's reply (no control token there); true when accepted.
fn answered(answer: Result<(u16, String), String>, outcome: &mut ActionOutcome) -> bool {
    match answer {
        Err(reason) => {
            outcome.answer = reason;
            false
        }
        Ok((status, text)) => {
            outcome.ok = status == 200;
            outcome.answer = format!("{status} {}", answer_summary(&text));
            outcome.ok
        }
    }
}

/// Whether a read shows every knob of `body` at its value (flags as 0/1).
fn provider_shows(view: &ProviderFailureView, body: &Value) -> bool {
    body.as_object().is_some_and(|knobs| {
        knobs
            .iter()
            .all(|(knob, value)| view.value(knob) == Some(knob_number(value)))
    })
}

/// What the provider has now, for the outcome: `the provider has latency_ms 3000`.
pub fn provider_words(view: &ProviderFailureView) -> String {
    let set: Vec<String> = crate::provider::knobs::in_table_order(view.active())
        .into_iter()
        .map(|(knob, value)| format!("{knob} {value}"))
        .collect();
    if set.is_empty() {
        "the provider has no failure set".to_string()
    } else {
        format!("the provider has {}", set.join(", "))
    }
}

/// Which patterns are on now, for the outcome: `patterns on: timeout 200 ms, retry ×3`.
pub fn pattern_words(view: &PatternConfig) -> String {
    let on = view.on_words();
    if on.is_empty() {
        "no pattern on".to_string()
    } else {
        format!("patterns on: {}", on.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_provider_read_shows_a_change_only_when_every_knob_matches() {
        let view = ProviderFailureView::from_json(
            &json!({"current_config": {"latency_ms": 3000, "error_rate": 0.5, "down": true}}),
        )
        .expect("parses");
        assert!(provider_shows(
            &view,
            &json!({"latency_ms": 3000, "down": true})
        ));
        assert!(!provider_shows(&view, &json!({"error_rate": 0.4})));
        assert!(!provider_shows(&view, &json!({"timeout": false})));
        assert_eq!(
            provider_words(&view),
            "the provider has latency_ms 3000, error_rate 0.5, down 1"
        );
    }
}
