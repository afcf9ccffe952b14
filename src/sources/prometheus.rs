//! The Prometheus source: one instant query per signal every poll, a range query per signal at
//! start to fill the charts' history, and the alert rules' states. The queries of a poll (and
//! of the history) are asked a few at a time, side by side. Queries aggregate with
//! `sum` / `sum by (le)`, so several endpoints or replicas add up to one series.

use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt, stream};
use serde_json::Value;

use super::poller::{Poller, SourceError, send};
use super::{SourceKind, Update, UpdateSender};
use crate::alerts::{AlertState, AlertStatus, Severity};
use crate::fincore::{BodyCap, REQUEST_TIMEOUT, send_for_text, snippet};
use crate::signals::{Sample, Signal, UnixSeconds, now_unix};

/// The rate window of every query; panel titles say so.
pub const RATE_WINDOW: &str = "1m";
/// The window of the workshop's HighLatency and HighErrorRate rules.
const RULE_WINDOW: &str = "5m";
/// How much history to fetch at start, and at what resolution.
const HISTORY: Duration = Duration::from_secs(15 * 60);
const HISTORY_STEP_S: u64 = 5;
/// Queries asked at once: the poll takes about as long as its slowest query, and Prometheus
/// (20 concurrent queries by default) is never asked for much at a time by one dashboard.
const QUERIES_IN_FLIGHT: usize = 8;

/// Memory of the FinCore processes only: `and on(job, instance)` keeps the targets that also
/// export a FinCore metric, so Prometheus's own process is never counted.
const FINCORE_RSS: &str =
    "sum(process_resident_memory_bytes and on(job, instance) fintech_active_transactions)";

/// 0 while a FinCore target is being scraped, nothing otherwise: the fallback for a counter
/// whose labelled series do not exist yet (the client creates one at its first increment), so
/// "nothing counted yet" reads 0 as it does in scrape mode, and a target that is down still
/// reads as no value.
const ZERO_WHILE_SCRAPED: &str = "sum(0 * fintech_active_transactions)";

/// One query per signal. Absent and zero are kept apart the way a reader would: no 5xx series
/// while requests are counted is 0 % errors (`or vector(0)` on the numerator only, so no
/// requests at all is still no value), and the quantiles stay absent without observations.
pub fn queries() -> Vec<(Signal, String)> {
    let quantile_over = |q: f64, window: &str| {
        format!(
            "histogram_quantile({q}, sum by (le) (rate(fintech_request_latency_seconds_bucket[{window}])))"
        )
    };
    let quantile = |q: f64| quantile_over(q, RATE_WINDOW);
    let error_ratio = |window: &str| {
        format!(
            "(sum(rate(fintech_requests_total{{status=~\"5..\"}}[{window}])) or vector(0)) / sum(rate(fintech_requests_total[{window}]))"
        )
    };
    vec![
        (Signal::LatencyP50, quantile(0.5)),
        (Signal::LatencyP95, quantile(0.95)),
        (Signal::LatencyP99, quantile(0.99)),
        (
            Signal::Rps,
            format!("sum(rate(fintech_requests_total[{RATE_WINDOW}])) or {ZERO_WHILE_SCRAPED}"),
        ),
        (Signal::ErrorRatio, error_ratio(RATE_WINDOW)),
        (Signal::LatencyP95Over5m, quantile_over(0.95, RULE_WINDOW)),
        (Signal::ErrorRatioOver5m, error_ratio(RULE_WINDOW)),
        (
            Signal::ActiveTransactions,
            "sum(fintech_active_transactions)".to_string(),
        ),
        (
            Signal::PoolInUse,
            "sum(fintech_db_pool_connections{state=\"in_use\"})".to_string(),
        ),
        (
            Signal::PoolIdle,
            "sum(fintech_db_pool_connections{state=\"idle\"})".to_string(),
        ),
        (
            Signal::QueuedRequests,
            "sum(fintech_queued_requests)".to_string(),
        ),
        (Signal::MemoryBytes, FINCORE_RSS.to_string()),
    ]
    .into_iter()
    .chain(dependency_queries())
    .collect()
}

