//! The dependency's dialogs (the payment provider's failures, the resilience patterns) and the
//! failure panel's dependency lines, rendered with fixed data in English and Russian and
//! compared with reviewed snapshots (`cargo insta review` after a deliberate change).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

use crossterm::event::KeyCode;
use gameday::config::Lang;
use gameday::fincore::FailureView;
use gameday::fincore::dependency::{ProviderFailureView, ProviderInfo};
use gameday::fincore::presets::Capabilities;
use gameday::model::{Action, Model, Msg, TargetInfo, update};
use gameday::pattern_settings::PatternConfig;
use gameday::sources::{SourceKind, SourceStatus, Update};
use gameday::theme::Themes;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// 2026-11-22 10:00:00 UTC.
const NOW: f64 = 1_795_341_600.0;

/// The sandbox with its provider slowed to 3 s at a quarter of errors, and the timeout on.
fn fixture() -> Model {
    let target = TargetInfo::embedded("http://127.0.0.1:41234".to_string());
    let sources = [SourceKind::Scrape, SourceKind::Process, SourceKind::Api];
    let mut state = Model::for_target(target, &sources, false, NOW);
    state.now = NOW;
    let mut capabilities = Capabilities::of_sandbox(
        [
            "latency_ms",
            "error_rate",
            "memory_leak_mb",
            "db_slow",
            "db_fail",
        ]
        .map(str::to_string)
        .to_vec(),
        true,
    );
    capabilities.provider = Some(ProviderInfo {
        url: "http://127.0.0.1:41235".to_string(),
        embedded: true,
    });
    capabilities.patterns = true;
    state.apply(Update::Capabilities(capabilities));
    state.apply(Update::Status(
        SourceKind::Api,
        SourceStatus::Ok { at: NOW },
    ));
    state.apply(Update::Failures(FailureView {
        knobs: [
            "latency_ms",
            "error_rate",
            "memory_leak_mb",
            "db_slow",
            "db_fail",
        ]
        .map(|name| (name.to_string(), 0.0))
        .to_vec(),
        ..FailureView::default()
    }));
    let provider = serde_json::json!({"current_config": {
        "latency_ms": 3000, "error_rate": 0.25, "timeout": false, "rate_limit_per_s": 0,
        "down": false, "webhook_delay_ms": 0, "webhook_duplicate_rate": 0.0,
        "webhook_forged_rate": 0.0,
    }});
    state.apply(Update::ProviderFailures(
        ProviderFailureView::from_json(&provider).expect("a read-back"),
    ));
    let patterns = serde_json::json!({"config": {
        "timeout": {"enabled": true, "ms": 500},
        "retry": {"enabled": false, "max_attempts": 3, "base_ms": 100, "max_ms": 2000, "jitter": true},
        "circuit_breaker": {"enabled": false, "failure_ratio": 0.5, "window_s": 10, "min_calls": 10, "open_s": 5, "half_open_probes": 3},
        "bulkhead": {"enabled": false, "max_concurrent": 10},
        "fallback": {"enabled": false},
    }});
    state.apply(Update::Patterns(
        PatternConfig::from_json(&patterns).expect("a read-back"),
    ));
    state
}

fn keys(state: &mut Model, actions: &[Action]) {
    for action in actions {
        update(state, Msg::Action(*action));
    }
}

fn render(state: &Model, lang: Lang, width: u16, height: u16) -> TestBackend {
    let themes = Themes::builtin();
    let theme = themes.get("dark").expect("built-in theme");
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|frame| gameday::ui::render(frame, state, theme, lang))
        .expect("draws");
    terminal.backend().clone()
}

/// The provider's dialog with `error_rate` selected and 0.5 being typed.
fn provider_dialog() -> Model {
    let mut state = fixture();
    keys(
        &mut state,
        &[
            Action::OpenProviderFailures,
            Action::ModalKey(KeyCode::Down),
            Action::ModalKey(KeyCode::Char('0')),
            Action::ModalKey(KeyCode::Char('.')),
            Action::ModalKey(KeyCode::Char('5')),
        ],
    );
    state
}

/// The patterns' dialog with the breaker's row selected and switched on.
fn patterns_dialog() -> Model {
    let mut state = fixture();
    keys(
        &mut state,
        &[
            Action::OpenPatterns,
            Action::ModalKey(KeyCode::Down),
            Action::ModalKey(KeyCode::Down),
            Action::ModalKey(KeyCode::Char(' ')),
        ],
    );
    state
}

#[test]
fn provider_dialog_english() {
    insta::assert_snapshot!(render(&provider_dialog(), Lang::En, 120, 40));
}

#[test]
fn provider_dialog_russian() {
    insta::assert_snapshot!(render(&provider_dialog(), Lang::Ru, 120, 40));
}

#[test]
fn patterns_dialog_english() {
    insta::assert_snapshot!(render(&patterns_dialog(), Lang::En, 120, 40));
}

#[test]
fn patterns_dialog_russian() {
    insta::assert_snapshot!(render(&patterns_dialog(), Lang::Ru, 120, 40));
}

/// The failure panel's `provider` and `patterns` lines, and the dependency keys in the bar.
#[test]
fn failure_panel_with_the_dependency_english() {
    let screen = format!("{:?}", render(&fixture(), Lang::En, 200, 50));
    for part in [
        "provider  latency_ms 3000 · error_rate 0.25",
        "patterns  timeout 500 ms",
        "P  provider…",
        "b  patterns…",
    ] {
        assert!(screen.contains(part), "{part} not on screen:\n{screen}");
    }
    insta::assert_snapshot!(render(&fixture(), Lang::En, 200, 50));
}
