//! Completes the payments the fallback accepted as pending: a background task of the sandbox
//! that creates them at the provider, oldest first, through the patterns (an open breaker
//! ends the round at once), at most [`BATCH`] every [`EVERY`]. Once the provider has created
//! one, its webhook settles and credits it as any other payment. It runs whether or not the
//! fallback is still on: a payment accepted must be completed.

use std::sync::Arc;
use std::time::Duration;

use super::Sandbox;
use super::ledger_fallback::WaitingPayment;
use super::patterns::{PatternError, UpstreamError};
use super::payment_calls;
use super::provider_client::PaymentRequest;

/// How often the waiting payments are tried.
const EVERY: Duration = Duration::from_millis(500);
/// The most payments tried per round: at most 20 provider calls a second from here.
const BATCH: i64 = 10;

pub async fn complete_pending(sandbox: Arc<Sandbox>) {
    let mut every = tokio::time::interval(EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let waiting = match sandbox.ledger.waiting_fallbacks(BATCH).await {
            Ok(waiting) => waiting,
            Err(err) => {
                tracing::warn!(event = "fallback_read_failed", reason = %err, "cannot read the pending payments: {err}");
                continue;
            }
        };
        for payment in waiting {
            if !complete_one(&sandbox, &payment).await {
                break;
            }
        }
    }
}

/// Tries one payment; returns whether the provider can be tried again in this round.
async fn complete_one(sandbox: &Sandbox, payment: &WaitingPayment) -> bool {
    let request = PaymentRequest {
        amount_cents: payment.amount_cents,
        account: payment.account.clone(),
        idempotency_key: payment.idempotency_key.clone(),
    };
    match payment_calls::create_payment(sandbox, &request).await {
        Ok(created) => {
            match sandbox.ledger.link_fallback(payment, &created.id).await {
                Ok(true) => {
                    sandbox.upstream.record_payment("completed_late");
                    tracing::info!(
                        event = "fallback_payment_created",
                        payment_id = %payment.id,
                        provider_id = %created.id,
                        "pending payment {} created at the provider as {}",
                        payment.id,
                        created.id
                    );
                }
                Ok(false) => {}
                Err(err) => {
                    tracing::warn!(event = "fallback_link_failed", payment_id = %payment.id, reason = %err, "created at the provider, not yet recorded: {err}");
                }
            }
            true
        }
        Err(PatternError::Upstream {
            error: UpstreamError::Refused { code, reason },
            ..
        }) => {
            if let Ok(true) = sandbox.ledger.refuse_fallback(&payment.id).await {
                sandbox.upstream.record_payment("failed");
                tracing::warn!(
                    event = "fallback_payment_refused",
                    payment_id = %payment.id,
                    code,
                    reason = %reason,
                    "pending payment {} refused by the provider ({code})",
                    payment.id
                );
            }
            true
        }
        // Still unreachable (or the breaker says so): the next round tries again.
        Err(_) => false,
    }
}
