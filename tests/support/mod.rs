//! Real services for integration tests: the `gameday` binary as a sandbox, a private
//! PostgreSQL server and a Prometheus server, each on a free loopback port and stopped by PID
//! when dropped. `scripts/test.sh` installs the Debian packages they need.
#![allow(dead_code)]

pub mod hostile;
pub mod json_bodies;
pub mod podman;
pub mod sessions;
pub mod tmux;
pub mod workshop;
pub mod workshop_drill;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const GAMEDAY: &str = env!("CARGO_BIN_EXE_gameday");

/// A free port on 127.0.0.1 (the kernel's pick; released for the service to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

/// Stops a child by its PID: SIGTERM first, then SIGKILL if it lingers.
fn stop_child(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `gameday sandbox` on a port of the system's choosing, its log in a temporary file.
pub struct Sandbox {
    child: Child,
    pub url: String,
    pub log_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn start(extra_args: &[&str]) -> Sandbox {
        let dir = tempfile::tempdir().expect("temporary folder");
        let log_path = dir.path().join("sandbox.log");
        let mut child = Command::new(GAMEDAY)
            .arg("sandbox")
            .args(["--listen", "127.0.0.1:0"])
            .arg("--log-file")
            .arg(&log_path)
            .args(extra_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gameday starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let line = match receiver.recv_timeout(Duration::from_secs(20)) {
            Ok(line) if line.starts_with("listening on ") => line,
            other => {
                stop_child(&mut child);
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
                }
                panic!("sandbox did not start: {other:?}; stderr: {stderr}");
            }
        };
        let url = line.trim().trim_start_matches("listening on ").to_string();
        Sandbox {
            child,
            url,
            log_path,
            _dir: dir,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The JSON log lines written so far.
    pub fn log_lines(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log_path)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// The port, for a Prometheus target.
    pub fn host_port(&self) -> &str {
        self.url.trim_start_matches("http://")
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        stop_child(&mut self.child);
    }
}

/// Runs `gameday ARGS` to completion and returns (exit code, stdout, stderr).
pub fn run_gameday(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(GAMEDAY)
        .args(args)
        .output()
        .expect("gameday runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A private PostgreSQL server in a temporary folder, stopped with `pg_ctl stop`, which signals
/// the postmaster by the PID in its own pid file.
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    pub port: u16,
    dir: tempfile::TempDir,
}

fn postgres_bin() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.retain(|bin| bin.join("initdb").exists());
    versions.sort();
    versions.pop().unwrap_or_else(|| {
        panic!("PostgreSQL is not installed: run scripts/test.sh, which installs the test services")
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL tool, as the `postgres` user when we are root (initdb refuses root).
fn pg_command(bin: &Path, tool: &str) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        command
    } else {
        Command::new(bin.join(tool))
    }
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = postgres_bin();
        let dir = tempfile::Builder::new()
            .prefix("gameday-pg-")
            .tempdir()
            .expect("temporary folder");
        let data = dir.path().join("data");
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown runs");
            assert!(status.success(), "chown of the PostgreSQL folder failed");
        }
        let initdb = pg_command(&bin, "initdb")
            .args([
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "-D",
            ])
            .arg(&data)
            .output()
            .expect("initdb runs");
        assert!(
            initdb.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        let port = free_port();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            dir.path().display()
        );
        let started = pg_command(&bin, "pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-o", &options, "-w", "-t", "30", "-l"])
            .arg(dir.path().join("postgres.log"))
            .arg("start")
            .output()
            .expect("pg_ctl runs");
        let postgres = Postgres {
            bin,
            data,
            port,
            dir,
        };
        assert!(
            started.status.success(),
            "PostgreSQL did not start: {} {}",
            String::from_utf8_lossy(&started.stdout),
            std::fs::read_to_string(postgres.dir.path().join("postgres.log")).unwrap_or_default()
        );
        postgres
    }

    /// Creates a database and returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Runs one statement and returns its unaligned output.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let output = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
            ])
            .args(["-p", &self.port.to_string(), "-d", database, "-c", sql])
            .output()
            .expect("psql runs");
        assert!(
            output.status.success(),
            "psql `{sql}` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = pg_command(&self.bin, "pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// A Prometheus server with a generated configuration, scraping every second.
pub struct Prometheus {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts Prometheus scraping `target` (host:port) as job `fincore`, with `rules` as its
    /// rule file.
    pub fn start(target: &str, rules: &str) -> Prometheus {
        Prometheus::start_every(target, rules, "1s")
    }

    /// As [`Prometheus::start`], scraping and evaluating every `interval` (e.g. `"3s"`).
    pub fn start_every(target: &str, rules: &str, interval: &str) -> Prometheus {
        let dir = tempfile::tempdir().expect("temporary folder");
        let rules_path = dir.path().join("rules.yml");
        std::fs::write(&rules_path, rules).expect("write rules");
        let config = format!(
            "global:\n  scrape_interval: {interval}\n  evaluation_interval: {interval}\n\
             rule_files:\n  - {}\n\
             scrape_configs:\n  - job_name: fincore\n    static_configs:\n      - targets: ['{target}']\n",
            rules_path.display()
        );
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).expect("write config");
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log file");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|err| {
                panic!("Prometheus is not installed ({err}): run scripts/test.sh, which installs the test services")
            });
        let prometheus = Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = Command::new("curl")
                .args(["-sf", "-o", "/dev/null"])
                .arg(format!("{}/-/ready", prometheus.url))
                .status()
                .map(|status| status.success())
                .unwrap_or(false);
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "Prometheus did not become ready");
            std::thread::sleep(Duration::from_millis(200));
        }
        prometheus
    }
}

