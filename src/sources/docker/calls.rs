//! Every engine call under a time limit, retried where podman's answer is briefly
//! undecodable, and its failure told as a message naming the engine; and which engine to ask.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use bollard::errors::Error as BollardError;
use tokio::time::error::Elapsed;

/// Longest wait for one read call (list, inspect, stats, logs, version).
pub(super) const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Sockets tried in order when neither a host nor `DOCKER_HOST` is given.
const DEFAULT_SOCKETS: [&str; 2] = ["/var/run/docker.sock", "/run/podman/podman.sock"];

/// Runs one engine call under a timeout and turns every failure into a message naming the host.
pub(super) async fn bounded<T>(
    host: &str,
    what: &str,
    limit: Duration,
    call: impl Future<Output = Result<T, BollardError>>,
) -> Result<T, String> {
    explain(host, what, limit, tokio::time::timeout(limit, call).await)
}

/// Tries of a read whose answer bollard could not decode, and the pause between them.
const DECODE_TRIES: u32 = 5;
const DECODE_PAUSE: Duration = Duration::from_millis(100);

/// Runs a read under one overall time limit, again if bollard could not decode the answer:
/// while podman restarts a container it reports the state `stopped` for a moment, which
/// bollard's state enum rejects (and with it the whole list or inspect answer).
pub(super) async fn retrying<T, Call, Answer>(
    limit: Duration,
    mut call: Call,
) -> Result<Result<T, BollardError>, Elapsed>
where
    Call: FnMut() -> Answer,
    Answer: Future<Output = Result<T, BollardError>>,
{
    tokio::time::timeout(limit, async {
        let mut tries = 1;
        loop {
            match call().await {
                Err(BollardError::JsonDataError { .. }) if tries < DECODE_TRIES => {
                    tries += 1;
                    tokio::time::sleep(DECODE_PAUSE).await;
                }
                answer => return answer,
            }
        }
    })
    .await
}

/// The message for a timed call's outcome.
pub(super) fn explain<T>(
    host: &str,
    what: &str,
    limit: Duration,
    outcome: Result<Result<T, BollardError>, Elapsed>,
) -> Result<T, String> {
    let reason = match outcome {
        Ok(Ok(value)) => return Ok(value),
        Ok(Err(BollardError::DockerResponseServerError {
            status_code,
            message,
        })) => format!("refused (HTTP {status_code}): {message}"),
        Ok(Err(err)) => format!("failed: {}", describe(&err)),
        Err(_) => format!("no answer within {} s", limit.as_secs()),
    };
    Err(format!("{what} at {host}: {reason}"))
}

/// An error with its chain of causes, since hyper's top level says only "client error".
pub(super) fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The engine address: the explicit one, else `DOCKER_HOST`, else the first default socket that
/// exists. A bare path means a unix socket.
pub(super) fn choose_host(
    explicit: Option<&str>,
    env_host: Option<&str>,
    exists: impl Fn(&Path) -> bool,
) -> Result<String, String> {
    let given = explicit
        .or(env_host)
        .map(str::trim)
        .filter(|host| !host.is_empty());
    if let Some(host) = given {
        if host.starts_with('/') {
            return Ok(format!("unix://{host}"));
        }
        let supported = ["unix://", "tcp://", "http://"];
        if supported.iter().any(|scheme| host.starts_with(scheme)) {
            return Ok(host.to_string());
        }
        return Err(format!(
            "unsupported Docker host {host}: use unix:///path, tcp://HOST:PORT or http://HOST:PORT"
        ));
    }
    DEFAULT_SOCKETS
        .iter()
        .find(|socket| exists(Path::new(socket)))
        .map(|socket| format!("unix://{socket}"))
        .ok_or_else(|| {
            format!(
                "no Docker engine found: DOCKER_HOST is not set and none of {} exists",
                DEFAULT_SOCKETS.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_comes_from_the_target_then_the_environment_then_a_socket_that_exists() {
        let none = |_: &Path| false;
        let podman_only = |path: &Path| path == Path::new("/run/podman/podman.sock");
        assert_eq!(
            choose_host(Some("/tmp/x.sock"), Some("tcp://h:1"), none),
            Ok("unix:///tmp/x.sock".to_string())
        );
        assert_eq!(
            choose_host(None, Some("tcp://127.0.0.1:2375"), none),
            Ok("tcp://127.0.0.1:2375".to_string())
        );
        assert_eq!(
            choose_host(None, Some(""), podman_only),
            Ok("unix:///run/podman/podman.sock".to_string())
        );
        let missing = choose_host(None, None, none).expect_err("no host anywhere");
        assert!(missing.contains("/var/run/docker.sock"), "{missing}");
        assert!(choose_host(Some("ssh://h"), None, none).is_err());
    }
}
