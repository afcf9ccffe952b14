//! A case file as written: the serde shape of `cases/*.toml`. Unknown keys are errors, and
//! values whose meaning is checked after parsing keep their place (`Spanned`) so a problem can
//! be reported at its line and column. `validate` turns this into a [`super::case::Case`].

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::case::{ContainerWhen, Difficulty, Requirement};
use crate::actions::{ContainerTarget, ContainerVerb};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CaseFile {
    pub id: Spanned<String>,
    pub difficulty: Difficulty,
    pub title: TextFile,
    pub briefing: TextFile,
    #[serde(default)]
    pub requires: Vec<Requirement>,
    #[serde(default)]
    pub baseline: BaselineFile,
    pub injection: Spanned<InjectionFile>,
    pub load: LoadFile,
    pub signals: Spanned<Vec<SignalFile>>,
    #[serde(default)]
    pub alerts: Vec<Spanned<String>>,
    pub checklist: ChecklistFile,
    #[serde(default)]
    pub hints: Vec<HintFile>,
    pub recovery: RecoveryFile,
    #[serde(default)]
    pub debrief: Vec<TextFile>,
    pub diagnosis: TextFile,
}

/// Every top-level key, for "did you mean" hints.
pub(crate) const TOP_KEYS: &[&str] = &[
    "id",
    "difficulty",
    "title",
    "briefing",
    "requires",
    "baseline",
    "injection",
    "load",
    "signals",
    "alerts",
    "checklist",
    "hints",
    "recovery",
    "debrief",
    "diagnosis",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TextFile {
    pub en: Spanned<String>,
    pub ru: Spanned<String>,
}

/// A hint; `blind` words it without the cause for a blind drill (see [`ChecklistItemFile`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HintFile {
    pub en: Spanned<String>,
    pub ru: Spanned<String>,
    pub blind: Option<TextFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BaselineFile {
    /// A duration such as "60s".
    pub duration: Option<Spanned<String>>,
    /// The resilience patterns during the baseline (`POST /api/patterns`'s shape); every
    /// pattern not named is off.
    pub patterns: Option<Spanned<toml::Table>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InjectionFile {
    pub failures: Option<Spanned<FailuresFile>>,
    pub container: Option<ContainerFile>,
    /// The payment provider's knobs (its `POST /api/failures`).
    pub provider: Option<Spanned<toml::Table>>,
}

/// The knobs of `POST /api/failures` and `ttl_s`, by name, as written. Which names, types and
/// ranges are allowed is checked after parsing, against `crate::knobs`.
pub(crate) type FailuresFile = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContainerFile {
    /// The verb, in the case file's words.
    pub action: Spanned<ContainerVerb>,
    pub target: ContainerTarget,
    #[serde(default = "container_when_default")]
    pub when: Spanned<ContainerWhen>,
}

fn container_when_default() -> Spanned<ContainerWhen> {
    Spanned::new(0..0, ContainerWhen::Always)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoadFile {
    #[serde(default)]
    pub profile: Option<Spanned<String>>,
    #[serde(default)]
    pub rate: Option<Spanned<f64>>,
    #[serde(default)]
    pub mix: Option<Spanned<String>>,
    /// A closed loop: this many clients, each pausing `think` after every answer.
    #[serde(default)]
    pub clients: Option<Spanned<i64>>,
    #[serde(default)]
    pub think: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignalFile {
    pub signal: Spanned<String>,
    pub comparison: Spanned<String>,
    pub threshold: Spanned<f64>,
    pub promql: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChecklistFile {
    #[serde(default)]
    pub baseline: Vec<ChecklistItemFile>,
    #[serde(default)]
    pub inject: Vec<ChecklistItemFile>,
    #[serde(default)]
    pub detect: Vec<ChecklistItemFile>,
    #[serde(default)]
    pub respond: Vec<ChecklistItemFile>,
    #[serde(default)]
    pub recover: Vec<ChecklistItemFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChecklistItemFile {
    pub en: Spanned<String>,
    pub ru: Spanned<String>,
    /// The item worded without the cause, shown in a blind drill until the cause is named:
    /// `blind.en = "..."` and `blind.ru = "..."`.
    pub blind: Option<TextFile>,
    pub verify: Option<ConditionFile>,
    /// Ticked when the participant names what told them at detection.
    #[serde(default)]
    pub on_detection: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConditionFile {
    pub signal: Spanned<String>,
    pub comparison: Spanned<String>,
    pub threshold: Spanned<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecoveryFile {
    pub signals: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    pub tolerance: Option<Spanned<f64>>,
    #[serde(default)]
    pub hold: Option<Spanned<String>>,
    #[serde(default)]
    pub failures_cleared: Option<bool>,
    #[serde(default)]
    pub provider_cleared: Option<bool>,
    #[serde(default)]
    pub provider_still_failing: Option<Spanned<bool>>,
    #[serde(default)]
    pub patterns: Option<Spanned<Vec<Spanned<String>>>>,
}
