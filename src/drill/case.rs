//! A drill case once validated: plain typed data that the phase machine, `gameday cases` and the
//! dashboard read. Parsing and checking live in `case_file` and `validate`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use super::dependency::ProviderBody;

use crate::actions::ContainerAction;
use crate::alerts::Comparison;
use crate::i18n::Lang;
use crate::knobs::{self, Knob, KnobValue};
use crate::load::Mix;
use crate::signals::Signal;

/// A text in both interface languages; a case must give both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub en: String,
    pub ru: String,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Ru => &self.ru,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Difficulty {
    Easy,
    Medium,
    Hard,
}

impl Difficulty {
    pub fn name(self) -> &'static str {
        match self {
            Difficulty::Easy => "easy",
            Difficulty::Medium => "medium",
            Difficulty::Hard => "hard",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Difficulty::Easy, Lang::En) => "easy",
            (Difficulty::Medium, Lang::En) => "medium",
            (Difficulty::Hard, Lang::En) => "hard",
            (Difficulty::Easy, Lang::Ru) => "просто",
            (Difficulty::Medium, Lang::Ru) => "средне",
            (Difficulty::Hard, Lang::Ru) => "сложно",
        }
    }
}

/// What a target must offer for a case to run on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Requirement {
    /// gameday's own sandbox: `db_fail` and `ttl_s` work only there.
    Sandbox,
    /// A Docker (or podman) engine, for container actions.
    Docker,
    /// A Prometheus, for signals given only by PromQL and for its alerts.
    Prometheus,
}

impl Requirement {
    pub fn name(self) -> &'static str {
        match self {
            Requirement::Sandbox => "sandbox",
            Requirement::Docker => "docker",
            Requirement::Prometheus => "prometheus",
        }
    }
}

/// The body of `POST /api/failures`, with only the knobs the case sets. Records write it as
/// that JSON object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Map<String, Value>", try_from = "Map<String, Value>")]
pub struct FailureBody {
    pub knobs: BTreeMap<Knob, KnobValue>,
    /// Time to live in seconds; sandbox only.
    pub ttl_s: Option<u64>,
}

impl FailureBody {
    /// The body with `knob` set too.
    pub fn with(mut self, knob: Knob, value: impl Into<KnobValue>) -> FailureBody {
        self.knobs.insert(knob, value.into());
        self
    }

    pub fn number(&self, knob: Knob) -> Option<u64> {
        match self.knobs.get(&knob)? {
            KnobValue::Number(number) => Some(*number),
            KnobValue::Flag(_) => None,
        }
    }

    pub fn flag(&self, knob: Knob) -> Option<bool> {
        match self.knobs.get(&knob)? {
            KnobValue::Flag(flag) => Some(*flag),
            KnobValue::Number(_) => None,
        }
    }

    /// The knobs to send, as names and JSON values (without the time to live).
    pub fn knob_values(&self) -> Vec<(String, Value)> {
        self.knobs
            .iter()
            .map(|(knob, value)| (knob.name().to_string(), value.to_json()))
            .collect()
    }

    /// The JSON to POST.
    pub fn to_json(&self) -> Value {
        Value::Object(self.clone().into())
    }

    /// Knobs only the sandbox understands (the workshop service ignores or mis-stores them).
    pub fn needs_sandbox(&self) -> bool {
        self.ttl_s.is_some() || self.knobs.keys().any(|knob| knob.spec().sandbox_only())
    }
}

impl From<FailureBody> for Map<String, Value> {
    fn from(body: FailureBody) -> Self {
        let mut map: Map<String, Value> = body.knob_values().into_iter().collect();
        if let Some(ttl) = body.ttl_s {
            map.insert(knobs::TTL_NAME.to_string(), Value::from(ttl));
        }
        map
    }
}

/// Reads a body back from a record, as strictly as the sandbox reads a request.
impl TryFrom<Map<String, Value>> for FailureBody {
    type Error = String;

    fn try_from(map: Map<String, Value>) -> Result<Self, String> {
        let mut body = FailureBody::default();
        for (name, value) in &map {
            if name == knobs::TTL_NAME {
                let range = knobs::TTL_RANGE;
                let ttl = value.as_u64().filter(|ttl| range.contains(*ttl));
                let expected = || format!("`{name}`: expected {}; got {value}", range.describe());
                body.ttl_s = Some(ttl.ok_or_else(expected)?);
                continue;
            }
            let spec =
                knobs::by_name(name).ok_or_else(|| format!("`{name}` is not a failure knob"))?;
            let parsed = spec
                .accept(value)
                .ok_or_else(|| format!("`{name}`: expected {}; got {value}", spec.expected()))?;
            body.knobs.insert(spec.knob, parsed);
        }
        Ok(body)
    }
}

