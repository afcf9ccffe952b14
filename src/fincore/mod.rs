//! A typed client for the FinCore API: discovery, health, the failure state read back, and
//! the calls that change it. It copes with the workshop service's quirks (0/1 for booleans,
//! HTML error pages, per-worker state) as well as the sandbox's extensions.

pub mod body;
pub mod dependency;
pub mod presets;
pub mod tls;

use std::time::Duration;

use serde_json::Value;

use crate::knobs;
use crate::secret::Secret;

pub use body::BodyCap;

/// One request never waits longer than this: a stalled API must not hold a poller.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the health probe waits: the probe must not sit on one of the target's threads
/// waiting with it, and a health check slower than this is failing, as an orchestrator's
/// liveness probe would see it.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// The `User-Agent` of gameday's own observation requests to instrumented endpoints, so the
/// target's logs can tell them from real traffic.
pub const OBSERVER_USER_AGENT: &str = concat!("gameday/", env!("CARGO_PKG_VERSION"), " (observer)");

/// What `GET /api/failures` says, normalised: booleans as 0/1, every knob as a number.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FailureView {
    /// Knobs present in `current_config`, in contract order, with their values.
    pub knobs: Vec<(String, f64)>,
    /// Seconds left before a knob expires (sandbox only).
    pub ttl_remaining_s: Vec<(String, f64)>,
    /// When each active knob was set, as the service wrote it (sandbox only).
    pub since: Vec<(String, String)>,
}

impl FailureView {
    pub fn value(&self, knob: &str) -> Option<f64> {
        self.knobs
            .iter()
            .find(|(name, _)| name == knob)
            .map(|(_, value)| *value)
    }

    pub fn any_active(&self) -> bool {
        self.knobs.iter().any(|(_, value)| *value != 0.0)
    }

    pub fn ttl_of(&self, knob: &str) -> Option<f64> {
        self.ttl_remaining_s
            .iter()
            .find(|(name, _)| name == knob)
            .map(|(_, left)| *left)
    }

    /// Parses the body of `GET /api/failures` (or the `config` of a POST answer).
    pub fn from_json(body: &Value) -> Result<FailureView, String> {
        let config = body
            .get("current_config")
            .or_else(|| body.get("config"))
            .and_then(Value::as_object)
            .ok_or("the answer has no `current_config` object")?;
        let mut found = Vec::new();
        for name in knobs::names() {
            if let Some(value) = config.get(name) {
                found.push((name.to_string(), knob_number(value)));
            }
        }
        // Knobs we don't know are shown too, after ours, so nothing the service has is hidden.
        for (name, value) in config {
            if knobs::by_name(name).is_none() {
                found.push((name.clone(), knob_number(value)));
            }
        }
        let numbers = |key: &str| -> Vec<(String, f64)> {
            body.get(key)
                .and_then(Value::as_object)
                .map(|map| {
                    map.iter()
                        // Seconds left: a negative or unbounded one is no reading.
                        .filter_map(|(k, v)| v.as_f64().map(|v| (k.clone(), v)))
                        .filter(|(_, v)| v.is_finite() && *v >= 0.0)
                        .collect()
                })
                .unwrap_or_default()
        };
        let since = body
            .get("since")
            .and_then(Value::as_object)
            .map(|map| {
                map.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        Ok(FailureView {
            knobs: found,
            ttl_remaining_s: numbers("ttl_remaining_s"),
            since,
        })
    }
}

/// The workshop stores whatever it is sent: `true`, `1`, `"300"`. Show what a request would
/// see: booleans and numbers as numbers, a number in a string as that number, anything else
/// as NaN (the service would fail every request with it).
pub(crate) fn knob_number(value: &Value) -> f64 {
    match value {
        Value::Bool(flag) => f64::from(u8::from(*flag)),
        Value::Number(number) => number.as_f64().unwrap_or(f64::NAN),
        Value::String(text) => text.trim().parse().unwrap_or(f64::NAN),
        Value::Null => 0.0,
        _ => f64::NAN,
    }
}

/// What `GET /` tells about the service.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Discovery {
    pub service: String,
    pub version: String,
    /// `Some` for the gameday sandbox, with its version.
    pub implementation: Option<String>,
    pub supports_ttl: bool,
    /// The failure knobs the sandbox lists in `extensions.failures` (empty elsewhere).
    pub knobs: Vec<String>,
    /// The payment provider the sandbox depends on (`extensions.provider`), if it names one.
    pub provider: Option<dependency::ProviderInfo>,
    /// Whether `endpoints` lists `/api/patterns` (the resilience patterns can be switched).
    pub patterns: bool,
}

/// Health as the API reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub status_code: u16,
    pub status: String,
    pub database: String,
}

