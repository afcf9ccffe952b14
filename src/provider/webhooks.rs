//! The provider's webhooks: after `webhook_delay_ms`, a payment is settled and its event posted
//! to FinCore, signed (or forged, at `webhook_forged_rate`), sometimes twice at once (at
//! `webhook_duplicate_rate`), retried with exponential backoff on a network error or a 5xx/429.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::json;

use super::Provider;
use super::knobs::ProviderKnob;
use super::signature;
use super::store::PaymentStatus;

/// How long one delivery attempt may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts per delivery, the first included: about 30 s of backoff in all, longer than a
/// cascade of 10 s calls keeps the webhook endpoint from answering.
const ATTEMPTS: u32 = 8;
/// The wait after the first failed attempt; doubled after each next one, with jitter.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// Payments above this (10,000.00) are declined: the one way a payment fails, so that a drill
/// can make one on purpose.
pub const DECLINE_ABOVE_CENTS: i64 = 1_000_000;

/// Settles `payment_id` (succeeded, or failed above [`DECLINE_ABOVE_CENTS`]) and sends its
/// event.
pub async fn settle_and_notify(provider: Arc<Provider>, payment_id: String) {
    let delay = provider.failures().millis(ProviderKnob::WebhookDelayMs);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let Some(payment) = provider.store().settle(&payment_id, |amount_cents| {
        if amount_cents > DECLINE_ABOVE_CENTS {
            PaymentStatus::Failed
        } else {
            PaymentStatus::Succeeded
        }
    }) else {
        return;
    };
    let event_bits: u64 = rand::random();
    let body = json!({
        "event_id": format!("evt_{event_bits:016x}"),
        "payment_id": payment.id,
        "status": payment.status.name(),
        "amount": payment.amount_cents as f64 / 100.0,
        "account": payment.account,
    })
    .to_string();
    let failures = provider.failures();
    let signature = if failures.chance(ProviderKnob::WebhookForgedRate) {
        provider
            .metrics
            .webhooks_forged
            .fetch_add(1, Ordering::Relaxed);
        // A signature of the right shape under a key FinCore does not have.
        signature::sign(b"not the shared secret", body.as_bytes())
    } else {
        signature::sign(provider.secret.expose().as_bytes(), body.as_bytes())
    };
    if failures.chance(ProviderKnob::WebhookDuplicateRate) {
        provider
            .metrics
            .webhooks_duplicated
            .fetch_add(1, Ordering::Relaxed);
        // Both copies at once: the receiver's worst case.
        tokio::join!(
            deliver(&provider, &body, &signature),
            deliver(&provider, &body, &signature)
        );
    } else {
        deliver(&provider, &body, &signature).await;
    }
}

/// Posts one event until it is taken (2xx) or refused (another 4xx), or attempts run out.
async fn deliver(provider: &Provider, body: &str, signature: &str) {
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let sent = provider
            .webhook_client
            .post(&provider.webhook_url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(signature::HEADER, signature)
            .body(body.to_string())
            .send()
            .await;
        let retry = match &sent {
            Ok(response) if response.status().is_success() => {
                provider
                    .metrics
                    .webhooks_delivered
                    .fetch_add(1, Ordering::Relaxed);
                return;
            }
            Ok(response) => {
                let status = response.status();
                status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS
            }
            Err(_) => true,
        };
        let outcome = match &sent {
            Ok(response) => response.status().as_u16().to_string(),
            Err(err) => err.to_string(),
        };
        if !retry || attempt == ATTEMPTS {
            provider
                .metrics
                .webhooks_abandoned
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                event = "webhook_abandoned",
                attempt,
                outcome = %outcome,
                "webhook not delivered after {attempt} attempt(s): {outcome}"
            );
            return;
        }
        provider
            .metrics
            .webhooks_retried
            .fetch_add(1, Ordering::Relaxed);
        tracing::info!(event = "webhook_retry", attempt, outcome = %outcome, "webhook attempt failed");
        let jitter = rand::random_range(0..=backoff.as_millis() as u64 / 2);
        tokio::time::sleep(backoff + Duration::from_millis(jitter)).await;
        backoff *= 2;
    }
}
