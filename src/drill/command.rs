//! `gameday cases`: list, show, validate drill cases and write their runbooks.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::case::{Case, ContainerWhen, Step};
use super::library::{CaseLibrary, check_files, shipped_reports};
use super::target_learn::{TargetFlags, learn, report};
use super::validate::{CaseReport, ProblemSeverity};
use crate::i18n::Lang;
use crate::units::HumanDuration;

/// Flags of `gameday cases`.
#[derive(Debug, Args)]
pub struct CasesArgs {
    #[command(subcommand)]
    pub command: CasesCommand,
    /// Language of titles and texts (default: config file, GAMEDAY_LANG, then the locale).
    #[arg(long, global = true, value_name = "en|ru")]
    pub lang: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CasesCommand {
    /// Every case: id, difficulty and title.
    List,
    /// One case in full.
    Show {
        /// The case's id, as `gameday cases list` shows it.
        id: String,
    },
    /// A case as a runbook in Markdown: what it looks like, how to confirm it, what to do,
    /// how to know it is over, questions for the debrief.
    Runbook {
        /// The case's id, as `gameday cases list` shows it.
        id: String,
    },
    /// Check case files; with none, the shipped cases and yours in <config dir>/cases/.
    Validate {
        /// Case files to check.
        files: Vec<PathBuf>,
        /// Also check every case against this FinCore API: knobs it takes, metrics it
        /// exports, alerts it can fire, endpoints the signals need.
        #[arg(long, value_name = "URL")]
        api: Option<String>,
        /// With --api: the Prometheus scraping it, whose alert rules the cases expect.
        #[arg(long, value_name = "URL", requires = "api")]
        prometheus: Option<String>,
        /// With --api: memory and restarts come from Docker, as `gameday --docker` reads them.
        #[arg(long, requires = "api")]
        docker: bool,
    },
}

/// Runs `gameday cases` in `lang` on the cases found: the library and a report per user file,
/// as `config::Discovered::cases` gives them.
pub fn run(
    command: CasesCommand,
    lang: Lang,
    library: CaseLibrary,
    user_reports: Vec<CaseReport>,
) -> Result<(), String> {
    match command {
        CasesCommand::List => {
            report_problems(&user_reports)?;
            print!("{}", list_text(&library, lang));
            Ok(())
        }
        CasesCommand::Show { id } => {
            report_problems(&user_reports)?;
            let case = case_named(&library, &id)?;
            print!("{}", show_text(case, lang));
            Ok(())
        }
        CasesCommand::Runbook { id } => {
            report_problems(&user_reports)?;
            let case = case_named(&library, &id)?;
            print!("{}", super::runbook::runbook_markdown(case, lang));
            Ok(())
        }
        CasesCommand::Validate {
            files,
            api,
            prometheus,
            docker,
        } => {
            let reports = if files.is_empty() {
                let mut reports = shipped_reports();
                reports.extend(user_reports);
                reports
            } else {
                check_files(&files)
            };
            validate_reports(&reports)?;
            match api {
                Some(api) => {
                    let flags = TargetFlags {
                        api,
                        prometheus,
                        docker,
                    };
                    validate_on_target(&reports, &flags)
                }
                None => Ok(()),
            }
        }
    }
}

/// The case with this id, or what ids there are.
fn case_named<'a>(library: &'a CaseLibrary, id: &str) -> Result<&'a Case, String> {
    library.get(id).ok_or_else(|| {
        format!(
            "no case `{id}`; expected one of {}",
            library.ids().join(", ")
        )
    })
}

/// Prints the problems of the user's case files; a broken one makes the command fail, so a
/// typo is never silently skipped.
pub(crate) fn report_problems(reports: &[CaseReport]) -> Result<(), String> {
    let mut invalid = 0;
    for report in reports {
        for problem in &report.problems {
            eprintln!("{problem}");
        }
        invalid += usize::from(report.case.is_none());
    }
    match invalid {
        0 => Ok(()),
        n => Err(format!(
            "{n} of your case files are invalid; run `gameday cases validate`"
        )),
    }
}

/// Every valid case against the target `flags` name; an error fails the command.
fn validate_on_target(reports: &[CaseReport], flags: &TargetFlags) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the async runtime: {err}"))?;
    let profile = runtime.block_on(learn(flags))?;
    let cases: Vec<&Case> = reports.iter().filter_map(|r| r.case.as_ref()).collect();
    let (lines, errors) = report(&cases, &profile);
    println!("\nagainst {}:", flags.api);
    for line in lines {
        println!("{line}");
    }
    match errors {
        0 => Ok(()),
        n => Err(format!("{n} problem(s) would stop cases on {}", flags.api)),
    }
}

