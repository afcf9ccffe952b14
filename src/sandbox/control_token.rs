//! Where the sandbox's control token comes from: `--control-token`, `--control-token-file`
//! (so the token is not shown by `ps`), or `GAMEDAY_CONTROL_TOKEN`, in that order; the two
//! flags exclude each other (clap says so). A token is visible ASCII without spaces, as it
//! must travel in an `Authorization` header.

use std::path::Path;

use crate::secret::{check_token as check, read_token_text as read_file};

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
