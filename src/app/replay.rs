//! The replay driver: plays a record's frames into the dashboard at their offsets divided by
//! the speed, as the sources would have sent them, each at its recorded time, and tells the
//! model how far it has played (a few times a second between frames, and at the end).

use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior, interval, sleep_until};

use crate::sessions::replay::ReplayStart;
use crate::signals::Signal;
use crate::sources::{SignalOwners, SourceKind, SourceStatus, Update, UpdateSender};

/// How often the position moves between two frames (a slow replay's bar still moves).
const POSITION_EVERY: Duration = Duration::from_millis(250);

/// Plays `replay` to its end, sending each frame's values from the source that `owners` says
/// shows them; stops early when the dashboard is gone.
pub async fn run(
    replay: ReplayStart,
    owners: SignalOwners,
    sources: Vec<SourceKind>,
    updates: UpdateSender,
) {
    let ReplayStart { plan, speed } = replay;
    let started = Instant::now();
    let wall_of = |offset_s: f64| started + Duration::from_secs_f64(offset_s.max(0.0) / speed);
    let mut ticks = interval(POSITION_EVERY);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    for frame in &plan.frames {
        let due = wall_of(frame.offset_s);
        loop {
            tokio::select! {
                () = sleep_until(due) => break,
                _ = ticks.tick() => {
                    let played = started.elapsed().as_secs_f64() * speed;
                    let position = Update::ReplayPosition {
                        offset_s: played.min(frame.offset_s),
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
