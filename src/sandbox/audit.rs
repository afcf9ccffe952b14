//! The audit trail of failure changes: who changed what, and when (the log line's timestamp).
//! Fields are flat so each JSON log line reads back with plain numbers and booleans.

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
        latency_ms = config.latency_ms,
        error_rate = config.error_rate,
        memory_leak_mb = config.memory_leak_mb,
        db_slow = config.db_slow,
        db_fail = config.db_fail,
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
        was_latency_ms = previous.latency_ms,
        was_error_rate = previous.error_rate,
        was_memory_leak_mb = previous.memory_leak_mb,
        was_db_slow = previous.db_slow,
        was_db_fail = previous.db_fail,
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
        latency_ms = config.latency_ms,
        error_rate = config.error_rate,
        memory_leak_mb = config.memory_leak_mb,
        db_slow = config.db_slow,
        db_fail = config.db_fail,
        freed_bytes,
        "failure expired"
    );
}

pub fn refused(caller: &Caller, path: &str, status: u16, reason: &str) {
    tracing::warn!(
        event = "control_refused",
        remote = %caller.remote,
        user_agent = %caller.user_agent,
        path,
        status,
        reason,
        "control request refused"
    );
}
