//! The dashboard rendered with fixed data at several sizes, themes and languages, compared
//! with reviewed snapshots (`cargo insta review` after a deliberate change).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

use gameday::alerts::{AlertState, AlertStatus, Severity};
use gameday::config::Lang;
use gameday::fincore::FailureView;
use gameday::model::{Model, PanelId, TargetInfo};
use gameday::signals::Signal;
use gameday::sources::{LogLevel, LogLine, SourceKind, SourceStatus, Update};
use gameday::theme::Themes;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// 2026-11-22 10:00:00 UTC.
const NOW: f64 = 1_795_341_600.0;

/// Five minutes of a service that starts failing 30 % of requests 90 s ago.
fn fixture() -> Model {
    let target = TargetInfo::embedded("http://127.0.0.1:41234".to_string());
    let sources = [SourceKind::Scrape, SourceKind::Process, SourceKind::Api];
    let mut state = Model::for_target(target, &sources, false, NOW);
    for second in 0..300 {
        let at = NOW - 300.0 + f64::from(second);
        let failing = second >= 210;
        let wave = f64::from(second % 20) / 20.0;
        let metrics = vec![
            (Signal::LatencyP50, 0.012 + 0.002 * wave),
            (Signal::LatencyP95, if failing { 0.090 } else { 0.045 }),
            (Signal::LatencyP99, if failing { 0.240 } else { 0.120 }),
            (Signal::Rps, 20.0 + 2.0 * wave),
            (Signal::ErrorRatio, if failing { 0.3 } else { 0.0 }),
            (Signal::ActiveTransactions, if failing { 4.0 } else { 1.0 }),
            (Signal::PoolInUse, 3.0),
            (Signal::PoolIdle, 7.0),
            (Signal::QueuedRequests, 0.0),
            (Signal::Up, 1.0),
        ];
        state.apply(Update::Signals {
            source: SourceKind::Scrape,
            at,
            values: metrics,
        });
        state.apply(Update::Signals {
            source: SourceKind::Process,
            at,
            values: vec![
                (
                    Signal::MemoryBytes,
                    180.0 * 1_048_576.0 + f64::from(second) * 4096.0,
                ),
                (Signal::MemoryLimitBytes, 512.0 * 1_048_576.0),
                (Signal::Restarts, 1.0),
            ],
        });
    }
    state.apply(Update::Status(
        SourceKind::Scrape,
        SourceStatus::Ok { at: NOW - 1.0 },
    ));
    state.apply(Update::Status(
        SourceKind::Process,
        SourceStatus::Ok { at: NOW - 0.5 },
    ));
    state.apply(Update::Status(
        SourceKind::Api,
        SourceStatus::Down {
            reason: "no answer in 5 s".to_string(),
            since: NOW - 12.0,
        },
    ));
    state.apply(Update::Alerts(vec![
        AlertStatus {
            name: "HighErrorRate".to_string(),
            severity: Severity::Warning,
            state: AlertState::Pending,
            active_since: Some(NOW - 45.0),
            fired_at: None,
            value: Some(0.3),
            for_seconds: Some(60.0),
        },
        AlertStatus {
            name: "HighLatency".to_string(),
            severity: Severity::Warning,
            state: AlertState::Inactive,
            active_since: None,
            fired_at: None,
            value: None,
            for_seconds: Some(60.0),
        },
    ]));
    state.apply(Update::Failures(FailureView {
        knobs: vec![
            ("latency_ms".to_string(), 0.0),
            ("error_rate".to_string(), 30.0),
            ("memory_leak_mb".to_string(), 0.0),
            ("db_slow".to_string(), 0.0),
            ("db_fail".to_string(), 0.0),
        ],
        ttl_remaining_s: vec![("error_rate".to_string(), 510.0)],
        since: vec![(
            "error_rate".to_string(),
            "2026-11-22T09:58:30.000000".to_string(),
        )],
    }));
    let lines = [
        (
            LogLevel::Info,
            "FinCore sandbox listening listen=127.0.0.1:41234 workers=8",
        ),
        (
            LogLevel::Info,
            "failure injected remote=127.0.0.1:50112 changed=error_rate error_rate=30",
        ),
        (
            LogLevel::Warn,
            "request failed endpoint=/api/balance status=500",
        ),
        (
            LogLevel::Warn,
            "request failed endpoint=/api/transfer status=500",
        ),
    ];
    state.apply(Update::Logs(
        lines
            .iter()
            .enumerate()
            .map(|(i, (level, text))| LogLine {
                at: NOW - 90.0 + i as f64,
                level: *level,
                text: text.to_string(),
            })
            .collect(),
    ));
    state.now = NOW;
    state
}

