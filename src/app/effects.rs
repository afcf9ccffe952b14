//! The effects runner: the only place the dashboard acts on the world. Requests go to the
//! controller, the load generator is driven here (the background load and a drill's own),
//! and session records are written by a writer task off the event loop. What it learns comes
//! back as [`Msg`] for `update`.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::drill::case::ClosedLoop;
use crate::drill::record::{SessionRecord, write_record};
use crate::load::{self, LoadHandle, LoadPlan, MAX_IN_FLIGHT, Mix, Profile, RetryPolicy};
use crate::model::{Effect, LoadChange, Msg, TargetRequest};

/// Each `+`/`-` changes the load rate by this factor.
const LOAD_STEP: f64 = 1.5;
const MAX_LOAD_RATE: f64 = 2000.0;
/// The slowest rate `-` goes to before pausing: one request every ten seconds.
const MIN_LOAD_RATE: f64 = 0.1;

pub enum Flow {
    Continue,
    Quit,
    /// A reset is on its way: quit when it is answered, or after a while.
    QuitAfterReset,
}

/// What a drill's load may do on this target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrillLoadPolicy {
    /// False with `--load off` (or a rate of 0) and in read-only mode: a drill then runs on
    /// whatever traffic the target has.
    pub allowed: bool,
    /// Requests unanswered at once. A target that is not gameday's sandbox may have a handful
    /// of threads (the workshop's: 4 per worker): the drill's load must leave it able to
    /// answer a reset. Our sandbox answers its control endpoints outside its workers, so once
    /// the target says it is one (`Effect::OwnSandbox`) the cap is lifted: the cascade cases
    /// need more than a few payments in flight to show it.
    pub max_in_flight: usize,
}

impl DrillLoadPolicy {
    /// Requests in flight on a target that is not our own sandbox.
    pub const EXTERNAL_IN_FLIGHT: usize = 2;

    pub fn new(settings: &crate::config::Settings, embedded: bool) -> DrillLoadPolicy {
        use crate::config::LoadSetting;
        let off = matches!(settings.load, LoadSetting::Off)
            || matches!(settings.load, LoadSetting::Rate(rate) if rate <= 0.0);
        DrillLoadPolicy {
            allowed: !off && !settings.read_only,
            max_in_flight: if embedded {
                crate::load::MAX_IN_FLIGHT
            } else {
                Self::EXTERNAL_IN_FLIGHT
            },
        }
    }
}

pub struct EffectsRunner {
    requests: mpsc::Sender<TargetRequest>,
    load: Option<LoadHandle>,
    /// The background load (rate, profile) from before a drill took the load over; the outer
    /// None means no drill has.
    background: Option<Option<(f64, Profile)>>,
    api_url: String,
    /// How a drill's load may run on this target.
    drill_load: DrillLoadPolicy,
    records: mpsc::UnboundedSender<(PathBuf, Box<SessionRecord>)>,
    writer: JoinHandle<()>,
    /// Holds the replay driver (true) or lets it play; only in a replay.
    replay_pause: Option<tokio::sync::watch::Sender<bool>>,
}

