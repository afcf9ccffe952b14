//! Starts what a target needs: on the embedded default the supervised sandbox, its load and
//! the pollers of its metrics; on the workshop stack the pollers of the API, Prometheus and
//! Docker. Everything started here is stopped by [`Running::stop`].

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::control::{self, Controls};
use super::embedded;
use crate::config::{DockerSetting, Settings};
use crate::fincore::FincoreClient;
use crate::load::{self, LoadHandle, LoadPlan};
use crate::model::{TargetInfo, TargetRequest};
use crate::sandbox::supervisor::{self, SupervisorConfig, SupervisorHandle};
use crate::signals::{Signal, now_unix};
use crate::sources::docker::{ContainerStates, DockerSource, DockerTarget, RestartTally};
use crate::sources::prometheus::{self, PrometheusSource};
use crate::sources::{self, LogLevel, LogLine, SourceKind, Update, UpdateSender, api, scrape};

pub struct Running {
    pub target: TargetInfo,
    pub sources: Vec<SourceKind>,
    pub local_rules: bool,
    /// Where the keys' requests go.
    pub commands: mpsc::Sender<TargetRequest>,
    /// Dropping it stops the load.
    pub load: Option<LoadHandle>,
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
    reqwest::Client::builder()
        .timeout(crate::fincore::REQUEST_TIMEOUT)
        .pool_max_idle_per_host(64)
        .user_agent(concat!("gameday/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|err| format!("cannot build an HTTP client: {err}"))
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
    let (api_url, target, sources, local_rules) = match &settings.api {
        None => {
            let listen = match settings.sandbox_listen {
                Some(listen) => listen,
                None => free_loopback_address()?,
            };
            let dir = tempfile::Builder::new()
                .prefix("gameday-embedded-")
                .tempdir()
                .map_err(|err| format!("cannot create the sandbox's database folder: {err}"))?;
            let exe = std::env::current_exe()
                .map_err(|err| format!("cannot find the gameday executable: {err}"))?;
            let (events, event_receiver) = mpsc::channel(256);
            supervisor_handle = Some(supervisor::spawn(
                SupervisorConfig {
                    exe,
                    listen,
                    memory_limit: settings.sandbox_memory.0,
                    database_path: dir.path().join("fincore.db"),
                },
                events,
            ));
            database_dir = Some(dir);
            tasks.push(tokio::spawn(embedded::forward_supervisor(
                event_receiver,
                updates.clone(),
            )));
            let api_url = format!("http://{listen}");
            tasks.push(tokio::spawn(scrape::run(
                http.clone(),
                api_url.clone(),
                interval,
                updates.clone(),
            )));
            let target = TargetInfo::embedded(api_url.clone());
            (
                api_url,
                target,
                vec![SourceKind::Scrape, SourceKind::Process, SourceKind::Api],
                true,
            )
        }
        Some(api_url) => {
            let mut sources = vec![SourceKind::Api];
            let (metrics_source, metrics_window) = match &settings.prometheus {
                Some(url) => {
                    let source = PrometheusSource::new(http.clone(), url);
                    tasks.push(tokio::spawn(prometheus::run(
                        source,
                        interval,
                        updates.clone(),
                    )));
                    (
                        SourceKind::Prometheus,
                        format!("rate[{}]", prometheus::RATE_WINDOW),
                    )
                }
                None => {
                    tasks.push(tokio::spawn(scrape::run(
                        http.clone(),
                        api_url.clone(),
                        interval,
                        updates.clone(),
                    )));
                    (
                        SourceKind::Scrape,
                        format!("{} s", scrape::SCRAPE_WINDOW.as_secs()),
                    )
                }
            };
            sources.push(metrics_source);
            let docker_target = match &settings.docker {
                DockerSetting::Off => None,
                DockerSetting::Default => Some(None),
                DockerSetting::Host(host) => Some(Some(host.clone())),
            };
            let memory_source = if let Some(host) = docker_target {
                let target = DockerTarget {
                    host,
                    container: settings.container.clone(),
                };
                tasks.push(tokio::spawn(docker_poller(
                    target,
                    interval,
                    updates.clone(),
                )));
                sources.push(SourceKind::Docker);
                Some(SourceKind::Docker)
            } else {
                None
            };
            let target = TargetInfo {
                embedded: false,
                api_url: api_url.clone(),
                metrics_source,
                metrics_window,
                memory_source,
            };
            let local_rules = settings.prometheus.is_none();
            (api_url.clone(), target, sources, local_rules)
        }
    };
    let client = FincoreClient::new(&api_url)?;
    tasks.push(tokio::spawn(api::run(
        client.clone(),
        interval,
        updates.clone(),
    )));
    tasks.push(tokio::spawn(api::watch_health(
        client.clone(),
        interval,
        updates.clone(),
    )));
    let (commands, command_receiver) = mpsc::channel(16);
    let docker = match &settings.docker {
        DockerSetting::Off => None,
        DockerSetting::Default => Some(None),
        DockerSetting::Host(host) => Some(Some(host.clone())),
    }
    .map(|host| {
        let target = DockerTarget {
            host,
            container: settings.container.clone(),
        };
        (target, settings.db_container.clone())
    });
    let controls = Controls {
        client,
        ttl: settings.ttl,
        supervisor: supervisor_handle.as_ref().map(SupervisorHandle::commands),
        docker,
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
        sources,
        local_rules,
        commands,
        load,
        tasks,
        supervisor: supervisor_handle,
        _database_dir: database_dir,
    })
}

/// Polls Docker: memory, limit, restarts and CPU of the app container (every replica added
/// up), and the new lines of its log.
async fn docker_poller(target: DockerTarget, interval: Duration, updates: UpdateSender) {
    let connection: Arc<tokio::sync::Mutex<Option<DockerSource>>> = Arc::default();
    let tally: Arc<std::sync::Mutex<RestartTally>> = Arc::default();
    let states: Arc<std::sync::Mutex<ContainerStates>> = Arc::default();
    let sender = updates.clone();
    // The log tail starts a minute back, then continues from each poll's time.
    let last_log_second = Arc::new(std::sync::atomic::AtomicI64::new(now_unix() as i64 - 60));
    sources::poll_loop(SourceKind::Docker, interval, updates, move || {
        let (connection, target, sender) =
            (Arc::clone(&connection), target.clone(), sender.clone());
        let last_log_second = Arc::clone(&last_log_second);
        let tally = Arc::clone(&tally);
        let states = Arc::clone(&states);
        async move {
            let mut guard = connection.lock().await;
            if guard.is_none() {
                *guard = Some(DockerSource::connect(&target).await?);
            }
            let Some(docker) = guard.as_mut() else {
                return Err("not connected".to_string());
            };
            let snapshots = match docker.poll().await {
                Ok(snapshots) => snapshots,
                Err(reason) => {
                    // Reconnect next time: the engine may have restarted.
                    *guard = None;
                    return Err(reason);
                }
            };
            if snapshots.is_empty() {
                return Err(match &target.container {
                    Some(name) => format!("no container named {name}"),
                    None => "no container labelled com.docker.compose.service=app".to_string(),
                });
            }
            let at = now_unix();
            let changes = states
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .observe(&snapshots);
            for change in changes {
                let line = LogLine {
                    at,
                    level: LogLevel::Warn,
                    text: format!("gameday: {change}"),
                };
                let _ = sender.send(Update::Logs(vec![line])).await;
                let _ = sender.send(Update::Lifecycle { event: change }).await;
            }
            let sum = |f: &dyn Fn(&crate::sources::docker::ContainerSnapshot) -> Option<f64>| {
                let values: Vec<f64> = snapshots.iter().filter_map(f).collect();
                (!values.is_empty()).then(|| values.iter().sum::<f64>())
            };
            let mut values = Vec::new();
            for (signal, value) in [
                (
                    Signal::MemoryBytes,
                    sum(&|s| s.memory_usage_bytes.map(|v| v as f64)),
                ),
                (
                    Signal::MemoryLimitBytes,
                    sum(&|s| s.memory_limit_bytes.map(|v| v as f64)),
                ),
                (
                    Signal::Restarts,
                    Some(
                        tally
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .observe(&snapshots) as f64,
                    ),
                ),
                (Signal::CpuCores, sum(&|s| s.cpu_cores)),
            ] {
                if let Some(value) = value {
                    values.push((signal, value));
                }
            }
            let _ = sender
                .send(Update::Signals {
                    source: SourceKind::Docker,
                    at,
                    values,
                })
                .await;
            let since = last_log_second.load(std::sync::atomic::Ordering::Relaxed);
            if let Some(first) = snapshots.first() {
                if let Ok(lines) = docker.log_tail(&first.id, since, 200).await {
                    last_log_second.store(at as i64 + 1, std::sync::atomic::Ordering::Relaxed);
                    let lines: Vec<LogLine> = lines
                        .iter()
                        .map(|line| embedded::parse_log_line(line))
                        .collect();
                    if !lines.is_empty() {
                        let _ = sender.send(Update::Logs(lines)).await;
                    }
                }
            }
            Ok(())
        }
    })
    .await;
}
