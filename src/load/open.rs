//! The open model: requests are started on a schedule whatever the server does, so a slow
//! server shows as queueing in the latency (measured from the scheduled time), not as fewer
//! requests. This is what wrk2 and oha's latency correction do against coordinated omission.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::attempt::Sender;
use super::handle::Control;
use super::mix::Mix;
use super::retry::RetryPolicy;

/// How often a paused schedule (rate 0) looks again, e.g. for a ramp up from 0.
const IDLE_CHECK: Duration = Duration::from_millis(100);

pub(super) struct OpenRun {
    pub sender: Sender,
    pub mix: Mix,
    pub retry: RetryPolicy,
    pub until: Option<Instant>,
    /// How long answers are awaited after the last request was started.
    pub drain: Duration,
    pub max_in_flight: usize,
}

fn interval(rate: f64) -> Duration {
    Duration::from_secs_f64(1.0 / rate)
}

impl OpenRun {
    pub async fn run(self, mut control: watch::Receiver<Control>) {
        let limit = Arc::new(Semaphore::new(self.max_in_flight));
        let mut requests = JoinSet::new();
        let mut picker = self.mix.picker();
        let mut current = control.borrow_and_update().clone();
        // The first request is due at once, unless the run starts paused.
        let mut next_due = (current.rate_at(current.since) > 0.0).then_some(current.since);
        let mut next_burst = 0;
        let mut fire = |scheduled: Instant, current: &Control, requests: &mut JoinSet<()>| {
            let endpoint = picker.next_endpoint();
            let Ok(permit) = Arc::clone(&limit).try_acquire_owned() else {
                self.sender.recorder.scheduled(true);
                return;
            };
            self.sender.recorder.scheduled(false);
            let sender = self.sender.clone();
            let retry = current.profile.retries().then_some(self.retry);
            requests.spawn(async move {
                sender.request(endpoint, scheduled, retry).await;
                drop(permit);
            });
        };
        loop {
            while requests.try_join_next().is_some() {}
            let now = Instant::now();
            // Rate 0 pauses bursts too.
            let burst = current
                .profile
                .burst_at(next_burst)
                .filter(|_| current.rate > 0.0)
                .map(|(at, size)| (current.since + at, size));
            let rate_event = next_due.unwrap_or(now + IDLE_CHECK);
            let event = burst.map_or(rate_event, |(at, _)| at.min(rate_event));
            let wake = self.until.map_or(event, |until| until.min(event));
            tokio::select! {
                () = tokio::time::sleep_until(wake) => {}
                changed = control.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let update = control.borrow_and_update().clone();
                    if !update.sending {
                        break;
                    }
                    if update.since != current.since {
                        next_burst = 0;
                    }
                    current = update;
                    // The new rate applies now, not after the old interval.
                    let now = Instant::now();
                    let rate = current.rate_at(now);
                    next_due = (rate > 0.0).then(|| {
                        let soonest = now + interval(rate);
                        next_due.map_or(now, |due| due.min(soonest))
                    });
                    continue;
                }
            }
            if self.until.is_some_and(|until| event >= until) {
                break;
            }
            if let Some((at, size)) = burst.filter(|(at, _)| *at <= rate_event) {
                for _ in 0..size {
                    fire(at, &current, &mut requests);
                }
                next_burst += 1;
                continue;
            }
            match next_due {
                Some(due) => {
                    fire(due, &current, &mut requests);
                    let rate = current.rate_at(due);
                    next_due = (rate > 0.0).then(|| due + interval(rate));
                }
                None => {
                    next_due = (current.rate_at(Instant::now()) > 0.0).then(Instant::now);
                }
            }
        }
        self.sender.recorder.sending_ended();
        let _ = tokio::time::timeout(self.drain, async {
            while requests.join_next().await.is_some() {}
        })
        .await;
    }
}
