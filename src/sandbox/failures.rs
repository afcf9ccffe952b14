//! The sandbox's one failure state: strict parsing of `POST /api/failures`, per-knob time to
//! live, and the read-back shape of `GET /api/failures`.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::bodies::{QUOTE_BYTES, bounded, quoted};
pub use crate::knobs::Knob;
use crate::knobs::{self, COUNT, KnobKind, TTL_NAME, TTL_RANGE};

/// The values of every knob, flags as 0/1, indexed by [`Knob::index`]; what requests read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailureConfig {
    values: [u64; COUNT],
}

impl FailureConfig {
    pub fn value(&self, knob: Knob) -> u64 {
        self.values[knob.index()]
    }

    fn set(&mut self, knob: Knob, value: u64) {
        self.values[knob.index()] = value;
    }

    pub fn is_active(&self, knob: Knob) -> bool {
        self.value(knob) != 0
    }

    pub fn any_active(&self) -> bool {
        Knob::all().any(|knob| self.is_active(knob))
    }

    /// The contract's `current_config` object: flags as booleans, integers as numbers.
    pub fn to_json(&self) -> Value {
        let config = knobs::ALL
            .iter()
            .map(|spec| {
                let value = match spec.kind {
                    KnobKind::Integer(_) => json!(self.value(spec.knob)),
                    KnobKind::Flag => json!(self.is_active(spec.knob)),
                };
                (spec.name.to_string(), value)
            })
            .collect();
        Value::Object(config)
    }
}

/// A validated `POST /api/failures` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureUpdate {
    pub changes: Vec<(Knob, u64)>,
    /// `None`: use the server's default; `Some(0)`: no expiry.
    pub ttl_s: Option<u64>,
}

/// Parses a request body strictly: a JSON object of known knobs with values of the right type
/// and range, and an optional `ttl_s`. The error names the field at fault.
pub fn parse_update(body: &[u8]) -> Result<FailureUpdate, String> {
    let value = super::bodies::parse_strict(body)?;
    let Value::Object(fields) = value else {
        return Err(format!(
            "body must be a JSON object such as {{\"latency_ms\": 2000}}; got {}",
            json_kind(&value)
        ));
    };
    parse_fields(&fields)
}

