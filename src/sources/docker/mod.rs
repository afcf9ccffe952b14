//! The Docker source: state, restarts, memory and CPU of the FinCore app container(s), read from
//! the Docker Engine API with bollard. Podman's Docker-compatible API answers the same calls.
//!
//! Every engine call is bounded by a timeout, so a slow or wedged engine makes a poll fail with
//! a message instead of hanging the poller, and every field the engine may leave out is an
//! `Option`, so an odd answer never panics.
//!
//! Memory is `memory_stats.usage` exactly as the engine reports it; no page cache is subtracted
//! (unlike `docker stats`, which takes off `inactive_file`). Three reasons: podman's answer
//! carries no `memory_stats.stats` breakdown to subtract from; the kernel counts the same figure
//! against the limit when it decides to kill the container; and cAdvisor's
//! `container_memory_usage_bytes`, which the workshop's MemoryPressure alert reads, is that
//! figure too, so the panel and the alert agree.
//!
//! CPU is CPU time used per wall-clock time between two samples of the same container. We do not
//! use `system_cpu_usage` as `docker stats` does: under cgroup v1 podman fills it with the host's
//! busy time (the root cgroup's `cpuacct.usage`, without idle), which would inflate the result.
//!
//! `DockerSource` (here) is the engine client: the watched containers' snapshots, their log
//! and the container actions. [`DockerPoller`] polls it for the dashboard; `changes` turns
//! successive snapshots into restarts and state changes, `cpu` the CPU counters into cores,
//! `calls` bounds and explains every engine call.

mod calls;
mod changes;
mod cpu;
mod poller;

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::models::{ContainerInspectResponse, ContainerStatsResponse};
use bollard::query_parameters::{
    ListContainersOptionsBuilder, LogsOptionsBuilder, RestartContainerOptionsBuilder,
    StatsOptionsBuilder, StopContainerOptionsBuilder,
};
use futures_util::StreamExt;
use tokio::time::error::Elapsed;

use calls::{CALL_TIMEOUT, bounded, choose_host, describe, explain, retrying};
use changes::{ContainerStates, RestartTally};
use cpu::{CpuSample, cores_between, cores_from_precpu, cpu_sample};
pub use poller::DockerPoller;

/// Seconds a stopped or restarted container gets between SIGTERM and SIGKILL.
const STOP_GRACE_SECS: i32 = 5;
/// Longest wait for an action: the grace period plus a read call's allowance.
const ACTION_TIMEOUT: Duration = Duration::from_secs(STOP_GRACE_SECS as u64 + 5);
/// The label docker compose puts on a service's containers.
pub const COMPOSE_SERVICE_LABEL: &str = "com.docker.compose.service";
/// The workshop's service name in its compose file.
pub const COMPOSE_APP_SERVICE: &str = "app";
/// The workshop's database service.
pub const COMPOSE_DB_SERVICE: &str = "db";

/// Which engine to ask and which containers to watch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerTarget {
    /// `unix:///path`, a bare socket path, `tcp://` or `http://`. None: `DOCKER_HOST`, else the
    /// first of Docker's default socket and podman's rootful socket that exists.
    pub host: Option<String>,
    /// A container name or id. None: every container labelled
    /// `com.docker.compose.service=app`, so each replica of the workshop's service shows.
    pub container: Option<String>,
}

/// One container as the engine saw it at one poll.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSnapshot {
    pub id: String,
    /// Without Docker's leading `/`.
    pub name: String,
    /// The engine's word: running, exited, restarting, paused, created, ... ("unknown" if none).
    pub state: String,
    /// Restarts by the restart policy. Engines reset it on a manual start or restart, so a
    /// reader must treat a decrease as a reset, not as negative restarts.
    pub restart_count: u64,
    /// The engine's OOM flag. Under cgroup v1 podman may leave it false after a kill for memory;
    /// an exit code of 137 says the same thing.
    pub oom_killed: bool,
    /// The last exit code; 0 again once a restart policy has brought the container back.
    pub exit_code: Option<i64>,
    /// RFC 3339, as the engine wrote it.
    pub started_at: Option<String>,
    /// `memory_stats.usage` as reported (page cache included; see the module notes).
    pub memory_usage_bytes: Option<u64>,
    /// The engine's figure; for a container without a limit that is the host's memory.
    pub memory_limit_bytes: Option<u64>,
    /// Cores busy on average since this source's previous sample of the same container; None on
    /// the first sample, after a restart and when the container is not running.
    pub cpu_cores: Option<f64>,
}

