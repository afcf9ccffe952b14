//! End to end in a real terminal (tmux): `gameday` on its embedded default shows every panel
//! with live numbers, survives resizing, and quits cleanly with `q`, restoring the terminal and
//! stopping its sandbox.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::time::{Duration, Instant};

use support::tmux::Tmux;

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
    // Escape and t sent together can arrive as one Alt-t: wait for the help to close first.
    tmux.wait_for("the help closed", Duration::from_secs(5), |screen| {
        !screen.contains("any key closes this help")
    });
    tmux.keys("t");
    tmux.wait_for("the next theme", Duration::from_secs(5), |screen| {
        screen.contains("theme: light")
    });
    tmux.keys("q");
    assert_eq!(tmux.wait_exit(Duration::from_secs(10)), "0", "exit status");
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

#[test]
fn sigterm_restores_the_terminal_and_stops_the_sandbox() {
    let tmux = Tmux::start(support::GAMEDAY, 120, 40);
    tmux.wait_for("the dashboard", Duration::from_secs(20), |screen| {
        screen.contains("process ok") && screen.contains("Logs")
    });
    // The pane runs `sh -c 'gameday; echo $?'`: gameday is the shell's child, and the
    // sandbox is gameday's (spawned from any of its threads).
    let shell = tmux.pane("#{pane_pid}");
    let gameday = children(&shell).into_iter().next().expect("gameday runs");
    let sandbox_pid = children(&gameday)
        .into_iter()
        .next()
        .expect("the sandbox runs");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &gameday])
        .status()
        .expect("kill runs");
    assert!(status.success());
    assert_eq!(tmux.wait_exit(Duration::from_secs(10)), "0", "exit status");
    assert_eq!(
        tmux.pane("#{alternate_on}"),
        "0",
        "the alternate screen was left"
    );
    let state = std::fs::read_to_string(format!("/proc/{sandbox_pid}/status")).unwrap_or_default();
    assert!(
        state.is_empty(),
        "the sandbox child outlived the dashboard: {state}"
    );
}

/// The PIDs a process has started, from every one of its threads.
fn children(pid: &str) -> Vec<String> {
    let mut found = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        found.extend(list.split_whitespace().map(str::to_string));
    }
    found
}