impl EffectsRunner {
    /// `results` carries what the runner learns later (a record that could not be written).
    pub fn new(
        requests: mpsc::Sender<TargetRequest>,
        load: Option<LoadHandle>,
        api_url: String,
        drill_load: DrillLoadPolicy,
        results: mpsc::UnboundedSender<Msg>,
    ) -> EffectsRunner {
        let (records, queue) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_records(queue, results));
        EffectsRunner {
            requests,
            load,
            background: None,
            api_url,
            drill_load,
            records,
            writer,
            replay_pause: None,
        }
    }

    /// The runner of a replay, whose Space pauses the driver through `pause`.
    pub fn with_replay_pause(mut self, pause: Option<tokio::sync::watch::Sender<bool>>) -> Self {
        self.replay_pause = pause;
        self
    }

    /// What the background load runs now, for the model at start. A closed loop has no rate
    /// of its own: its figure is what its clients sent lately (0 while paused).
    pub fn load_status(&self) -> Msg {
        match &self.load {
            Some(load) => match load.closed_description() {
                Some(description) => Msg::LoadChanged {
                    rate: if load.is_paused() {
                        0.0
                    } else {
                        load.snapshot().recent.requests_per_s
                    },
                    profile: description,
                    by_user: false,
                },
                None => Msg::LoadChanged {
                    rate: load.rate(),
                    profile: load.profile().to_string(),
                    by_user: false,
                },
            },
            None => Msg::LoadStopped,
        }
    }

    pub fn load_snapshot(&self) -> Option<Box<crate::load::LoadSnapshot>> {
        self.load.as_ref().map(|load| Box::new(load.snapshot()))
    }

    /// Carries out one effect; messages for `update` come back at once.
    pub fn carry_out(&mut self, effect: Effect, replies: &mut Vec<Msg>) -> Flow {
        match effect {
            Effect::Send(request) => {
                if self.requests.try_send(request).is_err() {
                    replies.push(Msg::RequestRefused);
                }
            }
            Effect::Quit => return Flow::Quit,
            Effect::QuitAfterReset => return Flow::QuitAfterReset,
            Effect::Load(change) => replies.extend(self.change_load(change)),
            Effect::DrillLoad(Some(_)) if !self.drill_load.allowed => {
                replies.push(Msg::DrillLoadFailed {
                    reason: "not started: the load is off (--load off or read-only)".to_string(),
                });
            }
            Effect::DrillLoad(Some(spec)) => {
                if self.background.is_none() {
                    self.background = Some(self.load.as_ref().map(|l| (l.rate(), l.profile())));
                }
                match (spec.profile.parse::<Profile>(), spec.closed) {
                    (_, Some(closed)) => self.start_closed(closed, spec.mix.clone()),
                    (Ok(profile), None) => {
                        let in_flight = self.drill_load.max_in_flight;
                        self.restart_load(profile, spec.rate, spec.mix.clone(), in_flight)
                    }
                    (Err(reason), None) => replies.push(Msg::DrillLoadFailed { reason }),
                }
                replies.push(self.load_status());
            }
            Effect::OwnSandbox => self.drill_load.max_in_flight = MAX_IN_FLIGHT,
            Effect::DrillLoad(None) => {
                if let Some(background) = self.background.take() {
                    match background {
                        Some((rate, profile)) => {
                            self.restart_load(profile, rate, Mix::default(), MAX_IN_FLIGHT)
                        }
                        None => {
                            if let Some(load) = self.load.take() {
                                load.stop();
                            }
                        }
                    }
                }
                replies.push(self.load_status());
            }
            Effect::SaveRecord { data_dir, record } => {
                // The writer is gone only while quitting; the last record is written then.
                let _ = self.records.send((data_dir, record));
            }
            Effect::PauseReplay(paused) => {
                if let Some(pause) = &self.replay_pause {
                    // The driver gone means the replay ended: nothing to hold.
                    let _ = pause.send(paused);
                }
            }
        }
        Flow::Continue
    }

    fn change_load(&mut self, change: LoadChange) -> Option<Msg> {
        let load = self.load.as_ref()?;
        if load.closed_description().is_some() {
            // A closed loop has no rate to step: `-` pauses its clients, `+` lets them go on.
            match change {
                LoadChange::Slower => load.set_paused(true),
                LoadChange::Faster => load.set_paused(false),
                LoadChange::NextProfile => return None,
            }
            let Msg::LoadChanged { rate, profile, .. } = self.load_status() else {
                return None;
            };
            return Some(Msg::LoadChanged {
                rate,
                profile,
                by_user: true,
            });
        }
        match change {
            LoadChange::Faster => load.set_rate(faster(load.rate())),
            LoadChange::Slower => load.set_rate(slower(load.rate())),
            LoadChange::NextProfile => load.set_profile(load.profile().next_default()),
        }
        Some(Msg::LoadChanged {
            rate: load.rate(),
            profile: load.profile().to_string(),
            by_user: true,
        })
    }

    fn restart_load(&mut self, profile: Profile, rate: f64, mix: Mix, max_in_flight: usize) {
        if let Some(load) = self.load.take() {
            load.stop();
        }
        if let Ok(client) = load::http_client() {
            let plan = LoadPlan {
                profile,
                rate,
                duration: None,
                mix,
                retry: RetryPolicy::default(),
                max_in_flight,
                think: Duration::ZERO,
            };
            self.load = Some(LoadHandle::start_open(client, self.api_url.clone(), plan));
        }
    }

    /// A case's closed loop; never more clients than the target may have requests in flight.
    fn start_closed(&mut self, closed: ClosedLoop, mix: Mix) {
        if let Some(load) = self.load.take() {
            load.stop();
        }
        if let Ok(client) = load::http_client() {
            let clients = closed.clients.min(self.drill_load.max_in_flight).max(1);
            let plan = LoadPlan {
                profile: Profile::Steady,
                rate: 0.0,
                duration: None,
                mix,
                retry: RetryPolicy::default(),
                max_in_flight: clients,
                think: closed.think,
            };
            let url = self.api_url.clone();
            self.load = Some(LoadHandle::start_closed(client, url, plan, clients));
        }
    }

    /// Stops the load and waits (briefly) for the records still queued, then writes `last`.
    pub async fn finish(self, last: Option<Effect>) {
        if let Some(load) = self.load {
            load.stop();
        }
        drop(self.records);
        let _ = tokio::time::timeout(Duration::from_secs(5), self.writer).await;
        if let Some(Effect::SaveRecord { data_dir, record }) = last {
            let _ = tokio::task::spawn_blocking(move || write_record(&data_dir, &record)).await;
        }
    }
}

