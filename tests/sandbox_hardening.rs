//! `gameday sandbox` bounded like a production server, tested over real sockets on 127.0.0.1:
//! slowloris and idle connections closed by their timeouts, the connection limit answered with
//! 503 and `Retry-After`, descriptor exhaustion under a low `ulimit -n` survived, duplicate
//! JSON keys refused, the control token (scheme in any case, from a file), and log lines that
//! stay short whatever a request sends.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Api, GAMEDAY, Sandbox, eventually, run_gameday};

/// The address of a sandbox URL, for raw sockets.
fn address(url: &str) -> String {
    url.trim_start_matches("http://").to_string()
}

fn connect(url: &str) -> TcpStream {
    let stream = TcpStream::connect(address(url)).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("read timeout");
    stream
}

/// Reads one HTTP/1.1 response (headers and a `Content-Length` body); `None` if the server
/// closed the connection first.
fn read_response(stream: &mut TcpStream) -> Option<String> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find(&bytes, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&bytes[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            if bytes.len() >= end + 4 + length {
                return Some(String::from_utf8_lossy(&bytes[..end + 4 + length]).to_string());
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(err) if err.kind() == ErrorKind::ConnectionReset => return None,
            Err(err) => panic!("reading a response: {err}"),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Whether the server has closed the connection (EOF or reset) within `within`.
fn closed_by_server(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).expect("read timeout");
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(err) => matches!(
            err.kind(),
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe
        ),
    }
}

fn get_health(stream: &mut TcpStream) -> Option<String> {
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: sandbox\r\n\r\n")
        .ok()?;
    read_response(stream)
}

fn log_events<'a>(lines: &'a [Value], event: &str) -> Vec<&'a Value> {
    lines.iter().filter(|line| line["event"] == event).collect()
}

