//! One request as a client makes it: an attempt, and in a retry storm the retries after it,
//! each reported to the [`Recorder`].

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::mix::Endpoint;
use super::retry::{RetryPolicy, TRANSPORT_ERROR};
use super::stats::Recorder;

/// Sends one attempt and reads the whole body (so the connection is reused); returns the status
/// (0 for a transport error or timeout) and whether it timed out.
pub(super) async fn send_attempt(
    http: &reqwest::Client,
    target: &str,
    endpoint: Endpoint,
    timeout: Duration,
) -> (u16, bool) {
    let request = endpoint.request(http, target).timeout(timeout);
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            match response.bytes().await {
                Ok(_) => (status, false),
                Err(err) => (TRANSPORT_ERROR, err.is_timeout()),
            }
        }
        Err(err) => (TRANSPORT_ERROR, err.is_timeout()),
    }
}

/// What a request needs besides its endpoint and scheduled time.
#[derive(Clone)]
pub(super) struct Sender {
    pub http: reqwest::Client,
    pub target: Arc<str>,
    pub recorder: Arc<Recorder>,
    pub attempt_timeout: Duration,
}

impl Sender {
    /// One request from its scheduled time to its last answer; `retry` is the policy when the
    /// clients retry (a retry storm), `None` when they give up at the first failure.
    pub async fn request(
        &self,
        endpoint: Endpoint,
        scheduled: Instant,
        retry: Option<RetryPolicy>,
    ) {
        let mut attempt = 0;
        loop {
            self.recorder.attempt_sent(attempt > 0);
            let sent_at = Instant::now();
            let (status, timed_out) =
                send_attempt(&self.http, &self.target, endpoint, self.attempt_timeout).await;
            self.recorder
                .attempt_answered(status, timed_out, sent_at.elapsed());
            match retry {
                Some(policy) if policy.retries_after(attempt, status) => {
                    attempt += 1;
                    tokio::time::sleep(policy.delay_before(attempt)).await;
                }
                _ => {
                    self.recorder
                        .request_done(RetryPolicy::is_retryable(status), scheduled.elapsed());
                    return;
                }
            }
        }
    }
}
