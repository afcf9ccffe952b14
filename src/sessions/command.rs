//! `gameday sessions`: list, show, report and history of the drills' session records.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use super::document::{Block, ChartLink, to_html, to_markdown};
use super::facts::Clock;
use super::history::{histories, history_text};
use super::postmortem::postmortem;
use super::show::{list_text, show_text};
use super::store::{StoredRecord, find, read_all};
use super::words::words;
use crate::drill::CaseLibrary;
use crate::i18n::Lang;

/// Flags of `gameday sessions`.
#[derive(Debug, Args)]
pub struct SessionsArgs {
    #[command(subcommand)]
    pub command: SessionsCommand,
    /// Language of the texts (default: config file, GAMEDAY_LANG, then the locale).
    #[arg(long, global = true, value_name = "en|ru")]
    pub lang: Option<String>,
    /// The data folder whose `sessions/` holds the records (default: config file,
    /// GAMEDAY_DATA_DIR, then the platform's data folder).
    #[arg(long, global = true, value_name = "PATH")]
    pub data_dir: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// Every record, newest first: id, case, date, outcome, MTTD, MTTR.
    List,
    /// One record in full: phases, figures, checklist, hints, actions, notes.
    Show {
        /// The record's id, as `gameday sessions list` shows it.
        id: String,
    },
    /// A postmortem of one drill: figures, a chart of the signals, timeline, cause, what we
    /// did (every checklist item, the hints), what we will change. In Markdown written to a
    /// file, the chart is a file beside it (`REPORT.svg`); to the standard output, it is
    /// inside the text as a data URI. In HTML it is inline.
    Report {
        /// The record's id, as `gameday sessions list` shows it.
        id: String,
        /// Markdown, or one self-contained HTML page.
        #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
        format: ReportFormat,
        /// Write it to this file instead of the standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Runs per case with the median and best time to detect and to recover.
    History {
        /// Only this case, with each of its runs.
        case: Option<String>,
    },
    /// The recorded drill played back in the dashboard, read-only: its signals at their
    /// recorded times, the phase it was in, a position bar with the phases and marks. `q`
    /// quits. Version 1 records have no signal series and cannot be replayed.
    Replay {
        /// The record's id, as `gameday sessions list` shows it.
        id: String,
        /// How many times faster than the drill it plays, from 0.25 to 64.
        #[arg(long, default_value_t = 1.0, value_name = "N")]
        speed: f64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Md,
    Html,
}

/// Runs `gameday sessions` in `lang` on the records in `data_dir`, with the cases of `library`
/// for their texts.
pub fn run(
    command: SessionsCommand,
    lang: Lang,
    data_dir: &Path,
    library: &CaseLibrary,
) -> Result<(), String> {
    let (records, problems) = read_all(data_dir)?;
    for problem in problems {
        eprintln!("gameday: skipped {problem}");
    }
    let clock = Clock::local();
    match command {
        SessionsCommand::List => {
            print!("{}", list_text(&records, lang, clock));
            Ok(())
        }
        SessionsCommand::Show { id } => {
            let stored = find(&records, &id)?;
            let case = library.get(&stored.record.case_id);
            print!("{}", show_text(stored, case, lang, clock));
            Ok(())
        }
        SessionsCommand::Report { id, format, output } => {
            let stored = find(&records, &id)?;
            let case = library.get(&stored.record.case_id);
            let document = postmortem(stored, case, lang, clock);
            match (format, output) {
                (ReportFormat::Html, None) => print!("{}", to_html(&document)),
                (ReportFormat::Md, None) => {
                    print!("{}", to_markdown(&document, ChartLink::DataUri))
                }
                (ReportFormat::Html, Some(path)) => {
                    write_file(&path, &to_html(&document))?;
                }
                (ReportFormat::Md, Some(path)) => {
                    let mut chart_path = path.with_extension("svg");
                    if chart_path == path {
                        chart_path = path.with_extension("chart.svg");
                    }
                    let chart = document.blocks.iter().find_map(|block| match block {
                        Block::Chart { svg, .. } => Some(svg),
                        _ => None,
                    });
                    if let Some(svg) = chart {
                        write_file(&chart_path, svg)?;
                    }
                    let name = chart_path
                        .file_name()
                        .map(|name| name.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    write_file(&path, &to_markdown(&document, ChartLink::File(&name)))?;
                }
            }
            Ok(())
        }
        SessionsCommand::History { case: None } => {
            if records.is_empty() {
                println!("{}", words(lang).no_sessions);
            } else {
                print!("{}", history_text(&histories(&records), lang));
            }
            Ok(())
        }
        SessionsCommand::History {
            case: Some(case_id),
        } => {
            let runs: Vec<StoredRecord> = records
                .into_iter()
                .filter(|stored| stored.record.case_id == case_id)
                .collect();
            if runs.is_empty() {
                if library.get(&case_id).is_none() {
                    return Err(format!(
                        "no case `{case_id}`; expected one of {}",
                        library.ids().join(", ")
                    ));
                }
                println!("{}", words(lang).no_sessions);
                return Ok(());
            }
            print!("{}", history_text(&histories(&runs), lang));
            print!("\n{}", list_text(&runs, lang, clock));
            Ok(())
        }
        SessionsCommand::Replay { .. } => {
            Err("`sessions replay` runs in the dashboard, not here".to_string())
        }
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text)
        .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