#[tokio::test]
async fn slowloris_connections_are_closed_after_the_header_timeout_while_health_answers() {
    let sandbox = Sandbox::start(&["--header-timeout", "1s", "--max-connections", "100"]);
    let api = Api::new(&sandbox.url);
    let started = log_events(&sandbox.log_lines(), "sandbox_started")[0].clone();
    assert_eq!(started["max_connections"], 100, "{started}");
    assert_eq!(started["header_timeout_ms"], 1000, "{started}");
    assert_eq!(started["idle_timeout_ms"], 60_000, "{started}");

    // 40 connections with partial headers, 5 that send nothing, and one that trickles a
    // header line every 200 ms (which must not reset its clock).
    let mut partial: Vec<TcpStream> = (0..40)
        .map(|_| {
            let mut stream = connect(&sandbox.url);
            stream
                .write_all(b"GET /health HTTP/1.1\r\nHost: sandbox\r\n")
                .expect("partial headers sent");
            stream
        })
        .collect();
    partial.extend((0..5).map(|_| connect(&sandbox.url)));
    let url = sandbox.url.clone();
    let trickler = std::thread::spawn(move || {
        let mut stream = connect(&url);
        let _ = stream.write_all(b"GET /health HTTP/1.1\r\n");
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if stream.write_all(b"X-Slow: yes\r\n").is_err() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        false
    });

    // Complete headers and a trickle of body: the body must arrive within the timeout too.
    let mut slow_body = connect(&sandbox.url);
    slow_body
        .write_all(
            b"POST /api/failures HTTP/1.1\r\nHost: sandbox\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"latency_ms\"",
        )
        .expect("headers and a partial body sent");

    let (status, health) = api.get("/health").await;
    assert_eq!(status, 200, "health answers while they hold: {health}");
    let answer = read_response(&mut slow_body).expect("a partial body is answered");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("did not all arrive within 1s"), "{answer}");

    for stream in &mut partial {
        assert!(
            closed_by_server(stream, Duration::from_secs(10)),
            "a connection without complete headers stays open"
        );
    }
    assert!(
        trickler.join().expect("trickler"),
        "a trickled header kept its connection open"
    );
    let (status, _) = api.get("/health").await;
    assert_eq!(status, 200);
    // Counted as the connection task ends, a moment after the socket closes.
    eventually(
        "46 header timeouts counted",
        Duration::from_secs(5),
        || async {
            let counted = api
                .metric("fintech_connections_timed_out_total{reason=\"header\"}")
                .await;
            (counted >= 46.0).then_some(())
        },
    )
    .await;
    let lines = sandbox.log_lines();
    let logged = log_events(&lines, "connections_timed_out");
    assert!(
        (1..=3).contains(&logged.len()),
        "46 timeouts, a few lines: {logged:?}"
    );
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_idle_timeout_but_a_slow_request_is_not_cut() {
    let sandbox = Sandbox::start(&["--idle-timeout", "1s", "--header-timeout", "5s"]);
    let api = Api::new(&sandbox.url);

    let mut idle: Vec<TcpStream> = (0..10)
        .map(|_| {
            let mut stream = connect(&sandbox.url);
            let answer = get_health(&mut stream).expect("health answers");
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
            stream
        })
        .collect();
    for stream in &mut idle {
        assert!(
            closed_by_server(stream, Duration::from_secs(10)),
            "an idle kept-alive connection stays open"
        );
    }
    eventually(
        "10 idle timeouts counted",
        Duration::from_secs(5),
        || async {
            let counted = api
                .metric("fintech_connections_timed_out_total{reason=\"idle\"}")
                .await;
            (counted >= 10.0).then_some(())
        },
    )
    .await;

    // A request in flight longer than the idle timeout is the service's own slowness.
    let (status, _) = api
        .post("/api/failures", r#"{"latency_ms": 2500, "ttl_s": 60}"#)
        .await;
    assert_eq!(status, 200);
    let mut slow = connect(&sandbox.url);
    let answer = get_health(&mut slow).expect("the slow request is answered");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A new client: this test's runtime was blocked on the raw socket, so the pooled
    // connection has not yet seen the server close it for idling.
    let (status, _) = Api::new(&sandbox.url).post("/api/reset", "").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn connections_beyond_the_limit_get_503_with_retry_after_until_some_close() {
    let sandbox = Sandbox::start(&["--max-connections", "8"]);
    let api = Api::new(&sandbox.url);

    // Eight connections each served once and kept alive: the limit is taken.
    let held: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut stream = connect(&sandbox.url);
            assert!(get_health(&mut stream).is_some_and(|a| a.starts_with("HTTP/1.1 200")));
            stream
        })
        .collect();
    for _ in 0..20 {
        let mut extra = connect(&sandbox.url);
        let answer = get_health(&mut extra).expect("a refusal is an answer");
        let lower = answer.to_ascii_lowercase();
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(lower.contains("\r\nretry-after: 1\r\n"), "{answer}");
        assert!(lower.contains("\r\nconnection: close\r\n"), "{answer}");
        let body = &answer[answer.find("\r\n\r\n").expect("a body") + 4..];
        let body: Value = serde_json::from_str(body).expect("a JSON body");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|e| e.contains("connection limit (8 open)")),
            "{body}"
        );
        assert!(closed_by_server(&mut extra, Duration::from_secs(5)));
    }

    drop(held);
    eventually(
        "health answering again",
        Duration::from_secs(10),
        || async { (api.get("/health").await.0 == 200).then_some(()) },
    )
    .await;
    let refused = api.metric("fintech_connections_refused_total").await;
    assert!(refused >= 20.0, "refusals counted: {refused}");
    assert_eq!(api.metric("fintech_connections_max").await, 8.0);
    let lines = sandbox.log_lines();
    let logged = log_events(&lines, "connection_limit_reached");
    assert!(
        (1..=2).contains(&logged.len()),
        "20 refusals, one or two lines: {logged:?}"
    );
    assert!(logged[0]["message"].as_str().unwrap().contains("503"));
}

