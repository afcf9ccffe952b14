//! One accepted connection, bounded like a production server's: request headers must arrive
//! within the header timeout (counted from the accept, or from the first byte of the next
//! request), and a keep-alive connection with no request in flight is closed after the idle
//! timeout. A request in flight is never cut: an injected 60 s latency is the service's own
//! doing, not the client's; but its body must arrive within the header timeout too, or reading
//! it fails (a 400), so a trickled body cannot hold a connection either.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tower_service::Service;

/// Why a connection was closed by the server rather than by its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimedOut {
    /// No complete request headers within the header timeout.
    Header,
    /// Kept alive with nothing asked for the idle timeout.
    Idle,
}

impl TimedOut {
    pub fn label(self) -> &'static str {
        match self {
            TimedOut::Header => "header",
            TimedOut::Idle => "idle",
        }
    }
}

/// How long a connection may wait for headers, and stay idle between requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionTimeouts {
    pub header: Duration,
    pub idle: Duration,
}

/// Marks "no value" in the millisecond fields of [`Activity`].
const NEVER: u64 = u64::MAX;

/// What a connection is doing, shared by its I/O, its requests and its watchdog. Times are
/// milliseconds since the accept, so every field is one atomic.
struct Activity {
    accepted: Instant,
    /// The last byte read or written, or the end of the last request.
    last_io_ms: AtomicU64,
    /// When the request headers now awaited began (the accept, or the next request's first
    /// byte); [`NEVER`] while idle between requests or while a request is in flight.
    head_started_ms: AtomicU64,
    in_flight: AtomicU32,
}

impl Activity {
    fn new() -> Self {
        Activity {
            accepted: Instant::now(),
            last_io_ms: AtomicU64::new(0),
            // A connection that sends nothing is waiting for its first headers.
            head_started_ms: AtomicU64::new(0),
            in_flight: AtomicU32::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.accepted.elapsed().as_millis()).unwrap_or(NEVER - 1)
    }

    fn bytes_read(&self) {
        let now = self.now_ms();
        self.last_io_ms.store(now, Ordering::Relaxed);
        if self.in_flight.load(Ordering::Relaxed) == 0 {
            // The first byte of a request after an idle spell starts its header clock.
            let _ = self.head_started_ms.compare_exchange(
                NEVER,
                now,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }

    fn bytes_written(&self) {
        self.last_io_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.head_started_ms.store(NEVER, Ordering::Relaxed);
        self.last_io_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    fn request_ended(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.last_io_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// The timeout that has run out now, or how long until the next one may.
    fn check(&self, timeouts: ConnectionTimeouts) -> Result<Duration, TimedOut> {
        let header_ms = millis(timeouts.header);
        let idle_ms = millis(timeouts.idle);
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return Ok(Duration::from_millis(header_ms.min(idle_ms)));
        }
        let now = self.now_ms();
        let head_started = self.head_started_ms.load(Ordering::Relaxed);
        let (since, limit, reason) = if head_started == NEVER {
            (
                self.last_io_ms.load(Ordering::Relaxed),
                idle_ms,
                TimedOut::Idle,
            )
        } else {
            (head_started, header_ms, TimedOut::Header)
        };
        let waited = now.saturating_sub(since);
        if waited >= limit {
            Err(reason)
        } else {
            Ok(Duration::from_millis(limit - waited))
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(NEVER - 1)
        .max(1)
}

/// Ends once a timeout has run out, with which one.
async fn watchdog(activity: &Activity, timeouts: ConnectionTimeouts) -> TimedOut {
    loop {
        match activity.check(timeouts) {
            Ok(wait) => tokio::time::sleep(wait).await,
            Err(reason) => return reason,
        }
    }
}

/// The stream, noting every byte that moves.
struct TrackedStream {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for TrackedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.bytes_read();
        }
        polled
    }
}

impl AsyncWrite for TrackedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, bytes);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.bytes_written();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.bytes_written();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Counts a request in flight while alive, so every way out of it (answer, client gone) ends it.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: &Arc<Activity>) -> Self {
        activity.request_started();
        InFlight(Arc::clone(activity))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_ended();
    }
}

