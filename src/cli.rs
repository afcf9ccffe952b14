//! Command-line definitions and dispatch; nothing else.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::sandbox::{self, SandboxConfig};
use crate::units::{ByteSize, HumanDuration};

#[derive(Debug, Parser)]
#[command(
    name = "gameday",
    version,
    about = "Incident-response practice on the FinCore payment API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the FinCore sandbox: the workshop's payment API with real, injectable failures.
    Sandbox(SandboxArgs),
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
}

pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Some(Command::Sandbox(args)) => run_sandbox(args),
        None => Err(
            "the dashboard is not built yet; run `gameday sandbox` to serve the FinCore sandbox"
                .to_string(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("gameday: {message}");
            ExitCode::FAILURE
        }
    }
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
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the async runtime: {err}"))?;
    runtime.block_on(sandbox::run(config))
}