impl Prometheus {
    /// The result of an instant PromQL query, at `at` (unix seconds) or now.
    pub async fn query(
        &self,
        http: &reqwest::Client,
        promql: &str,
        at: Option<f64>,
    ) -> Vec<serde_json::Value> {
        let mut params = vec![("query", promql.to_string())];
        if let Some(at) = at {
            params.push(("time", format!("{at:.3}")));
        }
        let response: serde_json::Value = http
            .get(format!("{}/api/v1/query", self.url))
            .query(&params)
            .send()
            .await
            .expect("Prometheus answers")
            .json()
            .await
            .expect("JSON");
        assert_eq!(response["status"], "success", "{promql}: {response}");
        response["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        stop_child(&mut self.child);
    }
}

/// Polls `check` every 200 ms until it returns `Some`, or panics after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A small JSON client for the sandbox's contract.
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            base: base.to_string(),
            http: gameday::fincore::tls::client_builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
        }
    }

    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET answers");
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// A POST with `Authorization: Bearer TOKEN`, as a facilitator holding the token sends it.
    pub async fn post_with_token(
        &self,
        path: &str,
        body: &str,
        token: &str,
    ) -> (u16, serde_json::Value) {
        self.post_as(path, body, Some(token)).await
    }

    pub async fn post(&self, path: &str, body: &str) -> (u16, serde_json::Value) {
        self.post_as(path, body, None).await
    }

    async fn post_as(
        &self,
        path: &str,
        body: &str,
        token: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let mut request = self.http.post(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("POST answers");
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    pub async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .expect("metrics answer")
            .text()
            .await
            .expect("metrics text")
    }

    /// The value of one sample line of `/metrics`, e.g. `fintech_active_transactions`.
    pub async fn metric(&self, series: &str) -> f64 {
        let text = self.metrics().await;
        text.lines()
            .find_map(|line| {
                line.strip_prefix(series)
                    .and_then(|rest| rest.strip_prefix(' '))
                    .and_then(|value| value.trim().parse().ok())
            })
            .unwrap_or_else(|| panic!("no series `{series}` in /metrics"))
    }
}

/// `gameday provider` on a port of the system's choosing, signing its webhooks to
/// `webhook_url` with `secret`.
pub struct ProviderProcess {
    child: Child,
    pub url: String,
}

impl ProviderProcess {
    pub fn start(webhook_url: &str, secret: &str) -> ProviderProcess {
        let mut child = Command::new(GAMEDAY)
            .arg("provider")
            .args(["--listen", "127.0.0.1:0", "--webhook-url", webhook_url])
            .env("GAMEDAY_PROVIDER_SECRET", secret)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("gameday provider starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            stop_child(&mut child);
            panic!("the provider did not start: {line:?}");
        };
        ProviderProcess {
            url: url.to_string(),
            child,
        }
    }
}

impl Drop for ProviderProcess {
    fn drop(&mut self) {
        stop_child(&mut self.child);
    }
}
