//! The dependency's cases end to end against a real `gameday sandbox` and the payment
//! provider it starts, at a participant's pace: the fault noticed seconds after it shows, the
//! question answered a few seconds later, the fix applied the way a participant would (the
//! patterns switched, the provider's failure cleared, or nothing but waiting), and the review
//! and record read as a participant reads them.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::tmux::Tmux;
use support::{Api, GAMEDAY, Sandbox};

const WAIT: Duration = Duration::from_secs(90);
const SHORT_PHASES: &str = "--baseline 10s --recover-hold 5s --poll-interval 500ms";

/// The seconds a participant takes to notice, and then to answer the question.
const NOTICE: Duration = Duration::from_secs(4);
const ANSWER: Duration = Duration::from_secs(3);

struct Run {
    sandbox: Sandbox,
    provider: Api,
    api: Api,
    tmux: Tmux,
    runtime: tokio::runtime::Runtime,
}

impl Run {
    fn start(case: &str) -> Run {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let sandbox = Sandbox::start(&[]);
        let api = Api::new(&sandbox.url);
        let (_, discovery) = runtime.block_on(api.get("/"));
        let provider_url = discovery["extensions"]["provider"]["url"]
            .as_str()
            .expect("the sandbox names its provider")
            .to_string();
        let tmux = Tmux::start(
            &format!(
                "{GAMEDAY} drill {case} --api {} {SHORT_PHASES}",
                sandbox.url
            ),
            200,
            50,
        );
        Run {
            sandbox,
            provider: Api::new(&provider_url),
            api,
            tmux,
            runtime,
        }
    }

    fn provider_failures(&self) -> Value {
        self.runtime.block_on(self.provider.get("/api/failures")).1["current_config"].clone()
    }

    fn patterns(&self) -> Value {
        self.runtime.block_on(self.api.get("/api/patterns")).1["config"].clone()
    }

    fn metric(&self, series: &str) -> f64 {
        self.runtime.block_on(self.api.metric(series))
    }