/// When a case's container action is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContainerWhen {
    /// Together with the failure body, on any target with Docker.
    Always,
    /// Instead of the failure body, on a target that is not the sandbox (the workshop stack).
    NoSandbox,
}

/// A case's container action and when it is used; records write it as `verb`, `target`,
/// `when`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerInjection {
    #[serde(flatten)]
    pub action: ContainerAction,
    pub when: ContainerWhen,
}

/// How the fault is injected.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Injection {
    pub failures: Option<FailureBody>,
    pub container: Option<ContainerInjection>,
    pub provider: Option<ProviderBody>,
}

/// What the target running a drill can do, to pick the injection that works on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TargetCapabilities {
    pub sandbox: bool,
    pub docker: bool,
    pub prometheus: bool,
    /// A memory source that knows a limit and counts restarts: Docker, or the embedded
    /// sandbox's supervised process. A service's own `/metrics` gives neither.
    pub memory: bool,
    /// A payment provider FinCore depends on, with switchable patterns (gameday's sandbox).
    pub provider: bool,
}

/// The injection to perform on one target.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlannedInjection {
    pub failures: Option<FailureBody>,
    pub container: Option<ContainerInjection>,
    /// The provider's knobs (absent in records before the dependency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderBody>,
}

/// The background load during the drill, as data; the lead maps it onto `crate::load`.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSpec {
    /// One of steady, ramp, spike, burst, retry-storm.
    pub profile: String,
    /// Requests per second; 0 for a closed loop, which has no rate.
    pub rate: f64,
    pub mix: Mix,
    /// The mix as written, for display and records.
    pub mix_text: String,
    /// The workshop's own way: this many clients, each sending its next request a pause
    /// after the previous answer, so the load cannot pile up on a slow target.
    pub closed: Option<ClosedLoop>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClosedLoop {
    pub clients: usize,
    pub think: std::time::Duration,
}

impl LoadSpec {
    /// In a few words, for the briefing and the case list.
    pub fn describe(&self) -> String {
        match self.closed {
            Some(closed) => format!(
                "closed loop: {} client(s), think {}, {}",
                closed.clients,
                crate::units::HumanDuration(closed.think),
                self.mix_text
            ),
            None => format!("{}, {} req/s, {}", self.profile, self.rate, self.mix_text),
        }
    }
}

/// `signal <comparison> threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    #[serde(with = "crate::drill::signal_serde")]
    pub signal: Signal,
    #[serde(with = "comparison_serde")]
    pub comparison: Comparison,
    pub threshold: f64,
}

impl Condition {
    pub fn holds(&self, value: f64) -> bool {
        self.comparison.holds(value, self.threshold)
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.signal,
            self.comparison.symbol(),
            self.threshold
        )
    }
}

/// A signal that shows the fault, and where it crosses into "something is wrong".
#[derive(Debug, Clone, PartialEq)]
pub struct WatchedSignal {
    pub condition: Condition,
    /// An expression for Prometheus, when the case wants its own rather than the built-in one.
    pub promql: Option<String>,
}

/// The phases a participant goes through, in order; the checklist has items for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Baseline,
    Inject,
    Detect,
    Respond,
    Recover,
}

