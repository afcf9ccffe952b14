//! The phase machine of a drill: Baseline → Inject → Detect → Respond → Recover → Review (or
//! Abandoned, or Refused). Pure: it does no I/O and reads no clock. Every input carries its own
//! timestamp, `tick(now)` drives the time-based transitions, and every input returns the
//! [`Directive`]s the caller must carry out (inject, start the load, save the record...).

use super::case::{Case, LoadSpec, PlannedInjection, Step, TargetCapabilities};
use super::figures::{Figures, compute_figures};
use super::recovery::{VALUE_STALE_AFTER_S, band_from, recovery_tracks};
use super::series::DrillSeries;
pub use super::state::{ActionKind, DrillState, Phase};
use super::state::{
    ActionRecord, AlertCondition, AlertRecord, BaselineSamples, Detection, ItemState,
    LostInjection, Note, PhaseTime, SignalTrack,
};
use crate::alerts::Comparison;
use crate::signals::{Sample, Signal, UnixSeconds};

mod dependency;

/// A restart this soon after the participant's own container action is that action's.
const OWN_RESTART_WINDOW_S: f64 = 30.0;

/// Above this share of failing requests the baseline is not healthy enough to start from.
const HEALTHY_ERROR_RATIO: f64 = 0.05;

/// How a drill is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DrillOptions {
    /// The case is not shown; the participant names the cause at detection.
    pub blind: bool,
    /// The participant (or facilitator) injects by hand; the machine waits for the failure
    /// state read back to show it.
    pub manual_inject: bool,
    pub target: TargetCapabilities,
}

/// What the caller must do after an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Directive {
    /// The drill entered `to`.
    PhaseChanged {
        from: Phase,
        to: Phase,
        at: UnixSeconds,
    },
    /// Write the session record now (after every phase change).
    SaveRecord,
    /// Drive this load at the target for the rest of the drill.
    StartLoad(LoadSpec),
    StopLoad,
    /// Inject this, then report `injected(at)` with the time of the answer.
    Inject(PlannedInjection),
    /// Manual injection: wait for the participant, and report the failure state read back.
    AwaitManualInjection,
    /// Read the failure state back and report it with `failures_read_back`.
    ReadBackFailures,
    /// Reset the failures (an abandoned drill must not leave one behind).
    ResetFailures,
    /// Set the resilience patterns to this whole configuration (`POST /api/patterns`), at the
    /// start of a drill about the dependency.
    SetPatterns(serde_json::Value),
    /// Reset the payment provider's failures (a drill over must not leave one behind).
    ResetProvider,
    /// The input did not apply in this phase; nothing changed.
    Ignored {
        reason: String,
    },
}

/// A drill in progress over one case.
#[derive(Debug, Clone)]
pub struct PhaseMachine {
    case: Case,
    state: DrillState,
    /// The case's alerts that were pending or firing at the last alert update, with their
    /// state's name: a baseline that ends with one of them active is no place to start from.
    active_case_alerts: Vec<(String, &'static str)>,
}

impl PhaseMachine {
    /// Starts the baseline at `at`, or refuses at once if the target cannot run the case.
    pub fn start(
        case: Case,
        options: DrillOptions,
        at: UnixSeconds,
    ) -> (PhaseMachine, Vec<Directive>) {
        PhaseMachine::start_checked(case, options, at, None)
    }

