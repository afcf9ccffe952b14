//! Sources that are down, slow or answer garbage never freeze or crash the screen: each shows
//! as down with its reason, keys keep working, and a source that comes back resumes by itself.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use support::tmux::Tmux;

/// A loopback server that answers every request with `answer`, or, with `None`, accepts and
/// never answers (holding each connection for 12 s). Stops when dropped, freeing its port.
struct BadServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BadServer {
    fn start(answer: Option<&'static str>) -> BadServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !stopping.load(Ordering::Relaxed) && Instant::now() < deadline {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                let _ = stream.set_nonblocking(false);
                match answer {
                    Some(body) => {
                        let mut request = [0u8; 4096];
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
                        let _ = stream.read(&mut request);
                        let _ = write!(
                            stream,
                            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    None => {
                        std::thread::spawn(move || {
                            std::thread::sleep(Duration::from_secs(12));
                            drop(stream);
                        });
                    }
                }
            }
        });
        BadServer {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for BadServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn down_slow_and_garbage_sources_show_their_reason_and_the_screen_stays_alive() {
    let garbage = BadServer::start(Some("<html><body>Bad Gateway</body></html>"));
    let silent = BadServer::start(None);
    let api_port = garbage.port;
    let command = format!(
        "{} --api http://127.0.0.1:{api_port} --prometheus http://127.0.0.1:{} --docker=unix:///nonexistent/docker.sock",
        support::GAMEDAY,
        silent.port
    );
    let tmux = Tmux::start(&command, 200, 50);
    let screen = tmux.wait_for(
        "every source down with its reason",
        Duration::from_secs(20),
        |s| {
            s.contains("api down")
                && s.contains("prometheus down")
                && s.contains("docker down")
                // The whole reasons are in the log panel.
                && s.contains("gameday: api down: GET /api/failures answered 200 with something that is not JSON: <html><body>Bad Gateway</body></html>")
                && s.contains("gameday: prometheus down: no answer in 5 s")
                && s.contains("gameday: docker down: cannot reach the Docker engine at unix:///nonexistent/docker.sock")
        },
    );
    eprintln!("{screen}");

    // Keys still act while a source hangs.
    let asked = Instant::now();
    tmux.keys("?");
    tmux.wait_for("the help", Duration::from_secs(3), |s| s.contains("Keys"));
    eprintln!(
        "help shown {:.0} ms after the key",
        asked.elapsed().as_secs_f64() * 1000.0
    );
    tmux.keys("Escape");

    // The API comes back on the same port: its source resumes by itself.
    drop(garbage);
    let mut sandbox = std::process::Command::new(support::GAMEDAY)
        .args(["sandbox", "--listen", &format!("127.0.0.1:{api_port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("sandbox starts");
    let back = tmux.wait_for("the API source back", Duration::from_secs(20), |s| {
        s.contains("api ok") && s.contains("gameday: api back") && s.contains("latency_ms")
    });
    let _ = sandbox.kill();
    let _ = sandbox.wait();
    assert!(back.contains("prometheus down"), "{back}");
    tmux.keys("q");
    assert_eq!(tmux.wait_exit(Duration::from_secs(10)), "0");
}
