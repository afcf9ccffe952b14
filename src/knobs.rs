//! The failure knobs of the FinCore API (`POST /api/failures`), each declared once: its name,
//! the values it takes, its label, and whether the workshop service acts on it; the time to
//! live that goes with them; and the one-key presets built from them. The sandbox's
//! validation, the cases, the presets, the injection dialog and the client read this table.
//! Imports nothing of the rest of the crate.

use serde_json::Value;

/// A failure knob. The variants follow [`ALL`], the order in which the service applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Knob {
    LatencyMs,
    ErrorRate,
    MemoryLeakMb,
    DbSlow,
    DbFail,
}

/// Every knob, in the order the service applies them; `ALL[knob.index()].knob == knob`.
pub const ALL: [KnobSpec; 5] = [
    KnobSpec {
        knob: Knob::LatencyMs,
        name: "latency_ms",
        kind: KnobKind::Integer(IntegerRange {
            min: 0,
            max: 60_000,
            step: 100,
            unit: "milliseconds",
        }),
        label: Label {
            en: "latency",
            ru: "задержка",
        },
        workshop: OnWorkshop::Acts,
    },
    KnobSpec {
        knob: Knob::ErrorRate,
        name: "error_rate",
        kind: KnobKind::Integer(IntegerRange {
            min: 0,
            max: 100,
            step: 5,
            unit: "percent",
        }),
        label: Label {
            en: "error rate",
            ru: "доля ошибок",
        },
        workshop: OnWorkshop::Acts,
    },
    KnobSpec {
        knob: Knob::MemoryLeakMb,
        name: "memory_leak_mb",
        kind: KnobKind::Integer(IntegerRange {
            min: 0,
            max: 100,
            step: 1,
            unit: "MiB per request",
        }),
        label: Label {
            en: "memory leak",
            ru: "утечка памяти",
        },
        workshop: OnWorkshop::Acts,
    },
    KnobSpec {
        knob: Knob::DbSlow,
        name: "db_slow",
        kind: KnobKind::Flag,
        label: Label {
            en: "slow database",
            ru: "медленная БД",
        },
        workshop: OnWorkshop::Acts,
    },
    KnobSpec {
        knob: Knob::DbFail,
        name: "db_fail",
        kind: KnobKind::Flag,
        label: Label {
            en: "database failure",
            ru: "отказ БД",
        },
        workshop: OnWorkshop::Ignored("the workshop service stores db_fail but never reads it"),
    },
];

/// How many knobs there are, for arrays indexed by [`Knob::index`].
pub const COUNT: usize = ALL.len();

/// The time to live that may go with the knobs in the same body: a sandbox extension, which
/// `GET /` announces as `extensions.ttl_s`.
pub const TTL_NAME: &str = "ttl_s";
pub const TTL_RANGE: IntegerRange = IntegerRange {
    min: 0,
    max: 86_400,
    step: 60,
    unit: "seconds",
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnobSpec {
    pub knob: Knob,
    /// The key in the JSON body and in `current_config`.
    pub name: &'static str,
    pub kind: KnobKind,
    pub label: Label,
    pub workshop: OnWorkshop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnobKind {
    Integer(IntegerRange),
    /// `true` or `false` (the workshop service also reads back 0 and 1).
    Flag,
}

/// An integer from `min` to `max`; `step` is what one arrow key adds in the injection dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntegerRange {
    pub min: u64,
    pub max: u64,
    pub step: u64,
    /// In words, for messages: "milliseconds".
    pub unit: &'static str,
}

impl IntegerRange {
    pub fn contains(&self, value: u64) -> bool {
        (self.min..=self.max).contains(&value)
    }

    /// "0 to 60000 (milliseconds)".
    pub fn describe(&self) -> String {
        format!("{} to {} ({})", self.min, self.max, self.unit)
    }
}

/// A text in both interface languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label {
    pub en: &'static str,
    pub ru: &'static str,
}

/// What the workshop service (Flask, `../shared/fincore-api.md`) does with a knob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnWorkshop {
    Acts,
    /// Stored but never read, so sending it would only pretend; says why.
    Ignored(&'static str),
    /// Not a knob there at all: a sandbox extension.
    Absent,
}