fn render(state: &Model, theme: &str, lang: Lang, width: u16, height: u16) -> TestBackend {
    let themes = Themes::builtin();
    let theme = themes.get(theme).expect("built-in theme");
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|frame| gameday::ui::render(frame, state, theme, lang))
        .expect("draws");
    terminal.backend().clone()
}

#[test]
fn full_dashboard_200x50_dark_english() {
    let state = fixture();
    insta::assert_snapshot!(render(&state, "dark", Lang::En, 200, 50));
}

#[test]
fn laptop_120x32_russian() {
    let state = fixture();
    insta::assert_snapshot!(render(&state, "dark", Lang::Ru, 120, 32));
}

#[test]
fn smallest_usable_60x20() {
    let state = fixture();
    insta::assert_snapshot!(render(&state, "light", Lang::En, 60, 20));
}

#[test]
fn too_small_59x19_says_so() {
    let state = fixture();
    let screen = render(&state, "dark", Lang::En, 59, 19).to_string();
    assert!(screen.contains("too small"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn projector_draws_headline_figures_large() {
    let state = fixture();
    insta::assert_snapshot!(render(&state, "projector", Lang::En, 200, 50));
}

#[test]
fn zoomed_log_with_help_overlay() {
    let mut state = fixture();
    state.view.focus = PanelId::Logs;
    state.view.zoomed = true;
    state.view.help = true;
    insta::assert_snapshot!(render(&state, "colorblind", Lang::En, 100, 30));
}

/// The help on a wide terminal: every binding with the name `[keys]` remaps it by.
#[test]
fn help_lists_every_binding_with_its_name() {
    let mut state = fixture();
    state.view.help = true;
    insta::assert_snapshot!(render(&state, "dark", Lang::En, 200, 50));
}

/// The fixture on a sandbox with a payment provider that fails: the breaker closed until
/// 40 s ago, open, half-open 10 s ago, open again 5 s ago; some webhooks refused.
fn with_failing_provider() -> Model {
    let mut state = fixture();
    for second in 0..300 {
        let at = NOW - 300.0 + f64::from(second);
        let ago = 300 - second;
        let breaker = match ago {
            41.. => 0.0,
            11..=40 => 2.0,
            6..=10 => 1.0,
            _ => 2.0,
        };
        let failing = ago <= 60;
        state.apply(Update::Signals {
            source: SourceKind::Scrape,
            at,
            values: vec![
                (Signal::UpstreamUp, if failing { 0.0 } else { 1.0 }),
                (Signal::UpstreamLatencyP95, if failing { 2.4 } else { 0.12 }),
                (Signal::UpstreamRps, 4.0),
                (Signal::UpstreamErrorRatio, if failing { 0.85 } else { 0.0 }),
                (Signal::BreakerState, breaker),
                (Signal::BulkheadInUse, 3.0),
                (Signal::RetriesRate, if failing { 1.5 } else { 0.0 }),
                (
                    Signal::PaymentsFailedRatio,
                    if failing { 0.4 } else { 0.02 },
                ),
                (Signal::PaymentsPending, 7.0),
                (Signal::PaymentsCompletedLate, 2.0),
                (
                    Signal::WebhooksRejectedRate,
                    if failing { 0.2 } else { 0.0 },
                ),
                (Signal::WebhooksDuplicateRate, 0.1),
                (Signal::DoubleCredits, 0.0),
            ],
        });
    }
    state.apply(Update::PatternsEnabled(
        [
            ("timeout", true),
            ("retry", true),
            ("circuit_breaker", true),
            ("bulkhead", false),
        ]
        .into_iter()
        .map(|(name, on)| (name.to_string(), on))
        .collect(),
    ));
    state.now = NOW;
    state
}

/// The dependency panel beside the log on a laptop, with the breaker's changes.
#[test]
fn dependency_panel_120x40_english() {
    let state = with_failing_provider();
    assert!(state.has_provider());
    let screen = render(&state, "dark", Lang::En, 120, 40);
    let text = screen.to_string();
    for expected in [
        "Payment provider",
        "breaker OPEN",
        "HALF-OPEN → OPEN",
        "closed → OPEN",
        "DOWN",
    ] {
        assert!(text.contains(expected), "{expected}:\n{text}");
    }
    insta::assert_snapshot!(screen);
}

/// The same in Russian on a projector: words, not numbers, for the breaker.
#[test]
fn dependency_panel_200x50_projector_russian() {
    let state = with_failing_provider();
    let screen = render(&state, "projector", Lang::Ru, 200, 50);
    let text = screen.to_string();
    for expected in ["Платёжный провайдер", "автомат ОТКРЫТ", "закрыт → ОТКРЫТ"]
    {
        assert!(text.contains(expected), "{expected}:\n{text}");
    }
    insta::assert_snapshot!(screen);
}

/// Focused and zoomed like any panel; without a provider focus passes it by.
#[test]
fn dependency_panel_zooms_and_focus_skips_it_without_a_provider() {
    let mut state = with_failing_provider();
    state.view.focus = PanelId::Dependency;
    state.view.zoomed = true;
    let text = render(&state, "dark", Lang::En, 100, 30).to_string();
    assert!(
        text.contains("Payment provider") && text.contains("rejected"),
        "{text}"
    );
    assert_eq!(PanelId::Failures.next(true), PanelId::Dependency);
    assert_eq!(PanelId::Failures.next(false), PanelId::Logs);
    assert_eq!(PanelId::Logs.previous(false), PanelId::Failures);
    let plain = render(&fixture(), "dark", Lang::En, 120, 40).to_string();
    assert!(!plain.contains("Payment provider"), "{plain}");
}

/// A latency drill 12 s after its fault, beside the live panels, in the projector theme.
#[test]
fn drill_panel_in_detect_projector() {
    let state = latency_drill_in_detect(false);
    insta::assert_snapshot!(render(&state, "projector", Lang::En, 160, 45));
}

/// The same drill blind, every hint opened: its checklist and hints in their blind wordings,
/// nothing of the cause, in Russian.
#[test]
fn blind_drill_panel_in_detect_russian() {
    let state = latency_drill_in_detect(true);
    let screen = render(&state, "dark", Lang::Ru, 160, 45);
    // The log lines are the fixture's, older than the drill; the drill panel is what is blind.
    let text = screen.to_string();
    assert!(
        text.contains("GET /api/failures показывает, что внесено"),
        "{text}"
    );
    assert!(!text.contains("latency_ms") && !text.contains("Ошибок не прибавилось"));
    insta::assert_snapshot!(screen);
}

/// The shipped latency case, briefed and started at `start` on a sandbox target.
fn started_latency_drill(blind: bool, start: f64) -> gameday::model::DrillSession {
    use gameday::drill::{CaseLibrary, TargetCapabilities};
    use gameday::model::{DrillRequest, DrillSession};

    let case = CaseLibrary::shipped()
        .get("latency")
        .cloned()
        .expect("the shipped latency case");
    let request = DrillRequest {
        case,
        blind,
        manual_inject: false,
        diagnoses: Vec::new(),
    };
    let data = tempfile::tempdir().expect("temporary folder");
    let mut session = DrillSession::new(request, data.path(), "test", Some(600));
    let target = TargetCapabilities {
        sandbox: true,
        docker: false,
        prometheus: false,
        memory: true,
        provider: true,
    };
    let profile = gameday::drill::target_check::TargetProfile {
        capabilities: gameday::fincore::presets::Capabilities::of_sandbox(
            gameday::knobs::names().map(str::to_string).collect(),
            true,
        ),
        metrics: None,
        memory_source: true,
        alert_rules: None,
    };
    session.briefed = true;
    session.start(target, &profile, start);
    session
}

fn latency_drill_in_detect(blind: bool) -> Model {
    use gameday::actions::{ActionKind, ActionOutcome};
    use gameday::signals::Sample;

    let mut state = fixture();
    let start = NOW - 80.0;
    let mut session = started_latency_drill(blind, start);
    for second in 0..61 {
        let at = start + f64::from(second);
        for (signal, value) in [(Signal::LatencyP95, 0.045), (Signal::Up, 1.0)] {
            session.samples(&[(signal, Sample { at, value })]);
        }
    }
    session.tick(start + 61.0);
    session.outcome(&ActionOutcome {
        kind: ActionKind::FailureChange {
            body: serde_json::json!({"latency_ms": 2000, "ttl_s": 600}),
        },
        sent_at: NOW - 12.2,
        at: NOW - 12.0,
        request: r#"POST /api/failures {"latency_ms":2000,"ttl_s":600}"#.to_string(),
        answer: "200 updated".to_string(),
        ok: true,
        notes: Vec::new(),
    });
    if blind {
        for _ in 0..3 {
            session.hint(NOW - 1.0);
        }
    }
    // The path of the record differs every run; the rest is what the panel shows.
    session.record_path = None;
    state.drill = Some(session);
    state
}

/// A latency drill to its review: the fault at +0 s, detected at +8 s, reset at +18 s, back in
/// its band from +24 s; our load's clients and the target's rate and errors throughout.
fn reviewed_latency_drill() -> Model {
    use gameday::actions::ActionKind;
    use gameday::drill::Phase;
    use gameday::drill::impact::ClientCounts;
    use gameday::signals::Sample;

    let mut state = fixture();
    let start = NOW - 140.0;
    let injected = start + 61.0;
    let mut session = started_latency_drill(false, start);
    let mut clients = ClientCounts::default();
    for second in 0..=130 {
        let at = start + f64::from(second);
        let since = at - injected;
        let faulty = (0.0..24.0).contains(&since);
        let p95 = if faulty { 2.05 } else { 0.045 };
        clients.requests += if faulty { 4 } else { 20 };
        if faulty {
            clients.failed += 1;
            clients.slow += 3;
        }
        let machine = session.machine.as_mut().expect("a started drill");
        for (signal, value) in [
            (Signal::LatencyP95, p95),
            (Signal::LatencyP99, p95 * 1.1),
            (Signal::Rps, if faulty { 4.0 } else { 20.0 }),
            (Signal::ErrorRatio, if faulty { 0.25 } else { 0.0 }),
            (Signal::Up, 1.0),
        ] {
            machine.sample(signal, Sample { at, value });
        }
        machine.observe_clients(at, clients);
        machine.tick(at);
        match second {
            61 => {
                assert_eq!(machine.phase(), Phase::Inject);
                machine.injected(injected);
            }
            69 => {
                // As the detection dialog answers: the signal that told, which ticks its item.
                session.declare(at, Some(Signal::LatencyP95), None, None);
            }
            72 => {
                machine.check_item(at, gameday::drill::Step::Respond, 0, true);
                machine.action(at, ActionKind::HintOpened { index: 0 });
            }
            79 => {
                machine.action(at, ActionKind::FailureReset);
                machine.failures_read_back(at + 0.5, false, None);
            }
            _ => {}
        }
    }
    let machine = session.machine.as_ref().expect("a started drill");
    assert_eq!(
        machine.phase(),
        Phase::Review,
        "{:?}",
        machine.state().reason
    );
    session.record_path = None;
    state.drill = Some(session);
    state
}

#[test]
fn drill_review_200x50_english() {
    let state = reviewed_latency_drill();
    insta::assert_snapshot!(render(&state, "dark", Lang::En, 200, 50));
}

#[test]
fn drill_review_scrolled_to_its_end_120x40_russian() {
    let mut state = reviewed_latency_drill();
    // The first frame measures the review; the keys scroll within it.
    let _ = render(&state, "dark", Lang::Ru, 120, 40);
    state.view.review_scroll = state.view.review_scroll_most.get();
    assert!(
        state.view.review_scroll > 0,
        "the review is longer than 40 rows"
    );
    insta::assert_snapshot!(render(&state, "dark", Lang::Ru, 120, 40));
}
