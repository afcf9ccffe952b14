//! How long a full dashboard frame takes to render at 200×50 (the size a projected terminal
//! often has), with 15 minutes of history in every series, against what ratatui itself needs
//! to fill and diff a frame of that size: `cargo bench --bench render`.
//!
//! Times are the benchmark thread's CPU time, not wall time: the machines this runs on are
//! shared, and another process taking the core would otherwise count as render time.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

use std::hint::black_box;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gameday::config::Lang;
use gameday::model::{Model, TargetInfo};
use gameday::signals::Signal;
use gameday::sources::{SourceKind, Update};
use gameday::theme::Themes;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn busy_state() -> Model {
    let now = 1_795_341_600.0;
    let target = TargetInfo::embedded("http://127.0.0.1:41234".to_string());
    let mut state = Model::for_target(
        target,
        &[SourceKind::Scrape, SourceKind::Process],
        true,
        now,
    );
    for second in 0..900 {
        let at = now - 900.0 + f64::from(second);
        let wave = f64::from(second % 30) / 30.0;
        let values = Signal::ALL
            .iter()
            .map(|signal| (*signal, 1.0 + wave))
            .collect();
        state.apply(Update::Signals {
            source: SourceKind::Scrape,
            at,
            values,
        });
        let memory = vec![
            (Signal::MemoryBytes, 2e8 + wave * 1e7),
            (Signal::MemoryLimitBytes, 5.36e8),
            (Signal::Restarts, 1.0),
        ];
        state.apply(Update::Signals {
            source: SourceKind::Process,
            at,
            values: memory,
        });
    }
    state.now = now;
    state
}

fn render_frame(c: &mut Criterion<ThreadCpuTime>) {
    let state = busy_state();
    let themes = Themes::builtin();
    for theme_name in ["dark", "projector"] {
        let theme = themes.get(theme_name).expect("built-in theme");
        let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test terminal");
        c.bench_function(&format!("full frame 200x50 {theme_name}"), |b| {
            b.iter(|| {
                terminal
                    .draw(|frame| gameday::ui::render(frame, black_box(&state), theme, Lang::En))
                    .expect("draws");
            })
        });
    }
}

/// What ratatui itself costs for a frame of this size: fill it with one style and diff it.
fn empty_frame(c: &mut Criterion<ThreadCpuTime>) {
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test terminal");
    let style = ratatui::style::Style::new()
        .fg(ratatui::style::Color::White)
        .bg(ratatui::style::Color::Black);
    c.bench_function("empty frame 200x50 (fill and diff only)", |b| {
        b.iter(|| {
            terminal
                .draw(|frame| {
                    let area = frame.area();
                    frame.render_widget(ratatui::widgets::Block::new().style(style), area);
                })
                .expect("draws");
        })
    });
}

/// CPU time of the calling thread, in nanoseconds.
struct ThreadCpuTime;

fn thread_cpu_nanos() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to write into.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "thread CPU clock");
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_nanos()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_nanos().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &Nanoseconds
    }
}

struct Nanoseconds;

impl ValueFormatter for Nanoseconds {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical < 1e3 {
            (1.0, "ns")
        } else if typical < 1e6 {
            (1e-3, "µs")
        } else {
            (1e-6, "ms")
        };
        values.iter_mut().for_each(|value| *value *= factor);
        unit
    }
    fn scale_throughputs(&self, _: f64, _: &Throughput, _: &mut [f64]) -> &'static str {
        "ns"
    }
    fn scale_for_machines(&self, _: &mut [f64]) -> &'static str {
        "ns"
    }
}

fn cpu_time() -> Criterion<ThreadCpuTime> {
    Criterion::default().with_measurement(ThreadCpuTime)
}

criterion_group! {
    name = benches;
    config = cpu_time();
    targets = render_frame, empty_frame
}
criterion_main!(benches);
