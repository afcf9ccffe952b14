//! The moments of a drill on one time line, in order: phases entered, the injection, each
//! watched signal's first crossing, each expected alert's condition, firing (or when it would
//! have fired), the detection, resets and other remedies, recovery. Derived from a
//! [`DrillState`], so a report can mark a version 1 record as well as a new one; a version 2
//! record also carries them, for readers without gameday (and the dashboard's replay).

use serde::{Deserialize, Serialize};

use super::state::{ActionKind, DrillState};
use crate::signals::UnixSeconds;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MarkKind {
    /// A phase was entered; `name` is the phase.
    Phase,
    Injection,
    /// A watched signal first past its threshold; `name` is the signal.
    FirstCrossing,
    /// An expected alert's condition first held; `name` is the alert.
    AlertCondition,
    /// When that alert's `for` made (or would have made) it fire.
    AlertWouldFire,
    /// The alert turned firing.
    AlertFiring,
    Detection,
    /// `POST /api/reset` that took.
    Reset,
    /// Another action that can remove the fault (a container restart, a load change);
    /// `name` says which.
    Remedy,
    /// The failure state read back as cleared.
    FailuresCleared,
    PlatformRestart,
    /// Every recovery signal back in its band (the start of the hold that completed).
    Recovered,
    /// The hold completed.
    Verified,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    pub at: UnixSeconds,
    pub kind: MarkKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Every mark of `state`, by time; at one time, a phase entered comes before what entered it.
pub fn marks(state: &DrillState) -> Vec<Mark> {
    let mut marks = Vec::new();
    let mut push = |at: UnixSeconds, kind: MarkKind, name: Option<String>| {
        marks.push(Mark { at, kind, name });
    };
    for phase in &state.phases {
        push(
            phase.at,
            MarkKind::Phase,
            Some(phase.phase.name().to_string()),
        );
    }
    if let Some(at) = state.injected_at {
        push(at, MarkKind::Injection, None);
    }
    for track in &state.signals {
        if let Some(at) = track.first_crossed_at {
            push(
                at,
                MarkKind::FirstCrossing,
                Some(track.signal.name().to_string()),
            );
        }
    }
    for condition in &state.alert_conditions {
        let name = Some(condition.name.clone());
        push(condition.held_at, MarkKind::AlertCondition, name.clone());
        if let Some(at) = condition.would_fire_at {
            push(at, MarkKind::AlertWouldFire, name);
        }
    }
    for alert in &state.alerts {
        push(
            alert.fired_at,
            MarkKind::AlertFiring,
            Some(alert.name.clone()),
        );
    }
    if let Some(detection) = &state.detection {
        push(detection.at, MarkKind::Detection, None);
    }
    let injected = state.injected_at;
    for action in &state.actions {
        let after_injection = injected.is_some_and(|at| action.at >= at);
        if action.failed.is_some() || !after_injection || !action.kind.is_remedy() {
            continue;
        }
        match &action.kind {
            ActionKind::FailureReset => push(action.at, MarkKind::Reset, None),
            ActionKind::Container(container) => push(
                action.at,
                MarkKind::Remedy,
                Some(format!("container {}", container.name())),
            ),
            ActionKind::LoadChange { rate } => {
                push(
                    action.at,
                    MarkKind::Remedy,
                    Some(format!("load {rate} req/s")),
                );
            }
            ActionKind::ProviderReset => {
                push(action.at, MarkKind::Remedy, Some("provider reset".into()));
            }
            ActionKind::PatternChange { body } => {
                push(
                    action.at,
                    MarkKind::Remedy,
                    Some(format!("patterns {body}")),
                );
            }
            ActionKind::FailureChange { .. }
            | ActionKind::HintOpened { .. }
            | ActionKind::ProviderFailureChange { .. } => {}
        }
    }
    if let Some(at) = state.failures_cleared_at {
        push(at, MarkKind::FailuresCleared, None);
    }
    for at in &state.platform_restarts {
        push(*at, MarkKind::PlatformRestart, None);
    }
    if let Some(at) = state.recovered_at {
        push(at, MarkKind::Recovered, None);
    }
    if let Some(at) = state.verified_at {
        push(at, MarkKind::Verified, None);
    }
    marks.sort_by(|a, b| a.at.total_cmp(&b.at));
    marks
}
