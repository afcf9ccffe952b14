//! A drill inside the dashboard: feeds the phase machine from the live updates and the keys,
//! and turns its directives into effects: requests to the target, the case's load, and the
//! session record to write after every phase change (written by the effects runner, never
//! here).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::msg::{Effect, TargetRequest as Command};
use crate::actions::ActionOutcome;
use crate::alerts::{AlertState, AlertStatus};
use crate::drill::case::PlannedInjection;
use crate::drill::record::{SessionRecord, sessions_dir};
use crate::drill::target_check::{TargetProfile, check_against};
use crate::drill::validate::ProblemSeverity;
use crate::drill::{ActionKind, Case, Directive, DrillOptions, PhaseMachine, TargetCapabilities};
use crate::fincore::FailureView;
use crate::fincore::dependency::ProviderFailureView;
use crate::pattern_settings::PatternConfig;
use crate::signals::{Sample, Signal, UnixSeconds};

/// How a drill was asked for, before the target is known well enough to start it.
#[derive(Debug, Clone)]
pub struct DrillRequest {
    pub case: Case,
    pub blind: bool,
    pub manual_inject: bool,
    /// The causes offered at detection in a blind drill: (case id, label).
    pub diagnoses: Vec<(String, String)>,
}

pub struct DrillSession {
    /// `None` until the target's capabilities are known.
    pub machine: Option<PhaseMachine>,
    request: DrillRequest,
    data_dir: PathBuf,
    target: String,
    ttl_s: Option<u64>,
    pub record_path: Option<PathBuf>,
    /// The last thing worth saying: an input that did not apply, a failed save.
    pub message: Option<String>,
    /// Lines for the log panel.
    pub log: Vec<String>,
    /// Our own injection is on its way: its answer is the fault's time, not an action.
    injecting: bool,
    /// The drill's own patterns (set at its start) are on their way: their answer is not
    /// the participant's action.
    setting_patterns: bool,
    firing: BTreeSet<String>,
    /// The briefing was read (Enter): the machine may start. A resumed drill was briefed.
    pub briefed: bool,
    /// A resumed drill whose fault should be on the target: the first read of the failure
    /// state says whether it still is.
    fault_check: bool,
    /// That read found the fault gone: the participant is asked to inject it again or to
    /// record the drill abandoned.
    pub fault_lost: bool,
}

impl DrillSession {
    pub fn new(request: DrillRequest, data_dir: &Path, target: &str, ttl_s: Option<u64>) -> Self {
        DrillSession {
            machine: None,
            request,
            data_dir: data_dir.to_path_buf(),
            target: target.to_string(),
            ttl_s,
            record_path: None,
            message: None,
            log: Vec::new(),
            injecting: false,
            setting_patterns: false,
            firing: BTreeSet::new(),
            briefed: false,
            fault_check: false,
            fault_lost: false,
        }
    }

    /// Continues a drill from its record.
    pub fn resumed(
        machine: PhaseMachine,
        request: DrillRequest,
        path: PathBuf,
        data_dir: &Path,
        target: &str,
        ttl_s: Option<u64>,
    ) -> (Self, Vec<Effect>) {
        let mut session = DrillSession::new(request, data_dir, target, ttl_s);
        session.briefed = true;
        let load = machine.case().load.clone();
        session.log.push(format!(
            "gameday: drill {} resumed in phase {}",
            machine.case().id,
            machine.phase().name()
        ));
        session.fault_check = machine.expects_fault();
        session.machine = Some(machine);
        session.record_path = Some(path);
        (session, vec![Effect::DrillLoad(Some(load))])
    }

    pub fn request(&self) -> &DrillRequest {
        &self.request
    }

    /// A blind drill hides its case until the participant names a cause (or it ends): nothing
    /// on screen or in the log may give it away.
    pub fn conceals_cause(&self) -> bool {
        self.request.blind
            && self.machine.as_ref().is_none_or(|machine| {
                !machine.phase().is_finished()
                    && machine
                        .state()
                        .detection
                        .as_ref()
                        .is_none_or(|detection| detection.diagnosis.is_none())
            })
    }

    /// The case's id, or `(blind)` while it is concealed.
    fn shown_id(&self) -> &str {
        if self.conceals_cause() {
            "(blind)"
        } else {
            &self.request.case.id
        }
    }

    pub fn is_running(&self) -> bool {
        self.machine
            .as_ref()
            .is_none_or(|machine| !machine.phase().is_finished())
    }

