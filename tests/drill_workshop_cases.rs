//! Every other shipped case against the workshop-shaped service (gunicorn + Flask +
//! PostgreSQL), as `drill_workshop.rs` runs the latency case: at a participant's pace with
//! short phases, on 1 and on 2 workers. Cases the workshop service cannot run are refused
//! before anything is injected, with the reason on screen.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use support::workshop::Workshop;
use support::workshop_drill::{drill_at_a_participants_pace, refused_on_the_workshop};

#[test]
fn the_error_rate_drill_on_one_worker() {
    drill_at_a_participants_pace("error-rate", 1, &[]);
}

#[test]
fn the_error_rate_drill_on_two_workers() {
    drill_at_a_participants_pace("error-rate", 2, &[]);
}

#[test]
fn the_slow_db_drill_on_one_worker() {
    drill_at_a_participants_pace("slow-db", 1, &[]);
}

#[test]
fn the_slow_db_drill_on_two_workers() {
    drill_at_a_participants_pace("slow-db", 2, &[]);
}

/// Chaos's 10 % of errors on a service we did not start: at most 2 requests in flight and
/// 2.8 s each make about 0.07 errors a second, so over the 15 s window the error ratio is 0
/// or 0.1 and more by chance; a participant who acts 12 s after the injection may never see
/// it cross 0.05. Latency and open transactions always show the fault.
const CHAOS_MAY_STAY: &[&str] = &["error_ratio"];

#[test]
fn the_chaos_drill_on_one_worker() {
    drill_at_a_participants_pace("chaos", 1, CHAOS_MAY_STAY);
}

#[test]
fn the_chaos_drill_on_two_workers() {
    drill_at_a_participants_pace("chaos", 2, CHAOS_MAY_STAY);
}

#[test]
fn cases_the_workshop_service_cannot_run_are_refused_with_the_reason() {
    let workshop = Workshop::with_workers(1);
    refused_on_the_workshop(
        &workshop,
        "db-down",
        "needs the sandbox, or Docker (--docker)",
    );
    refused_on_the_workshop(&workshop, "pool-exhaustion", "needs gameday's own sandbox");
    refused_on_the_workshop(
        &workshop,
        "memory-leak",
        "needs a memory limit and restarts",
    );
    // The workshop service has no payment provider and no patterns to switch.
    refused_on_the_workshop(&workshop, "cascade", "needs a payment provider");
    refused_on_the_workshop(&workshop, "duplicate-webhook", "needs a payment provider");
    refused_on_the_workshop(&workshop, "provider-outage", "needs a payment provider");
    refused_on_the_workshop(&workshop, "db-restart", "needs gameday's own sandbox");
}
