//! Everything the screen shows, as plain data: updated by messages, rendered by `ui`, tested
//! without a terminal.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use super::action::Effect;
use super::control::Command;
use super::drill::DrillSession;
use super::modal::Modal;
use crate::actions::ActionOutcome;
use crate::alerts::{AlertStatus, LocalAlerts, workshop_rules};
use crate::fincore::FailureView;
use crate::fincore::presets::Capabilities;
use crate::signals::{Sample, Signal, UnixSeconds};
use crate::sources::store::SeriesStore;
use crate::sources::{LogLevel, LogLine, SourceKind, SourceStatus, Update};

/// How long charts keep history.
pub const RETENTION: Duration = Duration::from_secs(15 * 60);
/// A value older than this is not shown as current (a few missed polls).
const STALE_AFTER_S: f64 = 10.0;
/// Log lines kept for the log panel.
const LOG_CAPACITY: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PanelId {
    Latency,
    Traffic,
    Memory,
    Transactions,
    Alerts,
    Failures,
    Logs,
}

impl PanelId {
    pub const ORDER: [PanelId; 7] = [
        PanelId::Latency,
        PanelId::Traffic,
        PanelId::Memory,
        PanelId::Transactions,
        PanelId::Alerts,
        PanelId::Failures,
        PanelId::Logs,
    ];

    pub fn next(self) -> PanelId {
        let index = Self::ORDER.iter().position(|p| *p == self).unwrap_or(0);
        Self::ORDER[(index + 1) % Self::ORDER.len()]
    }

    pub fn previous(self) -> PanelId {
        let index = Self::ORDER.iter().position(|p| *p == self).unwrap_or(0);
        Self::ORDER[(index + Self::ORDER.len() - 1) % Self::ORDER.len()]
    }
}

/// What the dashboard watches, for the header.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetInfo {
    pub embedded: bool,
    pub api_url: String,
    /// Which source the traffic and latency panels read, and over which window.
    pub metrics_source: SourceKind,
    pub metrics_window: String,
    /// Which source gives memory, limit and restarts.
    pub memory_source: Option<SourceKind>,
}

impl TargetInfo {
    /// The embedded default: the supervised sandbox at `api_url`, its own `/metrics` scraped,
    /// memory from its process.
    pub fn embedded(api_url: String) -> TargetInfo {
        TargetInfo {
            embedded: true,
            api_url,
            metrics_source: SourceKind::Scrape,
            metrics_window: format!("{} s", crate::sources::scrape::SCRAPE_WINDOW.as_secs()),
            memory_source: Some(SourceKind::Process),
        }
    }
}

/// Which source each signal is taken from: the more direct source wins (Docker over the
/// process over the API's own metrics), so two sources never draw one line.
pub fn signal_owners(target: &TargetInfo) -> BTreeMap<Signal, SourceKind> {
    let mut owners = BTreeMap::new();
    for signal in Signal::ALL {
        owners.insert(signal, target.metrics_source);
    }
    // Only the API itself says whether it answers.
    owners.insert(Signal::Up, SourceKind::Api);
    if let Some(memory) = target.memory_source {
        for signal in [
            Signal::MemoryBytes,
            Signal::MemoryLimitBytes,
            Signal::Restarts,
            Signal::CpuCores,
        ] {
            owners.insert(signal, memory);
        }
    }
    owners
}

pub struct AppState {
    pub target: TargetInfo,
    pub store: SeriesStore,
    owners: BTreeMap<Signal, SourceKind>,
    pub sources: BTreeMap<SourceKind, SourceStatus>,
    pub alerts: Vec<AlertStatus>,
    /// `None` when Prometheus evaluates the rules.
    local_alerts: Option<LocalAlerts>,
    pub failures: Option<FailureView>,
    pub logs: VecDeque<LogLine>,
    pub log_scroll: usize,
    pub lifecycle: Option<(UnixSeconds, String)>,
    pub focus: PanelId,
    pub zoomed: bool,
    pub help: bool,
    pub theme_name: String,
    pub now: UnixSeconds,
    /// Watch only: no key changes the target.
    pub read_only: bool,
    /// The time to live each injection carries, where the target takes one.
    pub ttl: Option<Duration>,
    pub capabilities: Option<Capabilities>,
    /// A request on its way, and the answer to the last one.
    pub pending: Option<String>,
    pub last_outcome: Option<ActionOutcome>,
    pub modal: Option<Modal>,
    /// The background load, when there is one.
    pub load: Option<LoadStatus>,
    /// Resetting before quitting: the loop quits when the answer comes.
    pub quitting: bool,
    /// The drill in progress or just reviewed.
    pub drill: Option<DrillSession>,
    /// Cases offered by `c`.
    pub cases: Vec<crate::drill::Case>,
    /// What updates asked the loop to do (drill directives), taken by the loop after each.
    pub effects: Vec<Effect>,
}