impl Step {
    pub const ALL: [Step; 5] = [
        Step::Baseline,
        Step::Inject,
        Step::Detect,
        Step::Respond,
        Step::Recover,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Step::Baseline => "baseline",
            Step::Inject => "inject",
            Step::Detect => "detect",
            Step::Respond => "respond",
            Step::Recover => "recover",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// How a checklist item or a hint reads in a blind drill until the participant names the
/// cause: the case file's `blind` wording, or the text itself when it names nothing of the
/// cause, or nothing when it names the cause and has no blind wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlindWording {
    AsWritten,
    Reworded(Text),
    Hidden,
}

impl BlindWording {
    /// What to show of `text`: the blind wording while the cause is concealed, else `text`;
    /// `None` while concealed and there is no wording without the cause.
    pub fn shown<'a>(&'a self, text: &'a Text, concealed: bool) -> Option<&'a Text> {
        match self {
            _ if !concealed => Some(text),
            BlindWording::AsWritten => Some(text),
            BlindWording::Reworded(blind) => Some(blind),
            BlindWording::Hidden => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChecklistItem {
    pub text: Text,
    /// How it reads in a blind drill before the cause is named.
    pub blind: BlindWording,
    /// Ticked automatically when this holds on a sample; `None`: ticked by the participant.
    pub verify: Option<Condition>,
    /// Ticked when the participant names what told them at detection (any answer but
    /// "nothing in particular").
    pub on_detection: bool,
}

/// A hint the participant can open during the drill.
#[derive(Debug, Clone, PartialEq)]
pub struct Hint {
    pub text: Text,
    /// How it reads in a blind drill before the cause is named.
    pub blind: BlindWording,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecoverySpec {
    /// Signals that must be back within their baseline band.
    pub signals: Vec<Signal>,
    /// How far beyond the band still counts as back, as a fraction of the band's edge.
    pub tolerance: f64,
    /// How long every signal must stay back, continuously.
    pub hold: Duration,
    /// The failure state must read back as cleared.
    pub failures_cleared: bool,
    /// The provider's failure state must read back as cleared.
    pub provider_cleared: bool,
    /// Recovery counts only while the provider still fails: the fix is in FinCore (the
    /// cascade is stopped by patterns, not by the provider coming back).
    pub provider_still_failing: bool,
    /// Patterns that must read back as on.
    pub patterns: Vec<String>,
}

/// One drill case.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub id: String,
    pub difficulty: Difficulty,
    pub title: Text,
    pub briefing: Text,
    pub requires: Vec<Requirement>,
    pub baseline: Duration,
    /// The whole patterns configuration the drill sets at its start: `Some` for a case about
    /// the dependency (every pattern off, the case's `[baseline.patterns]` on top).
    pub starting_patterns: Option<Value>,
    pub injection: Injection,
    pub load: LoadSpec,
    pub signals: Vec<WatchedSignal>,
    /// Alert names expected to fire.
    pub alerts: Vec<String>,
    /// Items per step, indexed by `Step::index`; each step has at least one.
    pub checklist: [Vec<ChecklistItem>; 5],
    pub hints: Vec<Hint>,
    pub recovery: RecoverySpec,
    pub debrief: Vec<Text>,
    /// The cause, as offered among the choices of a blind drill.
    pub diagnosis: Text,
    /// Where it came from: `cases/latency.toml` or a user's file.
    pub source: String,
}

impl Case {
    pub fn checklist_for(&self, step: Step) -> &[ChecklistItem] {
        &self.checklist[step.index()]
    }

    /// The injection that works on `target`, or what is missing.
    pub fn plan_injection(&self, target: TargetCapabilities) -> Result<PlannedInjection, String> {
        let failures = self.injection.failures.clone();
        let container = self.injection.container;
        let missing = |what: &str| format!("case {} needs {what}", self.id);
        if self.requires.contains(&Requirement::Prometheus) && !target.prometheus {
            return Err(missing("Prometheus (--prometheus)"));
        }
        // A limit and restarts come only from a memory source: without one these signals
        // never move, and the case could not show what it is about.
        let limit_signals = [Signal::MemoryLimitBytes, Signal::Restarts];
        if let Some(signal) = self
            .watched()
            .chain(self.recovery.signals.iter().copied())
            .find(|signal| limit_signals.contains(signal))
            && !target.memory
        {
            return Err(missing(&format!(
                "a memory limit and restarts ({}): Docker (--docker) or the embedded sandbox",
                signal.name()
            )));
        }
        if self.starting_patterns.is_some() && !target.provider {
            return Err(missing(
                "a payment provider and switchable patterns: gameday's sandbox",
            ));
        }
        let provider = self.injection.provider.clone();
        let needs_sandbox = failures.as_ref().is_some_and(FailureBody::needs_sandbox)
            || self.requires.contains(&Requirement::Sandbox);
        match container {
            Some(action) if action.when == ContainerWhen::NoSandbox && !target.sandbox => {
                if !target.docker {
                    return Err(missing(
                        "the sandbox, or Docker (--docker) on the workshop stack",
                    ));
                }
                Ok(PlannedInjection {
                    failures: None,
                    container: Some(action),
                    provider,
                })
            }
            _ if needs_sandbox && !target.sandbox => Err(missing("gameday's own sandbox")),
            Some(action) if action.when == ContainerWhen::Always => {
                if !target.docker {
                    return Err(missing("Docker (--docker)"));
                }
                Ok(PlannedInjection {
                    failures,
                    container: Some(action),
                    provider,
                })
            }
            _ => Ok(PlannedInjection {
                failures,
                container: None,
                provider,
            }),
        }
    }

    /// The watched signals' names, for a quick look.
    pub fn watched(&self) -> impl Iterator<Item = Signal> + '_ {
        self.signals.iter().map(|watched| watched.condition.signal)
    }
}

/// Comparison written as `"above"` / `"below"`.
pub(crate) mod comparison_serde {
    use super::Comparison;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Comparison, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(name(*value))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Comparison, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("`{text}`: expected \"above\" or \"below\""))
        })
    }

    pub fn name(value: Comparison) -> &'static str {
        match value {
            Comparison::Above => "above",
            Comparison::Below => "below",
        }
    }

    pub fn parse(text: &str) -> Option<Comparison> {
        match text {
            "above" => Some(Comparison::Above),
            "below" => Some(Comparison::Below),
            _ => None,
        }
    }
}