impl Knob {
    pub fn spec(self) -> &'static KnobSpec {
        &ALL[self.index()]
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Its place in [`ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_name(name: &str) -> Option<Knob> {
        by_name(name).map(|spec| spec.knob)
    }

    pub fn all() -> impl Iterator<Item = Knob> {
        ALL.iter().map(|spec| spec.knob)
    }
}

pub fn by_name(name: &str) -> Option<&'static KnobSpec> {
    ALL.iter().find(|spec| spec.name == name)
}

/// Every knob's name, in order.
pub fn names() -> impl Iterator<Item = &'static str> {
    ALL.iter().map(|spec| spec.name)
}

impl KnobSpec {
    /// What it accepts, for messages: "an integer from 0 to 100 (percent)", "true or false".
    pub fn expected(&self) -> String {
        match self.kind {
            KnobKind::Integer(range) => format!("an integer from {}", range.describe()),
            KnobKind::Flag => "true or false".to_string(),
        }
    }

    /// The value if it has the right type and range, read strictly: a flag is a JSON boolean,
    /// an integer a non-negative JSON integer.
    pub fn accept(&self, value: &Value) -> Option<KnobValue> {
        match self.kind {
            KnobKind::Integer(range) => value
                .as_u64()
                .filter(|number| range.contains(*number))
                .map(KnobValue::Number),
            KnobKind::Flag => value.as_bool().map(KnobValue::Flag),
        }
    }

    pub fn is_flag(&self) -> bool {
        self.kind == KnobKind::Flag
    }

    /// The range of an integer knob; `None` for a flag.
    pub fn range(&self) -> Option<IntegerRange> {
        match self.kind {
            KnobKind::Integer(range) => Some(range),
            KnobKind::Flag => None,
        }
    }

    /// Whether only gameday's sandbox acts on it.
    pub fn sandbox_only(&self) -> bool {
        self.workshop != OnWorkshop::Acts
    }
}

/// A knob's value as the contract writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnobValue {
    Number(u64),
    Flag(bool),
}

impl From<u64> for KnobValue {
    fn from(number: u64) -> Self {
        KnobValue::Number(number)
    }
}

impl From<bool> for KnobValue {
    fn from(flag: bool) -> Self {
        KnobValue::Flag(flag)
    }
}

impl KnobValue {
    pub fn to_json(self) -> Value {
        match self {
            KnobValue::Number(number) => Value::from(number),
            KnobValue::Flag(flag) => Value::Bool(flag),
        }
    }

    /// Flags as 0 and 1, as the service's read-back and metrics show them.
    pub fn as_number(self) -> u64 {
        match self {
            KnobValue::Number(number) => number,
            KnobValue::Flag(flag) => u64::from(flag),
        }
    }
}

/// One key, one injection, with the workshop's own values (`../shared/fincore-api.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Latency,
    Errors,
    SlowDb,
    MemoryLeak,
    Chaos,
    DbFailure,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresetSpec {
    pub preset: Preset,
    /// The key that injects it unless the key table says otherwise.
    pub key: char,
    /// What it does, for the key bar and the help.
    pub label: Label,
    /// The knobs and values it sets.
    pub knobs: &'static [(Knob, KnobValue)],
}

/// Every preset, in key-bar order; `PRESETS[preset.index()].preset == preset`.
pub const PRESETS: [PresetSpec; 6] = [
    PresetSpec {
        preset: Preset::Latency,
        key: 'l',
        label: Label {
            en: "latency 2 s",
            ru: "задержка 2 с",
        },
        knobs: &[(Knob::LatencyMs, KnobValue::Number(2000))],
    },
    PresetSpec {
        preset: Preset::Errors,
        key: 'e',
        label: Label {
            en: "errors 30 %",
            ru: "ошибки 30 %",
        },
        knobs: &[(Knob::ErrorRate, KnobValue::Number(30))],
    },
    PresetSpec {
        preset: Preset::SlowDb,
        key: 'd',
        label: Label {
            en: "slow DB",
            ru: "медленная БД",
        },
        knobs: &[(Knob::DbSlow, KnobValue::Flag(true))],
    },
    PresetSpec {
        preset: Preset::MemoryLeak,
        key: 'm',
        label: Label {
            en: "leak 5 MiB/req",
            ru: "утечка 5 МиБ/запрос",
        },
        knobs: &[(Knob::MemoryLeakMb, KnobValue::Number(5))],
    },
    PresetSpec {
        preset: Preset::Chaos,
        key: 'x',
        label: Label {
            en: "chaos mix",
            ru: "хаос",
        },
        knobs: &[
            (Knob::LatencyMs, KnobValue::Number(800)),
            (Knob::ErrorRate, KnobValue::Number(10)),
            (Knob::DbSlow, KnobValue::Flag(true)),
        ],
    },
    PresetSpec {
        preset: Preset::DbFailure,
        key: 'f',
        label: Label {
            en: "DB failure",
            ru: "отказ БД",
        },
        knobs: &[(Knob::DbFail, KnobValue::Flag(true))],
    },
];

impl Preset {
    pub const ALL: [Preset; PRESETS.len()] = {
        let mut all = [Preset::Latency; PRESETS.len()];
        let mut index = 0;
        while index < PRESETS.len() {
            all[index] = PRESETS[index].preset;
            index += 1;
        }
        all
    };

    pub fn spec(self) -> &'static PresetSpec {
        &PRESETS[self as usize]
    }

    pub fn key(self) -> char {
        self.spec().key
    }

    pub fn from_key(key: char) -> Option<Preset> {
        PRESETS
            .iter()
            .find(|spec| spec.key == key)
            .map(|spec| spec.preset)
    }

    /// What it does in English, for logs and records; `spec().label` has both languages.
    pub fn label(self) -> &'static str {
        self.spec().label.en
    }