#[derive(Clone)]
pub struct FincoreClient {
    base: String,
    http: reqwest::Client,
    /// Never reuses a connection: gunicorn keeps a kept-alive connection on one worker, so
    /// only new connections sample every worker's failure state.
    fresh: reqwest::Client,
    /// Sent as `Authorization: Bearer` with every request that changes the target.
    control_token: Option<Secret>,
}

impl FincoreClient {
    pub fn new(base: &str) -> Result<FincoreClient, String> {
        let http = tls::client_builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("gameday/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| format!("cannot build an HTTP client: {err}"))?;
        let fresh = tls::client_builder()
            .timeout(REQUEST_TIMEOUT)
            .pool_max_idle_per_host(0)
            .user_agent(concat!("gameday/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| format!("cannot build an HTTP client: {err}"))?;
        Ok(FincoreClient {
            base: base.trim_end_matches('/').to_string(),
            http,
            fresh,
            control_token: None,
        })
    }

    /// The same client, sending `token` with every change.
    pub fn with_control_token(mut self, token: Option<Secret>) -> FincoreClient {
        self.control_token = token;
        self
    }

    pub fn sends_control_token(&self) -> bool {
        self.control_token.is_some()
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    async fn get_json(&self, path: &str) -> Result<(u16, Value), String> {
        self.get_json_on(&self.http, path).await
    }

    async fn get_json_on(
        &self,
        http: &reqwest::Client,
        path: &str,
    ) -> Result<(u16, Value), String> {
        let request = http.get(format!("{}{path}", self.base));
        let (status, text) = send_for_text(request, BodyCap::JSON).await?;
        let body = serde_json::from_str(&text).map_err(|_| {
            format!(
                "GET {path} answered {status} with something that is not JSON: {}",
                snippet(&text)
            )
        })?;
        Ok((status, body))
    }

    pub async fn discover(&self) -> Result<Discovery, String> {
        let (status, body) = self.get_json("/").await?;
        if status != 200 {
            return Err(format!("GET / answered {status}"));
        }
        let text = |key: &str| {
            body.get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Ok(Discovery {
            service: text("service"),
            version: text("version"),
            implementation: body
                .get("implementation")
                .and_then(Value::as_str)
                .map(str::to_string),
            supports_ttl: body["extensions"][knobs::TTL_NAME]
                .as_bool()
                .unwrap_or(false),
            knobs: body["extensions"]["failures"]
                .as_array()
                .map(|names| {
                    names
                        .iter()
                        .filter_map(|k| k.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            provider: dependency::ProviderInfo::from_discovery(&body),
            patterns: body["endpoints"]
                .as_array()
                .is_some_and(|endpoints| endpoints.iter().any(|e| e == "/api/patterns")),
        })
    }

    /// What this target can take: the sandbox says so in `GET /`; for the workshop service,
    /// the knobs its failure state shows.
    pub async fn capabilities(&self) -> Result<presets::Capabilities, String> {
        let discovery = self.discover().await?;
        if discovery.implementation.is_some() && !discovery.knobs.is_empty() {
            let mut capabilities =
                presets::Capabilities::of_sandbox(discovery.knobs, discovery.supports_ttl);
            capabilities.provider = discovery.provider;
            capabilities.patterns = discovery.patterns;
            return Ok(capabilities);
        }
        let view = self.failures().await?;
        let seen: Vec<String> = view.knobs.into_iter().map(|(name, _)| name).collect();
        Ok(presets::Capabilities::from_workshop(&seen))
    }

    pub async fn failures(&self) -> Result<FailureView, String> {
        self.failures_on(&self.http).await
    }

    /// `GET /api/failures` on a new connection, so that on a service with several worker
    /// processes each read may reach another one.
    pub async fn failures_on_new_connection(&self) -> Result<FailureView, String> {
        self.failures_on(&self.fresh).await
    }

    async fn failures_on(&self, http: &reqwest::Client) -> Result<FailureView, String> {
        let (status, body) = self.get_json_on(http, "/api/failures").await?;
        if status != 200 {
            return Err(format!("GET /api/failures answered {status}"));
        }
        FailureView::from_json(&body)
    }

    /// `GET /health` as an observer: its own `User-Agent`, [`PROBE_TIMEOUT`]. `/health` is
    /// instrumented and slowed by injected latency, so each probe counts in the target's figures.
    pub async fn health(&self) -> Result<Health, ProbeFailure> {
        let request = self
            .http
            .get(format!("{}/health", self.base))
            .header(reqwest::header::USER_AGENT, OBSERVER_USER_AGENT)
            .timeout(PROBE_TIMEOUT);
        let response = request.send().await.map_err(|err| ProbeFailure::of(&err))?;
        let status_code = response.status().as_u16();
        let text = body::read_capped(response, BodyCap::JSON)
            .await
            .map_err(|reason| ProbeFailure {
                reason,
                reached: true,
            })?;
        // A 500 from the server in front of the app may not be JSON: still an answer.
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Health {
            status_code,
            status: body["status"].as_str().unwrap_or("unknown").to_string(),
            database: body["database"].as_str().unwrap_or("").to_string(),
        })
    }

    /// Whether the API answers at all (any status), asked on `GET /api/failures`, which is not
    /// instrumented: a check between health probes that leaves the target's figures alone.
    pub async fn answers(&self) -> bool {
        let request = self
            .http
            .get(format!("{}/api/failures", self.base))
            .header(reqwest::header::USER_AGENT, OBSERVER_USER_AGENT)
            .timeout(PROBE_TIMEOUT);
        send_for_text(request, BodyCap::JSON).await.is_ok()
    }

    /// `POST /api/failures` with `body`; the answer's status and text, whatever it is.
    pub async fn inject(&self, body: &Value) -> Result<(u16, String), String> {
        self.post("/api/failures", Some(body)).await
    }

    pub async fn reset(&self) -> Result<(u16, String), String> {
        self.post("/api/reset", None).await
    }

    /// A change sent on a new connection: on a service with several worker processes each
    /// connection lands on one of them, so only new connections can reach them all.
    pub async fn inject_on_new_connection(&self, body: &Value) -> Result<(u16, String), String> {
        self.post_on(&self.fresh, "/api/failures", Some(body)).await
    }

    pub async fn reset_on_new_connection(&self) -> Result<(u16, String), String> {
        self.post_on(&self.fresh, "/api/reset", None).await
    }

    async fn post(&self, path: &str, body: Option<&Value>) -> Result<(u16, String), String> {
        self.post_on(&self.http, path, body).await
    }

    async fn post_on(
        &self,
        http: &reqwest::Client,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, String), String> {
        let mut request = http.post(format!("{}{path}", self.base));
        if let Some(token) = &self.control_token {
            request = request.bearer_auth(token.expose());
        }
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        send_for_text(request, BodyCap::JSON).await
    }
}

/// Sends a request and reads its whole answer as text, at most `cap` of it: the status code
/// and body, or a short reason why there was none (refused, timed out, over the cap). Every
/// source reads its HTTP answers through here.
pub async fn send_for_text(
    request: reqwest::RequestBuilder,
    cap: BodyCap,
) -> Result<(u16, String), String> {
    let response = request.send().await.map_err(|err| describe_error(&err))?;
    let status = response.status().as_u16();
    let text = body::read_capped(response, cap).await?;
    Ok((status, text))
}

/// Why a health probe has no verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeFailure {
    pub reason: String,
    /// Whether the request reached the service (and so counts in its figures): false when no
    /// connection could be made.
    pub reached: bool,
}

impl ProbeFailure {
    fn of(err: &reqwest::Error) -> ProbeFailure {
        let reason = if err.is_timeout() {
            format!("no answer in {} s", PROBE_TIMEOUT.as_secs())
        } else {
            describe_error(err)
        };
        ProbeFailure {
            reason,
            reached: !err.is_connect(),
        }
    }
}

/// A short reason for a failed request, for a status line: refused, timed out, ...
pub fn describe_error(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        format!("no answer in {} s", REQUEST_TIMEOUT.as_secs())
    } else if let Some(reason) = tls_failure(err) {
        reason
    } else if err.is_connect() {
        "connection refused".to_string()
    } else if err.is_decode() || err.is_body() {
        "unreadable answer".to_string()
    } else {
        let text = err.to_string();
        snippet(&text)
    }
}

/// Why an https connection failed, when it was TLS that failed (rustls' reason, found in the
/// error's chain), with what to do about an untrusted certificate.
fn tls_failure(err: &reqwest::Error) -> Option<String> {
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let text = cause.to_string();
        if text.contains("certificate") {
            let hint = if text.contains("UnknownIssuer") || text.contains("unknown issuer") {
                "; trust it with --ca-cert"
            } else {
                ""
            };
            return Some(format!("TLS: {}{hint}", snippet(&text)));
        }
        if cause.downcast_ref::<rustls::Error>().is_some() {
            return Some(format!("TLS: {}", snippet(&text)));
        }
        source = cause.source();
    }
    None
}

/// The first line of a text, at most 80 characters.
pub fn snippet(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    let mut short: String = line.chars().take(80).collect();
    if line.chars().count() > 80 {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_sandbox_answer_with_its_extensions() {
        let body = json!({
            "current_config": {"latency_ms": 2000, "error_rate": 0, "memory_leak_mb": 0, "db_slow": true, "db_fail": false},
            "since": {"latency_ms": "2026-11-22T10:00:00.000000"},
            "ttl_remaining_s": {"latency_ms": 42.5},
        });
        let view = FailureView::from_json(&body).expect("parses");
        assert_eq!(view.value("latency_ms"), Some(2000.0));
        assert_eq!(view.value("db_slow"), Some(1.0));
        assert_eq!(view.ttl_of("latency_ms"), Some(42.5));
        assert!(view.any_active());
    }

    #[test]
    fn copes_with_the_workshop_quirks() {
        // After a reset the workshop writes 0 for booleans; a bad POST leaves a string behind.
        let body = json!({"current_config": {"latency_ms": "300", "error_rate": 0, "memory_leak_mb": 0, "db_slow": 0, "db_fail": 1, "extra": true}});
        let view = FailureView::from_json(&body).expect("parses");
        assert_eq!(view.value("latency_ms"), Some(300.0));
        assert_eq!(view.value("db_slow"), Some(0.0));
        assert_eq!(view.value("db_fail"), Some(1.0));
        assert_eq!(view.value("extra"), Some(1.0));
        let garbage = json!({"current_config": {"latency_ms": "abc"}});
        let view = FailureView::from_json(&garbage).expect("parses");
        assert!(view.value("latency_ms").is_some_and(f64::is_nan));
        assert!(FailureView::from_json(&json!({"status": "ok"})).is_err());
    }

    #[test]
    fn snippets_are_one_short_line() {
        assert_eq!(snippet("<html>\n<body>"), "<html>");
        assert_eq!(snippet(&"x".repeat(100)).chars().count(), 81);
    }
}