/// The payment provider's signals, as the scrape source computes them (see
/// `scrape_dependency`): no `or` fallbacks, so a target without the provider's series gives
/// none of them, and a ratio without a denominator is NaN, which reads as no value.
fn dependency_queries() -> Vec<(Signal, String)> {
    let rate = |selector: &str, window: &str| format!("sum(rate({selector}[{window}]))");
    let ratio = |part: &str, whole: &str, window: &str| {
        format!("{} / {}", rate(part, window), rate(whole, window))
    };
    let failed = "fintech_payments_total{status=~\"failed|error\"}";
    let asked = "fintech_payments_total{status=~\"pending|error|fallback_pending\"}";
    let balance = "endpoint=\"/api/balance\"";
    vec![
        (
            Signal::BalanceLatencyP95,
            format!(
                "histogram_quantile(0.95, sum by (le) (rate(fintech_request_latency_seconds_bucket{{{balance}}}[{RATE_WINDOW}])))"
            ),
        ),
        (
            Signal::BalanceErrorRatio,
            format!(
                "(sum(rate(fintech_requests_total{{{balance},status=~\"5..\"}}[{RATE_WINDOW}])) or vector(0)) / sum(rate(fintech_requests_total{{{balance}}}[{RATE_WINDOW}]))"
            ),
        ),
        (
            Signal::UpstreamUp,
            "max(fintech_upstream_up{upstream=\"provider\"})".to_string(),
        ),
        (
            Signal::UpstreamLatencyP95,
            format!(
                "histogram_quantile(0.95, sum by (le) (rate(fintech_upstream_latency_seconds_bucket[{RATE_WINDOW}])))"
            ),
        ),
        (
            Signal::UpstreamRps,
            rate("fintech_upstream_requests_total", RATE_WINDOW),
        ),
        (
            Signal::UpstreamErrorRatio,
            ratio(
                "fintech_upstream_requests_total{outcome!=\"success\"}",
                "fintech_upstream_requests_total",
                RATE_WINDOW,
            ),
        ),
        (
            Signal::BreakerState,
            "max(fintech_circuit_breaker_state)".to_string(),
        ),
        (
            Signal::BulkheadInUse,
            "sum(fintech_bulkhead_in_use)".to_string(),
        ),
        (Signal::RetriesRate, rate("fintech_retries_total", RATE_WINDOW)),
        (
            Signal::PaymentsFailedRatio,
            ratio(failed, asked, RATE_WINDOW),
        ),
        (
            Signal::PaymentsPending,
            "clamp_min(sum(fintech_payments_total{status=~\"pending|fallback_pending\"}) - sum(fintech_payments_total{status=~\"succeeded|failed\"}), 0)".to_string(),
        ),
        (
            Signal::PaymentsCompletedLate,
            "sum(fintech_payments_total{status=\"completed_late\"})".to_string(),
        ),
        (
            Signal::WebhooksRejectedRate,
            rate("fintech_webhooks_total{result=\"rejected\"}", RATE_WINDOW),
        ),
        (
            Signal::WebhooksDuplicateRate,
            rate("fintech_webhooks_total{result=\"duplicate\"}", RATE_WINDOW),
        ),
        (
            Signal::DoubleCredits,
            "max(fintech_ledger_double_credits)".to_string(),
        ),
        (
            Signal::BreakerStateMax1m,
            "max(max_over_time(fintech_circuit_breaker_state[1m]))".to_string(),
        ),
        (
            Signal::WebhooksRejected5m,
            format!(
                "sum(increase(fintech_webhooks_total{{result=\"rejected\"}}[{RULE_WINDOW}]))"
            ),
        ),
        (
            Signal::PaymentsFailedRatioOver5m,
            ratio(failed, asked, RULE_WINDOW),
        ),
    ]
}

/// Prometheus's `up` of the FinCore targets: `last_over_time` keeps a target that stopped
/// answering in the match, so its 0 is seen; `min` so one target down among replicas shows.
/// (Whether the API answers us is the API source's `up`; this is whether Prometheus can
/// scrape it.)
const TARGET_UP: &str =
    "min(up and on(job, instance) last_over_time(fintech_active_transactions[1h]))";

/// How often a FinCore target's process start time changed in the last minute: a restart
/// changes it once, gunicorn workers answering scrapes in turn change it back and forth.
const START_TIME_CHANGES: &str = "max(changes(process_start_time_seconds[1m]) \
     and on(job, instance) fintech_active_transactions)";

/// Changes of the start time in a minute from which scrapes are taken to reach several
/// processes rather than one that restarted.
const SEVERAL_PROCESSES_CHANGES: f64 = 2.0;

#[derive(Clone)]
pub struct PrometheusSource {
    http: reqwest::Client,
    base: String,
}

impl PrometheusSource {
    pub fn new(http: reqwest::Client, base: &str) -> PrometheusSource {
        PrometheusSource {
            http,
            base: base.trim_end_matches('/').to_string(),
        }
    }

    async fn api(&self, path: &str, params: &[(&str, String)]) -> Result<Value, String> {
        let request = self
            .http
            .get(format!("{}{path}", self.base))
            .query(params)
            .timeout(REQUEST_TIMEOUT);
        let (status, text) = send_for_text(request, BodyCap::PROMETHEUS).await?;
        let body: Value = serde_json::from_str(&text)
            .map_err(|_| format!("{path} answered {status} with non-JSON: {}", snippet(&text)))?;
        if body["status"] != "success" {
            return Err(format!(
                "{path}: {}",
                body["error"].as_str().unwrap_or("query failed")
            ));
        }
        Ok(body["data"].clone())
    }

