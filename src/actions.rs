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

/// What kind of change an outcome is about, for drills that log the participant's actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Inject,
    Reset,
    Container(ContainerAction),
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

    #[test]
    fn records_write_the_verb_and_the_target() {
        let json = serde_json::to_value(ContainerAction::StopDb).expect("serializes");
        assert_eq!(json, serde_json::json!({"verb": "stop", "target": "db"}));
        let back: ContainerAction = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, ContainerAction::StopDb);
        let wrong = serde_json::json!({"verb": "restart", "target": "db"});
        let err = serde_json::from_value::<ContainerAction>(wrong).expect_err("no such action");
        assert!(
            err.to_string()
                .contains("`restart db` is not a container action"),
            "{err}"
        );
    }
}
