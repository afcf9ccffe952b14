//! `gameday load`: the load generator without the dashboard. A progress line on stderr while it
//! runs, a summary on stdout (text, or `--json`) when its duration is over.

use std::io::{IsTerminal, Write};
use std::net::IpAddr;
use std::time::Duration;

use clap::Args;

use super::handle::{LoadHandle, Model};
use super::profile::Profile;
use super::report::{RunInfo, json_summary, progress_line, text_summary};
use super::retry::RetryPolicy;
use super::{LoadPlan, MAX_RATE, Mix};
use crate::units::HumanDuration;

const LONGEST_RUN: Duration = Duration::from_secs(24 * 3600);
const SHORTEST_RUN: Duration = Duration::from_millis(100);
/// Without a terminal, a progress line this often.
const PLAIN_PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Flags of `gameday load`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Models:
  open (--rate, the default)  requests start on schedule whatever the server does; latency is
                              measured from the scheduled time, so a stall shows as queueing
  closed (--connections N)    N clients, each sending its next request when the previous one is
                              answered, as fast as possible: for throughput, not latency

Profiles (open model), by name or with parameters (name:key=value,...):
  steady                          the base rate all along
  ramp[:to=5x,over=30s]           linear from --rate to --ramp-to (default over the whole run)
  spike[:factor=5x,at=10s,for=5s] --rate x factor for a few seconds, then --rate again
  burst[:size=100,every=10s]      --rate plus a batch at once at the start and every period
  retry-storm                     --rate, and failed requests (5xx, transport errors,
                                  timeouts) retried up to --retries times, waiting
                                  --retry-backoff, doubled each time (no jitter)

Only loopback targets (127.0.0.0/8, ::1, localhost) or the `api` of config.toml are accepted.
Examples:
  gameday load --target http://127.0.0.1:5000 --rate 200 --duration 30s
  gameday load --target http://127.0.0.1:5000 --profile ramp --rate 10 --ramp-to 200
  gameday load --target http://127.0.0.1:5000 --connections 32 --duration 10s --json")]
pub struct LoadArgs {
    /// The FinCore API to load, e.g. http://127.0.0.1:5000.
    #[arg(long, value_name = "URL")]
    pub target: String,
    /// Open model: requests per second (the base rate of the profile) [default: 20].
    #[arg(long, value_name = "REQ/S", conflicts_with = "connections")]
    pub rate: Option<f64>,
    /// Closed model: this many connections, each as fast as answered.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub connections: Option<u16>,
    /// How the rate changes over the run; see below.
    #[arg(long, default_value = "steady", value_name = "PROFILE")]
    pub profile: String,
    /// How long to send; the run always stops by itself (100ms to 24h).
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub duration: HumanDuration,
    /// Endpoints and their weights: balance, transfer, payment, health.
    #[arg(
        long,
        default_value = "balance=70,transfer=20,health=10",
        value_name = "MIX"
    )]
    pub mix: Mix,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Ramp: the rate at the end of the ramp, requests per second.
    #[arg(long, value_name = "REQ/S", help_heading = "Profile parameters")]
    pub ramp_to: Option<f64>,
    /// Ramp: how long the ramp takes [default: the whole run].
    #[arg(long, value_name = "DURATION", help_heading = "Profile parameters")]
    pub ramp_over: Option<HumanDuration>,
    /// Spike: the multiple of --rate during the spike [default: 5].
    #[arg(long, value_name = "N", help_heading = "Profile parameters")]
    pub spike_factor: Option<f64>,
    /// Spike: when it starts [default: 10s].
    #[arg(long, value_name = "DURATION", help_heading = "Profile parameters")]
    pub spike_at: Option<HumanDuration>,
    /// Spike: how long it lasts [default: 5s].
    #[arg(long, value_name = "DURATION", help_heading = "Profile parameters")]
    pub spike_for: Option<HumanDuration>,
    /// Burst: requests sent at once [default: 100, at most 512].
    #[arg(long, value_name = "N", help_heading = "Profile parameters")]
    pub burst_size: Option<u32>,
    /// Burst: time between batches [default: 10s].
    #[arg(long, value_name = "DURATION", help_heading = "Profile parameters")]
    pub burst_every: Option<HumanDuration>,
    /// Retry storm: retries per failed request (0 to 10).
    #[arg(
        long,
        default_value_t = 3,
        value_name = "N",
        help_heading = "Profile parameters"
    )]
    pub retries: u32,
    /// Retry storm: wait before the first retry, doubled before each further one.
    #[arg(
        long,
        default_value = "100ms",
        value_name = "DURATION",
        help_heading = "Profile parameters"
    )]
    pub retry_backoff: HumanDuration,
    /// How long one attempt may take before the client gives up (a timeout; retried in a retry
    /// storm).
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub timeout: HumanDuration,
}

