//! A FinCore-shaped target on loopback whose `/metrics` is hostile, chosen by the first part
//! of the path (`--api http://127.0.0.1:PORT/big`): `big` answers 50 MB (with its length
//! said), `endless` a body without a length that never ends, `hostile` a valid exposition of
//! implausible values. `/`, `/health` and `/api/failures` answer as the API does. One thread
//! per connection; everything stops when dropped (or after 10 minutes), freeing the port.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub struct HostileTarget {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HostileTarget {
    pub fn start() -> HostileTarget {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let started = Instant::now();
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(600)
            {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let stopping = Arc::clone(&stopping);
                std::thread::spawn(move || answer(stream, started, &stopping));
            }
        });
        HostileTarget {
            port,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self, mode: &str) -> String {
        format!("http://127.0.0.1:{}/{mode}", self.port)
    }
}

impl Drop for HostileTarget {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer(stream: TcpStream, started: Instant, stop: &AtomicBool) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header == "\r\n" || header == "\n" {
                break;
            }
        }
        let path = request_line.split_whitespace().nth(1).unwrap_or("/");
        let (mode, rest) = path
            .trim_start_matches('/')
            .split_once('/')
            .unwrap_or(("", ""));
        let kept_alive = match (mode, rest) {
            (_, "health") => json(&mut writer, r#"{"status":"healthy","database":"ok"}"#),
            (_, "api/failures") => json(
                &mut writer,
                r#"{"current_config":{"latency_ms":0,"error_rate":0,"memory_leak_mb":0,"db_slow":false,"db_fail":false}}"#,
            ),
            ("big", "metrics") => {
                big(&mut writer);
                false
            }
            ("endless", "metrics") => {
                endless(&mut writer, stop);
                false
            }
            ("hostile", "metrics") => text(&mut writer, &hostile_exposition(started)),
            _ => json(&mut writer, r#"{"service":"fincore","version":"test"}"#),
        };
        if !kept_alive {
            return;
        }
    }
}

fn json(writer: &mut TcpStream, body: &str) -> bool {
    respond(writer, "application/json", body)
}

fn text(writer: &mut TcpStream, body: &str) -> bool {
    respond(writer, "text/plain; version=0.0.4", body)
}

fn respond(writer: &mut TcpStream, content_type: &str, body: &str) -> bool {
    write!(
        writer,
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .is_ok()
}

/// 50 MB of ordinary samples, its length said up front.
fn big(writer: &mut TcpStream) {
    const SIZE: usize = 50_000_000;
    let line = "fintech_requests_total{endpoint=\"/api/balance\",status=\"200\"} 12345\n";
    let _ = write!(
        writer,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {SIZE}\r\nConnection: close\r\n\r\n"
    );
    let block = line.repeat(65536 / line.len());
    let mut sent = 0;
    while sent < SIZE {
        let part = &block.as_bytes()[..block.len().min(SIZE - sent)];
        if writer.write_all(part).is_err() {
            return;
        }
        sent += part.len();
    }
}

/// Samples without end and without a length, until the reader leaves (or the server stops).
fn endless(writer: &mut TcpStream, stop: &AtomicBool) {
    let _ = write!(
        writer,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
    );
    let line = "fintech_requests_total{endpoint=\"/api/balance\",status=\"200\"} 12345\n";
    let block = line.repeat(65536 / line.len());
    while !stop.load(Ordering::Relaxed) {
        if writer.write_all(block.as_bytes()).is_err() {
            return;
        }
    }
}

/// Valid syntax, impossible values: negative latencies and memory, NaN and infinite
/// gauges, a counter of a million digits; and ordinary traffic beside them, growing.
pub fn hostile_exposition(started: Instant) -> String {
    let count = 100.0 + 20.0 * started.elapsed().as_secs_f64().floor();
    let huge = "9".repeat(1_000_000);
    let mut text = String::new();
    text.push_str("# TYPE fintech_requests_total counter\n");
    text.push_str(&format!(
        "fintech_requests_total{{endpoint=\"/api/balance\",method=\"GET\",status=\"200\"}} {count}\n"
    ));
    text.push_str(&format!(
        "fintech_requests_total{{endpoint=\"/api/transfer\",method=\"POST\",status=\"500\"}} {huge}\n"
    ));
    text.push_str("# TYPE fintech_request_latency_seconds histogram\n");
    for le in ["-5", "-1"] {
        text.push_str(&format!(
            "fintech_request_latency_seconds_bucket{{endpoint=\"/api/balance\",le=\"{le}\"}} {count}\n"
        ));
    }
    text.push_str(&format!(
        "fintech_request_latency_seconds_bucket{{endpoint=\"/api/balance\",le=\"+Inf\"}} {count}\n"
    ));
    text.push_str(&format!(
        "fintech_request_latency_seconds_count{{endpoint=\"/api/balance\"}} {count}\n"
    ));
    text.push_str(&format!(
        "fintech_request_latency_seconds_sum{{endpoint=\"/api/balance\"}} {}\n",
        -count
    ));
    text.push_str("process_resident_memory_bytes -1e18\n");
    text.push_str("process_start_time_seconds 1700000000\n");
    text.push_str("process_cpu_seconds_total NaN\n");
    text.push_str("fintech_active_transactions -7\n");
    text.push_str("fintech_queued_requests +Inf\n");
    text
}
