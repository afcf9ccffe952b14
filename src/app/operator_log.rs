//! `gameday.log` as an operator's log: what the dashboard watched and did, in the order it
//! happened — a source going down and coming back, every request to the target with its
//! answer, load changes, the drill's phase lines, records that could not be saved. It watches
//! the messages and the model around each update, so the model itself stays free of I/O.

use std::collections::BTreeMap;

use crate::model::{Model, Msg};
use crate::sources::{SourceKind, SourceStatus, Update};

/// The longest text quoted in one log line: a hostile answer must not bloat the log.
const MAX_QUOTED: usize = 300;

#[derive(Default)]
pub struct OperatorLog {
    /// Each source's last state: `None` up, `Some(reason)` down.
    sources: BTreeMap<SourceKind, Option<String>>,
    /// Drill log lines already written.
    drill_lines: usize,
}

impl OperatorLog {
    /// Logs what `msg` itself says, before the model takes it.
    pub fn message(&mut self, msg: &Msg, model: &Model) {
        let concealed = model
            .drill
            .as_ref()
            .is_some_and(|drill| drill.conceals_cause());
        match msg {
            Msg::Source(Update::Outcome(outcome)) => {
                let request = if concealed {
                    "(concealed until the cause is named)".to_string()
                } else {
                    bounded(&outcome.request)
                };
                let answer = bounded(&outcome.answer);
                let notes = bounded(&outcome.notes.join("; "));
                if outcome.ok {
                    tracing::info!(
                        event = "action",
                        request,
                        answer,
                        notes,
                        "the target took a change"
                    );
                } else {
                    tracing::warn!(
                        event = "action_failed",
                        request,
                        answer,
                        notes,
                        "the target did not take a change"
                    );
                }
            }
            Msg::LoadChanged {
                rate,
                profile,
                by_user,
            } => {
                tracing::info!(
                    event = "load_changed",
                    rate,
                    profile,
                    by_user,
                    "background load changed"
                );
            }
            Msg::LoadStopped => tracing::info!(event = "load_stopped", "background load stopped"),
            Msg::RequestRefused => {
                tracing::warn!(
                    event = "request_refused",
                    "a request was refused: another is still on its way"
                );
            }
            Msg::RecordNotSaved { reason } => {
                let reason = bounded(reason);
                tracing::error!(
                    event = "record_not_saved",
                    reason,
                    "a session record could not be saved"
                );
            }
            _ => {}
        }
    }

    /// Logs what changed in the model: sources down or back, new drill lines.
    pub fn changes(&mut self, model: &Model) {
        for (kind, status) in &model.live.sources {
            let now = match status {
                SourceStatus::Connecting => continue,
                SourceStatus::Ok { .. } => None,
                SourceStatus::Down { reason, .. } => Some(reason.clone()),
            };
            let before = self.sources.insert(*kind, now.clone());
            let source = kind.label();
            match (before.flatten(), now) {
                (Some(_), None) => {
                    tracing::info!(event = "source_up", source, "source answers again")
                }
                (None, Some(reason)) => {
                    let reason = bounded(&reason);
                    tracing::warn!(event = "source_down", source, reason, "source down");
                }
                _ => {}
            }
        }
        if let Some(drill) = &model.drill {
            // A new drill starts its log from the beginning.
            if drill.log.len() < self.drill_lines {
                self.drill_lines = 0;
            }
            for line in &drill.log[self.drill_lines..] {
                let line = bounded(line);
                tracing::info!(event = "drill", line, "drill");
            }
            self.drill_lines = drill.log.len();
        }
    }
}

/// `text` cut to [`MAX_QUOTED`] bytes at a character boundary, saying how long it was.
fn bounded(text: &str) -> String {
    if text.len() <= MAX_QUOTED {
        return text.to_string();
    }
    let mut end = MAX_QUOTED;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_quotes_are_cut_at_a_character_boundary() {
        assert_eq!(bounded("short"), "short");
        let long = "ж".repeat(400);
        let cut = bounded(&long);
        assert!(cut.ends_with("… (800 bytes)"), "{cut}");
        assert!(cut.len() < 320);
    }
}