/// A checked run: what the report heads with, the plan, and the model.
#[derive(Debug, Clone, PartialEq)]
pub struct RunConfig {
    pub info: RunInfo,
    pub plan: LoadPlan,
    pub json: bool,
}

impl RunConfig {
    /// Checks every flag and builds the plan; each refusal says what is expected.
    pub fn from_args(args: &LoadArgs) -> Result<RunConfig, String> {
        let duration = args.duration.0;
        if duration < SHORTEST_RUN || duration > LONGEST_RUN {
            return Err(format!(
                "--duration {}: expected 100ms to 24h (every run stops by itself)",
                args.duration
            ));
        }
        let rate = args.rate.unwrap_or(20.0);
        if !(rate.is_finite() && rate > 0.0 && rate <= MAX_RATE) {
            return Err(format!(
                "--rate {rate}: expected requests per second above 0 and at most {MAX_RATE}"
            ));
        }
        let profile = profile_with_flags(args, rate)?;
        let model = match args.connections {
            Some(connections) => {
                if profile != Profile::Steady {
                    return Err(format!(
                        "--profile {}: profiles shape a rate; with --connections the clients go \
                         as fast as answered. Use --rate for a profile.",
                        profile.name()
                    ));
                }
                Model::Closed {
                    connections: usize::from(connections),
                }
            }
            None => Model::Open,
        };
        let retry = RetryPolicy {
            max_retries: args.retries,
            backoff: args.retry_backoff.0,
            attempt_timeout: args.timeout.0,
        };
        retry.validate()?;
        let target = args.target.trim().trim_end_matches('/').to_string();
        Ok(RunConfig {
            info: RunInfo {
                target,
                model,
                profile,
                rate,
                duration,
            },
            plan: LoadPlan {
                profile,
                rate,
                duration: Some(duration),
                mix: args.mix.clone(),
                retry,
                max_in_flight: crate::load::MAX_IN_FLIGHT,
                think: std::time::Duration::ZERO,
            },
            json: args.json,
        })
    }
}

/// `--profile` with the parameter flags applied; a flag of another profile is refused.
fn profile_with_flags(args: &LoadArgs, rate: f64) -> Result<Profile, String> {
    let mut profile: Profile = args
        .profile
        .parse()
        .map_err(|err| format!("--profile {}: {err}", args.profile))?;
    let foreign = |flag: &str, wanted: &str| {
        Err(format!(
            "{flag} applies to --profile {wanted}, not {}",
            profile.name()
        ))
    };
    let checks: [(bool, &str, &str); 7] = [
        (args.ramp_to.is_some(), "--ramp-to", "ramp"),
        (args.ramp_over.is_some(), "--ramp-over", "ramp"),
        (args.spike_factor.is_some(), "--spike-factor", "spike"),
        (args.spike_at.is_some(), "--spike-at", "spike"),
        (args.spike_for.is_some(), "--spike-for", "spike"),
        (args.burst_size.is_some(), "--burst-size", "burst"),
        (args.burst_every.is_some(), "--burst-every", "burst"),
    ];
    for (given, flag, wanted) in checks {
        if given && profile.name() != wanted {
            return foreign(flag, wanted);
        }
    }
    match &mut profile {
        Profile::Ramp { to, over } => {
            if let Some(ramp_to) = args.ramp_to {
                if !(0.0..=MAX_RATE).contains(&ramp_to) {
                    return Err(format!(
                        "--ramp-to {ramp_to}: expected requests per second, 0 to {MAX_RATE}"
                    ));
                }
                *to = ramp_to / rate;
            }
            match args.ramp_over {
                Some(ramp_over) => *over = ramp_over.0,
                // Without `over=`, the ramp takes the whole run.
                None if !args.profile.contains("over=") => *over = args.duration.0,
                None => {}
            }
        }
        Profile::Spike {
            factor,
            at,
            lasting,
        } => {
            *factor = args.spike_factor.unwrap_or(*factor);
            *at = args.spike_at.map_or(*at, |d| d.0);
            *lasting = args.spike_for.map_or(*lasting, |d| d.0);
        }
        Profile::Burst { size, every } => {
            *size = args.burst_size.unwrap_or(*size);
            *every = args.burst_every.map_or(*every, |d| d.0);
        }
        Profile::Steady | Profile::RetryStorm => {}
    }
    profile
        .validate()
        .map_err(|err| format!("--profile {err}"))?;
    Ok(profile)
}

/// Whether `host` (as in a URL) is a loopback address or `localhost`, without resolving it.
fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => {
            let name = bare.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    }
}

