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
use crate::secret::Secret;
use crate::signals::{UnixSeconds, now_unix};

/// How often the child's resident memory is checked against its limit: often enough that a
/// leak is stopped near the limit, rarely enough to cost the idle dashboard little.
const MEMORY_CHECK: Duration = Duration::from_millis(250);
/// How often the memory figure is reported (every fourth check: once a second).
const REPORT_EVERY: u32 = 4;
pub const START_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_GRACE: Duration = Duration::from_secs(3);
/// How long the dashboard's quit waits for the child before killing it: the embedded
/// sandbox's database is thrown away anyway, and quitting must feel instant.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(250);
/// The wait before the first restart after a crash; it doubles with every crash in a row.
const FIRST_RESTART_WAIT: Duration = Duration::from_millis(500);
const LONGEST_RESTART_WAIT: Duration = Duration::from_secs(30);
/// A child that ran this long before ending was healthy: the crash loop's count starts over.
const HEALTHY_RUN: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    /// The `gameday` executable to run as `gameday sandbox`.
    pub exe: PathBuf,
    pub listen: SocketAddr,
    pub memory_limit: u64,
    /// The SQLite file, kept across restarts as a database container's volume would be.
    pub database_path: PathBuf,
    /// The child's control token: only this process can change its failures.
    pub control_token: Secret,
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
    /// Crashed `in_a_row` times without a healthy run between; the next start is delayed.
    CrashLoop {
        in_a_row: u32,
        next_start_in: Duration,
    },
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
    /// Asked for by a command: no wait, not counted.
    Restart,
    /// The child died (exit, crash, out of memory) or could not start.
    Crashed,
}

async fn supervise(
    config: SupervisorConfig,
    events: mpsc::Sender<SupervisorEvent>,
    mut commands: mpsc::Receiver<SupervisorCommand>,
) {
    let mut restarts = 0u32;
    let mut crashes_in_a_row = 0u32;
    loop {
        let started_at = tokio::time::Instant::now();
        let ended = match start_child(&config, &events).await {
            Ok(child) => watch_child(child, &config, &events, &mut commands).await,
            Err(reason) => {
                let _ = events.send(SupervisorEvent::Exited { reason }).await;
                Ended::Crashed
            }
        };
        let ended = match ended {
            Ended::Crashed => {
                if started_at.elapsed() >= HEALTHY_RUN {
                    crashes_in_a_row = 0;
                }
                crashes_in_a_row += 1;
                restarts += 1;
                let _ = events.send(SupervisorEvent::Restarts(restarts)).await;
                // Back off so a child that keeps dying does not spin.
                let wait = restart_wait(crashes_in_a_row);
                if crashes_in_a_row > 1 {
                    let crash_loop = SupervisorEvent::CrashLoop {
                        in_a_row: crashes_in_a_row,
                        next_start_in: wait,
                    };
                    let _ = events.send(crash_loop).await;
                }
                tokio::select! {
                    () = tokio::time::sleep(wait) => Ended::Restart,
                    command = commands.recv() => match command {
                        Some(SupervisorCommand::Shutdown) | None => Ended::Shutdown,
                        Some(SupervisorCommand::Stop) => Ended::Stopped,
                        Some(_) => Ended::Restart,
                    },
                }
            }
            other => other,
        };
        match ended {
            Ended::Shutdown => return,
            Ended::Restart | Ended::Crashed => {}
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
    let mut command = Command::new(&config.exe);
    // Nothing of the dashboard's environment configures the child: a GAMEDAY_CONTROL_TOKEN
    // meant for another target would lock the dashboard out of its own sandbox.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GAMEDAY_") {
            command.env_remove(name);
        }
    }
    // By the environment, which only this user can read, not by a flag anyone sees in `ps`.
    command.env("GAMEDAY_CONTROL_TOKEN", config.control_token.expose());
    let mut child = command
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
            terminate(&mut child, STOP_GRACE).await;
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
                return Ended::Crashed;
            }
            _ = ticker.tick() => {
                let Some(rss) = read_rss(pid) else { continue };
                if rss > config.memory_limit {
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                    let limit = config.memory_limit;
                    let _ = events.send(SupervisorEvent::OomKilled { rss, limit }).await;
                    return Ended::Crashed;
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
                        terminate(&mut child, STOP_GRACE).await;
                        return Ended::Restart;
                    }
                    Some(SupervisorCommand::Stop) => {
                        terminate(&mut child, STOP_GRACE).await;
                        return Ended::Stopped;
                    }
                    Some(SupervisorCommand::Start) => {}
                    Some(SupervisorCommand::Shutdown) | None => {
                        terminate(&mut child, SHUTDOWN_GRACE).await;
                        return Ended::Shutdown;
                    }
                }
            }
        }
    }
}

/// The wait before the next start after `crashes_in_a_row` crashes: 0.5 s, doubling, at most
/// 30 s.
fn restart_wait(crashes_in_a_row: u32) -> Duration {
    let doublings = crashes_in_a_row.saturating_sub(1).min(16);
    FIRST_RESTART_WAIT
        .saturating_mul(1 << doublings)
        .min(LONGEST_RESTART_WAIT)
}

/// SIGTERM by PID, then SIGKILL if the child is still there after `grace`.
async fn terminate(child: &mut Child, grace: Duration) {
    if let Some(pid) = child.id().and_then(|pid| i32::try_from(pid).ok()) {
        // SAFETY: kill(2) with a PID we spawned and have not yet reaped; no memory is touched.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restarts_back_off_doubling_up_to_half_a_minute() {
        let waits: Vec<f64> = (1..=9).map(|n| restart_wait(n).as_secs_f64()).collect();
        assert_eq!(waits, [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]);
        assert_eq!(restart_wait(u32::MAX), LONGEST_RESTART_WAIT);
    }
}
