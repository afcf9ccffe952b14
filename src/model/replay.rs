//! A replay as the dashboard shows it: where the playback is in the record, the phase the
//! drill was in there, and the position bar with the phases and marks on it. The replay
//! driver (`app::replay`) moves the position; the model's clock is the record's clock then.

use crate::drill::marks::MarkKind;
use crate::drill::state::Phase;
use crate::sessions::replay::ReplayPlan;
use crate::signals::UnixSeconds;

#[derive(Debug, Clone, PartialEq)]
pub struct ReplayView {
    pub id: String,
    pub origin_at: UnixSeconds,
    pub length_s: f64,
    pub speed: f64,
    pub phases: Vec<(f64, Phase)>,
    pub marks: Vec<(f64, MarkKind)>,
    /// Seconds into the record the playback has reached.
    pub position_s: f64,
    pub finished: bool,
    /// Space stopped it; the driver holds the position until Space again.
    pub paused: bool,
}

impl ReplayView {
    pub fn new(plan: &ReplayPlan, speed: f64) -> ReplayView {
        ReplayView {
            id: plan.id.clone(),
            origin_at: plan.origin_at,
            length_s: plan.length_s,
            speed,
            phases: plan.phases.clone(),
            marks: plan.marks.clone(),
            position_s: 0.0,
            finished: false,
            paused: false,
        }
    }

    /// The record's time at the playback's position: the dashboard's clock during a replay.
    pub fn now(&self) -> UnixSeconds {
        self.origin_at + self.position_s
    }

    /// The phase the drill was in at the playback's position.
    pub fn phase(&self) -> Option<Phase> {
        self.phases
            .iter()
            .take_while(|(offset, _)| *offset <= self.position_s)
            .last()
            .map(|(_, phase)| *phase)
    }

    /// The position bar `width` cells wide inside its brackets: `=` played, `>` the position,
    /// `|` a phase entered, a letter for each mark (see [`mark_letter`]).
    pub fn bar(&self, width: usize) -> String {
        let width = width.max(1);
        let cell = |offset: f64| -> usize {
            if self.length_s <= 0.0 {
                return width - 1;
            }
            let at = (offset / self.length_s * width as f64).floor();
            (at.max(0.0) as usize).min(width - 1)
        };
        let played = if self.finished {
            width
        } else {
            cell(self.position_s)
        };
        let mut cells: Vec<char> = (0..width)
            .map(|index| if index < played { '=' } else { ' ' })
            .collect();
        if !self.finished {
            cells[played] = '>';
        }
        // The first phase starts the bar: no marker for it.
        for (offset, _) in self.phases.iter().skip(1) {
            cells[cell(*offset)] = '|';
        }
        for (offset, kind) in &self.marks {
            if let Some(letter) = mark_letter(*kind) {
                cells[cell(*offset)] = letter;
            }
        }
        format!("[{}]", cells.into_iter().collect::<String>())
    }
}

/// The letter a mark has on the position bar; `None` for the marks it leaves out.
pub fn mark_letter(kind: MarkKind) -> Option<char> {
    match kind {
        MarkKind::Injection => Some('I'),
        MarkKind::AlertFiring => Some('A'),
        MarkKind::Detection => Some('D'),
        MarkKind::Reset | MarkKind::Remedy => Some('F'),
        MarkKind::Recovered => Some('R'),
        MarkKind::Phase
        | MarkKind::FirstCrossing
        | MarkKind::AlertCondition
        | MarkKind::AlertWouldFire
        | MarkKind::FailuresCleared
        | MarkKind::PlatformRestart
        | MarkKind::Verified => None,
    }
}

/// `mm:ss` (or `h:mm:ss` from an hour) of a replay's offset.
pub fn offset_text(seconds: f64) -> String {
    let seconds = seconds.max(0.0).floor() as u64;
    if seconds >= 3600 {
        format!(
            "{}:{:02}:{:02}",
            seconds / 3600,
            (seconds % 3600) / 60,
            seconds % 60
        )
    } else {
        format!("{:02}:{:02}", seconds / 60, seconds % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(position_s: f64) -> ReplayView {
        ReplayView {
            id: "r".to_string(),
            origin_at: 1000.0,
            length_s: 40.0,
            speed: 4.0,
            phases: vec![
                (0.0, Phase::Baseline),
                (10.0, Phase::Detect),
                (20.0, Phase::Recover),
                (39.0, Phase::Review),
            ],
            marks: vec![
                (10.0, MarkKind::Injection),
                (14.0, MarkKind::Detection),
                (20.0, MarkKind::Reset),
                (25.0, MarkKind::Recovered),
                (12.0, MarkKind::FirstCrossing),
            ],
            position_s,
            finished: false,
            paused: false,
        }
    }

    #[test]
    fn the_bar_shows_the_position_phases_and_marks() {
        assert_eq!(view(0.0).bar(20), "[>    I D  F R      |]");
        assert_eq!(view(16.0).bar(20), "[=====I=D> F R      |]");
        let mut ended = view(40.0);
        ended.finished = true;
        assert_eq!(ended.bar(20), "[=====I=D==F=R======|]");
        assert_eq!(view(0.0).bar(0).chars().count(), 3);
    }

    #[test]
    fn the_phase_at_the_position() {
        assert_eq!(view(0.0).phase(), Some(Phase::Baseline));
        assert_eq!(view(9.9).phase(), Some(Phase::Baseline));
        assert_eq!(view(10.0).phase(), Some(Phase::Detect));
        assert_eq!(view(39.5).phase(), Some(Phase::Review));
        assert_eq!(view(16.0).now(), 1016.0);
    }

    #[test]
    fn the_driver_moves_the_position_and_space_pauses_until_the_end() {
        use crate::model::{Action, Effect, Model, Msg, TargetInfo, update};
        use crate::sources::Update;
        let mut model = Model::for_target(TargetInfo::embedded(String::new()), &[], true, 5.0);
        model.replay = Some(view(0.0));
        assert_eq!(model.clock(99.0), 1000.0);
        assert!(model.key_context().replay);
        let moved = Update::ReplayPosition {
            offset_s: 16.0,
            finished: false,
        };
        assert!(update(&mut model, Msg::Source(moved)).is_empty());
        assert_eq!(model.clock(99.0), 1016.0);
        let pause = Msg::Action(Action::ToggleReplayPause);
        assert_eq!(
            update(&mut model, pause.clone()),
            [Effect::PauseReplay(true)]
        );
        assert_eq!(
            update(&mut model, pause.clone()),
            [Effect::PauseReplay(false)]
        );
        let end = Update::ReplayPosition {
            offset_s: 99.0,
            finished: true,
        };
        update(&mut model, Msg::Source(end));
        let replay = model.replay.as_ref().expect("replay");
        assert!(replay.finished);
        assert_eq!(replay.position_s, 40.0);
        assert!(update(&mut model, pause).is_empty());
        model.replay = None;
        assert_eq!(model.clock(99.0), 99.0);
    }

    #[test]
    fn offsets_as_minutes_and_seconds() {
        assert_eq!(offset_text(83.9), "01:23");
        assert_eq!(offset_text(3725.0), "1:02:05");
        assert_eq!(offset_text(-1.0), "00:00");
    }
}
