//! When to try again: exponential backoff with full jitter, and the upstream's `Retry-After`
//! taken as the least wait.

use std::time::Duration;

use super::settings::RetrySettings;
use super::upstream_error::UpstreamError;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// Give up with this error: why.
    GiveUp(GiveUpReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUpReason {
    /// Retry is off, or the call is not idempotent.
    NotRetried,
    /// The upstream refused the request itself; the same request would be refused again.
    NotRetryable,
    AttemptsUsed,
    /// The upstream asked for a longer wait than `max_ms`: waiting less would break its
    /// request, waiting more would hold the caller too long.
    RetryAfterTooLong,
}

/// After attempt number `attempt` (1 for the first) failed with `error`: retry when, or give
/// up. `random` is uniform in [0, 1), for the jitter.
pub fn next_step(
    settings: &RetrySettings,
    idempotent: bool,
    attempt: u32,
    error: &UpstreamError,
    random: f64,
) -> NextStep {
    if !settings.enabled || !idempotent {
        return NextStep::GiveUp(GiveUpReason::NotRetried);
    }
    if !error.is_retryable() {
        return NextStep::GiveUp(GiveUpReason::NotRetryable);
    }
    if attempt >= settings.max_attempts {
        return NextStep::GiveUp(GiveUpReason::AttemptsUsed);
    }
    let max = Duration::from_millis(settings.max_ms);
    let backoff = backoff(settings, attempt);
    let wait = if settings.jitter {
        backoff.mul_f64(random.clamp(0.0, 1.0))
    } else {
        backoff
    };
    match error.retry_after() {
        Some(asked) if asked > max => NextStep::GiveUp(GiveUpReason::RetryAfterTooLong),
        Some(asked) => NextStep::RetryAfter(wait.max(asked)),
        None => NextStep::RetryAfter(wait),
    }
}

/// `base_ms × 2^(attempt − 1)`, at most `max_ms`: the ceiling of the wait after `attempt`.
pub fn backoff(settings: &RetrySettings, attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(32);
    let millis = settings
        .base_ms
        .saturating_mul(1u64 << doublings)
        .min(settings.max_ms);
    Duration::from_millis(millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(jitter: bool) -> RetrySettings {
        RetrySettings {
            enabled: true,
            max_attempts: 5,
            base_ms: 100,
            max_ms: 1000,
            jitter,
        }
    }

    const UNAVAILABLE: UpstreamError = UpstreamError::Status {
        code: 503,
        retry_after: None,
    };

    fn wait(step: NextStep) -> Duration {
        match step {
            NextStep::RetryAfter(wait) => wait,
            NextStep::GiveUp(reason) => panic!("gave up: {reason:?}"),
        }
    }

    #[test]
    fn backoff_doubles_up_to_max() {
        let waits: Vec<u64> = (1..=6)
            .map(|attempt| backoff(&settings(false), attempt).as_millis() as u64)
            .collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(
            backoff(&settings(false), u32::MAX),
            Duration::from_millis(1000)
        );
    }

    #[test]
    fn full_jitter_spreads_the_wait_between_zero_and_the_backoff() {
        let settings = settings(true);
        let step = |random| next_step(&settings, true, 3, &UNAVAILABLE, random);
        assert_eq!(wait(step(0.0)), Duration::ZERO);
        assert_eq!(wait(step(0.5)), Duration::from_millis(200));
        assert!(wait(step(0.999)) < Duration::from_millis(400));
    }

    #[test]
    fn retry_after_is_the_least_wait_and_too_long_a_one_ends_the_retries() {
        let settings = settings(true);
        let asked = |seconds: f64| UpstreamError::Status {
            code: 429,
            retry_after: Some(Duration::from_secs_f64(seconds)),
        };
        assert_eq!(
            wait(next_step(&settings, true, 1, &asked(0.7), 0.1)),
            Duration::from_millis(700)
        );
        assert_eq!(
            next_step(&settings, true, 1, &asked(2.0), 0.1),
            NextStep::GiveUp(GiveUpReason::RetryAfterTooLong)
        );
    }

    #[test]
    fn only_idempotent_calls_with_retry_on_are_retried_and_only_so_often() {
        let on = settings(false);
        let off = RetrySettings {
            enabled: false,
            ..on
        };
        let not_retried = NextStep::GiveUp(GiveUpReason::NotRetried);
        assert_eq!(next_step(&off, true, 1, &UNAVAILABLE, 0.5), not_retried);
        assert_eq!(next_step(&on, false, 1, &UNAVAILABLE, 0.5), not_retried);
        assert_eq!(
            next_step(
                &on,
                true,
                1,
                &UpstreamError::Refused {
                    code: 400,
                    reason: "declined".into(),
                },
                0.5
            ),
            NextStep::GiveUp(GiveUpReason::NotRetryable)
        );
        assert_eq!(
            wait(next_step(&on, true, 4, &UpstreamError::Timeout, 0.5)),
            Duration::from_millis(800)
        );
        assert_eq!(
            next_step(&on, true, 5, &UpstreamError::Timeout, 0.5),
            NextStep::GiveUp(GiveUpReason::AttemptsUsed)
        );
    }
}
