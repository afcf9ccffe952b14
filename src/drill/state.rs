//! What a drill has recorded so far: plain serde data, so a session record can hold it whole and
//! a machine can be rebuilt from it (resume). `machine` changes it; `figures` reads it.

use serde::{Deserialize, Serialize};

use super::case::{PlannedInjection, Step};
use super::series::DrillSeries;
use super::signal_serde;
pub use crate::actions::ActionKind;
use crate::alerts::Comparison;
use crate::signals::{Signal, UnixSeconds};

/// Where a drill is. The first five follow the case's steps; the last three end it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Baseline,
    Inject,
    Detect,
    Respond,
    Recover,
    /// Recovered and verified: the figures are final.
    Review,
    /// Stopped by the participant before recovery.
    Abandoned,
    /// Not started: the target was unhealthy at baseline, or cannot run the case.
    Refused,
}

impl Phase {
    /// The phase's name in the interface's words (`text` of one language).
    pub fn word(self, text: &crate::i18n::Strings) -> &'static str {
        match self {
            Phase::Baseline => text.phase_baseline,
            Phase::Inject => text.phase_inject,
            Phase::Detect => text.phase_detect,
            Phase::Respond => text.phase_respond,
            Phase::Recover => text.phase_recover,
            Phase::Review => text.phase_review,
            Phase::Abandoned => text.phase_abandoned,
            Phase::Refused => text.phase_refused,
        }
    }

    /// The checklist step of an active phase.
    pub fn step(self) -> Option<Step> {
        match self {
            Phase::Baseline => Some(Step::Baseline),
            Phase::Inject => Some(Step::Inject),
            Phase::Detect => Some(Step::Detect),
            Phase::Respond => Some(Step::Respond),
            Phase::Recover => Some(Step::Recover),
            Phase::Review | Phase::Abandoned | Phase::Refused => None,
        }
    }

    pub fn is_finished(self) -> bool {
        self.step().is_none()
    }

    pub fn name(self) -> &'static str {
        match self {
            Phase::Baseline => "baseline",
            Phase::Inject => "inject",
            Phase::Detect => "detect",
            Phase::Respond => "respond",
            Phase::Recover => "recover",
            Phase::Review => "review",
            Phase::Abandoned => "abandoned",
            Phase::Refused => "refused",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRecord {
    pub at: UnixSeconds,
    #[serde(flatten)]
    pub kind: ActionKind,
    /// Why it did not take: the target's answer (`connection refused`, `500 …`). Absent when
    /// it took, and in records written before failed actions were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PhaseTime {
    pub phase: Phase,
    pub at: UnixSeconds,
}

/// A signal's baseline values, in the order sampled (kept in the record since version 2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineSamples {
    #[serde(with = "signal_serde")]
    pub signal: Signal,
    pub values: Vec<f64>,
}

/// The usual range of a signal, from the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Band {
    #[serde(with = "signal_serde")]
    pub signal: Signal,
    pub median: f64,
    pub p95: f64,
    pub samples: usize,
}

/// One of the case's watched signals after injection.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SignalTrack {
    #[serde(with = "signal_serde")]
    pub signal: Signal,
    #[serde(with = "super::case::comparison_serde")]
    pub comparison: Comparison,
    pub threshold: f64,
    /// The first sample past the threshold after injection.
    pub first_crossed_at: Option<UnixSeconds>,
    /// The worst value after injection: highest for "above", lowest for "below".
    pub peak: Option<f64>,
}

/// One of the case's recovery signals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RecoveryTrack {
    #[serde(with = "signal_serde")]
    pub signal: Signal,
    /// The band it must return to; `None` when the baseline had no sample of it (then it is
    /// not verified).
    pub band_low: Option<f64>,
    pub band_high: Option<f64>,
    /// Since when the latest samples are all within the band.
    pub in_band_since: Option<UnixSeconds>,
    pub last: Option<f64>,
    /// When `last` was sampled: a value that has stopped coming is no longer "back".
    #[serde(default)]
    pub last_at: Option<UnixSeconds>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    pub name: String,
    pub expected: bool,
    /// The first time it fired after injection.
    pub fired_at: UnixSeconds,
}

/// When an expected alert's condition first held after injection, and when its `for` would
/// make it fire: known even when the participant acts before it fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertCondition {
    pub name: String,
    pub held_at: UnixSeconds,
    pub would_fire_at: Option<UnixSeconds>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub at: UnixSeconds,
    /// The signal the participant saw it on, if they said.
    #[serde(with = "signal_serde::option", default)]
    pub signal: Option<Signal>,
    /// The cause they named: in a blind drill, the id of a case.
    pub diagnosis: Option<String>,
    /// What told them when it was not a signal: `alert HighLatency`, `log`, `user complaint`.
    #[serde(default)]
    pub source: Option<String>,
    /// Declared before any watched signal crossed its threshold.
    pub before_first_crossing: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ItemState {
    pub done_at: Option<UnixSeconds>,
    /// Ticked by its signal condition rather than by hand.
    pub auto: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub at: UnixSeconds,
    pub text: String,
}