    /// As [`PhaseMachine::start`], refusing with `problem` when the caller found the target
    /// unable to run the case (see `drill::target_check`).
    pub fn start_checked(
        case: Case,
        options: DrillOptions,
        at: UnixSeconds,
        problem: Option<String>,
    ) -> (PhaseMachine, Vec<Directive>) {
        let plan = case
            .plan_injection(options.target)
            .and_then(|plan| problem.map_or(Ok(plan), Err));
        let state = DrillState {
            case_id: case.id.clone(),
            blind: options.blind,
            manual_inject: options.manual_inject,
            phase: Phase::Baseline,
            started_at: at,
            phases: vec![PhaseTime {
                phase: Phase::Baseline,
                at,
            }],
            reason: None,
            injection: plan.as_ref().ok().cloned(),
            injected_at: None,
            baseline_samples: Vec::new(),
            bands: Vec::new(),
            signals: case
                .signals
                .iter()
                .map(|watched| SignalTrack {
                    signal: watched.condition.signal,
                    comparison: watched.condition.comparison,
                    threshold: watched.condition.threshold,
                    first_crossed_at: None,
                    peak: None,
                })
                .collect(),
            recovery: Vec::new(),
            alerts: Vec::new(),
            detection: None,
            actions: Vec::new(),
            checklist: case
                .checklist
                .iter()
                .map(|items| vec![ItemState::default(); items.len()])
                .collect(),
            hints_opened: Vec::new(),
            failures_active: None,
            failures_cleared_at: None,
            recovered_at: None,
            verified_at: None,
            notes: Vec::new(),
            last_at: at,
            restarts_seen: None,
            platform_restarts: Vec::new(),
            alert_conditions: Vec::new(),
            lost_injections: Vec::new(),
            series: DrillSeries::default(),
            clients: Default::default(),
            provider_active: None,
            provider_cleared_at: None,
            patterns_on: None,
            patterns_ready_since: None,
            provider_failing_since: None,
        };
        let mut machine = PhaseMachine {
            case,
            state,
            active_case_alerts: Vec::new(),
        };
        let mut directives = vec![Directive::PhaseChanged {
            from: Phase::Baseline,
            to: Phase::Baseline,
            at,
        }];
        match plan {
            Ok(_) => {
                if let Some(patterns) = &machine.case.starting_patterns {
                    directives.push(Directive::SetPatterns(patterns.clone()));
                }
                directives.push(Directive::StartLoad(machine.case.load.clone()));
                directives.push(Directive::SaveRecord);
            }
            Err(reason) => {
                machine.state.reason = Some(reason);
                machine.enter(Phase::Refused, at, &mut directives);
            }
        }
        (machine, directives)
    }

    /// A machine rebuilt from a saved state (see `record::latest_unfinished`).
    pub fn resume(case: Case, state: DrillState) -> Result<PhaseMachine, String> {
        if case.id != state.case_id {
            return Err(format!(
                "the record is of case {}, not {}",
                state.case_id, case.id
            ));
        }
        let steps_match = state
            .checklist
            .iter()
            .zip(&case.checklist)
            .all(|(saved, items)| saved.len() == items.len());
        if state.checklist.len() != case.checklist.len() || !steps_match {
            return Err(format!(
                "case {} has changed since the record was written (its checklist differs)",
                case.id
            ));
        }
        Ok(PhaseMachine {
            case,
            state,
            active_case_alerts: Vec::new(),
        })
    }

    /// A drill stopped in its baseline starts the baseline again when resumed: the samples
    /// before the stop may be of another target (the embedded sandbox died with the process),
    /// and the time in between was not watched. Ticks are kept.
    pub fn restart_baseline(&mut self, at: UnixSeconds) {
        if self.state.phase != Phase::Baseline {
            return;
        }
        self.state.started_at = at;
        self.state.phases = vec![PhaseTime {
            phase: Phase::Baseline,
            at,
        }];
        self.state.baseline_samples.clear();
        self.state.restarts_seen = None;
        self.state.notes.push(Note {
            at,
            text: "resumed in the baseline: the baseline starts again".to_string(),
        });
        self.observe(at);
    }

    /// A note of the participant's, at any phase, even after the drill ended.
    pub fn add_note(&mut self, at: UnixSeconds, text: String) {
        self.state.notes.push(Note { at, text });
    }

    /// Whether the drill's fault should be on the target now: injected, not yet cleared.
    pub fn expects_fault(&self) -> bool {
        matches!(self.state.phase, Phase::Detect | Phase::Respond)
    }

    /// A resumed drill found its fault gone (it did not outlive the stop): inject it again.
    /// The clock restarts at the new injection — detection, crossings and alerts start over —
    /// and the lost injection is kept in the record. Ticks are kept.
    pub fn inject_again(&mut self, at: UnixSeconds) -> Vec<Directive> {
        if !self.expects_fault() {
            return ignored(format!(
                "nothing to inject again in phase {}",
                self.state.phase.name()
            ));
        }
        self.state.lost_injections.push(LostInjection {
            injected_at: self.state.injected_at.unwrap_or(at),
            detected_at: self.state.detection.as_ref().map(|detection| detection.at),
            injected_again_at: at,
        });
        self.state.injected_at = None;
        self.state.detection = None;
        self.state.failures_cleared_at = None;
        self.state.alerts.clear();
        self.state.alert_conditions.clear();
        self.state.platform_restarts.clear();
        for track in &mut self.state.signals {
            track.first_crossed_at = None;
            track.peak = None;
        }
        self.state.notes.push(Note {
            at,
            text: "the fault was gone on resume: injected again; the figures count from the \
                   new injection"
                .to_string(),
        });
        let mut directives = Vec::new();
        self.enter(Phase::Inject, at, &mut directives);
        directives
    }

