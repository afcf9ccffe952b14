//! Command-line definitions and dispatch; nothing else.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{self, SettingsOverrides};
use crate::sandbox::{self, SandboxConfig};
use crate::theme::Themes;
use crate::units::{ByteSize, HumanDuration};

#[derive(Debug, Parser)]
#[command(
    name = "gameday",
    version,
    about = "Incident-response practice on the FinCore payment API",
    long_about = "Incident-response practice on the FinCore payment API.\n\n\
        With no target, gameday runs its own FinCore sandbox with a steady load and opens the \
        live dashboard. With --api (and --prometheus, --docker) it watches the workshop stack.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub dashboard: DashboardArgs,
}

/// The dashboard's flags; each overrides `config.toml` and the `GAMEDAY_*` variables.
#[derive(Debug, Args, Default)]
pub struct DashboardArgs {
    /// The FinCore API to watch, e.g. http://localhost:5000 (default: the embedded sandbox).
    #[arg(long, value_name = "URL")]
    pub api: Option<String>,
    /// Prometheus scraping that API, e.g. http://localhost:9090 (default: scrape /metrics).
    #[arg(long, value_name = "URL")]
    pub prometheus: Option<String>,
    /// Container figures from Docker or podman: `--docker` for DOCKER_HOST or the default
    /// socket, `--docker=unix:///run/podman/podman.sock` for another.
    #[arg(
        long,
        value_name = "HOST",
        num_args = 0..=1,
        default_missing_value = "true",
        require_equals = true
    )]
    pub docker: Option<String>,
    /// The app container's name (default: every container of compose service `app`).
    #[arg(long, value_name = "NAME")]
    pub container: Option<String>,
    /// The database container, for the "database down" actions (default: the container of
    /// compose service `db`).
    #[arg(long, value_name = "NAME")]
    pub db_container: Option<String>,
    /// Where the embedded sandbox listens (loopback; default: a free port).
    #[arg(long, value_name = "ADDR")]
    pub sandbox_listen: Option<String>,
    /// Memory limit of the embedded sandbox; past it, it is killed and restarted.
    #[arg(long, value_name = "SIZE")]
    pub sandbox_memory: Option<String>,
    /// Background load in requests per second, or `off` (default: 20 on the embedded sandbox,
    /// none against another API).
    #[arg(long, value_name = "RATE|off")]
    pub load: Option<String>,
    /// Interface language (default: from the locale).
    #[arg(long, value_name = "en|ru")]
    pub lang: Option<String>,
    /// Colour theme: dark, light, projector, colorblind, or one of your own.
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// How often sources are polled.
    #[arg(long, value_name = "DURATION")]
    pub poll_interval: Option<String>,
    /// Time to live of every injected failure, where the target supports it, so a forgotten
    /// failure ends by itself: a duration such as 10m, or `off`.
    #[arg(long, value_name = "DURATION|off")]
    pub ttl: Option<String>,
    /// Where logs and session records go.
    #[arg(long, value_name = "PATH")]
    pub data_dir: Option<PathBuf>,
    /// Watch only: no load, no key changes the target.
    #[arg(long)]
    pub read_only: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the FinCore sandbox: the workshop's payment API with real, injectable failures.
    Sandbox(SandboxArgs),
    /// Send load to a FinCore API and report what the clients saw.
    Load(crate::load::command::LoadArgs),
    /// List, show and validate drill cases.
    Cases(crate::drill::command::CasesArgs),
    /// Run a guided drill: baseline, inject, detect, respond, recover, with a timer.
    Drill(DrillArgs),
}

/// `gameday drill CASE`, on the same targets as the dashboard.
#[derive(Debug, Args)]
pub struct DrillArgs {
    /// The case (see `gameday cases list`); with --blind and none given, a random one.
    #[arg(value_name = "CASE")]
    pub case: Option<String>,
    /// How long to measure the healthy service first (default: the case's, usually 60s).
    #[arg(long, value_name = "DURATION")]
    pub baseline: Option<HumanDuration>,
    /// How long every signal must stay back in its band to count as recovered (default: the
    /// case's, usually 30s).
    #[arg(long, value_name = "DURATION")]
    pub recover_hold: Option<HumanDuration>,
    /// Wait for the failure to be injected by hand (keys, or the facilitator); its time is
    /// taken from the failure state read back.
    #[arg(long)]
    pub manual_inject: bool,
    /// Hide the case: at detection, name the cause from a list; the review says if you were
    /// right.
    #[arg(long)]
    pub blind: bool,
    /// Seed of the blind drill's pick, to repeat it.
    #[arg(long, value_name = "N", requires = "blind")]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub target: DashboardArgs,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address to serve on. Anything but loopback lets others inject failures.
    #[arg(long, default_value = "127.0.0.1:5000", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Database: sqlite://PATH or postgres://USER@HOST:PORT/DB (default: a temporary SQLite file).
    #[arg(
        long,
        env = "GAMEDAY_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Requests processed at once; the rest wait (the workshop runs 2 workers x 4 threads).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub workers: u16,
    /// Database connections in the pool.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_pool: u32,
    /// Most memory the memory_leak failure may hold.
    #[arg(long, default_value = "1GiB", value_name = "SIZE")]
    pub memory_cap: ByteSize,
    /// Time to live of every injected failure that does not give its own `ttl_s` (0s: none).
    #[arg(long, default_value = "0s", value_name = "DURATION")]
    pub failure_ttl: HumanDuration,
    /// Require `Authorization: Bearer TOKEN` to change failures.
    #[arg(
        long,
        env = "GAMEDAY_CONTROL_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub control_token: Option<String>,
    /// Write the JSON log here instead of stderr.
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// Stop when stdin closes (used by the embedded supervisor).
    #[arg(long, hide = true)]
    pub exit_with_stdin: bool,
}

pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Some(Command::Sandbox(args)) => run_sandbox(args),
        Some(Command::Load(args)) => crate::load::command::run(args),
        Some(Command::Cases(args)) => crate::drill::command::run(args),
        Some(Command::Drill(args)) => run_drill(args),
        None => run_dashboard(cli.dashboard, None),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("gameday: {message}");
            ExitCode::FAILURE
        }
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The most a baseline or a recovery hold may last: a drill is a workshop exercise.
const MAX_DRILL_PHASE: std::time::Duration = std::time::Duration::from_secs(30 * 60);

fn run_drill(mut args: DrillArgs) -> Result<(), String> {
    for (flag, value) in [
        ("--baseline", args.baseline),
        ("--recover-hold", args.recover_hold),
    ] {
        if let Some(value) = value {
            if value.0 < std::time::Duration::from_secs(1) || value.0 > MAX_DRILL_PHASE {
                return Err(format!(
                    "{flag} {value}: expected a duration from 1s to 30m, such as 60s"
                ));
            }
        }
    }
    if args.target.read_only {
        return Err(
            "--read-only: a drill injects failures; run it without --read-only".to_string(),
        );
    }
    let target = std::mem::take(&mut args.target);
    run_dashboard(target, Some(args))
}

/// The drill asked for: its case (named, or picked at random for a blind drill) with the
/// flags' durations.
fn drill_request(
    args: DrillArgs,
    library: &crate::drill::CaseLibrary,
    lang: config::Lang,
) -> Result<crate::model::DrillRequest, String> {
    let known = || library.ids().join(", ");
    let seed = args.seed.unwrap_or_else(rand::random);
    let mut case = match (&args.case, args.blind) {
        (Some(id), _) => library
            .get(id)
            .cloned()
            .ok_or_else(|| format!("no case `{id}`; expected one of {}", known()))?,
        (None, true) => library
            .pick_random(seed)
            .cloned()
            .ok_or("no case to pick from")?,
        (None, false) => {
            return Err(format!(
                "which case? expected one of {}, or --blind for a random one",
                known()
            ));
        }
    };
    if let Some(baseline) = args.baseline {
        case.baseline = baseline.0;
    }
    if let Some(hold) = args.recover_hold {
        case.recovery.hold = hold.0;
    }
    Ok(crate::model::DrillRequest {
        case,
        blind: args.blind,
        manual_inject: args.manual_inject,
        diagnoses: if args.blind {
            library.diagnosis_choices(seed, lang)
        } else {
            Vec::new()
        },
    })
}

fn run_dashboard(args: DashboardArgs, drill: Option<DrillArgs>) -> Result<(), String> {
    let config_file =
        config::config_file_in_use(config::default_config_file().as_deref(), &env_var);
    let theme_dir = config_file.as_deref().and_then(|file| file.parent());
    let themes = Themes::load(theme_dir)?;
    let overrides = SettingsOverrides {
        lang: args.lang,
        theme: args.theme,
        api: args.api,
        prometheus: args.prometheus,
        docker: args.docker,
        container: args.container,
        db_container: args.db_container,
        sandbox_listen: args.sandbox_listen,
        sandbox_memory: args.sandbox_memory,
        load: args.load,
        poll_interval: args.poll_interval,
        ttl: args.ttl,
        data_dir: args.data_dir,
        read_only: args.read_only.then_some(true),
    };
    let names = themes.names();
    let settings = config::load(
        config::default_config_file().as_deref(),
        &env_var,
        &overrides,
        &names,
    )
    .map_err(|err| err.to_string())?;
    let data_dir = settings
        .data_dir
        .clone()
        .or_else(config::default_data_dir)
        .ok_or("no data folder: set --data-dir or GAMEDAY_DATA_DIR")?;
    std::fs::create_dir_all(&data_dir).map_err(|err| {
        format!(
            "cannot create the data folder {}: {err}",
            data_dir.display()
        )
    })?;
    // A broken case file of the user's stops a drill (it may be the one asked for); the
    // dashboard alone goes on with the valid cases.
    let library = match crate::drill::command::load_reporting(theme_dir) {
        Ok(library) => library,
        Err(err) if drill.is_some() => return Err(err),
        Err(_) => crate::drill::CaseLibrary::load(theme_dir).0,
    };
    let drill = drill
        .map(|args| drill_request(args, &library, settings.lang))
        .transpose()?;
    crate::logging::init_json(Some(&data_dir.join("gameday.log")))?;
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        return Err("the dashboard needs a terminal (stdout is not one)".to_string());
    }
    let start = crate::app::DashboardStart {
        cases: library.cases().to_vec(),
        drill,
        data_dir,
        keys: crate::model::KeyTable::default(),
    };
    crate::app::run(settings, themes, start)
}

fn run_sandbox(args: SandboxArgs) -> Result<(), String> {
    crate::logging::init_json(args.log_file.as_deref())?;
    if args.control_token.as_deref() == Some("") {
        return Err("--control-token: expected a non-empty token".to_string());
    }
    let config = SandboxConfig {
        listen: args.listen,
        database_url: args.database_url,
        workers: usize::from(args.workers),
        db_pool: args.db_pool,
        memory_cap_bytes: args.memory_cap.0,
        default_ttl: (!args.failure_ttl.0.is_zero()).then_some(args.failure_ttl.0),
        control_token: args.control_token,
        exit_with_stdin: args.exit_with_stdin,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the async runtime: {err}"))?;
    runtime.block_on(sandbox::run(config))
}
