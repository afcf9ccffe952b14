//! The dashboard's sources, one task each, sending typed updates over one channel to the app
//! loop. The periodic ones (scrape, Prometheus, the API's failure read-back and health check,
//! Docker) implement [`Poller`] and run under [`run_poller`], which keeps one poll in flight,
//! backs off after failures and reports each source's status; the process source forwards the
//! embedded sandbox's supervisor events as they come. [`SignalOwners`] says which source's
//! figure of a signal is shown.

pub mod api;
pub mod close_watch;
pub mod dependency_state;
pub mod docker;
pub mod exposition;
pub mod fincore_log;
pub mod health;
pub mod owners;
pub mod plausible;
pub mod poller;
pub mod process;
pub mod processes;
pub mod prometheus;
pub mod scrape;
mod scrape_dependency;
pub mod scrape_window;
pub mod store;

use tokio::sync::mpsc;

pub use owners::SignalOwners;
pub use poller::{Poller, SourceError, run_poller};

use crate::actions::ActionOutcome;
use crate::alerts::AlertStatus;
use crate::fincore::FailureView;
use crate::fincore::dependency::ProviderFailureView;
use crate::fincore::presets::Capabilities;
use crate::pattern_settings::PatternConfig;
use crate::signals::{Sample, Signal, UnixSeconds};

/// Where a figure came from; the header shows each one's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceKind {
    /// The API's failure state and health: first, as it is the target itself.
    Api,
    /// The API's own `/metrics`, scraped and differenced locally.
    Scrape,
    Prometheus,
    Docker,
    /// The embedded sandbox's process, watched by its supervisor.
    Process,
}

impl SourceKind {
    pub fn label(self) -> &'static str {
        match self {
            SourceKind::Scrape => "metrics",
            SourceKind::Prometheus => "prometheus",
            SourceKind::Docker => "docker",
            SourceKind::Process => "process",
            SourceKind::Api => "api",
        }
    }
}

/// A source's health as the header shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceStatus {
    Connecting,
    Ok { at: UnixSeconds },
    Down { reason: String, since: UnixSeconds },
}

/// A log line for the log panel.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub at: UnixSeconds,
    pub level: LogLevel,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Info,
    Warn,
    Error,
}

/// Everything a source tells the app.
#[derive(Debug, Clone)]
pub enum Update {
    Status(SourceKind, SourceStatus),
    Signals {
        source: SourceKind,
        at: UnixSeconds,
        values: Vec<(Signal, f64)>,
    },
    /// Older history to backfill, e.g. from a Prometheus range query at start.
    History {
        signal: Signal,
        samples: Vec<Sample>,
    },
    Alerts(Vec<AlertStatus>),
    Failures(FailureView),
    /// The payment provider's failure state, read back from the provider.
    ProviderFailures(ProviderFailureView),
    /// The target's resilience patterns, read back.
    Patterns(PatternConfig),
    Logs(Vec<LogLine>),
    /// The embedded sandbox's lifecycle (started, killed for memory, restarted).
    Lifecycle {
        event: String,
    },
    /// What the target can take, learnt once it answers.
    Capabilities(Capabilities),
    /// The answer to something the user asked of the target.
    Outcome(ActionOutcome),
    /// What the API's `/health` says (ok, slow, degraded, failing, unreachable).
    Health(health::ApiHealth),
    /// How many processes answer behind the scraped address (each scrape sees one).
    Processes(usize),
    /// The resilience patterns around the target's upstream calls and whether each is on
    /// (`fintech_pattern_enabled`), in the target's order; sent only by a target that has them.
    PatternsEnabled(Vec<(String, bool)>),
    /// Prometheus's `up` for the FinCore target it scrapes: whether its last scrape worked;
    /// `None` when Prometheus scrapes no FinCore target at all.
    TargetUp(Option<bool>),
    /// How far a replay has played, in seconds into the record; `finished` at its end.
    ReplayPosition {
        offset_s: f64,
        finished: bool,
    },
}

pub type UpdateSender = mpsc::Sender<Update>;
