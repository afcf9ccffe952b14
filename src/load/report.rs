//! What the headless command prints: a progress line while it runs, then a summary as text or
//! as a stable JSON object.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::handle::Model;
use super::profile::Profile;
use super::retry::TRANSPORT_ERROR;
use super::stats::{LoadSnapshot, Percentiles};
use crate::units::HumanDuration;

/// What was asked for, to head the report.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInfo {
    pub target: String,
    pub model: Model,
    pub profile: Profile,
    /// The base rate (open model).
    pub rate: f64,
    pub duration: Duration,
}

/// Milliseconds with as many decimals as are meaningful.
fn ms(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.2}")
    } else if value < 100.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    }
}

fn percentiles(p: Option<Percentiles>) -> String {
    match p {
        Some(p) => format!(
            "p50 {} p95 {} p99 {} max {} ms",
            ms(p.p50_ms),
            ms(p.p95_ms),
            ms(p.p99_ms),
            ms(p.max_ms)
        ),
        None => "no answers yet".to_string(),
    }
}

/// Answers by class: 2xx, 3xx, 4xx, 5xx, and transport errors (with timeouts).
fn status_classes(statuses: &BTreeMap<u16, u64>) -> String {
    let mut classes = [0u64; 6];
    for (status, count) in statuses {
        let class = if *status == TRANSPORT_ERROR {
            0
        } else {
            usize::from((*status / 100).clamp(1, 5))
        };
        classes[class] += count;
    }
    format!(
        "2xx {} 4xx {} 5xx {} err {}",
        classes[2] + classes[1] + classes[3],
        classes[4],
        classes[5],
        classes[0]
    )
}

/// One line of live figures: counts so far, rate and latency over the recent window.
pub fn progress_line(info: &RunInfo, snapshot: &LoadSnapshot) -> String {
    let target = match info.model {
        Model::Open => format!("{} {:.0}/s", snapshot.profile, snapshot.target_rate),
        Model::Closed { connections } => format!("{connections} connections"),
    };
    format!(
        "{:>4}s/{}  {target} | {:.1} req/s  {} | {}",
        snapshot.elapsed.as_secs(),
        HumanDuration(info.duration),
        snapshot.recent.requests_per_s,
        status_classes(&snapshot.statuses),
        percentiles(snapshot.recent.latency),
    )
}

fn headline(info: &RunInfo) -> String {
    let duration = HumanDuration(info.duration);
    match info.model {
        Model::Open => format!(
            "{}: open model, {} at {} req/s for {duration}",
            info.target, info.profile, info.rate
        ),
        Model::Closed { connections } => format!(
            "{}: closed model, {connections} connections for {duration}",
            info.target
        ),
    }
}

/// The summary for a person.
pub fn text_summary(info: &RunInfo, snapshot: &LoadSnapshot) -> String {
    let statuses: Vec<String> = snapshot
        .statuses
        .iter()
        .map(|(status, count)| match *status {
            TRANSPORT_ERROR => format!("transport error {count}"),
            status => format!("{status} {count}"),
        })
        .collect();
    let errors = snapshot.errors();
    let error_percent = if snapshot.answered == 0 {
        0.0
    } else {
        100.0 * errors as f64 / snapshot.answered as f64
    };
    let lines = [
        format!("gameday load: {}", headline(info)),
        format!(
            "  requests  {} scheduled, {} sent ({} retries), {} dropped, {} answered, {} unanswered",
            snapshot.scheduled,
            snapshot.sent,
            snapshot.retries,
            snapshot.dropped,
            snapshot.answered,
            snapshot.in_flight
        ),
        format!(
            "  rate      {:.1} req/s answered over {:.1} s of sending",
            snapshot.requests_per_s(),
            snapshot.sending.as_secs_f64()
        ),
        format!(
            "  statuses  {}",
            if statuses.is_empty() {
                "none".to_string()
            } else {
                statuses.join(", ")
            }
        ),
        format!(
            "  errors    {errors} ({error_percent:.1} %), {} timeouts, {} requests failed after retries",
            snapshot.timeouts, snapshot.failed_requests
        ),
        format!(
            "  latency   {} (from the scheduled time)",
            percentiles(snapshot.latency)
        ),
        format!(
            "  service   {} (from the send)",
            percentiles(snapshot.service_time)
        ),
    ];
    lines.join("\n")
}

#[derive(Serialize)]
struct LatencyJson {
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
    mean: f64,
}

impl From<Percentiles> for LatencyJson {
    fn from(p: Percentiles) -> Self {
        LatencyJson {
            p50: p.p50_ms,
            p95: p.p95_ms,
            p99: p.p99_ms,
            max: p.max_ms,
            mean: p.mean_ms,
        }
    }
}

/// The `--json` summary; its keys are a stable interface for scripts.
#[derive(Serialize)]
struct SummaryJson {
    target: String,
    model: &'static str,
    connections: Option<usize>,
    profile: String,
    rate: Option<f64>,
    duration_s: f64,
    sending_s: f64,
    elapsed_s: f64,
    scheduled: u64,
    sent: u64,
    retries: u64,
    dropped: u64,
    answered: u64,
    unanswered: u64,
    errors: u64,
    error_ratio: f64,
    timeouts: u64,
    failed_requests: u64,
    /// By status code as text; transport errors and timeouts under "transport_error".
    statuses: BTreeMap<String, u64>,
    requests_per_s: f64,
    /// Per request, from its scheduled time (corrected for coordinated omission).
    latency_ms: Option<LatencyJson>,
    /// Per attempt, from its send.
    service_time_ms: Option<LatencyJson>,
}

