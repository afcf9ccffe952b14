//! Session records: one JSON file per drill in `<data dir>/sessions/`, rewritten atomically at
//! every phase change (temporary file in the same folder, fsync, rename), so a crash leaves the
//! previous complete record, never half of one. An unfinished record can be resumed.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::figures::Figures;
use super::library::CaseLibrary;
use super::machine::PhaseMachine;
use super::state::{DrillState, Phase};
use crate::signals::UnixSeconds;

/// Bumped when a field changes meaning or goes away; readers refuse newer versions.
pub const SCHEMA_VERSION: u32 = 1;

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
        }
    }

    /// `20261122T071500Z-latency.json`: sorts by start time.
    pub fn file_name(&self) -> String {
        let seconds = self.started_at.floor() as i64;
        let stamp = chrono::DateTime::from_timestamp(seconds, 0)
            .map(|time| time.format("%Y%m%dT%H%M%SZ").to_string())
            .unwrap_or_else(|| seconds.to_string());
        format!("{stamp}-{}.json", self.case_id)
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
    let json = serde_json::to_vec_pretty(record)
        .map_err(|error| format!("cannot encode the session record: {error}"))?;
    let failed = |error: std::io::Error| format!("cannot write {}: {error}", path.display());
    // Same folder, so the rename cannot cross file systems; a dot name no reader picks up.
    let mut temporary = tempfile::Builder::new()
        .prefix(".")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(failed)?;
    temporary.write_all(&json).map_err(failed)?;
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