/// A connection to one engine plus what the CPU figure needs from the previous poll.
pub struct DockerSource {
    docker: Docker,
    host: String,
    container: Option<String>,
    cpu_samples: HashMap<String, CpuSample>,
    /// The last successful label search, for when the engine's answer cannot be decoded.
    last_listed: Option<Vec<String>>,
}

impl DockerSource {
    /// Connects to the engine and agrees on an API version (podman answers 1.41).
    pub async fn connect(target: &DockerTarget) -> Result<DockerSource, String> {
        let env_host = std::env::var("DOCKER_HOST").ok();
        let host = choose_host(target.host.as_deref(), env_host.as_deref(), |path| {
            path.exists()
        })?;
        let docker = Docker::connect_with_host(&host)
            .map_err(|err| {
                format!(
                    "cannot reach the Docker engine at {host}: {}",
                    describe(&err)
                )
            })?
            .with_timeout(ACTION_TIMEOUT);
        let docker = bounded(&host, "API version negotiation", CALL_TIMEOUT, async {
            docker.negotiate_version().await
        })
        .await
        .map_err(|err| format!("cannot reach the Docker engine: {err}"))?;
        Ok(DockerSource {
            docker,
            host,
            container: target.container.clone(),
            cpu_samples: HashMap::new(),
            last_listed: None,
        })
    }

    /// The engine address in use, for panel titles and messages.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Inspects and samples every watched container: the named one (an error if it is gone),
    /// or every replica with the compose label (possibly none).
    pub async fn poll(&mut self) -> Result<Vec<ContainerSnapshot>, String> {
        let ids = match &self.container {
            Some(name) => vec![name.clone()],
            None => self.labelled_containers().await?,
        };
        let fetches = ids.iter().map(|id| self.fetch(id));
        let answers = futures_util::future::join_all(fetches).await;
        let mut snapshots = Vec::with_capacity(answers.len());
        for (requested, answer) in ids.iter().zip(answers) {
            let (inspect, stats) = match answer {
                Ok(pair) => pair,
                // Removed between the list and the inspect: no longer watched.
                Err(FetchError::Gone) if self.container.is_none() => continue,
                Err(FetchError::Gone) => {
                    return Err(format!("no container named {requested} on {}", self.host));
                }
                Err(FetchError::Failed(message)) => return Err(message),
            };
            let received = Instant::now();
            let mut snapshot = snapshot_from(requested, &inspect, stats.as_ref());
            snapshot.cpu_cores = self.cpu_cores(&snapshot, stats.as_ref(), received);
            snapshots.push(snapshot);
        }
        let seen: Vec<&str> = snapshots.iter().map(|s| s.id.as_str()).collect();
        self.cpu_samples.retain(|id, _| seen.contains(&id.as_str()));
        Ok(snapshots)
    }

    /// The last `max_lines` lines of stdout and stderr written since `since_unix` (seconds;
    /// 0 for all), oldest first, for the log panel.
    pub async fn log_tail(
        &mut self,
        container_id: &str,
        since_unix: i64,
        max_lines: usize,
    ) -> Result<Vec<String>, String> {
        if max_lines == 0 {
            return Ok(Vec::new());
        }
        // bollard takes `since` as i32; clamp rather than wrap.
        let since = i32::try_from(since_unix.max(0)).unwrap_or(i32::MAX);
        let options = LogsOptionsBuilder::new()
            .stdout(true)
            .stderr(true)
            .since(since)
            .tail(&max_lines.to_string())
            .build();
        let docker = &self.docker;
        let text = bounded(&self.host, "reading logs", CALL_TIMEOUT, async {
            let mut stream = docker.logs(container_id, Some(options));
            let mut text = Vec::new();
            while let Some(chunk) = stream.next().await {
                text.extend_from_slice(&chunk?.into_bytes());
            }
            Ok(text)
        })
        .await
        .map_err(|err| format!("logs of {container_id}: {err}"))?;
        let text = String::from_utf8_lossy(&text);
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(max_lines);
        Ok(lines[start..].iter().map(|line| line.to_string()).collect())
    }

