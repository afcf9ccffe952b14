//! [`LoadHandle`]: a run of the load generator on the current tokio runtime, steered by the
//! dashboard (rate, profile) and read through cheap snapshots.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::attempt::{EndpointUrls, Sender};
use super::closed::ClosedRun;
use super::open::OpenRun;
use super::profile::Profile;
use super::stats::{LoadSnapshot, LoadStats, Recorder};
use super::{LoadPlan, MAX_RATE};

/// How answers are awaited after the last request was started, beyond one attempt timeout.
const DRAIN_MARGIN: Duration = Duration::from_secs(1);

/// What the dashboard can change while a run goes on.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Control {
    /// The base rate, requests/s; 0 pauses.
    pub rate: f64,
    pub profile: Profile,
    /// Where the profile's clock starts.
    pub since: Instant,
    /// False once the run is told to stop: no new request starts, answers are still awaited.
    pub sending: bool,
    /// Closed model: clients wait instead of sending while paused.
    pub paused: bool,
}

impl Control {
    pub fn rate_at(&self, at: Instant) -> f64 {
        self.profile
            .rate_at(self.rate, at.saturating_duration_since(self.since))
    }
}

/// Open: on a schedule, whatever the server does. Closed: N connections, as fast as answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    Open,
    Closed { connections: usize },
}

/// A running load. Dropping it stops the load at once, like [`LoadHandle::stop`].
pub struct LoadHandle {
    control: watch::Sender<Control>,
    recorder: Arc<Recorder>,
    task: Option<JoinHandle<()>>,
    model: Model,
    /// Closed model: each client's pause between requests.
    think: Duration,
    /// The first request's scheduled time; the duration counts from here.
    started: Instant,
}

fn clamp_rate(rate: f64) -> f64 {
    if rate.is_finite() {
        rate.clamp(0.0, MAX_RATE)
    } else {
        0.0
    }
}

impl LoadHandle {
    /// Starts an open-model run on the current tokio runtime. It stops by itself after
    /// `plan.duration`, or runs until stopped when that is `None`. Only `target` is addressed.
    pub fn start_open(http: reqwest::Client, target: String, plan: LoadPlan) -> LoadHandle {
        let (handle, sender, receiver) = LoadHandle::prepare(http, target, &plan, Model::Open);
        let run = OpenRun {
            until: plan.duration.map(|d| handle.started + d),
            drain: plan.retry.attempt_timeout + DRAIN_MARGIN,
            sender,
            mix: plan.mix,
            retry: plan.retry,
            max_in_flight: plan.max_in_flight.clamp(1, super::MAX_IN_FLIGHT),
        };
        handle.spawn(run.run(receiver))
    }

    /// Starts a closed-model run: `connections` clients, each sending its next request when the
    /// previous one is answered. `plan.rate` and `plan.profile` do not apply.
    pub fn start_closed(
        http: reqwest::Client,
        target: String,
        plan: LoadPlan,
        connections: usize,
    ) -> LoadHandle {
        let connections = connections.max(1);
        let model = Model::Closed { connections };
        let target_for_plain = target.clone();
        let (mut handle, sender, receiver) = LoadHandle::prepare(http, target, &plan, model);
        handle.think = plan.think;
        let think = plan.think;
        let run = ClosedRun {
            until: plan.duration.map(|d| handle.started + d),
            sender,
            mix: plan.mix,
            connections,
            think,
            plain: super::connection::PlainTarget::parse(target_for_plain.trim_end_matches('/')),
        };
        handle.spawn(run.run(receiver))
    }

