//! Session records: one JSON file per drill in `<data dir>/sessions/`, rewritten atomically at
//! every phase change (temporary file in the same folder, fsync, rename), so a crash leaves the
//! previous complete record, never half of one. An unfinished record can be resumed.
//!
//! Version 2 (version 1 is still read; its new fields are empty): every time has its ISO 8601
//! UTC form beside it (`record_json`), the baseline's samples are kept, `drill.series` holds
//! every signal over the whole drill (bounded, see `series`), and `checklist`, `hints_used` and
//! `marks` say in words what the drill state keeps as indices and timestamps.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::case::{Case, Step, Text};
use super::figures::Figures;
use super::library::CaseLibrary;
use super::machine::PhaseMachine;
use super::marks::{Mark, marks};
use super::record_json::readable_json;
use super::state::{ActionKind, DrillState, Phase};
use crate::signals::UnixSeconds;

/// Bumped when a field changes meaning or goes away; readers refuse newer versions.
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    InProgress,
    Completed,
    Abandoned,
    Refused,
}

impl Outcome {
    pub fn of(phase: Phase) -> Outcome {
        match phase {
            Phase::Review => Outcome::Completed,
            Phase::Abandoned => Outcome::Abandoned,
            Phase::Refused => Outcome::Refused,
            _ => Outcome::InProgress,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub schema_version: u32,
    pub case_id: String,
    /// The title in English, so a record is readable without the case file.
    pub case_title: String,
    /// What was drilled against: "embedded sandbox", "http://localhost:5000 + Prometheus".
    pub target: String,
    pub tool_version: String,
    pub outcome: Outcome,
    pub started_at: UnixSeconds,
    pub updated_at: UnixSeconds,
    /// Every timestamp, crossing, alert, action, checklist tick and note.
    pub drill: DrillState,
    pub figures: Figures,
    /// Every checklist item with its text, done or missed (version 2).
    #[serde(default)]
    pub checklist: Vec<ChecklistEntry>,
    /// The hints opened, in order, with their text (version 2).
    #[serde(default)]
    pub hints_used: Vec<HintEntry>,
    /// The drill's moments in order: phases, injection, crossings, alerts, detection,
    /// remedies, recovery (version 2; see `drill::marks`).
    #[serde(default)]
    pub marks: Vec<Mark>,
}

/// A text as the case gives it, in both of its languages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BothLanguages {
    pub en: String,
    pub ru: String,
}

impl From<&Text> for BothLanguages {
    fn from(text: &Text) -> Self {
        BothLanguages {
            en: text.en.clone(),
            ru: text.ru.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistEntry {
    /// `respond.2`: the step and the item's place in it, from 1.
    pub id: String,
    pub step: Step,
    pub text: BothLanguages,
    pub done: bool,
    pub done_at: Option<UnixSeconds>,
    /// Ticked by its signal condition or the detection answer rather than by hand.
    pub auto: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HintEntry {
    /// The hint's number as the dashboard shows it, from 1.
    pub number: usize,
    pub text: BothLanguages,
    pub opened_at: Option<UnixSeconds>,
}

/// Every checklist item of `state` with the text `case` gives it.
fn checklist_entries(case: &Case, state: &DrillState) -> Vec<ChecklistEntry> {
    let mut entries = Vec::new();
    for step in Step::ALL {
        let items = case.checklist_for(step);
        let Some(states) = state.checklist.get(step.index()) else {
            continue;
        };
        for (index, (item, item_state)) in items.iter().zip(states).enumerate() {
            entries.push(ChecklistEntry {
                id: format!("{}.{}", step.name(), index + 1),
                step,
                text: BothLanguages::from(&item.text),
                done: item_state.done_at.is_some(),
                done_at: item_state.done_at,
                auto: item_state.auto,
            });
        }
    }
    entries
}

fn hint_entries(case: &Case, state: &DrillState) -> Vec<HintEntry> {
    state
        .hints_opened
        .iter()
        .filter_map(|&index| {
            let opened_at = state
                .actions
                .iter()
                .find(|action| action.kind == ActionKind::HintOpened { index })
                .map(|action| action.at);
            Some(HintEntry {
                number: index + 1,
                text: BothLanguages::from(&case.hints.get(index)?.text),
                opened_at,
            })
        })
        .collect()
}

impl SessionRecord {
    pub fn from_machine(machine: &PhaseMachine, target: &str) -> SessionRecord {
        let state = machine.state();
        SessionRecord {
            schema_version: SCHEMA_VERSION,
            case_id: state.case_id.clone(),
            case_title: machine.case().title.en.clone(),
            target: target.to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            outcome: Outcome::of(state.phase),
            started_at: state.started_at,
            updated_at: state.last_at,
            drill: state.clone(),
            figures: machine.figures(),
            checklist: checklist_entries(machine.case(), state),
            hints_used: hint_entries(machine.case(), state),
            marks: marks(state),
        }
    }

    /// `20261122T071500Z-latency.json`: sorts by start time.
    pub fn file_name(&self) -> String {
        let seconds = self.started_at.floor() as i64;
        let stamp = chrono::DateTime::from_timestamp(seconds, 0)
            .map(|time| time.format("%Y%m%dT%H%M%SZ").to_string())
            .unwrap_or_else(|| seconds.to_string());
        // A blind drill's file must not name the case the participant is to find.
        let name = if self.drill.blind {
            "blind"
        } else {
            self.case_id.as_str()
        };
        format!("{stamp}-{name}.json")
    }

    /// The drill again, from this record and the case it names.
    pub fn resume(&self, library: &CaseLibrary) -> Result<PhaseMachine, String> {
        let case = library
            .get(&self.case_id)
            .ok_or_else(|| format!("the record's case {} is no longer known", self.case_id))?;
        PhaseMachine::resume(case.clone(), self.drill.clone())
    }
}

pub fn sessions_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("sessions")
}

/// Writes `record` to `<data dir>/sessions/<file_name>` atomically; returns the path.
pub fn write_record(data_dir: &Path, record: &SessionRecord) -> Result<PathBuf, String> {
    let dir = sessions_dir(data_dir);
    fs::create_dir_all(&dir)
        .map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
    let path = dir.join(record.file_name());
    let json = serde_json::to_string_pretty(record)
        .map(|pretty| readable_json(&pretty))
        .map_err(|error| format!("cannot encode the session record: {error}"))?;
    let failed = |error: std::io::Error| format!("cannot write {}: {error}", path.display());
    // Same folder, so the rename cannot cross file systems; a dot name no reader picks up.
    let mut temporary = tempfile::Builder::new()
        .prefix(".")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(failed)?;
    temporary.write_all(json.as_bytes()).map_err(failed)?;
    temporary.as_file().sync_all().map_err(failed)?;
    temporary
        .persist(&path)
        .map_err(|error| failed(error.error))?;
    // The rename itself must reach the disk too.
    if let Ok(folder) = fs::File::open(&dir) {
        let _ = folder.sync_all();
    }
    Ok(path)
}

pub fn read_record(path: &Path) -> Result<SessionRecord, String> {
    let text = fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let record: SessionRecord = serde_json::from_str(&text)
        .map_err(|error| format!("{}: not a session record: {error}", path.display()))?;
    if record.schema_version > SCHEMA_VERSION {
        return Err(format!(
            "{}: schema version {} is newer than this gameday's {SCHEMA_VERSION}",
            path.display(),
            record.schema_version
        ));
    }
    Ok(record)
}

/// The most recently started record still in progress, if any. Temporary files and files that
/// are not records are skipped.
pub fn latest_unfinished(data_dir: &Path) -> Result<Option<(PathBuf, SessionRecord)>, String> {
    let dir = sessions_dir(data_dir);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("cannot read {}: {error}", dir.display())),
    };
    let mut latest: Option<(PathBuf, SessionRecord)> = None;
    for path in entries.filter_map(|entry| entry.ok().map(|entry| entry.path())) {
        let is_record = path.extension().is_some_and(|ext| ext == "json")
            && !path
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with('.'));
        if !is_record {
            continue;
        }
        let Ok(record) = read_record(&path) else {
            continue;
        };
        let newer = latest
            .as_ref()
            .is_none_or(|(_, best)| record.started_at > best.started_at);
        if record.outcome == Outcome::InProgress && newer {
            latest = Some((path, record));
        }
    }
    Ok(latest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drill::case::Case;
    use crate::drill::machine::{ActionKind, DrillOptions};
    use crate::signals::{Sample, Signal};

    fn latency_case() -> Case {
        CaseLibrary::shipped()
            .get("latency")
            .expect("latency")
            .clone()
    }

    /// A latency drill started at `start`, injected and detected.
    fn machine_at(start: f64) -> PhaseMachine {
        let (mut machine, _) = PhaseMachine::start(latency_case(), DrillOptions::default(), start);
        for second in 0..60 {
            let at = start + f64::from(second);
            machine.sample(Signal::LatencyP95, Sample { at, value: 0.1 });
        }
        machine.tick(start + 60.0);
        machine.injected(start + 61.0);
        machine.sample(
            Signal::LatencyP95,
            Sample {
                at: start + 62.0,
                value: 2.2,
            },
        );
        machine.declare_detection(start + 70.0, Some(Signal::LatencyP95), None);
        machine
    }

    #[test]
    fn a_record_round_trips_through_its_file() {
        let data = tempfile::tempdir().expect("data folder");
        let machine = machine_at(1_795_000_000.0);
        let record = SessionRecord::from_machine(&machine, "embedded sandbox");
        assert_eq!(record.outcome, Outcome::InProgress);
        assert_eq!(record.schema_version, SCHEMA_VERSION);
        assert_eq!(record.tool_version, env!("CARGO_PKG_VERSION"));
        let path = write_record(data.path(), &record).expect("written");
        assert_eq!(
            path.file_name().and_then(|name| name.to_str()),
            Some("20261118T110640Z-latency.json")
        );
        assert!(record.file_name().ends_with("-latency.json"));
        assert!(
            record.file_name().starts_with("2026"),
            "{}",
            record.file_name()
        );
        let read = read_record(&path).expect("read back");
        assert_eq!(read, record);
        let json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).expect("text")).expect("json");
        assert_eq!(json["schema_version"], 2);
        assert_eq!(json["outcome"], "in-progress");
        assert_eq!(json["drill"]["phase"], "respond");
        assert_eq!(json["drill"]["signals"][0]["signal"], "latency_p95");
        assert_eq!(json["figures"]["time_to_detect"], 9.0);
    }