    pub fn case(&self) -> &Case {
        &self.case
    }

    pub fn state(&self) -> &DrillState {
        &self.state
    }

    pub fn phase(&self) -> Phase {
        self.state.phase
    }

    /// When the baseline ends and the injection is due.
    pub fn baseline_ends_at(&self) -> UnixSeconds {
        self.state.started_at + self.case.baseline.as_secs_f64()
    }

    /// While recovering: seconds of the hold still to go at `now`, when everything is back.
    pub fn hold_remaining(&self, now: UnixSeconds) -> Option<f64> {
        let since = self.all_back_since(now)?;
        Some((self.case.recovery.hold.as_secs_f64() - (now - since)).max(0.0))
    }

    /// The figures so far; final once the phase is Review.
    pub fn figures(&self) -> Figures {
        compute_figures(&self.case, &self.state)
    }

    /// A sample of any signal: the baseline collects every signal it is given.
    pub fn sample(&mut self, signal: Signal, sample: Sample) -> Vec<Directive> {
        let mut directives = Vec::new();
        if self.state.phase.is_finished() || !sample.value.is_finite() {
            return directives;
        }
        self.observe(sample.at);
        self.state.series.push(signal, sample);
        let at = sample.at;
        if signal == Signal::Restarts {
            self.notice_restart(sample);
        }
        match self.state.phase {
            Phase::Baseline => self.collect_baseline(signal, sample.value),
            _ => self.track(signal, sample),
        }
        self.check_items(signal, sample);
        self.advance(at, &mut directives);
        directives
    }

    /// A restart count higher than the last one seen, after injection and not within
    /// [`OWN_RESTART_WINDOW_S`] of a container action of the participant's, is the platform's
    /// doing: noted, with the failure it took away.
    fn notice_restart(&mut self, sample: Sample) {
        let previous = self.state.restarts_seen.replace(sample.value);
        let Some(previous) = previous else { return };
        let injected = self.state.injected_at.is_some_and(|at| sample.at >= at);
        if sample.value <= previous || !injected {
            return;
        }
        let asked_for = self.state.actions.iter().any(|action| {
            matches!(action.kind, ActionKind::Container(_))
                && action.failed.is_none()
                && (0.0..=OWN_RESTART_WINDOW_S).contains(&(sample.at - action.at))
        });
        if asked_for {
            return;
        }
        self.state.platform_restarts.push(sample.at);
        self.state.notes.push(Note {
            at: sample.at,
            text: "the platform restarted the app (not an action of the drill): the injected \
                   failure was lost with it, so recovery from here is not the participant's"
                .to_string(),
        });
    }

    /// Time passed: ends the baseline and completes the recovery hold.
    pub fn tick(&mut self, now: UnixSeconds) -> Vec<Directive> {
        let mut directives = Vec::new();
        if !self.state.phase.is_finished() {
            self.observe(now);
            self.advance(now, &mut directives);
        }
        directives
    }

    /// The built-in load's cumulative counters: counted for the business impact while the
    /// fault is on, from the injection until recovery.
    pub fn observe_clients(&mut self, at: UnixSeconds, counts: super::impact::ClientCounts) {
        if self.state.phase.is_finished()
            || self.state.injected_at.is_none()
            || self.state.recovered_at.is_some()
        {
            return;
        }
        // Enough to reach back to the start of a hold that completes.
        let keep_s = self.case.recovery.hold.as_secs_f64() + 5.0;
        self.state.clients.observe(at, counts, keep_s);
    }

