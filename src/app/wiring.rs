//! Starts what a target needs: on the embedded default the supervised sandbox, its load and
//! the pollers of its metrics; on the workshop stack the pollers of the API, Prometheus and
//! Docker. Everything started here is stopped by [`Running::stop`].

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::control::{self, Controls};
use super::embedded_dir;
use crate::config::{DockerSetting, Settings};
use crate::fincore::FincoreClient;
use crate::load::{self, LoadHandle, LoadPlan};
use crate::model::{TargetInfo, TargetRequest};
use crate::sandbox::supervisor::{self, SupervisorConfig, SupervisorEvent, SupervisorHandle};
use crate::secret::{Secret, read_token_file, redact_url};
use crate::sources::api::FailureReadBack;
use crate::sources::close_watch::CloseWatch;
use crate::sources::dependency_state::DependencyState;
use crate::sources::docker::{DockerPoller, DockerTarget};
use crate::sources::health::HealthCheck;
use crate::sources::prometheus::{self, PrometheusPoller, PrometheusSource};
use crate::sources::scrape::{self, ScrapePoller};
use crate::sources::{Poller, SourceKind, UpdateSender, process, run_poller};

pub struct Running {
    /// What the header shows: the API's address without any credentials in it.
    pub target: TargetInfo,
    /// The API's address as given, for the requests.
    pub api_url: String,
    pub sources: Vec<SourceKind>,
    pub local_rules: bool,
    /// Where the keys' requests go.
    pub commands: mpsc::Sender<TargetRequest>,
    /// Dropping it stops the load.
    pub load: Option<LoadHandle>,
    /// Holds a replay's driver (true) or lets it play; only in a replay.
    pub replay_pause: Option<tokio::sync::watch::Sender<bool>>,
    tasks: Vec<JoinHandle<()>>,
    supervisor: Option<SupervisorHandle>,
    /// The embedded sandbox's database folder, removed after the sandbox stops.
    _database_dir: Option<tempfile::TempDir>,
}

impl Running {
    pub async fn stop(self) {
        drop(self.load);
        for task in &self.tasks {
            task.abort();
        }
        if let Some(supervisor) = self.supervisor {
            supervisor.shutdown().await;
        }
    }
}

