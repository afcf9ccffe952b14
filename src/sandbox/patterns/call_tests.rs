//! `Patterns::call` with attempts that fail as told, counting how often it tries; the real
//! upstream is in `tests/sandbox_patterns.rs`.

use std::cell::Cell;

use super::*;

fn patterns(body: &str) -> Patterns {
    let patterns = Patterns::new(&[PROVIDER]);
    patterns
        .apply_body(body.as_bytes())
        .expect("valid settings");
    patterns
}

fn unavailable() -> UpstreamError {
    UpstreamError::Status {
        code: 503,
        retry_after: None,
    }
}

#[tokio::test]
async fn everything_off_calls_once_and_passes_the_error_on() {
    let patterns = Patterns::new(&[PROVIDER]);
    let attempts = Cell::new(0);
    let result: Result<(), _> = patterns
        .call(PROVIDER, true, || async {
            attempts.set(attempts.get() + 1);
            Err(unavailable())
        })
        .await;
    assert_eq!(
        result,
        Err(PatternError::Upstream {
            error: unavailable(),
            attempts: 1
        })
    );
    assert_eq!(attempts.get(), 1);
    assert!(!patterns.fallback_enabled());
}

#[tokio::test]
async fn retries_only_idempotent_calls_and_counts_them() {
    let patterns =
        patterns(r#"{"retry": {"enabled": true, "max_attempts": 3, "base_ms": 1, "max_ms": 2}}"#);
    let attempts = Cell::new(0);
    let succeeds_third_time = || async {
        attempts.set(attempts.get() + 1);
        if attempts.get() < 3 {
            Err(unavailable())
        } else {
            Ok(attempts.get())
        }
    };
    assert_eq!(
        patterns.call(PROVIDER, true, succeeds_third_time).await,
        Ok(3)
    );
    assert_eq!(patterns.figures(PROVIDER).map(|f| f.retries), Some(2));

    attempts.set(0);
    let result = patterns.call(PROVIDER, false, succeeds_third_time).await;
    assert!(matches!(
        result,
        Err(PatternError::Upstream { attempts: 1, .. })
    ));
    assert_eq!(attempts.get(), 1, "not idempotent: one attempt");

    attempts.set(0);
    let result: Result<(), _> = patterns
        .call(PROVIDER, true, || async {
            attempts.set(attempts.get() + 1);
            Err(UpstreamError::Refused {
                code: 400,
                reason: "declined".into(),
            })
        })
        .await;
    assert!(matches!(
        result,
        Err(PatternError::Upstream { attempts: 1, .. })
    ));
    assert_eq!(attempts.get(), 1, "a refusal is not retried");
}

#[tokio::test]
async fn a_retry_after_beyond_max_ms_ends_the_retries_at_once() {
    let patterns = patterns(r#"{"retry": {"enabled": true, "max_attempts": 5, "max_ms": 500}}"#);
    let attempts = Cell::new(0);
    let result: Result<(), _> = patterns
        .call(PROVIDER, true, || async {
            attempts.set(attempts.get() + 1);
            Err(UpstreamError::Status {
                code: 429,
                retry_after: Some(std::time::Duration::from_secs(30)),
            })
        })
        .await;
    assert!(matches!(
        result,
        Err(PatternError::Upstream { attempts: 1, .. })
    ));
    assert_eq!(attempts.get(), 1, "no 30 s wait, no second attempt");
}

#[tokio::test]
async fn the_breaker_opening_stops_the_retries_and_refuses_the_next_call() {
    let patterns = patterns(
        r#"{"retry": {"enabled": true, "max_attempts": 10, "base_ms": 1, "max_ms": 1},
            "circuit_breaker": {"enabled": true, "min_calls": 3, "failure_ratio": 1, "open_s": 60}}"#,
    );
    let attempts = Cell::new(0);
    let failing = || async {
        attempts.set(attempts.get() + 1);
        Err::<(), _>(UpstreamError::Timeout)
    };
    let result = patterns.call(PROVIDER, true, failing).await;
    assert!(
        matches!(
            result,
            Err(PatternError::BreakerOpen {
                retry_in: Some(_),
                ..
            })
        ),
        "{result:?}"
    );
    assert_eq!(attempts.get(), 3, "the breaker opened at min_calls");
    let again = patterns.call(PROVIDER, true, failing).await;
    assert!(matches!(again, Err(PatternError::BreakerOpen { .. })));
    assert_eq!(attempts.get(), 3, "refused without calling");
    let figures = patterns.figures(PROVIDER).expect("known upstream");
    assert_eq!(figures.breaker, BreakerState::Open);
    let json = patterns.to_json();
    let breaker = &json["upstreams"]["provider"]["circuit_breaker"];
    assert_eq!(breaker["state"], "open");
    assert_eq!(breaker["transitions"][0]["to"], "open");
    assert!(breaker["transitions"][0]["at"].is_string());

    // Switched off, the breaker closes and lets calls through again.
    patterns
        .apply_body(br#"{"circuit_breaker": {"enabled": false}}"#)
        .expect("valid");
    assert_eq!(
        patterns.figures(PROVIDER).map(|f| f.breaker),
        Some(BreakerState::Closed)
    );
    let json = patterns.to_json();
    assert_eq!(
        json["upstreams"]["provider"]["circuit_breaker"]["transitions"][1]["reason"],
        "switched off"
    );
}

#[tokio::test]
async fn the_bulkhead_refuses_before_the_breaker_or_the_upstream_is_asked() {
    let patterns = patterns(r#"{"bulkhead": {"enabled": true, "max_concurrent": 1}}"#);
    let upstream = patterns.upstream(PROVIDER);
    let _held = upstream.bulkhead.try_enter(None).expect("a place");
    let called = Cell::new(false);
    let result: Result<(), _> = patterns
        .call(PROVIDER, true, || async {
            called.set(true);
            Ok(())
        })
        .await;
    assert_eq!(
        result,
        Err(PatternError::BulkheadFull {
            upstream: PROVIDER.to_string(),
            limit: 1
        })
    );
    assert!(!called.get());
    assert_eq!(patterns.figures(PROVIDER).map(|f| f.rejected), Some(1));
}

#[tokio::test]
async fn a_refused_body_changes_nothing() {
    let patterns = patterns(r#"{"timeout": {"enabled": true, "ms": 250}}"#);
    let before = patterns.config();
    let err = patterns
        .apply_body(br#"{"bulkhead": {"enabled": true}, "timeout": {"ms": 0}}"#)
        .expect_err("bad timeout");
    assert!(err.contains("`timeout.ms`"), "{err}");
    assert_eq!(patterns.config(), before);
    let mut metrics = String::new();
    patterns.render_metrics(&mut metrics);
    assert!(metrics.contains("fintech_pattern_enabled{pattern=\"timeout\"} 1\n"));
    assert!(metrics.contains("fintech_pattern_enabled{pattern=\"bulkhead\"} 0\n"));
}