    pub fn knobs(self) -> &'static [(Knob, KnobValue)] {
        self.spec().knobs
    }

    /// The body to send: every knob as `(name, value)`.
    pub fn body(self) -> Vec<(String, Value)> {
        self.knobs()
            .iter()
            .map(|(knob, value)| (knob.name().to_string(), value.to_json()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_table_is_in_the_order_of_its_enum() {
        for (index, spec) in ALL.iter().enumerate() {
            assert_eq!(spec.knob.index(), index, "{}", spec.name);
            assert_eq!(Knob::from_name(spec.name), Some(spec.knob));
        }
        for (index, spec) in PRESETS.iter().enumerate() {
            assert_eq!(spec.preset as usize, index, "{:?}", spec.preset);
            assert_eq!(Preset::ALL[index], spec.preset);
        }
    }

    #[test]
    fn names_keys_and_labels_are_unique_and_translated() {
        let mut names: Vec<&str> = names().chain([TTL_NAME]).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COUNT + 1);
        let mut keys: Vec<char> = PRESETS.iter().map(|spec| spec.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), PRESETS.len());
        let labels = ALL
            .iter()
            .map(|spec| spec.label)
            .chain(PRESETS.iter().map(|spec| spec.label));
        for label in labels {
            assert!(!label.en.is_empty() && !label.ru.is_empty() && label.en != label.ru);
        }
    }

    #[test]
    fn values_are_read_strictly() {
        let latency = Knob::LatencyMs.spec();
        assert_eq!(
            latency.accept(&json!(60000)),
            Some(KnobValue::Number(60000))
        );
        for wrong in [
            json!(60001),
            json!(-1),
            json!(1.5),
            json!("300"),
            json!(null),
        ] {
            assert_eq!(latency.accept(&wrong), None, "{wrong}");
        }
        let slow = Knob::DbSlow.spec();
        assert_eq!(slow.accept(&json!(true)), Some(KnobValue::Flag(true)));
        assert_eq!(slow.accept(&json!(1)), None);
        assert_eq!(
            latency.expected(),
            "an integer from 0 to 60000 (milliseconds)"
        );
        assert_eq!(slow.expected(), "true or false");
        assert_eq!(TTL_RANGE.describe(), "0 to 86400 (seconds)");
    }

    #[test]
    fn every_preset_value_is_one_its_knob_accepts() {
        for spec in PRESETS {
            assert!(!spec.knobs.is_empty());
            for (knob, value) in spec.knobs {
                assert_eq!(knob.spec().accept(&value.to_json()), Some(*value));
            }
        }
        assert_eq!(
            Preset::Chaos.body(),
            [
                ("latency_ms".to_string(), json!(800)),
                ("error_rate".to_string(), json!(10)),
                ("db_slow".to_string(), json!(true)),
            ]
        );
    }
}
