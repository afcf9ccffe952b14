//! How a call to an upstream (the payment provider) failed, and how a call through the
//! patterns failed. The classification decides what the patterns do with a failure: retry it,
//! count it against the upstream's health, or neither.

use std::fmt;
use std::time::Duration;

/// The longest `Retry-After` read from an answer; a larger one is read as this (a provider
/// asking for hours is asking us to stop, which the retry's own cap then does).
const RETRY_AFTER_READ_CAP: Duration = Duration::from_secs(3600);

/// One failed call to an upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamError {
    /// No answer in time (the pattern's timeout or the client's own).
    Timeout,
    /// The upstream answered with a status that says it is failing or overloaded: 5xx, 429 or
    /// 408, with its `Retry-After` if it gave one.
    Status {
        code: u16,
        retry_after: Option<Duration>,
    },
    /// No connection, or the connection broke or was closed before an answer (a provider that
    /// is down closes it unanswered).
    Connect(String),
    /// The upstream answered success with a body that is not what it promised: it is broken,
    /// so this counts against it; a retry is safe for an idempotent call.
    Malformed(String),
    /// The upstream answered and refused this request (another 4xx: bad request, key reused):
    /// the request's fault, so it is never retried and does not count against the upstream.
    Refused { code: u16, reason: String },
}

impl UpstreamError {
    /// The error for an answer with a status that is not a success.
    pub fn from_status(code: u16, retry_after: Option<Duration>, reason: &str) -> Self {
        if code >= 500 || code == 429 || code == 408 {
            UpstreamError::Status { code, retry_after }
        } else {
            UpstreamError::Refused {
                code,
                reason: reason.to_string(),
            }
        }
    }

    /// The error for a request reqwest could not complete.
    pub fn from_reqwest(err: &reqwest::Error) -> Self {
        if err.is_timeout() {
            UpstreamError::Timeout
        } else if let Some(status) = err.status() {
            UpstreamError::from_status(status.as_u16(), None, &err.to_string())
        } else {
            UpstreamError::Connect(err.to_string())
        }
    }

    /// Whether trying again may succeed: the upstream did not refuse the request itself.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, UpstreamError::Refused { .. })
    }

    /// Whether the failure says the upstream is unhealthy (the circuit breaker counts it).
    pub fn counts_against_upstream(&self) -> bool {
        !matches!(self, UpstreamError::Refused { .. })
    }

    /// The label of `fintech_upstream_requests_total{outcome}`.
    pub fn outcome(&self) -> &'static str {
        match self {
            UpstreamError::Timeout => "timeout",
            UpstreamError::Status { code: 429, .. } => "http_429",
            UpstreamError::Status { code, .. } if *code >= 500 => "http_5xx",
            UpstreamError::Status { .. } => "http_408",
            UpstreamError::Connect(_) => "connect_error",
            UpstreamError::Malformed(_) => "malformed",
            UpstreamError::Refused { .. } => "http_4xx",
        }
    }

    /// How long the upstream asked us to wait before the next attempt.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            UpstreamError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// `Retry-After` in its seconds form (RFC 9110 §10.2.3). The date form is not read: a
/// provider on the same machine has no reason to send it, and a wrong clock would misread it.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .map(|seconds| Duration::from_secs(seconds).min(RETRY_AFTER_READ_CAP))
}

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpstreamError::Timeout => write!(f, "no answer in time"),
            UpstreamError::Status {
                code,
                retry_after: Some(after),
            } => write!(f, "status {code}, retry after {} s", after.as_secs()),
            UpstreamError::Status { code, .. } => write!(f, "status {code}"),
            UpstreamError::Connect(reason) => write!(f, "cannot connect: {reason}"),
            UpstreamError::Malformed(reason) => write!(f, "malformed answer: {reason}"),
            UpstreamError::Refused { code, reason } => {
                write!(f, "refused with status {code}: {reason}")
            }
        }
    }
}

/// A call through the patterns that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// The bulkhead was full: refused at once, the upstream was not called.
    BulkheadFull { upstream: String, limit: usize },
    /// The circuit breaker is open (or half-open with its probes taken): refused at once.
    /// `retry_in`: when it lets a probe through, if it knows.
    BreakerOpen {
        upstream: String,
        retry_in: Option<Duration>,
    },
    /// The upstream failed, after `attempts` attempts.
    Upstream { error: UpstreamError, attempts: u32 },
}

impl PatternError {
    /// Whether the upstream could not be reached or did not work, as opposed to refusing the
    /// request: the case where a fallback (accept now, complete later) applies.
    pub fn upstream_unavailable(&self) -> bool {
        match self {
            PatternError::BulkheadFull { .. } | PatternError::BreakerOpen { .. } => true,
            PatternError::Upstream { error, .. } => error.counts_against_upstream(),
        }
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::BulkheadFull { upstream, limit } => write!(
                f,
                "{upstream}: bulkhead full ({limit} calls in flight), refused without calling"
            ),
            PatternError::BreakerOpen {
                upstream,
                retry_in: Some(after),
            } => write!(
                f,
                "{upstream}: circuit breaker open, next probe in {:.1} s",
                after.as_secs_f64()
            ),
            PatternError::BreakerOpen { upstream, .. } => {
                write!(f, "{upstream}: circuit breaker half-open, probes in flight")
            }
            PatternError::Upstream { error, attempts: 1 } => write!(f, "{error}"),
            PatternError::Upstream { error, attempts } => {
                write!(f, "{error} (after {attempts} attempts)")
            }
        }
    }
}

impl std::error::Error for PatternError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_upstream_failures_or_refusals() {
        for code in [500, 502, 503, 504, 429, 408] {
            let error = UpstreamError::from_status(code, None, "x");
            assert!(matches!(error, UpstreamError::Status { .. }), "{code}");
            assert!(error.is_retryable() && error.counts_against_upstream());
        }
        for code in [400, 401, 402, 404, 409, 422] {
            let error = UpstreamError::from_status(code, None, "declined");
            assert!(matches!(error, UpstreamError::Refused { .. }), "{code}");
            assert_eq!(error.outcome(), "http_4xx");
            assert!(!error.is_retryable() && !error.counts_against_upstream());
        }
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_capped() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("0"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("999999"), Some(RETRY_AFTER_READ_CAP));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }

    #[test]
    fn a_fallback_applies_only_when_the_upstream_is_unavailable() {
        let refused = PatternError::Upstream {
            error: UpstreamError::Refused {
                code: 400,
                reason: "declined".into(),
            },
            attempts: 1,
        };
        assert!(!refused.upstream_unavailable());
        let timeout = PatternError::Upstream {
            error: UpstreamError::Timeout,
            attempts: 3,
        };
        assert!(timeout.upstream_unavailable());
        let broken = PatternError::Upstream {
            error: UpstreamError::Malformed("not JSON".into()),
            attempts: 1,
        };
        assert!(broken.upstream_unavailable());
        assert_eq!(timeout.to_string(), "no answer in time (after 3 attempts)");
        assert!(
            PatternError::BulkheadFull {
                upstream: "provider".into(),
                limit: 4
            }
            .upstream_unavailable()
        );
    }
}
