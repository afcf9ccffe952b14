//! `gameday sessions history`: runs per case, with the median and best time to detect and to
//! recover. Medians, not means: one drill left running over lunch would drag a mean for good.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::store::StoredRecord;
use super::words::{maybe_duration, words};
use crate::drill::record::Outcome;
use crate::i18n::Lang;

/// The median of `values`; of an even number, the mean of the middle two. `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => sorted.get(middle).copied(),
        _ => Some((sorted.get(middle - 1)? + sorted.get(middle)?) / 2.0),
    }
}

/// A figure over several runs: only the runs that reached the moment count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub measured: usize,
    pub median: Option<f64>,
    pub best: Option<f64>,
}

impl Spread {
    fn of(values: &[f64]) -> Spread {
        Spread {
            measured: values.len(),
            median: median(values),
            best: values.iter().copied().min_by(f64::total_cmp),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaseHistory {
    pub case_id: String,
    pub runs: usize,
    pub completed: usize,
    pub time_to_detect: Spread,
    pub time_to_recover: Spread,
}

/// One history per case that has records, by case id.
pub fn histories(records: &[StoredRecord]) -> Vec<CaseHistory> {
    let mut by_case: BTreeMap<&str, Vec<&StoredRecord>> = BTreeMap::new();
    for stored in records {
        by_case
            .entry(stored.record.case_id.as_str())
            .or_default()
            .push(stored);
    }
    by_case
        .into_iter()
        .map(|(case_id, runs)| {
            let detect: Vec<f64> = runs
                .iter()
                .filter_map(|run| run.record.figures.time_to_detect)
                .collect();
            let recover: Vec<f64> = runs
                .iter()
                .filter_map(|run| run.record.figures.time_to_recover)
                .collect();
            CaseHistory {
                case_id: case_id.to_string(),
                runs: runs.len(),
                completed: runs
                    .iter()
                    .filter(|run| run.record.outcome == Outcome::Completed)
                    .count(),
                time_to_detect: Spread::of(&detect),
                time_to_recover: Spread::of(&recover),
            }
        })
        .collect()
}

pub fn history_text(histories: &[CaseHistory], lang: Lang) -> String {
    let w = words(lang);
    let case_width = histories
        .iter()
        .map(|history| history.case_id.chars().count())
        .max()
        .unwrap_or(0)
        .max(w.case.chars().count());
    let mut out = String::new();
    let columns = [
        format!("MTTD {}", w.median),
        format!("MTTD {}", w.best),
        format!("MTTR {}", w.median),
        format!("MTTR {}", w.best),
    ];
    let _ = writeln!(
        out,
        "{:<case_width$}  {:<8}  {:<10}  {:<14}  {:<14}  {:<14}  {}",
        w.case, w.runs, w.completed, columns[0], columns[1], columns[2], columns[3]
    );
    for history in histories {
        let _ = writeln!(
            out,
            "{:<case_width$}  {:<8}  {:<10}  {:<14}  {:<14}  {:<14}  {}",
            history.case_id,
            history.runs,
            history.completed,
            maybe_duration(history.time_to_detect.median, lang),
            maybe_duration(history.time_to_detect.best, lang),
            maybe_duration(history.time_to_recover.median, lang),
            maybe_duration(history.time_to_recover.best, lang),
        );
    }
    let _ = writeln!(out, "\n{}", w.median_rule);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[30.0, 10.0, 20.0]), Some(20.0));
        assert_eq!(median(&[40.0, 10.0, 30.0, 20.0]), Some(25.0));
        // One drill left running for an hour does not move it the way it moves a mean.
        assert_eq!(median(&[9.0, 11.0, 3600.0]), Some(11.0));
    }

    #[test]
    fn a_spread_counts_only_the_runs_that_reached_the_moment() {
        let spread = Spread::of(&[12.0, 8.0]);
        assert_eq!(spread.measured, 2);
        assert_eq!(spread.median, Some(10.0));
        assert_eq!(spread.best, Some(8.0));
        assert_eq!(Spread::of(&[]).best, None);
    }
}
