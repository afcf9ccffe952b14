//! The target's dependency, as the dashboard controls it: the payment provider's failure state
//! (its own `GET/POST /api/failures` and `POST /api/reset`, on the address the sandbox names in
//! `GET /` under `extensions.provider`) and the sandbox's resilience patterns
//! (`GET/POST /api/patterns`, behind the target's control token). Both read back as typed views;
//! every answer is read through the capped readers, and errors are plain messages like the rest
//! of the client's.
//!
//! `fincore` cannot import `provider` (the provider builds its client with `fincore::tls`), so
//! the provider's knobs are read here by name; their kinds and ranges stay in
//! `provider::knobs`, where the dashboard's dialog reads them.

use crate::pattern_settings::PatternConfig;
use serde::Deserialize;
use serde_json::Value;

use super::{BodyCap, FincoreClient, REQUEST_TIMEOUT, knob_number, send_for_text, snippet, tls};

/// Where the target's payment provider is, as `GET /` tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderInfo {
    pub url: String,
    /// The sandbox started it itself (its own process on a loopback port).
    pub embedded: bool,
}

impl ProviderInfo {
    /// `extensions.provider` of a discovery answer, if it names a URL.
    pub fn from_discovery(body: &Value) -> Option<ProviderInfo> {
        let provider = body.get("extensions")?.get("provider")?;
        let url = provider.get("url")?.as_str()?.trim();
        if url.is_empty() {
            return None;
        }
        Some(ProviderInfo {
            url: url.trim_end_matches('/').to_string(),
            embedded: provider
                .get("embedded")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }
}

/// What the provider's `GET /api/failures` says: each knob by name with its value, flags as
/// 0/1, in the order the answer lists them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProviderFailureView {
    pub knobs: Vec<(String, f64)>,
}

impl ProviderFailureView {
    pub fn value(&self, knob: &str) -> Option<f64> {
        self.knobs
            .iter()
            .find(|(name, _)| name == knob)
            .map(|(_, value)| *value)
    }

    /// The knobs that are set (not 0), in the answer's order.
    pub fn active(&self) -> impl Iterator<Item = &(String, f64)> {
        self.knobs.iter().filter(|(_, value)| *value != 0.0)
    }

    pub fn any_active(&self) -> bool {
        self.active().next().is_some()
    }

    /// Parses `{"current_config": {...}}` (the read-back) or `{"config": {...}}` (a POST's
    /// answer).
    pub fn from_json(body: &Value) -> Result<ProviderFailureView, String> {
        let config = body
            .get("current_config")
            .or_else(|| body.get("config"))
            .and_then(Value::as_object)
            .ok_or("the provider's answer has no `current_config` object")?;
        Ok(ProviderFailureView {
            knobs: config
                .iter()
                .map(|(name, value)| (name.clone(), knob_number(value)))
                .collect(),
        })
    }
}

/// The sandbox's resilience patterns as `GET /api/patterns` reads them back (its `config`):
/// the settings the sandbox keeps, one vocabulary ([`PatternConfig`]) on both sides.
impl PatternConfig {
    /// Parses the read-back (`{"config": {...}, "upstreams": ...}`) or a POST's answer (the
    /// patterns at the top level).
    pub fn from_json(body: &Value) -> Result<PatternConfig, String> {
        let config = body.get("config").unwrap_or(body);
        PatternConfig::deserialize(config)
            .map_err(|err| format!("the patterns' answer is not what was expected: {err}"))
    }

    pub fn is_on(&self, pattern: &str) -> bool {
        self.enabled()
            .iter()
            .any(|(name, on)| *name == pattern && *on)
    }

    /// Each pattern that is on, with its main setting: `timeout 200 ms`, `retry ×3`,
    /// `circuit_breaker 0.5/5 s`, `bulkhead 2`, `fallback`.
    pub fn on_words(&self) -> Vec<String> {
        let mut on = Vec::new();
        if self.timeout.enabled {
            on.push(format!("timeout {} ms", self.timeout.ms));
        }
        if self.retry.enabled {
            on.push(format!("retry ×{}", self.retry.max_attempts));
        }
        if self.circuit_breaker.enabled {
            let breaker = &self.circuit_breaker;
            on.push(format!(
                "circuit_breaker {}/{} s",
                breaker.failure_ratio, breaker.open_s
            ));
        }
        if self.bulkhead.enabled {
            on.push(format!("bulkhead {}", self.bulkhead.max_concurrent));
        }
        if self.fallback.enabled {
            on.push("fallback".to_string());
        }
        on
    }

