//! The audit trail of failure changes: who changed what, and when (the log line's timestamp).
//! Fields are flat so each JSON log line reads back with plain numbers and booleans. tracing
//! wants field names written out, so each event names every knob; a test checks that none of
//! `crate::knobs::ALL` is missing.

use super::failures::{FailureConfig, FailureUpdate, Knob};

/// Who sent a control request.
pub struct Caller {
    pub remote: String,
    pub user_agent: String,
    pub authenticated: bool,
}

pub fn injected(caller: &Caller, update: &FailureUpdate, config: &FailureConfig) {
    let changed: Vec<&str> = update.changes.iter().map(|(knob, _)| knob.name()).collect();
    tracing::info!(
        event = "failure_change",
        action = "inject",
        remote = %caller.remote,
        user_agent = %caller.user_agent,
        authenticated = caller.authenticated,
        changed = %changed.join(","),
        ttl_s = update.ttl_s,
        latency_ms = config.value(Knob::LatencyMs),
        error_rate = config.value(Knob::ErrorRate),
        memory_leak_mb = config.value(Knob::MemoryLeakMb),
        db_slow = config.is_active(Knob::DbSlow),
        db_fail = config.is_active(Knob::DbFail),
        "failure injected"
    );
}

pub fn reset(caller: &Caller, previous: &FailureConfig, freed_bytes: u64) {
    tracing::info!(
        event = "failure_change",
        action = "reset",
        remote = %caller.remote,
        user_agent = %caller.user_agent,
        authenticated = caller.authenticated,
        was_latency_ms = previous.value(Knob::LatencyMs),
        was_error_rate = previous.value(Knob::ErrorRate),
        was_memory_leak_mb = previous.value(Knob::MemoryLeakMb),
        was_db_slow = previous.is_active(Knob::DbSlow),
        was_db_fail = previous.is_active(Knob::DbFail),
        freed_bytes,
        "failures reset"
    );
}

pub fn expired(knobs: &[Knob], config: &FailureConfig, freed_bytes: u64) {
    let changed: Vec<&str> = knobs.iter().map(|knob| knob.name()).collect();
    tracing::info!(
        event = "failure_change",
        action = "expire",
        remote = "ttl",
        changed = %changed.join(","),
        latency_ms = config.value(Knob::LatencyMs),
        error_rate = config.value(Knob::ErrorRate),
        memory_leak_mb = config.value(Knob::MemoryLeakMb),
        db_slow = config.is_active(Knob::DbSlow),
        db_fail = config.is_active(Knob::DbFail),
        freed_bytes,
        "failure expired"
    );
}

/// `reason` may quote the request; it is cut to a few hundred bytes.
pub fn refused(caller: &Caller, path: &str, status: u16, reason: &str) {
    let reason = super::bodies::bounded(reason, 2 * super::bodies::QUOTE_BYTES);
    tracing::warn!(
        event = "control_refused",
        remote = %caller.remote,
        user_agent = %caller.user_agent,
        path,
        status,
        reason = %reason,
        "control request refused"
    );
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use serde_json::Value;

    use super::*;
    use crate::knobs;
    use crate::sandbox::failures::parse_update;

    /// Log lines written while `log` runs, as the sandbox writes them (flat JSON).
    fn logged(log: impl FnOnce()) -> Vec<Value> {
        #[derive(Clone, Default)]
        struct Lines(Arc<Mutex<Vec<u8>>>);
        impl Write for Lines {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().expect("log buffer").extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, log);
        let bytes = lines.0.lock().expect("log buffer").clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }

    #[test]
    fn every_change_logs_every_knob() {
        let caller = Caller {
            remote: "127.0.0.1:1".to_string(),
            user_agent: "test".to_string(),
            authenticated: false,
        };
        let update = parse_update(br#"{"latency_ms": 300}"#).expect("valid");
        let config = FailureConfig::default();
        let lines = logged(|| {
            injected(&caller, &update, &config);
            reset(&caller, &config, 0);
            expired(&[Knob::LatencyMs], &config, 0);
        });
        assert_eq!(lines.len(), 3, "{lines:?}");
        for (line, prefix) in lines.iter().zip(["", "was_", ""]) {
            for name in knobs::names() {
                let field = format!("{prefix}{name}");
                assert!(line.get(&field).is_some(), "{field} missing in {line}");
            }
        }
    }
}
