//! The patterns' settings: what `POST /api/patterns` accepts (strictly, as `/api/failures`:
//! the error names the field, nothing changes on an error) and what `GET` reads back. Every
//! pattern is off by default, so a participant first sees the failure, then applies the fix.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::strict_json::{QUOTE_BYTES, bounded, parse_strict, quoted};

/// Every pattern's settings; a copy is taken at the start of each call. `Deserialize` reads
/// the read-back (`GET`'s `config`) on the dashboard's side, leniently: the sandbox's answer.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct PatternConfig {
    pub timeout: TimeoutSettings,
    pub retry: RetrySettings,
    pub circuit_breaker: BreakerSettings,
    pub bulkhead: BulkheadSettings,
    pub fallback: FallbackSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct TimeoutSettings {
    pub enabled: bool,
    /// The longest one attempt may take.
    pub ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct RetrySettings {
    pub enabled: bool,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The backoff before the second attempt; it doubles for each one after.
    pub base_ms: u64,
    /// The longest wait between attempts, `Retry-After` included: an upstream asking for
    /// longer ends the retries.
    pub max_ms: u64,
    /// Full jitter: each wait is uniform between 0 and the backoff, so callers that failed
    /// together do not come back together.
    pub jitter: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct BreakerSettings {
    pub enabled: bool,
    /// Opens when failures ÷ calls in the window reach this (0 < ratio ≤ 1).
    pub failure_ratio: f64,
    pub window_s: u64,
    /// Calls in the window before the ratio counts.
    pub min_calls: u32,
    pub open_s: u64,
    /// Calls let through when half-open; all must succeed to close.
    pub half_open_probes: u32,
}

impl BreakerSettings {
    pub fn window(&self) -> Duration {
        Duration::from_secs(self.window_s)
    }

    pub fn open_for(&self) -> Duration {
        Duration::from_secs(self.open_s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct BulkheadSettings {
    pub enabled: bool,
    pub max_concurrent: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct FallbackSettings {
    pub enabled: bool,
}

impl Default for PatternConfig {
    fn default() -> Self {
        PatternConfig {
            timeout: TimeoutSettings {
                enabled: false,
                ms: 1000,
            },
            retry: RetrySettings {
                enabled: false,
                max_attempts: 3,
                base_ms: 100,
                max_ms: 2000,
                jitter: true,
            },
            circuit_breaker: BreakerSettings {
                enabled: false,
                failure_ratio: 0.5,
                window_s: 10,
                min_calls: 10,
                open_s: 5,
                half_open_probes: 3,
            },
            bulkhead: BulkheadSettings {
                enabled: false,
                max_concurrent: 10,
            },
            fallback: FallbackSettings { enabled: false },
        }
    }
}

/// The patterns by name, as `fintech_pattern_enabled{pattern}` and the body name them.
pub const PATTERN_NAMES: [&str; 5] = [
    "timeout",
    "retry",
    "circuit_breaker",
    "bulkhead",
    "fallback",
];

impl PatternConfig {
    /// Each pattern's name and whether it is on, in [`PATTERN_NAMES`] order.
    pub fn enabled(&self) -> [(&'static str, bool); 5] {
        [
            ("timeout", self.timeout.enabled),
            ("retry", self.retry.enabled),
            ("circuit_breaker", self.circuit_breaker.enabled),
            ("bulkhead", self.bulkhead.enabled),
            ("fallback", self.fallback.enabled),
        ]
    }

    /// The timeout of one attempt, if that pattern is on.
    pub fn attempt_timeout(&self) -> Option<Duration> {
        self.timeout
            .enabled
            .then(|| Duration::from_millis(self.timeout.ms))
    }

    /// The read-back shape, the same as the body `POST` takes.
    pub fn to_json(&self) -> Value {
        json!({
            "timeout": {"enabled": self.timeout.enabled, "ms": self.timeout.ms},
            "retry": {
                "enabled": self.retry.enabled,
                "max_attempts": self.retry.max_attempts,
                "base_ms": self.retry.base_ms,
                "max_ms": self.retry.max_ms,
                "jitter": self.retry.jitter,
            },
            "circuit_breaker": {
                "enabled": self.circuit_breaker.enabled,
                "failure_ratio": self.circuit_breaker.failure_ratio,
                "window_s": self.circuit_breaker.window_s,
                "min_calls": self.circuit_breaker.min_calls,
                "open_s": self.circuit_breaker.open_s,
                "half_open_probes": self.circuit_breaker.half_open_probes,
            },
            "bulkhead": {
                "enabled": self.bulkhead.enabled,
                "max_concurrent": self.bulkhead.max_concurrent,
            },
            "fallback": {"enabled": self.fallback.enabled},
        })
    }
}

/// A validated `POST /api/patterns` body: the whole configuration it leads to, and the fields
/// it named (`retry.max_attempts`), for the log.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternUpdate {
    pub config: PatternConfig,
    pub changed: Vec<String>,
}

/// The fields of each pattern's object, for the messages.
fn fields_of(pattern: &str) -> &'static [&'static str] {
    match pattern {
        "timeout" => &["enabled", "ms"],
        "retry" => &["enabled", "max_attempts", "base_ms", "max_ms", "jitter"],
        "circuit_breaker" => &[
            "enabled",
            "failure_ratio",
            "window_s",
            "min_calls",
            "open_s",
            "half_open_probes",
        ],
        "bulkhead" => &["enabled", "max_concurrent"],
        _ => &["enabled"],
    }
}

/// Parses a body against the current configuration: a JSON object of patterns, each an object
/// of some of its fields; the fields not named keep their values. The error names the field
/// (`retry.max_attempts`).
pub fn parse_update(body: &[u8], current: &PatternConfig) -> Result<PatternUpdate, String> {
    let value = parse_strict(body)?;
    let Value::Object(patterns) = value else {
        return Err(
            "body must be a JSON object such as {\"timeout\": {\"enabled\": true, \"ms\": 200}}"
                .to_string(),
        );
    };
    if patterns.is_empty() {
        return Err(format!(
            "body names no pattern: expected at least one of {}",
            PATTERN_NAMES.join(", ")
        ));
    }
    let mut config = *current;
    let mut changed = Vec::new();
    for (pattern, fields) in &patterns {
        let Some(pattern) = PATTERN_NAMES.iter().find(|name| *name == pattern) else {
            return Err(format!(
                "unknown field `{}`: expected one of {}",
                bounded(pattern, QUOTE_BYTES),
                PATTERN_NAMES.join(", ")
            ));
        };
        let known = fields_of(pattern);
        let Value::Object(fields) = fields else {
            return Err(format!(
                "field `{pattern}`: expected an object of {}; got {}",
                known.join(", "),
                quoted(fields)
            ));
        };
        if fields.is_empty() {
            return Err(format!(
                "field `{pattern}` names no setting: expected some of {}",
                known.join(", ")
            ));
        }
        for (field, value) in fields {
            if !known.contains(&field.as_str()) {
                return Err(format!(
                    "unknown field `{pattern}.{}`: expected {}",
                    bounded(field, QUOTE_BYTES),
                    known.join(", ")
                ));
            }
            set_field(&mut config, pattern, field, value)?;
            changed.push(format!("{pattern}.{field}"));
        }
        check_together(&config, pattern, fields)?;
    }
    Ok(PatternUpdate { config, changed })
}

/// Sets one known field, checking its type and range.
fn set_field(
    config: &mut PatternConfig,
    pattern: &str,
    field: &str,
    value: &Value,
) -> Result<(), String> {
    let name = format!("{pattern}.{field}");
    let wrong =
        |expected: &str| format!("field `{name}`: expected {expected}; got {}", quoted(value));
    let boolean = || value.as_bool().ok_or_else(|| wrong("true or false"));
    let integer = |min: u64, max: u64, unit: &str| {
        value
            .as_u64()
            .filter(|number| (min..=max).contains(number))
            .ok_or_else(|| wrong(&format!("an integer from {min} to {max} ({unit})")))
    };
    let count = |min: u64, max: u64, unit: &str| {
        integer(min, max, unit).map(|number| u32::try_from(number).unwrap_or(u32::MAX))
    };
    match (pattern, field) {
        (_, "enabled") => {
            let enabled = boolean()?;
            match pattern {
                "timeout" => config.timeout.enabled = enabled,
                "retry" => config.retry.enabled = enabled,
                "circuit_breaker" => config.circuit_breaker.enabled = enabled,
                "bulkhead" => config.bulkhead.enabled = enabled,
                _ => config.fallback.enabled = enabled,
            }
        }
        ("timeout", "ms") => config.timeout.ms = integer(1, 60_000, "ms")?,
        ("retry", "max_attempts") => {
            config.retry.max_attempts = count(1, 10, "attempts, the first included")?;
        }
        ("retry", "base_ms") => config.retry.base_ms = integer(1, 10_000, "ms")?,
        ("retry", "max_ms") => config.retry.max_ms = integer(1, 60_000, "ms")?,
        ("retry", "jitter") => config.retry.jitter = boolean()?,
        ("circuit_breaker", "failure_ratio") => {
            config.circuit_breaker.failure_ratio = value
                .as_f64()
                .filter(|ratio| *ratio > 0.0 && *ratio <= 1.0)
                .ok_or_else(|| wrong("a number above 0 and at most 1"))?;
        }
        ("circuit_breaker", "window_s") => {
            config.circuit_breaker.window_s = integer(1, 600, "s")?;
        }
        ("circuit_breaker", "min_calls") => {
            config.circuit_breaker.min_calls = count(1, 10_000, "calls")?;
        }
        ("circuit_breaker", "open_s") => config.circuit_breaker.open_s = integer(1, 600, "s")?,
        ("circuit_breaker", "half_open_probes") => {
            config.circuit_breaker.half_open_probes = count(1, 100, "calls")?;
        }
        ("bulkhead", "max_concurrent") => {
            config.bulkhead.max_concurrent =
                usize::try_from(integer(1, 1024, "calls")?).unwrap_or(1024);
        }
        _ => return Err(format!("unknown field `{name}`")),
    }
    Ok(())
}

/// Checks the fields that depend on each other once a pattern's fields are all set, naming a
/// field the body gave.
fn check_together(
    config: &PatternConfig,
    pattern: &str,
    fields: &Map<String, Value>,
) -> Result<(), String> {
    if pattern == "retry" && config.retry.base_ms > config.retry.max_ms {
        let named = if fields.contains_key("base_ms") {
            "base_ms"
        } else {
            "max_ms"
        };
        return Err(format!(
            "field `retry.{named}`: base_ms ({}) must not exceed max_ms ({})",
            config.retry.base_ms, config.retry.max_ms
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(body: &str) -> Result<PatternUpdate, String> {
        parse_update(body.as_bytes(), &PatternConfig::default())
    }

    #[test]
    fn everything_is_off_by_default() {
        let config = PatternConfig::default();
        assert!(config.enabled().iter().all(|(_, on)| !on));
        assert_eq!(config.attempt_timeout(), None);
        let names: Vec<&str> = config.enabled().iter().map(|(name, _)| *name).collect();
        assert_eq!(names, PATTERN_NAMES);
    }

    #[test]
    fn a_partial_update_keeps_the_fields_it_does_not_name() {
        let parsed =
            update(r#"{"retry": {"enabled": true, "max_attempts": 5}, "timeout": {"ms": 200}}"#)
                .expect("valid");
        let defaults = PatternConfig::default();
        assert!(parsed.config.retry.enabled);
        assert_eq!(parsed.config.retry.max_attempts, 5);
        assert_eq!(parsed.config.retry.base_ms, defaults.retry.base_ms);
        assert_eq!(parsed.config.timeout.ms, 200);
        assert!(!parsed.config.timeout.enabled);
        assert_eq!(
            parsed.changed,
            ["retry.enabled", "retry.max_attempts", "timeout.ms"]
        );
        let again =
            parse_update(br#"{"timeout": {"enabled": true}}"#, &parsed.config).expect("valid");
        assert_eq!(
            again.config.attempt_timeout(),
            Some(Duration::from_millis(200))
        );
        assert!(again.config.retry.enabled);
    }

    #[test]
    fn the_read_back_is_a_body_post_accepts() {
        let mut config = PatternConfig::default();
        config.circuit_breaker.enabled = true;
        config.circuit_breaker.failure_ratio = 0.25;
        config.bulkhead.max_concurrent = 7;
        let body = config.to_json().to_string();
        let parsed = update(&body).expect("its own read-back");
        assert_eq!(parsed.config, config);
    }

    #[test]
    fn refuses_with_the_field_at_fault() {
        let cases = [
            (r#"{"timeout": {"ms": 0}}"#, "`timeout.ms`"),
            (r#"{"timeout": {"ms": 60001}}"#, "`timeout.ms`"),
            (r#"{"timeout": {"enabled": "yes"}}"#, "`timeout.enabled`"),
            (r#"{"timeout": 200}"#, "field `timeout`: expected an object"),
            (r#"{"timeout": {}}"#, "`timeout` names no setting"),
            (r#"{"retry": {"max_attempts": 11}}"#, "`retry.max_attempts`"),
            (r#"{"retry": {"max_attempts": 0}}"#, "`retry.max_attempts`"),
            (r#"{"retry": {"base_ms": 1.5}}"#, "`retry.base_ms`"),
            (r#"{"retry": {"base_ms": 5000}}"#, "`retry.base_ms`"),
            (
                r#"{"retry": {"base_ms": 500, "max_ms": 100}}"#,
                "`retry.base_ms`",
            ),
            (r#"{"retry": {"max_ms": 50}}"#, "`retry.max_ms`"),
            (r#"{"retry": {"jitter": null}}"#, "`retry.jitter`"),
            (r#"{"retry": {"tries": 3}}"#, "unknown field `retry.tries`"),
            (
                r#"{"circuit_breaker": {"failure_ratio": 0}}"#,
                "`circuit_breaker.failure_ratio`",
            ),
            (
                r#"{"circuit_breaker": {"failure_ratio": 1.01}}"#,
                "`circuit_breaker.failure_ratio`",
            ),
            (
                r#"{"circuit_breaker": {"window_s": 0}}"#,
                "`circuit_breaker.window_s`",
            ),
            (
                r#"{"circuit_breaker": {"half_open_probes": 101}}"#,
                "`circuit_breaker.half_open_probes`",
            ),
            (
                r#"{"bulkhead": {"max_concurrent": 1025}}"#,
                "`bulkhead.max_concurrent`",
            ),
            (r#"{"fallback": {"enabled": 1}}"#, "`fallback.enabled`"),
            (r#"{"fallback": {"mode": "queue"}}"#, "`fallback.mode`"),
            (r#"{"cache": {"enabled": true}}"#, "unknown field `cache`"),
            (r#"{}"#, "names no pattern"),
            (r#"[]"#, "JSON object"),
            (r#"{"retry": {"enabled": true"#, "not valid JSON"),
            (
                r#"{"retry": {"enabled": true, "enabled": false}}"#,
                "duplicate field `enabled`",
            ),
            (
                r#"{"bulkhead": {"enabled": true}, "bulkhead": {"enabled": false}}"#,
                "duplicate field `bulkhead`",
            ),
        ];
        for (body, expected) in cases {
            let err = update(body).expect_err(body);
            assert!(err.contains(expected), "{body}: {err}");
        }
    }

    #[test]
    fn an_error_late_in_the_body_changes_nothing() {
        let current = PatternConfig::default();
        let err = parse_update(
            br#"{"timeout": {"enabled": true}, "retry": {"max_attempts": 99}}"#,
            &current,
        )
        .expect_err("bad retry");
        assert!(err.contains("`retry.max_attempts`"), "{err}");
        assert_eq!(current, PatternConfig::default());
    }
}
