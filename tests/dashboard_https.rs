//! https targets: the dashboard talks TLS through rustls (no system OpenSSL), trusts a
//! self-signed certificate given by `--ca-cert`, and without it says the certificate is not
//! trusted. The target is a FinCore-shaped https server (Python's `ssl` module) on loopback with
//! a certificate made in the test by the `openssl` command-line tool.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::tmux::Tmux;

/// Serves `/`, `/health`, `/api/failures` and a small `/metrics` over TLS on a free loopback
/// port, which it prints first; stops after 5 minutes at most.
const SERVER: &str = r##"
import http.server, json, ssl, sys, threading, time
started = time.time()
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def do_GET(self):
        if self.path == "/metrics":
            count = 100 + 10 * int(time.time() - started)
            body = ("# TYPE fintech_requests_total counter\n"
                    'fintech_requests_total{endpoint="/api/balance",method="GET",status="200"} %d\n'
                    "process_resident_memory_bytes 2.5e7\n" % count)
            kind = "text/plain; version=0.0.4"
        elif self.path == "/health":
            body, kind = json.dumps({"status": "healthy", "database": "ok"}), "application/json"
        elif self.path == "/api/failures":
            body = json.dumps({"current_config": {"latency_ms": 0, "error_rate": 0,
                               "memory_leak_mb": 0, "db_slow": False, "db_fail": False}})
            kind = "application/json"
        else:
            body, kind = json.dumps({"service": "fincore", "version": "tls-test"}), "application/json"
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
threading.Timer(300, server.shutdown).start()
server.serve_forever()
"##;

struct TlsTarget {
    child: Child,
    port: u16,
}

impl TlsTarget {
    fn start(cert: &Path, key: &Path) -> TlsTarget {
        let mut child = Command::new("python3")
            .args(["-c", SERVER])
            .arg(cert)
            .arg(key)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the port");
        let port = line.trim().parse().expect("a port number");
        TlsTarget { child, port }
    }
}

impl Drop for TlsTarget {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A self-signed certificate for 127.0.0.1 (not a CA: webpki takes a CA certificate for an
/// authority, never for the server itself), and its key.
fn self_signed(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs (scripts/test.sh installs it)");
    assert!(status.success(), "openssl req failed");
    (cert, key)
}

#[test]
fn a_self_signed_https_target_is_trusted_with_ca_cert_and_refused_without() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = self_signed(dir.path());
    let target = TlsTarget::start(&cert, &key);
    let api = format!("https://127.0.0.1:{}", target.port);

    let trusted = Tmux::start(
        &format!(
            "{} --api {api} --ca-cert {} --load off",
            support::GAMEDAY,
            cert.display()
        ),
        200,
        50,
    );
    let screen = trusted.wait_for("every source ok over https", Duration::from_secs(20), |s| {
        s.contains("api ok") && s.contains("metrics ok") && s.contains("health ok")
    });
    assert!(screen.contains(&api), "{screen}");
    trusted.keys("q");
    assert_eq!(trusted.wait_exit(Duration::from_secs(10)), "0");

    let untrusted = Tmux::start(
        &format!("{} --api {api} --load off", support::GAMEDAY),
        200,
        50,
    );
    let screen = untrusted.wait_for("the certificate refused", Duration::from_secs(20), |s| {
        s.contains("api down") && s.contains("metrics down")
    });
    // The log panel has the whole reason.
    assert!(
        screen.contains("gameday: api down: TLS: invalid peer certificate"),
        "{screen}"
    );
    assert!(screen.contains("trust it with --ca-cert"), "{screen}");
    untrusted.keys("q");
    assert_eq!(untrusted.wait_exit(Duration::from_secs(10)), "0");
}

#[test]
fn a_ca_cert_that_is_not_a_certificate_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello\n").expect("write");
    let path = not_pem.display().to_string();
    let (code, _, stderr) =
        support::run_gameday(&["--ca-cert", &path, "--api", "http://127.0.0.1:9"]);
    eprintln!("{stderr}");
    assert_ne!(code, 0);
    assert!(stderr.contains("--ca-cert"), "{stderr}");
    assert!(stderr.contains("BEGIN CERTIFICATE"), "{stderr}");
}