    /// Starts the machine once what the target can take is known: refused if `profile` shows
    /// the case cannot run there, its warnings logged.
    pub fn start(
        &mut self,
        target: TargetCapabilities,
        profile: &TargetProfile,
        at: UnixSeconds,
    ) -> Vec<Effect> {
        if self.machine.is_some() || !self.briefed {
            return Vec::new();
        }
        let plan = self.request.case.plan_injection(target).ok();
        let planned = plan.as_ref().and_then(|plan| plan.failures.as_ref());
        let findings = check_against(&self.request.case, planned, profile);
        let mut problem = None;
        for finding in findings {
            match finding.severity {
                ProblemSeverity::Error => {
                    problem.get_or_insert(finding.message);
                }
                ProblemSeverity::Warning if self.request.blind => {}
                ProblemSeverity::Warning => self.log.push(format!(
                    "gameday: drill {}: {}",
                    self.request.case.id, finding.message
                )),
            }
        }
        let options = DrillOptions {
            blind: self.request.blind,
            manual_inject: self.request.manual_inject,
            target,
        };
        let (machine, directives) =
            PhaseMachine::start_checked(self.request.case.clone(), options, at, problem);
        self.machine = Some(machine);
        self.carry_out(directives)
    }

    pub fn samples(&mut self, samples: &[(Signal, Sample)]) -> Vec<Effect> {
        let mut directives = Vec::new();
        if let Some(machine) = &mut self.machine {
            for (signal, sample) in samples {
                directives.extend(machine.sample(*signal, *sample));
            }
        }
        self.carry_out(directives)
    }

    /// Each alert's first turn to firing is told to the machine once.
    pub fn alerts(&mut self, alerts: &[AlertStatus], now: UnixSeconds) {
        let Some(machine) = &mut self.machine else {
            return;
        };
        machine.alert_states(alerts.iter().map(|alert| {
            let active = alert.is_active().then_some(alert.state.as_str());
            (alert.name.as_str(), active)
        }));
        for alert in alerts {
            if let Some(held_at) = alert.active_since {
                machine.alert_condition(&alert.name, held_at, alert.for_seconds);
            }
            if alert.state == AlertState::Firing {
                if self.firing.insert(alert.name.clone()) {
                    machine.alert_fired(&alert.name, alert.fired_at.unwrap_or(now));
                }
            } else {
                self.firing.remove(&alert.name);
            }
        }
    }

    pub fn failures(&mut self, view: &FailureView, now: UnixSeconds) -> Vec<Effect> {
        if self.fault_check {
            self.fault_check = false;
            if !view.any_active() {
                // Not a recovery: the fault did not outlive the stop. Nothing is measured
                // until the participant says what to do.
                self.fault_lost = true;
                self.log.push(
                    "gameday: the fault is gone from the target (it did not outlive the stop)"
                        .to_string(),
                );
                return Vec::new();
            }
            self.log
                .push("gameday: the fault is still on the target: the drill goes on".to_string());
        }
        if self.fault_lost {
            return Vec::new();
        }
        let since = view
            .since
            .iter()
            .filter(|(knob, _)| view.value(knob).is_some_and(|value| value != 0.0))
            .filter_map(|(_, text)| parse_service_time(text))
            .reduce(f64::min);
        let directives = match &mut self.machine {
            Some(machine) => machine.failures_read_back(now, view.any_active(), since),
            None => Vec::new(),
        };
        self.carry_out(directives)
    }

    /// The payment provider's failure state as read back (by the control or by polling).
    pub fn provider_failures(
        &mut self,
        view: &ProviderFailureView,
        now: UnixSeconds,
    ) -> Vec<Effect> {
        let directives = match &mut self.machine {
            Some(machine) => machine.provider_read_back(now, view.any_active()),
            None => Vec::new(),
        };
        self.carry_out(directives)
    }

