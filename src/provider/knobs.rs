//! The payment provider's failure knobs, each declared once (name, kind and range, label) in
//! the vocabulary of FinCore's own (`crate::knobs`), with the strict parsing of
//! `POST /api/failures` and the read-back of `GET /api/failures`.

use serde_json::{Map, Value, json};

use crate::knobs::{IntegerRange, Label};
use crate::strict_json::{QUOTE_BYTES, bounded, parse_strict, quoted};

/// A knob of the provider; the variants follow [`ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKnob {
    LatencyMs,
    ErrorRate,
    Timeout,
    RateLimitPerS,
    Down,
    WebhookDelayMs,
    WebhookDuplicateRate,
    WebhookForgedRate,
}

/// What a knob takes: an integer in a range, a fraction from 0 to 1, or a flag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ProviderKnobKind {
    Integer(IntegerRange),
    /// A probability, 0 to 1 inclusive.
    Fraction,
    Flag,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProviderKnobSpec {
    pub knob: ProviderKnob,
    pub name: &'static str,
    pub kind: ProviderKnobKind,
    pub label: Label,
}

const MILLIS: IntegerRange = IntegerRange {
    min: 0,
    max: 120_000,
    step: 500,
    unit: "milliseconds",
};

/// Every knob, in the order a payment request meets them; `ALL[knob as usize].knob == knob`.
pub const ALL: [ProviderKnobSpec; 8] = [
    ProviderKnobSpec {
        knob: ProviderKnob::LatencyMs,
        name: "latency_ms",
        kind: ProviderKnobKind::Integer(MILLIS),
        label: Label {
            en: "provider latency",
            ru: "задержка провайдера",
        },
    },
    ProviderKnobSpec {
        knob: ProviderKnob::ErrorRate,
        name: "error_rate",
        kind: ProviderKnobKind::Fraction,
        label: Label {
            en: "provider error rate",
            ru: "доля ошибок провайдера",
        },
    },
    ProviderKnobSpec {
        knob: ProviderKnob::Timeout,
        name: "timeout",
        kind: ProviderKnobKind::Flag,
        label: Label {
            en: "provider never answers",
            ru: "провайдер не отвечает",
        },
    },
    ProviderKnobSpec {
        knob: ProviderKnob::RateLimitPerS,
        name: "rate_limit_per_s",
        kind: ProviderKnobKind::Integer(IntegerRange {
            min: 0,
            max: 100_000,
            step: 5,
            unit: "requests per second, 0 = off",
        }),
        label: Label {
            en: "provider rate limit",
            ru: "лимит запросов провайдера",
        },
    },
    ProviderKnobSpec {
        knob: ProviderKnob::Down,
        name: "down",
        kind: ProviderKnobKind::Flag,
        label: Label {
            en: "provider down",
            ru: "провайдер недоступен",
        },
    },
    ProviderKnobSpec {
        knob: ProviderKnob::WebhookDelayMs,
        name: "webhook_delay_ms",
        kind: ProviderKnobKind::Integer(MILLIS),
        label: Label {
            en: "webhook delay",
            ru: "задержка вебхука",
        },
    },
    ProviderKnobSpec {
        knob: ProviderKnob::WebhookDuplicateRate,
        name: "webhook_duplicate_rate",
        kind: ProviderKnobKind::Fraction,
        label: Label {
            en: "duplicate webhooks",
            ru: "дубли вебхуков",
        },
    },
    ProviderKnobSpec {
        knob: ProviderKnob::WebhookForgedRate,
        name: "webhook_forged_rate",
        kind: ProviderKnobKind::Fraction,
        label: Label {
            en: "forged webhooks",
            ru: "поддельные вебхуки",
        },
    },
];

pub const COUNT: usize = ALL.len();

impl ProviderKnob {
    pub fn spec(self) -> &'static ProviderKnobSpec {
        &ALL[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }
}

pub fn by_name(name: &str) -> Option<&'static ProviderKnobSpec> {
    ALL.iter().find(|spec| spec.name == name)
}

impl ProviderKnobSpec {
    /// What it accepts, for messages.
    pub fn expected(&self) -> String {
        match self.kind {
            ProviderKnobKind::Integer(range) => format!("an integer from {}", range.describe()),
            ProviderKnobKind::Fraction => "a number from 0 to 1".to_string(),
            ProviderKnobKind::Flag => "true or false".to_string(),
        }
    }

    /// The value if it has the right type and range: a flag is a JSON boolean, an integer a
    /// non-negative JSON integer, a fraction any JSON number from 0 to 1. Flags read as 0/1.
    pub fn accept(&self, value: &Value) -> Option<f64> {
        match self.kind {
            ProviderKnobKind::Integer(range) => value
                .as_u64()
                .filter(|number| range.contains(*number))
                .map(|number| number as f64),
            ProviderKnobKind::Fraction => value
                .as_f64()
                .filter(|fraction| (0.0..=1.0).contains(fraction)),
            ProviderKnobKind::Flag => value.as_bool().map(|flag| f64::from(u8::from(flag))),
        }
    }
}