    /// Restarts a container (SIGTERM, a grace period, then SIGKILL).
    pub async fn restart(&self, name_or_id: &str) -> Result<(), String> {
        let options = RestartContainerOptionsBuilder::new()
            .t(STOP_GRACE_SECS)
            .build();
        self.act("restart", name_or_id, async {
            self.docker
                .restart_container(name_or_id, Some(options))
                .await
        })
        .await
    }

    /// Stops a container; stopping a stopped one succeeds.
    pub async fn stop(&self, name_or_id: &str) -> Result<(), String> {
        let options = StopContainerOptionsBuilder::new()
            .t(STOP_GRACE_SECS)
            .build();
        self.act("stop", name_or_id, async {
            self.docker.stop_container(name_or_id, Some(options)).await
        })
        .await
    }

    /// Starts a container; starting a running one succeeds.
    pub async fn start(&self, name_or_id: &str) -> Result<(), String> {
        self.act("start", name_or_id, async {
            self.docker.start_container(name_or_id, None).await
        })
        .await
    }

    async fn act(
        &self,
        what: &str,
        name_or_id: &str,
        call: impl Future<Output = Result<(), BollardError>>,
    ) -> Result<(), String> {
        bounded(&self.host, what, ACTION_TIMEOUT, call)
            .await
            .map_err(|err| format!("{name_or_id}: {err}"))
    }

    /// Ids of every container, running or not, with the compose service label `app`, by name.
    /// If the answer stays undecodable (see `retrying`), the previous list stands in.
    async fn labelled_containers(&mut self) -> Result<Vec<String>, String> {
        let outcome = self.list_service(COMPOSE_APP_SERVICE).await;
        if let (Ok(Err(BollardError::JsonDataError { .. })), Some(previous)) =
            (&outcome, &self.last_listed)
        {
            return Ok(previous.clone());
        }
        let mut found = explain(&self.host, "listing containers", CALL_TIMEOUT, outcome)?;
        found.sort_by(|a, b| a.names.cmp(&b.names));
        let ids: Vec<String> = found.into_iter().filter_map(|summary| summary.id).collect();
        self.last_listed = Some(ids.clone());
        Ok(ids)
    }

    async fn list_service(
        &self,
        service: &str,
    ) -> Result<Result<Vec<bollard::models::ContainerSummary>, BollardError>, Elapsed> {
        let label = format!("{COMPOSE_SERVICE_LABEL}={service}");
        let filters = HashMap::from([("label", vec![label.as_str()])]);
        let options = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        let docker = &self.docker;
        retrying(CALL_TIMEOUT, || {
            docker.list_containers(Some(options.clone()))
        })
        .await
    }

    /// Names of the containers of a compose service, running or not, sorted.
    pub async fn service_containers(&self, service: &str) -> Result<Vec<String>, String> {
        let outcome = self.list_service(service).await;
        let found = explain(&self.host, "listing containers", CALL_TIMEOUT, outcome)?;
        let mut names: Vec<String> = found
            .into_iter()
            .filter_map(|summary| summary.names?.into_iter().next())
            .map(|name| name.trim_start_matches('/').to_string())
            .collect();
        names.sort();
        Ok(names)
    }

    /// The app containers this source watches, by name: the configured one, or every replica
    /// of the compose service.
    pub async fn app_containers(&self) -> Result<Vec<String>, String> {
        match &self.container {
            Some(name) => Ok(vec![name.clone()]),
            None => self.service_containers(COMPOSE_APP_SERVICE).await,
        }
    }

