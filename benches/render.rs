//! How long a full dashboard frame takes to render at 200×50 (the size a projected terminal
//! often has), with 15 minutes of history in every series: `cargo bench --bench render`.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
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

fn render_frame(c: &mut Criterion) {
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
fn empty_frame(c: &mut Criterion) {
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

criterion_group!(benches, render_frame, empty_frame);
criterion_main!(benches);
