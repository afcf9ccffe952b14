//! Seeded generators of the sandbox API's JSON bodies (`POST /api/failures`, `POST
//! /api/transfer`), each with the verdict the contract gives it, for property tests in-process
//! and over HTTP. Bodies are built field by field (right and wrong values, unknown keys,
//! duplicates at the top and nested, escaped keys, odd whitespace); some are then mutated
//! byte by byte, and those carry no verdict of their own.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// What the contract says of a body.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Accepted: for failures, each knob's new value (flags as 0/1) and the `ttl_s` given; for
    /// transfers, `[("cents", amount), ]` with the account in `account`.
    Valid {
        changes: Vec<(String, u64)>,
        ttl_s: Option<u64>,
        account: Option<String>,
    },
    /// Refused with 400; the message contains one of these texts.
    Invalid { names_one_of: Vec<String> },
    /// Mutated bytes: judged by comparison, not by construction.
    Unjudged,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub body: Vec<u8>,
    pub verdict: Verdict,
}

/// The knobs as the contract states them: name, and the largest integer (None: a flag).
pub const KNOBS: [(&str, Option<u64>); 5] = [
    ("latency_ms", Some(60_000)),
    ("error_rate", Some(100)),
    ("memory_leak_mb", Some(100)),
    ("db_slow", None),
    ("db_fail", None),
];
const TTL_MAX: u64 = 86_400;
const MAX_CENTS: u64 = 100_000_000;

pub struct Bodies {
    rng: StdRng,
}

/// One field as written: its key, the key's JSON text, the value's JSON text.
struct Field {
    key: String,
    key_text: String,
    value_text: String,
}

impl Bodies {
    pub fn new(seed: u64) -> Self {
        Bodies {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.rng.random_range(0..100) < percent
    }

    /// A key's JSON text: plain, or with one character written as a `\u` escape.
    fn key_text(&mut self, key: &str) -> String {
        if !key.is_empty() && key.is_ascii() && self.chance(10) {
            let at = self.rng.random_range(0..key.len());
            let (before, rest) = key.split_at(at);
            let mut chars = rest.chars();
            let escaped = chars.next().map(|c| format!("\\u{:04x}", c as u32));
            return format!(
                "\"{}{}{}\"",
                escape(before),
                escaped.unwrap_or_default(),
                escape(chars.as_str())
            );
        }
        json!(key).to_string()
    }

    fn space(&mut self) -> &'static str {
        [" ", "", "", "\n", "\t ", "\r\n  "][self.rng.random_range(0..6)]
    }

    /// A value that no knob or ttl accepts: numbers of the wrong kind, strings, the rest.
    fn wrong_value(&mut self) -> String {
        match self.rng.random_range(0..5) {
            0 => format!("-{}", self.rng.random_range(1..1_000_000u64)),
            1 => format!(
                "{}.{}",
                self.rng.random_range(0..1000u64),
                self.rng.random_range(1..10u8)
            ),
            2 => ["2.5e-3", "1e3", "-0.0"][self.rng.random_range(0..3)].to_string(),
            3 => u64::MAX.to_string(),
            _ => self.not_a_number_or_text(),
        }
    }

    /// Neither a number, a string nor a boolean: what no field of either endpoint accepts.
    fn not_a_number_or_text(&mut self) -> String {
        match self.rng.random_range(0..6) {
            0 => "null".to_string(),
            1 => "[null]".to_string(),
            2 => "[1,2,{\"a\":true}]".to_string(),
            3 => "{\"nested\":{\"deep\":[]}}".to_string(),
            4 => "{}".to_string(),
            _ => "[]".to_string(),
        }
    }

    /// A string that no knob or ttl accepts.
    fn wrong_text(&mut self) -> String {
        json!(self.short_text()).to_string()
    }

    fn short_text(&mut self) -> String {
        const ALPHABET: &[char] = &[
            'a',
            'z',
            'A',
            '0',
            '9',
            '-',
            '_',
            ' ',
            '"',
            '\\',
            '/',
            'é',
            'ж',
            '\u{1F600}',
            '\n',
            '.',
            '{',
            '}',
        ];
        let len = self.rng.random_range(0..12);
        (0..len)
            .map(|_| ALPHABET[self.rng.random_range(0..ALPHABET.len())])
            .collect()
    }

    fn object(&mut self, fields: &[Field]) -> String {
        let mut text = format!("{}{{", self.space());
        for (index, field) in fields.iter().enumerate() {
            if index > 0 {
                text.push(',');
            }
            let (a, b, c) = (self.space(), self.space(), self.space());
            text.push_str(&format!("{a}{}{b}:{c}{}", field.key_text, field.value_text));
        }
        text.push_str(self.space());
        text.push('}');
        text
    }

