//! The load generator. The open model (the default) starts requests at the scheduled rate
//! whatever the server does, with latency measured from the scheduled time, so a slow server
//! shows as queueing (corrected for coordinated omission). The closed model (N connections as
//! fast as answered) measures throughput. It knows nothing of the UI: a [`LoadHandle`] gives
//! snapshots that the dashboard or the headless command (`command.rs`) reads.

mod attempt;
mod closed;
pub mod command;
mod connection;
mod handle;
pub mod mix;
mod open;
pub mod profile;
pub mod report;
pub mod retry;
pub mod stats;

use std::time::Duration;

pub use handle::{LoadHandle, Model};
pub use mix::{Endpoint, Mix};
pub use profile::Profile;
pub use retry::RetryPolicy;
pub use stats::{LoadSnapshot, LoadStats, Percentiles, RecentWindow, SLOW_REQUEST, UserOutcomes};

/// At most this many requests in flight: a stalled server must not make us hold unbounded
/// tasks. Requests due beyond it are counted as dropped, not sent late.
pub const MAX_IN_FLIGHT: usize = 512;
/// The highest base rate, requests/s.
pub const MAX_RATE: f64 = 100_000.0;

/// What to send, how fast and for how long.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadPlan {
    pub profile: Profile,
    /// The base rate, requests/s; profiles shape it over time.
    pub rate: f64,
    /// `None`: until stopped (the dashboard).
    pub duration: Option<Duration>,
    pub mix: Mix,
    /// How clients retry; used by [`Profile::RetryStorm`] (its attempt timeout by every run).
    pub retry: RetryPolicy,
    /// Open model: requests due while this many are unanswered are dropped (and counted), so
    /// a slow target is never buried under a pile of waiting requests.
    pub max_in_flight: usize,
    /// Closed model: each client's pause between an answer and its next request, as the
    /// workshop's own scripts pause (0.1–0.2 s).
    pub think: Duration,
}

impl LoadPlan {
    /// The dashboard's background load: steady, default mix, until stopped.
    pub fn steady(rate: f64) -> LoadPlan {
        LoadPlan {
            profile: Profile::Steady,
            rate,
            duration: None,
            mix: Mix::default(),
            retry: RetryPolicy::default(),
            max_in_flight: MAX_IN_FLIGHT,
            think: Duration::ZERO,
        }
    }
}

/// An HTTP client for load: no proxy (a proxy from the environment would carry the load
/// elsewhere), no redirects (only the target is addressed), a connection pool per target.
pub fn http_client() -> Result<reqwest::Client, String> {
    crate::fincore::tls::client_builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(MAX_IN_FLIGHT)
        .tcp_nodelay(true)
        .build()
        .map_err(|err| format!("cannot build the HTTP client: {err}"))
}
