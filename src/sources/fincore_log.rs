//! FinCore's JSON log lines, read for the log panel: the sandbox child's stderr (the process
//! source) and a container's log (the Docker source) carry the same format.

use serde_json::Value;

use super::{LogLevel, LogLine};
use crate::signals::now_unix;

/// FinCore logs JSON lines; show the message and the fields that matter, like a person
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
