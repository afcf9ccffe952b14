//! Live data: what the sources said last — the series store, each source's status, alerts,
//! the failure state, the log, the target's capabilities and the background load's figures.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use super::TargetInfo;
use crate::alerts::{AlertStatus, LocalAlerts, workshop_rules};
use crate::fincore::FailureView;
use crate::fincore::dependency::ProviderFailureView;
use crate::fincore::presets::Capabilities;
use crate::pattern_settings::PatternConfig;
use crate::signals::{Sample, Signal, UnixSeconds};
use crate::sources::health::ApiHealth;
use crate::sources::store::SeriesStore;
use crate::sources::{LogLevel, LogLine, SignalOwners, SourceKind, SourceStatus};

/// How long charts keep history.
pub const RETENTION: Duration = Duration::from_secs(15 * 60);
/// A value older than this is not shown as current (a few missed polls).
const STALE_AFTER_S: f64 = 10.0;
/// Log lines kept for the log panel.
pub const LOG_CAPACITY: usize = 500;

/// The background load as the dashboard drives it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadStatus {
    pub rate: f64,
    pub profile: String,
    /// What the clients saw, refreshed every second.
    pub snapshot: Option<crate::load::LoadSnapshot>,
}

pub struct LiveData {
    pub store: SeriesStore,
    owners: SignalOwners,
    metrics_source: SourceKind,
    pub sources: BTreeMap<SourceKind, SourceStatus>,
    pub alerts: Vec<AlertStatus>,
    /// `None` when Prometheus evaluates the rules.
    local_alerts: Option<LocalAlerts>,
    pub failures: Option<FailureView>,
    /// The payment provider's failure state read back (a target with a provider only).
    pub provider_failures: Option<ProviderFailureView>,
    /// The target's resilience patterns read back (a target that has them only).
    pub patterns: Option<PatternConfig>,
    pub logs: VecDeque<LogLine>,
    /// The last lifecycle event of the target (started, killed for memory, restarted).
    pub lifecycle: Option<(UnixSeconds, String)>,
    pub capabilities: Option<Capabilities>,
    /// The background load, when there is one.
    pub load: Option<LoadStatus>,
    /// What `/health` said last, and since when it says so.
    pub health: Option<(ApiHealth, UnixSeconds)>,
    /// Processes behind the scraped address; above 1 each scrape sees one of them, so the
    /// rates computed from scrapes are not reliable.
    pub processes: usize,
    /// Prometheus's `up` of the FinCore target, in Prometheus mode once it has answered.
    pub target_up: Option<bool>,
    /// The resilience patterns and whether each is on, as the scraped target last said (its
    /// metrics; `patterns` above is its `/api/patterns` with every setting).
    pub patterns_enabled: Vec<(String, bool)>,
    /// The last change of the failure state that gameday did not make (another person, a
    /// restart, a time to live running out): when it was seen and what it was.
    pub failures_changed_outside: Option<(UnixSeconds, String)>,
}

impl LiveData {
    pub fn new(target: &TargetInfo, sources: &[SourceKind], local_rules: bool) -> LiveData {
        LiveData {
            store: SeriesStore::new(RETENTION),
            owners: SignalOwners::new(target.metrics_source, target.memory_source),
            metrics_source: target.metrics_source,
            sources: sources
                .iter()
                .map(|kind| (*kind, SourceStatus::Connecting))
                .collect(),
            alerts: Vec::new(),
            local_alerts: local_rules.then(|| LocalAlerts::new(workshop_rules())),
            failures: None,
            provider_failures: None,
            patterns: None,
            logs: VecDeque::with_capacity(LOG_CAPACITY),
            lifecycle: None,
            capabilities: None,
            load: None,
            health: None,
            processes: 1,
            target_up: None,
            patterns_enabled: Vec::new(),
            failures_changed_outside: None,
        }
    }

