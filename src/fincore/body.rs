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