fn http_client() -> Result<reqwest::Client, String> {
    crate::fincore::tls::client_builder()
        .timeout(crate::fincore::REQUEST_TIMEOUT)
        .pool_max_idle_per_host(64)
        .user_agent(concat!("gameday/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|err| format!("cannot build an HTTP client: {err}"))
}

/// A scrape of a target we did not start goes on a new connection each time: behind one
/// address several worker processes may answer, and only new connections reach them all, so
/// their disagreement can be seen (and said) instead of one worker's figures passing for all.
fn fresh_connections() -> Result<reqwest::Client, String> {
    crate::fincore::tls::client_builder()
        .timeout(crate::fincore::REQUEST_TIMEOUT)
        .pool_max_idle_per_host(0)
        .user_agent(concat!("gameday/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|err| format!("cannot build an HTTP client: {err}"))
}

/// One task polling `poller` every `interval`, under the one driver every source shares.
fn spawn_poller<P: Poller + 'static>(
    poller: P,
    interval: Duration,
    updates: &UpdateSender,
) -> JoinHandle<()> {
    tokio::spawn(run_poller(poller, interval, updates.clone()))
}

/// The engine and containers to watch and act on, unless Docker is off.
fn docker_target(settings: &Settings) -> Option<DockerTarget> {
    let host = match &settings.docker {
        DockerSetting::Off => return None,
        DockerSetting::Default => None,
        DockerSetting::Host(host) => Some(host.clone()),
    };
    Some(DockerTarget {
        host,
        container: settings.container.clone(),
    })
}

/// Waits for the sandbox child's own word that it listens (its banner, which the supervisor
/// turns into `Started`): an open port alone could be someone else's service. The events read
/// on the way are returned, for the process source to see them too. The first start failing is
/// an error with the child's reason and its last log line.
async fn first_start(
    events: &mut mpsc::Receiver<SupervisorEvent>,
) -> Result<Vec<SupervisorEvent>, String> {
    let mut earlier = Vec::new();
    let mut last_log: Option<String> = None;
    let deadline = tokio::time::Instant::now() + supervisor::START_TIMEOUT + Duration::from_secs(1);
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv()).await;
        match event {
            Ok(Some(SupervisorEvent::Exited { reason })) => {
                // The child's own words on stderr may come just after its exit.
                let grace = tokio::time::Instant::now() + Duration::from_millis(300);
                while let Ok(Some(event)) = tokio::time::timeout_at(grace, events.recv()).await {
                    if let SupervisorEvent::Log(line) = event {
                        last_log = Some(line);
                    }
                }
                return Err(match last_log {
                    Some(line) => format!("the embedded sandbox did not start: {reason}: {line}"),
                    None => format!("the embedded sandbox did not start: {reason}"),
                });
            }
            Ok(Some(event)) => {
                if let SupervisorEvent::Log(line) = &event {
                    last_log = Some(line.clone());
                }
                let started = matches!(event, SupervisorEvent::Started { .. });
                earlier.push(event);
                if started {
                    return Ok(earlier);
                }
            }
            Ok(None) => return Err("the embedded sandbox's supervisor stopped".to_string()),
            Err(_) => return Err("the embedded sandbox did not start in time".to_string()),
        }
    }
}

/// `--sandbox-listen`'s address, refused at once when another program holds it, so the load
/// and the keys never drive someone else's service.
fn check_port_free(address: SocketAddr) -> Result<(), String> {
    TcpListener::bind(address).map(drop).map_err(|err| {
        format!(
            "--sandbox-listen {address}: the address is not free ({err}); choose another \
             port, or leave it unset for a free one"
        )
    })
}

/// The control token for the target: the setting's, or the one in the settings' file.
fn control_token(settings: &Settings) -> Result<Option<Secret>, String> {
    match (&settings.control_token, &settings.control_token_file) {
        (Some(_), Some(_)) => Err(
            "give the control token once: --control-token or --control-token-file, not both"
                .to_string(),
        ),
        (Some(token), None) => Ok(Some(token.clone())),
        (None, Some(path)) => read_token_file(path).map(Some),
        (None, None) => Ok(None),
    }
}

/// A free port on loopback, chosen once so the sandbox keeps its address across restarts.
fn free_loopback_address() -> Result<SocketAddr, String> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map_err(|err| format!("cannot find a free loopback port: {err}"))
}

