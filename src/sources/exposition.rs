//! A parser of the Prometheus text exposition format 0.0.4, which the workshop's Python client
//! and our sandbox both emit on `/metrics`.
//!
//! It runs on every scrape (once a second), so it works line by line on byte offsets, copies a
//! label value only once (no copy at all for the common value without escapes), and never
//! panics: anything that is not an exposition (an HTML error page, JSON) is an
//! [`ExpositionError`] naming the line and what was expected there.
//!
//! Accepted beyond the strict 0.0.4 grammar, because a target may answer in OpenMetrics: the
//! OpenMetrics metric types, `# UNIT` and `# EOF` comments, CRLF line ends, and an exemplar
//! (`# {...} value`) after a sample, which is skipped.

use std::fmt;

/// One sample line: a series and its value. The optional timestamp is validated and dropped:
/// the scraper stamps a whole scrape with its own clock.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl MetricSample {
    /// The value of a label, if the series has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(label, _)| label == name)
            .map(|(_, value)| value.as_str())
    }

    /// Whether every `(label, value)` pair of `filter` is on this series (an empty filter
    /// matches everything).
    pub fn matches(&self, filter: &[(&str, &str)]) -> bool {
        filter
            .iter()
            .all(|(label, value)| self.label(label) == Some(*value))
    }
}

/// Every sample of one scrape, in the order the target wrote them, but for the implausible
/// ones (`super::plausible`), which are counted in `dropped` and never read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exposition {
    pub samples: Vec<MetricSample>,
    pub dropped: DroppedSamples,
}

/// The samples left out of an exposition as implausible: how many, and the first few of them
/// (metric name and why), for a note.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DroppedSamples {
    pub count: usize,
    pub examples: Vec<(String, &'static str)>,
}

/// At most this many dropped samples are kept by name: enough for a note.
const DROPPED_EXAMPLES: usize = 16;

impl DroppedSamples {
    fn push(&mut self, name: String, why: &'static str) {
        self.count += 1;
        if self.examples.len() < DROPPED_EXAMPLES {
            self.examples.push((name, why));
        }
    }
}

impl Exposition {
    /// The samples of one metric name (for a histogram, name the `_bucket` series).
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a MetricSample> + 'a {
        self.samples
            .iter()
            .filter(move |sample| sample.name == name)
    }

    /// The sum over the series of `name` that match `filter`; `None` when none matches, so a
    /// missing metric is not mistaken for a zero.
    pub fn sum(&self, name: &str, filter: &[(&str, &str)]) -> Option<f64> {
        self.named(name)
            .filter(|sample| sample.matches(filter))
            .map(|sample| sample.value)
            .reduce(|total, value| total + value)
    }

    /// The value of the first series of `name` that matches `filter`.
    pub fn value(&self, name: &str, filter: &[(&str, &str)]) -> Option<f64> {
        self.named(name)
            .find(|sample| sample.matches(filter))
            .map(|sample| sample.value)
    }
}

/// Where and why a text is not an exposition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpositionError {
    /// 1-based line number.
    pub line: usize,
    /// What the parser wanted at that point, e.g. "a metric name".
    pub expected: &'static str,
    /// The start of what it found instead (empty at the end of the line).
    pub found: String,
}

impl fmt::Display for ExpositionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: expected {}, found ", self.line, self.expected)?;
        if self.found.is_empty() {
            f.write_str("the end of the line")
        } else {
            write!(f, "`{}`", self.found)
        }
    }
}

impl std::error::Error for ExpositionError {}

/// The longest excerpt of the offending text an error message carries.
const FOUND_EXCERPT_CHARS: usize = 32;

/// Parses a whole exposition. Blank lines and plain comments are skipped; `# HELP` and
/// `# TYPE` lines are checked but not kept (nothing downstream needs them).
pub fn parse(text: &str) -> Result<Exposition, ExpositionError> {
    // A sample line is 60–100 bytes: reserve roughly once, but not megabytes for a big page
    // of garbage that fails on its first line.
    let mut samples = Vec::with_capacity((text.len() / 80).min(1024));
    let mut dropped = DroppedSamples::default();
    for (index, raw_line) in text.split('\n').enumerate() {
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let mut cursor = Cursor {
            line,
            pos: 0,
            number: index + 1,
        };
        cursor.skip_blanks();
        match cursor.peek() {
            None => {}
            Some(b'#') => parse_comment(&mut cursor)?,
            Some(_) => {
                let sample = parse_sample(&mut cursor)?;
                match super::plausible::implausible_sample(&sample) {
                    None => samples.push(sample),
                    Some(why) => dropped.push(sample.name, why),
                }
            }
        }
    }
    Ok(Exposition { samples, dropped })
}

