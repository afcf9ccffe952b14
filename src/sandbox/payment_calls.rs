//! A payment created at the provider through the resilience patterns, and how its failure is
//! answered. Both the payment endpoint and the fallback's completion call the provider here.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Sandbox;
use super::patterns::{PROVIDER, PatternError, UpstreamError};
use super::provider_client::{PaymentRequest, ProviderPayment};

/// `create_payment` through the patterns switched on. A create with an idempotency key is
/// idempotent (the provider answers a repeated key with the first payment), so it may be
/// retried. Calls the patterns refuse without calling are counted here; the others are
/// counted by the client.
pub async fn create_payment(
    sandbox: &Sandbox,
    request: &PaymentRequest,
) -> Result<ProviderPayment, PatternError> {
    let result = sandbox
        .patterns
        .call(PROVIDER, true, || sandbox.provider.create_payment(request))
        .await;
    match &result {
        Err(PatternError::BulkheadFull { .. }) => sandbox.upstream.record_rejected("bulkhead_full"),
        Err(PatternError::BreakerOpen { .. }) => sandbox.upstream.record_rejected("breaker_open"),
        _ => {}
    }
    result
}

/// The label of a failed call, as in `fintech_upstream_requests_total{outcome}`.
pub fn outcome(err: &PatternError) -> &'static str {
    match err {
        PatternError::BulkheadFull { .. } => "bulkhead_full",
        PatternError::BreakerOpen { .. } => "breaker_open",
        PatternError::Upstream { error, .. } => error.outcome(),
    }
}

/// Whole seconds, at least 1: a `Retry-After` of 0 would invite the client straight back.
fn retry_after_seconds(wait: std::time::Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// The answer to a payment the provider did not create: 503 at once when a pattern refused the
/// call (naming the bulkhead or the breaker, with `Retry-After`); 504 when the provider did not
/// answer in time; 422 when it refused the key as used for another payment; else 502. The
/// message names the failure.
pub fn failure_response(err: &PatternError) -> Response {
    let (status, pattern, retry_after) = match err {
        PatternError::BulkheadFull { .. } => {
            (StatusCode::SERVICE_UNAVAILABLE, Some("bulkhead"), Some(1))
        }
        PatternError::BreakerOpen { retry_in, .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("circuit_breaker"),
            Some(retry_in.map_or(1, retry_after_seconds)),
        ),
        PatternError::Upstream { error, .. } => {
            let status = match error {
                UpstreamError::Timeout => StatusCode::GATEWAY_TIMEOUT,
                UpstreamError::Refused { code: 422, .. } => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::BAD_GATEWAY,
            };
            (status, None, error.retry_after().map(|wait| wait.as_secs()))
        }
    };
    let mut body = json!({
        "error": format!("payment not created: {PROVIDER}: {err}"),
        "upstream": PROVIDER,
        "outcome": outcome(err),
    });
    if let Some(pattern) = pattern {
        body["pattern"] = pattern.into();
    }
    if let PatternError::Upstream { attempts, .. } = err {
        body["attempts"] = (*attempts).into();
    }
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(seconds));
    }
    response
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn refusals_by_a_pattern_are_503_naming_it_with_retry_after() {
        let full = failure_response(&PatternError::BulkheadFull {
            upstream: PROVIDER.into(),
            limit: 2,
        });
        assert_eq!(full.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(full.headers()["retry-after"], "1");
        let open = failure_response(&PatternError::BreakerOpen {
            upstream: PROVIDER.into(),
            retry_in: Some(Duration::from_millis(2300)),
        });
        assert_eq!(open.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(open.headers()["retry-after"], "3");
        let slow = failure_response(&PatternError::Upstream {
            error: UpstreamError::Timeout,
            attempts: 1,
        });
        assert_eq!(slow.status(), StatusCode::GATEWAY_TIMEOUT);
        let reused = failure_response(&PatternError::Upstream {
            error: UpstreamError::Refused {
                code: 422,
                reason: "key reused".into(),
            },
            attempts: 1,
        });
        assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let limited = failure_response(&PatternError::Upstream {
            error: UpstreamError::Status {
                code: 429,
                retry_after: Some(Duration::from_secs(2)),
            },
            attempts: 1,
        });
        assert_eq!(limited.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(limited.headers()["retry-after"], "2");
    }
}
