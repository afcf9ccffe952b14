//! The circuit breaker as a state machine of its own, on a clock its caller gives (`now` in
//! every call), so the tests drive it through minutes in microseconds.
//!
//! Closed: every call goes through and its outcome goes into a rolling window of one-second
//! buckets; once the window holds at least `min_calls` and failures ÷ calls reach
//! `failure_ratio`, it opens. Open: every call is refused until `open_s` have passed, then it is
//! half-open. Half-open: `half_open_probes` calls go through, the rest are refused; when all
//! of them succeed it closes, when one fails it opens again.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use super::settings::BreakerSettings;

/// How many transitions are kept for the read-back.
pub const TRANSITIONS_KEPT: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    HalfOpen,
    Open,
}

impl BreakerState {
    /// `fintech_circuit_breaker_state`'s value: 0 closed, 1 half-open, 2 open.
    pub fn gauge(self) -> u8 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::HalfOpen => 1,
            BreakerState::Open => 2,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::HalfOpen => "half_open",
            BreakerState::Open => "open",
        }
    }
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One change of state, when it happened and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub from: BreakerState,
    pub to: BreakerState,
    pub at: Instant,
    pub reason: String,
}

/// What the breaker says to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead, and give the ticket back with the outcome.
    Admitted(Ticket),
    /// Refused without calling; `retry_in` is when it will let a probe through, if it knows
    /// (half-open with every probe in flight: it does not).
    Refused { retry_in: Option<Duration> },
}

/// A call let through: which phase of the breaker it belongs to, so the outcome of a call that
/// started before a change of state does not count in the new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    generation: u64,
    probe: bool,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Closed,
    Open { since: Instant },
    HalfOpen { started: u32, succeeded: u32 },
}

/// Calls and failures of one second of the window.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    second: u64,
    calls: u32,
    failures: u32,
}

#[derive(Debug)]
pub struct CircuitBreaker {
    upstream: String,
    settings: BreakerSettings,
    phase: Phase,
    /// Changes at every transition; tickets of another generation are ignored.
    generation: u64,
    /// Seconds of the window are counted from here.
    origin: Instant,
    window: VecDeque<Bucket>,
    transitions: VecDeque<Transition>,
}

impl CircuitBreaker {
    pub fn new(upstream: &str, settings: BreakerSettings, now: Instant) -> Self {
        CircuitBreaker {
            upstream: upstream.to_string(),
            settings,
            phase: Phase::Closed,
            generation: 0,
            origin: now,
            window: VecDeque::new(),
            transitions: VecDeque::with_capacity(TRANSITIONS_KEPT),
        }
    }