/// The metric types a `# TYPE` line may name: 0.0.4's five and OpenMetrics' others.
const METRIC_TYPES: [&str; 9] = [
    "counter",
    "gauge",
    "histogram",
    "summary",
    "untyped",
    "unknown",
    "info",
    "stateset",
    "gaugehistogram",
];

fn parse_comment(cursor: &mut Cursor<'_>) -> Result<(), ExpositionError> {
    cursor.pos += 1; // the '#'
    // Only `# HELP` and `# TYPE` (a blank after '#') have a grammar; `#foo` is a plain comment.
    if !cursor.skip_blanks() {
        return Ok(());
    }
    let keyword = cursor.take_while(|byte| !is_blank(byte));
    match keyword {
        "HELP" | "TYPE" => {}
        _ => return Ok(()),
    }
    if !cursor.skip_blanks() || cursor.take_metric_name().is_none() {
        return Err(cursor.error("a metric name after the HELP or TYPE keyword"));
    }
    if keyword == "HELP" {
        // The docstring may be empty and hold any text.
        return Ok(());
    }
    cursor.skip_blanks();
    let metric_type = cursor.take_while(|byte| !is_blank(byte));
    if !METRIC_TYPES.contains(&metric_type) {
        cursor.pos -= metric_type.len();
        return Err(cursor.error("a metric type (counter, gauge, histogram, summary, untyped)"));
    }
    cursor.skip_blanks();
    cursor.expect_end("the end of the line after the metric type")
}

fn parse_sample(cursor: &mut Cursor<'_>) -> Result<MetricSample, ExpositionError> {
    let name = cursor
        .take_metric_name()
        .ok_or_else(|| cursor.error("a metric name"))?
        .to_owned();
    let blank_after_name = cursor.skip_blanks();
    let mut labels = Vec::new();
    if cursor.peek() == Some(b'{') {
        cursor.pos += 1;
        parse_labels(cursor, &mut labels)?;
        cursor.skip_blanks();
    } else if !blank_after_name && cursor.peek().is_some() {
        return Err(cursor.error("`{` or a blank after the metric name"));
    }
    let value_token = cursor.take_while(|byte| !is_blank(byte));
    let value = value_token.parse::<f64>().map_err(|_| {
        cursor.pos -= value_token.len();
        cursor.error("a sample value (a float, +Inf, -Inf or NaN)")
    })?;
    if cursor.skip_blanks() && cursor.peek().is_some_and(|byte| byte != b'#') {
        let timestamp = cursor.take_while(|byte| !is_blank(byte));
        if timestamp.parse::<i64>().is_err() {
            cursor.pos -= timestamp.len();
            return Err(cursor.error("a timestamp in milliseconds or the end of the line"));
        }
        cursor.skip_blanks();
    }
    if cursor.peek() == Some(b'#') {
        // An OpenMetrics exemplar: not part of the series.
        cursor.pos = cursor.line.len();
    }
    cursor.expect_end("the end of the line after the sample")?;
    Ok(MetricSample {
        name,
        labels,
        value,
    })
}

/// Parses `label="value",...}` (the `{` already consumed); a trailing comma is allowed.
fn parse_labels(
    cursor: &mut Cursor<'_>,
    labels: &mut Vec<(String, String)>,
) -> Result<(), ExpositionError> {
    loop {
        cursor.skip_blanks();
        if cursor.peek() == Some(b'}') {
            cursor.pos += 1;
            return Ok(());
        }
        let name_at = cursor.pos;
        let name = cursor
            .take_label_name()
            .ok_or_else(|| cursor.error("a label name or `}`"))?;
        if labels.iter().any(|(existing, _)| existing == name) {
            cursor.pos = name_at;
            return Err(cursor.error("each label name once per sample"));
        }
        cursor.skip_blanks();
        if cursor.peek() != Some(b'=') {
            return Err(cursor.error("`=` after the label name"));
        }
        cursor.pos += 1;
        cursor.skip_blanks();
        if cursor.peek() != Some(b'"') {
            return Err(cursor.error("a label value in double quotes"));
        }
        cursor.pos += 1;
        let value = cursor.take_label_value()?;
        labels.push((name.to_owned(), value));
        cursor.skip_blanks();
        match cursor.peek() {
            Some(b',') => cursor.pos += 1,
            Some(b'}') => {
                cursor.pos += 1;
                return Ok(());
            }
            _ => return Err(cursor.error("`,` or `}` after the label value")),
        }
    }
}

