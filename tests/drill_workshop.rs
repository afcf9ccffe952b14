//! The latency drill against the workshop-shaped service (gunicorn + Flask + PostgreSQL) with
//! 1 and with 2 workers, at a participant's pace (`support::workshop_drill`). The other
//! shipped cases run the same way in `drill_workshop_cases.rs`.
//!
//! With 2 workers each scrape of `/metrics` sees one worker's histograms; the scrape source
//! tells them apart by their start time, so the figures settle and the drill recovers too.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use support::workshop_drill::drill_at_a_participants_pace;

#[test]
fn the_latency_drill_on_one_worker_at_a_participants_pace() {
    drill_at_a_participants_pace("latency", 1, &[]);
}

#[test]
fn the_latency_drill_on_two_workers_at_a_participants_pace() {
    drill_at_a_participants_pace("latency", 2, &[]);
}
