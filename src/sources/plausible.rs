//! What a reading may be before it is drawn. Every signal gameday shows is a count, a size, a
//! duration, a rate or a ratio: none is negative, NaN or infinite. A target that sends such a
//! value (a hostile or broken exposition, a JSON answer) has it dropped, never drawn, and the
//! dashboard says so once per metric or signal, on screen (the log panel) and in its log.

use std::collections::BTreeSet;

use super::LogLine;
use super::exposition::MetricSample;
use crate::signals::{Signal, UnixSeconds};

/// Past 2^53 a float no longer holds every integer, so a counter there cannot be differenced
/// exactly; no request, byte or second count of a real service comes near it.
pub const LARGEST_COUNT: f64 = 9_007_199_254_740_992.0;

/// Why a sample of an exposition is not a reading, or `None` when it is one.
pub fn implausible_sample(sample: &MetricSample) -> Option<&'static str> {
    let name = sample.name.as_str();
    if !sample.value.is_finite() {
        return Some("not a finite number");
    }
    if is_count_or_size(name) && sample.value < 0.0 {
        return Some("negative");
    }
    if is_counter(name) && sample.value > LARGEST_COUNT {
        return Some("absurdly large");
    }
    if name.ends_with("_bucket") {
        // The bound of a duration or size bucket: a number, not negative, or +Inf.
        let bound = sample.label("le").map(|le| le.parse::<f64>());
        if !matches!(bound, Some(Ok(le)) if le >= 0.0) {
            return Some("a bucket bound that is not a non-negative number");
        }
    }
    None
}

/// Counters and the parts of histograms and summaries: they only grow from zero.
fn is_counter(name: &str) -> bool {
    ["_total", "_count", "_sum", "_bucket", "_created"]
        .iter()
        .any(|suffix| name.ends_with(suffix))
}

/// What is never negative: counters, sizes and durations by the naming conventions, and the
/// process and FinCore gauges gameday reads (transactions, workers, queued requests).
fn is_count_or_size(name: &str) -> bool {
    is_counter(name)
        || name.ends_with("_bytes")
        || name.ends_with("_seconds")
        || name.starts_with("process_")
        || name.starts_with("fintech_")
}

/// Whether a signal's value can be drawn: finite and not negative.
pub fn plausible_value(value: f64) -> bool {
    value.is_finite() && value >= 0.0
}

/// Drops the values that cannot be drawn; returns the signals dropped.
pub fn keep_plausible(values: &mut Vec<(Signal, f64)>) -> Vec<Signal> {
    let mut dropped = Vec::new();
    values.retain(|(signal, value)| {
        let keep = plausible_value(*value);
        if !keep {
            dropped.push(*signal);
        }
        keep
    });
    dropped
}

/// The notes already given, so each metric or signal is noted once per run.
#[derive(Debug, Default)]
pub struct ImplausibleNotes {
    noted: BTreeSet<String>,
}

/// At most this many things are named in one note; the rest are counted.
const NAMED_PER_NOTE: usize = 4;