    /// The resilience patterns as read back.
    pub fn patterns(&mut self, view: &PatternConfig, now: UnixSeconds) -> Vec<Effect> {
        let on = view
            .enabled()
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(name, _)| name.to_string())
            .collect();
        let directives = match &mut self.machine {
            Some(machine) => machine.patterns_read_back(now, on),
            None => Vec::new(),
        };
        self.carry_out(directives)
    }

    /// The answer to a request: our injection's time, or something the participant did.
    pub fn outcome(&mut self, outcome: &ActionOutcome) -> Vec<Effect> {
        let Some(machine) = &mut self.machine else {
            return Vec::new();
        };
        if self.setting_patterns && matches!(outcome.kind, ActionKind::PatternChange { .. }) {
            self.setting_patterns = false;
            if !outcome.ok {
                self.message = Some(format!("patterns not set: {}", outcome.answer));
            }
            return Vec::new();
        }
        // The drill's own clean-up after its end (the provider reset at the review).
        if machine.phase().is_finished() {
            return Vec::new();
        }
        if self.injecting && outcome.kind.changes_the_target() {
            self.injecting = false;
            if !outcome.ok {
                self.message = Some(format!("injection failed: {}", outcome.answer));
                return Vec::new();
            }
            let directives = machine.injected(outcome.at);
            return self.carry_out(directives);
        }
        let directives = if outcome.ok {
            machine.action(outcome.at, outcome.kind.clone())
        } else {
            // A reset that timed out is still something the participant did.
            machine.failed_action(outcome.at, outcome.kind.clone(), &outcome.answer)
        };
        self.carry_out(directives)
    }

    /// A note from the participant, written into the record (saved at once).
    pub fn note(&mut self, at: UnixSeconds, text: String) -> Vec<Effect> {
        let Some(machine) = &mut self.machine else {
            return Vec::new();
        };
        machine.add_note(at, text);
        self.save().into_iter().collect()
    }

    /// The answer to "the fault is gone": inject it again (the clock restarts there), or
    /// record the drill abandoned.
    pub fn answer_fault_lost(&mut self, inject_again: bool, at: UnixSeconds) -> Vec<Effect> {
        self.fault_lost = false;
        if !inject_again {
            return self.abandon(at, "the fault was gone on resume");
        }
        let directives = match &mut self.machine {
            Some(machine) => machine.inject_again(at),
            None => Vec::new(),
        };
        self.carry_out(directives)
    }

    pub fn load_changed(&mut self, rate: f64, at: UnixSeconds) -> Vec<Effect> {
        let directives = match &mut self.machine {
            Some(machine) => machine.action(at, ActionKind::LoadChange { rate }),
            None => Vec::new(),
        };
        self.carry_out(directives)
    }

    /// The built-in load's counters, for the business impact.
    pub fn observe_clients(&mut self, at: UnixSeconds, counts: crate::drill::impact::ClientCounts) {
        if let Some(machine) = &mut self.machine {
            machine.observe_clients(at, counts);
        }
    }

    pub fn tick(&mut self, now: UnixSeconds) -> Vec<Effect> {
        let directives = match &mut self.machine {
            Some(machine) => machine.tick(now),
            None => Vec::new(),
        };
        self.carry_out(directives)
    }

    /// Detection declared at `at` (when Enter was pressed), with what told the participant: a
    /// signal, or something else in words (`source`), or, blind, the cause they name.
    pub fn declare(
        &mut self,
        at: UnixSeconds,
        signal: Option<Signal>,
        source: Option<String>,
        diagnosis: Option<String>,
    ) -> Vec<Effect> {
        let directives = match &mut self.machine {
            Some(machine) => {
                let directives = machine.declare_detection(at, signal, diagnosis);
                machine.detection_answer(at, source);
                directives
            }
            None => Vec::new(),
        };
        self.carry_out(directives)
    }

    pub fn hint(&mut self, at: UnixSeconds) -> Vec<Effect> {
        // A new key press answers for itself: the last one's message goes.
        self.message = None;
        let Some(machine) = &mut self.machine else {
            return Vec::new();
        };
        let Some(index) = machine.next_hint() else {
            self.message = Some("no hint left".to_string());
            return Vec::new();
        };
        let directives = machine.action(at, ActionKind::HintOpened { index });
        let mut effects = self.carry_out(directives);
        effects.extend(self.save());
        effects
    }

    /// Ticks or unticks item `index` (from 0) of the current step's checklist.
    pub fn toggle_item(&mut self, at: UnixSeconds, index: usize) -> Vec<Effect> {
        self.message = None;
        let Some(machine) = &mut self.machine else {
            return Vec::new();
        };
        let Some(step) = machine.phase().step() else {
            return Vec::new();
        };
        let done = machine
            .state()
            .checklist
            .get(step.index())
            .and_then(|items| items.get(index))
            .is_some_and(|item| item.done_at.is_some());
        let directives = machine.check_item(at, step, index, !done);
        let mut effects = self.carry_out(directives);
        effects.extend(self.save());
        effects
    }

    /// The participant stops: recorded as abandoned. The reset is the caller's (it asks).
    pub fn abandon(&mut self, at: UnixSeconds, reason: &str) -> Vec<Effect> {
        let Some(machine) = &mut self.machine else {
            return Vec::new();
        };
        let _ = machine.abandon(at, reason);
        self.save().into_iter().collect()
    }

    fn carry_out(&mut self, directives: Vec<Directive>) -> Vec<Effect> {
        let mut effects = Vec::new();
        for directive in directives {
            match directive {
                Directive::PhaseChanged { from, to, .. } if from != to => {
                    // A message of an earlier phase ("no hint left") is stale in the next.
                    self.message = None;
                    let line = format!(
                        "gameday: drill {}: {} → {}",
                        self.shown_id(),
                        from.name(),
                        to.name()
                    );
                    self.log.push(line);
                }
                Directive::PhaseChanged { .. }
                | Directive::ReadBackFailures
                | Directive::AwaitManualInjection => {}
                Directive::SaveRecord => effects.extend(self.save()),
                Directive::StartLoad(spec) => effects.push(Effect::DrillLoad(Some(spec))),
                Directive::StopLoad => effects.push(Effect::DrillLoad(None)),
                Directive::Inject(plan) => {
                    self.injecting = true;
                    effects.extend(injection_commands(&plan, self.ttl_s).map(Effect::Send));
                }
                Directive::ResetFailures => effects.push(Effect::Send(Command::Reset)),
                Directive::SetPatterns(body) => {
                    self.setting_patterns = true;
                    effects.push(Effect::Send(Command::Patterns { body }));
                }
                Directive::ResetProvider => effects.push(Effect::Send(Command::ProviderReset)),
                Directive::Ignored { reason } => self.message = Some(reason),
            }
        }
        effects
    }

    /// The record as it stands, to be written (temporary file and rename) by the effects
    /// runner; its path is known now, since the file name comes from the record.
    pub fn save(&mut self) -> Option<Effect> {
        let machine = self.machine.as_ref()?;
        let record = SessionRecord::from_machine(machine, &self.target);
        self.record_path = Some(sessions_dir(&self.data_dir).join(record.file_name()));
        Some(Effect::SaveRecord {
            data_dir: self.data_dir.clone(),
            record: Box::new(record),
        })
    }
}