fn validate_reports(reports: &[CaseReport]) -> Result<(), String> {
    let mut invalid = 0;
    for report in reports {
        for problem in &report.problems {
            eprintln!("{problem}");
        }
        match &report.case {
            Some(case) => println!("ok {}: {}", report.file, summary(case)),
            None => {
                invalid += 1;
                let errors = report.errors().count();
                println!("invalid {}: {errors} error(s)", report.file);
            }
        }
    }
    let warnings = reports
        .iter()
        .flat_map(|report| &report.problems)
        .filter(|problem| problem.severity == ProblemSeverity::Warning)
        .count();
    if invalid > 0 {
        return Err(format!(
            "{invalid} of {} case files are invalid",
            reports.len()
        ));
    }
    println!(
        "{} case file(s) valid, {warnings} warning(s)",
        reports.len()
    );
    Ok(())
}

fn summary(case: &Case) -> String {
    let items: usize = case.checklist.iter().map(Vec::len).sum();
    format!(
        "{} ({}), {} signal(s), {} alert(s), {items} checklist item(s), {} hint(s)",
        case.id,
        case.difficulty.name(),
        case.signals.len(),
        case.alerts.len(),
        case.hints.len()
    )
}

pub fn list_text(library: &CaseLibrary, lang: Lang) -> String {
    let (id, difficulty, title) = match lang {
        Lang::En => ("ID", "DIFFICULTY", "TITLE"),
        Lang::Ru => ("ID", "СЛОЖНОСТЬ", "НАЗВАНИЕ"),
    };
    let mut out = format!("{id:<17} {difficulty:<11} {title}\n");
    for case in library.cases() {
        let own = if case.source.starts_with("cases/") {
            String::new()
        } else {
            format!("  ({})", case.source)
        };
        let _ = writeln!(
            out,
            "{:<17} {:<11} {}{own}",
            case.id,
            case.difficulty.label(lang),
            case.title.get(lang)
        );
    }
    out
}

