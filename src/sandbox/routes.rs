//! HTTP routes of the sandbox: the FinCore contract, with strict input and the failures applied
//! in the contract's order on the instrumented endpoints.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::audit::{self, Caller};
use super::bodies::{self, QUOTE_BYTES, bounded};
use super::failures::{self, FailureConfig, Knob};
use super::leak::LeakOutcome;
use super::ledger::{DbFaults, LedgerError, SOURCE_ACCOUNT, cents_to_amount};
use super::metrics::ScrapeContext;
use super::patterns::http::{read_patterns, set_patterns};
use super::payment_routes;
use super::{Sandbox, iso_timestamp};
use crate::knobs;

const MAX_BODY_BYTES: usize = 64 * 1024;
/// The longest a scrape waits for the double-credit count; beyond, the series is left out.
const DOUBLE_CREDIT_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

pub fn router(sandbox: Arc<Sandbox>) -> Router {
    Router::new()
        .route("/", get(discovery))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/api/balance", get(balance))
        .route("/api/transfer", post(transfer))
        .route("/api/payments", post(payment_routes::create))
        .route("/api/payments/{id}", get(payment_routes::read))
        .route("/api/webhooks/provider", post(payment_routes::webhook))
        .route("/api/failures", get(read_failures).post(set_failures))
        .route("/api/reset", post(reset))
        .route("/api/patterns", get(read_patterns).post(set_patterns))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(sandbox)
}

pub(super) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    Refusal(status, message.into()).into_response()
}

/// A request refused before any work: its status and the reason, answered as `{"error": ...}`.
pub(super) struct Refusal(pub(super) StatusCode, pub(super) String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let Refusal(status, message) = self;
        let mut response = (status, axum::Json(json!({ "error": message }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not found: see GET / for the endpoints",
    )
}

async fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed: see GET / for the endpoints",
    )
}

async fn discovery(State(sandbox): State<Arc<Sandbox>>) -> Response {
    axum::Json(json!({
        "service": "fintech-api",
        "version": "2.0.0",
        "implementation": format!("gameday-sandbox {}", env!("CARGO_PKG_VERSION")),
        "endpoints": [
            "/", "/health", "/metrics", "/api/balance", "/api/transfer",
            "/api/failures", "/api/reset", "/api/patterns", "/api/payments", "/api/payments/{id}",
            "/api/webhooks/provider",
        ],
        "extensions": {
            "failures": knobs::names().collect::<Vec<_>>(),
            (knobs::TTL_NAME): true,
            "idempotency_key": true,
            "control_token_required": sandbox.control_token.is_some(),
            "workers": sandbox.worker_count,
            "provider": {
                "url": sandbox.provider.base(),
                "embedded": sandbox.provider_embedded,
            },
        },
    }))
    .into_response()
}

/// The instrumented endpoints, with the shape of their injected errors.
#[derive(Clone, Copy)]
pub(super) enum Endpoint {
    Health,
    Balance,
    Transfer,
    Payments,
    Payment,
    Webhook,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Health => "/health",
            Endpoint::Balance => "/api/balance",
            Endpoint::Transfer => "/api/transfer",
            Endpoint::Payments => "/api/payments",
            Endpoint::Payment => "/api/payments/{id}",
            Endpoint::Webhook => "/api/webhooks/provider",
        }
    }

    fn method(self) -> &'static str {
        match self {
            Endpoint::Transfer | Endpoint::Payments | Endpoint::Webhook => "POST",
            Endpoint::Health | Endpoint::Balance | Endpoint::Payment => "GET",
        }
    }

    pub(super) fn failure(self, status: StatusCode, reason: &str) -> Response {
        let body = match self {
            Endpoint::Health => json!({"status": "error", "error": reason}),
            Endpoint::Balance | Endpoint::Payments | Endpoint::Payment | Endpoint::Webhook => {
                json!({"error": reason})
            }
            Endpoint::Transfer => json!({"error": "Transfer failed", "details": reason}),
        };
        (status, axum::Json(body)).into_response()
    }
}

/// Counts itself in a gauge while alive, so every way out of a request uncounts it.
struct GaugeGuard<'a>(&'a AtomicI64);

