//! The records in `<data dir>/sessions/`, each known by its file stem
//! (`20261118T110640Z-latency`), newest first.

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use crate::drill::record::{SessionRecord, read_record, sessions_dir};

#[derive(Debug, Clone)]
pub struct StoredRecord {
    /// The file's stem: what `gameday sessions show` takes.
    pub id: String,
    pub record: SessionRecord,
}

/// Every readable record, newest start first, and a line for each file that is not one (a
/// hand-edited or newer-schema file is reported, not fatal). Temporary files are skipped.
pub fn read_all(data_dir: &Path) -> Result<(Vec<StoredRecord>, Vec<String>), String> {
    let dir = sessions_dir(data_dir);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(error) => return Err(format!("cannot read {}: {error}", dir.display())),
    };
    let mut records = Vec::new();
    let mut problems = Vec::new();
    for path in entries.filter_map(|entry| entry.ok().map(|entry| entry.path())) {
        let Some(id) = record_id(&path) else {
            continue;
        };
        match read_record(&path) {
            Ok(record) => records.push(StoredRecord { id, record }),
            Err(problem) => problems.push(problem),
        }
    }
    records.sort_by(|a, b| {
        b.record
            .started_at
            .total_cmp(&a.record.started_at)
            .then_with(|| b.id.cmp(&a.id))
    });
    problems.sort();
    Ok((records, problems))
}

/// The stem of a record's file; `None` for temporary (dot) files and anything not `.json`.
fn record_id(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    if name.starts_with('.') {
        return None;
    }
    name.strip_suffix(".json")
        .filter(|stem| !stem.is_empty())
        .map(str::to_string)
}

/// The record `id` names (its file stem, or the file name with `.json`), or what is expected.
pub fn find<'a>(records: &'a [StoredRecord], id: &str) -> Result<&'a StoredRecord, String> {
    let id = id.strip_suffix(".json").unwrap_or(id);
    if let Some(found) = records.iter().find(|stored| stored.id == id) {
        return Ok(found);
    }
    let latest: Vec<&str> = records.iter().take(3).map(|s| s.id.as_str()).collect();
    Err(match latest.as_slice() {
        [] => format!("no session `{id}`: there are no session records yet"),
        some => format!(
            "no session `{id}`; expected an id as `gameday sessions list` shows it, such as {}",
            some.join(", ")
        ),
    })
}