    /// The injection was answered at `at` (or, manually, first seen in the failure state then).
    pub fn injected(&mut self, at: UnixSeconds) -> Vec<Directive> {
        if self.state.phase != Phase::Inject {
            return ignored(format!(
                "nothing to inject in phase {}",
                self.state.phase.name()
            ));
        }
        self.observe(at);
        self.state.injected_at = Some(at);
        self.state.failures_cleared_at = None;
        self.state.recovery = recovery_tracks(&self.case, &self.state.bands);
        let mut directives = Vec::new();
        self.enter(Phase::Detect, at, &mut directives);
        directives
    }

    /// The failure state as read back: whether any failure is set, and since when if known.
    pub fn failures_read_back(
        &mut self,
        at: UnixSeconds,
        active: bool,
        since: Option<UnixSeconds>,
    ) -> Vec<Directive> {
        if self.state.phase.is_finished() {
            return Vec::new();
        }
        self.observe(at);
        self.state.failures_active = Some(active);
        if active {
            self.state.failures_cleared_at = None;
        } else if self.state.injected_at.is_some() && self.state.failures_cleared_at.is_none() {
            self.state.failures_cleared_at = Some(at);
        }
        let mut directives = Vec::new();
        match self.state.phase {
            Phase::Inject if active && self.state.manual_inject => {
                return self.injected(since.unwrap_or(at).min(at));
            }
            // Cleared outside gameday after detection: go and verify. Not from Detect: the
            // workshop's two workers disagree, and one read saying "clear" proves nothing.
            Phase::Respond if !active && !self.provider_only() => {
                self.enter(Phase::Recover, at, &mut directives)
            }
            _ => {}
        }
        self.advance(at, &mut directives);
        directives
    }

    /// Every alert's state now (name, and `Some("pending")` / `Some("firing")` while active):
    /// the baseline refuses to end while one of the case's alerts is active.
    pub fn alert_states<'a>(
        &mut self,
        states: impl IntoIterator<Item = (&'a str, Option<&'static str>)>,
    ) {
        self.active_case_alerts = states
            .into_iter()
            .filter(|(name, _)| self.case.alerts.iter().any(|expected| expected == name))
            .filter_map(|(name, state)| Some((name.to_string(), state?)))
            .collect();
    }

    /// An expected alert whose condition holds since `held_at`, with its rule's `for`: the
    /// first such episode after injection is kept, so the review can say when it fired or would
    /// have, however fast the participant was.
    pub fn alert_condition(&mut self, name: &str, held_at: UnixSeconds, for_seconds: Option<f64>) {
        let Some(injected) = self.state.injected_at else {
            return;
        };
        let expected = self.case.alerts.iter().any(|alert| alert == name);
        let known = self.state.alert_conditions.iter().any(|c| c.name == name);
        // A condition already holding at injection belongs to the baseline, which refuses it.
        if self.state.phase.is_finished() || !expected || known || held_at < injected {
            return;
        }
        self.state.alert_conditions.push(AlertCondition {
            name: name.to_string(),
            held_at,
            would_fire_at: for_seconds.map(|hold| held_at + hold),
        });
    }

    /// An alert turned firing at `at`. Only the first firing after injection counts.
    pub fn alert_fired(&mut self, name: &str, at: UnixSeconds) -> Vec<Directive> {
        let after_injection = self
            .state
            .injected_at
            .is_some_and(|injected| at >= injected);
        let known = self.state.alerts.iter().any(|alert| alert.name == name);
        if !self.state.phase.is_finished() && after_injection && !known {
            self.observe(at);
            self.state.alerts.push(AlertRecord {
                name: name.to_string(),
                expected: self.case.alerts.iter().any(|expected| expected == name),
                fired_at: at,
            });
        }
        Vec::new()
    }

    /// The participant says something is wrong, optionally on which signal and why.
    pub fn declare_detection(
        &mut self,
        at: UnixSeconds,
        signal: Option<Signal>,
        diagnosis: Option<String>,
    ) -> Vec<Directive> {
        let phase = self.state.phase;
        let open = matches!(phase, Phase::Detect | Phase::Respond | Phase::Recover);
        if !open || self.state.detection.is_some() {
            return ignored(format!("no detection to declare in phase {}", phase.name()));
        }
        self.observe(at);
        let crossed = self
            .state
            .signals
            .iter()
            .any(|track| track.first_crossed_at.is_some_and(|crossed| crossed <= at));
        self.state.detection = Some(Detection {
            at,
            signal,
            diagnosis,
            source: None,
            before_first_crossing: !crossed,
        });
        let mut directives = Vec::new();
        if phase == Phase::Detect {
            self.enter(Phase::Respond, at, &mut directives);
        }
        directives
    }

