//! FinCore's one call to the payment provider, with its own connection pool. Every call is
//! measured here; the resilience patterns wrap [`ProviderClient::create_payment`] and nothing
//! else. Without them a call has no timeout but [`SAFETY_CAP`], so a slow provider holds the
//! worker that made it: the cascade the workshop teaches.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::upstream_metrics::UpstreamMetrics;

/// The longest any provider call may take, patterns or not: only so that nothing waits forever.
pub const SAFETY_CAP: Duration = Duration::from_secs(60);
/// Below the provider's own 10 s idle close, so a pooled connection is never reused just as
/// the provider closes it.
const POOL_IDLE: Duration = Duration::from_secs(5);
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

/// Why a call to the provider did not give a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamError {
    /// No answer in the time allowed.
    Timeout,
    /// An answer other than 201.
    Status {
        code: u16,
        retry_after: Option<Duration>,
    },
    /// No connection could be made (nothing listening, unreachable).
    Connect(String),
    /// Connected, but the connection was closed or reset without an answer (a provider that is
    /// down).
    Refused(String),
    /// A 201 whose body is not a payment.
    Malformed(String),
}

impl UpstreamError {
    /// The label of `fintech_upstream_requests_total{outcome}`.
    pub fn outcome(&self) -> &'static str {
        match self {
            UpstreamError::Timeout => "timeout",
            UpstreamError::Status { code: 429, .. } => "http_429",
            UpstreamError::Status { code, .. } if *code >= 500 => "http_5xx",
            UpstreamError::Status { .. } => "http_4xx",
            UpstreamError::Connect(_) => "connect_error",
            UpstreamError::Refused(_) => "refused",
            UpstreamError::Malformed(_) => "malformed",
        }
    }
}

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpstreamError::Timeout => f.write_str("the payment provider did not answer in time"),
            UpstreamError::Status {
                code,
                retry_after: Some(wait),
            } => write!(
                f,
                "the payment provider answered {code} (retry after {} s)",
                wait.as_secs()
            ),
            UpstreamError::Status { code, .. } => {
                write!(f, "the payment provider answered {code}")
            }
            UpstreamError::Connect(reason) => {
                write!(f, "cannot connect to the payment provider: {reason}")
            }
            UpstreamError::Refused(reason) => write!(
                f,
                "the payment provider closed the connection without an answer: {reason}"
            ),
            UpstreamError::Malformed(reason) => {
                write!(
                    f,
                    "the payment provider's answer is not a payment: {reason}"
                )
            }
        }
    }
}

pub struct ProviderClient {
    base: String,
    http: reqwest::Client,
    metrics: Arc<UpstreamMetrics>,
}

impl ProviderClient {
    pub fn new(base: &str, metrics: Arc<UpstreamMetrics>) -> Result<ProviderClient, String> {
        let http = crate::fincore::tls::client_builder()
            .timeout(SAFETY_CAP)
            .pool_idle_timeout(POOL_IDLE)
            .build()
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
        let started = Instant::now();
        let result = self.send(request).await;
        let outcome = match &result {
            Ok(_) => "success",
            Err(err) => err.outcome(),
        };
        self.metrics.record_call(outcome, started.elapsed());
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
                .and_then(|value| value.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Err(UpstreamError::Status {
                code: status.as_u16(),
                retry_after,
            });
        }
        let bytes = response.bytes().await.map_err(classify)?;
        serde_json::from_slice::<ProviderPayment>(&bytes)
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

fn classify(err: reqwest::Error) -> UpstreamError {
    if err.is_timeout() {
        UpstreamError::Timeout
    } else if err.is_connect() {
        UpstreamError::Connect(root_cause(&err))
    } else {
        UpstreamError::Refused(root_cause(&err))
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
