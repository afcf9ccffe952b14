//! Payments through the provider and its webhooks: `POST /api/payments`,
//! `GET /api/payments/{id}` and `POST /api/webhooks/provider`, each one of the service's
//! workers like the contract's endpoints, so a slow provider holds workers.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Sandbox;
use super::bodies::{QUOTE_BYTES, bounded, parse_strict, quoted};
use super::ledger::cents_to_amount;
use super::ledger_payments::{EventOutcome, StoredPayment, WebhookEvent};
use super::payment_calls::{self, failure_response};
use super::provider_client::PaymentRequest;
use super::routes::{Endpoint, db_faults, error, instrumented, ledger_failure, read_json_body};
use crate::provider::signature;
use crate::strict_json::{account, amount_cents};

/// The largest payment (1,000,000.00), as a transfer.
const MAX_PAYMENT_CENTS: i64 = super::bodies::MAX_TRANSFER_CENTS;

fn payment_json(payment: &StoredPayment) -> Value {
    json!({
        "id": payment.id,
        "status": payment.status,
        "amount": cents_to_amount(payment.amount_cents),
        "account": payment.account,
    })
}

/// The fields of a JSON object, refusing any not in `allowed`.
fn object(
    body: &[u8],
    example: &str,
    allowed: &[&str],
) -> Result<serde_json::Map<String, Value>, String> {
    let Value::Object(fields) = parse_strict(body)? else {
        return Err(format!("body must be a JSON object such as {example}"));
    };
    if let Some(unknown) = fields.keys().find(|key| !allowed.contains(&key.as_str())) {
        return Err(format!(
            "unknown field `{}`: expected {}",
            bounded(unknown, QUOTE_BYTES),
            allowed.join(", ")
        ));
    }
    Ok(fields)
}

fn field<'a>(
    fields: &'a serde_json::Map<String, Value>,
    name: &str,
    expected: &str,
) -> Result<&'a Value, String> {
    fields
        .get(name)
        .ok_or_else(|| format!("field `{name}` is missing: expected {expected}"))
}

/// `{amount, account}`, nothing else.
fn parse_payment(body: &[u8]) -> Result<(i64, String), String> {
    let fields = object(
        body,
        "{\"amount\": 25.00, \"account\": \"ACC-002\"}",
        &["amount", "account"],
    )?;
    let cents = amount_cents(
        "amount",
        field(
            &fields,
            "amount",
            "a positive number with at most 2 decimals",
        )?,
        MAX_PAYMENT_CENTS,
    )?;
    let target = account(
        "account",
        field(&fields, "account", "an account number such as \"ACC-002\"")?,
    )?;
    Ok((cents, target.to_string()))
}