/// The summary as one JSON object.
pub fn json_summary(info: &RunInfo, snapshot: &LoadSnapshot) -> serde_json::Value {
    let (model, connections, rate) = match info.model {
        Model::Open => ("open", None, Some(info.rate)),
        Model::Closed { connections } => ("closed", Some(connections), None),
    };
    let errors = snapshot.errors();
    let summary = SummaryJson {
        target: info.target.clone(),
        model,
        connections,
        profile: info.profile.to_string(),
        rate,
        duration_s: info.duration.as_secs_f64(),
        sending_s: snapshot.sending.as_secs_f64(),
        elapsed_s: snapshot.elapsed.as_secs_f64(),
        scheduled: snapshot.scheduled,
        sent: snapshot.sent,
        retries: snapshot.retries,
        dropped: snapshot.dropped,
        answered: snapshot.answered,
        unanswered: snapshot.in_flight,
        errors,
        error_ratio: if snapshot.answered == 0 {
            0.0
        } else {
            errors as f64 / snapshot.answered as f64
        },
        timeouts: snapshot.timeouts,
        failed_requests: snapshot.failed_requests,
        statuses: snapshot
            .statuses
            .iter()
            .map(|(status, count)| match *status {
                TRANSPORT_ERROR => ("transport_error".to_string(), *count),
                status => (status.to_string(), *count),
            })
            .collect(),
        requests_per_s: snapshot.requests_per_s(),
        latency_ms: snapshot.latency.map(LatencyJson::from),
        service_time_ms: snapshot.service_time.map(LatencyJson::from),
    };
    serde_json::to_value(summary).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::stats::RecentWindow;

    fn info() -> RunInfo {
        RunInfo {
            target: "http://127.0.0.1:5000".to_string(),
            model: Model::Open,
            profile: Profile::Steady,
            rate: 50.0,
            duration: Duration::from_secs(3),
        }
    }

    fn snapshot() -> LoadSnapshot {
        let latency = Percentiles {
            p50_ms: 1.234,
            p95_ms: 12.5,
            p99_ms: 150.0,
            max_ms: 201.0,
            mean_ms: 5.0,
        };
        LoadSnapshot {
            profile: "steady".to_string(),
            target_rate: 50.0,
            elapsed: Duration::from_millis(3100),
            sending: Duration::from_secs(3),
            scheduled: 150,
            sent: 152,
            retries: 2,
            dropped: 0,
            answered: 151,
            in_flight: 1,
            timeouts: 1,
            failed_requests: 1,
            statuses: BTreeMap::from([(0, 1), (200, 140), (422, 2), (500, 8)]),
            latency: Some(latency),
            service_time: Some(latency),
            recent: RecentWindow {
                span: Duration::from_secs(3),
                requests_per_s: 49.5,
                error_ratio: 0.06,
                latency: Some(latency),
            },
            outcomes: super::super::UserOutcomes::default(),
        }
    }

    #[test]
    fn json_summary_has_stable_keys_and_counts() {
        let json = json_summary(&info(), &snapshot());
        let keys: Vec<&str> = json
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "answered",
                "connections",
                "dropped",
                "duration_s",
                "elapsed_s",
                "error_ratio",
                "errors",
                "failed_requests",
                "latency_ms",
                "model",
                "profile",
                "rate",
                "requests_per_s",
                "retries",
                "scheduled",
                "sending_s",
                "sent",
                "service_time_ms",
                "statuses",
                "target",
                "timeouts",
                "unanswered",
            ]
        );
        assert_eq!(json["model"], "open");
        assert_eq!(json["rate"], 50.0);
        assert_eq!(json["connections"], serde_json::Value::Null);
        assert_eq!(json["errors"], 9);
        assert_eq!(json["statuses"]["transport_error"], 1);
        assert_eq!(json["statuses"]["200"], 140);
        assert!((json["requests_per_s"].as_f64().expect("a number") - 151.0 / 3.0).abs() < 1e-9);
        assert_eq!(json["latency_ms"]["p99"], 150.0);
    }

    #[test]
    fn text_summary_and_progress_line_show_the_figures() {
        let text = text_summary(&info(), &snapshot());
        for part in [
            "open model, steady at 50 req/s for 3s",
            "150 scheduled, 152 sent (2 retries), 0 dropped, 151 answered, 1 unanswered",
            "50.3 req/s",
            "transport error 1, 200 140, 422 2, 500 8",
            "errors    9 (6.0 %), 1 timeouts",
            "p50 1.23 p95 12.5 p99 150 max 201 ms (from the scheduled time)",
        ] {
            assert!(text.contains(part), "`{part}` not in\n{text}");
        }
        let line = progress_line(&info(), &snapshot());
        assert_eq!(
            line,
            "   3s/3s  steady 50/s | 49.5 req/s  2xx 140 4xx 2 5xx 8 err 1 | p50 1.23 p95 12.5 p99 150 max 201 ms"
        );
        let closed = RunInfo {
            model: Model::Closed { connections: 8 },
            ..info()
        };
        assert!(text_summary(&closed, &snapshot()).contains("closed model, 8 connections for 3s"));
        assert_eq!(json_summary(&closed, &snapshot())["connections"], 8);
    }
}
