//! Secrets the dashboard holds — the control token and credentials written into a URL — kept
//! out of the screen (which a projector shows), the log and every message.

use std::fmt;
use std::io::Read;
use std::path::Path;

/// A value that is used but never shown: its `Debug` prints a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A fresh random token (128 bits, hex), for a sandbox only this process may drive.
    pub fn random() -> Secret {
        let bits: u128 = rand::random();
        Secret(format!("{bits:032x}"))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The longest control token accepted: a token is a password, not a file.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// The largest token file read: a token is a line, not a document.
const MAX_TOKEN_FILE_BYTES: u64 = MAX_TOKEN_BYTES as u64;

/// The one rule for a control token, wherever it comes from: 1 to [`MAX_TOKEN_BYTES`] visible
/// ASCII characters, no spaces, as it travels in an `Authorization` header.
pub fn is_acceptable_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= MAX_TOKEN_BYTES
        && token.bytes().all(|byte| byte.is_ascii_graphic())
}

/// The token in `path`, checked, as a secret; errors name the file.
pub fn read_token_file(path: &Path) -> Result<Secret, String> {
    let what = format!("control token file {}", path.display());
    let text = read_token_text(path).map_err(|err| format!("{what}: {err}"))?;
    check_token(text, &what).map(Secret::new)
}

/// A token as it must travel in an `Authorization` header: visible ASCII, no spaces. A
/// refusal names `what` gave it, never the token.
pub fn check_token(token: String, what: &str) -> Result<String, String> {
    if token.is_empty() {
        return Err(format!("{what}: expected a non-empty token"));
    }
    if !is_acceptable_token(&token) {
        return Err(format!(
            "{what}: the token must be 1 to {MAX_TOKEN_BYTES} visible ASCII characters without \
             spaces ({} bytes given)",
            token.len()
        ));
    }
    Ok(token)
}

/// The file's text, trimmed; only a regular file of at most [`MAX_TOKEN_FILE_BYTES`] is read
/// (a FIFO would hang the start).
pub fn read_token_text(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|err| format!("cannot read it: {err}"))?;
    let metadata = file
        .metadata()
        .map_err(|err| format!("cannot read it: {err}"))?;
    if !metadata.is_file() {
        return Err("not a regular file".to_string());
    }
    if metadata.len() > MAX_TOKEN_FILE_BYTES {
        return Err(format!(
            "{} bytes: a token file holds one token of at most {MAX_TOKEN_FILE_BYTES} bytes",
            metadata.len()
        ));
    }
    let mut text = String::new();
    file.take(MAX_TOKEN_FILE_BYTES)
        .read_to_string(&mut text)
        .map_err(|err| format!("cannot read it as text: {err}"))?;
    let token = text.trim();
    if token.is_empty() {
        return Err("the file is empty: expected the token on one line".to_string());
    }
    Ok(token.to_string())
}

/// `url` without the user information of its authority (`http://user:pass@host` →
/// `http://***@host`), for the header, the log and messages; unchanged without one.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{path}"),
        None => url.to_string(),
    }
}

/// `text` with the user information of every URL in it redacted, for messages that quote a
/// URL among other words (an error from a library, say).
pub fn redact_urls_in(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            if word.contains("://") && word.contains('@') {
                // A URL may sit inside brackets or quotes: redact from its scheme on.
                let start = word
                    .find("http://")
                    .or_else(|| word.find("https://"))
                    .unwrap_or(0);
                let (before, url) = word.split_at(start);
                format!("{before}{}", redact_url(url))
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_information_is_never_shown() {
        assert_eq!(
            redact_url("http://user:pass@host:5000/api"),
            "http://***@host:5000/api"
        );
        assert_eq!(redact_url("https://token@host"), "https://***@host");
        assert_eq!(redact_url("http://host:5000"), "http://host:5000");
        // An @ in the path is not user information.
        assert_eq!(redact_url("http://host/a@b"), "http://host/a@b");
        assert_eq!(
            redact_urls_in("error sending request for url (http://u:p@h/x): refused"),
            "error sending request for url (http://***@h/x): refused"
        );
    }

    #[test]
    fn a_secret_debugs_as_a_placeholder() {
        let secret = Secret::new("hunter2".to_string());
        assert_eq!(format!("{secret:?}"), "Secret(…)");
        assert_eq!(Secret::random().expose().len(), 32);
        assert_ne!(Secret::random(), Secret::random());
    }
}