    /// Polls every half second until `holds`, for at most a minute.
    fn wait_until(&self, what: &str, holds: impl Fn(&Run) -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !holds(self) {
            assert!(std::time::Instant::now() < deadline, "never: {what}");
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Balance reads that took over a second, as the sandbox counts them.
    fn slow_balance_reads(&self) -> f64 {
        let all = self.metric("fintech_request_latency_seconds_count{endpoint=\"/api/balance\"}");
        let fast = self.metric(
            "fintech_request_latency_seconds_bucket{endpoint=\"/api/balance\",le=\"1.0\"}",
        );
        all - fast
    }

    /// Through the briefing and the baseline to the fault, noticed (seconds after it shows,
    /// once `shows`) and named at a person's pace; the drill is then in Respond.
    fn notice_and_answer(&self, shows: impl Fn(&Run) -> bool) {
        self.tmux.begin_drill();
        self.tmux
            .wait_for("the fault injected", WAIT, |screen| {
                screen.contains("since the fault")
            });
        self.wait_until("the fault shows", shows);
        std::thread::sleep(NOTICE);
        self.tmux.keys("Enter");
        self.tmux
            .wait_for("the detection question", WAIT, |screen| {
                screen.contains("What told you?")
            });
        std::thread::sleep(ANSWER);
        self.tmux.keys("Enter");
        self.tmux.wait_for("the Respond phase", WAIT, |screen| {
            screen.contains("Respond")
        });
    }

    /// Waits for the review, reads it, quits; the screen of the review and the record.
    fn review(&self, case: &str) -> (String, Value) {
        let screen = self
            .tmux
            .wait_for("the review", Duration::from_secs(150), |screen| {
                screen.contains("time to recover (MTTR)")
            });
        self.tmux.keys("q");
        assert_eq!(self.tmux.wait_exit(WAIT), "0");
        let sessions = self.tmux.home().join("data/sessions");
        let path = std::fs::read_dir(&sessions)
            .expect("sessions folder")
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .find(|path| path.extension().is_some_and(|ext| ext == "json"))
            .expect("a record");
        let record: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("record")).expect("JSON");
        assert_eq!(record["case_id"], case);
        assert_eq!(record["outcome"], "completed", "{record}");
        (screen, record)
    }

    fn post_patterns(&self, body: &str) {
        let (status, answer) = self.runtime.block_on(self.api.post("/api/patterns", body));
        assert_eq!(status, 200, "{answer}");
    }

    fn reset_provider(&self) {
        let (status, answer) = self.runtime.block_on(self.provider.post("/api/reset", "{}"));
        assert_eq!(status, 200, "{answer}");
    }
}

fn figure(record: &Value, name: &str) -> f64 {
    record["figures"][name]
        .as_f64()
        .unwrap_or_else(|| panic!("no figure {name}: {}", record["figures"]))
}

/// The cascade: balance fails with the payments; patterns stop it while the provider stays
/// slow, and the drill clears the provider only after the review.
#[test]
fn cascade() {
    let run = Run::start("cascade");
    // Provider calls pile up at once; balance reads slow down once the workers are taken.
    run.notice_and_answer(|run| {
        run.metric("fintech_bulkhead_in_use{upstream=\"provider\"}") > 4.0
    });
    run.wait_until("balance reads slower than a second", |run| {
        run.slow_balance_reads() > 0.0
    });
    // The drill began from every pattern off, and the provider is slow.
    assert_eq!(run.patterns()["timeout"]["enabled"], false);
    assert_eq!(run.provider_failures()["latency_ms"], 10000);
    run.post_patterns(
        r#"{"timeout": {"enabled": true, "ms": 500},
            "circuit_breaker": {"enabled": true, "min_calls": 4, "open_s": 30},
            "bulkhead": {"enabled": true, "max_concurrent": 2}}"#,
    );
    let (screen, record) = run.review("cascade");
    let drill = &record["drill"];
    // Recovered while the provider was still slow: its failure was read back set throughout.
    assert_eq!(drill["provider_active"], true, "{drill}");
    assert!(drill["provider_cleared_at"].is_null());
    let recovered = drill["recovered_at"].as_f64().expect("recovered");
    let failing_since = drill["provider_failing_since"].as_f64().expect("failing");
    assert!(failing_since <= recovered);
    // The impact names the payments the clients asked for and what failed of them.
    let clients = &record["figures"]["impact"]["clients"];
    assert!(
        clients["payments"].as_u64().unwrap_or(0) > 0,
        "{}",
        record["figures"]
    );
    assert!(screen.contains("payments"), "{screen}");
    assert_eq!(record["figures"]["impact"]["double_credits"], 0.0);
    // The drill cleared the provider at its end.
    assert_eq!(run.provider_failures()["latency_ms"], 0);
    eprintln!(
        "cascade: MTTD {:.1} s, MTTR {:.1} s",
        figure(&record, "time_to_detect"),
        figure(&record, "time_to_recover")
    );
}

/// Duplicate webhooks: detected, no double credit, recovered once the provider's duplicates
/// stop (cleared by hand, as the provider's fix).
#[test]
fn duplicate_webhook() {
    let run = Run::start("duplicate-webhook");
    run.notice_and_answer(|run| run.metric("fintech_webhooks_total{result=\"duplicate\"}") > 0.0);
    run.reset_provider();
    let (_, record) = run.review("duplicate-webhook");
    assert!(run.metric("fintech_webhooks_total{result=\"duplicate\"}") > 0.0);
    assert_eq!(run.metric("fintech_ledger_double_credits"), 0.0);
    assert_eq!(record["figures"]["impact"]["double_credits"], 0.0);
    let cleared = record["drill"]["provider_cleared_at"].as_f64().expect("cleared");
    let recovered = record["drill"]["recovered_at"].as_f64().expect("recovered");
    assert!(recovered >= cleared);
    drop(run.sandbox);
}
