//! A private podman engine serving the Docker Engine API for one test, and an image of the
//! release binary built without a registry.
//!
//! Everything podman writes lives in a temporary folder: image and container storage
//! (storage.conf via `CONTAINERS_STORAGE_CONF`), run state, events and network config
//! (containers.conf via `CONTAINERS_CONF`), so nothing in /etc or /var/lib/containers changes
//! (podman 4.3 still drops a blob-info cache in /var/lib/containers/cache on import). The service
//! is our child, stopped by PID on drop; then `podman system reset` removes the containers and
//! unmounts the storage. `scripts/test.sh` installs podman, runc and busybox-static.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{GAMEDAY, free_port};

/// The image `build_sandbox_image` makes: the release binary (entrypoint) plus busybox.
pub const SANDBOX_IMAGE: &str = "localhost/gameday-sandbox:test";
/// The memory limit every sandbox container gets.
pub const SANDBOX_MEMORY_LIMIT_BYTES: u64 = 256 * 1024 * 1024;

/// Longest wait for one podman command (import of a ~50 MB image included).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// A `podman system service` of our own on a unix socket in a temporary folder.
pub struct Podman {
    service: Child,
    dir: tempfile::TempDir,
    /// `unix:///…/podman.sock`, for `DockerTarget::host`.
    pub host: String,
    pub socket: PathBuf,
    /// Set once `podman info` confirmed that storage is in our folder, so that `reset` on drop
    /// can only ever wipe our own storage.
    storage_is_ours: bool,
}

/// A sandbox container serving on a loopback port of the host.
pub struct SandboxContainer {
    pub id: String,
    pub name: String,
    pub url: String,
}

fn require_tools() {
    let missing: Vec<&str> = [
        ("podman", "podman"),
        ("runc", "runc"),
        ("busybox-static", "busybox"),
    ]
    .into_iter()
    .filter(|(_, command)| !on_path(command))
    .map(|(package, _)| package)
    .collect();
    assert!(
        missing.is_empty(),
        "missing {}: run scripts/test.sh, which installs podman, runc and busybox-static",
        missing.join(", ")
    );
}

fn on_path(command: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .any(|dir| dir.join(command).is_file())
}

/// Runs a command to completion within `limit`; kills it by PID if it overruns.
fn output_within(mut command: Command, limit: Duration, what: &str) -> Result<Output, String> {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("{what}: cannot start: {err}"))?;
    let pid = child.id();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    match receiver.recv_timeout(limit) {
        Ok(answer) => answer.map_err(|err| format!("{what}: {err}")),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            Err(format!("{what}: no answer within {} s", limit.as_secs()))
        }
    }
}

