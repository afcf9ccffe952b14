//! The breaker on a fake clock: a start instant plus the seconds the test says.

use super::*;

struct FakeClock(Instant);

impl FakeClock {
    fn at(&self, seconds: f64) -> Instant {
        self.0 + Duration::from_secs_f64(seconds)
    }
}

fn settings(failure_ratio: f64, min_calls: u32) -> BreakerSettings {
    BreakerSettings {
        enabled: true,
        failure_ratio,
        window_s: 10,
        min_calls,
        open_s: 5,
        half_open_probes: 2,
    }
}

fn setup(failure_ratio: f64, min_calls: u32) -> (FakeClock, CircuitBreaker) {
    let clock = FakeClock(Instant::now());
    let breaker = CircuitBreaker::new("provider", settings(failure_ratio, min_calls), clock.0);
    (clock, breaker)
}

/// Admits a call at `t` and records its outcome at once.
fn call(breaker: &mut CircuitBreaker, at: Instant, failed: bool) -> bool {
    match breaker.admit(at) {
        Admission::Admitted(ticket) => {
            breaker.record(ticket, failed, at);
            true
        }
        Admission::Refused { .. } => false,
    }
}

fn states(breaker: &CircuitBreaker) -> Vec<(BreakerState, BreakerState)> {
    breaker.transitions().map(|t| (t.from, t.to)).collect()
}

#[test]
fn opens_at_the_ratio_once_the_window_holds_min_calls() {
    let (clock, mut breaker) = setup(0.5, 4);
    // 3 successes, then failures: 1 of 4 and 2 of 5 stay closed; 3 of 6 = 50 % opens.
    for _ in 0..3 {
        assert!(call(&mut breaker, clock.at(0.1), false));
    }
    for expected in [
        BreakerState::Closed,
        BreakerState::Closed,
        BreakerState::Open,
    ] {
        assert!(call(&mut breaker, clock.at(0.2), true));
        assert_eq!(breaker.state(clock.at(0.2)), expected);
    }
    let transition = breaker.transitions().last().expect("one transition");
    assert_eq!(transition.at, clock.at(0.2));
    assert!(
        transition.reason.contains("3 of 6"),
        "{}",
        transition.reason
    );
}

#[test]
fn below_min_calls_even_every_failure_keeps_it_closed() {
    let (clock, mut breaker) = setup(0.5, 5);
    for _ in 0..4 {
        assert!(call(&mut breaker, clock.at(1.0), true));
    }
    assert_eq!(breaker.state(clock.at(1.0)), BreakerState::Closed);
    assert!(call(&mut breaker, clock.at(1.0), true));
    assert_eq!(breaker.state(clock.at(1.0)), BreakerState::Open);
}

#[test]
fn failures_older_than_the_window_do_not_count() {
    let (clock, mut breaker) = setup(0.5, 4);
    for _ in 0..3 {
        call(&mut breaker, clock.at(0.5), true);
    }
    // Ten seconds later those three are out of the window: one more failure is 1 of 1.
    call(&mut breaker, clock.at(10.5), true);
    assert_eq!(breaker.state(clock.at(10.5)), BreakerState::Closed);
    // Within 10 s of each other they add up.
    for _ in 0..3 {
        call(&mut breaker, clock.at(19.0), true);
    }
    assert_eq!(breaker.state(clock.at(19.0)), BreakerState::Open);
}

#[test]
fn open_refuses_then_half_opens_after_open_s() {
    let (clock, mut breaker) = setup(0.5, 2);
    call(&mut breaker, clock.at(0.0), true);
    call(&mut breaker, clock.at(1.0), true);
    assert_eq!(breaker.state(clock.at(1.0)), BreakerState::Open);
    match breaker.admit(clock.at(4.0)) {
        Admission::Refused { retry_in } => assert_eq!(retry_in, Some(Duration::from_secs(2))),
        other => panic!("admitted while open: {other:?}"),
    }
    // Read at 9 s, it half-opened at 6 s (1 s + open_s), and says so.
    assert_eq!(breaker.state(clock.at(9.0)), BreakerState::HalfOpen);
    let transition = breaker.transitions().last().expect("half-open");
    assert_eq!(transition.at, clock.at(6.0));
    assert_eq!(transition.reason, "open for 5 s");
}

#[test]
fn half_open_lets_only_the_probes_through_and_closes_when_they_succeed() {
    let (clock, mut breaker) = setup(0.5, 1);
    call(&mut breaker, clock.at(0.0), true);
    let t = clock.at(5.0);
    let Admission::Admitted(first) = breaker.admit(t) else {
        panic!("first probe refused")
    };
    let Admission::Admitted(second) = breaker.admit(t) else {
        panic!("second probe refused")
    };
    assert_eq!(breaker.admit(t), Admission::Refused { retry_in: None });
    breaker.record(first, false, t);
    assert_eq!(breaker.state(t), BreakerState::HalfOpen);
    breaker.record(second, false, t);
    assert_eq!(breaker.state(t), BreakerState::Closed);
    assert_eq!(
        states(&breaker),
        [
            (BreakerState::Closed, BreakerState::Open),
            (BreakerState::Open, BreakerState::HalfOpen),
            (BreakerState::HalfOpen, BreakerState::Closed),
        ]
    );
    // Closed again with an empty window: one failure (min_calls 1) opens it again.
    assert!(call(&mut breaker, t, false));
    assert_eq!(breaker.state(t), BreakerState::Closed);
}