/// The background load as the dashboard drives it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadStatus {
    pub rate: f64,
    pub profile: String,
    /// What the clients saw, refreshed every second.
    pub snapshot: Option<crate::load::LoadSnapshot>,
}

impl AppState {
    pub fn new(
        target: TargetInfo,
        sources: &[SourceKind],
        local_rules: bool,
        now: UnixSeconds,
    ) -> Self {
        AppState {
            owners: signal_owners(&target),
            target,
            store: SeriesStore::new(RETENTION),
            sources: sources
                .iter()
                .map(|kind| (*kind, SourceStatus::Connecting))
                .collect(),
            alerts: Vec::new(),
            local_alerts: local_rules.then(|| LocalAlerts::new(workshop_rules())),
            failures: None,
            logs: VecDeque::with_capacity(LOG_CAPACITY),
            log_scroll: 0,
            lifecycle: None,
            focus: PanelId::Latency,
            zoomed: false,
            help: false,
            theme_name: "dark".to_string(),
            now,
            read_only: false,
            ttl: None,
            capabilities: None,
            pending: None,
            last_outcome: None,
            modal: None,
            load: None,
            quitting: false,
            drill: None,
            cases: Vec::new(),
            effects: Vec::new(),
        }
    }

    /// A drill that has not ended yet.
    pub fn drill_running(&self) -> bool {
        self.drill.as_ref().is_some_and(DrillSession::is_running)
    }

    /// Starts a drill waiting for the target, once what the target can take is known.
    pub fn start_drill_if_ready(&mut self) {
        let Some(capabilities) = &self.capabilities else {
            return;
        };
        let target = crate::drill::TargetCapabilities {
            sandbox: capabilities.sandbox,
            docker: self.target.memory_source == Some(SourceKind::Docker),
            prometheus: self.target.metrics_source == SourceKind::Prometheus,
        };
        self.with_drill(|drill, now| drill.start(target, now));
    }

    /// Runs `step` on the drill, if there is one, and queues what it asks for.
    pub fn with_drill(&mut self, step: impl FnOnce(&mut DrillSession, UnixSeconds) -> Vec<Effect>) {
        let now = self.now;
        let Some(drill) = self.drill.as_mut() else {
            return;
        };
        let effects = step(drill, now);
        let lines = std::mem::take(&mut drill.log);
        self.effects.extend(effects);
        for line in lines {
            self.push_log(now, LogLevel::Info, line);
        }
    }

    /// Failures outlive us only on a target we did not start; there, quitting asks first.
    pub fn should_ask_before_quit(&self) -> bool {
        !self.target.embedded
            && !self.read_only
            && self.failures.as_ref().is_some_and(FailureView::any_active)
    }

    /// Notes a request as in flight and hands it to the loop.
    pub fn sending(&mut self, command: Command) -> Effect {
        self.pending = Some(command.describe());
        Effect::Send(command)
    }

    pub fn uses_local_rules(&self) -> bool {
        self.local_alerts.is_some()
    }

    /// Applies one update.
    pub fn apply(&mut self, update: Update) {
        match update {
            Update::Status(kind, status) => {
                let previous = self.sources.get(&kind);
                let was_down = matches!(previous, Some(SourceStatus::Down { .. }));
                let status = match (previous, status) {
                    // Keep when it first went down, so the header says for how long.
                    (Some(SourceStatus::Down { since, .. }), SourceStatus::Down { reason, .. }) => {
                        SourceStatus::Down {
                            reason,
                            since: *since,
                        }
                    }
                    (_, status) => status,
                };
                // The header has room for a short reason only; the log keeps the whole of it.
                let change = match (&status, was_down) {
                    (SourceStatus::Down { reason, .. }, false) => Some((
                        LogLevel::Warn,
                        format!("gameday: {} down: {reason}", kind.label()),
                    )),
                    (SourceStatus::Ok { .. }, true) => {
                        Some((LogLevel::Info, format!("gameday: {} back", kind.label())))
                    }
                    _ => None,
                };
                self.sources.insert(kind, status);
                if let Some((level, text)) = change {
                    self.push_log(self.now, level, text);
                }
            }
            Update::Signals { source, at, values } => {
                let mut taken = Vec::with_capacity(values.len());
                for (signal, value) in values {
                    if self.owners.get(&signal) == Some(&source) {
                        self.store.push(signal, Sample { at, value });
                        taken.push((signal, Sample { at, value }));
                    }
                }
                if source == self.target.metrics_source {
                    self.evaluate_local_alerts(at);
                }
                self.store.prune(at);
                self.with_drill(|drill, _| drill.samples(&taken));
                self.tell_drill_alerts();
            }
            Update::History { signal, samples } => {
                // Only Prometheus sends history; a signal another source owns keeps its own.
                if self.owners.get(&signal) == Some(&SourceKind::Prometheus) {
                    self.store.extend_history(signal, samples);
                }
            }
            Update::Alerts(alerts) => {
                if self.local_alerts.is_none() {
                    self.alerts = alerts;
                    self.tell_drill_alerts();
                }
            }
            Update::Failures(view) => {
                self.with_drill(|drill, now| drill.failures(&view, now));
                self.failures = Some(view);
            }
            Update::Logs(lines) => {
                for line in lines {
                    if self.logs.len() == LOG_CAPACITY {
                        self.logs.pop_front();
                    }
                    self.logs.push_back(line);
                }
            }
            Update::Lifecycle { event } => {
                self.lifecycle = Some((self.now, event));
            }
            Update::Capabilities(capabilities) => {
                self.capabilities = Some(capabilities);
                self.start_drill_if_ready();
            }
            Update::Outcome(outcome) => {
                self.pending = None;
                let level = if outcome.ok {
                    LogLevel::Info
                } else {
                    LogLevel::Error
                };
                let mut text = format!("gameday: {} → {}", outcome.request, outcome.answer);
                for note in &outcome.notes {
                    text.push_str("; ");
                    text.push_str(note);
                }
                self.push_log(outcome.at, level, text);
                self.with_drill(|drill, _| drill.outcome(&outcome));
                self.last_outcome = Some(outcome);
            }
        }
    }

