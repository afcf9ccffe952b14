//! The patterns' series in the text exposition format, in the style of the sandbox's others:
//! `fintech_pattern_enabled{pattern}`, and per upstream `fintech_circuit_breaker_state`,
//! `fintech_bulkhead_in_use`, `fintech_bulkhead_rejected_total`, `fintech_retries_total`.

use std::fmt::Write as _;

use super::breaker::BreakerState;
use super::settings::PatternConfig;

/// One upstream's figures at scrape time.
pub struct UpstreamSample {
    pub name: String,
    pub breaker: BreakerState,
    pub in_use: usize,
    pub rejected: u64,
    pub retries: u64,
}

pub fn render(out: &mut String, config: &PatternConfig, upstreams: &[UpstreamSample]) {
    header(
        out,
        "fintech_pattern_enabled",
        "Resilience patterns switched on for upstream calls (0/1)",
        "gauge",
    );
    for (pattern, enabled) in config.enabled() {
        let _ = writeln!(
            out,
            "fintech_pattern_enabled{{pattern=\"{pattern}\"}} {}",
            u8::from(enabled)
        );
    }
    let series: [Series; 4] = [
        (
            "fintech_circuit_breaker_state",
            "Circuit breaker state per upstream: 0 closed, 1 half-open, 2 open",
            "gauge",
            |sample| u64::from(sample.breaker.gauge()),
        ),
        (
            "fintech_bulkhead_in_use",
            "Calls to the upstream in flight now",
            "gauge",
            |sample| u64::try_from(sample.in_use).unwrap_or(u64::MAX),
        ),
        (
            "fintech_bulkhead_rejected_total",
            "Calls refused at once because the bulkhead was full",
            "counter",
            |sample| sample.rejected,
        ),
        (
            "fintech_retries_total",
            "Attempts made again after a failed one",
            "counter",
            |sample| sample.retries,
        ),
    ];
    for (name, help, kind, value) in series {
        header(out, name, help, kind);
        for sample in upstreams {
            let _ = writeln!(
                out,
                "{name}{{upstream=\"{}\"}} {}",
                label_value(&sample.name),
                value(sample)
            );
        }
    }
}

/// A per-upstream series: name, help, type, and its value of a sample.
type Series = (
    &'static str,
    &'static str,
    &'static str,
    fn(&UpstreamSample) -> u64,
);

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value escaped as the format wants (`\\`, `\"`, `\n`).
fn label_value(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_and_upstream_has_its_series() {
        let mut config = PatternConfig::default();
        config.retry.enabled = true;
        let upstreams = [UpstreamSample {
            name: "provider".to_string(),
            breaker: BreakerState::HalfOpen,
            in_use: 3,
            rejected: 7,
            retries: 11,
        }];
        let mut out = String::new();
        render(&mut out, &config, &upstreams);
        for line in [
            "fintech_pattern_enabled{pattern=\"timeout\"} 0\n",
            "fintech_pattern_enabled{pattern=\"retry\"} 1\n",
            "fintech_pattern_enabled{pattern=\"fallback\"} 0\n",
            "# TYPE fintech_circuit_breaker_state gauge\n",
            "fintech_circuit_breaker_state{upstream=\"provider\"} 1\n",
            "fintech_bulkhead_in_use{upstream=\"provider\"} 3\n",
            "# TYPE fintech_bulkhead_rejected_total counter\n",
            "fintech_bulkhead_rejected_total{upstream=\"provider\"} 7\n",
            "fintech_retries_total{upstream=\"provider\"} 11\n",
        ] {
            assert!(out.contains(line), "missing {line:?} in\n{out}");
        }
        assert_eq!(label_value("a\"b\\c"), "a\\\"b\\\\c");
    }
}
