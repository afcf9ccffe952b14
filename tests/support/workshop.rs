//! The workshop-shaped FinCore (`scripts/bench/flask_fincore.py`: Flask under gunicorn with 2
//! workers × 4 threads, each worker with its own failure state) on PostgreSQL, from the venv
//! that `scripts/test.sh` creates in `target/bench-venv`. Stopped by PID on drop.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Postgres, free_port, stop_child};

pub struct Workshop {
    child: Child,
    pub url: String,
    _postgres: Postgres,
    /// gunicorn's access log: the service's own account of what reached it, and when.
    logs: tempfile::TempDir,
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

impl Workshop {
    /// Two workers, as the workshop runs it.
    pub fn start() -> Workshop {
        Workshop::with_workers(2)
    }

    pub fn with_workers(workers: u32) -> Workshop {
        let gunicorn = repo_root().join("target/bench-venv/bin/gunicorn");
        assert!(
            gunicorn.exists(),
            "no {}: run scripts/test.sh, which creates the venv",
            gunicorn.display()
        );
        let postgres = Postgres::start();
        let database = postgres.create_database("fincore_workshop");
        let port = free_port();
        let logs = tempfile::tempdir().expect("a folder for the access log");
        let child = Command::new(&gunicorn)
            .args([
                "-w",
                &workers.to_string(),
                "--threads",
                "4",
                "-k",
                "gthread",
            ])
            .arg("--access-logfile")
            .arg(logs.path().join("access.log"))
            // %(t)s is the time the answer was logged, to the second; %(L)s how long it took.
            .args(["--access-logformat", "%(t)s %(m)s %(U)s %(s)s %(L)s"])
            .args(["-b", &format!("127.0.0.1:{port}"), "flask_fincore:app"])
            .current_dir(repo_root().join("scripts/bench"))
            .env(
                "FINCORE_DB_URL",
                database.replace("postgres://", "postgresql://"),
            )
            .env_remove("PROMETHEUS_MULTIPROC_DIR")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gunicorn starts");
        let mut workshop = Workshop {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _postgres: postgres,
            logs,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !answers(&format!("{}/health", workshop.url)) {
            if let Ok(Some(status)) = workshop.child.try_wait() {
                panic!("gunicorn exited: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "the workshop service did not answer"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        workshop
    }
}

impl Workshop {
    /// `GET /api/failures` `count` times, each on a new connection (so each lands on either
    /// worker): the `current_config` of every read.
    pub fn fresh_failure_reads(&self, count: usize) -> Vec<serde_json::Value> {
        (0..count)
            .map(|_| {
                let output = Command::new("curl")
                    .args(["-sf", "--max-time", "5"])
                    .arg(format!("{}/api/failures", self.url))
                    .output()
                    .expect("curl runs");
                let body: serde_json::Value =
                    serde_json::from_slice(&output.stdout).expect("a JSON answer");
                body["current_config"].clone()
            })
            .collect()
    }
}

/// One line of the access log: when it was logged (Unix seconds, whole), method, path, status
/// and how long the request took (seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    pub at: f64,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub took: f64,
}

impl Workshop {
    /// The access log so far, oldest first.
    pub fn access_log(&self) -> Vec<Logged> {
        let text = std::fs::read_to_string(self.logs.path().join("access.log")).unwrap_or_default();
        text.lines()
            .filter_map(|line| {
                let (time, rest) = line.strip_prefix('[')?.split_once("] ")?;
                let at = chrono::DateTime::parse_from_str(time, "%d/%b/%Y:%H:%M:%S %z").ok()?;
                let mut fields = rest.split_whitespace();
                Some(Logged {
                    at: at.timestamp() as f64,
                    method: fields.next()?.to_string(),
                    path: fields.next()?.to_string(),
                    status: fields.next()?.parse().ok()?,
                    took: fields.next()?.parse().ok()?,
                })
            })
            .collect()
    }
}

fn answers(url: &str) -> bool {
    Command::new("curl")
        .args(["-sf", "-o", "/dev/null", "--max-time", "2", url])
        .status()
        .is_ok_and(|status| status.success())
}

impl Drop for Workshop {
    fn drop(&mut self) {
        stop_child(&mut self.child);
    }
}

/// Whether the file exists, for tests that explain what is missing.
pub fn venv_exists() -> bool {
    Path::new(&repo_root().join("target/bench-venv/bin/gunicorn")).exists()
}
