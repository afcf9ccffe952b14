//! Where the sandbox's control token comes from: `--control-token`, `--control-token-file`
//! (so the token is not shown by `ps`), or `GAMEDAY_CONTROL_TOKEN`, in that order; the two
//! flags exclude each other (clap says so). A token is visible ASCII without spaces, as it
//! must travel in an `Authorization` header.

use std::io::Read;
use std::path::Path;

/// The largest token file read: a token is a line, not a document.
const MAX_FILE_BYTES: u64 = 4096;

pub const ENV_NAME: &str = "GAMEDAY_CONTROL_TOKEN";

/// The token in force, if any; a flag wins over the environment.
pub fn resolve(
    flag: Option<String>,
    file: Option<&Path>,
    env: Option<String>,
) -> Result<Option<String>, String> {
    if let Some(token) = flag {
        return check(token, "--control-token").map(Some);
    }
    if let Some(path) = file {
        let what = format!("--control-token-file {}", path.display());
        return check(
            read_file(path).map_err(|err| format!("{what}: {err}"))?,
            &what,
        )
        .map(Some);
    }
    env.map(|token| check(token, ENV_NAME)).transpose()
}

fn check(token: String, what: &str) -> Result<String, String> {
    if token.is_empty() {
        return Err(format!("{what}: expected a non-empty token"));
    }
    if !token.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(format!(
            "{what}: the token must be visible ASCII characters without spaces ({} bytes given)",
            token.len()
        ));
    }
    Ok(token)
}

/// The file's text, trimmed; only a regular file of at most [`MAX_FILE_BYTES`] is read (a FIFO
/// would hang the start).
fn read_file(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|err| format!("cannot read it: {err}"))?;
    let metadata = file
        .metadata()
        .map_err(|err| format!("cannot read it: {err}"))?;
    if !metadata.is_file() {
        return Err("not a regular file".to_string());
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{} bytes: a token file holds one token of at most {MAX_FILE_BYTES} bytes",
            metadata.len()
        ));
    }
    let mut text = String::new();
    file.take(MAX_FILE_BYTES)
        .read_to_string(&mut text)
        .map_err(|err| format!("cannot read it as text: {err}"))?;
    let token = text.trim();
    if token.is_empty() {
        return Err("the file is empty: expected the token on one line".to_string());
    }
    Ok(token.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_wins_over_the_environment_and_empty_tokens_are_refused() {
        assert_eq!(
            resolve(Some("a".into()), None, Some("b".into())),
            Ok(Some("a".into()))
        );
        assert_eq!(resolve(None, None, Some("b".into())), Ok(Some("b".into())));
        assert_eq!(resolve(None, None, None), Ok(None));
        assert!(resolve(Some(String::new()), None, None).is_err());
        let err = resolve(None, None, Some(String::new())).expect_err("empty env");
        assert!(err.contains(ENV_NAME), "{err}");
        assert!(resolve(Some("has space".into()), None, None).is_err());
    }

    #[test]
    fn a_token_file_is_read_trimmed_and_its_faults_named() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("token");
        std::fs::write(&path, "  s3cret\n").expect("written");
        assert_eq!(
            resolve(None, Some(&path), Some("env".into())),
            Ok(Some("s3cret".into()))
        );
        std::fs::write(&path, "\n \n").expect("written");
        let err = resolve(None, Some(&path), None).expect_err("empty");
        assert!(
            err.contains("--control-token-file") && err.contains("empty"),
            "{err}"
        );
        let missing = dir.path().join("missing");
        let err = resolve(None, Some(&missing), None).expect_err("missing");
        assert!(
            err.contains("missing") && err.contains("cannot read"),
            "{err}"
        );
        let err = resolve(None, Some(dir.path()), None).expect_err("a folder");
        assert!(
            err.contains("cannot read") || err.contains("not a regular file"),
            "{err}"
        );
    }
}
