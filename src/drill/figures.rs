//! The review's figures, computed from what the drill recorded: how fast the fault showed, was
//! detected, acted on and recovered from. Durations are in seconds from the injection unless
//! the name says otherwise; `None` where the moment never came.

use serde::{Deserialize, Serialize};

use super::case::{Case, Step};
use super::signal_serde;
use super::state::DrillState;
use crate::signals::{Signal, UnixSeconds};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Injection to the first watched signal past its threshold.
    pub time_to_first_signal: Option<f64>,
    /// Injection to the participant's declaration (mean time to detect, for one drill).
    pub time_to_detect: Option<f64>,
    /// The declaration came before any watched signal crossed.
    pub detected_before_first_signal: bool,
    /// Injection to the first action that is not a hint.
    pub time_to_first_action: Option<f64>,
    /// Injection to recovery (mean time to recover, for one drill).
    pub time_to_recover: Option<f64>,
    /// First action to recovery.
    pub recover_after_first_action: Option<f64>,
    /// Injection to a restart by the platform that came before any remedy: the failure was
    /// lost with it, and no time to recover is credited.
    #[serde(default)]
    pub recovered_by_platform_after: Option<f64>,
    pub alerts: Vec<AlertFigure>,
    pub checklist: Vec<StepChecklist>,
    pub checklist_done: usize,
    pub checklist_total: usize,
    pub hints_used: usize,
    pub hints_total: usize,
    pub signals: Vec<SignalFigure>,
    /// Blind drill: whether the named cause was the case's. `None` when not blind or not named.
    pub diagnosis_correct: Option<bool>,
    /// What the fault cost (absent in records written before it was counted).
    #[serde(default)]
    pub impact: Option<super::impact::Impact>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertFigure {
    pub name: String,
    pub expected: bool,
    /// Injection to its first firing; `None`: it never fired.
    pub delay: Option<f64>,
    /// Injection to when its condition first held, and to when its `for` made (or would have
    /// made) it fire: known even when the drill ended before it fired.
    #[serde(default)]
    pub condition_after: Option<f64>,
    #[serde(default)]
    pub would_fire_after: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepChecklist {
    pub step: Step,
    pub done: usize,
    pub total: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalFigure {
    #[serde(with = "signal_serde")]
    pub signal: Signal,
    pub baseline_median: Option<f64>,
    pub baseline_p95: Option<f64>,
    /// The worst value after injection (watched signals only).
    pub peak: Option<f64>,
    /// Injection to its first crossing (watched signals only).
    pub crossed_after: Option<f64>,
    /// The last value seen while verifying recovery (recovery signals only).
    pub recovery_value: Option<f64>,
}

fn since(from: Option<UnixSeconds>, to: Option<UnixSeconds>) -> Option<f64> {
    Some(to? - from?)
}

pub fn compute_figures(case: &Case, state: &DrillState) -> Figures {
    let injected = state.injected_at;
    let first_crossing = state
        .signals
        .iter()
        .filter_map(|track| track.first_crossed_at)
        .min_by(f64::total_cmp);
    let first_action = state.first_action_at();
    // A restart by the platform before any remedy of the participant's took the failure away:
    // the recovery that follows is not theirs, and no time to recover is credited.
    let first_remedy = state
        .actions
        .iter()
        .filter(|action| injected.is_some_and(|at| action.at >= at))
        .filter(|action| action.failed.is_none() && action.kind.is_remedy())
        .map(|action| action.at)
        .next();
    let platform_restart = state
        .platform_restarts
        .first()
        .copied()
        .filter(|restart| first_remedy.is_none_or(|remedy| *restart < remedy));
    let participant_recovery = platform_restart.is_none().then_some(());

    let mut alerts: Vec<AlertFigure> = case
        .alerts
        .iter()
        .map(|name| {
            let condition = state.alert_conditions.iter().find(|c| &c.name == name);
            AlertFigure {
                name: name.clone(),
                expected: true,
                delay: None,
                condition_after: since(injected, condition.map(|c| c.held_at)),
                would_fire_after: since(injected, condition.and_then(|c| c.would_fire_at)),
            }
        })
        .collect();
    for fired in &state.alerts {
        let delay = since(injected, Some(fired.fired_at));
        match alerts.iter_mut().find(|alert| alert.name == fired.name) {
            Some(alert) => alert.delay = delay,
            None => alerts.push(AlertFigure {
                name: fired.name.clone(),
                expected: false,
                delay,
                condition_after: None,
                would_fire_after: None,
            }),
        }
    }

    let checklist: Vec<StepChecklist> = Step::ALL
        .iter()
        .map(|&step| {
            let items = state
                .checklist
                .get(step.index())
                .map_or(&[][..], Vec::as_slice);
            StepChecklist {
                step,
                done: items.iter().filter(|item| item.done_at.is_some()).count(),
                total: items.len(),
            }
        })
        .collect();

    let mut signal_list: Vec<Signal> = case.watched().collect();
    for signal in &case.recovery.signals {
        if !signal_list.contains(signal) {
            signal_list.push(*signal);
        }
    }
    let signals = signal_list
        .into_iter()
        .map(|signal| {
            let band = state.band(signal);
            let track = state.signals.iter().find(|t| t.signal == signal);
            SignalFigure {
                signal,
                baseline_median: band.map(|b| b.median),
                baseline_p95: band.map(|b| b.p95),
                peak: track.and_then(|t| t.peak),
                crossed_after: since(injected, track.and_then(|t| t.first_crossed_at)),
                recovery_value: state
                    .recovery
                    .iter()
                    .find(|t| t.signal == signal)
                    .and_then(|t| t.last),
            }
        })
        .collect();

    let diagnosis_correct = state
        .detection
        .as_ref()
        .and_then(|detection| detection.diagnosis.as_ref())
        .filter(|_| state.blind)
        .map(|named| *named == case.id);

    Figures {
        time_to_first_signal: since(injected, first_crossing),
        time_to_detect: since(injected, state.detection.as_ref().map(|d| d.at)),
        detected_before_first_signal: state
            .detection
            .as_ref()
            .is_some_and(|d| d.before_first_crossing),
        time_to_first_action: since(injected, first_action),
        time_to_recover: participant_recovery.and(since(injected, state.recovered_at)),
        recover_after_first_action: participant_recovery
            .and(since(first_action, state.recovered_at)),
        recovered_by_platform_after: platform_restart.and_then(|at| since(injected, Some(at))),
        alerts,
        checklist_done: checklist.iter().map(|c| c.done).sum(),
        checklist_total: checklist.iter().map(|c| c.total).sum(),
        checklist,
        hints_used: state.hints_opened.len(),
        hints_total: case.hints.len(),
        signals,
        diagnosis_correct,
        impact: super::impact::impact(state),
    }
}