/// Like `output_within`, and panics with stderr unless the command succeeded.
fn succeed(command: Command, what: &str) -> String {
    let output =
        output_within(command, COMMAND_TIMEOUT, what).unwrap_or_else(|err| panic!("{err}"));
    assert!(
        output.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

impl Podman {
    /// Writes the configuration, starts the service and waits until it answers `/_ping`.
    pub fn start() -> Podman {
        require_tools();
        let dir = tempfile::Builder::new()
            .prefix("gameday-podman-")
            .tempdir()
            .expect("temporary folder");
        let root = dir.path();
        std::fs::create_dir_all(root.join("tmp")).expect("podman's tmp folder");
        // runc with cgroupfs: crun fails on this machine's hybrid cgroups; no default ulimits:
        // the runtime's setrlimit fails here otherwise.
        let containers_conf = format!(
            "[containers]\ndefault_ulimits = []\n\n\
             [engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\n\
             events_logger = \"file\"\ntmp_dir = \"{tmp}\"\nvolume_path = \"{volumes}\"\n\
             image_copy_tmp_dir = \"{tmp}\"\n\n\
             [network]\nnetwork_config_dir = \"{cni}\"\n",
            tmp = root.join("tmp").display(),
            volumes = root.join("volumes").display(),
            cni = root.join("cni").display(),
        );
        let storage_conf = format!(
            "[storage]\ndriver = \"overlay\"\ngraphroot = \"{}\"\nrunroot = \"{}\"\n",
            root.join("storage").display(),
            root.join("run").display(),
        );
        std::fs::write(root.join("containers.conf"), containers_conf).expect("containers.conf");
        std::fs::write(root.join("storage.conf"), storage_conf).expect("storage.conf");
        let socket = root.join("podman.sock");
        let host = format!("unix://{}", socket.display());
        let log = std::fs::File::create(root.join("service.log")).expect("service log");
        let log_err = log.try_clone().expect("service log");
        let service = Command::new("podman")
            .envs(Self::env_of(root))
            .args(["system", "service", "--time=0", &host])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .expect("podman system service starts");
        let mut podman = Podman {
            service,
            dir,
            host,
            socket,
            storage_is_ours: false,
        };
        // The service sets the storage up first; a second podman at the same time could race it.
        podman.wait_until_ready();
        podman.check_storage_is_ours();
        podman
    }

    fn env_of(root: &Path) -> [(&'static str, PathBuf); 2] {
        [
            ("CONTAINERS_CONF", root.join("containers.conf")),
            ("CONTAINERS_STORAGE_CONF", root.join("storage.conf")),
        ]
    }

    /// `podman` against our storage directly (no service).
    fn local(&self) -> Command {
        let mut command = Command::new("podman");
        command.envs(Self::env_of(self.dir.path()));
        command
    }

    /// `podman` as a client of our service.
    fn remote(&self) -> Command {
        let mut command = self.local();
        command.args(["--url", &self.host]);
        command
    }

    fn check_storage_is_ours(&mut self) {
        let mut info = self.local();
        info.args([
            "info",
            "--format",
            "{{.Store.GraphRoot}} {{.Store.RunRoot}}",
        ]);
        let roots = succeed(info, "podman info");
        let ours = roots
            .split_whitespace()
            .all(|path| Path::new(path).starts_with(self.dir.path()));
        assert!(
            ours && !roots.is_empty(),
            "podman ignored CONTAINERS_STORAGE_CONF (storage at {roots}); stopping so the \
             system's storage stays untouched"
        );
        self.storage_is_ours = true;
    }

    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.socket.exists() && self.api_text("/_ping").is_some_and(|text| text == "OK") {
                return;
            }
            if let Ok(Some(status)) = self.service.try_wait() {
                panic!(
                    "podman system service exited ({status}): {}",
                    self.service_log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "podman system service did not answer within 30 s: {}",
                self.service_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn service_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("service.log")).unwrap_or_default()
    }

    /// Builds `SANDBOX_IMAGE`: a root filesystem with the gameday binary, the shared libraries
    /// `ldd` lists (and the loader), busybox and a world-writable /tmp for the sandbox's SQLite
    /// file, tarred and imported.
    pub fn build_sandbox_image(&self) {
        let rootfs = self.dir.path().join("rootfs");
        for folder in ["bin", "tmp"] {
            std::fs::create_dir_all(rootfs.join(folder)).expect("rootfs folder");
        }
        let tmp_mode = std::os::unix::fs::PermissionsExt::from_mode(0o1777);
        std::fs::set_permissions(rootfs.join("tmp"), tmp_mode).expect("chmod /tmp");
        std::fs::copy(GAMEDAY, rootfs.join("bin/gameday")).expect("copy gameday");
        std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).expect("copy busybox");
        for library in shared_libraries(Path::new(GAMEDAY)) {
            let target = rootfs.join(library.strip_prefix("/").expect("absolute path"));
            std::fs::create_dir_all(target.parent().expect("library folder")).expect("mkdir");
            std::fs::copy(&library, &target)
                .unwrap_or_else(|err| panic!("copy {}: {err}", library.display()));
        }
        let tar_path = self.dir.path().join("rootfs.tar");
        let mut tar = Command::new("tar");
        tar.arg("-C")
            .arg(&rootfs)
            .arg("-cf")
            .arg(&tar_path)
            .arg(".");
        succeed(tar, "tar of the root filesystem");
        let mut import = self.local();
        import
            .args(["import", "--change", r#"ENTRYPOINT ["/bin/gameday"]"#])
            .arg(&tar_path)
            .arg(SANDBOX_IMAGE);
        succeed(import, "podman import");
        let _ = std::fs::remove_file(&tar_path);
    }

    /// Runs `gameday sandbox` in a container (`--network=host -m 256m --restart=always`, plus
    /// `labels` as `key=value`) on a free port and waits until it answers `/health`.
    pub fn run_sandbox(&self, name: &str, labels: &[&str]) -> SandboxContainer {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut run = self.remote();
        run.args(["run", "-d", "--name", name, "--network=host", "-m", "256m"])
            .arg("--restart=always");
        for label in labels {
            run.args(["--label", label]);
        }
        run.args([SANDBOX_IMAGE, "sandbox", "--listen", &listen]);
        let id = succeed(run, "podman run of the sandbox");
        let url = format!("http://{listen}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !answers(&format!("{url}/health")) {
            assert!(
                Instant::now() < deadline,
                "sandbox container {name} did not answer within 30 s; logs: {}",
                self.logs(name)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        SandboxContainer {
            id,
            name: name.to_string(),
            url,
        }
    }

    /// Runs busybox with `args` in a container of the sandbox image (a busy loop, a process
    /// that keeps exiting), with further `podman run` options such as labels.
    pub fn run_busybox(&self, name: &str, options: &[&str], args: &[&str]) -> String {
        let mut run = self.remote();
        run.args(["run", "-d", "--name", name, "--network=host"])
            .args(options)
            .args(["--entrypoint", "/bin/busybox", SANDBOX_IMAGE])
            .args(args);
        succeed(run, "podman run of busybox")
    }

    /// Removes a container at once (SIGKILL), running or not.
    pub fn remove(&self, name: &str) {
        let mut remove = self.remote();
        remove.args(["rm", "-f", "-t", "0", name]);
        succeed(remove, "podman rm");
    }

    pub fn logs(&self, name: &str) -> String {
        let mut logs = self.remote();
        logs.args(["logs", name]);
        match output_within(logs, COMMAND_TIMEOUT, "podman logs") {
            Ok(output) => format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
            Err(err) => err,
        }
    }

    /// The engine's own answer to `GET path` on its Docker API, read with curl so that it does
    /// not go through the code under test.
    pub fn api_get(&self, path: &str) -> serde_json::Value {
        let text = self
            .api_text(path)
            .unwrap_or_else(|| panic!("GET {path} on {} failed", self.host));
        serde_json::from_str(&text)
            .unwrap_or_else(|err| panic!("GET {path}: not JSON ({err}): {text}"))
    }

    fn api_text(&self, path: &str) -> Option<String> {
        let mut curl = Command::new("curl");
        curl.args(["-sf", "-m", "10", "--unix-socket"])
            .arg(&self.socket)
            .arg(format!("http://podman/v1.41{path}"));
        let output = output_within(curl, Duration::from_secs(15), "curl").ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).to_string())
    }

    /// The engine's container events between two times (unix seconds), as Docker-style JSON
    /// (`Action`, `Actor.Attributes.exitCode`, ...).
    pub fn events(&self, since_unix: i64, until_unix: i64) -> Vec<serde_json::Value> {
        let path = format!("/events?since={since_unix}&until={until_unix}");
        self.api_text(&path)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

/// Whether `url` answers 200 (curl, one second at most).
fn answers(url: &str) -> bool {
    let mut curl = Command::new("curl");
    curl.args(["-sf", "-o", "/dev/null", "-m", "1", url]);
    output_within(curl, Duration::from_secs(5), "curl").is_ok_and(|output| output.status.success())
}

/// The absolute paths in `ldd`'s answer: the libraries and the dynamic loader.
fn shared_libraries(binary: &Path) -> Vec<PathBuf> {
    let mut ldd = Command::new("ldd");
    ldd.arg(binary);
    let listing = succeed(ldd, "ldd");
    listing
        .lines()
        .filter_map(|line| {
            line.split_whitespace()
                .find(|word| word.starts_with('/'))
                .map(PathBuf::from)
        })
        .collect()
}

impl Drop for Podman {
    fn drop(&mut self) {
        if let Ok(None) = self.service.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.service.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while matches!(self.service.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.service.kill();
            let _ = self.service.wait();
        }
        if self.storage_is_ours {
            // Containers keep running without the service: kill them at once (busybox as PID 1
            // ignores SIGTERM, and reset would wait 10 s for it), then remove everything and
            // unmount the storage, so the temporary folder can go.
            let mut remove = self.local();
            remove.args(["rm", "--all", "--force", "--time", "0"]);
            let _ = output_within(remove, COMMAND_TIMEOUT, "podman rm --all");
            let mut reset = self.local();
            reset.args(["system", "reset", "--force"]);
            let _ = output_within(reset, COMMAND_TIMEOUT, "podman system reset");
        }
    }
}