fn is_blank(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// A position in one line. Every delimiter it stops at is ASCII, so byte offsets are always
/// on character boundaries.
struct Cursor<'a> {
    line: &'a str,
    pos: usize,
    number: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.line.as_bytes().get(self.pos).copied()
    }

    fn rest(&self) -> &'a str {
        self.line.get(self.pos..).unwrap_or("")
    }

    /// Skips spaces and tabs; says whether there were any.
    fn skip_blanks(&mut self) -> bool {
        let start = self.pos;
        self.take_while(is_blank);
        self.pos > start
    }

    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &'a str {
        let rest = self.rest();
        let len = rest
            .bytes()
            .position(|byte| !keep(byte))
            .unwrap_or(rest.len());
        self.pos += len;
        rest.get(..len).unwrap_or("")
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    fn take_metric_name(&mut self) -> Option<&'a str> {
        let first = self.peek()?;
        if !(first.is_ascii_alphabetic() || first == b'_' || first == b':') {
            return None;
        }
        Some(self.take_while(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b':'))
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`
    fn take_label_name(&mut self) -> Option<&'a str> {
        let first = self.peek()?;
        if !(first.is_ascii_alphabetic() || first == b'_') {
            return None;
        }
        Some(self.take_while(|byte| byte.is_ascii_alphanumeric() || byte == b'_'))
    }

    /// Reads up to the closing quote (the opening one already consumed) and unescapes `\\`,
    /// `\"` and `\n`; any other escape is kept as written, as Prometheus does.
    fn take_label_value(&mut self) -> Result<String, ExpositionError> {
        let rest = self.rest();
        let bytes = rest.as_bytes();
        let mut end = None;
        let mut escaped = false;
        let mut index = 0;
        while index < bytes.len() {
            match bytes[index] {
                b'\\' => {
                    escaped = true;
                    index += 2;
                }
                b'"' => {
                    end = Some(index);
                    break;
                }
                _ => index += 1,
            }
        }
        let Some(end) = end else {
            return Err(self.error("a closing `\"` of the label value"));
        };
        let raw = rest.get(..end).unwrap_or("");
        self.pos += end + 1;
        if !escaped {
            return Ok(raw.to_owned());
        }
        let mut value = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                value.push(c);
                continue;
            }
            match chars.next() {
                Some('\\') => value.push('\\'),
                Some('"') => value.push('"'),
                Some('n') => value.push('\n'),
                Some(other) => {
                    value.push('\\');
                    value.push(other);
                }
                None => value.push('\\'),
            }
        }
        Ok(value)
    }

    fn expect_end(&self, expected: &'static str) -> Result<(), ExpositionError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error(expected)),
        }
    }

    fn error(&self, expected: &'static str) -> ExpositionError {
        ExpositionError {
            line: self.number,
            expected,
            found: self.rest().chars().take(FOUND_EXCERPT_CHARS).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the workshop's Python client (prometheus_client 0.x) serves: `_created` series,
    /// Python float formatting, process metrics.
    const PYTHON_CLIENT: &str = r#"# HELP python_gc_objects_collected_total Objects collected during gc
# TYPE python_gc_objects_collected_total counter
python_gc_objects_collected_total{generation="0"} 312.0
python_gc_objects_collected_total{generation="1"} 27.0
# HELP python_info Python platform information
# TYPE python_info gauge
python_info{implementation="CPython",major="3",minor="11",patchlevel="9",version="3.11.9"} 1.0
# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 4.2598400e+07
# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 1.27
# HELP fintech_requests_total Total HTTP requests
# TYPE fintech_requests_total counter
fintech_requests_total{endpoint="/api/balance",method="GET",status="200"} 120.0
fintech_requests_total{endpoint="/api/balance",method="GET",status="500"} 7.0
fintech_requests_total{endpoint="/health",method="GET",status="200"} 3.0
# HELP fintech_requests_created Total HTTP requests
# TYPE fintech_requests_created gauge
fintech_requests_created{endpoint="/api/balance",method="GET",status="200"} 1.7123456789012e+09
# HELP fintech_request_latency_seconds Request latency
# TYPE fintech_request_latency_seconds histogram
fintech_request_latency_seconds_bucket{endpoint="/api/balance",le="0.005"} 0.0
fintech_request_latency_seconds_bucket{endpoint="/api/balance",le="0.25"} 100.0
fintech_request_latency_seconds_bucket{endpoint="/api/balance",le="+Inf"} 120.0
fintech_request_latency_seconds_count{endpoint="/api/balance"} 120.0
fintech_request_latency_seconds_sum{endpoint="/api/balance"} 15.5
# HELP fintech_request_latency_seconds_created Request latency
# TYPE fintech_request_latency_seconds_created gauge
fintech_request_latency_seconds_created{endpoint="/api/balance"} 1.7123456789012e+09
# HELP fintech_active_transactions Active DB transactions
# TYPE fintech_active_transactions gauge
fintech_active_transactions 0.0
"#;

    #[test]
    fn parses_the_python_clients_exposition() {
        let exposition = parse(PYTHON_CLIENT).expect("valid exposition");
        assert_eq!(exposition.samples.len(), 16);
        let info = &exposition.samples[2];
        assert_eq!(info.name, "python_info");
        assert_eq!(info.label("version"), Some("3.11.9"));
        assert_eq!(
            exposition.value("process_resident_memory_bytes", &[]),
            Some(42_598_400.0)
        );
        assert_eq!(exposition.sum("fintech_requests_total", &[]), Some(130.0));
        assert_eq!(
            exposition.sum("fintech_requests_total", &[("endpoint", "/api/balance")]),
            Some(127.0)
        );
        assert_eq!(
            exposition.sum("fintech_requests_total", &[("status", "404")]),
            None
        );
        assert_eq!(exposition.named("fintech_requests_created").count(), 1);
        assert_eq!(
            exposition.value("fintech_request_latency_seconds_created", &[]),
            Some(1.7123456789012e9)
        );
        let inf_bucket = exposition
            .named("fintech_request_latency_seconds_bucket")
            .find(|sample| sample.label("le") == Some("+Inf"))
            .expect("+Inf bucket");
        assert_eq!(inf_bucket.value, 120.0);
    }

    #[test]
    fn parses_what_the_sandbox_renders() {
        let text = "# HELP fintech_db_pool_connections Database pool connections by state\n\
                    # TYPE fintech_db_pool_connections gauge\n\
                    fintech_db_pool_connections{state=\"in_use\"} 3\n\
                    fintech_db_pool_connections{state=\"idle\"} 7\n\
                    fintech_request_latency_seconds_bucket{endpoint=\"/health\",le=\"10.0\"} 3\n\
                    fintech_request_latency_seconds_sum{endpoint=\"/health\"} 0.0011917450000000001\n";
        let exposition = parse(text).expect("valid exposition");
        assert_eq!(
            exposition.value("fintech_db_pool_connections", &[("state", "idle")]),
            Some(7.0)
        );
        assert_eq!(exposition.samples[2].label("le"), Some("10.0"));
        assert_eq!(exposition.samples[3].value, 0.0011917450000000001);
    }

    #[test]
    fn special_values_timestamps_and_blank_lines() {
        let text = "\n  \na +Inf\nb -Inf\nc NaN\nd 1e3 1712345678000\ne{} 2 -5\n\t f 3\t\n";
        let exposition = parse(text).expect("valid exposition");
        let values: Vec<f64> = exposition.samples.iter().map(|s| s.value).collect();
        // The special values are valid syntax but no reading: dropped, and counted.
        assert_eq!(exposition.dropped.count, 3);
        let names: Vec<&str> = exposition
            .dropped
            .examples
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(values, [1000.0, 2.0, 3.0]);
        assert!(exposition.samples[1].labels.is_empty());
    }

    #[test]
    fn unescapes_label_values() {
        let text =
            r#"m{path="C:\\dir",quote="say \"hi\"",multi="a\nb",odd="\t",utf="Привет, мир"} 1"#;
        let exposition = parse(text).expect("valid exposition");
        let sample = &exposition.samples[0];
        assert_eq!(sample.label("path"), Some(r"C:\dir"));
        assert_eq!(sample.label("quote"), Some(r#"say "hi""#));
        assert_eq!(sample.label("multi"), Some("a\nb"));
        assert_eq!(sample.label("odd"), Some(r"\t"));
        assert_eq!(sample.label("utf"), Some("Привет, мир"));
    }

    #[test]
    fn tolerates_blanks_trailing_commas_crlf_and_openmetrics_extras() {
        let text = "# TYPE x counter\r\nx_total { a = \"1\" , b=\"2\", } 5\r\n# UNIT x seconds\n\
                    y_total 1 # {trace_id=\"abc\"} 0.3\n#plain comment\n# EOF\n";
        let exposition = parse(text).expect("valid exposition");
        assert_eq!(exposition.samples.len(), 2);
        assert_eq!(
            exposition.samples[0].labels,
            vec![("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        assert_eq!(exposition.samples[1].value, 1.0);
    }

    #[test]
    fn empty_text_is_an_empty_exposition() {
        assert_eq!(parse("").expect("empty is valid").samples.len(), 0);
        assert_eq!(parse("# only comments\n").expect("valid").samples.len(), 0);
    }

    fn error_of(text: &str) -> ExpositionError {
        parse(text).expect_err("should be rejected")
    }

    #[test]
    fn html_is_an_error_naming_the_line() {
        let error = error_of("<!DOCTYPE html>\n<html><body>502 Bad Gateway</body></html>\n");
        assert_eq!(error.line, 1);
        assert_eq!(error.expected, "a metric name");
        assert_eq!(
            error.to_string(),
            "line 1: expected a metric name, found `<!DOCTYPE html>`"
        );
    }

    #[test]
    fn json_and_plain_text_are_errors() {
        assert_eq!(
            error_of(r#"{"status":"healthy"}"#).expected,
            "a metric name"
        );
        let error = error_of("Not Found");
        assert_eq!(error.line, 1);
        assert_eq!(error.found, "Found");
        assert_eq!(
            error_of("OK").to_string(),
            "line 1: expected a sample value (a float, +Inf, -Inf or NaN), found the end of the line"
        );
    }

    #[test]
    fn malformed_lines_are_errors_with_their_line_number() {
        let cases: [(&str, usize, &str); 12] = [
            ("a 1\nb{x=\"1} 2\n", 2, "a closing `\"` of the label value"),
            ("a{x=1} 2", 1, "a label value in double quotes"),
            ("a{x} 2", 1, "`=` after the label name"),
            ("a{1x=\"\"} 2", 1, "a label name or `}`"),
            (
                "a{x=\"1\" y=\"2\"} 2",
                1,
                "`,` or `}` after the label value",
            ),
            ("a{x=\"1\",x=\"2\"} 2", 1, "each label name once per sample"),
            ("a one", 1, "a sample value (a float, +Inf, -Inf or NaN)"),
            (
                "\n\na 1 12.5",
                3,
                "a timestamp in milliseconds or the end of the line",
            ),
            ("a 1 2 3", 1, "the end of the line after the sample"),
            ("a-b 1", 1, "`{` or a blank after the metric name"),
            (
                "# TYPE a countr",
                1,
                "a metric type (counter, gauge, histogram, summary, untyped)",
            ),
            (
                "# HELP {x}",
                1,
                "a metric name after the HELP or TYPE keyword",
            ),
        ];
        for (text, line, expected) in cases {
            let error = error_of(text);
            assert_eq!((error.line, error.expected), (line, expected), "{text:?}");
        }
    }

    #[test]
    fn error_excerpt_is_short_and_cut_on_a_character_boundary() {
        let error = error_of(&"ж".repeat(100));
        assert_eq!(error.found.chars().count(), FOUND_EXCERPT_CHARS);
    }

    #[test]
    fn garbage_never_panics() {
        // Every prefix of a valid exposition and of some junk, cut at every byte: must return,
        // never panic (a prefix may well be valid).
        let junk = "a{b=\"\\\"\\\\\\n\\\", c=\"ф\"} +Inf 12\n# TYPE\n#\n{\n}\n\"\n\\\n=\n";
        for text in [PYTHON_CLIENT, junk] {
            for end in (0..=text.len()).filter(|&end| text.is_char_boundary(end)) {
                let _ = parse(&text[..end]);
                let _ = parse(&text[end..]);
            }
        }
        for byte in 0u8..=127 {
            let line = format!("m{{l=\"{}\"}} 1\n{}", byte as char, byte as char);
            let _ = parse(&line);
        }
    }

    #[test]
    fn filters_match_all_pairs() {
        let sample = MetricSample {
            name: "m".into(),
            labels: vec![("a".into(), "1".into()), ("b".into(), "2".into())],
            value: 1.0,
        };
        assert!(sample.matches(&[]));
        assert!(sample.matches(&[("b", "2"), ("a", "1")]));
        assert!(!sample.matches(&[("a", "1"), ("c", "3")]));
    }
}
