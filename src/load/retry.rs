//! How clients retry a failed request in a retry storm: which outcomes count as failures, how
//! many retries, and how long to wait before each. No jitter on purpose: naive clients retry in
//! step, which is what turns a partial outage into a storm.

use std::time::Duration;

/// Transport errors and timeouts are recorded under this status.
pub const TRANSPORT_ERROR: u16 = 0;
/// The longest wait before a retry, however many came before.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; a request makes at most `1 + max_retries` attempts.
    pub max_retries: u32,
    /// The wait before the first retry; it doubles before each further one.
    pub backoff: Duration,
    /// How long one attempt may take before the client gives up on it (a failure, retried).
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            backoff: Duration::from_millis(100),
            attempt_timeout: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// Whether a client retries after this outcome: server errors (5xx) and transport errors or
    /// timeouts; a 4xx is the client's own fault and is not retried.
    pub fn is_retryable(status: u16) -> bool {
        status == TRANSPORT_ERROR || status >= 500
    }

    /// The wait before retry number `retry` (1 for the first retry).
    pub fn delay_before(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(16);
        self.backoff.saturating_mul(1 << doublings).min(MAX_BACKOFF)
    }

    /// Whether an attempt numbered `attempt` (0 for the first) that ended in `status` is
    /// followed by another.
    pub fn retries_after(&self, attempt: u32, status: u16) -> bool {
        Self::is_retryable(status) && attempt < self.max_retries
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.max_retries > 10 {
            return Err(format!(
                "--retries {}: expected 0 to 10 retries per request",
                self.max_retries
            ));
        }
        if self.backoff > MAX_BACKOFF {
            return Err("--retry-backoff: expected at most 30s".to_string());
        }
        if self.attempt_timeout < Duration::from_millis(10)
            || self.attempt_timeout > Duration::from_secs(600)
        {
            return Err("--timeout: expected 10ms to 10m per attempt".to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy {
            max_retries: 5,
            backoff: Duration::from_millis(100),
            attempt_timeout: Duration::from_secs(1),
        };
        let delays: Vec<u128> = (1..=4)
            .map(|r| policy.delay_before(r).as_millis())
            .collect();
        assert_eq!(delays, [100, 200, 400, 800]);
        assert_eq!(policy.delay_before(40), MAX_BACKOFF);
        let none = RetryPolicy {
            backoff: Duration::ZERO,
            ..policy
        };
        assert_eq!(none.delay_before(3), Duration::ZERO);
    }

    #[test]
    fn only_server_and_transport_errors_are_retried_within_the_limit() {
        let policy = RetryPolicy {
            max_retries: 2,
            ..RetryPolicy::default()
        };
        assert!(policy.retries_after(0, 500));
        assert!(policy.retries_after(1, 503));
        assert!(policy.retries_after(1, TRANSPORT_ERROR));
        assert!(!policy.retries_after(2, 500), "the limit is reached");
        assert!(!policy.retries_after(0, 200));
        assert!(!policy.retries_after(0, 422));
        let attempts = (0..)
            .take_while(|attempt| *attempt == 0 || policy.retries_after(attempt - 1, 500))
            .count();
        assert_eq!(attempts, 3, "one attempt and two retries");
    }

    #[test]
    fn bad_policies_say_what_is_expected() {
        let bad = RetryPolicy {
            max_retries: 50,
            ..RetryPolicy::default()
        };
        assert!(bad.validate().expect_err("too many").contains("0 to 10"));
        let bad = RetryPolicy {
            attempt_timeout: Duration::ZERO,
            ..RetryPolicy::default()
        };
        assert!(
            bad.validate()
                .expect_err("no timeout")
                .contains("10ms to 10m")
        );
        assert_eq!(RetryPolicy::default().validate(), Ok(()));
    }
}
