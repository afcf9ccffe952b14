//! `gameday cases validate --api …`: learns a target (what its failure state takes, what its
//! `/metrics` exports, which rules its Prometheus has) and checks every case against it.

use std::collections::BTreeSet;

use super::case::{Case, TargetCapabilities};
use super::target_check::{Finding, TargetProfile, check_against};
use super::validate::ProblemSeverity;
use crate::fincore::{BodyCap, FincoreClient, REQUEST_TIMEOUT, send_for_text, snippet};
use crate::sources::exposition;
use crate::sources::prometheus::PrometheusSource;

/// Where the cases would run.
#[derive(Debug, Clone, Default)]
pub struct TargetFlags {
    pub api: String,
    pub prometheus: Option<String>,
    /// Memory and restarts come from Docker (`--docker`).
    pub docker: bool,
}

/// Asks the target what the checks need.
pub async fn learn(flags: &TargetFlags) -> Result<TargetProfile, String> {
    let client = FincoreClient::new(&flags.api)?;
    let capabilities = client
        .capabilities()
        .await
        .map_err(|err| format!("{}: {err}", crate::secret::redact_url(&flags.api)))?;
    let url = format!("{}/metrics", flags.api.trim_end_matches('/'));
    let (status, text) = send_for_text(
        client.http().get(&url).timeout(REQUEST_TIMEOUT),
        BodyCap::METRICS,
    )
    .await?;
    if !(200..300).contains(&status) {
        return Err(format!("{url} answered {status}: {}", snippet(&text)));
    }
    let mut metrics: BTreeSet<String> = exposition::parse(&text)
        .map_err(|err| format!("{url} is not a Prometheus exposition: {err}"))?
        .samples
        .into_iter()
        .map(|sample| sample.name)
        .collect();
    metrics.extend(declared_families(&text));
    let alert_rules = match &flags.prometheus {
        Some(base) => {
            let source = PrometheusSource::new(client.http().clone(), base);
            let rules = source
                .alerts()
                .await
                .map_err(|err| format!("{base}: {err}"))?;
            Some(rules.into_iter().map(|rule| rule.name).collect())
        }
        None => None,
    };
    Ok(TargetProfile {
        // The embedded supervisor gives memory and restarts for gameday's own sandbox only when
        // gameday started it; against an address, only Docker does.
        memory_source: flags.docker,
        capabilities,
        metrics: Some(metrics),
        alert_rules,
    })
}

/// The series names that `# TYPE` lines declare: a fresh target declares its labelled
/// families before their first sample (the Python client creates a series at its first
/// increment), and a case must not be refused for traffic that has not come yet.
fn declared_families(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        if let (Some("#"), Some("TYPE"), Some(name), Some(kind)) =
            (words.next(), words.next(), words.next(), words.next())
        {
            match kind {
                "histogram" => names.push(format!("{name}_bucket")),
                "counter" if !name.ends_with("_total") => names.push(format!("{name}_total")),
                _ => names.push(name.to_string()),
            }
        }
    }
    names
}

/// One line per finding, `case: error|warning: …`, and how many errors there were.
pub fn report(cases: &[&Case], profile: &TargetProfile) -> (Vec<String>, usize) {
    let mut lines = Vec::new();
    let mut errors = 0;
    for case in cases {
        let capabilities = TargetCapabilities {
            sandbox: profile.capabilities.sandbox,
            docker: profile.memory_source,
            prometheus: profile.alert_rules.is_some(),
            memory: profile.memory_source,
            provider: profile.capabilities.provider.is_some(),
        };
        let plan = case.plan_injection(capabilities);
        let planned = plan.as_ref().ok().and_then(|plan| plan.failures.as_ref());
        let mut findings = check_against(case, planned, profile);
        if let Err(reason) = &plan {
            findings.insert(
                0,
                Finding {
                    severity: ProblemSeverity::Error,
                    message: format!("refused at start: {reason}"),
                },
            );
        }
        if findings.is_empty() {
            lines.push(format!("ok {} on this target", case.id));
        }
        for finding in findings {
            let word = match finding.severity {
                ProblemSeverity::Error => {
                    errors += 1;
                    "error"
                }
                ProblemSeverity::Warning => "warning",
            };
            lines.push(format!("{}: {word}: {}", case.id, finding.message));
        }
    }
    (lines, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_lines_declare_families_before_their_first_sample() {
        let text = "# HELP fintech_requests_total Requests\n# TYPE fintech_requests_total counter\n\
                    # TYPE fintech_request_latency_seconds histogram\n\
                    # TYPE fintech_errors counter\n# TYPE fintech_active_transactions gauge\n\
                    fintech_active_transactions 0\n";
        assert_eq!(
            declared_families(text),
            [
                "fintech_requests_total",
                "fintech_request_latency_seconds_bucket",
                "fintech_errors_total",
                "fintech_active_transactions"
            ]
        );
    }
}