#[test]
fn a_failed_probe_opens_it_again_for_a_whole_open_s() {
    let (clock, mut breaker) = setup(0.5, 1);
    call(&mut breaker, clock.at(0.0), true);
    assert!(call(&mut breaker, clock.at(7.0), true));
    assert_eq!(breaker.state(clock.at(7.0)), BreakerState::Open);
    assert!(!call(&mut breaker, clock.at(11.9), false));
    assert_eq!(breaker.state(clock.at(12.0)), BreakerState::HalfOpen);
    assert_eq!(
        states(&breaker).last(),
        Some(&(BreakerState::Open, BreakerState::HalfOpen))
    );
    assert_eq!(breaker.transitions().count(), 4);
}

#[test]
fn outcomes_of_calls_from_before_a_transition_do_not_count_after_it() {
    let (clock, mut breaker) = setup(0.5, 2);
    let Admission::Admitted(slow) = breaker.admit(clock.at(0.0)) else {
        panic!("closed refuses")
    };
    call(&mut breaker, clock.at(0.1), true);
    call(&mut breaker, clock.at(0.2), true);
    assert_eq!(breaker.state(clock.at(0.2)), BreakerState::Open);
    // Half-open at 5.2; the slow closed-state call ends then: it is not a probe.
    breaker.record(slow, false, clock.at(5.5));
    assert_eq!(breaker.state(clock.at(5.5)), BreakerState::HalfOpen);
    let Admission::Admitted(probe) = breaker.admit(clock.at(5.5)) else {
        panic!("probe refused")
    };
    breaker.record(probe, false, clock.at(5.6));
    assert_eq!(breaker.state(clock.at(5.6)), BreakerState::HalfOpen);
}

#[test]
fn an_abandoned_probe_frees_its_place() {
    let (clock, mut breaker) = setup(0.5, 1);
    call(&mut breaker, clock.at(0.0), true);
    let t = clock.at(5.0);
    let tickets: Vec<Ticket> = (0..2)
        .filter_map(|_| match breaker.admit(t) {
            Admission::Admitted(ticket) => Some(ticket),
            Admission::Refused { .. } => None,
        })
        .collect();
    assert_eq!(tickets.len(), 2);
    assert!(matches!(breaker.admit(t), Admission::Refused { .. }));
    breaker.abandon(tickets[0]);
    assert!(matches!(breaker.admit(t), Admission::Admitted(_)));
}

#[test]
fn only_the_last_transitions_are_kept() {
    let (clock, mut breaker) = setup(1.0, 1);
    let mut t = 0.0;
    for _ in 0..12 {
        call(&mut breaker, clock.at(t), true); // closed/half-open → open
        t += 5.0;
        breaker.state(clock.at(t)); // → half-open
    }
    assert_eq!(breaker.transitions().count(), TRANSITIONS_KEPT);
    let last = breaker.transitions().last().expect("kept");
    assert_eq!(last.to, BreakerState::HalfOpen);
    assert_eq!(last.at, clock.at(t));
}

#[test]
fn reset_closes_with_its_reason_and_empties_the_window() {
    let (clock, mut breaker) = setup(0.5, 2);
    call(&mut breaker, clock.at(0.0), true);
    breaker.reset(clock.at(0.5), "switched on");
    assert!(
        breaker.transitions().next().is_none(),
        "closed stays closed"
    );
    call(&mut breaker, clock.at(1.0), true);
    assert_eq!(
        breaker.state(clock.at(1.0)),
        BreakerState::Closed,
        "the failure before the reset does not count"
    );
    call(&mut breaker, clock.at(1.0), true);
    assert_eq!(breaker.state(clock.at(1.0)), BreakerState::Open);
    breaker.reset(clock.at(2.0), "switched off");
    assert_eq!(breaker.state(clock.at(2.0)), BreakerState::Closed);
    let last = breaker.transitions().last().expect("reset");
    assert_eq!(last.reason, "switched off");
    call(&mut breaker, clock.at(2.1), true);
    assert_eq!(breaker.state(clock.at(2.1)), BreakerState::Closed);
}

#[test]
fn new_settings_apply_from_the_next_call() {
    let (clock, mut breaker) = setup(1.0, 3);
    call(&mut breaker, clock.at(0.0), false);
    call(&mut breaker, clock.at(0.0), true);
    call(&mut breaker, clock.at(0.0), true);
    assert_eq!(breaker.state(clock.at(0.0)), BreakerState::Closed);
    breaker.set_settings(settings(0.5, 3));
    call(&mut breaker, clock.at(0.1), false);
    assert_eq!(breaker.state(clock.at(0.1)), BreakerState::Open, "2 of 4");
}

#[test]
fn the_gauge_values_are_the_issues() {
    assert_eq!(BreakerState::Closed.gauge(), 0);
    assert_eq!(BreakerState::HalfOpen.gauge(), 1);
    assert_eq!(BreakerState::Open.gauge(), 2);
}