/// A request's body, failing once it has not all arrived by its deadline.
struct TimedBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
}

impl TimedBody {
    fn new(inner: Incoming, timeout: Duration) -> Self {
        TimedBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            timeout,
        }
    }
}

impl Body for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|frame| frame.map_err(Into::into))),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(format!(
                    "the body did not all arrive within {:?}",
                    this.timeout
                )
                .into()))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// How a served connection ended.
pub enum Ended {
    /// The client closed it, or it failed (a reset, a malformed request).
    Closed,
    TimedOut(TimedOut),
    /// The server is stopping; it was asked to finish its request in flight.
    ShuttingDown,
}

/// Serves HTTP/1.1 on one connection until the client leaves, a timeout runs out or the server
/// stops (then the request in flight is finished first; the caller bounds that wait).
pub async fn serve(
    stream: TcpStream,
    remote: SocketAddr,
    router: Router,
    timeouts: ConnectionTimeouts,
    mut stopping: watch::Receiver<bool>,
) -> Ended {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(TrackedStream {
        stream,
        activity: Arc::clone(&activity),
    });
    let requests = Arc::clone(&activity);
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let in_flight = InFlight::new(&requests);
        let mut request = request.map(|body| TimedBody::new(body, timeouts.header));
        request.extensions_mut().insert(ConnectInfo(remote));
        let mut router = router.clone();
        async move {
            let response = router.call(request).await;
            drop(in_flight);
            Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
        }
    });
    // hyper's own header timeout would also close idle keep-alive connections at the header
    // timeout; the watchdog keeps the two apart, so hyper is given no timer.
    let connection = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(connection);
    if *stopping.borrow() {
        connection.as_mut().graceful_shutdown();
    }
    tokio::select! {
        _ = connection.as_mut() => Ended::Closed,
        reason = watchdog(&activity, timeouts) => {
            if reason == TimedOut::Idle {
                // Idle: a clean close (FIN) that keep-alive clients expect.
                connection.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(Duration::from_secs(1), connection.as_mut()).await;
            }
            Ended::TimedOut(reason)
        }
        () = async { let _ = stopping.wait_for(|stop| *stop).await; } => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.as_mut().await;
            Ended::ShuttingDown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUTS: ConnectionTimeouts = ConnectionTimeouts {
        header: Duration::from_millis(10_000),
        idle: Duration::from_millis(60_000),
    };

    #[test]
    fn a_new_connection_waits_on_the_header_timeout() {
        let activity = Activity::new();
        let wait = activity.check(TIMEOUTS).expect("not yet");
        assert!(wait <= TIMEOUTS.header, "{wait:?}");
    }

    #[test]
    fn after_a_request_the_idle_timeout_applies_and_a_request_in_flight_has_none() {
        let activity = Activity::new();
        activity.request_started();
        assert_eq!(
            activity.check(TIMEOUTS),
            Ok(TIMEOUTS.header),
            "in flight: only a re-check"
        );
        activity.request_ended();
        let wait = activity.check(TIMEOUTS).expect("idle, not timed out");
        assert!(wait > TIMEOUTS.header, "idle waits longer: {wait:?}");
        activity.bytes_read();
        let wait = activity.check(TIMEOUTS).expect("a new request's headers");
        assert!(wait <= TIMEOUTS.header, "{wait:?}");
    }

    #[test]
    fn timeouts_run_out() {
        let activity = Activity::new();
        let short = ConnectionTimeouts {
            header: Duration::from_millis(1),
            idle: Duration::from_millis(1),
        };
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(activity.check(short), Err(TimedOut::Header));
        activity.request_started();
        activity.request_ended();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(activity.check(short), Err(TimedOut::Idle));
    }
}
