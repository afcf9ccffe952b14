//! Unit tests of case parsing and checking; `tests/cases_validate.rs` runs the binary on files.

use super::case::{
    ContainerInjection, ContainerWhen, Difficulty, PlannedInjection, Step, TargetCapabilities,
};
use super::library::{CaseLibrary, shipped_reports};
use super::validate::{ProblemSeverity, check_case, line_column};
use crate::actions::ContainerAction;
use crate::alerts::Comparison;
use crate::i18n::Lang;
use crate::knobs::Knob;
use crate::signals::Signal;
use std::time::Duration;

const MINIMAL: &str = include_str!("../../tests/fixtures/cases/valid/minimal.toml");

fn problems(text: &str) -> Vec<String> {
    check_case("x.toml", text)
        .problems
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn every_shipped_case_is_valid_without_warnings() {
    for report in shipped_reports() {
        assert!(
            report.problems.is_empty(),
            "{}: {:?}",
            report.file,
            report.problems
        );
        let case = report.case.expect("valid");
        assert_eq!(report.file, format!("cases/{}.toml", case.id));
        for step in Step::ALL {
            assert!(!case.checklist_for(step).is_empty(), "{} {step:?}", case.id);
        }
        assert!(
            case.hints.len() >= 2 && !case.debrief.is_empty(),
            "{}",
            case.id
        );
    }
    let library = CaseLibrary::shipped();
    assert_eq!(
        library.ids(),
        [
            "latency",
            "error-rate",
            "slow-db",
            "memory-leak",
            "chaos",
            "cascade",
            "db-down",
            "pool-exhaustion",
            "provider-timeout",
            "provider-outage",
            "rate-limit",
            "duplicate-webhook",
            "forged-webhook",
            "db-restart"
        ]
    );
}

#[test]
fn the_workshop_cases_inject_what_the_workshop_does() {
    let library = CaseLibrary::shipped();
    let body = |id: &str| {
        let case = library.get(id).expect("case");
        case.injection
            .failures
            .as_ref()
            .expect("failures")
            .to_json()
            .to_string()
    };
    assert_eq!(body("latency"), r#"{"latency_ms":2000}"#);
    assert_eq!(body("error-rate"), r#"{"error_rate":30}"#);
    assert_eq!(body("slow-db"), r#"{"db_slow":true}"#);
    // Paced below the workshop's 5 MiB so the limit is minutes away (see the case file).
    assert_eq!(body("memory-leak"), r#"{"memory_leak_mb":1}"#);
    assert_eq!(
        body("chaos"),
        r#"{"db_slow":true,"error_rate":10,"latency_ms":800}"#
    );
    assert_eq!(body("db-down"), r#"{"db_fail":true}"#);
    let latency = library.get("latency").expect("latency");
    assert_eq!(latency.difficulty, Difficulty::Easy);
    assert_eq!(latency.alerts, ["HighLatency"]);
    assert_eq!(latency.load.profile, "steady");
    assert_eq!(latency.signals[0].condition.signal, Signal::LatencyP95);
    assert_eq!(latency.signals[0].condition.comparison, Comparison::Above);
    assert!(latency.signals[0].promql.is_some());
    assert!(latency.title.ru.starts_with("Задержка"));
}

#[test]
fn db_down_uses_db_fail_on_the_sandbox_and_stops_the_db_container_elsewhere() {
    let library = CaseLibrary::shipped();
    let case = library.get("db-down").expect("db-down");
    let sandbox = TargetCapabilities {
        sandbox: true,
        ..TargetCapabilities::default()
    };
    let plan = case.plan_injection(sandbox).expect("runs on the sandbox");
    assert_eq!(plan.failures.and_then(|f| f.flag(Knob::DbFail)), Some(true));
    assert!(plan.container.is_none());

    let workshop = TargetCapabilities {
        docker: true,
        ..TargetCapabilities::default()
    };
    let plan = case.plan_injection(workshop).expect("runs with Docker");
    assert!(plan.failures.is_none());
    let container = plan.container.expect("container action");
    assert_eq!(
        (container.action, container.when),
        (ContainerAction::StopDb, ContainerWhen::NoSandbox)
    );

    let error = case
        .plan_injection(TargetCapabilities::default())
        .expect_err("neither sandbox nor Docker");
    assert!(error.contains("needs the sandbox, or Docker"), "{error}");
    let pool = library.get("pool-exhaustion").expect("pool-exhaustion");
    assert!(pool.plan_injection(workshop).is_err());
    let latency = library.get("latency").expect("latency");
    assert!(
        latency
            .plan_injection(TargetCapabilities::default())
            .is_ok()
    );
}

#[test]
fn a_case_watching_restarts_needs_a_memory_source() {
    let library = CaseLibrary::shipped();
    let leak = library.get("memory-leak").expect("memory-leak");
    let error = leak
        .plan_injection(TargetCapabilities::default())
        .expect_err("the service's own metrics give no limit and no restarts");
    assert!(
        error.contains("needs a memory limit and restarts (restarts)"),
        "{error}"
    );
    for target in [
        TargetCapabilities {
            docker: true,
            memory: true,
            ..TargetCapabilities::default()
        },
        TargetCapabilities {
            sandbox: true,
            memory: true,
            ..TargetCapabilities::default()
        },
    ] {
        assert!(leak.plan_injection(target).is_ok(), "{target:?}");
    }
}

#[test]
fn the_minimal_fixture_takes_the_defaults() {
    let report = check_case("minimal.toml", MINIMAL);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let case = report.case.expect("valid");
    assert_eq!(case.baseline.as_secs(), 60);
    assert_eq!(case.recovery.hold.as_secs(), 30);
    assert_eq!(case.recovery.tolerance, 0.25);
    assert!(case.recovery.failures_cleared);
    assert_eq!(case.load.mix_text, "balance=70,transfer=20,health=10");
    assert!(case.requires.is_empty() && case.alerts.is_empty() && case.hints.is_empty());
    let verify = case.checklist_for(Step::Detect)[0]
        .verify
        .expect("auto item");
    assert_eq!(verify.threshold, 0.4);
}

#[test]
fn an_integer_threshold_is_a_number() {
    let text = MINIMAL.replace(
        "threshold = 0.4\n\n[checklist]",
        "threshold = 2\n\n[checklist]",
    );
    let case = check_case("x.toml", &text).case.expect("valid");
    assert_eq!(case.signals[0].condition.threshold, 2.0);
}

#[test]
fn semantic_problems_are_all_reported_with_their_places() {
    let text = MINIMAL
        .replace("latency_ms = 500", "latency_ms = -1\nerror_rate = 101")
        .replace(
            "signal = \"latency_p95\"\ncomparison",
            "signal = \"p95\"\ncomparison",
        )
        .replace("rate = 5", "rate = 0");
    let found = problems(&text);
    assert_eq!(
        found,
        [
            "x.toml:14:14: injection.failures.latency_ms: -1 is out of range; expected 0 to 60000 (milliseconds)",
            "x.toml:15:14: injection.failures.error_rate: 101 is out of range; expected 0 to 100 (percent)",
            "x.toml:19:8: load.rate: 0 is out of range; expected requests per second, 0 to 10000",
            &format!(
                "x.toml:22:10: signals[0].signal: `p95` is not a signal; expected one of {}",
                Signal::ALL.map(Signal::name).join(", ")
            ),
        ]
    );
}

#[test]
fn a_missing_table_and_a_missing_text_are_named() {
    let text = MINIMAL.replace(
        "[diagnosis]\nen = \"Added delay\"\nru = \"Добавленная задержка\"\n",
        "",
    );
    assert_eq!(problems(&text), ["x.toml:1:1: missing key `diagnosis`"]);
    let text = MINIMAL.replace("ru = \"Посмотрите на задержку\" ", "");
    let found = problems(&text);
    assert_eq!(found.len(), 1);
    assert!(
        found[0].starts_with("x.toml:26:13: checklist.baseline[0]: missing key `ru`"),
        "{found:?}"
    );
}

#[test]
fn an_empty_translation_is_an_error() {
    let text = MINIMAL.replace("ru = \"Добавленная задержка\"", "ru = \" \"");
    assert_eq!(
        problems(&text),
        ["x.toml:37:6: diagnosis.ru: empty; expected the text in Russian"]
    );
}

#[test]
fn container_actions_need_docker_unless_they_replace_the_failures() {
    let with_container = MINIMAL.replace(
        "[injection.failures]",
        "[injection.container]\naction = \"restart\"\ntarget = \"app\"\n\n[injection.failures]",
    );
    let found = problems(&with_container);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("injection.container: a container action needs Docker"),
        "{found:?}"
    );
    let fixed = with_container.replace(
        "difficulty = \"easy\"",
        "difficulty = \"easy\"\nrequires = [\"docker\"]",
    );
    assert_eq!(problems(&fixed), Vec::<String>::new());
    let fallback_only = MINIMAL.replace(
        "[injection.failures]\nlatency_ms = 500",
        "[injection.container]\naction = \"stop\"\ntarget = \"db\"\nwhen = \"no-sandbox\"",
    );
    let found = problems(&fallback_only);
    assert!(
        found[0].contains("injection.container.when: \"no-sandbox\" replaces"),
        "{found:?}"
    );
}

#[test]
fn a_container_action_must_be_one_the_dashboard_offers() {
    let text = MINIMAL
        .replace(
            "difficulty = \"easy\"",
            "difficulty = \"easy\"\nrequires = [\"docker\"]",
        )
        .replace(
            "[injection.failures]",
            "[injection.container]\naction = \"restart\"\ntarget = \"db\"\n\n[injection.failures]",
        );
    assert_eq!(
        problems(&text),
        [
            "x.toml:15:10: injection.container.action: `restart db` is not a container action; \
             expected one of restart app, stop app, start app, stop db, start db"
        ]
    );
}

#[test]
fn every_knob_problem_is_reported_with_its_place() {
    let names = crate::knobs::names().collect::<Vec<_>>().join(", ");
    let text = MINIMAL.replace(
        "latency_ms = 500",
        "latency_ms = \"300\"\ndb_slow = 1\nttl_s = 90000\ncolour = \"red\"",
    );
    assert_eq!(
        problems(&text),
        [
            "x.toml:14:14: injection.failures.latency_ms: expected an integer, found a string",
            "x.toml:15:11: injection.failures.db_slow: expected a boolean, found an integer",
            "x.toml:16:9: injection.failures.ttl_s: 90000 is out of range; expected 0 to 86400 (seconds)",
            &format!(
                "x.toml:17:1: injection.failures.colour: unknown key; expected one of {names}, ttl_s"
            ),
            "x.toml:16:9: injection.failures.ttl_s: works only on gameday's sandbox; expected \
             \"sandbox\" in `requires` (or a container action with when = \"no-sandbox\")",
        ]
    );
    let empty = MINIMAL.replace("latency_ms = 500", "");
    assert_eq!(
        problems(&empty),
        [format!(
            "x.toml:13:1: injection.failures: no knob set; expected {names} or ttl_s"
        )]
    );
}

#[test]
fn a_planned_injection_is_recorded_as_the_body_and_the_container_action() {
    let library = CaseLibrary::shipped();
    let chaos = library.get("chaos").expect("chaos");
    let plan = chaos
        .plan_injection(TargetCapabilities {
            sandbox: true,
            ..TargetCapabilities::default()
        })
        .expect("runs on the sandbox");
    let planned = |failures, container| PlannedInjection {
        failures,
        container,
        provider: None,
    };
    let with_container = planned(
        plan.failures.map(|body| body.with(Knob::DbFail, true)),
        Some(ContainerInjection {
            action: ContainerAction::StopDb,
            when: ContainerWhen::NoSandbox,
        }),
    );
    let json = serde_json::to_value(&with_container).expect("serializes");
    assert_eq!(
        json,
        serde_json::json!({
            "failures": {"latency_ms": 800, "error_rate": 10, "db_slow": true, "db_fail": true},
            "container": {"verb": "stop", "target": "db", "when": "no-sandbox"},
        })
    );
    let back: PlannedInjection = serde_json::from_value(json).expect("reads back");
    assert_eq!(back, with_container);
    let bad = serde_json::json!({"failures": {"latency_ms": "300"}, "container": null});
    assert!(serde_json::from_value::<PlannedInjection>(bad).is_err());
}

#[test]
fn unknown_alerts_are_warnings_and_the_case_stays_valid() {
    let text = MINIMAL.replace(
        "difficulty = \"easy\"",
        "difficulty = \"easy\"\nalerts = [\"HighLatency\", \"Mine\"]",
    );
    let report = check_case("x.toml", &text);
    assert!(report.case.is_some());
    assert_eq!(report.problems.len(), 1);
    assert_eq!(report.problems[0].severity, ProblemSeverity::Warning);
    assert!(
        report.problems[0]
            .to_string()
            .starts_with("x.toml:4:26: warning: alerts[1]: `Mine`")
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    let text = "ru = \"Задержка\"\nx = 1";
    assert_eq!(line_column(text, 0), (1, 1));
    let after_word = text.find("\"\n").expect("quote");
    assert_eq!(line_column(text, after_word), (1, 15));
    assert_eq!(line_column(text, text.len()), (2, 6));
}

#[test]
fn random_picks_and_blind_choices_are_seeded() {
    let library = CaseLibrary::shipped();
    let first = library.pick_random(7).expect("a case").id.clone();
    assert_eq!(library.pick_random(7).expect("a case").id, first);
    let picks: std::collections::BTreeSet<String> = (0..50)
        .filter_map(|seed| library.pick_random(seed).map(|case| case.id.clone()))
        .collect();
    assert!(picks.len() > 3, "seeds pick different cases: {picks:?}");
    let choices = library.diagnosis_choices(3, Lang::Ru);
    assert_eq!(choices, library.diagnosis_choices(3, Lang::Ru));
    assert_eq!(choices.len(), 14);
    assert!(
        choices
            .iter()
            .any(|(id, label)| id == "db-down" && label == "База данных недоступна")
    );
    assert!(CaseLibrary::default().pick_random(1).is_none());
}

#[test]
fn a_closed_loop_takes_clients_and_think_instead_of_a_rate() {
    let text = MINIMAL.replace("rate = 5", "clients = 1\nthink = \"150ms\"");
    let case = check_case("x.toml", &text).case.expect("valid");
    let closed = case.load.closed.expect("a closed loop");
    assert_eq!(
        (closed.clients, closed.think),
        (1, Duration::from_millis(150))
    );
    assert_eq!(
        case.load.describe(),
        format!(
            "closed loop: 1 client(s), think 150ms, {}",
            case.load.mix_text
        )
    );

    let both = MINIMAL.replace("rate = 5", "rate = 5\nclients = 2");
    assert_eq!(
        problems(&both),
        [
            "x.toml:18:8: load.rate: a closed loop has no rate; expected either `rate` (open) or `clients` and `think` (closed)"
        ]
    );
    let neither = MINIMAL.replace("rate = 5\n", "");
    let found = problems(&neither);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("load.rate: missing; expected `rate`"),
        "{found:?}"
    );
    let crowd = MINIMAL.replace("rate = 5", "clients = 40");
    assert_eq!(
        problems(&crowd),
        ["x.toml:18:11: load.clients: 40 is out of range; expected 1 to 16 clients"]
    );
}

#[test]
fn on_detection_belongs_to_a_detect_item_without_verify() {
    let text = MINIMAL.replace(
        "respond = [{ en = \"Reset\", ru = \"Сбросьте отказы\" }]",
        "respond = [{ en = \"Reset\", ru = \"Сбросьте отказы\", on_detection = true }]",
    );
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains(
            "checklist.respond[0].on_detection: only an item of `detect` without `verify`"
        ),
        "{found:?}"
    );
}
