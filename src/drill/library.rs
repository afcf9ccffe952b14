//! The cases one can run: the shipped ones embedded from `cases/*.toml`, and the user's own from
//! `<config dir>/cases/*.toml`, which add cases or replace a shipped one of the same id.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::case::Case;
use super::validate::{CaseProblem, CaseReport, ProblemSeverity, check_case};
use crate::toml_errors::{cut, display_path, read_text_file};

/// The shipped cases, in the order they are taught.
const SHIPPED: [(&str, &str); 14] = [
    (
        "cases/latency.toml",
        include_str!("../../cases/latency.toml"),
    ),
    (
        "cases/error-rate.toml",
        include_str!("../../cases/error-rate.toml"),
    ),
    (
        "cases/slow-db.toml",
        include_str!("../../cases/slow-db.toml"),
    ),
    (
        "cases/memory-leak.toml",
        include_str!("../../cases/memory-leak.toml"),
    ),
    ("cases/chaos.toml", include_str!("../../cases/chaos.toml")),
    (
        "cases/cascade.toml",
        include_str!("../../cases/cascade.toml"),
    ),
    (
        "cases/db-down.toml",
        include_str!("../../cases/db-down.toml"),
    ),
    (
        "cases/pool-exhaustion.toml",
        include_str!("../../cases/pool-exhaustion.toml"),
    ),
    (
        "cases/provider-timeout.toml",
        include_str!("../../cases/provider-timeout.toml"),
    ),
    (
        "cases/provider-outage.toml",
        include_str!("../../cases/provider-outage.toml"),
    ),
    (
        "cases/rate-limit.toml",
        include_str!("../../cases/rate-limit.toml"),
    ),
    (
        "cases/duplicate-webhook.toml",
        include_str!("../../cases/duplicate-webhook.toml"),
    ),
    (
        "cases/forged-webhook.toml",
        include_str!("../../cases/forged-webhook.toml"),
    ),
    (
        "cases/db-restart.toml",
        include_str!("../../cases/db-restart.toml"),
    ),
];

/// Valid cases, shipped first.
#[derive(Debug, Clone, Default)]
pub struct CaseLibrary {
    cases: Vec<Case>,
}

impl CaseLibrary {
    /// A library of these cases (those `c` offers).
    pub fn from_cases(cases: Vec<Case>) -> CaseLibrary {
        CaseLibrary { cases }
    }

    /// The shipped cases alone (a test proves they all validate).
    pub fn shipped() -> CaseLibrary {
        let reports = shipped_reports();
        CaseLibrary {
            cases: reports
                .into_iter()
                .filter_map(|report| report.case)
                .collect(),
        }
    }

    /// The shipped cases with the user's over them, and a report for every user file (so the
    /// caller can show the problems of a broken one while the rest stay usable).
    pub fn load(config_dir: Option<&Path>) -> (CaseLibrary, Vec<CaseReport>) {
        let mut library = CaseLibrary::shipped();
        let Some(dir) = config_dir.map(|dir| dir.join("cases")) else {
            return (library, Vec::new());
        };
        let mut reports = match user_case_files(&dir) {
            Ok(paths) => check_files(&paths),
            Err(error) => vec![unreadable(&display_path(&dir), &error)],
        };
        mark_duplicate_ids(&mut reports);
        for report in &reports {
            if let Some(case) = &report.case {
                match library.cases.iter_mut().find(|c| c.id == case.id) {
                    Some(shipped) => *shipped = case.clone(),
                    None => library.cases.push(case.clone()),
                }
            }
        }
        (library, reports)
    }

    pub fn cases(&self) -> &[Case] {
        &self.cases
    }

    pub fn get(&self, id: &str) -> Option<&Case> {
        self.cases.iter().find(|case| case.id == id)
    }

    pub fn ids(&self) -> Vec<&str> {
        self.cases.iter().map(|case| case.id.as_str()).collect()
    }

    /// A case picked at random for a blind drill; the same seed picks the same case.
    pub fn pick_random(&self, seed: u64) -> Option<&Case> {
        let mut rng = StdRng::seed_from_u64(seed);
        if self.cases.is_empty() {
            return None;
        }
        self.cases.get(rng.random_range(0..self.cases.len()))
    }

    /// The causes offered at detection in a blind drill: (case id, label), shuffled by `seed` so
    /// the order does not give the case away.
    pub fn diagnosis_choices(&self, seed: u64, lang: crate::i18n::Lang) -> Vec<(String, String)> {
        let mut choices: Vec<(String, String)> = self
            .cases
            .iter()
            .map(|case| (case.id.clone(), case.diagnosis.get(lang).to_string()))
            .collect();
        choices.shuffle(&mut StdRng::seed_from_u64(seed));
        choices
    }
}

/// A report for each shipped case file.
pub fn shipped_reports() -> Vec<CaseReport> {
    SHIPPED
        .iter()
        .map(|(name, text)| check_case(name, text))
        .collect()
}

/// Reads and checks `paths`; an unreadable file is a problem of its own. Ids repeated among
/// them are errors on the later file.
pub fn check_files(paths: &[PathBuf]) -> Vec<CaseReport> {
    let mut reports: Vec<CaseReport> = paths
        .iter()
        .map(|path| {
            let name = display_path(path);
            match read_text_file(path) {
                Ok(text) => check_case(&name, &text),
                Err(error) => {
                    let (line, column) = error.place();
                    unreadable_at(&name, &error.reason(), line, column)
                }
            }
        })
        .collect();
    mark_duplicate_ids(&mut reports);
    // A message may echo what the file says (an id, a value): a few hundred characters of it.
    for problem in reports.iter_mut().flat_map(|report| &mut report.problems) {
        problem.message = cut(&problem.message, MESSAGE_CHARS);
    }
    reports
}

/// The longest problem message: enough for any of ours, with a value echoed in it.
const MESSAGE_CHARS: usize = 300;

/// `*.toml` in `dir`, by name; a missing folder has none.
fn user_case_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error.to_string()),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    Ok(paths)
}

fn unreadable(name: &str, error: &str) -> CaseReport {
    unreadable_at(name, &format!("cannot read: {error}"), 1, 1)
}

/// A file that cannot be checked, with the problem at its place (the line of a byte that is
/// not UTF-8; the start of the file otherwise).
fn unreadable_at(name: &str, message: &str, line: usize, column: usize) -> CaseReport {
    CaseReport {
        file: name.to_string(),
        case: None,
        id_at: (1, 1),
        problems: vec![CaseProblem {
            file: name.to_string(),
            line,
            column,
            field: String::new(),
            message: message.to_string(),
            severity: ProblemSeverity::Error,
        }],
    }
}

/// A second file with an id already taken is an error at its `id`.
fn mark_duplicate_ids(reports: &mut [CaseReport]) {
    let mut seen: Vec<(String, String)> = Vec::new();
    for report in reports.iter_mut() {
        let Some(case) = &report.case else { continue };
        let id = case.id.clone();
        if let Some((_, first)) = seen.iter().find(|(seen_id, _)| *seen_id == id) {
            let (line, column) = report.id_at;
            report.problems.push(CaseProblem {
                file: report.file.clone(),
                line,
                column,
                field: "id".to_string(),
                message: format!("`{id}` is already the id of {first}; expected a unique id"),
                severity: ProblemSeverity::Error,
            });
            report.case = None;
        } else {
            seen.push((id, report.file.clone()));
        }
    }
}