/// The value of every knob (flags as 0/1), what each request reads.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ProviderFailures {
    values: [f64; COUNT],
}

impl ProviderFailures {
    pub fn get(&self, knob: ProviderKnob) -> f64 {
        self.values[knob as usize]
    }

    pub fn millis(&self, knob: ProviderKnob) -> u64 {
        self.get(knob) as u64
    }

    pub fn is_on(&self, knob: ProviderKnob) -> bool {
        self.get(knob) != 0.0
    }

    /// True with the knob's probability.
    pub fn chance(&self, knob: ProviderKnob) -> bool {
        let rate = self.get(knob);
        rate > 0.0 && rand::random::<f64>() < rate
    }

    pub fn apply(&mut self, changes: &[(ProviderKnob, f64)]) {
        for (knob, value) in changes {
            self.values[*knob as usize] = *value;
        }
    }

    /// The read-back: flags as booleans, integers as integers, fractions as numbers.
    pub fn to_json(&self) -> Value {
        let config = ALL
            .iter()
            .map(|spec| {
                let value = self.get(spec.knob);
                let value = match spec.kind {
                    ProviderKnobKind::Integer(_) => json!(value as u64),
                    ProviderKnobKind::Fraction => json!(value),
                    ProviderKnobKind::Flag => json!(value != 0.0),
                };
                (spec.name.to_string(), value)
            })
            .collect::<Map<_, _>>();
        Value::Object(config)
    }
}

/// Parses a `POST /api/failures` body strictly: a JSON object of known knobs, each of the
/// right type and range, at least one. The error names the field at fault.
pub fn parse_update(body: &[u8]) -> Result<Vec<(ProviderKnob, f64)>, String> {
    let value = parse_strict(body)?;
    let Value::Object(fields) = value else {
        return Err(
            "body must be a JSON object such as {\"latency_ms\": 10000}: see GET /api/failures"
                .to_string(),
        );
    };
    let known = || ALL.map(|spec| spec.name).join(", ");
    let mut changes = Vec::with_capacity(fields.len());
    for (name, value) in &fields {
        let spec = by_name(name).ok_or_else(|| {
            format!(
                "unknown field `{}`: expected one of {}",
                bounded(name, QUOTE_BYTES),
                known()
            )
        })?;
        let parsed = spec.accept(value).ok_or_else(|| {
            format!(
                "field `{name}`: expected {}; got {}",
                spec.expected(),
                quoted(value)
            )
        })?;
        changes.push((spec.knob, parsed));
    }
    if changes.is_empty() {
        return Err(format!(
            "body names no failure: expected at least one of {}",
            known()
        ));
    }
    Ok(changes)
}

/// Knobs with their values in the table's order (the order a payment meets them); names the
/// table does not know come last.
pub fn in_table_order<'a>(
    knobs: impl Iterator<Item = &'a (String, f64)>,
) -> Vec<&'a (String, f64)> {
    let mut knobs: Vec<&(String, f64)> = knobs.collect();
    knobs.sort_by_key(|(knob, _)| {
        ALL.iter()
            .position(|spec| spec.name == knob)
            .unwrap_or(usize::MAX)
    });
    knobs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_variant_order() {
        for (index, spec) in ALL.iter().enumerate() {
            assert_eq!(spec.knob as usize, index, "{}", spec.name);
        }
    }

    #[test]
    fn updates_are_parsed_strictly_and_name_the_field() {
        let changes =
            parse_update(br#"{"latency_ms": 10000, "error_rate": 0.5, "down": true}"#).expect("ok");
        let mut failures = ProviderFailures::default();
        failures.apply(&changes);
        assert_eq!(failures.millis(ProviderKnob::LatencyMs), 10_000);
        assert_eq!(failures.get(ProviderKnob::ErrorRate), 0.5);
        assert!(failures.is_on(ProviderKnob::Down));
        assert_eq!(failures.to_json()["down"], true);
        assert_eq!(failures.to_json()["latency_ms"], 10_000);
        for (body, expected) in [
            (r#"{"latency_ms": 120001}"#, "field `latency_ms`"),
            (r#"{"latency_ms": -1}"#, "field `latency_ms`"),
            (r#"{"error_rate": 1.5}"#, "field `error_rate`"),
            (r#"{"error_rate": "0.5"}"#, "field `error_rate`"),
            (r#"{"timeout": 1}"#, "field `timeout`"),
            (
                r#"{"webhook_forged_rate": -0.1}"#,
                "field `webhook_forged_rate`",
            ),
            (r#"{"nope": 1}"#, "unknown field `nope`"),
            (r#"{"down": true, "down": false}"#, "duplicate field `down`"),
            (r#"{}"#, "names no failure"),
            (r#"[]"#, "JSON object"),
        ] {
            let err = parse_update(body.as_bytes()).expect_err(body);
            assert!(err.contains(expected), "{body}: {err}");
        }
    }
}
