//! End to end in a real terminal (tmux): `gameday` on its embedded default shows every panel
//! with live numbers, survives resizing, and quits cleanly with `q`, restoring the terminal and
//! stopping its sandbox.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

/// A private tmux server (its own socket), killed when dropped.
struct Tmux {
    socket: String,
    _home: tempfile::TempDir,
}

impl Tmux {
    fn start(command: &str, width: u16, height: u16) -> Tmux {
        let home = tempfile::tempdir().expect("temporary home");
        let socket = format!(
            "gameday-test-{}-{}",
            std::process::id(),
            support::free_port()
        );
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
            .arg(command)
            .arg(";")
            .args(["set-option", "-t", "gd", "remain-on-exit", "on"])
            .status()
            .expect("tmux runs (scripts/test.sh installs it)");
        assert!(status.success(), "tmux did not start");
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "gd"])
    }

    fn keys(&self, keys: &str) {
        self.run(&["send-keys", "-t", "gd", keys]);
    }

    fn resize(&self, width: u16, height: u16) {
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

    fn pane(&self, format: &str) -> String {
        self.run(&["display-message", "-p", "-t", "gd", format])
            .trim()
            .to_string()
    }

    /// Waits until `check` accepts the screen; the screen it accepted, or a panic with the last
    /// screen seen.
    fn wait_for(&self, what: &str, timeout: Duration, check: impl Fn(&str) -> bool) -> String {
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

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

/// A figure after a label on the screen, e.g. `req/s 20`.
fn figure_after(screen: &str, label: &str) -> Option<f64> {
    screen.lines().find_map(|line| {
        let rest = &line[line.find(label)? + label.len()..];
        rest.split_whitespace().next()?.parse().ok()
    })
}

#[test]
fn the_embedded_default_shows_live_panels_survives_resizing_and_quits_cleanly() {
    let started = Instant::now();
    let tmux = Tmux::start(support::GAMEDAY, 200, 50);
    let screen = tmux.wait_for(
        "every panel with live numbers",
        Duration::from_secs(20),
        |screen| {
            [
                "Latency p50/p95/p99",
                "Traffic",
                "Memory",
                "Transactions & DB pool",
                "Alerts",
                "Injected failures",
                "Logs",
            ]
            .iter()
            .all(|title| screen.contains(title))
                && figure_after(screen, "req/s ").is_some_and(|rps| rps > 0.0)
                && figure_after(screen, "p95 ").is_some()
                && screen.contains("MiB")
        },
    );
    eprintln!(
        "live numbers after {:.1} s:\n{screen}",
        started.elapsed().as_secs_f64()
    );
    assert!(screen.contains("embedded sandbox http://127.0.0.1:"));
    let sandbox_pid: Option<u32> = screen
        .split("sandbox pid ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|pid| pid.parse().ok());

    tmux.resize(80, 24);
    tmux.wait_for("the 80x24 layout", Duration::from_secs(5), |screen| {
        screen.contains("Latency") && screen.contains("Alerts") && screen.lines().count() <= 24
    });
    tmux.resize(50, 15);
    tmux.wait_for("the too-small message", Duration::from_secs(5), |screen| {
        screen.contains("too small")
    });
    tmux.resize(120, 40);
    tmux.wait_for("the layout back", Duration::from_secs(5), |screen| {
        screen.contains("Injected failures") && screen.contains("Logs")
    });

    // Help, zoom and theme keys act; then q quits.
    tmux.keys("?");
    tmux.wait_for("the help", Duration::from_secs(5), |screen| {
        screen.contains("Keys")
    });
    tmux.keys("Escape");
    tmux.keys("t");
    tmux.wait_for("the next theme", Duration::from_secs(5), |screen| {
        screen.contains("theme: light")
    });
    tmux.keys("q");
    let deadline = Instant::now() + Duration::from_secs(10);
    while tmux.pane("#{pane_dead}") != "1" {
        assert!(Instant::now() < deadline, "gameday did not quit on q");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(tmux.pane("#{pane_dead_status}"), "0", "exit status");
    assert_eq!(
        tmux.pane("#{alternate_on}"),
        "0",
        "the alternate screen was left"
    );
    if let Some(pid) = sandbox_pid {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "the sandbox child {pid} outlived the dashboard"
        );
    }
}