/// The next rate up: from a pause, the slowest rate; otherwise ×1.5, kept readable.
fn faster(rate: f64) -> f64 {
    if rate <= 0.0 {
        return MIN_LOAD_RATE;
    }
    readable(rate * LOAD_STEP).min(MAX_LOAD_RATE)
}

/// The next rate down: ÷1.5 down to one request every ten seconds, then a pause (0).
fn slower(rate: f64) -> f64 {
    let next = readable(rate / LOAD_STEP);
    if next < MIN_LOAD_RATE { 0.0 } else { next }
}

/// Whole numbers from 10/s up, one decimal below 10/s, two below 1/s.
fn readable(rate: f64) -> f64 {
    let scale = if rate >= 10.0 {
        1.0
    } else if rate >= 1.0 {
        10.0
    } else {
        100.0
    };
    (rate * scale).round() / scale
}

/// Writes records one at a time, in order, off the event loop; of several queued for one file
/// only the newest is written.
async fn write_records(
    mut queue: mpsc::UnboundedReceiver<(PathBuf, Box<SessionRecord>)>,
    results: mpsc::UnboundedSender<Msg>,
) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while let Ok(next) = queue.try_recv() {
            batch.retain(|(dir, record)| {
                !(*dir == next.0 && record.file_name() == next.1.file_name())
            });
            batch.push(next);
        }
        let written = tokio::task::spawn_blocking(move || {
            batch
                .iter()
                .map(|(dir, record)| write_record(dir, record))
                .find_map(Result::err)
        })
        .await;
        let failure = match written {
            Ok(failure) => failure,
            Err(join) => Some(format!("the writer stopped: {join}")),
        };
        if let Some(reason) = failure {
            let _ = results.send(Msg::RecordNotSaved { reason });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_load_steps_below_one_request_a_second_down_to_a_pause_and_back() {
        let mut rate = 2.0;
        let mut down = Vec::new();
        while rate > 0.0 {
            rate = slower(rate);
            down.push(rate);
        }
        assert_eq!(down, [1.3, 0.87, 0.58, 0.39, 0.26, 0.17, 0.11, 0.0]);
        assert_eq!(faster(0.0), MIN_LOAD_RATE);
        assert_eq!(faster(20.0), 30.0);
        assert_eq!(faster(1900.0), MAX_LOAD_RATE);
    }
}
