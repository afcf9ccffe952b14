//! Command-line definitions and dispatch; nothing else.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Arg, ArgAction, ArgMatches, Args, FromArgMatches, Parser, Subcommand};

use crate::config::{self, Discovered, FlagShape, SettingKey, SettingsOverrides};
use crate::sandbox::{self, SandboxConfig};
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
    pub dashboard: SettingsOverrides,
}

/// The dashboard's flags, one per setting (`config::SettingKey`); each overrides
/// `config.toml` and the `GAMEDAY_*` variables.
impl Args for SettingsOverrides {
    fn augment_args(command: clap::Command) -> clap::Command {
        SettingKey::ALL.iter().fold(command, |command, &key| {
            let flag = Arg::new(key.name())
                .long(key.flag().trim_start_matches('-').to_string())
                .help(key.help());
            command.arg(match key.flag_shape() {
                FlagShape::Value(value_name) => flag.value_name(value_name),
                FlagShape::OptionalValue { value_name, bare } => flag
                    .value_name(value_name)
                    .num_args(0..=1)
                    .default_missing_value(bare)
                    .require_equals(true),
                FlagShape::Switch => flag.action(ArgAction::SetTrue),
            })
        })
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}

impl FromArgMatches for SettingsOverrides {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut overrides = SettingsOverrides::default();
        for &key in SettingKey::ALL {
            let value = match key.flag_shape() {
                FlagShape::Switch => matches
                    .try_get_one::<bool>(key.name())
                    .map(|on| on.copied().unwrap_or_default().then(|| "true".to_string())),
                _ => matches
                    .try_get_one::<String>(key.name())
                    .map(Option::<&String>::cloned),
            };
            let value = value.map_err(|err| clap::Error::raw(ErrorKind::InvalidValue, err))?;
            if let Some(value) = value {
                overrides.set(key, value);
            }
        }
        Ok(overrides)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

#[derive(Debug, Subcommand)]
// Parsed once at start: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Serve the FinCore sandbox: the workshop's payment API with real, injectable failures.
    Sandbox(SandboxArgs),
    /// Serve the payment provider FinCore depends on, with its own injectable failures.
    Provider(ProviderArgs),
    /// Send load to a FinCore API and report what the clients saw.
    Load(crate::load::command::LoadArgs),
    /// List, show and validate drill cases, and write their runbooks.
    Cases(crate::drill::command::CasesArgs),
    /// Run a guided drill: baseline, inject, detect, respond, recover, with a timer.
    Drill(DrillArgs),
    /// What drills left behind: list, show, postmortem reports and history of the records.
    Sessions(crate::sessions::command::SessionsArgs),
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
    pub target: SettingsOverrides,
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
    /// Require `Authorization: Bearer TOKEN` to change failures [env: GAMEDAY_CONTROL_TOKEN,
    /// used when neither token flag is given].
    #[arg(long, value_name = "TOKEN")]
    pub control_token: Option<String>,
    /// Read the control token from this file (trimmed), so it is not shown by `ps`.
    #[arg(long, value_name = "PATH", conflicts_with = "control_token")]
    pub control_token_file: Option<PathBuf>,
    /// Close a connection whose request headers have not all arrived in this time.
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub header_timeout: HumanDuration,
    /// Close a kept-alive connection with no request for this long.
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub idle_timeout: HumanDuration,
    /// Most connections open at once; more are answered 503 with Retry-After [default: 768,
    /// lowered to fit the file-descriptor limit].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub max_connections: Option<u32>,
    /// Write the JSON log here instead of stderr.
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// Stop when stdin closes (used by the embedded supervisor).
    #[arg(long, hide = true)]
    pub exit_with_stdin: bool,
    /// Use the payment provider at this URL instead of starting one in this process.
    #[arg(long, value_name = "URL", requires = "provider_secret_file")]
    pub provider_url: Option<String>,
    /// The external provider's webhook secret, from this file (trimmed).
    #[arg(long, value_name = "PATH", requires = "provider_url")]
    pub provider_secret_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ProviderArgs {
    /// Address to serve on. Anything but loopback lets others inject the provider's failures.
    #[arg(long, default_value = "127.0.0.1:5100", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Where the provider posts its signed webhooks (FinCore's /api/webhooks/provider).
    #[arg(long, value_name = "URL")]
    pub webhook_url: String,
    /// Read the webhooks' HMAC secret from this file (trimmed) [else env
    /// GAMEDAY_PROVIDER_SECRET].
    #[arg(long, value_name = "PATH")]
    pub webhook_secret_file: Option<PathBuf>,
    /// Write the JSON log here instead of stderr.
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
}

pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Some(Command::Sandbox(args)) => run_sandbox(args),
        Some(Command::Provider(args)) => run_provider(args),
        Some(Command::Load(args)) => crate::load::command::run(args, configured_api),
        Some(Command::Cases(args)) => run_cases(args),
        Some(Command::Drill(args)) => run_drill(args),
        Some(Command::Sessions(args)) => run_sessions(args),
        None => run_dashboard(cli.dashboard, None),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // A vanished terminal (hangup) must not turn the error into a panic.
            let _ = writeln!(std::io::stderr(), "gameday: {message}");
            ExitCode::FAILURE
        }
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Settings, themes and the config folder, found as for every subcommand.
fn discover(overrides: &SettingsOverrides) -> Result<Discovered, String> {
    config::discover(
        config::default_config_file().as_deref(),
        &env_var,
        overrides,
    )
    .map_err(|err| err.to_string())
}

/// The `api` of the user's settings, which `gameday load` may send to besides loopback.
fn configured_api() -> Result<Option<String>, String> {
    discover(&SettingsOverrides::default())
        .map(|found| found.settings.api)
        .map_err(|err| format!("reading the settings to check --target: {err}"))
}

fn run_cases(args: crate::drill::command::CasesArgs) -> Result<(), String> {
    let overrides = SettingsOverrides {
        lang: args.lang,
        ..SettingsOverrides::default()
    };
    let found = discover(&overrides)?;
    let (library, user_reports) = found.cases();
    crate::drill::command::run(args.command, found.settings.lang, library, user_reports)
}

fn run_sessions(args: crate::sessions::command::SessionsArgs) -> Result<(), String> {
    let overrides = SettingsOverrides {
        lang: args.lang,
        data_dir: args.data_dir,
        ..SettingsOverrides::default()
    };
    let found = discover(&overrides)?;
    // A broken case file of the user's only costs its texts here: the records still show.
    let (library, _) = found.cases();
    let data_dir = found
        .settings
        .data_dir
        .clone()
        .or_else(config::default_data_dir)
        .ok_or("no data folder: set --data-dir or GAMEDAY_DATA_DIR")?;
    if let crate::sessions::command::SessionsCommand::Replay { id, speed } = &args.command {
        return run_replay(found, data_dir, id, *speed);
    }
    crate::sessions::command::run(args.command, found.settings.lang, &data_dir, &library)
}

/// `gameday sessions replay`: the record made ready first, so a bad speed or a record with
/// nothing to replay is refused before the terminal is taken.
fn run_replay(
    found: Discovered,
    data_dir: std::path::PathBuf,
    id: &str,
    speed: f64,
) -> Result<(), String> {
    let replay = crate::sessions::replay::ReplayStart::load(&data_dir, id, speed)?;
    crate::logging::init_json(Some(&data_dir.join("gameday.log")))?;
    let keys = key_table(&found.settings.keys)?;
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        return Err("the replay needs a terminal (stdout is not one)".to_string());
    }
    let Discovered {
        settings, themes, ..
    } = found;
    let start = crate::app::DashboardStart {
        cases: Vec::new(),
        drill: None,
        data_dir,
        keys,
        replay: Some(replay),
    };
    crate::app::run(settings, themes, start)
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
    if args.target.read_only.is_some() {
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

fn run_dashboard(overrides: SettingsOverrides, drill: Option<DrillArgs>) -> Result<(), String> {
    let found = discover(&overrides)?;
    let (library, user_reports) = found.cases();
    let Discovered {
        settings, themes, ..
    } = found;
    let data_dir = settings
        .data_dir
        .clone()
        .or_else(config::default_data_dir)
        .ok_or("no data folder: set --data-dir or GAMEDAY_DATA_DIR")?;
    crate::data_dir::prepare(&data_dir)?;
    // A broken case file of the user's stops a drill (it may be the one asked for); the
    // dashboard alone goes on with the valid cases.
    let problems = crate::drill::command::report_problems(&user_reports);
    if drill.is_some() {
        problems?;
    }
    let drill = drill
        .map(|args| drill_request(args, &library, settings.lang))
        .transpose()?;
    crate::logging::init_json(Some(&data_dir.join("gameday.log")))?;
    let keys = key_table(&settings.keys)?;
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        return Err("the dashboard needs a terminal (stdout is not one)".to_string());
    }
    let start = crate::app::DashboardStart {
        cases: library.cases().to_vec(),
        drill,
        data_dir,
        keys,
        replay: None,
    };
    crate::app::run(settings, themes, start)
}

fn run_sandbox(args: SandboxArgs) -> Result<(), String> {
    crate::logging::init_json(args.log_file.as_deref())?;
    let control_token = sandbox::control_token::resolve(
        args.control_token,
        args.control_token_file.as_deref(),
        env_var(sandbox::control_token::ENV_NAME),
    )?;
    let header_timeout = within(
        "--header-timeout",
        args.header_timeout,
        std::time::Duration::from_millis(100),
        std::time::Duration::from_secs(600),
        "100ms to 10m",
    )?;
    let idle_timeout = within(
        "--idle-timeout",
        args.idle_timeout,
        std::time::Duration::from_millis(100),
        std::time::Duration::from_secs(3600),
        "100ms to 1h",
    )?;
    // The leak's ceiling: below 1 MiB no leak shows, above 64 GiB is a typo on any machine.
    let memory_cap = args.memory_cap.0;
    if !((1 << 20)..=(64 << 30)).contains(&memory_cap) {
        return Err(format!(
            "--memory-cap {}: expected a size from 1MiB to 64GiB",
            args.memory_cap
        ));
    }
    let provider = match (&args.provider_url, &args.provider_secret_file) {
        (Some(url), Some(path)) => sandbox::ProviderSetup::External {
            url: http_url("--provider-url", url)?,
            secret: provider_secret(Some(path), "--provider-secret-file", None)?,
        },
        _ => sandbox::ProviderSetup::Embedded,
    };
    let config = SandboxConfig {
        listen: args.listen,
        database_url: args.database_url,
        workers: usize::from(args.workers),
        db_pool: args.db_pool,
        memory_cap_bytes: args.memory_cap.0,
        default_ttl: (!args.failure_ttl.0.is_zero()).then_some(args.failure_ttl.0),
        control_token,
        connections: sandbox::ConnectionLimits {
            max_connections: args.max_connections.and_then(|n| usize::try_from(n).ok()),
            header_timeout,
            idle_timeout,
        },
        exit_with_stdin: args.exit_with_stdin,
        provider,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the async runtime: {err}"))?;
    let result = runtime.block_on(sandbox::run(config));
    // With --exit-with-stdin a blocking read of stdin is still running after a signal, and
    // dropping the runtime would wait for it (until the supervisor's SIGKILL): don't wait.
    runtime.shutdown_background();
    result
}

fn run_provider(args: ProviderArgs) -> Result<(), String> {
    crate::logging::init_json(args.log_file.as_deref())?;
    let webhook_secret = provider_secret(
        args.webhook_secret_file.as_deref(),
        "--webhook-secret-file",
        env_var(crate::provider::SECRET_ENV),
    )?;
    let webhook_url = http_url("--webhook-url", &args.webhook_url)?;
    if !args.listen.ip().is_loopback() {
        eprintln!(
            "WARNING: the provider listens on {}: anyone who can reach it can inject its failures.",
            args.listen
        );
    }
    let config = crate::provider::ProviderConfig {
        listen: args.listen,
        webhook_url,
        webhook_secret,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the async runtime: {err}"))?;
    let result = runtime.block_on(crate::provider::run(config));
    runtime.shutdown_background();
    result
}

/// The webhooks' secret from `file` (named `flag` in errors) or else `env`; one is required.
fn provider_secret(
    file: Option<&std::path::Path>,
    flag: &str,
    env: Option<String>,
) -> Result<crate::secret::Secret, String> {
    let text = match (file, env) {
        (Some(path), _) => crate::secret::read_token_text(path)
            .map_err(|err| format!("{flag} {}: {err}", path.display()))?,
        (None, Some(text)) => text,
        (None, None) => {
            return Err(format!(
                "the webhook secret is required: give {flag} PATH or set {}",
                crate::provider::SECRET_ENV
            ));
        }
    };
    crate::secret::check_token(text, flag).map(crate::secret::Secret::new)
}

/// An `http://` or `https://` URL without a trailing slash, or an error naming `flag`.
fn http_url(flag: &str, url: &str) -> Result<String, String> {
    let parsed = reqwest::Url::parse(url).map_err(|err| format!("{flag} {url}: {err}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!("{flag} {url}: expected http://HOST:PORT/PATH"));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// A duration flag's value, or an error that gives the allowed range.
fn within(
    flag: &str,
    value: HumanDuration,
    min: std::time::Duration,
    max: std::time::Duration,
    range: &str,
) -> Result<std::time::Duration, String> {
    if value.0 < min || value.0 > max {
        return Err(format!("{flag} {value}: expected a duration from {range}"));
    }
    Ok(value.0)
}

/// The key table with `[keys]` applied; a refusal names the entry's file and line.
fn key_table(
    bindings: &[crate::config::KeyBindingSetting],
) -> Result<crate::model::KeyTable, String> {
    let overrides: Vec<crate::model::keys::KeyOverride> = bindings
        .iter()
        .map(|binding| crate::model::keys::KeyOverride {
            action: binding.action.clone(),
            keys: binding.keys.clone(),
        })
        .collect();
    crate::model::KeyTable::with_overrides(&overrides).map_err(|refused| {
        bindings
            .get(refused.entry)
            .map_or(refused.detail.clone(), |binding| {
                binding.error(&refused.detail).to_string()
            })
    })
}