/// An id of the provider's: 1 to 64 visible ASCII characters.
fn identifier(fields: &serde_json::Map<String, Value>, name: &str) -> Result<String, String> {
    let value = field(fields, name, "an id of 1 to 64 visible ASCII characters")?;
    value
        .as_str()
        .filter(|id| (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .ok_or_else(|| {
            format!(
                "field `{name}`: expected 1 to 64 visible ASCII characters; got {}",
                quoted(value)
            )
        })
}

/// A webhook's body: `{event_id, payment_id, status, amount, account}`.
fn parse_event(body: &[u8]) -> Result<WebhookEvent, String> {
    let fields = object(
        body,
        "{\"event_id\": \"evt_1\", \"payment_id\": \"pay_1\", \"status\": \"succeeded\", \
         \"amount\": 25.00, \"account\": \"ACC-002\"}",
        &["event_id", "payment_id", "status", "amount", "account"],
    )?;
    let event_id = identifier(&fields, "event_id")?;
    let payment_id = identifier(&fields, "payment_id")?;
    let status = field(&fields, "status", "\"succeeded\" or \"failed\"")?;
    let status = status
        .as_str()
        .filter(|status| matches!(*status, "succeeded" | "failed"))
        .ok_or_else(|| {
            format!(
                "field `status`: expected \"succeeded\" or \"failed\"; got {}",
                quoted(status)
            )
        })?;
    let cents = amount_cents(
        "amount",
        field(
            &fields,
            "amount",
            "a positive number with at most 2 decimals",
        )?,
        MAX_PAYMENT_CENTS,
    )?;
    let target = account("account", field(&fields, "account", "an account number")?)?;
    Ok(WebhookEvent {
        event_id,
        payment_id,
        status: status.to_string(),
        amount_cents: cents,
        account: target.to_string(),
    })
}

pub async fn create(
    State(sandbox): State<Arc<Sandbox>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    instrumented(sandbox, Endpoint::Payments, |sandbox, config| async move {
        let body = match read_json_body(&headers, body) {
            Ok(body) => body,
            Err(refusal) => return refusal.into_response(),
        };
        let (cents, target) = match parse_payment(&body) {
            Ok(parsed) => parsed,
            Err(message) => return error(StatusCode::BAD_REQUEST, message),
        };
        // A payment is retried by its client: without a key a retry would pay twice.
        let key = match crate::strict_json::idempotency_key(&headers) {
            Ok(Some(key)) => key,
            Ok(None) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "header `Idempotency-Key` is missing: a payment needs one, so that a retry \
                     cannot pay twice",
                );
            }
            Err(message) => return error(StatusCode::BAD_REQUEST, message),
        };
        match sandbox.ledger.payment_by_key(&key).await {
            Ok(Some(known)) if known.amount_cents == cents && known.account == target => {
                // Still waiting for the provider: the same 202 as when it was accepted.
                let status = match sandbox.ledger.is_waiting_fallback(&known.id).await {
                    Ok(true) => StatusCode::ACCEPTED,
                    Ok(false) => StatusCode::CREATED,
                    Err(err) => return ledger_failure(Endpoint::Payments, &err),
                };
                let mut response = (status, axum::Json(payment_json(&known))).into_response();
                response
                    .headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
                return response;
            }
            Ok(Some(_)) => {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Idempotency-Key was already used for a different payment",
                );
            }
            Ok(None) => {}
            Err(err) => return ledger_failure(Endpoint::Payments, &err),
        }
        let request = PaymentRequest {
            amount_cents: cents,
            account: target.clone(),
            idempotency_key: key.clone(),
        };
        let created = match payment_calls::create_payment(&sandbox, &request).await {
            Ok(created) => created,
            Err(err) if err.upstream_unavailable() && sandbox.patterns.fallback_enabled() => {
                return accept_pending(&sandbox, &key, cents, &target, &err, config).await;
            }
            Err(err) => {
                sandbox.upstream.record_payment("error");
                tracing::warn!(
                    event = "payment_upstream_failed",
                    outcome = payment_calls::outcome(&err),
                    reason = %err,
                    "payment not created: {err}"
                );
                return failure_response(&err);
            }
        };
        match sandbox
            .ledger
            .record_payment(&created.id, &key, cents, &target, db_faults(config))
            .await
        {
            Ok(stored) => {
                sandbox.upstream.record_payment("pending");
                (StatusCode::CREATED, axum::Json(payment_json(&stored))).into_response()
            }
            Err(err) => ledger_failure(Endpoint::Payments, &err),
        }
    })
    .await
}

/// The fallback: the provider cannot be reached, so the payment is stored as pending with its
/// key and answered 202; `fallback::complete_pending` creates it at the provider later.
async fn accept_pending(
    sandbox: &Sandbox,
    key: &str,
    cents: i64,
    target: &str,
    err: &super::patterns::PatternError,
    config: super::failures::FailureConfig,
) -> Response {
    match sandbox
        .ledger
        .accept_fallback(key, cents, target, db_faults(config))
        .await
    {
        Ok(stored) => {
            sandbox.upstream.record_payment("fallback_pending");
            tracing::warn!(
                event = "payment_fallback_pending",
                payment_id = %stored.id,
                outcome = payment_calls::outcome(err),
                reason = %err,
                "payment accepted as pending, the provider is unavailable: {err}"
            );
            let mut body = payment_json(&stored);
            body["fallback"] = true.into();
            body["reason"] = format!("{}: {err}", super::patterns::PROVIDER).into();
            (StatusCode::ACCEPTED, axum::Json(body)).into_response()
        }
        Err(err) => ledger_failure(Endpoint::Payments, &err),
    }
}