    /// Every signal's value at `at`. A query with no result (no traffic yet) gives no value.
    pub async fn query_signals(&self, at: UnixSeconds) -> Result<Vec<(Signal, f64)>, String> {
        let time = format!("{at:.3}");
        let answers = side_by_side(queries(), |(signal, promql)| {
            let params = [("query", promql), ("time", time.clone())];
            async move {
                let data = self.api("/api/v1/query", &params).await?;
                Ok((signal, data))
            }
        })
        .await?;
        let values = answers
            .into_iter()
            .filter_map(|(signal, data)| Some((signal, first_value(&data)?)))
            .collect();
        Ok(values)
    }

    /// The first value of an instant query at `at`, if it has one.
    async fn scalar(&self, promql: &str, at: UnixSeconds) -> Result<Option<f64>, String> {
        let params = [("query", promql.to_string()), ("time", format!("{at:.3}"))];
        let data = self.api("/api/v1/query", &params).await?;
        Ok(first_value(&data))
    }

    /// History of every signal over the last 15 minutes.
    pub async fn history(&self, now: UnixSeconds) -> Result<Vec<(Signal, Vec<Sample>)>, String> {
        let start = format!("{:.3}", now - HISTORY.as_secs_f64());
        let end = format!("{now:.3}");
        let answers = side_by_side(queries(), |(signal, promql)| {
            let params = [
                ("query", promql),
                ("start", start.clone()),
                ("end", end.clone()),
                ("step", HISTORY_STEP_S.to_string()),
            ];
            async move {
                let data = self.api("/api/v1/query_range", &params).await?;
                Ok((signal, data))
            }
        })
        .await?;
        let all = answers
            .into_iter()
            .map(|(signal, data)| {
                let samples: Vec<Sample> = data["result"]
                    .as_array()
                    .and_then(|result| result.first())
                    .and_then(|series| series["values"].as_array())
                    .map(|points| {
                        points
                            .iter()
                            .filter_map(|point| {
                                let at = point[0].as_f64()?;
                                let value: f64 = point[1].as_str()?.parse().ok()?;
                                super::plausible::plausible_value(value)
                                    .then_some(Sample { at, value })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (signal, samples)
            })
            .collect();
        Ok(all)
    }

    /// Every alerting rule with its state, from `/api/v1/rules` (which, unlike
    /// `/api/v1/alerts`, also lists inactive rules and their `for` durations).
    pub async fn alerts(&self) -> Result<Vec<AlertStatus>, String> {
        let data = self
            .api("/api/v1/rules", &[("type", "alert".to_string())])
            .await?;
        let mut statuses = Vec::new();
        for group in data["groups"].as_array().into_iter().flatten() {
            for rule in group["rules"].as_array().into_iter().flatten() {
                statuses.push(alert_status(rule));
            }
        }
        Ok(statuses)
    }
}

/// The value of an instant query's first series; none for no series or a non-finite value.
fn first_value(data: &Value) -> Option<f64> {
    data["result"]
        .as_array()
        .and_then(|result| result.first())
        .and_then(|sample| sample["value"][1].as_str())
        .and_then(|text| text.parse::<f64>().ok())
        .filter(|value| value.is_finite())
}

fn alert_status(rule: &Value) -> AlertStatus {
    // A rule without a known severity is shown as a warning.
    let severity = rule["labels"]["severity"]
        .as_str()
        .and_then(Severity::from_label)
        .unwrap_or(Severity::Warning);
    let for_seconds = rule["duration"].as_f64().unwrap_or(0.0);
    // With several series, the alert that has been active longest speaks for the rule.
    let earliest = rule["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|alert| {
            let since = alert["activeAt"]
                .as_str()
                .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
                .map(|at| at.timestamp_millis() as f64 / 1000.0)?;
            let value = alert["value"].as_str().and_then(|v| v.parse::<f64>().ok());
            Some((since, value))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let state = rule["state"]
        .as_str()
        .and_then(AlertState::from_api)
        .unwrap_or(AlertState::Inactive);
    AlertStatus {
        name: rule["name"].as_str().unwrap_or("?").to_string(),
        severity,
        state,
        active_since: earliest.map(|(since, _)| since),
        fired_at: match state {
            AlertState::Firing => earliest.map(|(since, _)| since + for_seconds),
            _ => None,
        },
        value: earliest.and_then(|(_, value)| value),
        for_seconds: rule["duration"].as_f64(),
    }
}

/// Runs `ask` on every item with at most [`QUERIES_IN_FLIGHT`] at once; the answers come back
/// in the items' order, or the first error.
async fn side_by_side<Item, Answer, Ask, Asked>(
    items: Vec<Item>,
    ask: Ask,
) -> Result<Vec<Answer>, String>
where
    Ask: FnMut(Item) -> Asked,
    Asked: Future<Output = Result<Answer, String>>,
{
    stream::iter(items)
        .map(ask)
        .buffered(QUERIES_IN_FLIGHT)
        .try_collect()
        .await
}

/// Polls Prometheus: every signal and the alert rules' states each poll, and the charts'
/// history once, before the first poll.
pub struct PrometheusPoller {
    source: PrometheusSource,
    history_asked: bool,
    /// What was dropped as implausible and said so already.
    notes: super::plausible::ImplausibleNotes,
}

impl PrometheusPoller {
    pub fn new(source: PrometheusSource) -> PrometheusPoller {
        PrometheusPoller {
            source,
            history_asked: false,
            notes: super::plausible::ImplausibleNotes::default(),
        }
    }

    /// Backfills the charts. Asked once: a Prometheus that cannot answer it now is shown as
    /// down by the poll that follows, and the charts fill from live values.
    async fn send_history(&self, updates: &UpdateSender) -> Result<(), SourceError> {
        match self.source.history(now_unix()).await {
            Ok(history) => {
                for (signal, samples) in history {
                    send(updates, Update::History { signal, samples }).await?;
                }
            }
            Err(reason) => tracing::warn!(%reason, "no Prometheus history at start"),
        }
        Ok(())
    }
}

impl Poller for PrometheusPoller {
    const KIND: SourceKind = SourceKind::Prometheus;

    async fn poll(&mut self, updates: &UpdateSender) -> Result<(), SourceError> {
        if !self.history_asked {
            self.history_asked = true;
            self.send_history(updates).await?;
        }
        let at = now_unix();
        let (values, alerts, changes, target_up) = tokio::join!(
            self.source.query_signals(at),
            self.source.alerts(),
            self.source.scalar(START_TIME_CHANGES, at),
            self.source.scalar(TARGET_UP, at)
        );
        let (mut values, alerts) = (values?, alerts?);
        let dropped = super::plausible::keep_plausible(&mut values)
            .into_iter()
            .map(|signal| signal.name().to_string());
        if let Some(note) = self.notes.note(SourceKind::Prometheus.label(), dropped, at) {
            send(updates, Update::Logs(vec![note])).await?;
        }
        let update = Update::Signals {
            source: SourceKind::Prometheus,
            at,
            values,
        };
        send(updates, update).await?;
        send(updates, Update::Alerts(alerts)).await?;
        send(updates, Update::TargetUp(target_up?.map(|up| up >= 0.5))).await?;
        // Prometheus cannot say how many processes it alternates between, only that it does:
        // `Processes(2)` stands for "several" in this mode.
        let several = changes?.is_some_and(|changes| changes >= SEVERAL_PROCESSES_CHANGES);
        send(updates, Update::Processes(if several { 2 } else { 1 })).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_signal_of_the_metrics_source_has_one_query() {
        let asked: Vec<Signal> = queries().into_iter().map(|(signal, _)| signal).collect();
        let mut unique = asked.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), asked.len(), "a signal asked twice");
        // Everything but what only the API (`up`), Docker or the process can say.
        let elsewhere = [
            Signal::Up,
            Signal::MemoryLimitBytes,
            Signal::Restarts,
            Signal::CpuCores,
        ];
        for signal in Signal::ALL {
            assert_eq!(
                asked.contains(&signal),
                !elsewhere.contains(&signal),
                "{signal}"
            );
        }
    }

    #[test]
    fn a_firing_rule_reports_when_it_became_active_and_fired() {
        let rule = json!({
            "name": "HighErrorRate", "state": "firing", "duration": 60,
            "labels": {"severity": "warning"},
            "alerts": [{"activeAt": "2026-11-22T10:00:00Z", "value": "3.5e-01", "state": "firing"}]
        });
        let status = alert_status(&rule);
        assert_eq!(status.state, AlertState::Firing);
        let since = status.active_since.expect("since");
        assert_eq!(status.fired_at, Some(since + 60.0));
        assert_eq!(status.value, Some(0.35));
    }

    #[test]
    fn an_inactive_rule_is_listed_without_times() {
        let rule = json!({"name": "MemoryPressure", "state": "inactive", "duration": 60,
                          "labels": {"severity": "critical"}, "alerts": []});
        let status = alert_status(&rule);
        assert_eq!(status.state, AlertState::Inactive);
        assert_eq!(status.severity, Severity::Critical);
        assert_eq!(status.active_since, None);
    }
}
