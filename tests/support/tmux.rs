//! A real terminal for end-to-end tests: a private tmux server running one command.

use std::process::Command;
use std::time::{Duration, Instant};

/// A private tmux server (its own socket), killed when dropped.
pub struct Tmux {
    socket: String,
    _home: tempfile::TempDir,
}

impl Tmux {
    pub fn start(command: &str, width: u16, height: u16) -> Tmux {
        let home = tempfile::tempdir().expect("temporary home");
        let socket = format!("gameday-test-{}-{}", std::process::id(), super::free_port());
        let tmux = Tmux {
            socket,
            _home: home,
        };
        let home = tmux._home.path().display().to_string();
        let status = Command::new("tmux")
            .args(["-L", &tmux.socket, "-f", "/dev/null", "new-session", "-d"])
            .args([
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
                "-s",
                "gd",
            ])
            .args(["-e", &format!("HOME={home}")])
            .args(["-e", &format!("XDG_CONFIG_HOME={home}/config")])
            .args(["-e", &format!("GAMEDAY_DATA_DIR={home}/data")])
            .args(["-e", "LANG=en_US.UTF-8", "-e", "TERM=xterm-256color"])
            // tmux does not always learn a dead pane's status: the shell writes it down.
            .arg(format!("{command}; echo $? > {home}/exit-status"))
            .arg(";")
            .args(["set-option", "-t", "gd", "remain-on-exit", "on"])
            .status()
            .expect("tmux runs (scripts/test.sh installs it)");
        assert!(status.success(), "tmux did not start");
        tmux
    }

    pub fn run(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The terminal's home folder; gameday's data folder is `data` in it.
    pub fn home(&self) -> &std::path::Path {
        self._home.path()
    }

    /// The PID of the command itself (the child of the pane's shell).
    pub fn command_pid(&self) -> Option<u32> {
        let shell = self.pane("#{pane_pid}");
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .unwrap_or_default();
        children.split_whitespace().next()?.parse().ok()
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "gd"])
    }

    pub fn keys(&self, keys: &str) {
        self.run(&["send-keys", "-t", "gd", keys]);
    }

    pub fn resize(&self, width: u16, height: u16) {
        self.run(&[
            "resize-window",
            "-t",
            "gd",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
        ]);
    }

    pub fn pane(&self, format: &str) -> String {
        self.run(&["display-message", "-p", "-t", "gd", format])
            .trim()
            .to_string()
    }

    /// Waits until `check` accepts the screen; the screen it accepted, or a panic with the last
    /// screen seen.
    pub fn wait_for(&self, what: &str, timeout: Duration, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if check(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Tmux {
    /// Waits until the command has exited; its exit status.
    /// A drill opens on its briefing: read it, then Enter begins the baseline.
    pub fn begin_drill(&self) {
        self.wait_for("the briefing", Duration::from_secs(30), |screen| {
            screen.contains("Enter: begin the baseline")
        });
        self.keys("Enter");
    }

    pub fn wait_exit(&self, timeout: Duration) -> String {
        let file = self._home.path().join("exit-status");
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(status) = std::fs::read_to_string(&file) {
                if status.ends_with('\n') {
                    return status.trim().to_string();
                }
            }
            assert!(
                Instant::now() < deadline,
                "the command did not exit:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}
