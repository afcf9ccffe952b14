//! The provider's HTTP API: payments, health, metrics and its failure knobs. `down` is not
//! here: it closes connections before any route (`server.rs`).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::Provider;
use super::knobs::{self, ProviderFailures, ProviderKnob};
use super::store::Created;
use super::webhooks;
use crate::strict_json::{QUOTE_BYTES, account, amount_cents, bounded, parse_strict};

/// The largest payment (1,000,000.00), as FinCore's transfers.
const MAX_PAYMENT_CENTS: i64 = 100_000_000;
const MAX_BODY_BYTES: usize = 16 * 1024;

/// Paths still served while the provider is `down`, so the outage can be ended.
pub fn is_control(path: &str) -> bool {
    matches!(path, "/api/failures" | "/api/reset")
}

pub fn router(provider: Arc<Provider>) -> Router {
    Router::new()
        .route("/", get(discovery))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/v1/payments", post(create_payment))
        .route("/v1/payments/{id}", get(read_payment))
        .route("/api/failures", get(read_failures).post(set_failures))
        .route("/api/reset", post(reset))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "not found: see GET /") })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(provider)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

async fn discovery() -> Response {
    axum::Json(json!({
        "service": "payment-provider",
        "implementation": format!("gameday-provider {}", env!("CARGO_PKG_VERSION")),
        "endpoints": ["/", "/health", "/metrics", "/v1/payments", "/v1/payments/{id}",
                      "/api/failures", "/api/reset"],
        "failures": knobs::ALL.map(|spec| spec.name),
        "declines_above": webhooks::DECLINE_ABOVE_CENTS as f64 / 100.0,
    }))
    .into_response()
}

async fn health(State(provider): State<Arc<Provider>>) -> Response {
    provider.metrics.record("/health", 200);
    axum::Json(json!({"status": "healthy"})).into_response()
}

async fn metrics(State(provider): State<Arc<Provider>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        provider.metrics.render(&provider.failures()),
    )
        .into_response()
}

/// `{amount, account}`, nothing else; the error names the field.
fn parse_payment(body: &[u8]) -> Result<(i64, String), String> {
    let Value::Object(fields) = parse_strict(body)? else {
        return Err(
            "body must be a JSON object such as {\"amount\": 25.00, \"account\": \"ACC-002\"}"
                .to_string(),
        );
    };
    if let Some(unknown) = fields
        .keys()
        .find(|key| !matches!(key.as_str(), "amount" | "account"))
    {
        return Err(format!(
            "unknown field `{}`: expected amount, account",
            bounded(unknown, QUOTE_BYTES)
        ));
    }
    let amount = fields
        .get("amount")
        .ok_or("field `amount` is missing: expected a positive number with at most 2 decimals")?;
    let cents = amount_cents("amount", amount, MAX_PAYMENT_CENTS)?;
    let target = fields
        .get("account")
        .ok_or("field `account` is missing: expected an account number such as \"ACC-002\"")?;
    Ok((cents, account("account", target)?.to_string()))
}

async fn create_payment(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let response = answer_payment(&provider, &headers, &body).await;
    provider
        .metrics
        .record("/v1/payments", response.status().as_u16());
    response
}

/// The injected failures in the order a real provider meets them: its rate limiter at the
/// edge, then a slow backend, one that never answers, one that fails.
async fn answer_payment(provider: &Arc<Provider>, headers: &HeaderMap, body: &[u8]) -> Response {
    let failures = provider.failures();
    let limit = failures.millis(ProviderKnob::RateLimitPerS);
    if let Err(wait) = provider.admit(limit) {
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            format!("rate limit of {limit} requests per second exceeded"),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        return response;
    }
    let latency = failures.millis(ProviderKnob::LatencyMs);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if provider.failures().is_on(ProviderKnob::Timeout) {
        // Accepted and never answered, until the knob is cleared or the client gives up (then
        // this future is dropped with the connection).
        let mut changes = provider.failures.subscribe();
        let _ = changes
            .wait_for(|now: &ProviderFailures| !now.is_on(ProviderKnob::Timeout))
            .await;
    }
    if failures.chance(ProviderKnob::ErrorRate) {
        let status = if rand::random::<bool>() {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        return error(status, "simulated provider error (error_rate)");
    }
    let (cents, target) = match parse_payment(body) {
        Ok(parsed) => parsed,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let key = match crate::strict_json::idempotency_key(headers) {
        Ok(key) => key,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let created = provider.store().create(key.as_deref(), cents, &target);
    match created {
        Created::New(payment) => {
            provider
                .metrics
                .payments_created
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tokio::spawn(webhooks::settle_and_notify(
                Arc::clone(provider),
                payment.id.clone(),
            ));
            (StatusCode::CREATED, axum::Json(payment.to_json())).into_response()
        }
        Created::Replayed(payment) => {
            let mut response = (StatusCode::CREATED, axum::Json(payment.to_json())).into_response();
            response
                .headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            response
        }
        Created::KeyReused => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Idempotency-Key was already used for a different payment",
        ),
        Created::Full => error(
            StatusCode::INSUFFICIENT_STORAGE,
            "the provider holds its most payments: restart it",
        ),
    }
}

async fn read_payment(State(provider): State<Arc<Provider>>, Path(id): Path<String>) -> Response {
    let found = provider.store().get(&id).map(|payment| payment.to_json());
    let response = match found {
        Some(payment) => axum::Json(payment).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            format!("no payment `{}`", bounded(&id, QUOTE_BYTES)),
        ),
    };
    provider
        .metrics
        .record("/v1/payments/{id}", response.status().as_u16());
    response
}

async fn read_failures(State(provider): State<Arc<Provider>>) -> Response {
    axum::Json(json!({"current_config": provider.failures().to_json()})).into_response()
}

async fn set_failures(State(provider): State<Arc<Provider>>, body: Bytes) -> Response {
    let changes = match knobs::parse_update(&body) {
        Ok(changes) => changes,
        Err(message) => {
            tracing::warn!(event = "provider_failures_refused", reason = %message, "refused");
            return error(StatusCode::BAD_REQUEST, message);
        }
    };
    provider
        .failures
        .send_modify(|failures| failures.apply(&changes));
    let config = provider.failures().to_json();
    tracing::info!(event = "provider_failures_injected", config = %config, "provider failures set");
    axum::Json(json!({"status": "updated", "config": config})).into_response()
}

async fn reset(State(provider): State<Arc<Provider>>) -> Response {
    provider.failures.send_replace(ProviderFailures::default());
    tracing::info!(event = "provider_reset", "provider failures reset");
    axum::Json(json!({"status": "reset complete"})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payments_are_parsed_strictly() {
        assert_eq!(
            parse_payment(br#"{"amount": 12.5, "account": "ACC-002"}"#),
            Ok((1250, "ACC-002".to_string()))
        );
        for (body, expected) in [
            (r#"{"amount": 0, "account": "A"}"#, "field `amount`"),
            (r#"{"amount": 1.001, "account": "A"}"#, "field `amount`"),
            (r#"{"account": "A"}"#, "`amount` is missing"),
            (r#"{"amount": 1}"#, "`account` is missing"),
            (r#"{"amount": 1, "account": "a b"}"#, "field `account`"),
            (
                r#"{"amount": 1, "account": "A", "x": 1}"#,
                "unknown field `x`",
            ),
            (
                r#"{"amount": 1, "amount": 2, "account": "A"}"#,
                "duplicate field `amount`",
            ),
        ] {
            let err = parse_payment(body.as_bytes()).expect_err(body);
            assert!(err.contains(expected), "{body}: {err}");
        }
    }
}