struct Labels {
    difficulty: &'static str,
    source: &'static str,
    requires: &'static str,
    baseline: &'static str,
    briefing: &'static str,
    injection: &'static str,
    instead: &'static str,
    load: &'static str,
    signals: &'static str,
    alerts: &'static str,
    checklist: &'static str,
    hints: &'static str,
    recovery: &'static str,
    recovery_line: &'static str,
    tolerance: &'static str,
    hold: &'static str,
    failures_cleared: &'static str,
    provider_cleared: &'static str,
    provider_still_failing: &'static str,
    patterns_on: &'static str,
    starting_patterns: &'static str,
    debrief: &'static str,
    diagnosis: &'static str,
    steps: [&'static str; 5],
}

const EN: Labels = Labels {
    difficulty: "difficulty",
    source: "file",
    requires: "requires",
    baseline: "baseline",
    briefing: "Briefing",
    injection: "Injection",
    instead: "instead, on a target without the sandbox",
    load: "Load",
    signals: "Signals",
    alerts: "Expected alerts",
    checklist: "Checklist",
    hints: "Hints",
    recovery: "Recovery",
    recovery_line: "back within their baseline band",
    tolerance: "tolerance",
    hold: "hold",
    failures_cleared: "failures read back as cleared",
    provider_cleared: "the provider's failures read back as cleared",
    provider_still_failing: "while the provider's failure is still set (the fix is in FinCore)",
    patterns_on: "patterns read back as on",
    starting_patterns: "patterns at the start (every other pattern off)",
    debrief: "Debrief",
    diagnosis: "Diagnosis (blind mode)",
    steps: ["Baseline", "Inject", "Detect", "Respond", "Recover"],
};

const RU: Labels = Labels {
    difficulty: "сложность",
    source: "файл",
    requires: "нужно",
    baseline: "базовая линия",
    briefing: "Вводная",
    injection: "Отказ",
    instead: "вместо этого, если цель — не песочница",
    load: "Нагрузка",
    signals: "Сигналы",
    alerts: "Ожидаемые алерты",
    checklist: "Чек-лист",
    hints: "Подсказки",
    recovery: "Восстановление",
    recovery_line: "в пределах своей базовой полосы",
    tolerance: "допуск",
    hold: "удержание",
    failures_cleared: "отказы сброшены (по чтению состояния)",
    provider_cleared: "отказы провайдера сброшены (по чтению состояния)",
    provider_still_failing: "пока отказ провайдера ещё действует (исправление — в FinCore)",
    patterns_on: "включены паттерны (по чтению состояния)",
    starting_patterns: "паттерны в начале (остальные выключены)",
    debrief: "Разбор",
    diagnosis: "Диагноз (слепой режим)",
    steps: [
        "Базовая линия",
        "Внесение",
        "Обнаружение",
        "Реакция",
        "Восстановление",
    ],
};

pub fn show_text(case: &Case, lang: Lang) -> String {
    let l = match lang {
        Lang::En => &EN,
        Lang::Ru => &RU,
    };
    let mut out = String::new();
    let _ = writeln!(out, "{} — {}", case.id, case.title.get(lang));
    let _ = writeln!(
        out,
        "{}: {}   {}: {}   {}: {}",
        l.difficulty,
        case.difficulty.label(lang),
        l.baseline,
        HumanDuration(case.baseline),
        l.source,
        case.source
    );
    if !case.requires.is_empty() {
        let names: Vec<&str> = case.requires.iter().map(|r| r.name()).collect();
        let _ = writeln!(out, "{}: {}", l.requires, names.join(", "));
    }
    let _ = writeln!(out, "\n{}\n{}", l.briefing, indent(case.briefing.get(lang)));
    let _ = writeln!(out, "\n{}", l.injection);
    if let Some(failures) = &case.injection.failures {
        let _ = writeln!(out, "  POST /api/failures {}", failures.to_json());
    }
    if let Some(provider) = &case.injection.provider {
        let _ = writeln!(out, "  provider: POST /api/failures {}", provider.to_json());
    }
    if let Some(patterns) = &case.starting_patterns {
        let on = crate::drill::dependency::patterns_on(patterns);
        let on = if on.is_empty() {
            "-".to_string()
        } else {
            on.join(", ")
        };
        let _ = writeln!(out, "  {}: {on}", l.starting_patterns);
    }
    if let Some(container) = &case.injection.container {
        let when = match container.when {
            ContainerWhen::Always => String::new(),
            ContainerWhen::NoSandbox => format!(" ({})", l.instead),
        };
        let _ = writeln!(
            out,
            "  container {} {}{when}",
            container.action.verb().name(),
            container.action.target().name()
        );
    }
    let _ = writeln!(out, "\n{}\n  {}", l.load, case.load.describe());
    let _ = writeln!(out, "\n{}", l.signals);
    for watched in &case.signals {
        let promql = watched
            .promql
            .as_ref()
            .map(|q| format!("   PromQL: {q}"))
            .unwrap_or_default();
        let _ = writeln!(out, "  {}{promql}", watched.condition);
    }
    if !case.alerts.is_empty() {
        let _ = writeln!(out, "\n{}\n  {}", l.alerts, case.alerts.join(", "));
    }
    let _ = writeln!(out, "\n{}", l.checklist);
    for step in Step::ALL {
        let _ = writeln!(out, "  {}", l.steps[step.index()]);
        for item in case.checklist_for(step) {
            let auto = item
                .verify
                .map(|condition| format!("   [auto: {condition}]"))
                .unwrap_or_default();
            let _ = writeln!(out, "    [ ] {}{auto}", item.text.get(lang));
        }
    }
    if !case.hints.is_empty() {
        let _ = writeln!(out, "\n{}", l.hints);
        for (index, hint) in case.hints.iter().enumerate() {
            let _ = writeln!(out, "  {}. {}", index + 1, hint.text.get(lang));
        }
    }
    let recovery = &case.recovery;
    let names: Vec<&str> = recovery.signals.iter().map(|s| s.name()).collect();
    let _ = writeln!(
        out,
        "\n{}\n  {} {}; {} {:.0}%, {} {}",
        l.recovery,
        names.join(", "),
        l.recovery_line,
        l.tolerance,
        recovery.tolerance * 100.0,
        l.hold,
        HumanDuration(recovery.hold)
    );
    let injected = &case.injection;
    if recovery.failures_cleared && injected.failures.is_some() {
        let _ = writeln!(out, "  {}", l.failures_cleared);
    }
    if recovery.provider_cleared && injected.provider.is_some() {
        let _ = writeln!(out, "  {}", l.provider_cleared);
    }
    if recovery.provider_still_failing {
        let _ = writeln!(out, "  {}", l.provider_still_failing);
    }
    if !recovery.patterns.is_empty() {
        let _ = writeln!(out, "  {}: {}", l.patterns_on, recovery.patterns.join(", "));
    }
    if !case.debrief.is_empty() {
        let _ = writeln!(out, "\n{}", l.debrief);
        for question in &case.debrief {
            let _ = writeln!(out, "  - {}", question.get(lang));
        }
    }
    let _ = writeln!(out, "\n{}\n  {}", l.diagnosis, case.diagnosis.get(lang));
    out
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}
