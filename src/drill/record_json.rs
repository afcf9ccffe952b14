//! A session record's JSON as a person reads it: every time (epoch seconds) gets its ISO 8601
//! UTC form on the next line (`"injected_at_iso": "2026-11-18T11:07:41.000Z"`), and arrays of
//! plain numbers (the series) stay on one line instead of one number per line.
//!
//! Both are done on `serde_json`'s pretty text, line by line: it writes every object key on a
//! line of its own and a JSON string never holds a raw line break, so a line that is exactly
//! `"key": number` or a lone number is what it looks like. Readers ignore the `_iso` fields
//! (the epoch seconds stay the record's truth), so the records' types know nothing of them.

use chrono::{DateTime, SecondsFormat};

/// Fields holding epoch seconds (a number or an array of numbers) beside the `at` and `*_at`
/// ones.
const OTHER_TIME_KEYS: [&str; 2] = ["in_band_since", "platform_restarts"];

pub fn readable_json(pretty: &str) -> String {
    let lines: Vec<&str> = pretty.lines().collect();
    let mut out = String::with_capacity(pretty.len());
    for line in collapse_number_arrays(&lines) {
        match iso_beside(&line) {
            // The time's line now needs a comma; the ISO line takes the one it had.
            Some((iso_line, comma)) => {
                out.push_str(line.strip_suffix(',').unwrap_or(&line));
                out.push_str(",\n");
                out.push_str(&iso_line);
                out.push_str(comma);
            }
            None => out.push_str(&line),
        }
        out.push('\n');
    }
    out
}

/// `"key": [` followed by lines of single numbers and a closing `]` become one line.
fn collapse_number_arrays(lines: &[&str]) -> Vec<String> {
    let mut out = Vec::with_capacity(lines.len());
    let mut index = 0;
    while let Some(line) = lines.get(index) {
        if line.trim_end().ends_with('[') {
            let mut end = index + 1;
            let mut numbers = Vec::new();
            while let Some(number) = lines.get(end).and_then(|l| as_number(l.trim())) {
                numbers.push(number);
                end += 1;
            }
            if let Some(closing) = lines.get(end).map(|l| l.trim())
                && closing.starts_with(']')
                && !numbers.is_empty()
            {
                out.push(format!(
                    "{}{}{closing}",
                    line.trim_end(),
                    numbers.join(", ")
                ));
                index = end + 1;
                continue;
            }
        }
        out.push((*line).to_string());
        index += 1;
    }
    out
}

/// `text` without its trailing comma, if it is a JSON number.
fn as_number(text: &str) -> Option<&str> {
    let number = text.strip_suffix(',').unwrap_or(text);
    (!number.is_empty() && number.parse::<f64>().is_ok()).then_some(number)
}

fn is_time_key(key: &str) -> bool {
    key == "at" || key.ends_with("_at") || OTHER_TIME_KEYS.contains(&key)
}

/// The `"key_iso": …` line to follow `line` when it holds a time, and `line`'s own comma.
fn iso_beside(line: &str) -> Option<(String, &'static str)> {
    let indent = &line[..line.len() - line.trim_start().len()];
    let rest = line.trim_start().strip_prefix('"')?;
    let (key, value) = rest.split_once("\": ")?;
    if !is_time_key(key) {
        return None;
    }
    let (value, comma) = match value.strip_suffix(',') {
        Some(value) => (value, ","),
        None => (value, ""),
    };
    let iso = if let Some(list) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        let times: Option<Vec<String>> = list
            .split(", ")
            .map(|n| Some(format!("\"{}\"", iso_time(n.parse().ok()?)?)))
            .collect();
        format!("[{}]", times?.join(", "))
    } else {
        format!("\"{}\"", iso_time(value.parse().ok()?)?)
    };
    Some((format!("{indent}\"{key}_iso\": {iso}"), comma))
}

/// `2026-11-18T11:07:41.250Z`.
pub fn iso_time(at: f64) -> Option<String> {
    if !at.is_finite() {
        return None;
    }
    let time = DateTime::from_timestamp_millis((at * 1000.0).round() as i64)?;
    Some(time.to_rfc3339_opts(SecondsFormat::Millis, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_get_their_iso_form_and_number_arrays_one_line() {
        let value = serde_json::json!({
            "started_at": 1_795_000_000.0,
            "drill": {
                "phases": [{"phase": "baseline", "at": 1_795_000_000.25}],
                "done_at": null,
                "platform_restarts": [1_795_000_100.0, 1_795_000_200.0],
                "series": {"offsets": [0.0, 1.5, 3.0], "values": [1, 2, 3], "names": ["a", "b"]},
                "last_at": 1_795_000_300.0
            },
            "note": "\"at\": 5"
        });
        let pretty = serde_json::to_string_pretty(&value).expect("json");
        let text = readable_json(&pretty);
        let back: serde_json::Value = serde_json::from_str(&text).expect(&text);
        assert_eq!(back["started_at"], 1_795_000_000.0);
        assert_eq!(back["started_at_iso"], "2026-11-18T11:06:40.000Z", "{text}");
        assert_eq!(
            back["drill"]["phases"][0]["at_iso"],
            "2026-11-18T11:06:40.250Z"
        );
        assert_eq!(back["drill"]["last_at_iso"], "2026-11-18T11:11:40.000Z");
        assert!(back["drill"].get("done_at_iso").is_none(), "{text}");
        assert_eq!(
            back["drill"]["platform_restarts_iso"],
            serde_json::json!(["2026-11-18T11:08:20.000Z", "2026-11-18T11:10:00.000Z"])
        );
        assert_eq!(
            back["drill"]["series"]["values"],
            serde_json::json!([1, 2, 3])
        );
        assert!(text.contains("\"offsets\": [0.0, 1.5, 3.0],\n"), "{text}");
        assert!(
            text.contains("\"names\": [\n"),
            "strings stay as they were: {text}"
        );
        assert!(back.get("note_iso").is_none());
        // Without the ISO fields it is the same value.
        let mut stripped = back.clone();
        strip_iso(&mut stripped);
        assert_eq!(stripped, value);
    }

    fn strip_iso(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                map.retain(|key, _| !key.ends_with("_iso"));
                map.values_mut().for_each(strip_iso);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip_iso),
            _ => {}
        }
    }
}