    /// The knobs that differ between two reads of the failure state, as `name old → new`.
    pub fn failure_differences(old: &FailureView, new: &FailureView) -> Vec<String> {
        new.knobs
            .iter()
            .filter_map(|(knob, value)| {
                let before = old.value(knob).unwrap_or(0.0);
                let same = before == *value || (before.is_nan() && value.is_nan());
                (!same).then(|| format!("{knob} {before:.0} → {value:.0}"))
            })
            .collect()
    }

    pub fn uses_local_rules(&self) -> bool {
        self.local_alerts.is_some()
    }

    /// A source's new status; the log line to write when it went down or came back.
    pub fn set_status(
        &mut self,
        kind: SourceKind,
        status: SourceStatus,
    ) -> Option<(LogLevel, String)> {
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
        change
    }

    /// Stores the values `source` owns and evaluates the local rules on the metrics source's
    /// values; returns the samples taken, for the drill.
    pub fn push_signals(
        &mut self,
        source: SourceKind,
        at: UnixSeconds,
        values: Vec<(Signal, f64)>,
    ) -> Vec<(Signal, Sample)> {
        let mut taken = Vec::with_capacity(values.len());
        for (signal, value) in values {
            if self.owners.owns(signal, source) {
                self.store.push(signal, Sample { at, value });
                taken.push((signal, Sample { at, value }));
            }
        }
        if source == self.metrics_source {
            self.evaluate_local_alerts(at);
        }
        self.store.prune(at);
        taken
    }

    /// Older history; only Prometheus sends it, and a signal another source owns keeps its own.
    pub fn extend_history(&mut self, signal: Signal, samples: Vec<Sample>) {
        if self.owners.owns(signal, SourceKind::Prometheus) {
            self.store.extend_history(signal, samples);
        }
    }

    /// The API's health; the log line to write when it changed.
    pub fn set_health(&mut self, health: ApiHealth, at: UnixSeconds) -> Option<(LogLevel, String)> {
        if self
            .health
            .as_ref()
            .is_some_and(|(known, _)| *known == health)
        {
            return None;
        }
        let first = self.health.is_none();
        let line = match &health {
            ApiHealth::Ok if first => None,
            ApiHealth::Ok => Some((LogLevel::Info, "gameday: api health: ok (200)".to_string())),
            ApiHealth::Slow => Some((
                LogLevel::Warn,
                "gameday: api health: slow (/health outlasted the probe's timeout)".to_string(),
            )),
            ApiHealth::Degraded { database } => Some((
                LogLevel::Warn,
                format!("gameday: api health: degraded (503), database: {database}"),
            )),
            ApiHealth::Failing { status } => Some((
                LogLevel::Error,
                format!("gameday: api health: failing ({status})"),
            )),
            ApiHealth::Unreachable if first => None,
            ApiHealth::Unreachable => Some((
                LogLevel::Error,
                "gameday: api health: no answer".to_string(),
            )),
        };
        self.health = Some((health, at));
        line
    }

    /// Alerts from Prometheus; ignored while the rules are evaluated here. True when taken.
    pub fn set_alerts(&mut self, alerts: Vec<AlertStatus>) -> bool {
        if self.local_alerts.is_some() {
            return false;
        }
        self.alerts = alerts;
        true
    }

    pub fn push_logs(&mut self, lines: Vec<LogLine>) {
        for line in lines {
            if self.logs.len() == LOG_CAPACITY {
                self.logs.pop_front();
            }
            self.logs.push_back(line);
        }
    }

    pub fn push_log(&mut self, at: UnixSeconds, level: LogLevel, text: String) {
        self.push_logs(vec![LogLine { at, level, text }]);
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
    pub fn current(&self, signal: Signal, now: UnixSeconds) -> Option<f64> {
        self.store
            .latest(signal)
            .filter(|sample| now - sample.at <= STALE_AFTER_S)
            .map(|sample| sample.value)
    }
}
