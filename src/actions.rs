//! What the user did to the target, as data: the app carries actions out, panels and drill
//! records show their outcomes. Container actions are declared here once: the dialog, the
//! Docker calls, drill cases and records all use [`ContainerAction`]. Imports nothing of the
//! rest of the crate but signals.

use serde::{Deserialize, Serialize};

use crate::signals::UnixSeconds;

/// A container action, as case files and records write it: `verb = "stop"`, `target = "db"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(into = "ContainerActionParts", try_from = "ContainerActionParts")]
pub enum ContainerAction {
    RestartApp,
    StopApp,
    StartApp,
    StopDb,
    StartDb,
}

impl ContainerAction {
    pub const ALL: [ContainerAction; 5] = [
        ContainerAction::RestartApp,
        ContainerAction::StopApp,
        ContainerAction::StartApp,
        ContainerAction::StopDb,
        ContainerAction::StartDb,
    ];

    /// A short name for logs and records.
    pub fn name(self) -> &'static str {
        match self {
            ContainerAction::RestartApp => "restart app",
            ContainerAction::StopApp => "stop app",
            ContainerAction::StartApp => "start app",
            ContainerAction::StopDb => "stop database",
            ContainerAction::StartDb => "start database",
        }
    }

    pub fn verb(self) -> ContainerVerb {
        match self {
            ContainerAction::RestartApp => ContainerVerb::Restart,
            ContainerAction::StopApp | ContainerAction::StopDb => ContainerVerb::Stop,
            ContainerAction::StartApp | ContainerAction::StartDb => ContainerVerb::Start,
        }
    }

    pub fn target(self) -> ContainerTarget {
        match self {
            ContainerAction::RestartApp | ContainerAction::StopApp | ContainerAction::StartApp => {
                ContainerTarget::App
            }
            ContainerAction::StopDb | ContainerAction::StartDb => ContainerTarget::Db,
        }
    }

    /// The action with this verb and target, if there is one (the database is not restarted).
    pub fn from_parts(verb: ContainerVerb, target: ContainerTarget) -> Option<ContainerAction> {
        ContainerAction::ALL
            .into_iter()
            .find(|action| action.verb() == verb && action.target() == target)
    }

    /// Every action as `verb target`, for messages: "restart app, stop app, ...".
    pub fn spelled_out() -> String {
        let all: Vec<String> = ContainerAction::ALL
            .iter()
            .map(|action| format!("{} {}", action.verb().name(), action.target().name()))
            .collect();
        all.join(", ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerVerb {
    Restart,
    Stop,
    Start,
}

impl ContainerVerb {
    pub fn name(self) -> &'static str {
        match self {
            ContainerVerb::Restart => "restart",
            ContainerVerb::Stop => "stop",
            ContainerVerb::Start => "start",
        }
    }
}

/// Which container of the workshop stack (compose services `app` and `db`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerTarget {
    App,
    Db,
}

impl ContainerTarget {
    pub fn name(self) -> &'static str {
        match self {
            ContainerTarget::App => "app",
            ContainerTarget::Db => "db",
        }
    }
}

/// How a [`ContainerAction`] is written in records: its verb and target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub struct ContainerActionParts {
    pub verb: ContainerVerb,
    pub target: ContainerTarget,
}

impl From<ContainerAction> for ContainerActionParts {
    fn from(action: ContainerAction) -> Self {
        ContainerActionParts {
            verb: action.verb(),
            target: action.target(),
        }
    }
}

impl TryFrom<ContainerActionParts> for ContainerAction {
    type Error = String;

    fn try_from(parts: ContainerActionParts) -> Result<Self, String> {
        ContainerAction::from_parts(parts.verb, parts.target).ok_or_else(|| {
            format!(
                "`{} {}` is not a container action; expected one of {}",
                parts.verb.name(),
                parts.target.name(),
                ContainerAction::spelled_out()
            )
        })
    }
}