fn same_url(a: &reqwest::Url, b: &str) -> bool {
    reqwest::Url::parse(b.trim().trim_end_matches('/')).is_ok_and(|b| {
        a.scheme() == b.scheme()
            && a.host_str() == b.host_str()
            && a.port_or_known_default() == b.port_or_known_default()
            && a.path().trim_end_matches('/') == b.path().trim_end_matches('/')
    })
}

/// Accepts a loopback target, or the `api` the user configured (read only when needed, so a
/// loopback run never depends on the config file).
pub fn check_target(
    target: &str,
    configured_api: impl FnOnce() -> Result<Option<String>, String>,
) -> Result<(), String> {
    let expected = "expected an http:// URL such as http://127.0.0.1:5000";
    let url = reqwest::Url::parse(target)
        .map_err(|err| format!("--target {target}: {err}; {expected}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("--target {target}: {expected}"));
    }
    let Some(host) = url.host_str() else {
        return Err(format!("--target {target}: no host; {expected}"));
    };
    if is_loopback_host(host) {
        return Ok(());
    }
    let api = configured_api()?;
    if api.as_deref().is_some_and(|api| same_url(&url, api)) {
        return Ok(());
    }
    Err(format!(
        "--target {target}: gameday load sends only to loopback addresses (127.0.0.0/8, ::1, \
         localhost) or to the `api` of your settings (config.toml or GAMEDAY_API){}",
        match api {
            Some(api) => format!(", which is {api}"),
            None => ", which is not set".to_string(),
        }
    ))
}

/// Runs `gameday load`. `configured_api` reads the `api` of the user's settings; it is called
/// only for a target that is not loopback.
pub fn run(
    args: LoadArgs,
    configured_api: impl FnOnce() -> Result<Option<String>, String>,
) -> Result<(), String> {
    let config = RunConfig::from_args(&args)?;
    check_target(&config.info.target, configured_api)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the async runtime: {err}"))?;
    runtime.block_on(run_headless(config))
}

/// The progress line on stderr: redrawn in place on a terminal, else a plain line now and then.
struct Progress {
    terminal: bool,
    last_plain: Option<tokio::time::Instant>,
}

impl Progress {
    fn show(&mut self, line: &str) {
        let mut stderr = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(stderr, "\r\x1b[2K{line}");
        } else if self
            .last_plain
            .is_none_or(|last| last.elapsed() >= PLAIN_PROGRESS_EVERY)
        {
            self.last_plain = Some(tokio::time::Instant::now());
            let _ = writeln!(stderr, "{line}");
        }
        let _ = stderr.flush();
    }

    fn clear(&self) {
        if self.terminal {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

async fn run_headless(config: RunConfig) -> Result<(), String> {
    let http = super::http_client()?;
    let target = config.info.target.clone();
    let handle = match config.info.model {
        Model::Open => LoadHandle::start_open(http, target, config.plan.clone()),
        Model::Closed { connections } => {
            LoadHandle::start_closed(http, target, config.plan.clone(), connections)
        }
    };
    let mut progress = Progress {
        terminal: std::io::stderr().is_terminal(),
        // The first plain line comes after a few seconds, not at once.
        last_plain: Some(tokio::time::Instant::now()),
    };
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    let snapshot = loop {
        tokio::select! {
            _ = ticks.tick() => {
                progress.show(&progress_line(&config.info, &handle.snapshot()));
            }
            () = wait_finished(&handle) => break handle.finish().await,
            _ = &mut interrupted => break handle.stop_and_wait(Duration::from_secs(2)).await,
        }
    };
    progress.clear();
    let summary = if config.json {
        json_summary(&config.info, &snapshot).to_string()
    } else {
        text_summary(&config.info, &snapshot)
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{summary}").map_err(|err| format!("cannot write the summary: {err}"))
}

async fn wait_finished(handle: &LoadHandle) {
    while !handle.is_finished() {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: LoadArgs,
    }

    fn config(flags: &[&str]) -> Result<RunConfig, String> {
        let argv = std::iter::once("load").chain(flags.iter().copied());
        let cli = Cli::try_parse_from(argv).map_err(|err| err.to_string())?;
        RunConfig::from_args(&cli.args)
    }

    const TARGET: [&str; 2] = ["--target", "http://127.0.0.1:5000/"];

    fn with_target(flags: &[&'static str]) -> Vec<&'static str> {
        TARGET.iter().chain(flags).copied().collect()
    }

    #[test]
    fn defaults_are_an_open_steady_minute_at_20_per_second() {
        let config = config(&TARGET).expect("valid");
        assert_eq!(config.info.target, "http://127.0.0.1:5000");
        assert_eq!(config.info.model, Model::Open);
        assert_eq!(config.plan.rate, 20.0);
        assert_eq!(config.plan.profile, Profile::Steady);
        assert_eq!(config.plan.duration, Some(Duration::from_secs(60)));
        assert_eq!(config.plan.retry, RetryPolicy::default());
        assert!(!config.json);
    }

    #[test]
    fn profile_flags_shape_the_profile() {
        let ramp = config(&with_target(&[
            "--profile",
            "ramp",
            "--rate",
            "10",
            "--ramp-to",
            "100",
            "--duration",
            "20s",
        ]))
        .expect("valid");
        assert_eq!(
            ramp.plan.profile,
            Profile::Ramp {
                to: 10.0,
                over: Duration::from_secs(20)
            }
        );
        let spike = config(&with_target(&[
            "--profile",
            "spike",
            "--spike-factor",
            "3",
            "--spike-at",
            "2s",
            "--spike-for",
            "1s",
        ]))
        .expect("valid");
        assert_eq!(
            spike.plan.profile,
            Profile::Spike {
                factor: 3.0,
                at: Duration::from_secs(2),
                lasting: Duration::from_secs(1)
            }
        );
        let burst = config(&with_target(&[
            "--profile",
            "burst:size=20",
            "--burst-every",
            "1s",
        ]))
        .expect("valid");
        assert_eq!(
            burst.plan.profile,
            Profile::Burst {
                size: 20,
                every: Duration::from_secs(1)
            }
        );
        let storm = config(&with_target(&[
            "--profile",
            "retry-storm",
            "--retries",
            "2",
            "--retry-backoff",
            "50ms",
            "--timeout",
            "1s",
        ]))
        .expect("valid");
        assert_eq!(storm.plan.profile, Profile::RetryStorm);
        assert_eq!(
            storm.plan.retry,
            RetryPolicy {
                max_retries: 2,
                backoff: Duration::from_millis(50),
                attempt_timeout: Duration::from_secs(1)
            }
        );
        let closed = config(&with_target(&["--connections", "8", "--json"])).expect("valid");
        assert_eq!(closed.info.model, Model::Closed { connections: 8 });
        assert!(closed.json);
    }

    #[test]
    fn bad_flags_say_what_is_expected() {
        for (flags, expected) in [
            (&["--duration", "0s"][..], "expected 100ms to 24h"),
            (&["--duration", "48h"], "expected 100ms to 24h"),
            (&["--duration", "soon"], "not a duration"),
            (&["--rate", "0"], "above 0"),
            (&["--rate=-5"], "above 0"),
            (&["--rate", "1e9"], "at most 100000"),
            (
                &["--rate", "10", "--connections", "4"],
                "cannot be used with",
            ),
            (&["--connections", "0"], "1..=1024"),
            (&["--connections", "4", "--profile", "spike"], "Use --rate"),
            (
                &["--profile", "wave"],
                "--profile wave: `wave` is not a profile",
            ),
            (
                &["--ramp-to", "50"],
                "--ramp-to applies to --profile ramp, not steady",
            ),
            (
                &["--profile", "ramp", "--burst-size", "5"],
                "applies to --profile burst",
            ),
            (
                &["--profile", "burst", "--burst-size", "5000"],
                "expected 1 to 512",
            ),
            (&["--profile", "retry-storm", "--retries", "50"], "0 to 10"),
            (&["--timeout", "0s"], "10ms to 10m"),
            (&["--mix", "login=3"], "not an endpoint"),
        ] {
            let err = config(&with_target(flags)).expect_err(&format!("{flags:?}"));
            assert!(err.contains(expected), "{flags:?}: {err}");
        }
        let err = config(&["--rate", "5"]).expect_err("no target");
        assert!(err.contains("--target"), "{err}");
    }

    #[test]
    fn only_loopback_or_the_configured_api_is_a_target() {
        let no_config = || -> Result<Option<String>, String> {
            panic!("the settings are not read for a loopback target")
        };
        for target in [
            "http://127.0.0.1:5000",
            "http://127.8.9.10",
            "http://localhost:5000",
            "http://[::1]:8080",
        ] {
            assert_eq!(check_target(target, no_config), Ok(()), "{target}");
        }
        let configured = || Ok(Some("http://10.1.2.3:5000/".to_string()));
        assert_eq!(check_target("http://10.1.2.3:5000", configured), Ok(()));
        let err = check_target("http://10.1.2.3:5001", configured).expect_err("other port");
        assert!(err.contains("only to loopback"), "{err}");
        assert!(err.contains("which is http://10.1.2.3:5000/"), "{err}");
        let err = check_target("http://example.com", || Ok(None)).expect_err("remote");
        assert!(err.contains("which is not set"), "{err}");
        let err = check_target("127.0.0.1:5000", || Ok(None)).expect_err("no scheme");
        assert!(err.contains("expected an http:// URL"), "{err}");
        let err = check_target("ftp://127.0.0.1", || Ok(None)).expect_err("ftp");
        assert!(err.contains("expected an http:// URL"), "{err}");
    }
}
