//! What the user did to the target, as data: the app carries actions out, panels and drill
//! records show their outcomes. Imports nothing of the rest of the crate but signals.

use crate::signals::UnixSeconds;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