    /// Whether every field a body names reads back at the value it gives (numbers compared
    /// as numbers): what a verified change must show.
    pub fn shows(&self, body: &Value) -> bool {
        let Some(patterns) = body.as_object() else {
            return false;
        };
        let read = self.to_json();
        patterns.iter().all(|(pattern, fields)| {
            fields.as_object().is_some_and(|fields| {
                fields.iter().all(|(field, value)| {
                    let seen = &read[pattern.as_str()][field.as_str()];
                    match (seen.as_f64(), value.as_f64()) {
                        (Some(seen), Some(wanted)) => seen == wanted,
                        _ => seen == value,
                    }
                })
            })
        })
    }
}

/// The provider's control endpoints. It takes no control token (loopback by default).
#[derive(Clone)]
pub struct ProviderControl {
    base: String,
    http: reqwest::Client,
}

impl ProviderControl {
    pub fn new(base: &str) -> Result<ProviderControl, String> {
        let http = tls::client_builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("gameday/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| format!("cannot build an HTTP client: {err}"))?;
        Ok(ProviderControl {
            base: base.trim_end_matches('/').to_string(),
            http,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET /api/failures` of the provider.
    pub async fn failures(&self) -> Result<ProviderFailureView, String> {
        let request = self.http.get(format!("{}/api/failures", self.base));
        let (status, text) = send_for_text(request, BodyCap::JSON).await?;
        if status != 200 {
            return Err(format!(
                "the provider's GET /api/failures answered {status}: {}",
                snippet(&text)
            ));
        }
        let body: Value = serde_json::from_str(&text).map_err(|_| {
            format!(
                "the provider's GET /api/failures answered with something that is not JSON: {}",
                snippet(&text)
            )
        })?;
        ProviderFailureView::from_json(&body)
    }

    /// `POST /api/failures` of the provider with `body`; the status and text, whatever they are.
    pub async fn set_failures(&self, body: &Value) -> Result<(u16, String), String> {
        let request = self
            .http
            .post(format!("{}/api/failures", self.base))
            .header("Content-Type", "application/json")
            .body(body.to_string());
        send_for_text(request, BodyCap::JSON).await
    }

    /// `POST /api/reset` of the provider: every knob back to 0.
    pub async fn reset(&self) -> Result<(u16, String), String> {
        let request = self.http.post(format!("{}/api/reset", self.base));
        send_for_text(request, BodyCap::JSON).await
    }
}

impl FincoreClient {
    /// `GET /api/patterns` of the target.
    pub async fn patterns(&self) -> Result<PatternConfig, String> {
        let (status, body) = self.get_json("/api/patterns").await?;
        if status != 200 {
            return Err(format!("GET /api/patterns answered {status}"));
        }
        PatternConfig::from_json(&body)
    }

    /// `POST /api/patterns` with a partial body (each pattern an object of some of its
    /// fields), with the control token; the status and text, whatever they are.
    pub async fn set_patterns(&self, body: &Value) -> Result<(u16, String), String> {
        self.post("/api/patterns", Some(body)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_provider_is_found_in_the_discovery_only_with_a_url() {
        let body = json!({"extensions": {"provider": {"url": "http://127.0.0.1:4000/", "embedded": true}}});
        assert_eq!(
            ProviderInfo::from_discovery(&body),
            Some(ProviderInfo {
                url: "http://127.0.0.1:4000".to_string(),
                embedded: true
            })
        );
        assert_eq!(
            ProviderInfo::from_discovery(&json!({"extensions": {"provider": {"url": ""}}})),
            None
        );
        assert_eq!(
            ProviderInfo::from_discovery(&json!({"service": "fintech-api"})),
            None
        );
    }

    #[test]
    fn the_provider_failures_read_flags_as_numbers() {
        let body = json!({"current_config": {"latency_ms": 3000, "error_rate": 0.25, "timeout": false, "down": true}});
        let view = ProviderFailureView::from_json(&body).expect("parses");
        assert_eq!(view.value("latency_ms"), Some(3000.0));
        assert_eq!(view.value("error_rate"), Some(0.25));
        assert_eq!(view.value("down"), Some(1.0));
        let active: Vec<&str> = view.active().map(|(name, _)| name.as_str()).collect();
        assert_eq!(active, ["down", "error_rate", "latency_ms"]);
        assert!(ProviderFailureView::from_json(&json!({"status": "ok"})).is_err());
    }

    fn read_back() -> Value {
        json!({"config": {
            "timeout": {"enabled": true, "ms": 200},
            "retry": {"enabled": false, "max_attempts": 3, "base_ms": 100, "max_ms": 2000, "jitter": true},
            "circuit_breaker": {"enabled": false, "failure_ratio": 0.5, "window_s": 10, "min_calls": 10, "open_s": 5, "half_open_probes": 3},
            "bulkhead": {"enabled": false, "max_concurrent": 10},
            "fallback": {"enabled": false},
        }, "upstreams": {}})
    }

    #[test]
    fn the_patterns_read_back_is_typed_and_shows_a_partial_body() {
        let view = PatternConfig::from_json(&read_back()).expect("parses");
        assert!(view.timeout.enabled);
        assert_eq!(view.timeout.ms, 200);
        assert!(view.is_on("timeout"));
        assert!(!view.is_on("retry"));
        assert_eq!(view.circuit_breaker.failure_ratio, 0.5);
        assert!(view.shows(&json!({"timeout": {"enabled": true, "ms": 200.0}})));
        assert!(view.shows(&json!({"circuit_breaker": {"failure_ratio": 0.5}})));
        assert!(!view.shows(&json!({"retry": {"enabled": true}})));
        assert!(!view.shows(&json!({"cache": {"enabled": false}})));
        let err = PatternConfig::from_json(&json!({"config": {"timeout": {"enabled": true}}}))
            .expect_err("incomplete");
        assert!(err.contains("not what was expected"), "{err}");
    }
}