impl<'a> GaugeGuard<'a> {
    fn new(gauge: &'a AtomicI64) -> Self {
        gauge.fetch_add(1, Ordering::Relaxed);
        GaugeGuard(gauge)
    }
}

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Runs `work` as one of the service's workers, after the injected latency, errors and leak,
/// and records the request from its arrival (time queued for a worker included).
///
/// The request runs in a task of its own, as gunicorn finishes every request it accepted: when
/// the client gives up, axum drops this handler's future, but the task still completes and the
/// request is counted with its real duration and status.
pub(super) async fn instrumented<F, Fut>(
    sandbox: Arc<Sandbox>,
    endpoint: Endpoint,
    work: F,
) -> Response
where
    F: FnOnce(Arc<Sandbox>, FailureConfig) -> Fut + Send + 'static,
    Fut: Future<Output = Response> + Send + 'static,
{
    let task = tokio::spawn(async move { serve_to_the_end(sandbox, endpoint, work).await });
    match task.await {
        Ok(response) => response,
        Err(err) => {
            tracing::error!(
                event = "request_task_failed",
                endpoint = endpoint.path(),
                %err,
                "request task failed"
            );
            endpoint.failure(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

async fn serve_to_the_end<F, Fut>(sandbox: Arc<Sandbox>, endpoint: Endpoint, work: F) -> Response
where
    F: FnOnce(Arc<Sandbox>, FailureConfig) -> Fut,
    Fut: Future<Output = Response>,
{
    let arrived = Instant::now();
    let permit = {
        let _queued = GaugeGuard::new(&sandbox.metrics.queued_requests);
        sandbox.workers.acquire().await
    };
    let response = match permit {
        Ok(_permit) => {
            let _busy = GaugeGuard::new(&sandbox.metrics.busy_workers);
            let config = sandbox.failures().config();
            apply_failures(
                &sandbox,
                endpoint,
                config,
                work(Arc::clone(&sandbox), config),
            )
            .await
        }
        Err(_) => endpoint.failure(StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
    };
    let status = response.status();
    if status.is_server_error() {
        tracing::warn!(
            event = "request_failed",
            endpoint = endpoint.path(),
            status = status.as_u16(),
            "request failed"
        );
    }
    sandbox.metrics.record_request(
        endpoint.method(),
        endpoint.path(),
        status.as_u16(),
        arrived.elapsed(),
    );
    response
}

async fn apply_failures(
    sandbox: &Sandbox,
    endpoint: Endpoint,
    config: FailureConfig,
    work: impl Future<Output = Response>,
) -> Response {
    let latency_ms = config.value(Knob::LatencyMs);
    if latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(latency_ms)).await;
    }
    let error_rate = config.value(Knob::ErrorRate);
    if error_rate > 0 && rand::random_range(0..100) < error_rate {
        return endpoint.failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("Simulated error (error_rate={error_rate}%)"),
        );
    }
    let memory_leak_mb = config.value(Knob::MemoryLeakMb);
    if memory_leak_mb > 0 {
        match sandbox.leak.leak(memory_leak_mb) {
            Ok(LeakOutcome::Leaked) => {}
            Ok(LeakOutcome::CapReached) => tracing::debug!(
                event = "leak_cap_reached",
                cap_bytes = sandbox.leak.cap(),
                "memory leak is at its cap"
            ),
            Err(err) => tracing::warn!(event = "leak_failed", %err, "could not map leak memory"),
        }
    }
    work.await
}

pub(super) fn db_faults(config: FailureConfig) -> DbFaults {
    DbFaults {
        slow: config.is_active(Knob::DbSlow),
        fail: config.is_active(Knob::DbFail),
    }
}

async fn health(State(sandbox): State<Arc<Sandbox>>) -> Response {
    instrumented(sandbox, Endpoint::Health, |sandbox, config| async move {
        let timestamp = iso_timestamp(chrono::Utc::now());
        match sandbox.ledger.ping(db_faults(config)).await {
            Ok(()) => axum::Json(json!({
                "status": "healthy",
                "database": "connected",
                "timestamp": timestamp,
            }))
            .into_response(),
            Err(err) => (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({
                    "status": "unhealthy",
                    "database": format!("error: {err}"),
                    "timestamp": timestamp,
                })),
            )
                .into_response(),
        }
    })
    .await
}

async fn balance(State(sandbox): State<Arc<Sandbox>>) -> Response {
    instrumented(sandbox, Endpoint::Balance, |sandbox, config| async move {
        match sandbox.ledger.balance(db_faults(config)).await {
            Ok((cents, currency)) => axum::Json(json!({
                "account": SOURCE_ACCOUNT,
                "balance": cents_to_amount(cents),
                "currency": currency,
            }))
            .into_response(),
            Err(err) => ledger_failure(Endpoint::Balance, &err),
        }
    })
    .await
}

pub(super) fn ledger_failure(endpoint: Endpoint, err: &LedgerError) -> Response {
    endpoint.failure(
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!("database error: {err}"),
    )
}

async fn transfer(
    State(sandbox): State<Arc<Sandbox>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    instrumented(sandbox, Endpoint::Transfer, |sandbox, config| async move {
        let body = match read_json_body(&headers, body) {
            Ok(body) => body,
            Err(refusal) => return refusal.into_response(),
        };
        let request = match bodies::parse_transfer(&body) {
            Ok(request) => request,
            Err(message) => return error(StatusCode::BAD_REQUEST, message),
        };
        let key = match crate::strict_json::idempotency_key(&headers) {
            Ok(key) => key,
            Err(message) => return error(StatusCode::BAD_REQUEST, message),
        };
        match sandbox
            .ledger
            .transfer(&request, key.as_deref(), db_faults(config))
            .await
        {
            Ok(outcome) => {
                let status = StatusCode::from_u16(outcome.status)
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let mut response = (status, axum::Json(outcome.body)).into_response();
                if outcome.replayed {
                    response
                        .headers_mut()
                        .insert("idempotent-replayed", HeaderValue::from_static("true"));
                }
                response
            }
            Err(err) => ledger_failure(Endpoint::Transfer, &err),
        }
    })
    .await
}

/// The body of a JSON POST, or the response that refuses it (413, 415).
pub(super) fn read_json_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Bytes, Refusal> {
    let body = body.map_err(|rejection| {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Refusal(
                status,
                format!("request body is larger than {} KiB", MAX_BODY_BYTES / 1024),
            )
        } else {
            Refusal(status, format!("cannot read the request body: {rejection}"))
        }
    })?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(Refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json".to_string(),
        ));
    }
    Ok(body)
}