    /// A blind drill's record, written before the cause is named (the file a resume reads),
    /// keeps the real texts, not the blind wordings the screen showed: only its file name is
    /// neutral, and the record is not shown until the drill is over.
    #[test]
    fn a_blind_record_keeps_the_real_texts_under_a_neutral_name() {
        let start = 1_795_000_000.0;
        let options = DrillOptions {
            blind: true,
            ..DrillOptions::default()
        };
        let (mut machine, _) = PhaseMachine::start(latency_case(), options, start);
        for second in 0..60 {
            let at = start + f64::from(second);
            machine.sample(Signal::LatencyP95, Sample { at, value: 0.1 });
        }
        machine.tick(start + 60.0);
        machine.injected(start + 61.0);
        assert!(!machine.phase().is_finished(), "{:?}", machine.phase());
        machine.action(start + 65.0, ActionKind::HintOpened { index: 2 });
        let record = SessionRecord::from_machine(&machine, "embedded sandbox");
        assert!(
            record.file_name().ends_with("-blind.json"),
            "{}",
            record.file_name()
        );
        let json = serde_json::to_value(&record).expect("json");
        let inject = json["checklist"]
            .as_array()
            .and_then(|items| items.iter().find(|item| item["id"] == "inject.1"))
            .expect("the inject item");
        assert_eq!(
            inject["text"]["en"],
            "The failure state reads back latency_ms = 2000"
        );
        assert_eq!(
            json["hints_used"][0]["text"]["en"],
            "Read GET /api/failures: latency_ms is set. POST /api/reset clears it."
        );
    }