    /// Adds a second use of a key, at the top or in a nested object; the duplicated key.
    fn duplicate(&mut self, fields: &mut Vec<Field>) -> String {
        if !fields.is_empty() && self.chance(70) {
            let original = self.rng.random_range(0..fields.len());
            let key = fields[original].key.clone();
            let key_text = self.key_text(&key);
            let value_text = if self.chance(50) {
                fields[original].value_text.clone()
            } else {
                self.wrong_value()
            };
            let at = self.rng.random_range(0..=fields.len());
            fields.insert(
                at,
                Field {
                    key: key.clone(),
                    key_text,
                    value_text,
                },
            );
            key
        } else {
            let key = ["a", "latency_ms", "x y", "é"][self.rng.random_range(0..4)].to_string();
            let quoted = json!(key).to_string();
            fields.push(Field {
                key: format!("outer{}", fields.len()),
                key_text: json!(format!("outer{}", fields.len())).to_string(),
                value_text: format!("{{{quoted}:1,\"b\":[{{}}],{quoted}:2}}"),
            });
            key
        }
    }

    fn unknown_key(&mut self, known: &[&str]) -> String {
        loop {
            let key = self.short_text();
            if !known.contains(&key.as_str()) {
                return key;
            }
        }
    }

    /// A `POST /api/failures` body and its verdict.
    pub fn failures(&mut self) -> Case {
        if self.chance(3) {
            let body = [
                "[]",
                "\"latency_ms\"",
                "42",
                "null",
                "true",
                "[{\"latency_ms\":1}]",
            ][self.rng.random_range(0..6)];
            return invalid(body.to_string(), &["JSON object"]);
        }
        let mut fields = Vec::new();
        let mut faults: Vec<String> = Vec::new();
        let mut changes = Vec::new();
        let mut ttl_s = None;
        let mut used: Vec<String> = Vec::new();
        for _ in 0..self.rng.random_range(0..=6) {
            let pick = self.rng.random_range(0..KNOBS.len() + 2);
            let (key, valid_value, wrong) = if pick < KNOBS.len() {
                let (name, max) = KNOBS[pick];
                let value = match max {
                    Some(max) => self.rng.random_range(0..=max),
                    None => u64::from(self.chance(50)),
                };
                (name.to_string(), Some(value), self.chance(25))
            } else if pick == KNOBS.len() {
                let ttl = self.rng.random_range(0..=TTL_MAX);
                ("ttl_s".to_string(), Some(ttl), self.chance(25))
            } else {
                let known: Vec<&str> = KNOBS.iter().map(|(n, _)| *n).chain(["ttl_s"]).collect();
                (self.unknown_key(&known), None, true)
            };
            if used.contains(&key) {
                continue;
            }
            used.push(key.clone());
            let value_text = match (valid_value, wrong) {
                (Some(value), false) => {
                    if key == "ttl_s" {
                        ttl_s = Some(value);
                    } else {
                        changes.push((key.clone(), value));
                    }
                    if is_flag(&key) {
                        (value == 1).to_string()
                    } else {
                        value.to_string()
                    }
                }
                (valid, _) => {
                    faults.push(key.clone());
                    match valid {
                        // Just past the range, or the other kind of value.
                        Some(_) if self.chance(30) => out_of_range(&key),
                        _ if self.chance(20) => self.wrong_text(),
                        _ => self.wrong_value(),
                    }
                }
            };
            let key_text = self.key_text(&key);
            fields.push(Field {
                key,
                key_text,
                value_text,
            });
        }
        if self.chance(12) {
            let key = self.duplicate(&mut fields);
            let body = self.object(&fields);
            return invalid(body, &[&format!("duplicate field `{key}`")]);
        }
        let body = self.object(&fields);
        if let Some(first) = faults.iter().min() {
            return invalid(body, &[&format!("`{first}`")]);
        }
        if changes.is_empty() {
            return invalid(body, &["names no failure"]);
        }
        Case {
            body: body.into_bytes(),
            verdict: Verdict::Valid {
                changes,
                ttl_s,
                account: None,
            },
        }
    }

    /// A `POST /api/transfer` body and its verdict; valid amounts are mostly small, so a
    /// balance of 10,000 lasts many of them.
    pub fn transfer(&mut self) -> Case {
        if self.chance(3) {
            return invalid("[]".to_string(), &["JSON object"]);
        }
        let mut fields = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        let mut amount_fault = None;
        let mut account_fault = None;
        let mut cents = None;
        let mut account = None;
        if self.chance(93) {
            let (text, fault) = self.amount();
            match fault {
                None => cents = text.1,
                Some(fault) => amount_fault = Some(fault),
            }
            fields.push(self.field("amount", text.0));
        } else {
            amount_fault = Some("`amount` is missing".to_string());
        }
        if self.chance(93) {
            let (text, valid) = self.account();
            match valid {
                Some(valid) => account = Some(valid),
                None => account_fault = Some("`to_account`".to_string()),
            }
            fields.push(self.field("to_account", text));
        } else {
            account_fault = Some("`to_account` is missing".to_string());
        }
        if self.chance(10) {
            let key = self.unknown_key(&["amount", "to_account"]);
            let value = self.wrong_value();
            fields.push(self.field(&key, value));
            unknown.push(key);
        }
        if self.chance(2) {
            fields.reverse();
        }
        if self.chance(12) {
            let key = self.duplicate(&mut fields);
            let body = self.object(&fields);
            return invalid(body, &[&format!("duplicate field `{key}`")]);
        }
        let body = self.object(&fields);
        if let Some(first) = unknown.iter().min() {
            return invalid(body, &[&format!("unknown field `{first}`")]);
        }
        if let Some(fault) = amount_fault.or(account_fault) {
            return invalid(body, &[&fault]);
        }
        Case {
            body: body.into_bytes(),
            verdict: Verdict::Valid {
                changes: vec![("cents".to_string(), cents.unwrap_or(0))],
                ttl_s: None,
                account,
            },
        }
    }