    fn tell_drill_alerts(&mut self) {
        let now = self.now;
        if let Some(drill) = self.drill.as_mut() {
            drill.alerts(&self.alerts, now);
        }
    }

    fn evaluate_local_alerts(&mut self, at: UnixSeconds) {
        let Some(rules) = self.local_alerts.as_mut() else {
            return;
        };
        let store = &self.store;
        // Only fresh values: a source that stopped must let its alerts resolve.
        rules.evaluate(at, |signal| {
            store
                .latest(signal)
                .filter(|sample| at - sample.at <= STALE_AFTER_S)
                .map(|sample| sample.value)
        });
        self.alerts = rules.statuses().to_vec();
    }

    /// The latest value of a signal, if it is recent enough to show (three polls old at most).
    pub fn current(&self, signal: Signal) -> Option<f64> {
        self.store
            .latest(signal)
            .filter(|sample| self.now - sample.at <= STALE_AFTER_S)
            .map(|sample| sample.value)
    }

    pub fn push_log(&mut self, at: UnixSeconds, level: LogLevel, text: String) {
        self.apply(Update::Logs(vec![LogLine { at, level, text }]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> TargetInfo {
        TargetInfo::embedded("http://127.0.0.1:5000".to_string())
    }

    #[test]
    fn memory_comes_from_the_more_direct_source_only() {
        let mut state = AppState::new(
            target(),
            &[SourceKind::Scrape, SourceKind::Process],
            true,
            100.0,
        );
        state.apply(Update::Signals {
            source: SourceKind::Scrape,
            at: 100.0,
            values: vec![(Signal::MemoryBytes, 1.0), (Signal::Rps, 20.0)],
        });
        state.apply(Update::Signals {
            source: SourceKind::Process,
            at: 100.0,
            values: vec![(Signal::MemoryBytes, 2.0)],
        });
        assert_eq!(state.current(Signal::MemoryBytes), Some(2.0));
        assert_eq!(state.current(Signal::Rps), Some(20.0));
    }

    #[test]
    fn a_source_that_stays_down_keeps_its_first_failure_time() {
        let mut state = AppState::new(target(), &[SourceKind::Scrape], true, 0.0);
        let down = |since: f64| SourceStatus::Down {
            reason: "connection refused".to_string(),
            since,
        };
        state.apply(Update::Status(SourceKind::Scrape, down(10.0)));
        state.apply(Update::Status(SourceKind::Scrape, down(15.0)));
        assert_eq!(state.sources[&SourceKind::Scrape], down(10.0));
    }

    #[test]
    fn prometheus_history_fills_only_the_signals_prometheus_owns() {
        let mut target = target();
        target.metrics_source = SourceKind::Prometheus;
        target.memory_source = Some(SourceKind::Docker);
        let mut state = AppState::new(target, &[SourceKind::Prometheus], false, 100.0);
        let history = |signal| Update::History {
            signal,
            samples: vec![Sample {
                at: 95.0,
                value: 7.0,
            }],
        };
        state.apply(history(Signal::Rps));
        state.apply(history(Signal::MemoryBytes));
        assert_eq!(state.current(Signal::Rps), Some(7.0));
        assert_eq!(state.current(Signal::MemoryBytes), None);
    }

    #[test]
    fn focus_cycles_through_every_panel() {
        let mut focus = PanelId::Latency;
        for _ in 0..PanelId::ORDER.len() {
            focus = focus.next();
        }
        assert_eq!(focus, PanelId::Latency);
        assert_eq!(PanelId::Latency.previous(), PanelId::Logs);
    }
}
