//! Secrets the dashboard holds — the control token and credentials written into a URL — kept
//! out of the screen (which a projector shows), the log and every message.

use std::fmt;

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

/// The longest token file read: a token is a line, not a document.
const MAX_TOKEN_FILE_BYTES: u64 = 4096;

/// The token in `path`: its first line, trimmed. A file that is not a regular file, is too
/// long, or holds no token is refused with its name.
pub fn read_token_file(path: &std::path::Path) -> Result<Secret, String> {
    let shown = path.display();
    let metadata =
        std::fs::metadata(path).map_err(|err| format!("control token file {shown}: {err}"))?;
    if !metadata.is_file() || metadata.len() > MAX_TOKEN_FILE_BYTES {
        return Err(format!(
            "control token file {shown}: expected a regular file of at most \
             {MAX_TOKEN_FILE_BYTES} bytes holding the token"
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("control token file {shown}: {err}"))?;
    let token = text.lines().next().unwrap_or_default().trim();
    if token.is_empty() || !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err(format!(
            "control token file {shown}: expected the token on its first line, printable \
             ASCII without spaces"
        ));
    }
    Ok(Secret::new(token.to_string()))
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
