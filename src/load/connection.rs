//! One kept-alive HTTP/1.1 connection driven through hyper directly, for the closed model. A
//! general client's per-request work (pool lookups, URL and header handling) costs CPU that a
//! load generator sharing the cores with the server takes from the server.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::mix::Endpoint;
use super::retry::TRANSPORT_ERROR;

/// Where a plain `http://` target is: the address to connect to, the `Host` header and the
/// path before the endpoints'. None for anything else (https): that goes through reqwest.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PlainTarget {
    address: String,
    host: HeaderValue,
    prefix: String,
}

impl PlainTarget {
    pub fn parse(target: &str) -> Option<PlainTarget> {
        let url = reqwest::Url::parse(target).ok()?;
        if url.scheme() != "http" || url.query().is_some() {
            return None;
        }
        let host = url.host_str()?;
        let port = url.port_or_known_default()?;
        // An IPv6 host comes with its brackets, as an address needs it.
        let address = format!("{host}:{port}");
        let host = HeaderValue::from_str(&match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        })
        .ok()?;
        Some(PlainTarget {
            address,
            host,
            prefix: url.path().trim_end_matches('/').to_string(),
        })
    }
}

pub(super) struct Connection {
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    pub async fn open(target: &PlainTarget, timeout: Duration) -> Option<Connection> {
        let connect = async {
            let stream = TcpStream::connect(&target.address).await.ok()?;
            let _ = stream.set_nodelay(true);
            let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .ok()?;
            // The connection's I/O runs beside the requests; it ends when `sender` is dropped.
            tokio::spawn(async move {
                let _ = connection.await;
            });
            Some(Connection { sender })
        };
        tokio::time::timeout(timeout, connect).await.ok().flatten()
    }

    /// Sends one request and reads the whole answer: the status, or 0 (and whether it timed
    /// out) when there was none. After a 0 the connection must not be used again.
    pub async fn send(
        &mut self,
        target: &PlainTarget,
        endpoint: Endpoint,
        timeout: Duration,
    ) -> (u16, bool) {
        let mut request = Request::builder()
            .uri(format!("{}{}", target.prefix, endpoint.path()))
            .header(HOST, target.host.clone());
        let body = match endpoint {
            Endpoint::Transfer => {
                request = request
                    .method(Method::POST)
                    .header(CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(endpoint.transfer_body()))
            }
            Endpoint::Payment => {
                request = request
                    .method(Method::POST)
                    .header(CONTENT_TYPE, "application/json")
                    .header(
                        "Idempotency-Key",
                        endpoint.idempotency_key().unwrap_or_default(),
                    );
                Full::new(Bytes::from(endpoint.transfer_body()))
            }
            Endpoint::Balance | Endpoint::Health => Full::new(Bytes::new()),
        };
        let Ok(request) = request.body(body) else {
            return (TRANSPORT_ERROR, false);
        };
        let exchange = async {
            self.sender.ready().await.ok()?;
            let response = self.sender.send_request(request).await.ok()?;
            let status = response.status().as_u16();
            response.into_body().collect().await.ok()?;
            Some(status)
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(Some(status)) => (status, false),
            Ok(None) => (TRANSPORT_ERROR, false),
            Err(_) => (TRANSPORT_ERROR, true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_targets_split_into_address_host_and_prefix() {
        let target = PlainTarget::parse("http://127.0.0.1:5000").expect("plain");
        assert_eq!(target.address, "127.0.0.1:5000");
        assert_eq!(target.host, "127.0.0.1:5000");
        assert_eq!(target.prefix, "");
        let prefixed = PlainTarget::parse("http://[::1]:8080/fincore/").expect("plain");
        assert_eq!(prefixed.address, "[::1]:8080");
        assert_eq!(prefixed.prefix, "/fincore");
        let default_port = PlainTarget::parse("http://localhost").expect("plain");
        assert_eq!(default_port.address, "localhost:80");
        assert_eq!(default_port.host, "localhost");
        assert_eq!(PlainTarget::parse("https://localhost:8443"), None);
    }
}
