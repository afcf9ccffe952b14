//! The drill's side of the dependency: the provider's failure state and the patterns as read
//! back, and what recovery asks of them (the provider cleared, or still failing while FinCore
//! holds up; the patterns that must be on).

use super::{Directive, Phase, PhaseMachine};
use crate::signals::UnixSeconds;

impl PhaseMachine {
    /// The provider's failure state as read back: whether any of its knobs is set.
    pub fn provider_read_back(&mut self, at: UnixSeconds, active: bool) -> Vec<Directive> {
        if self.state.phase.is_finished() {
            return Vec::new();
        }
        self.observe(at);
        if active && self.state.provider_active != Some(true) {
            self.state.provider_failing_since = Some(at);
        } else if !active {
            self.state.provider_failing_since = None;
        }
        self.state.provider_active = Some(active);
        if active {
            self.state.provider_cleared_at = None;
        } else if self.state.injected_at.is_some() && self.state.provider_cleared_at.is_none() {
            self.state.provider_cleared_at = Some(at);
        }
        let mut directives = Vec::new();
        match self.state.phase {
            Phase::Inject if active && self.state.manual_inject => return self.injected(at),
            // Cleared after detection, by gameday or by hand: go and verify, as for FinCore's
            // own failures, when clearing the provider is this case's fix.
            Phase::Respond if !active && self.case.recovery.provider_cleared => {
                self.enter(Phase::Recover, at, &mut directives)
            }
            _ => {}
        }
        self.advance(at, &mut directives);
        directives
    }

    /// The patterns read back as on, by name.
    pub fn patterns_read_back(&mut self, at: UnixSeconds, on: Vec<String>) -> Vec<Directive> {
        if self.state.phase.is_finished() {
            return Vec::new();
        }
        self.observe(at);
        let ready = self
            .case
            .recovery
            .patterns
            .iter()
            .all(|wanted| on.contains(wanted));
        self.state.patterns_ready_since = match (ready, self.state.patterns_ready_since) {
            (true, Some(since)) => Some(since),
            (true, None) => Some(at),
            (false, _) => None,
        };
        // Switched by hand (curl, another terminal) after detection: go and verify, as when
        // FinCore's failures read back cleared.
        let switched = self.state.injected_at.is_some()
            && self
                .state
                .patterns_on
                .as_ref()
                .is_some_and(|before| *before != on);
        self.state.patterns_on = Some(on);
        let mut directives = Vec::new();
        if self.state.phase == Phase::Respond && switched {
            self.enter(Phase::Recover, at, &mut directives);
        }
        self.advance(at, &mut directives);
        directives
    }

    /// Since when the dependency is as recovery wants it; `Some(0.0)` when the case asks
    /// nothing of it, `None` while it is not.
    pub(super) fn dependency_ready_since(&self) -> Option<UnixSeconds> {
        let recovery = &self.case.recovery;
        let provider_injected = self
            .state
            .injection
            .as_ref()
            .is_some_and(|plan| plan.provider.is_some());
        let mut since: UnixSeconds = 0.0;
        if provider_injected && recovery.provider_cleared {
            since = since.max(self.state.provider_cleared_at?);
        }
        // The cascade is stopped in FinCore, not by the provider coming back.
        if provider_injected && recovery.provider_still_failing {
            since = since.max(self.state.provider_failing_since?);
        }
        if !recovery.patterns.is_empty() {
            since = since.max(self.state.patterns_ready_since?);
        }
        Some(since)
    }

    /// Whether the case's only fault is the provider's: FinCore's own failure state reading
    /// back clear then says nothing about the fault.
    pub(super) fn provider_only(&self) -> bool {
        self.state.injection.as_ref().is_some_and(|plan| {
            plan.provider.is_some() && plan.failures.is_none() && plan.container.is_none()
        })
    }

    /// Whether the drill ends with the provider's failure still set (the cascade's, kept
    /// through recovery on purpose, or an abandoned drill's).
    pub(super) fn provider_left_failing(&self) -> bool {
        let injected = self.state.injected_at.is_some()
            && self
                .state
                .injection
                .as_ref()
                .is_some_and(|plan| plan.provider.is_some());
        injected && self.state.provider_active != Some(false)
    }
}

#[cfg(test)]
#[path = "dependency_tests.rs"]
mod tests;
