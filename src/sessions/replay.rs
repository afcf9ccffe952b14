//! `gameday sessions replay ID`: what to play back from a version 2 record — its signal series
//! as frames at their offsets, its phases and marks — and the speed asked for. Pure but for
//! [`ReplayStart::load`], which reads the records; the dashboard plays it (`app::replay`).

use std::path::Path;

use super::store::{find, read_all};
use crate::drill::marks::MarkKind;
use crate::drill::record::SessionRecord;
use crate::drill::state::Phase;
use crate::signals::{Signal, UnixSeconds};

/// The slowest and fastest replay `--speed` takes.
pub const MIN_SPEED: f64 = 0.25;
pub const MAX_SPEED: f64 = 64.0;

/// Points of different signals this close together are sent as one update: the machine gets
/// one poll's signals within a few milliseconds of each other.
const FRAME_GAP_S: f64 = 0.1;

/// The values of one poll, at their offset from the record's origin.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayFrame {
    pub offset_s: f64,
    pub values: Vec<(Signal, f64)>,
}

/// A record made ready to play.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayPlan {
    /// The record's id, as `gameday sessions list` shows it.
    pub id: String,
    /// The record's time of offset 0.
    pub origin_at: UnixSeconds,
    /// The last point's offset: where the replay ends.
    pub length_s: f64,
    pub frames: Vec<ReplayFrame>,
    /// Each phase entered, at its offset (within the replay).
    pub phases: Vec<(f64, Phase)>,
    /// The marks the position bar shows, at their offsets.
    pub marks: Vec<(f64, MarkKind)>,
}

/// What the dashboard opens in replay mode with.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayStart {
    pub plan: ReplayPlan,
    pub speed: f64,
}

impl ReplayStart {
    /// The record `id` in `data_dir`, made ready to play at `speed`; refused with the reason
    /// when the speed is out of range or the record has nothing to replay.
    pub fn load(data_dir: &Path, id: &str, speed: f64) -> Result<ReplayStart, String> {
        check_speed(speed)?;
        let (records, problems) = read_all(data_dir)?;
        for problem in problems {
            eprintln!("gameday: skipped {problem}");
        }
        let stored = find(&records, id)?;
        let plan = ReplayPlan::of(&stored.id, &stored.record)?;
        Ok(ReplayStart { plan, speed })
    }
}

/// `--speed`'s value, or what is expected.
pub fn check_speed(speed: f64) -> Result<(), String> {
    if speed.is_finite() && (MIN_SPEED..=MAX_SPEED).contains(&speed) {
        Ok(())
    } else {
        Err(format!(
            "--speed {speed}: expected a speed from {MIN_SPEED} to {MAX_SPEED}, such as 4"
        ))
    }
}

impl ReplayPlan {
    /// The plan of `record` (whose id is `id`), or why it cannot be replayed.
    pub fn of(id: &str, record: &SessionRecord) -> Result<ReplayPlan, String> {
        if record.schema_version < 2 {
            return Err(format!(
                "session `{id}`: this record (version {}) has no signal series to replay",
                record.schema_version
            ));
        }
        let series = &record.drill.series;
        let origin_at = match series.origin_at {
            Some(origin) if series.signals.iter().any(|s| !s.offsets.is_empty()) => origin,
            _ => {
                return Err(format!(
                    "session `{id}`: this record has no signal samples to replay"
                ));
            }
        };
        let mut points: Vec<(f64, Signal, f64)> = series
            .signals
            .iter()
            .flat_map(|signal| {
                signal
                    .offsets
                    .iter()
                    .zip(&signal.values)
                    .map(move |(offset, value)| (*offset, signal.signal, *value))
            })
            .filter(|(offset, _, value)| offset.is_finite() && value.is_finite())
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let frames = frames(points);
        let length_s = frames.last().map_or(0.0, |frame| frame.offset_s);
        let within = |at: UnixSeconds| (at - origin_at).clamp(0.0, length_s);
        let phases = record
            .drill
            .phases
            .iter()
            .map(|phase| (within(phase.at), phase.phase))
            .collect();
        let marks = record
            .marks
            .iter()
            .filter(|mark| mark.kind != MarkKind::Phase)
            .filter(|mark| mark.at - origin_at <= length_s)
            .map(|mark| (within(mark.at), mark.kind))
            .collect();
        Ok(ReplayPlan {
            id: id.to_string(),
            origin_at,
            length_s,
            frames,
            phases,
            marks,
        })
    }
}

/// Points sorted by offset, grouped into one frame per poll.
fn frames(points: Vec<(f64, Signal, f64)>) -> Vec<ReplayFrame> {
    let mut frames: Vec<ReplayFrame> = Vec::new();
    for (offset, signal, value) in points {
        match frames.last_mut() {
            Some(frame) if offset - frame.offset_s < FRAME_GAP_S => {
                frame.values.push((signal, value));
            }
            _ => frames.push(ReplayFrame {
                offset_s: offset,
                values: vec![(signal, value)],
            }),
        }
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drill::CaseLibrary;
    use crate::drill::machine::{DrillOptions, PhaseMachine};
    use crate::signals::Sample;

    fn record() -> SessionRecord {
        let case = CaseLibrary::shipped()
            .get("latency")
            .expect("shipped case")
            .clone();
        let (mut machine, _) = PhaseMachine::start(case, DrillOptions::default(), 1000.0);
        for second in 0..5 {
            let at = 1000.0 + f64::from(second);
            machine.sample(Signal::LatencyP95, Sample { at, value: 0.005 });
            machine.sample(
                Signal::ErrorRatio,
                Sample {
                    at: at + 0.004,
                    value: 0.0,
                },
            );
        }
        SessionRecord::from_machine(&machine, "embedded sandbox")
    }

    #[test]
    fn one_frame_per_poll_at_its_offset() {
        let plan = ReplayPlan::of("r", &record()).expect("a v2 record plays");
        assert_eq!(plan.origin_at, 1000.0);
        assert_eq!(plan.frames.len(), 5);
        assert_eq!(plan.length_s, 4.0);
        assert_eq!(plan.frames[2].offset_s, 2.0);
        assert_eq!(
            plan.frames[2].values,
            [(Signal::LatencyP95, 0.005), (Signal::ErrorRatio, 0.0)]
        );
        assert_eq!(plan.phases.first(), Some(&(0.0, Phase::Baseline)));
    }

    #[test]
    fn a_version_1_record_and_an_empty_one_are_refused_with_the_reason() {
        let mut old = record();
        old.schema_version = 1;
        let refused = ReplayPlan::of("old", &old).expect_err("v1 refused");
        assert!(
            refused.contains("this record (version 1) has no signal series to replay"),
            "{refused}"
        );
        let mut empty = record();
        empty.drill.series = Default::default();
        let refused = ReplayPlan::of("empty", &empty).expect_err("empty refused");
        assert!(refused.contains("no signal samples"), "{refused}");
    }

    #[test]
    fn speed_from_a_quarter_to_64() {
        for speed in [0.25, 1.0, 4.0, 64.0] {
            assert!(check_speed(speed).is_ok(), "{speed}");
        }
        for speed in [0.0, 0.2, 65.0, -1.0, f64::NAN, f64::INFINITY] {
            let refused = check_speed(speed).expect_err("refused");
            assert!(refused.contains("0.25 to 64"), "{refused}");
        }
    }
}
