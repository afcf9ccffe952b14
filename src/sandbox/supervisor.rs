//! Runs the sandbox as a child process for the embedded default, like a container with a
//! memory limit and a restart policy: a child that outgrows its limit is killed (as the OOM
//! killer would) and started again, and every restart is counted.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use super::process_stats::read_rss;
use crate::signals::{UnixSeconds, now_unix};

/// How often the child's resident memory is checked against its limit: often enough that a
/// leak is stopped near the limit, rarely enough to cost the idle dashboard little.
const MEMORY_CHECK: Duration = Duration::from_millis(250);
/// How often the memory figure is reported (every fourth check: once a second).
const REPORT_EVERY: u32 = 4;
pub const START_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_GRACE: Duration = Duration::from_secs(3);

#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    /// The `gameday` executable to run as `gameday sandbox`.
    pub exe: PathBuf,
    pub listen: SocketAddr,
    pub memory_limit: u64,
    /// The SQLite file, kept across restarts as a database container's volume would be.
    pub database_path: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SupervisorEvent {
    Started {
        pid: u32,
        url: String,
    },
    Memory {
        at: UnixSeconds,
        rss: u64,
        limit: u64,
    },
    /// Killed for outgrowing the memory limit.
    OomKilled {
        rss: u64,
        limit: u64,
    },
    /// Exited by itself (crash) or failed to start.
    Exited {
        reason: String,
    },
    Restarts(u32),
    /// Stopped on request; it stays stopped until `Start`.
    Stopped,
    /// One line of the child's log.
    Log(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupervisorCommand {
    Restart,
    Stop,
    Start,
    Shutdown,
}

pub struct SupervisorHandle {
    commands: mpsc::Sender<SupervisorCommand>,
    task: tokio::task::JoinHandle<()>,
}

impl SupervisorHandle {
    pub fn commands(&self) -> mpsc::Sender<SupervisorCommand> {
        self.commands.clone()
    }

    /// Stops the child (SIGTERM, then SIGKILL after a grace period) and waits for it.
    pub async fn shutdown(self) {
        let _ = self.commands.send(SupervisorCommand::Shutdown).await;
        let _ = self.task.await;
    }
}

pub fn spawn(config: SupervisorConfig, events: mpsc::Sender<SupervisorEvent>) -> SupervisorHandle {
    let (commands, receiver) = mpsc::channel(8);
    let task = tokio::spawn(supervise(config, events, receiver));
    SupervisorHandle { commands, task }
}

enum Ended {
    Shutdown,
    Stopped,
    Restart { counted: bool },
}

async fn supervise(
    config: SupervisorConfig,
    events: mpsc::Sender<SupervisorEvent>,
    mut commands: mpsc::Receiver<SupervisorCommand>,
) {
    let mut restarts = 0u32;
    let mut failures_in_a_row = 0u32;
    loop {
        let ended = match start_child(&config, &events).await {
            Ok(child) => {
                failures_in_a_row = 0;
                watch_child(child, &config, &events, &mut commands).await
            }
            Err(reason) => {
                failures_in_a_row += 1;
                let _ = events.send(SupervisorEvent::Exited { reason }).await;
                // Back off so a child that cannot start does not spin.
                let wait = Duration::from_secs(u64::from(failures_in_a_row.min(5)));
                tokio::select! {
                    () = tokio::time::sleep(wait) => Ended::Restart { counted: true },
                    command = commands.recv() => match command {
                        Some(SupervisorCommand::Shutdown) | None => Ended::Shutdown,
                        Some(_) => Ended::Restart { counted: false },
                    },
                }
            }
        };
        match ended {
            Ended::Shutdown => return,
            Ended::Restart { counted } => {
                if counted {
                    restarts += 1;
                    let _ = events.send(SupervisorEvent::Restarts(restarts)).await;
                }
            }
            Ended::Stopped => {
                let _ = events.send(SupervisorEvent::Stopped).await;
                loop {
                    match commands.recv().await {
                        Some(SupervisorCommand::Start | SupervisorCommand::Restart) => break,
                        Some(SupervisorCommand::Stop) => {}
                        Some(SupervisorCommand::Shutdown) | None => return,
                    }
                }
            }
        }
    }
}

async fn start_child(
    config: &SupervisorConfig,
    events: &mpsc::Sender<SupervisorEvent>,
) -> Result<Child, String> {
    let database_url = format!("sqlite://{}?mode=rwc", config.database_path.display());
    let mut child = Command::new(&config.exe)
        .arg("sandbox")
        .arg("--listen")
        .arg(config.listen.to_string())
        .arg("--database-url")
        .arg(&database_url)
        .arg("--exit-with-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| format!("cannot start {}: {err}", config.exe.display()))?;
    let pid = child.id().unwrap_or(0);
    if let Some(stderr) = child.stderr.take() {
        let events = events.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if events.send(SupervisorEvent::Log(line)).await.is_err() {
                    break;
                }
            }
        });
    }
    let Some(stdout) = child.stdout.take() else {
        return Err("the sandbox's stdout is not piped".to_string());
    };
    let mut stdout = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(START_TIMEOUT, stdout.next_line()).await;
    match first {
        Ok(Ok(Some(line))) if line.starts_with("listening on ") => {
            let url = line.trim_start_matches("listening on ").trim().to_string();
            // Keep draining stdout so the child never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
            let _ = events.send(SupervisorEvent::Started { pid, url }).await;
            Ok(child)
        }
        other => {
            terminate(&mut child).await;
            Err(match other {
                Ok(Ok(Some(line))) => format!("the sandbox said `{line}` instead of its address"),
                Ok(_) => "the sandbox exited before listening (see its log)".to_string(),
                Err(_) => format!(
                    "the sandbox did not listen within {} s",
                    START_TIMEOUT.as_secs()
                ),
            })
        }
    }
}