impl ImplausibleNotes {
    /// A log line naming what was dropped (`what`: metric names with why, or signals) that
    /// was not noted before, or `None` when everything was.
    pub fn note(
        &mut self,
        source: &str,
        what: impl IntoIterator<Item = String>,
        at: UnixSeconds,
    ) -> Option<LogLine> {
        let mut new: Vec<String> = Vec::new();
        for item in what {
            // Bounded: a hostile target could name a new metric in every scrape.
            if self.noted.len() < 256 && self.noted.insert(item.clone()) {
                new.push(item);
            }
        }
        if new.is_empty() {
            return None;
        }
        let mut named: Vec<String> = new.iter().take(NAMED_PER_NOTE).cloned().collect();
        if new.len() > NAMED_PER_NOTE {
            named.push(format!("{} more", new.len() - NAMED_PER_NOTE));
        }
        let text = format!(
            "gameday: {source}: implausible values dropped, not drawn: {}",
            named.join(", ")
        );
        tracing::warn!(source, dropped = %named.join(", "), "implausible values dropped");
        Some(LogLine {
            at,
            level: super::LogLevel::Warn,
            text,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::exposition::parse;

    fn kept_and_dropped(text: &str) -> (Vec<String>, Vec<(String, &'static str)>) {
        let exposition = parse(text).expect("an exposition");
        let kept = exposition
            .samples
            .iter()
            .map(|sample| sample.name.clone())
            .collect();
        (kept, exposition.dropped.examples.clone())
    }

    #[test]
    fn hostile_but_valid_values_are_dropped_with_their_reason() {
        let huge = "9".repeat(400);
        let text = format!(
            "fintech_request_duration_seconds_bucket{{le=\"-1\"}} 5\n\
             fintech_request_duration_seconds_bucket{{le=\"NaN\"}} 5\n\
             fintech_request_duration_seconds_bucket{{le=\"0.5\"}} 5\n\
             fintech_request_duration_seconds_bucket{{le=\"+Inf\"}} 6\n\
             process_resident_memory_bytes -1e18\n\
             fintech_requests_total{{status=\"200\"}} {huge}\n\
             fintech_requests_total{{status=\"500\"}} 1e300\n\
             fintech_active_transactions NaN\n\
             fintech_workers_busy +Inf\n\
             temperature_celsius -4\n"
        );
        let (kept, dropped) = kept_and_dropped(&text);
        assert_eq!(
            kept,
            [
                "fintech_request_duration_seconds_bucket",
                "fintech_request_duration_seconds_bucket",
                "temperature_celsius"
            ]
        );
        let reasons: Vec<&str> = dropped.iter().map(|(_, why)| *why).collect();
        assert_eq!(
            reasons,
            [
                "a bucket bound that is not a non-negative number",
                "a bucket bound that is not a non-negative number",
                "negative",
                "not a finite number",
                "absurdly large",
                "not a finite number",
                "not a finite number",
            ]
        );
        assert_eq!(dropped[2].0, "process_resident_memory_bytes");
    }

    #[test]
    fn ordinary_expositions_lose_nothing() {
        let text = "# TYPE fintech_requests_total counter\n\
                    fintech_requests_total{status=\"200\"} 1027\n\
                    fintech_request_duration_seconds_bucket{le=\"0.005\"} 3\n\
                    fintech_request_duration_seconds_sum 0.0\n\
                    process_start_time_seconds 1.7e9\n\
                    process_resident_memory_bytes 2.5e7\n\
                    fintech_active_transactions 0\n";
        let exposition = parse(text).expect("an exposition");
        assert_eq!(exposition.samples.len(), 6);
        assert_eq!(exposition.dropped.count, 0);
    }

    #[test]
    fn signals_that_cannot_be_drawn_are_dropped() {
        let mut values = vec![
            (Signal::LatencyP95, -1.0),
            (Signal::Rps, 3.0),
            (Signal::MemoryBytes, f64::NAN),
            (Signal::ErrorRatio, f64::INFINITY),
            (Signal::Up, 0.0),
        ];
        let dropped = keep_plausible(&mut values);
        assert_eq!(values, [(Signal::Rps, 3.0), (Signal::Up, 0.0)]);
        assert_eq!(
            dropped,
            [Signal::LatencyP95, Signal::MemoryBytes, Signal::ErrorRatio]
        );
    }

    #[test]
    fn each_thing_is_noted_once() {
        let mut notes = ImplausibleNotes::default();
        let first = notes
            .note("metrics", ["a (negative)".to_string()], 1.0)
            .expect("a note");
        assert!(first.text.contains("a (negative)"), "{}", first.text);
        assert!(
            notes
                .note("metrics", ["a (negative)".to_string()], 2.0)
                .is_none()
        );
        let many = (0..6).map(|n| format!("m{n}"));
        let note = notes.note("metrics", many, 3.0).expect("a note");
        assert!(note.text.ends_with("m3, 2 more"), "{}", note.text);
    }
}