async fn metrics(State(sandbox): State<Arc<Sandbox>>) -> Response {
    let (pool_in_use, pool_idle, pool_max) = sandbox.ledger.pool_usage();
    let config = sandbox.failures().config();
    let context = ScrapeContext {
        workers: sandbox.worker_count,
        pool_in_use,
        pool_idle,
        pool_max,
        failures: Knob::all()
            .map(|knob| (knob.name(), config.value(knob)))
            .collect(),
        leaked_bytes: sandbox.leak.held_bytes(),
        leak_cap_bytes: sandbox.leak.cap(),
        waiting_for_database: if config.is_active(Knob::DbSlow) {
            sandbox.metrics.queued_requests.load(Ordering::Relaxed)
        } else {
            0
        },
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        {
            let mut text = sandbox.metrics.render(&context);
            sandbox.patterns.render_metrics(&mut text);
            let double_credits =
                tokio::time::timeout(DOUBLE_CREDIT_CHECK_TIMEOUT, sandbox.ledger.double_credits())
                    .await
                    .ok()
                    .and_then(Result::ok);
            sandbox.upstream.render(&mut text, double_credits);
            text
        },
    )
        .into_response()
}

async fn read_failures(State(sandbox): State<Arc<Sandbox>>) -> Response {
    axum::Json(sandbox.failures().to_json(Instant::now())).into_response()
}

fn caller(remote: SocketAddr, headers: &HeaderMap, authenticated: bool) -> Caller {
    Caller {
        remote: remote.to_string(),
        user_agent: headers
            .get(header::USER_AGENT)
            .map(|value| bounded(&String::from_utf8_lossy(value.as_bytes()), QUOTE_BYTES))
            .unwrap_or_else(|| "-".to_string()),
        authenticated,
    }
}