    fn prepare(
        http: reqwest::Client,
        target: String,
        plan: &LoadPlan,
        model: Model,
    ) -> (LoadHandle, Sender, watch::Receiver<Control>) {
        let now = Instant::now();
        let recorder = Arc::new(Recorder::new(now));
        let (control, receiver) = watch::channel(Control {
            rate: clamp_rate(plan.rate),
            profile: plan.profile,
            since: now,
            sending: true,
            paused: false,
        });
        let sender = Sender {
            http,
            urls: Arc::new(EndpointUrls::new(target.trim_end_matches('/'))),
            recorder: Arc::clone(&recorder),
            attempt_timeout: plan.retry.attempt_timeout,
        };
        let handle = LoadHandle {
            control,
            recorder,
            task: None,
            model,
            think: Duration::ZERO,
            started: now,
        };
        (handle, sender, receiver)
    }

    fn spawn(mut self, run: impl Future<Output = ()> + Send + 'static) -> LoadHandle {
        self.task = Some(tokio::spawn(run));
        self
    }

    /// Sets the base rate (requests/s, clamped to 0..=MAX_RATE); 0 pauses.
    pub fn set_rate(&self, rate: f64) {
        self.control
            .send_modify(|control| control.rate = clamp_rate(rate));
    }

    /// Switches profile and restarts its clock (a spike comes `at` from now).
    pub fn set_profile(&self, profile: Profile) {
        self.control.send_modify(|control| {
            control.profile = profile;
            control.since = Instant::now();
        });
    }

    /// Closed model: pauses or resumes the clients (each finishes the request it has out).
    pub fn set_paused(&self, paused: bool) {
        self.control.send_modify(|control| control.paused = paused);
    }

    pub fn is_paused(&self) -> bool {
        self.control.borrow().paused
    }

    /// A closed run in a few words (`closed: 1 client, think 150ms`); `None` for an open one,
    /// which its rate and profile describe.
    pub fn closed_description(&self) -> Option<String> {
        let Model::Closed { connections } = self.model else {
            return None;
        };
        let clients = if connections == 1 {
            "client"
        } else {
            "clients"
        };
        let think = crate::units::HumanDuration(self.think);
        let paused = if self.is_paused() { ", paused" } else { "" };
        Some(format!(
            "closed: {connections} {clients}, think {think}{paused}"
        ))
    }

    pub fn rate(&self) -> f64 {
        self.control.borrow().rate
    }

    pub fn profile(&self) -> Profile {
        self.control.borrow().profile
    }

    pub fn model(&self) -> Model {
        self.model
    }

    /// The figures so far; takes one short lock and merges ten small histograms.
    pub fn snapshot(&self) -> LoadSnapshot {
        let (name, rate) = {
            let control = self.control.borrow();
            let rate = match self.model {
                Model::Open if !self.is_finished() => control.rate_at(Instant::now()),
                _ => 0.0,
            };
            (control.profile.name(), rate)
        };
        self.recorder.snapshot(name, rate)
    }

    /// The cumulative figures alone (status map and full-precision latency histogram).
    pub fn totals(&self) -> LoadStats {
        self.recorder.totals()
    }

    /// Whether the run has ended by itself (its duration passed and answers were awaited).
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Stops sending at once; requests in flight are abandoned.
    pub fn stop(mut self) {
        self.abort();
    }

    /// Waits for the run to end by its duration and for the answers still due (bounded by one
    /// attempt timeout), then returns the final figures. Never returns for a run without a
    /// duration: use [`LoadHandle::stop_and_wait`] there.
    pub async fn finish(mut self) -> LoadSnapshot {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.recorder.sending_ended();
        self.snapshot()
    }

    /// Stops sending now, gives requests in flight up to `grace` to be answered, and returns
    /// the final figures (for Ctrl-C in the headless command).
    pub async fn stop_and_wait(mut self, grace: Duration) -> LoadSnapshot {
        self.control.send_modify(|control| control.sending = false);
        if let Some(task) = self.task.as_mut() {
            let _ = tokio::time::timeout(grace, task).await;
        }
        self.abort();
        self.snapshot()
    }

    fn abort(&mut self) {
        self.recorder.sending_ended();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for LoadHandle {
    fn drop(&mut self) {
        self.abort();
    }
}
