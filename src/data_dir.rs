//! The data folder (the dashboard's log and the session records) is private: records carry
//! what a team did and the log what it targeted. Everything the process creates is made
//! private (umask 077), and what an earlier version left readable is made private too.

use std::path::Path;

/// Makes new files private and creates `data_dir` (0700); the log and the session records in
/// it become 0600, their folders 0700.
pub fn prepare(data_dir: &Path) -> Result<(), String> {
    #[cfg(unix)]
    // SAFETY: umask(2) only sets this process's file creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
    std::fs::create_dir_all(data_dir).map_err(|err| {
        format!(
            "cannot create the data folder {}: {err}",
            data_dir.display()
        )
    })?;
    make_private(data_dir, 0o700);
    make_private(&data_dir.join("gameday.log"), 0o600);
    let sessions = data_dir.join("sessions");
    make_private(&sessions, 0o700);
    if let Ok(entries) = std::fs::read_dir(&sessions) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|kind| kind.is_file()) {
                make_private(&entry.path(), 0o600);
            }
        }
    }
    Ok(())
}

/// Sets `mode` on `path` if it exists; a file we cannot change (not ours) is left as it is.
fn make_private(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).map_or(0, |meta| meta.permissions().mode() & 0o777)
    }

    #[test]
    fn the_folder_its_log_and_its_records_become_private() {
        let temp = tempfile::tempdir().expect("temp");
        let data = temp.path().join("data");
        std::fs::create_dir_all(data.join("sessions")).expect("dirs");
        std::fs::write(data.join("gameday.log"), "{}\n").expect("log");
        std::fs::write(data.join("sessions").join("a.json"), "{}").expect("record");
        for path in [&data, &data.join("sessions")] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        prepare(&data).expect("prepare");
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("sessions")), 0o700);
        assert_eq!(mode(&data.join("gameday.log")), 0o600);
        assert_eq!(mode(&data.join("sessions").join("a.json")), 0o600);
        // New files are private too.
        std::fs::write(data.join("new.json"), "{}").expect("new");
        assert_eq!(mode(&data.join("new.json")), 0o600);
    }
}