/// `gameday sandbox` under `ulimit -n LIMIT` (soft and hard), stopped by PID when dropped.
struct LimitedSandbox {
    child: Child,
    url: String,
    log_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl LimitedSandbox {
    fn start(nofile: u32, extra_args: &[&str]) -> LimitedSandbox {
        let dir = tempfile::tempdir().expect("temporary folder");
        let log_path = dir.path().join("sandbox.log");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -n {nofile} && exec \"$0\" \"$@\""))
            .arg(GAMEDAY)
            .args(["sandbox", "--listen", "127.0.0.1:0", "--log-file"])
            .arg(&log_path)
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sh starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the listening line");
        assert!(line.starts_with("listening on "), "did not start: {line:?}");
        let url = line.trim().trim_start_matches("listening on ").to_string();
        LimitedSandbox {
            child,
            url,
            log_path,
            _dir: dir,
        }
    }

    fn log_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log_path)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for LimitedSandbox {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn out_of_descriptors_the_sandbox_backs_off_stays_up_and_answers_after() {
    // An explicit limit far above what 64 descriptors hold: accepts fail with EMFILE.
    let mut sandbox = LimitedSandbox::start(64, &["--db-pool", "2", "--max-connections", "1000"]);
    let adjusted = log_events(&sandbox.log_lines(), "connection_limit_adjusted")
        .first()
        .map(|line| line["message"].to_string())
        .expect("a warning that the limit does not fit");
    assert!(adjusted.contains("accepts will fail"), "{adjusted}");

    let mut flood: Vec<TcpStream> = (0..150).map(|_| connect(&sandbox.url)).collect();
    std::thread::sleep(Duration::from_secs(2));
    assert!(sandbox.is_running(), "the sandbox died out of descriptors");
    drop(flood.drain(..));

    let api = Api::new(&sandbox.url);
    eventually(
        "health answering again",
        Duration::from_secs(15),
        || async { (api.get("/health").await.0 == 200).then_some(()) },
    )
    .await;
    assert!(sandbox.is_running());
    let errors = api.metric("fintech_accept_errors_total").await;
    assert!(errors >= 1.0, "failed accepts counted: {errors}");
    let lines = sandbox.log_lines();
    let logged = log_events(&lines, "accept_failed");
    assert!(
        !logged.is_empty() && logged.len() <= 3,
        "{errors} failed accepts, a few lines: {logged:?}"
    );
    assert!(
        logged[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("Too many open files")),
        "{logged:?}"
    );
}

#[tokio::test]
async fn a_default_limit_is_lowered_to_fit_a_low_descriptor_limit_and_refuses_beyond_it() {
    let sandbox = LimitedSandbox::start(64, &["--db-pool", "2"]);
    let started = log_events(&sandbox.log_lines(), "sandbox_started")[0].clone();
    let max = started["max_connections"].as_u64().expect("a limit");
    assert!((1..64).contains(&max), "{started}");
    let lines = sandbox.log_lines();
    let adjusted = log_events(&lines, "connection_limit_adjusted");
    assert!(
        adjusted[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("lowered")),
        "{adjusted:?}"
    );
    let held: Vec<TcpStream> = (0..max)
        .map(|_| {
            let mut stream = connect(&sandbox.url);
            assert!(get_health(&mut stream).is_some_and(|a| a.starts_with("HTTP/1.1 200")));
            stream
        })
        .collect();
    let mut extra = connect(&sandbox.url);
    let answer = get_health(&mut extra).expect("refused with an answer");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    drop(held);
    let api = Api::new(&sandbox.url);
    eventually(
        "health answering again",
        Duration::from_secs(10),
        || async { (api.get("/health").await.0 == 200).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn duplicate_keys_are_refused_with_their_name_and_change_nothing() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    let (status, _) = api.post("/api/failures", r#"{"error_rate": 5}"#).await;
    assert_eq!(status, 200);
    let before = api.get("/api/failures").await.1["current_config"].clone();

    for (body, key) in [
        (r#"{"latency_ms":"x","latency_ms":7}"#, "latency_ms"),
        (r#"{"latency_ms":7,"latency_ms":7}"#, "latency_ms"),
        (r#"{"error_rate":1,"ttl_s":5,"ttl_s":0}"#, "ttl_s"),
        (r#"{"latency_ms":7,"extra":{"a":1,"a":2}}"#, "a"),
    ] {
        let (status, answer) = api.post("/api/failures", body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let error = answer["error"].as_str().expect("an error");
        assert!(
            error.contains(&format!("duplicate field `{key}`")),
            "{body}: {error}"
        );
        assert_eq!(api.get("/api/failures").await.1["current_config"], before);
    }

    // Transfers are instrumented: the injected error rate would come first.
    let (status, _) = api.post("/api/reset", "").await;
    assert_eq!(status, 200);

    let (status, answer) = api
        .post(
            "/api/transfer",
            r#"{"amount":999999,"amount":1,"to_account":"ACC-002"}"#,
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("`amount`"));
    let (status, answer) = api
        .post(
            "/api/transfer",
            r#"{"amount":1,"to_account":"ACC-002","to_account":"ACC-003"}"#,
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("`to_account`"));
    assert_eq!(api.get("/api/balance").await.1["balance"], 10000.0);
}

async fn post_with_auth(api: &Api, path: &str, authorization: Option<&str>) -> u16 {
    let mut request = api
        .http
        .post(format!("{}{path}", api.base))
        .header("Content-Type", "application/json")
        .body(json!({"latency_ms": 100}).to_string());
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    request.send().await.expect("answers").status().as_u16()
}

#[tokio::test]
async fn the_bearer_scheme_is_read_in_any_case() {
    let sandbox = Sandbox::start(&["--control-token", "T0ken-1"]);
    let api = Api::new(&sandbox.url);
    for header in ["Bearer T0ken-1", "bearer T0ken-1", "BEARER T0ken-1"] {
        assert_eq!(
            post_with_auth(&api, "/api/failures", Some(header)).await,
            200,
            "{header}"
        );
    }
    for header in [Some("Bearer t0ken-1"), Some("Basic T0ken-1"), None] {
        assert_eq!(
            post_with_auth(&api, "/api/failures", header).await,
            401,
            "{header:?}"
        );
    }
}

#[tokio::test]
async fn a_control_token_file_keeps_the_token_out_of_ps_and_its_faults_are_clear() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "file-s3cret\n").expect("token written");
    let path = token_file.to_str().expect("UTF-8 path");
    let sandbox = Sandbox::start(&["--control-token-file", path]);
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", sandbox.pid())).expect("cmdline");
    assert!(!String::from_utf8_lossy(&cmdline).contains("file-s3cret"));
    let api = Api::new(&sandbox.url);
    assert_eq!(
        post_with_auth(&api, "/api/failures", Some("Bearer file-s3cret")).await,
        200
    );
    assert_eq!(
        post_with_auth(&api, "/api/failures", Some("Bearer file-s3cre")).await,
        401
    );

    let missing = dir.path().join("missing");
    let empty = dir.path().join("empty");
    std::fs::write(&empty, " \n").expect("written");
    for (file, expected) in [(&missing, "cannot read"), (&empty, "empty")] {
        let file = file.to_str().unwrap();
        let (code, _, stderr) = run_gameday(&["sandbox", "--control-token-file", file]);
        assert_eq!(code, 1, "{stderr}");
        assert!(
            stderr.contains(file) && stderr.contains(expected),
            "{stderr}"
        );
    }
    let (code, _, stderr) = run_gameday(&[
        "sandbox",
        "--control-token",
        "x",
        "--control-token-file",
        path,
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}

#[test]
fn absurd_limits_are_refused_with_the_allowed_range() {
    for (args, expected) in [
        (&["--max-connections", "0"][..], "1..=65536"),
        (&["--max-connections", "1000000"][..], "1..=65536"),
        (&["--header-timeout", "0s"][..], "from 100ms to 10m"),
        (&["--idle-timeout", "2h"][..], "from 100ms to 1h"),
        (&["--memory-cap", "99999TiB"][..], "from 1MiB to 64GiB"),
        (&["--memory-cap", "1KiB"][..], "from 1MiB to 64GiB"),
    ] {
        let mut full = vec!["sandbox", "--listen", "127.0.0.1:0"];
        full.extend_from_slice(args);
        let (code, _, stderr) = run_gameday(&full);
        assert_ne!(code, 0, "{args:?} accepted");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn log_lines_stay_short_whatever_a_request_sends() {
    let sandbox = Sandbox::start(&[]);
    let api = Api::new(&sandbox.url);
    let huge_value = "x".repeat(65_000);
    let huge_agent = "agent-".repeat(1_000);
    let bodies = [
        json!({ "latency_ms": huge_value }).to_string(),
        format!(r#"{{"{huge_value}": 1}}"#),
        format!(
            r#"{{"latency_ms": 1, "latency_ms{}": 2}}"#,
            "y".repeat(60_000)
        ),
    ];
    for body in &bodies {
        for _ in 0..10 {
            let response = api
                .http
                .post(format!("{}/api/failures", api.base))
                .header("Content-Type", "application/json")
                .header("User-Agent", &huge_agent)
                .body(body.clone())
                .send()
                .await
                .expect("answers");
            assert_eq!(response.status().as_u16(), 400);
            let text = response.text().await.expect("a body");
            assert!(text.len() < 1024, "answer of {} bytes", text.len());
        }
    }
    let log = std::fs::read_to_string(&sandbox.log_path).expect("the log");
    let longest = log.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 2048, "a log line of {longest} bytes");
    assert!(
        log.len() < 64 * 1024,
        "30 bad requests wrote {} bytes",
        log.len()
    );
    let refused = log
        .lines()
        .filter(|line| line.contains("control_refused"))
        .count();
    assert_eq!(refused, 30);
    assert!(log.contains("… ("), "a cut says so: {log}");
}

/// Waits for the child to exit; its status, or `None` after `within`.
fn exited(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[tokio::test]
async fn a_stop_by_signal_or_stdin_finishes_the_request_in_flight_then_exits() {
    for stop in ["stdin", "TERM", "INT"] {
        let mut child = Command::new(GAMEDAY)
            .args(["sandbox", "--listen", "127.0.0.1:0", "--exit-with-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("gameday starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the listening line");
        let url = line.trim().trim_start_matches("listening on ").to_string();
        let api = Api::new(&url);
        let (status, _) = api.post("/api/failures", r#"{"latency_ms": 1000}"#).await;
        assert_eq!(status, 200);
        let health = format!("{url}/health");
        let in_flight = tokio::spawn(async move {
            reqwest::get(health)
                .await
                .map(|response| response.status().as_u16())
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        match stop {
            "stdin" => drop(child.stdin.take()),
            signal => {
                let _ = Command::new("kill")
                    .args([&format!("-{signal}"), &child.id().to_string()])
                    .status();
            }
        }
        let answer = in_flight.await.expect("the request task");
        assert_eq!(answer.ok(), Some(200), "{stop}: the request in flight");
        let status = exited(&mut child, Duration::from_secs(10));
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        assert!(
            status.is_some_and(|status| status.success()),
            "{stop}: {status:?}"
        );
    }
}