pub async fn start(settings: &Settings, updates: UpdateSender) -> Result<Running, String> {
    let http = http_client()?;
    let interval = settings.poll_interval.0;
    let mut tasks = Vec::new();
    let mut supervisor_handle = None;
    let mut database_dir = None;
    let close_watch = CloseWatch::default();
    // The embedded sandbox gets its own; a token meant for another target is not sent to it.
    let token_for_target;
    let (api_url, target, sources, local_rules) = match &settings.api {
        None => {
            let listen = match settings.sandbox_listen {
                Some(listen) => {
                    check_port_free(listen)?;
                    listen
                }
                None => free_loopback_address()?,
            };
            let dir = embedded_dir::create()?;
            let exe = std::env::current_exe()
                .map_err(|err| format!("cannot find the gameday executable: {err}"))?;
            let (events, mut event_receiver) = mpsc::channel(256);
            let token = Secret::random();
            let handle = supervisor::spawn(
                SupervisorConfig {
                    exe,
                    listen,
                    memory_limit: settings.sandbox_memory.0,
                    database_path: dir.path().join("fincore.db"),
                    control_token: token.clone(),
                },
                events,
            );
            // The first polls and the load wait for the sandbox to listen (about 50 ms), so the
            // screen never opens on "connection refused" and the load's first requests count.
            let earlier = match first_start(&mut event_receiver).await {
                Ok(earlier) => earlier,
                Err(reason) => {
                    handle.shutdown().await;
                    return Err(reason);
                }
            };
            supervisor_handle = Some(handle);
            database_dir = Some(dir);
            token_for_target = Some(token);
            tasks.push(tokio::spawn(process::run(
                earlier,
                event_receiver,
                updates.clone(),
            )));
            let api_url = format!("http://{listen}");
            tasks.push(spawn_poller(
                ScrapePoller::new(http.clone(), &api_url, close_watch.clone()),
                interval,
                &updates,
            ));
            let target = TargetInfo::embedded(api_url.clone());
            (
                api_url,
                target,
                vec![SourceKind::Scrape, SourceKind::Process, SourceKind::Api],
                true,
            )
        }
        Some(api_url) => {
            token_for_target = control_token(settings)?;
            let mut sources = vec![SourceKind::Api];
            let (metrics_source, metrics_window) = match &settings.prometheus {
                Some(url) => {
                    let source = PrometheusSource::new(http.clone(), url);
                    tasks.push(spawn_poller(
                        PrometheusPoller::new(source),
                        interval,
                        &updates,
                    ));
                    (
                        SourceKind::Prometheus,
                        format!("rate[{}]", prometheus::RATE_WINDOW),
                    )
                }
                None => {
                    tasks.push(spawn_poller(
                        ScrapePoller::new(fresh_connections()?, api_url, close_watch.clone())
                            .of_several_workers(),
                        interval,
                        &updates,
                    ));
                    (
                        SourceKind::Scrape,
                        format!("{} s", scrape::SCRAPE_WINDOW.as_secs()),
                    )
                }
            };
            sources.push(metrics_source);
            let memory_source = if let Some(target) = docker_target(settings) {
                tasks.push(spawn_poller(DockerPoller::new(target), interval, &updates));
                sources.push(SourceKind::Docker);
                Some(SourceKind::Docker)
            } else {
                None
            };
            let target = TargetInfo {
                embedded: false,
                api_url: redact_url(api_url),
                metrics_source,
                metrics_window,
                memory_source,
            };
            let local_rules = settings.prometheus.is_none();
            (api_url.clone(), target, sources, local_rules)
        }
    };
    let client = FincoreClient::new(&api_url)?.with_control_token(token_for_target);
    tasks.push(spawn_poller(
        FailureReadBack::new(client.clone()),
        interval,
        &updates,
    ));
    tasks.push(spawn_poller(
        HealthCheck::new(client.clone()),
        interval,
        &updates,
    ));
    tasks.push(spawn_poller(
        DependencyState::new(client.clone()),
        interval,
        &updates,
    ));
    let (commands, command_receiver) = mpsc::channel(16);
    let docker = docker_target(settings).map(|target| (target, settings.db_container.clone()));
    let controls = Controls {
        client,
        ttl: settings.ttl,
        supervisor: supervisor_handle.as_ref().map(SupervisorHandle::commands),
        docker,
        close_watch,
        provider_clients: Default::default(),
    };
    tasks.push(tokio::spawn(control::run(
        controls,
        command_receiver,
        updates.clone(),
    )));

    let rate = settings.load.rate(settings.api.is_none());
    let load = (rate > 0.0 && !settings.read_only)
        .then(|| {
            // Its own client: no proxy from the environment may carry the load elsewhere.
            load::http_client().map(|client| {
                LoadHandle::start_open(client, api_url.clone(), LoadPlan::steady(rate))
            })
        })
        .transpose()?;
    Ok(Running {
        target,
        api_url,
        sources,
        local_rules,
        commands,
        load,
        replay_pause: None,
        tasks,
        supervisor: supervisor_handle,
        _database_dir: database_dir,
    })
}

/// What a replay needs instead of a target: no sandbox, no pollers, no load; one driver task
/// that plays the record (see `super::replay`). The target's address is empty and requests go
/// nowhere: the session is read-only.
pub fn start_replay(
    replay: crate::sessions::replay::ReplayStart,
    updates: UpdateSender,
) -> Running {
    let target = TargetInfo {
        embedded: false,
        api_url: String::new(),
        metrics_source: SourceKind::Scrape,
        metrics_window: format!("{} s", scrape::SCRAPE_WINDOW.as_secs()),
        memory_source: Some(SourceKind::Process),
    };
    let sources = vec![SourceKind::Api, SourceKind::Scrape, SourceKind::Process];
    let owners = crate::sources::SignalOwners::new(target.metrics_source, target.memory_source);
    let (pause, paused) = tokio::sync::watch::channel(false);
    let driver = tokio::spawn(super::replay::run(
        replay,
        owners,
        sources.clone(),
        updates,
        paused,
    ));
    // Nobody takes requests: with the session read-only none are made.
    let (commands, _) = mpsc::channel(1);
    Running {
        target,
        api_url: String::new(),
        sources,
        local_rules: true,
        commands,
        load: None,
        replay_pause: Some(pause),
        tasks: vec![driver],
        supervisor: None,
        _database_dir: None,
    }
}
