//! Container actions from the keyboard against a real engine (podman's Docker API): restart,
//! stop and start of the app container and stop and start of the database container, each
//! confirmed first, each seen by the engine and in the panels.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::time::Duration;

use support::podman::Podman;
use support::tmux::Tmux;

const WAIT: Duration = Duration::from_secs(30);
const APP_LABEL: &str = "com.docker.compose.service=app";
const DB_LABEL: &str = "com.docker.compose.service=db";

fn state_of(podman: &Podman, name: &str) -> (String, String) {
    let inspect = podman.api_get(&format!("/containers/{name}/json"));
    (
        inspect["State"]["Status"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        inspect["State"]["StartedAt"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn wait_for_state(podman: &Podman, name: &str, status: &str) -> String {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let (now, started) = state_of(podman, name);
        if now == status {
            return started;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{name} did not become {status} (it is {now})"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Opens the container menu, picks `number` and confirms with `y`.
fn act(tmux: &Tmux, number: &str, label: &str) {
    tmux.keys("s");
    tmux.wait_for("the container menu", WAIT, |screen| {
        screen.contains("Container actions")
    });
    tmux.keys(number);
    tmux.wait_for("the confirmation", WAIT, |screen| {
        screen.contains(&format!("{label}?"))
    });
    tmux.keys("y");
}

#[test]
fn container_keys_restart_stop_and_start_the_app_and_the_database() {
    let podman = Podman::start();
    podman.build_sandbox_image();
    let app = podman.run_sandbox("fincore-app", &[APP_LABEL]);
    podman.run_busybox("fincore-db", &["--label", DB_LABEL], &["sleep", "600"]);
    let tmux = Tmux::start(
        &format!(
            "{} --api {} --docker={} --load off --poll-interval 500ms",
            support::GAMEDAY,
            app.url,
            podman.host
        ),
        200,
        50,
    );
    tmux.wait_for("Docker and the API up", WAIT, |screen| {
        screen.contains("docker ok") && screen.contains("api ok")
    });
    let (_, first_start) = state_of(&podman, "fincore-app");

    // A refused confirmation does nothing.
    tmux.keys("s");
    tmux.keys("2");
    tmux.wait_for("the confirmation", WAIT, |screen| {
        screen.contains("stop the app?")
    });
    tmux.keys("n");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(state_of(&podman, "fincore-app").0, "running");

    act(&tmux, "1", "restart the app");
    let deadline = std::time::Instant::now() + WAIT;
    while state_of(&podman, "fincore-app").1 == first_start {
        assert!(std::time::Instant::now() < deadline, "no restart seen");
        std::thread::sleep(Duration::from_millis(200));
    }
    tmux.wait_for("the restart in the panels", WAIT, |screen| {
        screen.contains("docker: restart app fincore-app") && screen.contains("restarts 1")
    });

    act(&tmux, "2", "stop the app");
    wait_for_state(&podman, "fincore-app", "exited");
    tmux.wait_for("the stop in the header and the API down", WAIT, |screen| {
        screen.contains("container fincore-app exited") && screen.contains("api down")
    });

    act(&tmux, "3", "start the app");
    wait_for_state(&podman, "fincore-app", "running");
    tmux.wait_for("the API back", WAIT, |screen| screen.contains("api ok"));

    act(&tmux, "4", "stop the database");
    wait_for_state(&podman, "fincore-db", "exited");
    tmux.wait_for("the database stop answered", WAIT, |screen| {
        screen.contains("docker: stop database fincore-db")
    });
    act(&tmux, "5", "start the database");
    wait_for_state(&podman, "fincore-db", "running");
    tmux.wait_for("the database start answered", WAIT, |screen| {
        screen.contains("docker: start database fincore-db")
    });

    tmux.keys("q");
    assert_eq!(tmux.wait_exit(WAIT), "0");
}