pub async fn read(State(sandbox): State<Arc<Sandbox>>, Path(id): Path<String>) -> Response {
    instrumented(sandbox, Endpoint::Payment, |sandbox, _config| async move {
        match sandbox.ledger.payment(&id).await {
            Ok(Some(payment)) => axum::Json(payment_json(&payment)).into_response(),
            Ok(None) => error(
                StatusCode::NOT_FOUND,
                format!("no payment `{}`", bounded(&id, QUOTE_BYTES)),
            ),
            Err(err) => ledger_failure(Endpoint::Payment, &err),
        }
    })
    .await
}

pub async fn webhook(
    State(sandbox): State<Arc<Sandbox>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    instrumented(sandbox, Endpoint::Webhook, move |sandbox, config| async move {
        let body = match read_json_body(&headers, body) {
            Ok(body) => body,
            Err(refusal) => {
                sandbox.upstream.record_webhook("rejected");
                return refusal.into_response();
            }
        };
        let signed = headers
            .get(signature::HEADER)
            .map(|value| value.as_bytes())
            .unwrap_or(b"");
        if !signature::verify(sandbox.provider_secret.expose().as_bytes(), &body, signed) {
            sandbox.upstream.record_webhook("rejected");
            let reason = if signed.is_empty() {
                "missing X-Signature"
            } else {
                "wrong signature"
            };
            tracing::warn!(
                event = "webhook_rejected",
                remote = %remote,
                reason,
                bytes = body.len(),
                "provider webhook refused: {reason}"
            );
            return error(
                StatusCode::BAD_REQUEST,
                format!("webhook refused: {reason} (expected sha256=<HMAC-SHA256 of the body>)"),
            );
        }
        let event = match parse_event(&body) {
            Ok(event) => event,
            Err(message) => {
                sandbox.upstream.record_webhook("rejected");
                tracing::warn!(event = "webhook_rejected", remote = %remote, reason = %message, "signed webhook with a bad body");
                return error(StatusCode::BAD_REQUEST, message);
            }
        };
        match sandbox.ledger.apply_event(&event, db_faults(config)).await {
            Ok(EventOutcome::Processed) => {
                sandbox.upstream.record_webhook("processed");
                sandbox.upstream.record_payment(if event.status == "succeeded" {
                    "succeeded"
                } else {
                    "failed"
                });
                axum::Json(json!({"status": "processed", "event_id": event.event_id}))
                    .into_response()
            }
            Ok(EventOutcome::Duplicate) => {
                sandbox.upstream.record_webhook("duplicate");
                axum::Json(json!({"status": "duplicate", "event_id": event.event_id}))
                    .into_response()
            }
            // A 5xx: the provider delivers again later, and nothing was recorded.
            Err(err) => ledger_failure(Endpoint::Webhook, &err),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_bodies_are_parsed_strictly() {
        let event = parse_event(
            br#"{"event_id":"evt_1","payment_id":"pay_1","status":"succeeded","amount":2.5,"account":"ACC-001"}"#,
        )
        .expect("valid");
        assert_eq!(event.amount_cents, 250);
        for (body, expected) in [
            (
                r#"{"payment_id":"p","status":"succeeded","amount":1,"account":"A"}"#,
                "`event_id` is missing",
            ),
            (
                r#"{"event_id":"e","payment_id":"p","status":"paid","amount":1,"account":"A"}"#,
                "field `status`",
            ),
            (
                r#"{"event_id":"e","payment_id":"p","status":"failed","amount":-1,"account":"A"}"#,
                "field `amount`",
            ),
            (
                r#"{"event_id":"e","event_id":"f","payment_id":"p","status":"failed","amount":1,"account":"A"}"#,
                "duplicate field `event_id`",
            ),
            (
                r#"{"event_id":"e","payment_id":"p","status":"failed","amount":1,"account":"A","x":1}"#,
                "unknown field `x`",
            ),
        ] {
            let err = parse_event(body.as_bytes()).expect_err(body);
            assert!(err.contains(expected), "{body}: {err}");
        }
        assert!(
            parse_payment(br#"{"amount": 1}"#)
                .expect_err("no account")
                .contains("`account` is missing")
        );
    }
}
