//! The sandbox's accept loop: at most `max_connections` open, each bounded by the header and
//! idle timeouts (`connection.rs`); one more is answered `503` with `Retry-After` and closed
//! (at most [`REFUSALS_AT_ONCE`] at a time, each within a second; beyond, closed unanswered).
//! Failed accepts (out of descriptors) back off instead of spinning, and are logged once per
//! window. On shutdown, accepting stops and requests in flight are finished.

use std::future::Future;
use std::io::ErrorKind;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use super::connection::{self, ConnectionTimeouts, Ended};
use super::exhaustion::{self, ExhaustionLog};
use super::metrics::Metrics;

/// Connections being refused at once; more over the limit are closed without an answer.
pub const REFUSALS_AT_ONCE: usize = 32;
/// The longest a refusal may take (writing the 503, waiting for the client to close).
const REFUSAL_DEADLINE: Duration = Duration::from_secs(1);
/// What a refused client is told to wait before trying again, in seconds.
const RETRY_AFTER_S: &str = "1";
/// Backoff after an accept failed for want of resources (descriptors, memory).
const ACCEPT_BACKOFF_FIRST: Duration = Duration::from_millis(50);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// The bounds of the server, from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    pub max_connections: usize,
    pub timeouts: ConnectionTimeouts,
}

/// Serves `router` on `listener` until `shutdown` ends, then waits up to `grace` for the
/// requests in flight.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let refusing = Arc::new(Semaphore::new(REFUSALS_AT_ONCE));
    let log = Arc::new(ExhaustionLog::new(exhaustion::Limits {
        max_connections: limits.max_connections,
        header_timeout: limits.timeouts.header,
        idle_timeout: limits.timeouts.idle,
    }));
    metrics.connections.set_limit(limits.max_connections);
    let (stop, stopping) = watch::channel(false);
    let mut flush = tokio::time::interval(exhaustion::WINDOW);
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut backoff = ACCEPT_BACKOFF_FIRST;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            _ = flush.tick() => {
                log.flush();
                continue;
            }
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => {
                backoff = ACCEPT_BACKOFF_FIRST;
                accepted
            }
            Err(err) => {
                metrics
                    .connections
                    .accept_errors
                    .fetch_add(1, Ordering::Relaxed);
                log.accept_failed(&err);
                if lacks_resources(&err) {
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                }
                continue;
            }
        };
        match Arc::clone(&open).try_acquire_owned() {
            Ok(permit) => {
                let router = router.clone();
                let metrics = Arc::clone(&metrics);
                let log = Arc::clone(&log);
                let stopping = stopping.clone();
                tokio::spawn(async move {
                    let _open = metrics.connections.opened();
                    let ended =
                        connection::serve(stream, remote, router, limits.timeouts, stopping).await;
                    if let Ended::TimedOut(reason) = ended {
                        metrics.connections.timed_out(reason);
                        log.timed_out(reason);
                    }
                    drop(permit);
                });
            }
            Err(_) => {
                metrics.connections.refused.fetch_add(1, Ordering::Relaxed);
                log.refused();
                // Beyond the refusals in flight the socket is dropped here: closed at once.
                if let Ok(permit) = Arc::clone(&refusing).try_acquire_owned() {
                    let max = limits.max_connections;
                    tokio::spawn(async move {
                        let _ = tokio::time::timeout(REFUSAL_DEADLINE, refuse(stream, max)).await;
                        drop(permit);
                    });
                }
            }
        }
    }
    drop(listener);
    log.flush();
    let _ = stop.send(true);
    // Every connection holds a permit until it ends: all of them back means all are done.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(grace, open.acquire_many(all)).await;
}

/// Out of descriptors or memory: accepting again at once would fail again.
fn lacks_resources(err: &std::io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    ) || err.kind() == ErrorKind::OutOfMemory
}

/// Answers 503 with `Retry-After` at once, without waiting for the request (as a server may:
/// a client that sent one reads the answer), then reads what the client sends until it closes,
/// so the close does not reset the answer away; bounded by [`REFUSAL_DEADLINE`].
async fn refuse(mut stream: TcpStream, max_connections: usize) {
    let body = format!(
        "{{\"error\":\"the sandbox is at its connection limit ({max_connections} open): retry after {RETRY_AFTER_S} s\"}}"
    );
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\nretry-after: {RETRY_AFTER_S}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(answer.as_bytes()).await.is_err() {
        return;
    }
    let _ = stream.shutdown().await;
    let mut discard = [0u8; 1024];
    while let Ok(read) = stream.read(&mut discard).await {
        if read == 0 {
            break;
        }
    }
}
