//! FinCore's one call to the payment provider, with its own connection pool. Every call is
//! measured here and its failure classified as the patterns' [`UpstreamError`]; the resilience
//! patterns wrap [`ProviderClient::create_payment`] and nothing else. Without them a call has no timeout but [`SAFETY_CAP`], so a slow provider holds the
//! worker that made it: the cascade the workshop teaches.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::patterns::UpstreamError;
use super::patterns::upstream_error::parse_retry_after;
use super::upstream_metrics::UpstreamMetrics;
use crate::fincore::body::{BodyCap, read_capped};

/// The longest any provider call may take, patterns or not: only so that nothing waits forever.
pub const SAFETY_CAP: Duration = Duration::from_secs(60);
/// Below the provider's own 10 s idle close, so a pooled connection is never reused just as
/// the provider closes it.
const POOL_IDLE: Duration = Duration::from_secs(5);
/// The largest answer read from the provider: a payment or an error is a few hundred bytes.
const ANSWER_CAP: BodyCap = BodyCap::of(64 << 10);
/// The health probe behind `fintech_upstream_up`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What FinCore asks the provider to collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRequest {
    pub amount_cents: i64,
    pub account: String,
    pub idempotency_key: String,
}

/// The provider's answer to a created payment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProviderPayment {
    pub id: String,
    pub status: String,
}

pub struct ProviderClient {
    base: String,
    http: reqwest::Client,
    metrics: Arc<UpstreamMetrics>,
}

impl ProviderClient {
    pub fn new(base: &str, metrics: Arc<UpstreamMetrics>) -> Result<ProviderClient, String> {
        let http = crate::fincore::tls::build_client(|builder| {
            builder.timeout(SAFETY_CAP).pool_idle_timeout(POOL_IDLE)
        })
        .map_err(|err| format!("cannot build the provider client: {err}"))?;
        Ok(ProviderClient {
            base: base.trim_end_matches('/').to_string(),
            http,
            metrics,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// `POST /v1/payments` with the request's idempotency key, measured.
    pub async fn create_payment(
        &self,
        request: &PaymentRequest,
    ) -> Result<ProviderPayment, UpstreamError> {
        let mut measured = Measured {
            metrics: &self.metrics,
            started: Instant::now(),
            outcome: None,
        };
        let result = self.send(request).await;
        measured.outcome = Some(match &result {
            Ok(_) => "success",
            Err(err) => err.outcome(),
        });
        result
    }

    async fn send(&self, request: &PaymentRequest) -> Result<ProviderPayment, UpstreamError> {
        let body = serde_json::json!({
            "amount": request.amount_cents as f64 / 100.0,
            "account": request.account,
        });
        let response = self
            .http
            .post(format!("{}/v1/payments", self.base))
            .header("idempotency-key", &request.idempotency_key)
            .json(&body)
            .send()
            .await
            .map_err(classify)?;
        let status = response.status();
        if status != reqwest::StatusCode::CREATED {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(parse_retry_after);
            let reason = answer_error(response).await;
            return Err(UpstreamError::from_status(
                status.as_u16(),
                retry_after,
                &reason,
            ));
        }
        // A body cut short or too long is as broken an answer as one that is not a payment.
        let text = read_capped(response, ANSWER_CAP)
            .await
            .map_err(UpstreamError::Malformed)?;
        serde_json::from_str::<ProviderPayment>(&text)
            .map_err(|err| UpstreamError::Malformed(err.to_string()))
    }

    /// Whether the provider answers its health check now.
    pub async fn probe(&self) -> bool {
        self.http
            .get(format!("{}/health", self.base))
            .timeout(PROBE_TIMEOUT)
            .send()
            .await
            .is_ok_and(|response| response.status().is_success())
    }
}

/// Records one call when it ends, or as a timeout when it is dropped unfinished: the patterns'
/// timeout drops the attempt it gave up on.
struct Measured<'a> {
    metrics: &'a UpstreamMetrics,
    started: Instant,
    outcome: Option<&'static str>,
}

impl Drop for Measured<'_> {
    fn drop(&mut self) {
        self.metrics
            .record_call(self.outcome.unwrap_or("timeout"), self.started.elapsed());
    }
}

/// The provider's `{"error": ...}` of a refused request, cut short, or its status's reason.
async fn answer_error(response: reqwest::Response) -> String {
    let status = response.status();
    let fallback = status.canonical_reason().unwrap_or("no reason").to_string();
    let body = read_capped(response, ANSWER_CAP)
        .await
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
    match body {
        Some(body) => body["error"]
            .as_str()
            .map(|message| super::bodies::bounded(message, super::bodies::QUOTE_BYTES))
            .unwrap_or(fallback),
        None => fallback,
    }
}

/// A request that got no answer: too slow, or no connection, or one closed unanswered (a
/// provider that is down) — the last two both say the provider cannot be reached.
fn classify(err: reqwest::Error) -> UpstreamError {
    if err.is_timeout() {
        UpstreamError::Timeout
    } else if err.is_connect() {
        UpstreamError::Connect(root_cause(&err))
    } else {
        UpstreamError::Connect(format!(
            "connection closed without an answer ({})",
            root_cause(&err)
        ))
    }
}

/// The innermost error's text: reqwest's own says only "error sending request".
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