    #[test]
    fn a_version_2_record_reads_as_a_person_would() {
        let data = tempfile::tempdir().expect("data folder");
        let mut machine = machine_at(1_795_000_000.0);
        machine.action(1_795_000_071.0, ActionKind::HintOpened { index: 1 });
        let record = SessionRecord::from_machine(&machine, "embedded sandbox");
        let path = write_record(data.path(), &record).expect("written");
        let text = fs::read_to_string(&path).expect("text");
        let json: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(json["started_at_iso"], "2026-11-18T11:06:40.000Z");
        assert_eq!(json["drill"]["injected_at_iso"], "2026-11-18T11:07:41.000Z");
        assert_eq!(
            json["drill"]["detection"]["at_iso"],
            "2026-11-18T11:07:50.000Z"
        );
        assert_eq!(
            json["drill"]["phases"][1]["at_iso"],
            "2026-11-18T11:07:40.000Z"
        );
        // The baseline's samples stay after it ended.
        let baseline = &json["drill"]["baseline_samples"][0];
        assert_eq!(baseline["signal"], "latency_p95");
        assert_eq!(baseline["values"].as_array().map(Vec::len), Some(60));
        // The series of the whole drill, one point per sample, on one line per column.
        let series = &json["drill"]["series"];
        assert_eq!(series["origin_at_iso"], "2026-11-18T11:06:40.000Z");
        assert_eq!(series["cap"], crate::drill::series::SERIES_CAP);
        assert_eq!(
            series["signals"][0]["offsets"].as_array().map(Vec::len),
            Some(61)
        );
        assert_eq!(series["signals"][0]["values"][60], 2.2);
        assert!(text.contains("\"values\": [0.1, 0.1, 0.1,"), "one line");
        // Checklist items with their text, hints by name, the marks.
        let item = &json["checklist"][0];
        assert_eq!(item["id"], "baseline.1");
        assert_eq!(item["done"], true);
        assert!(item["text"]["en"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(item["text"]["ru"].as_str().is_some_and(|t| !t.is_empty()));
        assert_eq!(item["done_at_iso"], "2026-11-18T11:06:40.000Z");
        assert!(
            json["checklist"]
                .as_array()
                .is_some_and(|items| items.iter().any(|item| item["done"] == false))
        );
        assert_eq!(json["hints_used"][0]["number"], 2);
        assert_eq!(
            json["hints_used"][0]["opened_at_iso"],
            "2026-11-18T11:07:51.000Z"
        );
        let kinds: Vec<&str> = json["marks"]
            .as_array()
            .expect("marks")
            .iter()
            .filter_map(|mark| mark["kind"].as_str())
            .collect();
        assert_eq!(
            kinds,
            [
                "phase",
                "phase",
                "phase",
                "injection",
                "first-crossing",
                "phase",
                "detection"
            ]
        );
        assert_eq!(read_record(&path).expect("read back"), record);
    }

    #[test]
    fn a_drill_left_running_for_hours_leaves_a_record_of_bounded_size() {
        let start = 1_795_000_000.0;
        let (mut machine, _) = PhaseMachine::start(latency_case(), DrillOptions::default(), start);
        // Every signal there is, once a second, for four hours.
        for second in 0..(4 * 3600) {
            let at = start + f64::from(second);
            for signal in Signal::ALL {
                let value = match signal {
                    Signal::Up => 1.0,
                    // A count that went up would be a restart, noted each time.
                    Signal::ErrorRatio | Signal::ErrorRatioOver5m | Signal::Restarts => 0.0,
                    _ => 0.001_234_567 * f64::from(second % 97),
                };
                machine.sample(signal, Sample { at, value });
            }
            if second == 60 {
                machine.injected(at);
            }
        }
        assert_eq!(machine.phase(), Phase::Detect);
        let record = SessionRecord::from_machine(&machine, "embedded sandbox");
        assert_eq!(record.drill.series.signals.len(), Signal::ALL.len());
        for series in &record.drill.series.signals {
            assert!(series.offsets.len() <= crate::drill::series::SERIES_CAP);
            assert!(series.thinned > 0);
        }
        let data = tempfile::tempdir().expect("data folder");
        let path = write_record(data.path(), &record).expect("written");
        let bytes = fs::metadata(&path).expect("written").len();
        // 16 signals of at most 1200 points, two numbers each, on one line per column.
        assert!(bytes < 1_500_000, "{bytes} bytes");
        println!("a four-hour record of every signal: {bytes} bytes");
        // serde_json's default float parsing may be a unit off in the last place: compare
        // the shape, not every bit.
        let read = read_record(&path).expect("read back");
        let lengths = |record: &SessionRecord| -> Vec<usize> {
            let series = &record.drill.series.signals;
            series
                .iter()
                .map(|s| s.offsets.len() + s.values.len())
                .collect()
        };
        assert_eq!(lengths(&read), lengths(&record));
    }

    #[test]
    fn a_version_1_record_is_still_read() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/sessions/v1/sessions/20261118T110640Z-latency.json");
        let record = read_record(&path).expect("version 1 reads");
        assert_eq!(record.schema_version, 1);
        assert_eq!(record.outcome, Outcome::Completed);
        assert!(record.drill.series.signals.is_empty());
        assert!(record.checklist.is_empty() && record.marks.is_empty());
        assert_eq!(record.figures.time_to_detect, Some(9.0));
        assert!(
            !marks(&record.drill).is_empty(),
            "marks come from the state"
        );
    }

    #[test]
    fn an_interrupted_write_leaves_the_previous_complete_record() {
        let data = tempfile::tempdir().expect("data folder");
        let mut machine = machine_at(1_795_000_000.0);
        let first = SessionRecord::from_machine(&machine, "embedded sandbox");
        let path = write_record(data.path(), &first).expect("written");
        // A crash between creating the temporary file and the rename leaves this behind.
        machine.action(1_795_000_075.0, ActionKind::FailureReset);
        let newer = SessionRecord::from_machine(&machine, "embedded sandbox");
        let json = serde_json::to_string(&newer).expect("json");
        let partial = sessions_dir(data.path()).join(".20261122T000000Z-latency.json.abc.tmp");
        fs::write(&partial, &json[..json.len() / 2]).expect("partial write");
        // And a stray file that is not a record at all.
        fs::write(sessions_dir(data.path()).join("notes.json"), "{").expect("stray");

        assert_eq!(read_record(&path).expect("still complete"), first);
        let (found, record) = latest_unfinished(data.path())
            .expect("readable")
            .expect("one unfinished");
        assert_eq!(found, path);
        assert_eq!(record, first);
    }

    #[test]
    fn the_latest_unfinished_record_is_found_and_resumed() {
        let data = tempfile::tempdir().expect("data folder");
        assert!(
            latest_unfinished(data.path())
                .expect("no folder is fine")
                .is_none()
        );
        let older = machine_at(1_795_000_000.0);
        write_record(data.path(), &SessionRecord::from_machine(&older, "t")).expect("written");
        let newer = machine_at(1_795_001_000.0);
        write_record(data.path(), &SessionRecord::from_machine(&newer, "t")).expect("written");
        let mut finished = machine_at(1_795_002_000.0);
        finished.abandon(1_795_002_100.0, "done");
        let finished_record = SessionRecord::from_machine(&finished, "t");
        assert_eq!(finished_record.outcome, Outcome::Abandoned);
        write_record(data.path(), &finished_record).expect("written");

        let (_, record) = latest_unfinished(data.path()).expect("ok").expect("found");
        assert_eq!(record.started_at, 1_795_001_000.0);
        let mut resumed = record.resume(&CaseLibrary::shipped()).expect("resumes");
        assert_eq!(resumed.phase(), Phase::Respond);
        assert_eq!(resumed.state(), newer.state());
        resumed.action(1_795_001_080.0, ActionKind::FailureReset);
        assert_eq!(resumed.phase(), Phase::Recover);
        assert!(
            record.resume(&CaseLibrary::default()).is_err(),
            "unknown case"
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let data = tempfile::tempdir().expect("data folder");
        let mut record = SessionRecord::from_machine(&machine_at(1_795_000_000.0), "t");
        record.schema_version = SCHEMA_VERSION + 1;
        let path = write_record(data.path(), &record).expect("written");
        let error = read_record(&path).expect_err("newer");
        assert!(error.contains("newer than this gameday's"), "{error}");
    }
}