/// The requests that carry out a case's injection. A failure body is sent first, so the
/// container action (if any) lands on a service that already has it.
fn injection_commands(
    plan: &PlannedInjection,
    ttl_s: Option<u64>,
) -> impl Iterator<Item = Command> {
    let failures = plan.failures.as_ref().map(|body| Command::Custom {
        knobs: body.knob_values(),
        // A case's own time to live wins over the dashboard's.
        ttl_s: body.ttl_s.or(ttl_s),
    });
    let container = plan
        .container
        .map(|container| Command::Container(container.action));
    let provider = plan
        .provider
        .as_ref()
        .map(|body| Command::ProviderFailures {
            knobs: body.knob_values(),
        });
    failures.into_iter().chain(provider).chain(container)
}

/// The service's timestamps: ISO 8601 in UTC, with or without a zone and fraction.
fn parse_service_time(text: &str) -> Option<UnixSeconds> {
    let trimmed = text.trim_end_matches('Z');
    let parsed = chrono::NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    Some(parsed.and_utc().timestamp_micros() as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::actions::ContainerAction;
    use crate::drill::case::{ContainerInjection, ContainerWhen, FailureBody};
    use crate::knobs::Knob;

    #[test]
    fn service_times_parse_with_or_without_zone_and_fraction() {
        assert_eq!(parse_service_time("1970-01-01T00:01:40"), Some(100.0));
        assert_eq!(parse_service_time("1970-01-01T00:01:40.250Z"), Some(100.25));
        assert_eq!(parse_service_time("yesterday"), None);
    }

    #[test]
    fn a_case_injection_becomes_a_failure_body_then_a_container_action() {
        let plan = PlannedInjection {
            failures: Some(FailureBody::default().with(Knob::LatencyMs, 2000)),
            container: Some(ContainerInjection {
                action: ContainerAction::StopDb,
                when: ContainerWhen::Always,
            }),
            provider: None,
        };
        let commands: Vec<Command> = injection_commands(&plan, Some(600)).collect();
        assert_eq!(
            commands,
            [
                Command::Custom {
                    knobs: vec![("latency_ms".to_string(), Value::from(2000))],
                    ttl_s: Some(600)
                },
                Command::Container(ContainerAction::StopDb)
            ]
        );
    }
}