/// Something the participant did: what an outcome answers, and what a drill records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActionKind {
    /// `POST /api/reset`.
    FailureReset,
    /// `POST /api/failures` with this body, as sent.
    FailureChange {
        body: serde_json::Value,
    },
    Container(ContainerAction),
    /// Hint number `index` (from 0) was revealed.
    HintOpened {
        index: usize,
    },
    /// The background load was changed to this rate (requests per second; 0 stops it).
    LoadChange {
        rate: f64,
    },
    /// The payment provider's `POST /api/failures` with this body, as sent.
    ProviderFailureChange {
        body: serde_json::Value,
    },
    /// The payment provider's `POST /api/reset`.
    ProviderReset,
    /// The target's `POST /api/patterns` with this body, as sent: a participant's fix.
    PatternChange {
        body: serde_json::Value,
    },
}

impl ActionKind {
    /// Whether it can remove the fault, which moves a drill on to verifying recovery.
    pub fn is_remedy(&self) -> bool {
        match self {
            ActionKind::FailureReset
            | ActionKind::LoadChange { .. }
            | ActionKind::ProviderReset
            | ActionKind::PatternChange { .. } => true,
            ActionKind::Container(action) => action.verb() != ContainerVerb::Stop,
            ActionKind::FailureChange { .. }
            | ActionKind::HintOpened { .. }
            | ActionKind::ProviderFailureChange { .. } => false,
        }
    }

    /// A change of the failure state (the target's or its provider's) or of a container:
    /// what injects a fault.
    pub fn changes_the_target(&self) -> bool {
        matches!(
            self,
            ActionKind::FailureChange { .. }
                | ActionKind::Container(_)
                | ActionKind::ProviderFailureChange { .. }
        )
    }
}

impl From<ContainerAction> for ActionKind {
    fn from(action: ContainerAction) -> Self {
        ActionKind::Container(action)
    }
}

/// The result of one request, as the service (or engine) answered it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionOutcome {
    pub kind: ActionKind,
    /// When the request left and when its answer came.
    pub sent_at: UnixSeconds,
    pub at: UnixSeconds,
    /// What was sent: `POST /api/failures {"latency_ms":2000,"ttl_s":600}`.
    pub request: String,
    /// What came back: `200 updated`, `400 latency_ms: ...`, `connection refused`.
    pub answer: String,
    pub ok: bool,
    /// Knobs left out, workers that disagree, and the like.
    pub notes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_action_is_its_verb_and_target() {
        for action in ContainerAction::ALL {
            assert_eq!(
                ContainerAction::from_parts(action.verb(), action.target()),
                Some(action)
            );
        }
        assert_eq!(
            ContainerAction::from_parts(ContainerVerb::Restart, ContainerTarget::Db),
            None
        );
    }

    /// An outcome's kind is what the drill records, in the records' existing shape.
    #[test]
    fn answers_are_recorded_as_the_participants_actions() {
        let kinds = [
            (ActionKind::FailureReset, json!({"kind": "failure_reset"})),
            (
                ActionKind::FailureChange {
                    body: json!({"error_rate": 30}),
                },
                json!({"kind": "failure_change", "body": {"error_rate": 30}}),
            ),
            (
                ActionKind::from(ContainerAction::RestartApp),
                json!({"kind": "container", "verb": "restart", "target": "app"}),
            ),
        ];
        for (kind, recorded) in kinds {
            assert_eq!(serde_json::to_value(&kind).ok(), Some(recorded.clone()));
            assert_eq!(
                serde_json::from_value::<ActionKind>(recorded).ok(),
                Some(kind)
            );
        }
        assert!(ActionKind::from(ContainerAction::StartDb).is_remedy());
        assert!(!ActionKind::from(ContainerAction::StopApp).is_remedy());
    }

    #[test]
    fn records_write_the_verb_and_the_target() {
        let json = serde_json::to_value(ContainerAction::StopDb).expect("serializes");
        assert_eq!(json, json!({"verb": "stop", "target": "db"}));
        let back: ContainerAction = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, ContainerAction::StopDb);
        let wrong = json!({"verb": "restart", "target": "db"});
        let err = serde_json::from_value::<ContainerAction>(wrong).expect_err("no such action");
        assert!(
            err.to_string()
                .contains("`restart db` is not a container action"),
            "{err}"
        );
    }
}