    /// Inspect and one-shot stats of one container, side by side. Stats are optional: a
    /// stopped container has none (podman answers with an empty body), and a container whose
    /// stats fail still shows its state.
    async fn fetch(
        &self,
        id: &str,
    ) -> Result<(ContainerInspectResponse, Option<ContainerStatsResponse>), FetchError> {
        let inspect = retrying(CALL_TIMEOUT, || self.docker.inspect_container(id, None));
        let options = StatsOptionsBuilder::new()
            .stream(false)
            .one_shot(true)
            .build();
        let stats = bounded(&self.host, "stats", CALL_TIMEOUT, async {
            self.docker
                .stats(id, Some(options))
                .next()
                .await
                .transpose()
        });
        let (inspect, stats) = tokio::join!(inspect, stats);
        if let Ok(Err(BollardError::DockerResponseServerError {
            status_code: 404, ..
        })) = inspect
        {
            return Err(FetchError::Gone);
        }
        let inspect = explain(&self.host, "inspect", CALL_TIMEOUT, inspect)
            .map_err(|message| FetchError::Failed(format!("{id}: {message}")))?;
        Ok((inspect, stats.ok().flatten()))
    }

    /// Cores from this sample and the previous one of the same container; stores this one.
    fn cpu_cores(
        &mut self,
        snapshot: &ContainerSnapshot,
        stats: Option<&ContainerStatsResponse>,
        received: Instant,
    ) -> Option<f64> {
        let current = stats.and_then(|stats| cpu_sample(stats, received));
        let Some(current) = current.filter(|_| snapshot.state == "running") else {
            self.cpu_samples.remove(&snapshot.id);
            return None;
        };
        // Docker without one-shot fills precpu_stats; use it when it is there.
        if let Some(cores) = stats.and_then(cores_from_precpu) {
            self.cpu_samples.insert(snapshot.id.clone(), current);
            return Some(cores);
        }
        let previous = self.cpu_samples.insert(snapshot.id.clone(), current);
        cores_between(&previous?, &current)
    }
}

/// Why one container's fetch failed: gone (HTTP 404) or anything else.
enum FetchError {
    Gone,
    Failed(String),
}

/// Everything but CPU, which needs the previous sample.
fn snapshot_from(
    requested: &str,
    inspect: &ContainerInspectResponse,
    stats: Option<&ContainerStatsResponse>,
) -> ContainerSnapshot {
    let state = inspect.state.as_ref();
    let memory = stats.and_then(|stats| stats.memory_stats.as_ref());
    let configured_limit = inspect
        .host_config
        .as_ref()
        .and_then(|config| config.memory)
        .and_then(|bytes| u64::try_from(bytes).ok())
        .filter(|bytes| *bytes > 0);
    ContainerSnapshot {
        id: inspect.id.clone().unwrap_or_else(|| requested.to_string()),
        name: inspect
            .name
            .as_deref()
            .map(|name| name.trim_start_matches('/').to_string())
            .unwrap_or_else(|| requested.to_string()),
        state: state
            .and_then(|state| state.status)
            .map(|status| status.to_string())
            .filter(|status| !status.is_empty())
            .unwrap_or_else(|| "unknown".to_string()),
        restart_count: inspect
            .restart_count
            .and_then(|count| u64::try_from(count).ok())
            .unwrap_or(0),
        oom_killed: state.and_then(|state| state.oom_killed).unwrap_or(false),
        exit_code: state.and_then(|state| state.exit_code),
        started_at: state
            .and_then(|state| state.started_at.clone())
            .filter(|at| !at.is_empty() && !at.starts_with("0001-")),
        memory_usage_bytes: memory.and_then(|memory| memory.usage),
        memory_limit_bytes: memory
            .and_then(|memory| memory.limit)
            .filter(|bytes| *bytes > 0)
            .or(configured_limit),
        cpu_cores: None,
    }
}