/// An injection lost when the drill stopped (the embedded sandbox ended with the process),
/// kept in the record when the fault was injected again on resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LostInjection {
    pub injected_at: UnixSeconds,
    /// When the participant had declared detection of it, if they had.
    pub detected_at: Option<UnixSeconds>,
    /// When the resumed drill found the fault gone and injected it again.
    pub injected_again_at: UnixSeconds,
}

/// Everything a drill has recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillState {
    pub case_id: String,
    pub blind: bool,
    pub manual_inject: bool,
    pub phase: Phase,
    pub started_at: UnixSeconds,
    /// When each phase was entered, in order.
    pub phases: Vec<PhaseTime>,
    /// Why the drill was refused or abandoned.
    pub reason: Option<String>,
    pub injection: Option<PlannedInjection>,
    pub injected_at: Option<UnixSeconds>,
    pub baseline_samples: Vec<BaselineSamples>,
    pub bands: Vec<Band>,
    pub signals: Vec<SignalTrack>,
    pub recovery: Vec<RecoveryTrack>,
    pub alerts: Vec<AlertRecord>,
    pub detection: Option<Detection>,
    pub actions: Vec<ActionRecord>,
    /// Per step (`Step::index`), per item.
    pub checklist: Vec<Vec<ItemState>>,
    /// Hint indices in the order they were opened.
    pub hints_opened: Vec<usize>,
    /// The failure state as last read back: `Some(true)` while a failure is set.
    pub failures_active: Option<bool>,
    pub failures_cleared_at: Option<UnixSeconds>,
    /// When everything was back (the start of the hold that completed).
    pub recovered_at: Option<UnixSeconds>,
    /// When the hold completed.
    pub verified_at: Option<UnixSeconds>,
    pub notes: Vec<Note>,
    /// The latest timestamp of any input.
    pub last_at: UnixSeconds,
    /// The restart count last seen, to notice a new restart.
    #[serde(default)]
    pub restarts_seen: Option<f64>,
    /// Restarts after injection that nobody in the drill asked for (the memory limit's kill,
    /// a crash): the failure is lost with them, and recovery after one is not the
    /// participant's.
    #[serde(default)]
    pub platform_restarts: Vec<UnixSeconds>,
    /// The expected alerts' conditions after injection (see [`AlertCondition`]).
    #[serde(default)]
    pub alert_conditions: Vec<AlertCondition>,
    /// Injections lost across a stop and made again (see [`LostInjection`]).
    #[serde(default)]
    pub lost_injections: Vec<LostInjection>,
    /// Every signal sampled over the whole drill, bounded (absent in version 1 records).
    #[serde(default)]
    pub series: DrillSeries,
    /// The built-in load's counters while the fault was on, for the business impact.
    #[serde(default)]
    pub clients: super::impact::ClientTally,
    /// The payment provider's failure state as last read back: `Some(true)` while a knob is
    /// set; and when it was first read back clear after the injection.
    #[serde(default)]
    pub provider_active: Option<bool>,
    #[serde(default)]
    pub provider_cleared_at: Option<UnixSeconds>,
    /// Since when it has read back failing without a break (a case whose fix is in FinCore
    /// recovers only while the provider still fails).
    #[serde(default)]
    pub provider_failing_since: Option<UnixSeconds>,
    /// The patterns read back as on, and since when every pattern recovery asks for is on.
    #[serde(default)]
    pub patterns_on: Option<Vec<String>>,
    #[serde(default)]
    pub patterns_ready_since: Option<UnixSeconds>,
}

impl DrillState {
    pub fn entered(&self, phase: Phase) -> Option<UnixSeconds> {
        self.phases.iter().find(|p| p.phase == phase).map(|p| p.at)
    }

    /// The participant's first action on the fault: after the injection (a load change
    /// during the baseline is not a response), hints not counted.
    pub fn first_action_at(&self) -> Option<UnixSeconds> {
        let injected_at = self.injected_at?;
        self.actions
            .iter()
            .filter(|action| action.at >= injected_at && action.failed.is_none())
            .filter(|action| !matches!(action.kind, ActionKind::HintOpened { .. }))
            .map(|action| action.at)
            .next()
    }

    pub fn band(&self, signal: Signal) -> Option<&Band> {
        self.bands.iter().find(|band| band.signal == signal)
    }
}