    /// What told the participant, when it was not a signal (an alert, the log, a user): kept
    /// with the detection. Either way, naming something ticks the detect items that ask for it.
    pub fn detection_answer(&mut self, at: UnixSeconds, source: Option<String>) {
        let Some(detection) = self.state.detection.as_mut() else {
            return;
        };
        if source.is_some() {
            detection.source = source;
        }
        let named = detection.signal.is_some() || detection.source.is_some();
        if !named {
            return;
        }
        let detect = Step::Detect.index();
        let items = self.case.checklist_for(Step::Detect);
        if let Some(states) = self.state.checklist.get_mut(detect) {
            for (item, state) in items.iter().zip(states.iter_mut()) {
                if item.on_detection && state.done_at.is_none() {
                    state.done_at = Some(at);
                    state.auto = true;
                }
            }
        }
    }

    /// Something the participant did. A remedy moves the drill on to verifying recovery.
    pub fn action(&mut self, at: UnixSeconds, kind: ActionKind) -> Vec<Directive> {
        if self.state.phase.is_finished() {
            return ignored("the drill is over".to_string());
        }
        self.observe(at);
        if let ActionKind::HintOpened { index } = kind {
            if index >= self.case.hints.len() {
                return ignored(format!("case {} has no hint {index}", self.case.id));
            }
            if !self.state.hints_opened.contains(&index) {
                self.state.hints_opened.push(index);
            }
        }
        let remedy = kind.is_remedy();
        let reset = kind == ActionKind::FailureReset;
        self.state.actions.push(ActionRecord {
            at,
            kind,
            failed: None,
        });
        let mut directives = Vec::new();
        if remedy && matches!(self.state.phase, Phase::Detect | Phase::Respond) {
            if self.state.phase == Phase::Detect {
                self.enter(Phase::Respond, at, &mut directives);
            }
            self.enter(Phase::Recover, at, &mut directives);
        }
        if reset {
            directives.push(Directive::ReadBackFailures);
        }
        directives
    }

    /// Something the participant tried that the target refused or never answered: kept in
    /// the record with the answer, and nothing else (it removed no fault).
    pub fn failed_action(
        &mut self,
        at: UnixSeconds,
        kind: ActionKind,
        answer: &str,
    ) -> Vec<Directive> {
        if self.state.phase.is_finished() {
            return ignored("the drill is over".to_string());
        }
        self.state.actions.push(ActionRecord {
            at,
            kind,
            failed: Some(answer.to_string()),
        });
        vec![Directive::SaveRecord]
    }

    /// The next hint to reveal, if any is left; report it with `action(HintOpened)`.
    pub fn next_hint(&self) -> Option<usize> {
        (0..self.case.hints.len()).find(|index| !self.state.hints_opened.contains(index))
    }

    /// Ticks (or unticks) a checklist item by hand.
    pub fn check_item(
        &mut self,
        at: UnixSeconds,
        step: super::case::Step,
        index: usize,
        done: bool,
    ) -> Vec<Directive> {
        let Some(item) = self
            .state
            .checklist
            .get_mut(step.index())
            .and_then(|items| items.get_mut(index))
        else {
            return ignored(format!("no item {index} in step {}", step.name()));
        };
        *item = ItemState {
            done_at: done.then_some(at),
            auto: false,
        };
        self.observe(at);
        Vec::new()
    }

    pub fn note(&mut self, at: UnixSeconds, text: impl Into<String>) -> Vec<Directive> {
        self.observe(at);
        self.state.notes.push(Note {
            at,
            text: text.into(),
        });
        vec![Directive::SaveRecord]
    }

    /// The participant stops the drill.
    pub fn abandon(&mut self, at: UnixSeconds, reason: impl Into<String>) -> Vec<Directive> {
        if self.state.phase.is_finished() {
            return ignored("the drill is over".to_string());
        }
        self.observe(at);
        self.state.reason = Some(reason.into());
        let mut directives = Vec::new();
        let injected = self.state.injected_at.is_some();
        if injected && self.state.failures_active != Some(false) && !self.provider_only() {
            directives.push(Directive::ResetFailures);
        }
        self.enter(Phase::Abandoned, at, &mut directives);
        directives
    }

