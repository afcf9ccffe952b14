//! The embedded sandbox's database folder: private to the user, named after the process that
//! owns it, removed when the dashboard ends, and, when a hard kill left one behind, removed at
//! the next start once its owner is gone.

use std::path::Path;

const PREFIX: &str = "gameday-embedded-";

/// A new folder `gameday-embedded-PID-XXXXXX` in the system's temporary folder, mode 0700.
pub fn create() -> Result<tempfile::TempDir, String> {
    remove_stale(&std::env::temp_dir());
    let mut builder = tempfile::Builder::new();
    let prefix = format!("{PREFIX}{}-", std::process::id());
    builder.prefix(&prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o700));
    }
    builder
        .tempdir()
        .map_err(|err| format!("cannot create the sandbox's database folder: {err}"))
}

/// Removes the folders in `temp` whose owning process no longer runs. A folder whose owner
/// cannot be told, or that is not ours to remove, is left as it is.
pub fn remove_stale(temp: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(owner_pid) else {
            continue;
        };
        let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
        if is_dir && !process_runs(pid) && std::fs::remove_dir_all(entry.path()).is_ok() {
            tracing::info!(event = "stale_folder_removed", folder = %entry.path().display(), "removed a sandbox folder left by an earlier hard kill");
            removed += 1;
        }
    }
    removed
}

/// The PID in a name `gameday-embedded-PID-XXXXXX`.
fn owner_pid(name: &str) -> Option<u32> {
    let (pid, _) = name.strip_prefix(PREFIX)?.split_once('-')?;
    pid.parse().ok()
}

fn process_runs(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = i32::try_from(pid) else {
            return false;
        };
        // SAFETY: kill(2) with signal 0 only checks that the process exists; nothing is sent.
        let result = unsafe { libc::kill(pid, 0) };
        // EPERM: it runs, under another user.
        result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_folders_of_gone_processes_are_removed() {
        let temp = tempfile::tempdir().expect("temp");
        let gone = temp.path().join(format!("{PREFIX}999999999-abc"));
        let mine = temp
            .path()
            .join(format!("{PREFIX}{}-abc", std::process::id()));
        let unknown = temp.path().join(format!("{PREFIX}abc"));
        for dir in [&gone, &mine, &unknown] {
            std::fs::create_dir(dir).expect("dir");
        }
        assert_eq!(remove_stale(temp.path()), 1);
        assert!(!gone.exists() && mine.exists() && unknown.exists());
    }

    #[test]
    fn the_folder_is_private_and_named_after_its_owner() {
        let dir = create().expect("dir");
        let name = dir
            .path()
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name");
        assert_eq!(owner_pid(name), Some(std::process::id()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path())
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }
}
