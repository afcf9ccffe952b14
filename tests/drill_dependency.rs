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

    /// The sum of every sample of `/metrics` whose series starts with `prefix` and contains
    /// `part` (`fintech_requests_total`, `status="5`).
    fn metric_sum(&self, prefix: &str, part: &str) -> f64 {
        let text = self.runtime.block_on(self.api.metrics());
        text.lines()
            .filter(|line| line.starts_with(prefix) && line.contains(part))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// Balance reads that took over a second, as the sandbox counts them.
    fn slow_balance_reads(&self) -> f64 {
        let all = self.metric("fintech_request_latency_seconds_count{endpoint=\"/api/balance\"}");
        let fast = self
            .metric("fintech_request_latency_seconds_bucket{endpoint=\"/api/balance\",le=\"1.0\"}");
        all - fast
    }

    /// Through the briefing and the baseline to the fault, noticed (seconds after it shows,
    /// once `shows`) and named at a person's pace; the drill is then in Respond.
    fn notice_and_answer(&self, shows: impl Fn(&Run) -> bool) {
        self.tmux.begin_drill();
        self.tmux.wait_for("the fault injected", WAIT, |screen| {
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

    /// The participant opens the patterns' dialog (b).
    fn open_patterns(&self) {
        self.tmux.keys("b");
        self.tmux.wait_for("the patterns' dialog", WAIT, |screen| {
            screen.contains("Resilience patterns")
        });
    }

    fn post_patterns(&self, body: &str) {
        let (status, answer) = self.runtime.block_on(self.api.post("/api/patterns", body));
        assert_eq!(status, 200, "{answer}");
    }

    fn reset_provider(&self) {
        let (status, answer) = self
            .runtime
            .block_on(self.provider.post("/api/reset", "{}"));
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
    run.notice_and_answer(|run| run.metric("fintech_bulkhead_in_use{upstream=\"provider\"}") > 4.0);
    run.wait_until("balance reads slower than a second", |run| {
        run.slow_balance_reads() > 0.0
    });
    // The drill began from every pattern off, and the provider is slow.
    assert_eq!(run.patterns()["timeout"]["enabled"], false);
    assert_eq!(run.provider_failures()["latency_ms"], 10000);
    // The participant opens the patterns (b): the timeout on (1000 ms), the breaker on, the
    // bulkhead on and down to 2 calls at once; Enter sends what changed.
    std::thread::sleep(ANSWER);
    run.open_patterns();
    for key in ["Space", "Down", "Down", "Space", "Down", "Down", "Space"] {
        run.tmux.keys(key);
    }
    for _ in 0..8 {
        run.tmux.keys("Left");
    }
    run.tmux.keys("Enter");
    let (screen, record) = run.review("cascade");
    let patterns = run.patterns();
    for pattern in ["timeout", "circuit_breaker", "bulkhead"] {
        assert_eq!(patterns[pattern]["enabled"], true, "{pattern}: {patterns}");
    }
    assert_eq!(patterns["bulkhead"]["max_concurrent"], 2);
    // The fix is the participant's action, at the time of its answer.
    let fix = &record["drill"]["actions"][0];
    assert_eq!(
        fix["kind"], "pattern_change",
        "{}",
        record["drill"]["actions"]
    );
    let drill = &record["drill"];
    // Recovered while the provider was still slow: its failure was read back set throughout.
    assert_eq!(drill["provider_active"], true, "{drill}");
    assert!(drill["provider_cleared_at"].is_null());
    let recovered = drill["recovered_at"].as_f64().expect("recovered");
    let failing_since = drill["provider_failing_since"].as_f64().expect("failing");
    assert!(failing_since <= recovered);
    // The impact names the payments the clients asked for and what failed of them.
    // Balance did go slow before the fix, and recovery came after it.
    let balance = record["figures"]["signals"]
        .as_array()
        .expect("signals")
        .iter()
        .find(|s| s["signal"] == "balance_latency_p95")
        .expect("balance")
        .clone();
    assert!(balance["peak"].as_f64().expect("peak") > 1.0, "{balance}");
    assert!(recovered >= fix["at"].as_f64().expect("fix time"));
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
    let cleared = record["drill"]["provider_cleared_at"]
        .as_f64()
        .expect("cleared");
    let recovered = record["drill"]["recovered_at"].as_f64().expect("recovered");
    assert!(recovered >= cleared);
    drop(run.sandbox);
}

/// The provider never answers: the participant gives its calls a timeout (with curl, as
/// from another terminal: read back, it moves the drill on); payments then fail cleanly.
#[test]
fn provider_timeout() {
    let run = Run::start("provider-timeout");
    run.notice_and_answer(|run| run.metric("fintech_bulkhead_in_use{upstream=\"provider\"}") > 4.0);
    run.post_patterns(r#"{"timeout": {"enabled": true, "ms": 500}}"#);
    let (_, record) = run.review("provider-timeout");
    assert_eq!(record["drill"]["provider_active"], true);
    // Requests waited for a worker before the fix: recovery was not declared over a queue
    // the latency of finished requests cannot see.
    let queued = record["figures"]["signals"]
        .as_array()
        .expect("signals")
        .iter()
        .find(|s| s["signal"] == "queued_requests")
        .expect("queued")
        .clone();
    assert!(queued["peak"].as_f64().expect("peak") > 2.0, "{queued}");
    let metrics = run.runtime.block_on(run.api.metrics());
    let upstream: Vec<&str> = metrics
        .lines()
        .filter(|line| line.starts_with("fintech_upstream") || line.contains("balance"))
        .collect();
    assert!(
        run.metric("fintech_upstream_requests_total{upstream=\"provider\",outcome=\"timeout\"}")
            > 0.0,
        "{upstream:#?}\n{}",
        record["figures"]
    );
    assert_eq!(run.metric("fintech_ledger_double_credits"), 0.0);
    // Cleared by the drill at its end.
    assert_eq!(run.provider_failures()["timeout"], false);
}

/// A rate limit and six attempts per payment: retries climb; the participant switches
/// retry off in the patterns (b), and the storm stops while the limit stays.
#[test]
fn rate_limit() {
    let run = Run::start("rate-limit");
    // The drill began with the case's retries on.
    run.notice_and_answer(|run| run.metric("fintech_retries_total{upstream=\"provider\"}") > 5.0);
    assert_eq!(run.patterns()["retry"]["max_attempts"], 6);
    run.open_patterns();
    run.tmux.keys("Down");
    run.tmux.keys("Space");
    run.tmux.keys("Enter");
    let (screen, record) = run.review("rate-limit");
    assert_eq!(run.patterns()["retry"]["enabled"], false);
    assert_eq!(record["drill"]["provider_active"], true);
    let retries = record["figures"]["signals"]
        .as_array()
        .expect("signals")
        .iter()
        .find(|s| s["signal"] == "retries_rate")
        .expect("retries")
        .clone();
    assert!(retries["peak"].as_f64().expect("peak") > 1.0, "{retries}");
    // The amplification: more provider calls than payments asked while the retries ran.
    let calls = record["figures"]["impact"]["provider_calls_per_payment"]
        .as_f64()
        .unwrap_or_else(|| panic!("no amplification: {}", record["figures"]["impact"]));
    assert!(calls > 1.15, "{calls} calls per payment");
    assert!(screen.contains("provider calls/payment"), "{screen}");
    eprintln!("rate-limit: {calls:.2} provider calls per payment");
}

/// Forged signatures: every one refused, nothing credited, the alert fires; the participant
/// resets the provider with O.
#[test]
fn forged_webhook() {
    let run = Run::start("forged-webhook");
    run.notice_and_answer(|run| run.metric("fintech_webhooks_total{result=\"rejected\"}") > 0.0);
    run.tmux.keys("O");
    let (_, record) = run.review("forged-webhook");
    assert_eq!(record["drill"]["actions"][0]["kind"], "provider_reset");
    assert_eq!(run.metric("fintech_ledger_double_credits"), 0.0);
    let alert = record["figures"]["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .find(|a| a["name"] == "WebhookSignatureFailures")
        .cloned()
        .unwrap_or_else(|| panic!("the alert fired: {}", record["figures"]));
    assert_eq!(alert["expected"], true);
}

/// The database away for eight seconds: errors come and go with no action at all, the pool
/// reconnects, and no event is credited twice.
#[test]
fn db_restart() {
    let run = Run::start("db-restart");
    run.notice_and_answer(|run| run.metric_sum("fintech_requests_total", "status=\"5") > 0.0);
    let (_, record) = run.review("db-restart");
    let drill = &record["drill"];
    // Nobody reset anything: the failure's time to live cleared it, read back.
    assert!(
        drill["actions"].as_array().is_none_or(|a| a.is_empty()),
        "{}",
        drill["actions"]
    );
    let cleared = drill["failures_cleared_at"].as_f64().expect("cleared");
    let injected = drill["injected_at"].as_f64().expect("injected");
    assert!(
        (6.0..=20.0).contains(&(cleared - injected)),
        "cleared after {}",
        cleared - injected
    );
    assert_eq!(run.metric("fintech_ledger_double_credits"), 0.0);
}

/// The provider down: payments fail until the participant switches the fallback on in the
/// patterns (b); payments are then accepted pending, and once the provider is brought back
/// (O) the sandbox creates them there. The review counts them as completed late.
#[test]
fn provider_outage() {
    let run = Run::start("provider-outage");
    run.notice_and_answer(|run| run.metric("fintech_upstream_up{upstream=\"provider\"}") == 0.0);
    assert!(run.metric("fintech_payments_total{status=\"error\"}") > 0.0);
    // The fallback is the sixth row of the dialog.
    std::thread::sleep(ANSWER);
    run.open_patterns();
    for key in ["Down", "Down", "Down", "Down", "Down", "Space", "Enter"] {
        run.tmux.keys(key);
    }
    run.wait_until("payments accepted pending", |run| {
        run.metric("fintech_payments_total{status=\"fallback_pending\"}") >= 5.0
    });
    assert_eq!(run.patterns()["fallback"]["enabled"], true);
    // The participant watches payments stop failing, then brings the provider back.
    std::thread::sleep(NOTICE);
    run.tmux.keys("O");
    let (screen, record) = run.review("provider-outage");
    let kinds: Vec<&str> = record["drill"]["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(|action| action["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["pattern_change", "provider_reset"]);
    let drill = &record["drill"];
    let recovered = drill["recovered_at"].as_f64().expect("recovered");
    let cleared = drill["provider_cleared_at"].as_f64().expect("cleared");
    assert!(recovered >= cleared);
    // Every payment accepted pending was created at the provider once, and credited once.
    let accepted = run.metric("fintech_payments_total{status=\"fallback_pending\"}");
    let late = run.metric("fintech_payments_total{status=\"completed_late\"}");
    assert_eq!(late, accepted, "every accepted payment completed");
    assert_eq!(run.metric("fintech_ledger_double_credits"), 0.0);
    let impact = &record["figures"]["impact"];
    let counted = impact["payments_completed_late"]
        .as_f64()
        .unwrap_or_else(|| panic!("no late figure: {impact}"));
    assert!(
        counted >= 5.0 && counted <= late,
        "{counted} of {late}: {impact}"
    );
    assert_eq!(impact["double_credits"], 0.0);
    assert!(
        screen.contains("payments completed late"),
        "the review names them: {screen}"
    );
    let alert = record["figures"]["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .find(|a| a["name"] == "ProviderDown")
        .cloned();
    eprintln!(
        "provider-outage: MTTD {:.1} s, MTTR {:.1} s, completed late {counted}, ProviderDown {}",
        figure(&record, "time_to_detect"),
        figure(&record, "time_to_recover"),
        alert.map_or("not fired".to_string(), |a| a.to_string())
    );
}