    fn observe(&mut self, at: UnixSeconds) {
        self.state.last_at = self.state.last_at.max(at);
    }

    fn enter(&mut self, to: Phase, at: UnixSeconds, directives: &mut Vec<Directive>) {
        let from = self.state.phase;
        self.state.phase = to;
        self.state.phases.push(PhaseTime { phase: to, at });
        directives.push(Directive::PhaseChanged { from, to, at });
        match to {
            Phase::Inject if self.state.manual_inject => {
                directives.push(Directive::AwaitManualInjection);
            }
            Phase::Inject => {
                let plan = self.state.injection.clone().unwrap_or_default();
                directives.push(Directive::Inject(plan));
            }
            Phase::Review | Phase::Abandoned | Phase::Refused => {
                directives.push(Directive::StopLoad);
                if self.provider_left_failing() {
                    directives.push(Directive::ResetProvider);
                }
            }
            _ => {}
        }
        directives.push(Directive::SaveRecord);
    }

    fn advance(&mut self, now: UnixSeconds, directives: &mut Vec<Directive>) {
        match self.state.phase {
            Phase::Baseline if now >= self.baseline_ends_at() => self.end_baseline(now, directives),
            Phase::Recover => self.check_recovered(now, directives),
            _ => {}
        }
    }

    fn collect_baseline(&mut self, signal: Signal, value: f64) {
        let samples = &mut self.state.baseline_samples;
        match samples.iter_mut().find(|s| s.signal == signal) {
            Some(series) => series.values.push(value),
            None => samples.push(BaselineSamples {
                signal,
                values: vec![value],
            }),
        }
    }

    fn end_baseline(&mut self, now: UnixSeconds, directives: &mut Vec<Directive>) {
        // Kept in the record: the bands are only what was made of them.
        let samples = self.state.baseline_samples.clone();
        self.state.bands = samples
            .iter()
            .filter_map(|series| band_from(series.signal, &series.values))
            .collect();
        match self.unhealthy(&samples) {
            Some(reason) => {
                self.state.reason = Some(reason);
                self.enter(Phase::Refused, now, directives);
            }
            None => self.enter(Phase::Inject, now, directives),
        }
    }

    /// Why the baseline is no place to start from, if it is not.
    fn unhealthy(&self, samples: &[BaselineSamples]) -> Option<String> {
        if samples.iter().all(|series| series.values.is_empty()) {
            return Some(
                "no samples during the baseline: is the target being watched?".to_string(),
            );
        }
        let values = |signal| {
            samples
                .iter()
                .find(|series| series.signal == signal)
                .map(|series| series.values.as_slice())
                .filter(|values| !values.is_empty())
        };
        if let Some(up) = values(Signal::Up)
            && (up.last() == Some(&0.0) || up.iter().filter(|v| **v < 0.5).count() * 2 > up.len())
        {
            return Some(
                "the API's health check does not answer 200 (up = 0): see the header".to_string(),
            );
        }
        if let Some(band) = self.state.band(Signal::ErrorRatio)
            && values(Signal::ErrorRatio).is_some()
            && band.median > HEALTHY_ERROR_RATIO
        {
            return Some(format!(
                "{:.0}% of requests already fail before anything is injected",
                band.median * 100.0
            ));
        }
        if let Some((name, state)) = self.active_case_alerts.first() {
            return Some(format!(
                "{name} is already {state}: let it resolve (or mend the target) first"
            ));
        }
        // A signal the case watches that is already past its threshold would be "detected"
        // before anything is injected. Not restarts: a count since the target started, which
        // an earlier drill may have raised for good.
        for watched in &self.case.signals {
            let condition = &watched.condition;
            if condition.signal != Signal::Restarts
                && let Some(band) = self.state.band(condition.signal)
                && condition.comparison.holds(band.median, condition.threshold)
            {
                return Some(format!(
                    "{} is already {} {} (median {}) before anything is injected",
                    condition.signal,
                    condition.comparison.symbol(),
                    format_figure(condition.threshold),
                    format_figure(band.median)
                ));
            }
        }
        let recovery_signals = &self.case.recovery.signals;
        if !recovery_signals.is_empty()
            && recovery_signals
                .iter()
                .all(|signal| self.state.band(*signal).is_none())
        {
            let names: Vec<&str> = recovery_signals.iter().map(|s| s.name()).collect();
            return Some(format!(
                "no value of {} during the baseline: recovery could not be verified",
                names.join(", ")
            ));
        }
        None
    }