async fn watch_child(
    mut child: Child,
    config: &SupervisorConfig,
    events: &mpsc::Sender<SupervisorEvent>,
    commands: &mut mpsc::Receiver<SupervisorCommand>,
) -> Ended {
    let pid = child.id().unwrap_or(0);
    // `Child::wait` closes the child's stdin, which would stop a sandbox started with
    // `--exit-with-stdin`: hold it here until the child is gone.
    let _stdin = child.stdin.take();
    let mut ticker = tokio::time::interval(MEMORY_CHECK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut ticks = 0u32;
    loop {
        tokio::select! {
            status = child.wait() => {
                let reason = match status {
                    Ok(status) => format!("the sandbox exited ({status})"),
                    Err(err) => format!("the sandbox could not be waited for: {err}"),
                };
                let _ = events.send(SupervisorEvent::Exited { reason }).await;
                tokio::time::sleep(Duration::from_millis(500)).await;
                return Ended::Restart { counted: true };
            }
            _ = ticker.tick() => {
                let Some(rss) = read_rss(pid) else { continue };
                if rss > config.memory_limit {
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                    let limit = config.memory_limit;
                    let _ = events.send(SupervisorEvent::OomKilled { rss, limit }).await;
                    return Ended::Restart { counted: true };
                }
                ticks += 1;
                if ticks % REPORT_EVERY == 1 {
                    let memory = SupervisorEvent::Memory { at: now_unix(), rss, limit: config.memory_limit };
                    let _ = events.send(memory).await;
                }
            }
            command = commands.recv() => {
                match command {
                    Some(SupervisorCommand::Restart) => {
                        terminate(&mut child).await;
                        return Ended::Restart { counted: false };
                    }
                    Some(SupervisorCommand::Stop) => {
                        terminate(&mut child).await;
                        return Ended::Stopped;
                    }
                    Some(SupervisorCommand::Start) => {}
                    Some(SupervisorCommand::Shutdown) | None => {
                        terminate(&mut child).await;
                        return Ended::Shutdown;
                    }
                }
            }
        }
    }
}

/// SIGTERM by PID, then SIGKILL if the child is still there after the grace period.
async fn terminate(child: &mut Child) {
    if let Some(pid) = child.id().and_then(|pid| i32::try_from(pid).ok()) {
        // SAFETY: kill(2) with a PID we spawned and have not yet reaped; no memory is touched.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
    if tokio::time::timeout(STOP_GRACE, child.wait())
        .await
        .is_err()
    {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
}
