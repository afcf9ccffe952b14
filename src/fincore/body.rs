//! Reading an answer's body with a bound on its size and on its time, so that no target can
//! make the dashboard hold more than a cap per request or wait on a body that never ends.
//! A body over its cap is refused as a whole ("answer over 16 MiB, not read"): part of an
//! exposition or of a JSON document is not a reading.

use std::time::Duration;

use super::describe_error;

/// How much of an answer a request may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyCap {
    bytes: usize,
}

impl BodyCap {
    /// The API's JSON answers (the failure state, discovery, health, a change's answer) are
    /// under a few KiB; a mebibyte leaves room for any service's error page.
    pub const JSON: BodyCap = BodyCap { bytes: 1 << 20 };
    /// Prometheus's answers: 15 minutes of one series at 2 s steps is ~20 KiB, but the rule
    /// listing of a shared Prometheus (hundreds of rules with annotations) can pass 1 MiB.
    pub const PROMETHEUS: BodyCap = BodyCap { bytes: 4 << 20 };
    /// A `/metrics` exposition: the workshop's is ~20 KiB and a busy exporter's a few MiB;
    /// 16 MiB leaves room for those and parses in a fraction of a second, while two scrapes
    /// at once still keep the dashboard well under 100 MiB.
    pub const METRICS: BodyCap = BodyCap { bytes: 16 << 20 };

    /// A cap of `bytes` (tests use small ones).
    pub const fn of(bytes: usize) -> BodyCap {
        BodyCap { bytes }
    }

    pub fn bytes(self) -> usize {
        self.bytes
    }

    /// What is said when an answer is bigger than the cap.
    pub fn refusal(self) -> String {
        format!("answer over {}, not read", size_words(self.bytes))
    }
}

/// The longest a body may take to arrive once the headers are in. Clients carry a request
/// timeout (5 s) that covers the body too; this bounds one built without.
pub const BODY_DEADLINE: Duration = Duration::from_secs(10);

/// Reads the body of `response` whole, refusing it once it passes `cap` (before reading
/// anything when its `Content-Length` says so) or when it is not finished within
/// [`BODY_DEADLINE`]. Text that is not UTF-8 is read lossily, as `Response::text` does.
pub async fn read_capped(mut response: reqwest::Response, cap: BodyCap) -> Result<String, String> {
    if response
        .content_length()
        .is_some_and(|length| length > cap.bytes as u64)
    {
        return Err(cap.refusal());
    }
    let read = async {
        let mut body: Vec<u8> = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|err| body_error(&err))? {
            if body.len() + chunk.len() > cap.bytes {
                return Err(cap.refusal());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    let body = tokio::time::timeout(BODY_DEADLINE, read)
        .await
        .map_err(|_| unfinished(BODY_DEADLINE))??;
    Ok(match String::from_utf8(body) {
        Ok(text) => text,
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    })
}

fn body_error(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        unfinished(super::REQUEST_TIMEOUT)
    } else {
        describe_error(err)
    }
}

fn unfinished(after: Duration) -> String {
    format!("answer not finished in {} s, not read", after.as_secs())
}

/// `16 MiB`, `512 KiB`, `300 bytes`.
fn size_words(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes % (1 << 10) == 0 {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Serves one request on loopback with `head` and then `body_bytes` bytes of body, written
    /// in 64 KiB blocks until done or the reader leaves; the URL.
    async fn serve_once(head: String, body_bytes: usize) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/metrics", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut request = [0u8; 2048];
            let _ = stream.read(&mut request).await;
            let _ = stream.write_all(head.as_bytes()).await;
            let block = vec![b'a'; 65536];
            let mut sent = 0;
            while sent < body_bytes {
                let part = block.len().min(body_bytes - sent);
                if stream.write_all(&block[..part]).await.is_err() {
                    return;
                }
                sent += part;
            }
        });
        url
    }

    async fn read(url: &str, cap: BodyCap) -> Result<String, String> {
        let client = crate::fincore::tls::client_builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        let response = client.get(url).send().await.expect("headers");
        read_capped(response, cap).await
    }

    #[tokio::test]
    async fn a_body_over_its_cap_is_refused_whether_its_length_is_said_or_not() {
        let cap = BodyCap::of(256 << 10);
        let said = "HTTP/1.1 200 OK\r\nContent-Length: 50000000\r\nConnection: close\r\n\r\n";
        let url = serve_once(said.to_string(), 50_000_000).await;
        assert_eq!(read(&url, cap).await, Err(cap.refusal()));
        // No length: read until the cap is passed, then dropped.
        let unsaid = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
        let url = serve_once(unsaid.to_string(), usize::MAX).await;
        assert_eq!(read(&url, cap).await, Err(cap.refusal()));
        // Within the cap, the whole body.
        let url = serve_once(unsaid.to_string(), 100_000).await;
        assert_eq!(read(&url, cap).await.map(|body| body.len()), Ok(100_000));
    }

    #[test]
    fn refusals_say_the_cap_in_words() {
        assert_eq!(BodyCap::METRICS.refusal(), "answer over 16 MiB, not read");
        assert_eq!(BodyCap::JSON.refusal(), "answer over 1 MiB, not read");
        assert_eq!(BodyCap::of(2048).refusal(), "answer over 2 KiB, not read");
        assert_eq!(
            BodyCap::of(300).refusal(),
            "answer over 300 bytes, not read"
        );
    }
}