    /// After injection: crossings, peaks, and whether recovery signals are in their band.
    fn track(&mut self, signal: Signal, sample: Sample) {
        let Some(injected_at) = self.state.injected_at else {
            return;
        };
        if sample.at < injected_at {
            return;
        }
        for track in self.state.signals.iter_mut().filter(|t| t.signal == signal) {
            let worse = |a: f64, b: f64| match track.comparison {
                Comparison::Above => a.max(b),
                Comparison::Below => a.min(b),
            };
            track.peak = Some(
                track
                    .peak
                    .map_or(sample.value, |peak| worse(peak, sample.value)),
            );
            if track.first_crossed_at.is_none()
                && track.comparison.holds(sample.value, track.threshold)
            {
                track.first_crossed_at = Some(sample.at);
            }
        }
        for track in self
            .state
            .recovery
            .iter_mut()
            .filter(|t| t.signal == signal)
        {
            // Values that stopped coming for a while broke the hold: it restarts here.
            if track
                .last_at
                .is_some_and(|last_at| sample.at - last_at > VALUE_STALE_AFTER_S)
            {
                track.in_band_since = None;
            }
            track.last = Some(sample.value);
            track.last_at = Some(sample.at);
            let low_ok = track.band_low.is_none_or(|low| sample.value >= low);
            let high_ok = track.band_high.is_none_or(|high| sample.value <= high);
            if low_ok && high_ok {
                track.in_band_since.get_or_insert(sample.at);
            } else {
                track.in_band_since = None;
            }
        }
    }

    /// Ticks automatic items of the current step and the steps before it (baseline items
    /// only during the baseline).
    fn check_items(&mut self, signal: Signal, sample: Sample) {
        let Some(current) = self.state.phase.step() else {
            return;
        };
        for (step, items) in self.case.checklist.iter().enumerate() {
            let step_open = step == current.index() || (step > 0 && step < current.index());
            if !step_open {
                continue;
            }
            for (index, item) in items.iter().enumerate() {
                let Some(condition) = item.verify else {
                    continue;
                };
                let state = &mut self.state.checklist[step][index];
                if condition.signal == signal
                    && state.done_at.is_none()
                    && condition.holds(sample.value)
                {
                    *state = ItemState {
                        done_at: Some(sample.at),
                        auto: true,
                    };
                }
            }
        }
    }

    /// Since when every condition of recovery holds at `now`, if it does. Each recovery signal
    /// with a baseline band needs a recent value in it; a signal the baseline had no value of
    /// is left out, but recovery is never declared on no signal at all.
    fn all_back_since(&self, now: UnixSeconds) -> Option<UnixSeconds> {
        if self.state.phase != Phase::Recover {
            return None;
        }
        let mut since = self.state.entered(Phase::Recover)?;
        let failures_injected = self
            .state
            .injection
            .as_ref()
            .is_some_and(|plan| plan.failures.is_some());
        if self.case.recovery.failures_cleared && failures_injected {
            since = since.max(self.state.failures_cleared_at?);
        }
        since = since.max(self.dependency_ready_since()?);
        let mut verified = 0;
        for track in self
            .state
            .recovery
            .iter()
            .filter(|t| t.band_high.is_some() || t.band_low.is_some())
        {
            let fresh = track
                .last_at
                .is_some_and(|last_at| now - last_at <= VALUE_STALE_AFTER_S);
            if !fresh {
                return None;
            }
            since = since.max(track.in_band_since?);
            verified += 1;
        }
        (verified > 0).then_some(since)
    }

    fn check_recovered(&mut self, now: UnixSeconds, directives: &mut Vec<Directive>) {
        let Some(since) = self.all_back_since(now) else {
            return;
        };
        if now - since >= self.case.recovery.hold.as_secs_f64() {
            self.state.recovered_at = Some(since);
            self.state.verified_at = Some(now);
            self.enter(Phase::Review, now, directives);
        }
    }
}

/// A threshold or median as a person reads it: no trailing zeros, at most 3 decimals.
fn format_figure(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn ignored(reason: String) -> Vec<Directive> {
    vec![Directive::Ignored { reason }]
}