    /// The state at `now` (an open breaker whose time is up is half-open from that moment).
    pub fn state(&mut self, now: Instant) -> BreakerState {
        self.advance(now);
        match self.phase {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { .. } => BreakerState::Open,
            Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// The last transitions, oldest first.
    pub fn transitions(&self) -> impl Iterator<Item = &Transition> {
        self.transitions.iter()
    }

    /// New thresholds apply from the next call; the state and the window stay.
    pub fn set_settings(&mut self, settings: BreakerSettings) {
        self.settings = settings;
    }

    /// Back to closed with an empty window (the pattern switched on or off).
    pub fn reset(&mut self, now: Instant, reason: &str) {
        self.advance(now);
        if !matches!(self.phase, Phase::Closed) {
            self.go(Phase::Closed, now, reason.to_string());
        }
        self.generation += 1;
        self.window.clear();
    }

    /// Asks to make a call.
    pub fn admit(&mut self, now: Instant) -> Admission {
        self.advance(now);
        match &mut self.phase {
            Phase::Closed => Admission::Admitted(Ticket {
                generation: self.generation,
                probe: false,
            }),
            Phase::Open { since } => Admission::Refused {
                retry_in: Some((*since + self.settings.open_for()).saturating_duration_since(now)),
            },
            Phase::HalfOpen { started, .. } => {
                if *started < self.settings.half_open_probes {
                    *started += 1;
                    Admission::Admitted(Ticket {
                        generation: self.generation,
                        probe: true,
                    })
                } else {
                    Admission::Refused { retry_in: None }
                }
            }
        }
    }

    /// The outcome of an admitted call: `failed` when it says the upstream is unhealthy.
    pub fn record(&mut self, ticket: Ticket, failed: bool, now: Instant) {
        self.advance(now);
        if ticket.generation != self.generation {
            return;
        }
        match self.phase {
            Phase::Closed => {
                self.count(failed, now);
                self.open_if_failing(now);
            }
            Phase::HalfOpen { started, succeeded } if ticket.probe => {
                if failed {
                    self.go(
                        Phase::Open { since: now },
                        now,
                        "a probe failed".to_string(),
                    );
                } else if succeeded + 1 >= self.settings.half_open_probes {
                    let probes = self.settings.half_open_probes;
                    self.go(Phase::Closed, now, format!("{probes} probe(s) succeeded"));
                } else {
                    self.phase = Phase::HalfOpen {
                        started,
                        succeeded: succeeded + 1,
                    };
                }
            }
            Phase::HalfOpen { .. } | Phase::Open { .. } => {}
        }
    }

    /// A probe that ended without an outcome (its caller went away) frees its place.
    pub fn abandon(&mut self, ticket: Ticket) {
        if ticket.generation != self.generation || !ticket.probe {
            return;
        }
        if let Phase::HalfOpen { started, .. } = &mut self.phase {
            *started = started.saturating_sub(1);
        }
    }

    /// Open → half-open once `open_s` have passed, dated when they passed.
    fn advance(&mut self, now: Instant) {
        if let Phase::Open { since } = self.phase {
            let due = since + self.settings.open_for();
            if now >= due {
                let open_s = self.settings.open_s;
                self.go(
                    Phase::HalfOpen {
                        started: 0,
                        succeeded: 0,
                    },
                    due,
                    format!("open for {open_s} s"),
                );
            }
        }
    }

    fn second(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.origin).as_secs()
    }

    fn count(&mut self, failed: bool, now: Instant) {
        let second = self.second(now);
        self.drop_old(second);
        let failures = u32::from(failed);
        match self.window.back_mut() {
            Some(bucket) if bucket.second == second => {
                bucket.calls = bucket.calls.saturating_add(1);
                bucket.failures = bucket.failures.saturating_add(failures);
            }
            _ => self.window.push_back(Bucket {
                second,
                calls: 1,
                failures,
            }),
        }
    }

    /// Keeps the buckets of the last `window_s` seconds, this one included.
    fn drop_old(&mut self, second: u64) {
        let window_s = self.settings.window_s.max(1);
        while self
            .window
            .front()
            .is_some_and(|bucket| bucket.second + window_s <= second)
        {
            self.window.pop_front();
        }
    }

    fn open_if_failing(&mut self, now: Instant) {
        let (calls, failures) =
            self.window
                .iter()
                .fold((0u64, 0u64), |(calls, failures), bucket| {
                    (
                        calls + u64::from(bucket.calls),
                        failures + u64::from(bucket.failures),
                    )
                });
        if calls == 0 || calls < u64::from(self.settings.min_calls) {
            return;
        }
        let ratio = failures as f64 / calls as f64;
        if ratio >= self.settings.failure_ratio {
            let reason = format!(
                "{failures} of {calls} calls failed in {} s ({:.0} % ≥ {:.0} %)",
                self.settings.window_s,
                ratio * 100.0,
                self.settings.failure_ratio * 100.0
            );
            self.go(Phase::Open { since: now }, now, reason);
        }
    }

    fn go(&mut self, phase: Phase, at: Instant, reason: String) {
        let from = self.state_of(self.phase);
        let to = self.state_of(phase);
        self.phase = phase;
        self.generation += 1;
        self.window.clear();
        tracing::info!(
            event = "circuit_breaker_transition",
            upstream = %self.upstream,
            from = from.name(),
            to = to.name(),
            reason = %reason,
            "circuit breaker of {}: {from} → {to} ({reason})",
            self.upstream
        );
        if self.transitions.len() == TRANSITIONS_KEPT {
            self.transitions.pop_front();
        }
        self.transitions.push_back(Transition {
            from,
            to,
            at,
            reason,
        });
    }

    fn state_of(&self, phase: Phase) -> BreakerState {
        match phase {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { .. } => BreakerState::Open,
            Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }
}

#[cfg(test)]
#[path = "breaker_tests.rs"]
mod tests;