/// Who sent a control request; refused (and logged) without the right bearer token when one is
/// configured.
pub(super) fn authorize(
    sandbox: &Sandbox,
    remote: SocketAddr,
    headers: &HeaderMap,
    path: &str,
) -> Result<Caller, Refusal> {
    let Some(expected) = &sandbox.control_token else {
        return Ok(caller(remote, headers, false));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| bearer_token(value.as_bytes()))
        .unwrap_or(b"");
    if constant_time_eq(given, expected.as_bytes()) {
        return Ok(caller(remote, headers, true));
    }
    audit::refused(
        &caller(remote, headers, false),
        path,
        401,
        "missing or wrong token",
    );
    Err(Refusal(
        StatusCode::UNAUTHORIZED,
        format!("this sandbox requires `Authorization: Bearer <control token>` for POST {path}"),
    ))
}

/// The token of `Authorization: Bearer TOKEN`, the scheme in any case (RFC 9110 §11.1).
fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let value = value.trim_ascii();
    let split = value
        .iter()
        .position(|byte| *byte == b' ' || *byte == b'\t')?;
    let (scheme, token) = value.split_at(split);
    scheme
        .eq_ignore_ascii_case(b"bearer")
        .then(|| token.trim_ascii())
}

/// Compares in a time that depends only on the length of `given` (which its sender knows),
/// never on where the first difference is or on the expected token's length.
fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    if expected.is_empty() {
        return false;
    }
    let mut differ = u8::from(given.len() != expected.len());
    for (index, byte) in given.iter().enumerate() {
        differ |= byte ^ expected[index % expected.len()];
    }
    std::hint::black_box(differ) == 0
}

async fn set_failures(
    State(sandbox): State<Arc<Sandbox>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let who = match authorize(&sandbox, remote, &headers, "/api/failures") {
        Ok(who) => who,
        Err(refusal) => return refusal.into_response(),
    };
    let update = match read_json_body(&headers, body).and_then(|body| {
        failures::parse_update(&body).map_err(|m| Refusal(StatusCode::BAD_REQUEST, m))
    }) {
        Ok(update) => update,
        Err(refusal) => {
            audit::refused(&who, "/api/failures", refusal.0.as_u16(), &refusal.1);
            return refusal.into_response();
        }
    };
    let body = {
        let mut state = sandbox.failures();
        state.apply(&update, sandbox.default_ttl, Instant::now());
        audit::injected(&who, &update, &state.config());
        state.to_json(Instant::now())
    };
    sandbox.failures_changed.notify_one();
    axum::Json(json!({
        "status": "updated",
        "config": body["current_config"],
        "since": body["since"],
        "ttl_remaining_s": body["ttl_remaining_s"],
    }))
    .into_response()
}

async fn reset(
    State(sandbox): State<Arc<Sandbox>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let who = match authorize(&sandbox, remote, &headers, "/api/reset") {
        Ok(who) => who,
        Err(refusal) => return refusal.into_response(),
    };
    // The patterns stay as they are: they are the participant's fix, not a failure
    // (`patterns/http.rs` says more).
    let previous = {
        let mut state = sandbox.failures();
        let previous = state.config();
        state.reset();
        previous
    };
    sandbox.failures_changed.notify_one();
    let freed = sandbox.leak.free_all();
    audit::reset(&who, &previous, freed);
    axum::Json(json!({"status": "reset complete", "freed_bytes": freed})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"secretsecret", b"secret"));
        assert!(!constant_time_eq(b"", b"secret"));
    }

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        for header in ["Bearer t0k", "bearer t0k", "BEARER   t0k ", "BeArEr\tt0k"] {
            assert_eq!(
                bearer_token(header.as_bytes()),
                Some(&b"t0k"[..]),
                "{header}"
            );
        }
        for header in ["Basic t0k", "Bearert0k", "t0k", ""] {
            assert_ne!(
                bearer_token(header.as_bytes()),
                Some(&b"t0k"[..]),
                "{header}"
            );
        }
    }
}
