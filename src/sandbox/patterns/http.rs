//! `GET /api/patterns` and `POST /api/patterns`, strict like `/api/failures`: the control token
//! when one is set, a JSON body whose error names the field, nothing changed on an error.
//!
//! `POST /api/reset` leaves the patterns alone: it clears the failures injected, while the
//! patterns are the participant's fix; a reset that also took the fix away would bring the
//! failure back the moment a drill's fault is injected again.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::super::Sandbox;
use super::super::audit;
use super::super::routes::{Refusal, authorize, read_json_body};

const PATH: &str = "/api/patterns";

pub async fn read_patterns(State(sandbox): State<Arc<Sandbox>>) -> Response {
    axum::Json(sandbox.patterns.to_json()).into_response()
}

pub async fn set_patterns(
    State(sandbox): State<Arc<Sandbox>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let who = match authorize(&sandbox, remote, &headers, PATH) {
        Ok(who) => who,
        Err(refusal) => return refusal.into_response(),
    };
    let applied = read_json_body(&headers, body).and_then(|body| {
        sandbox
            .patterns
            .apply_body(&body)
            .map_err(|message| Refusal(StatusCode::BAD_REQUEST, message))
    });
    let update = match applied {
        Ok(update) => update,
        Err(refusal) => {
            audit::refused(&who, PATH, refusal.0.as_u16(), &refusal.1);
            return refusal.into_response();
        }
    };
    let config = update.config;
    tracing::info!(
        event = "pattern_change",
        remote = %who.remote,
        user_agent = %who.user_agent,
        authenticated = who.authenticated,
        changed = %update.changed.join(","),
        timeout = config.timeout.enabled,
        timeout_ms = config.timeout.ms,
        retry = config.retry.enabled,
        retry_max_attempts = config.retry.max_attempts,
        circuit_breaker = config.circuit_breaker.enabled,
        bulkhead = config.bulkhead.enabled,
        bulkhead_max_concurrent = config.bulkhead.max_concurrent,
        fallback = config.fallback.enabled,
        "patterns changed"
    );
    let mut body = sandbox.patterns.to_json();
    body["status"] = "updated".into();
    axum::Json(body).into_response()
}
