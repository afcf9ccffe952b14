//! The dashboard on every way in and out, against the real binary in a real terminal (tmux):
//! the control token end to end (flag, file, variable; the embedded sandbox untouched by the
//! variable), hangup and SIGQUIT leaving a sane terminal and no temporary folder, a busy
//! sandbox port, credentials kept off the screen and out of the log, the operator's log, and
//! private data files.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::tmux::Tmux;
use support::{Api, GAMEDAY, Sandbox};

const WAIT: Duration = Duration::from_secs(20);
const TOKEN: &str = "facilitator-only-7f3a";

fn dashboard(args: &str) -> Tmux {
    let tmux = Tmux::start(
        &format!("{GAMEDAY} --load off --poll-interval 500ms {args}"),
        200,
        50,
    );
    tmux.wait_for("the API source up", WAIT, |screen| {
        screen.contains("api ok")
    });
    tmux
}

fn log_of(tmux: &Tmux) -> String {
    std::fs::read_to_string(tmux.home().join("data/gameday.log")).unwrap_or_default()
}

/// `l` injects and the answer is shown: the token got through.
fn inject_latency_and_see(tmux: &Tmux, answer: &str) -> String {
    tmux.keys("l");
    tmux.wait_for(answer, WAIT, |screen| screen.contains(answer))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_token_reaches_the_target_from_a_flag_a_file_or_the_environment() {
    let sandbox = Sandbox::start(&["--control-token", TOKEN]);
    let api = Api::new(&sandbox.url);

    // Without it: the refusal says what is missing, and nothing changes.
    let tmux = dashboard(&format!("--api {}", sandbox.url));
    let screen = inject_latency_and_see(&tmux, "last: 401");
    assert!(screen.contains("wants a control token"), "{screen}");
    assert_eq!(
        api.get("/api/failures").await.1["current_config"]["latency_ms"],
        0
    );
    drop(tmux);

    let file = tempfile::NamedTempFile::new().expect("token file");
    std::fs::write(file.path(), format!("{TOKEN}\n")).expect("write token");
    let ways = [
        (String::new(), format!("--control-token {TOKEN}")),
        (
            String::new(),
            format!("--control-token-file {}", file.path().display()),
        ),
        (format!("GAMEDAY_CONTROL_TOKEN={TOKEN}"), String::new()),
    ];
    for (env, way) in ways {
        let tmux = Tmux::start(
            &format!(
                "{env} {GAMEDAY} --load off --poll-interval 500ms --api {} {way}",
                sandbox.url
            ),
            200,
            50,
        );
        tmux.wait_for("the API source up", WAIT, |s| s.contains("api ok"));
        let way = format!("{env}{way}");
        inject_latency_and_see(&tmux, "last: 200");
        assert_eq!(
            api.post_with_token("/api/reset", "", TOKEN).await.0,
            200,
            "{way}"
        );
        // The token is on no screen and in no log line.
        assert!(!tmux.screen().contains(TOKEN), "{way}");
        assert!(!log_of(&tmux).contains(TOKEN), "{way}");
    }

    // A wrong one is said to be refused.
    let tmux = dashboard(&format!(
        "--api {} --control-token wrong-token",
        sandbox.url
    ));
    let screen = inject_latency_and_see(&tmux, "last: 401");
    assert!(screen.contains("refused our control token"), "{screen}");
}

/// The embedded sandbox takes changes only from its own dashboard: a token in the environment
/// meant for another target neither locks the dashboard out nor opens the sandbox to others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_sandbox_has_its_own_token_whatever_the_environment_says() {
    let tmux = Tmux::start(
        &format!("GAMEDAY_CONTROL_TOKEN={TOKEN} {GAMEDAY} --load off --poll-interval 500ms"),
        200,
        50,
    );
    let screen = tmux.wait_for("the API source up", WAIT, |s| s.contains("api ok"));
    let url = screen
        .split_whitespace()
        .find(|word| word.starts_with("http://127.0.0.1:"))
        .expect("the sandbox's address in the header")
        .to_string();
    inject_latency_and_see(&tmux, "last: 200");
    let api = Api::new(&url);
    assert_eq!(
        api.get("/api/failures").await.1["current_config"]["latency_ms"],
        2000
    );
    // Nobody else changes it: neither without a token nor with the one in the environment.
    assert_eq!(api.post("/api/reset", "").await.0, 401);
    assert_eq!(api.post_with_token("/api/reset", "", TOKEN).await.0, 401);
    assert_eq!(
        api.get("/api/failures").await.1["current_config"]["latency_ms"],
        2000
    );
    tmux.keys("q");
    assert_eq!(tmux.wait_exit(WAIT), "0");
}

