//! The process source, for the embedded default: the supervised sandbox child's memory,
//! restarts, lifecycle and log lines, forwarded as updates as the supervisor reports them. The
//! supervisor itself (in `sandbox/`) enforces the memory limit, so it samples the child's
//! resident size; this source only passes on what it saw, and needs no poller.

use tokio::sync::mpsc;

use super::fincore_log::parse_log_line;
use super::{LogLevel, LogLine, SourceKind, SourceStatus, Update, UpdateSender};
use crate::sandbox::supervisor::SupervisorEvent;
use crate::signals::{Signal, now_unix};

/// Forwards supervisor events as dashboard updates until either side is gone.
pub async fn run(
    earlier: Vec<SupervisorEvent>,
    mut events: mpsc::Receiver<SupervisorEvent>,
    updates: UpdateSender,
) {
    let mut process = ProcessSource::default();
    for event in earlier {
        for update in process.updates_for(event) {
            if updates.send(update).await.is_err() {
                return;
            }
        }
    }
    while let Some(event) = events.recv().await {
        for update in process.updates_for(event) {
            if updates.send(update).await.is_err() {
                return;
            }
        }
    }
}

/// What the memory figure needs from earlier events: the restarts counted so far.
#[derive(Debug, Default)]
struct ProcessSource {
    restarts: u32,
}

impl ProcessSource {
    fn updates_for(&mut self, event: SupervisorEvent) -> Vec<Update> {
        match event {
            SupervisorEvent::Started { pid, url } => vec![
                Update::Status(SourceKind::Process, SourceStatus::Ok { at: now_unix() }),
                Update::Lifecycle {
                    event: format!("sandbox pid {pid} on {url}"),
                },
            ],
            SupervisorEvent::Memory { at, rss, limit } => vec![
                Update::Status(SourceKind::Process, SourceStatus::Ok { at }),
                Update::Signals {
                    source: SourceKind::Process,
                    at,
                    values: vec![
                        (Signal::MemoryBytes, rss as f64),
                        (Signal::MemoryLimitBytes, limit as f64),
                        (Signal::Restarts, f64::from(self.restarts)),
                    ],
                },
            ],
            SupervisorEvent::OomKilled { rss, limit } => {
                let text = format!(
                    "sandbox killed: out of memory ({} MiB > limit {} MiB)",
                    rss >> 20,
                    limit >> 20
                );
                vec![
                    log(LogLevel::Error, text.clone()),
                    Update::Lifecycle { event: text },
                ]
            }
            SupervisorEvent::Exited { reason } => vec![
                log(LogLevel::Error, reason.clone()),
                Update::Status(
                    SourceKind::Process,
                    SourceStatus::Down {
                        reason,
                        since: now_unix(),
                    },
                ),
            ],
            SupervisorEvent::Restarts(count) => {
                self.restarts = count;
                let at = now_unix();
                vec![
                    Update::Signals {
                        source: SourceKind::Process,
                        at,
                        values: vec![(Signal::Restarts, f64::from(count))],
                    },
                    Update::Lifecycle {
                        event: format!("sandbox restarted ({count})"),
                    },
                ]
            }
            SupervisorEvent::CrashLoop {
                in_a_row,
                next_start_in,
            } => {
                let text = format!(
                    "sandbox crash loop: {in_a_row} crashes in a row, next start in {:.1} s",
                    next_start_in.as_secs_f64()
                );
                vec![
                    log(LogLevel::Error, text.clone()),
                    Update::Lifecycle { event: text },
                ]
            }
            SupervisorEvent::Stopped => vec![Update::Status(
                SourceKind::Process,
                SourceStatus::Down {
                    reason: "stopped".to_string(),
                    since: now_unix(),
                },
            )],
            SupervisorEvent::Log(line) => vec![Update::Logs(vec![parse_log_line(&line)])],
        }
    }
}

fn log(level: LogLevel, text: String) -> Update {
    Update::Logs(vec![LogLine {
        at: now_unix(),
        level,
        text,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory_values(updates: &[Update]) -> Vec<(Signal, f64)> {
        updates
            .iter()
            .find_map(|update| match update {
                Update::Signals { values, .. } => Some(values.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }

    #[test]
    fn a_kill_for_memory_is_logged_and_the_memory_figure_carries_the_restarts() {
        let mut process = ProcessSource::default();
        let mib = 1 << 20;
        let killed = process.updates_for(SupervisorEvent::OomKilled {
            rss: 300 * mib,
            limit: 256 * mib,
        });
        let text = "sandbox killed: out of memory (300 MiB > limit 256 MiB)";
        assert!(
            matches!(&killed[0], Update::Logs(lines) if lines[0].level == LogLevel::Error && lines[0].text == text),
            "{killed:?}"
        );
        assert!(
            matches!(&killed[1], Update::Lifecycle { event } if event == text),
            "{killed:?}"
        );
        let restarted = process.updates_for(SupervisorEvent::Restarts(1));
        assert_eq!(memory_values(&restarted), [(Signal::Restarts, 1.0)]);
        let memory = process.updates_for(SupervisorEvent::Memory {
            at: 5.0,
            rss: 10 * mib,
            limit: 256 * mib,
        });
        assert!(
            matches!(
                memory[0],
                Update::Status(SourceKind::Process, SourceStatus::Ok { at: 5.0 })
            ),
            "{memory:?}"
        );
        assert_eq!(
            memory_values(&memory),
            [
                (Signal::MemoryBytes, (10 * mib) as f64),
                (Signal::MemoryLimitBytes, (256 * mib) as f64),
                (Signal::Restarts, 1.0)
            ]
        );
    }

    #[test]
    fn an_exit_shows_the_process_as_down_with_its_reason() {
        let mut process = ProcessSource::default();
        let reason = "the sandbox exited (signal: 9)".to_string();
        let updates = process.updates_for(SupervisorEvent::Exited {
            reason: reason.clone(),
        });
        assert!(
            matches!(&updates[1], Update::Status(SourceKind::Process, SourceStatus::Down { reason: shown, .. }) if *shown == reason),
            "{updates:?}"
        );
    }
}
