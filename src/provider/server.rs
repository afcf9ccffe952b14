//! The provider's accept loop. `down` looks like a crashed service behind its address: every
//! connection is accepted and closed without an answer at its first request (the client sees
//! the connection closed, as when the process dies), keep-alive connections included; only
//! the failure controls still answer, so the outage can be ended over the same port. Stopping
//! the listener instead would also refuse the controls, and another process could take the
//! port while it is free.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_service::Service;

use super::Provider;
use super::knobs::ProviderKnob;
use super::routes;

/// Connections open at once; more are closed at once.
const MAX_CONNECTIONS: usize = 1024;
/// A connection whose request headers do not arrive in this time is closed.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The reason a request of a `down` provider gets no answer (hyper closes the connection).
#[derive(Debug)]
struct Down;

impl std::fmt::Display for Down {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the provider is down")
    }
}

impl std::error::Error for Down {}

pub async fn serve(listener: TcpListener, provider: Arc<Provider>) {
    let router = routes::router(Arc::clone(&provider));
    let open = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok((stream, _remote)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok(permit) = Arc::clone(&open).try_acquire_owned() else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let provider = Arc::clone(&provider);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let mut router = router.clone();
                let down = provider.failures().is_on(ProviderKnob::Down)
                    && !routes::is_control(request.uri().path());
                async move {
                    if down {
                        return Err(Down);
                    }
                    let response = router.call(request).await;
                    Ok(response.unwrap_or_else(|never: Infallible| match never {}))
                }
            });
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            drop(permit);
        });
    }
}