/// The PID of the dashboard started under `sh` in the pane, and the pane's temporary folder.
fn dashboard_pid(tmux: &Tmux) -> u32 {
    let shell = tmux.pane("#{pane_pid}");
    let children =
        std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap_or_default();
    children
        .split_whitespace()
        .next()
        .and_then(|pid| pid.parse().ok())
        .expect("the dashboard runs under the pane's shell")
}

fn wait_gone(pid: u32) {
    let path = format!("/proc/{pid}");
    for _ in 0..100 {
        if !Path::new(&path).exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("process {pid} did not end");
}

fn embedded_folders(temp: &Path) -> Vec<String> {
    std::fs::read_dir(temp)
        .expect("temp folder")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("gameday-embedded-"))
        .collect()
}

/// Closing the terminal (a real hangup: the pane's session is killed) ends the dashboard
/// cleanly: no abort, no panic message, no temporary folder left; a folder an earlier hard
/// kill left behind is removed at start.
#[test]
fn a_hangup_ends_the_dashboard_cleanly_and_leaves_no_folder_behind() {
    let temp = tempfile::tempdir().expect("temp");
    let stale = temp.path().join("gameday-embedded-999999999-left");
    std::fs::create_dir(&stale).expect("stale folder");
    let err = temp.path().join("stderr");
    // The shell ignores the hangup so it can write down how the dashboard ended.
    let tmux = Tmux::start(
        &format!(
            "trap '' HUP; TMPDIR={} {GAMEDAY} --load off 2>{}",
            temp.path().display(),
            err.display()
        ),
        160,
        45,
    );
    tmux.wait_for("the API source up", WAIT, |s| s.contains("api ok"));
    assert!(!stale.exists(), "the stale folder is removed at start");
    let folders = embedded_folders(temp.path());
    assert_eq!(folders.len(), 1, "{folders:?}");
    let dir = temp.path().join(&folders[0]);
    let mode = std::fs::metadata(&dir)
        .expect("folder")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700, "the database folder is private");
    let pid = dashboard_pid(&tmux);

    tmux.run(&["kill-session", "-t", "gd"]);
    wait_gone(pid);
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        embedded_folders(temp.path()).is_empty(),
        "{:?}",
        embedded_folders(temp.path())
    );
}

/// SIGQUIT is a way out like any other: the terminal is left cooked and on the main screen.
#[test]
fn sigquit_restores_the_terminal() {
    let temp = tempfile::tempdir().expect("temp");
    let stty = temp.path().join("stty");
    let tmux = Tmux::start(
        &format!(
            "{GAMEDAY} --load off; stty -a > {}; sleep 30",
            stty.display()
        ),
        160,
        45,
    );
    tmux.wait_for("the API source up", WAIT, |s| s.contains("api ok"));
    let pid = dashboard_pid(&tmux);
    // SAFETY: a signal to the process this test started, by its PID.
    unsafe {
        libc::kill(pid as i32, libc::SIGQUIT);
    }
    wait_gone(pid);
    for _ in 0..100 {
        if stty.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    let modes = std::fs::read_to_string(&stty).expect("stty output");
    for mode in ["icanon", "echo", "isig"] {
        assert!(
            modes.split_whitespace().any(|word| word == mode),
            "{mode} after SIGQUIT: {modes}"
        );
    }
    assert_eq!(tmux.pane("#{alternate_on}"), "0", "back on the main screen");
}

/// A port someone else holds is refused by name before anything is sent to it.
#[test]
fn a_busy_sandbox_port_is_an_error_naming_it() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = taken.local_addr().expect("address");
    let temp = tempfile::tempdir().expect("temp");
    let err = temp.path().join("stderr");
    let tmux = Tmux::start(
        &format!("{GAMEDAY} --sandbox-listen {address} 2>{}", err.display()),
        160,
        45,
    );
    assert_eq!(tmux.wait_exit(WAIT), "1");
    let stderr = std::fs::read_to_string(&err).expect("stderr");
    assert!(
        stderr.contains(&format!(
            "--sandbox-listen {address}: the address is not free"
        )),
        "{stderr}"
    );
    drop(taken);
}