    fn field(&mut self, key: &str, value_text: String) -> Field {
        Field {
            key: key.to_string(),
            key_text: self.key_text(key),
            value_text,
        }
    }

    /// An amount's JSON text with its cents, or the fault its message names.
    fn amount(&mut self) -> ((String, Option<u64>), Option<String>) {
        let fault = Some("`amount`".to_string());
        match self.rng.random_range(0..10) {
            0..=5 => {
                let cents = if self.chance(95) {
                    self.rng.random_range(1..=5_000)
                } else {
                    self.rng.random_range(1..=MAX_CENTS)
                };
                let text = match self.rng.random_range(0..4) {
                    0 if cents % 100 == 0 => (cents / 100).to_string(),
                    1 => format!("{}.{:02}0", cents / 100, cents % 100),
                    2 if cents % 10 == 0 => format!("{}.{}", cents / 100, (cents % 100) / 10),
                    _ => format!("{}.{:02}", cents / 100, cents % 100),
                };
                ((text, Some(cents)), None)
            }
            6 => {
                let text = format!(
                    "{}.{:02}{}",
                    self.rng.random_range(0..1000),
                    self.rng.random_range(0..100),
                    self.rng.random_range(1..10)
                );
                ((text, None), fault)
            }
            7 => {
                let text = ["0", "0.0", "-5", "1000000.01", "1e9", "0.001"]
                    [self.rng.random_range(0..6)]
                .to_string();
                ((text, None), fault)
            }
            8 => ((self.wrong_text(), None), fault),
            _ => ((self.not_a_number_or_text(), None), fault),
        }
    }

    /// An account's JSON text and the account if it is valid.
    fn account(&mut self) -> (String, Option<String>) {
        const GOOD: &[u8] = b"ACDXYZacz0189-_";
        match self.rng.random_range(0..8) {
            0..=4 => {
                let len = self.rng.random_range(1..=20);
                let account: String = (0..len)
                    .map(|_| GOOD[self.rng.random_range(0..GOOD.len())] as char)
                    .collect();
                (json!(account).to_string(), Some(account))
            }
            5 => {
                let bad = ["", "ACC-001", "ACC 002", "ACC.002", "ACCé", &"A".repeat(21)]
                    [self.rng.random_range(0..6)]
                .to_string();
                (json!(bad).to_string(), None)
            }
            _ => (self.not_a_number_or_text(), None),
        }
    }

    /// A valid or invalid body with 1 to 3 bytes changed, inserted or removed.
    pub fn mutated(&mut self, of_transfer: bool) -> Case {
        let mut body = if of_transfer {
            self.transfer().body
        } else {
            self.failures().body
        };
        const BYTES: &[u8] = b"{}[]\",:0123456789.-+eE \\untrufalsel\xff\xc3\x00";
        for _ in 0..self.rng.random_range(1..=3) {
            let at = self.rng.random_range(0..=body.len());
            let byte = BYTES[self.rng.random_range(0..BYTES.len())];
            match self.rng.random_range(0..3) {
                0 if at < body.len() => body[at] = byte,
                1 if at < body.len() => {
                    body.remove(at);
                }
                _ => body.insert(at, byte),
            }
        }
        Case {
            body,
            verdict: Verdict::Unjudged,
        }
    }
}

fn invalid(body: String, names: &[&str]) -> Case {
    Case {
        body: body.into_bytes(),
        verdict: Verdict::Invalid {
            names_one_of: names.iter().map(|name| name.to_string()).collect(),
        },
    }
}

fn escape(text: &str) -> String {
    let quoted = json!(text).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

pub fn is_flag(name: &str) -> bool {
    KNOBS
        .iter()
        .any(|(knob, max)| *knob == name && max.is_none())
}

fn out_of_range(key: &str) -> String {
    match KNOBS.iter().find(|(name, _)| *name == key) {
        Some((_, Some(max))) => (max + 1).to_string(),
        Some((_, None)) => "1".to_string(),
        None => (TTL_MAX + 1).to_string(),
    }
}

/// The failure state the contract reads back (`current_config`) after `changes`.
pub fn apply(config: &mut Value, changes: &[(String, u64)]) {
    for (name, value) in changes {
        config[name] = if is_flag(name) {
            json!(*value == 1)
        } else {
            json!(value)
        };
    }
}

/// The state of a fresh sandbox.
pub fn fresh_config() -> Value {
    json!({"latency_ms": 0, "error_rate": 0, "memory_leak_mb": 0, "db_slow": false, "db_fail": false})
}