fn parse_fields(fields: &Map<String, Value>) -> Result<FailureUpdate, String> {
    let mut update = FailureUpdate {
        changes: Vec::new(),
        ttl_s: None,
    };
    for (name, value) in fields {
        if name == TTL_NAME {
            let ttl = value
                .as_u64()
                .filter(|ttl| TTL_RANGE.contains(*ttl))
                .ok_or_else(|| {
                    format!(
                        "field `{TTL_NAME}`: expected an integer from {} to {} ({}, 0 = no expiry); got {}",
                        TTL_RANGE.min, TTL_RANGE.max, TTL_RANGE.unit, quoted(value)
                    )
                })?;
            update.ttl_s = Some(ttl);
            continue;
        }
        let Some(spec) = knobs::by_name(name) else {
            let known: Vec<&str> = knobs::names().collect();
            return Err(format!(
                "unknown field `{}`: expected one of {}, {TTL_NAME}",
                bounded(name, QUOTE_BYTES),
                known.join(", ")
            ));
        };
        let parsed = spec.accept(value).ok_or_else(|| {
            format!(
                "field `{name}`: expected {}; got {}",
                spec.expected(),
                quoted(value)
            )
        })?;
        update.changes.push((spec.knob, parsed.as_number()));
    }
    if update.changes.is_empty() {
        let known: Vec<&str> = knobs::names().collect();
        return Err(format!(
            "body names no failure: expected at least one of {}",
            known.join(", ")
        ));
    }
    Ok(update)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// When a knob was set and when it expires.
#[derive(Debug, Clone, Copy)]
struct KnobTiming {
    since: DateTime<Utc>,
    expires_at: Option<Instant>,
}

/// The failure state of the whole service, with the time each knob was set and expires.
#[derive(Debug, Default)]
pub struct FailureState {
    config: FailureConfig,
    timings: [Option<KnobTiming>; COUNT],
}

impl FailureState {
    pub fn config(&self) -> FailureConfig {
        self.config
    }

    /// Applies a validated update. A knob set to zero clears its timing.
    pub fn apply(&mut self, update: &FailureUpdate, default_ttl: Option<Duration>, now: Instant) {
        let ttl = match update.ttl_s {
            Some(0) => None,
            Some(seconds) => Some(Duration::from_secs(seconds)),
            None => default_ttl,
        };
        for (knob, value) in &update.changes {
            self.config.set(*knob, *value);
            self.timings[knob.index()] = (*value != 0).then(|| KnobTiming {
                since: Utc::now(),
                expires_at: ttl.map(|ttl| now + ttl),
            });
        }
    }

    pub fn reset(&mut self) {
        *self = FailureState::default();
    }

    /// Clears the knobs whose time to live has run out and returns them.
    pub fn expire(&mut self, now: Instant) -> Vec<Knob> {
        let mut expired = Vec::new();
        for knob in Knob::all() {
            let due = self.timings[knob.index()]
                .and_then(|timing| timing.expires_at)
                .is_some_and(|at| at <= now);
            if due {
                self.config.set(knob, 0);
                self.timings[knob.index()] = None;
                expired.push(knob);
            }
        }
        expired
    }

    /// The earliest moment a knob expires, for the expiry timer.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.timings
            .iter()
            .filter_map(|timing| timing.and_then(|t| t.expires_at))
            .min()
    }

    /// The `GET /api/failures` body: the contract's `current_config`, plus when each active knob
    /// was set (`since`) and how long it has left (`ttl_remaining_s`).
    pub fn to_json(&self, now: Instant) -> Value {
        let mut since = Map::new();
        let mut remaining = Map::new();
        for knob in Knob::all() {
            if let Some(timing) = self.timings[knob.index()] {
                since.insert(
                    knob.name().to_string(),
                    Value::String(crate::sandbox::iso_timestamp(timing.since)),
                );
                if let Some(at) = timing.expires_at {
                    let left = at.saturating_duration_since(now).as_secs_f64();
                    remaining.insert(knob.name().to_string(), json!((left * 10.0).round() / 10.0));
                }
            }
        }
        json!({
            "current_config": self.config.to_json(),
            "since": since,
            "ttl_remaining_s": remaining,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(body: &str) -> Result<FailureUpdate, String> {
        parse_update(body.as_bytes())
    }

    #[test]
    fn accepts_every_knob_and_a_ttl() {
        let parsed = update(
            r#"{"latency_ms":2000,"error_rate":30,"memory_leak_mb":5,"db_slow":true,"db_fail":false,"ttl_s":60}"#,
        )
        .expect("valid body");
        assert_eq!(parsed.ttl_s, Some(60));
        assert_eq!(parsed.changes.len(), 5);
    }

    #[test]
    fn rejects_with_the_field_at_fault() {
        let cases = [
            (r#"{"latency_ms":"abc"}"#, "`latency_ms`"),
            (r#"{"latency_ms":60001}"#, "`latency_ms`"),
            (r#"{"latency_ms":-1}"#, "`latency_ms`"),
            (r#"{"latency_ms":1.5}"#, "`latency_ms`"),
            (r#"{"error_rate":101}"#, "`error_rate`"),
            (r#"{"memory_leak_mb":null}"#, "`memory_leak_mb`"),
            (r#"{"db_slow":1}"#, "`db_slow`"),
            (r#"{"colour":"red"}"#, "unknown field `colour`"),
            (r#"{"ttl_s":-5,"latency_ms":1}"#, "`ttl_s`"),
            (r#"{}"#, "names no failure"),
            (r#"[1,2]"#, "JSON object"),
            (r#""str""#, "JSON object"),
            (r#"{"latency_ms":"#, "not valid JSON"),
            (
                r#"{"latency_ms":"x","latency_ms":7}"#,
                "duplicate field `latency_ms`",
            ),
            (
                r#"{"latency_ms":7,"latency_ms":7}"#,
                "duplicate field `latency_ms`",
            ),
        ];
        for (body, expected) in cases {
            let err = update(body).expect_err(body);
            assert!(err.contains(expected), "{body}: {err}");
        }
    }

    #[test]
    fn ttl_expires_only_its_own_knobs() {
        let start = Instant::now();
        let mut state = FailureState::default();
        state.apply(
            &update(r#"{"latency_ms":2000,"ttl_s":10}"#).expect("valid"),
            None,
            start,
        );
        state.apply(
            &update(r#"{"error_rate":30,"ttl_s":60}"#).expect("valid"),
            None,
            start,
        );
        assert_eq!(state.next_expiry(), Some(start + Duration::from_secs(10)));
        assert!(state.expire(start + Duration::from_secs(9)).is_empty());
        assert_eq!(
            state.expire(start + Duration::from_secs(10)),
            vec![Knob::LatencyMs]
        );
        assert_eq!(state.config().value(Knob::LatencyMs), 0);
        assert_eq!(state.config().value(Knob::ErrorRate), 30);
        assert_eq!(state.next_expiry(), Some(start + Duration::from_secs(60)));
    }

    #[test]
    fn default_ttl_applies_unless_the_body_says_zero() {
        let start = Instant::now();
        let mut state = FailureState::default();
        let default = Some(Duration::from_secs(600));
        state.apply(
            &update(r#"{"db_slow":true}"#).expect("valid"),
            default,
            start,
        );
        assert_eq!(state.next_expiry(), Some(start + Duration::from_secs(600)));
        state.apply(
            &update(r#"{"db_slow":true,"ttl_s":0}"#).expect("valid"),
            default,
            start,
        );
        assert_eq!(state.next_expiry(), None);
    }

    #[test]
    fn read_back_shows_time_left() {
        let start = Instant::now();
        let mut state = FailureState::default();
        state.apply(
            &update(r#"{"latency_ms":300,"ttl_s":30}"#).expect("valid"),
            None,
            start,
        );
        let body = state.to_json(start + Duration::from_secs(5));
        assert_eq!(body["current_config"]["latency_ms"], 300);
        assert_eq!(body["ttl_remaining_s"]["latency_ms"], 25.0);
        assert!(body["since"]["latency_ms"].is_string());
        assert!(body["ttl_remaining_s"].get("error_rate").is_none());
    }

    #[test]
    fn setting_a_knob_to_zero_clears_it() {
        let start = Instant::now();
        let mut state = FailureState::default();
        state.apply(
            &update(r#"{"latency_ms":300,"ttl_s":30}"#).expect("valid"),
            None,
            start,
        );
        state.apply(&update(r#"{"latency_ms":0}"#).expect("valid"), None, start);
        assert!(!state.config().any_active());
        assert_eq!(state.next_expiry(), None);
    }
}