/// A sandbox on a fixed address, so it can be stopped and started again at the same place.
fn sandbox_at(address: &str) -> Child {
    let mut child = Command::new(GAMEDAY)
        .args(["sandbox", "--listen", address])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sandbox starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).expect("banner");
    assert!(line.starts_with("listening on"), "{line}");
    child
}

fn stop(mut child: Child) {
    // SAFETY: a signal to the process this test started, by its PID.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let _ = child.wait();
}

/// Credentials in the API's URL reach neither the screen (a projector shows it), nor the log,
/// nor the warning on quitting; the log tells the operator what happened, in order; the data
/// folder and its files are private.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_stay_secret_and_the_log_tells_what_happened() {
    let port = support::free_port();
    let address = format!("127.0.0.1:{port}");
    let sandbox = sandbox_at(&address);
    let secret_url = format!("http://workshop:s3cretpw@{address}");
    let temp = tempfile::tempdir().expect("temp");
    let err = temp.path().join("stderr");
    let tmux = Tmux::start(
        &format!(
            "{GAMEDAY} --api {secret_url} --load off --poll-interval 500ms 2>{}",
            err.display()
        ),
        200,
        50,
    );
    let screen = tmux.wait_for("the API source up", WAIT, |s| s.contains("api ok"));
    assert!(
        screen.contains(&format!("http://***@{address}")),
        "{screen}"
    );
    inject_latency_and_see(&tmux, "last: 200");

    // The target goes away and comes back: both are logged, and the header follows.
    stop(sandbox);
    tmux.wait_for("the API down", WAIT, |s| s.contains("api down"));
    let sandbox = sandbox_at(&address);
    tmux.wait_for("the API back", WAIT, |s| s.contains("api ok"));
    Api::new(&format!("http://{address}"))
        .post("/api/failures", r#"{"latency_ms": 300}"#)
        .await;
    tmux.wait_for("the failure read back", WAIT, |s| {
        s.contains("latency_ms     300")
    });

    // Quit without resetting: the warning names the target without its credentials.
    tmux.keys("q");
    tmux.wait_for("the reset question", WAIT, |s| {
        s.contains("n: quit, leave them")
    });
    tmux.keys("n");
    assert_eq!(tmux.wait_exit(WAIT), "0");
    let stderr = std::fs::read_to_string(&err).expect("stderr");
    assert!(
        stderr.contains("failures are still active on http://***@"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cretpw"), "{stderr}");

    let log = log_of(&tmux);
    assert!(!log.contains("s3cretpw"), "{log}");
    let events: Vec<String> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|line| line["event"].as_str().map(str::to_string))
        .collect();
    let position = |event: &str| {
        events
            .iter()
            .position(|e| e == event)
            .unwrap_or_else(|| panic!("no {event} in {events:?}"))
    };
    assert!(position("action") < position("source_down"), "{events:?}");
    assert!(
        position("source_down") < position("source_up"),
        "{events:?}"
    );

    let data = tmux.home().join("data");
    let mode = |path: &Path| {
        std::fs::metadata(path)
            .expect("exists")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("gameday.log")), 0o600);
    stop(sandbox);
}

/// A clean start logs no warning and never shows a refused connection.
#[test]
fn a_clean_embedded_start_warns_of_nothing() {
    let tmux = Tmux::start(&format!("{GAMEDAY} --poll-interval 500ms"), 160, 45);
    let first = tmux.wait_for("the first screen", WAIT, |s| s.contains("gameday"));
    assert!(!first.contains("refused"), "{first}");
    let screen = tmux.wait_for("the API source up", WAIT, |s| s.contains("api ok"));
    assert!(
        !screen.contains("refused") && !screen.contains("errors 100"),
        "{screen}"
    );
    std::thread::sleep(Duration::from_secs(3));
    tmux.keys("q");
    assert_eq!(tmux.wait_exit(WAIT), "0");
    let log = log_of(&tmux);
    for line in log.lines() {
        let line: serde_json::Value = serde_json::from_str(line).expect("JSON log line");
        assert!(
            line["level"] == "INFO" || line["level"] == "DEBUG",
            "a clean start logs no warning: {line}"
        );
    }
}

#[test]
fn absurd_sandbox_memory_limits_are_refused_with_the_range() {
    for value in ["1", "0", "99999TiB"] {
        let (code, _, stderr) = support::run_gameday(&["--sandbox-memory", value]);
        assert_eq!(code, 1, "{value}: {stderr}");
        assert!(stderr.contains("from 32MiB to 64GiB"), "{value}: {stderr}");
    }
}
