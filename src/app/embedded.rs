//! The embedded default's moving parts: the supervised sandbox child, turned into updates for
//! the dashboard (memory, restarts, lifecycle, its log lines).

use serde_json::Value;
use tokio::sync::mpsc;

use crate::sandbox::supervisor::SupervisorEvent;
use crate::signals::{Signal, now_unix};
use crate::sources::{LogLevel, LogLine, SourceKind, SourceStatus, Update, UpdateSender};

/// Forwards supervisor events as dashboard updates until either side is gone.
pub async fn forward_supervisor(
    mut events: mpsc::Receiver<SupervisorEvent>,
    updates: UpdateSender,
) {
    let mut restarts = 0u32;
    while let Some(event) = events.recv().await {
        let batch = match event {
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
                        (Signal::Restarts, f64::from(restarts)),
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
                restarts = count;
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
            SupervisorEvent::Stopped => vec![Update::Status(
                SourceKind::Process,
                SourceStatus::Down {
                    reason: "stopped".to_string(),
                    since: now_unix(),
                },
            )],
            SupervisorEvent::Log(line) => vec![Update::Logs(vec![parse_log_line(&line)])],
        };
        for update in batch {
            if updates.send(update).await.is_err() {
                return;
            }
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

/// The sandbox logs JSON lines; show the message and the fields that matter, like a person
/// reading `docker logs` would want them.
pub fn parse_log_line(line: &str) -> LogLine {
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(line) else {
        return LogLine {
            at: now_unix(),
            level: LogLevel::Info,
            text: line.to_string(),
        };
    };
    let at = fields
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp_millis() as f64 / 1000.0)
        .unwrap_or_else(now_unix);
    let level = match fields.get("level").and_then(Value::as_str) {
        Some("ERROR") => LogLevel::Error,
        Some("WARN") => LogLevel::Warn,
        _ => LogLevel::Info,
    };
    let mut text = fields
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    for (key, value) in &fields {
        if matches!(
            key.as_str(),
            "timestamp" | "level" | "message" | "target" | "event" | "user_agent"
        ) {
            continue;
        }
        let shown = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        text.push_str(&format!(" {key}={shown}"));
    }
    LogLine { at, level, text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_log_lines_read_as_message_and_fields() {
        let line = r#"{"timestamp":"2026-11-22T04:43:14.080048Z","level":"WARN","message":"request failed","event":"request_failed","endpoint":"/api/balance","status":500,"target":"gameday::sandbox::routes"}"#;
        let parsed = parse_log_line(line);
        assert_eq!(parsed.level, LogLevel::Warn);
        assert_eq!(
            parsed.text,
            "request failed endpoint=/api/balance status=500"
        );
        assert!((parsed.at - 1_795_322_594.08).abs() < 0.01, "{}", parsed.at);
    }

    #[test]
    fn other_lines_are_kept_as_they_are() {
        let parsed = parse_log_line("WARNING: something");
        assert_eq!(parsed.text, "WARNING: something");
    }
}
