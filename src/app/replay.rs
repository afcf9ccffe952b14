//! The replay driver: plays a record's frames into the dashboard at their offsets divided by
//! the speed, as the sources would have sent them, each at its recorded time, and tells the
//! model how far it has played (a few times a second between frames, and at the end). Space
//! holds it through `pause`; the position stays where it was until Space again.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior, interval, sleep_until};

use crate::sessions::replay::ReplayStart;
use crate::signals::Signal;
use crate::sources::{SignalOwners, SourceKind, SourceStatus, Update, UpdateSender};

/// How often the position moves between two frames (a slow replay's bar still moves).
const POSITION_EVERY: Duration = Duration::from_millis(250);

/// Seconds of the record played: wall time times the speed, not counting the pauses.
struct PlayClock {
    speed: f64,
    /// Seconds played at `since`.
    played_at_since: f64,
    since: Instant,
    paused: bool,
}

impl PlayClock {
    fn played(&self) -> f64 {
        if self.paused {
            self.played_at_since
        } else {
            self.played_at_since + self.since.elapsed().as_secs_f64() * self.speed
        }
    }

    fn set_paused(&mut self, paused: bool) {
        self.played_at_since = self.played();
        self.since = Instant::now();
        self.paused = paused;
    }

    /// When `offset_s` is reached if nothing pauses; `None` while paused.
    fn due(&self, offset_s: f64) -> Option<Instant> {
        let left = (offset_s - self.played()).max(0.0) / self.speed;
        (!self.paused).then(|| Instant::now() + Duration::from_secs_f64(left))
    }
}

/// Plays `replay` to its end, sending each frame's values from the source that `owners` says
/// shows them; stops early when the dashboard is gone.
pub async fn run(
    replay: ReplayStart,
    owners: SignalOwners,
    sources: Vec<SourceKind>,
    updates: UpdateSender,
    mut pause: watch::Receiver<bool>,
) {
    let ReplayStart { plan, speed } = replay;
    let mut clock = PlayClock {
        speed,
        played_at_since: 0.0,
        since: Instant::now(),
        paused: false,
    };
    // Once the runner is gone no pause can come: stop listening rather than spin.
    let mut listening = true;
    let mut ticks = interval(POSITION_EVERY);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    for frame in &plan.frames {
        while clock.played() < frame.offset_s {
            let due = clock.due(frame.offset_s);
            let reached = async {
                match due {
                    Some(due) => sleep_until(due).await,
                    None => std::future::pending::<()>().await,
                }
            };
            let pause_changed = async {
                if listening {
                    pause.changed().await
                } else {
                    std::future::pending().await
                }
            };
            tokio::select! {
                () = reached => break,
                changed = pause_changed => match changed {
                    Ok(()) => {
                        let paused = *pause.borrow_and_update();
                        clock.set_paused(paused);
                    }
                    Err(_) => listening = false,
                },
                _ = ticks.tick() => {
                    let position = Update::ReplayPosition {
                        offset_s: clock.played().min(frame.offset_s),
                        finished: false,
                    };
                    if updates.send(position).await.is_err() {
                        return;
                    }
                }
            }
        }
        let at = plan.origin_at + frame.offset_s;
        let mut batch = vec![Update::ReplayPosition {
            offset_s: frame.offset_s,
            finished: false,
        }];
        // Every source "answered" at the frame's time, so no panel says it is waiting.
        batch.extend(
            sources
                .iter()
                .map(|kind| Update::Status(*kind, SourceStatus::Ok { at })),
        );
        for source in &sources {
            let values: Vec<(Signal, f64)> = frame
                .values
                .iter()
                .filter(|(signal, _)| owners.owns(*signal, *source))
                .copied()
                .collect();
            if !values.is_empty() {
                batch.push(Update::Signals {
                    source: *source,
                    at,
                    values,
                });
            }
        }
        for update in batch {
            if updates.send(update).await.is_err() {
                return;
            }
        }
    }
    let end = Update::ReplayPosition {
        offset_s: plan.length_s,
        finished: true,
    };
    let _ = updates.send(end).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paused_clock_holds_its_position() {
        let mut clock = PlayClock {
            speed: 4.0,
            played_at_since: 10.0,
            since: Instant::now(),
            paused: true,
        };
        assert_eq!(clock.played(), 10.0);
        assert_eq!(clock.due(12.0), None);
        clock.set_paused(false);
        assert!(clock.played() >= 10.0);
        assert!(clock.due(12.0).is_some());
    }
}
