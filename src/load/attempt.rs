//! One request as a client makes it: an attempt, and in a retry storm the retries after it,
//! each reported to the [`Recorder`].

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::mix::Endpoint;
use super::retry::{RetryPolicy, TRANSPORT_ERROR};
use super::stats::Recorder;

/// The target's endpoint URLs, parsed once for the whole run.
pub(super) struct EndpointUrls {
    balance: Option<reqwest::Url>,
    transfer: Option<reqwest::Url>,
    payment: Option<reqwest::Url>,
    health: Option<reqwest::Url>,
}

impl EndpointUrls {
    /// A target that does not parse leaves every URL empty: each attempt then fails as a
    /// transport error (the command checks the target before it starts).
    pub fn new(target: &str) -> EndpointUrls {
        let url =
            |endpoint: Endpoint| reqwest::Url::parse(&format!("{target}{}", endpoint.path())).ok();
        EndpointUrls {
            balance: url(Endpoint::Balance),
            transfer: url(Endpoint::Transfer),
            payment: url(Endpoint::Payment),
            health: url(Endpoint::Health),
        }
    }

    fn get(&self, endpoint: Endpoint) -> Option<&reqwest::Url> {
        match endpoint {
            Endpoint::Balance => self.balance.as_ref(),
            Endpoint::Transfer => self.transfer.as_ref(),
            Endpoint::Payment => self.payment.as_ref(),
            Endpoint::Health => self.health.as_ref(),
        }
    }
}

/// Sends one attempt and reads the whole body (so the connection is reused); returns the status
/// (0 for a transport error or timeout) and whether it timed out.
pub(super) async fn send_attempt(
    http: &reqwest::Client,
    urls: &EndpointUrls,
    endpoint: Endpoint,
    idempotency_key: Option<&str>,
    timeout: Duration,
) -> (u16, bool) {
    let Some(url) = urls.get(endpoint) else {
        return (TRANSPORT_ERROR, false);
    };
    let request = endpoint
        .request_to(http, url.clone(), idempotency_key)
        .timeout(timeout);
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
    pub urls: Arc<EndpointUrls>,
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
        // One key for the request and all its retries.
        let key = endpoint.idempotency_key();
        loop {
            self.recorder.attempt_sent(attempt > 0);
            let sent_at = Instant::now();
            let (status, timed_out) = send_attempt(
                &self.http,
                &self.urls,
                endpoint,
                key.as_deref(),
                self.attempt_timeout,
            )
            .await;
            self.recorder
                .attempt_answered(status, timed_out, sent_at.elapsed());
            match retry {
                Some(policy) if policy.retries_after(attempt, status) => {
                    attempt += 1;
                    tokio::time::sleep(policy.delay_before(attempt)).await;
                }
                _ => {
                    self.recorder
                        .request_done(endpoint, status, scheduled.elapsed());
                    return;
                }
            }
        }
    }
}
