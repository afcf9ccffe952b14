//! A property-based test of the sandbox API's JSON bodies (`POST /api/failures`, `POST
//! /api/transfer`), from seeded generators (`support/json_bodies.rs`): in-process for volume,
//! then fewer over HTTP against a real `gameday sandbox`. Invariants: nothing panics, never a
//! 5xx; a body the contract refuses gets 400 naming what is at fault and changes nothing; a
//! valid one gets 200 and reads back as sent. Mutated bytes are judged by comparison: the strict
//! parse agrees with a plain JSON parse of the same bytes except where a key is duplicated.
//!
//! `GAMEDAY_FUZZ_EXECUTIONS` and `GAMEDAY_FUZZ_SEED` set the in-process count and seed;
//! `scripts/fuzz-api.sh` runs a million.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use std::panic::AssertUnwindSafe;

use gameday::sandbox::bodies::parse_transfer;
use gameday::sandbox::failures::{FailureState, Knob, parse_update};
use serde_json::Value;
use support::json_bodies::{self, Bodies, Case, Verdict, is_flag};
use support::{Api, Sandbox};

/// The longest answer a refusal may give: quotes of the request are cut.
const MAX_MESSAGE_BYTES: usize = 1500;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

fn named(message: &str, names: &[String]) -> Result<(), String> {
    if !names.iter().any(|name| message.contains(name.as_str())) {
        return Err(format!("message {message:?} names none of {names:?}"));
    }
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(format!("message of {} bytes", message.len()));
    }
    Ok(())
}

fn knob_value(value: &Value, name: &str) -> Option<u64> {
    if is_flag(name) {
        value.as_bool().map(u64::from)
    } else {
        value.as_u64()
    }
}

/// One failures body against the contract, and a failure state it is applied to when valid.
fn check_failures(case: &Case, state: &mut FailureState) -> Result<(), String> {
    let parsed = parse_update(&case.body);
    match (&case.verdict, &parsed) {
        (Verdict::Valid { changes, ttl_s, .. }, Ok(update)) => {
            let mut got: Vec<(String, u64)> = update
                .changes
                .iter()
                .map(|(knob, value)| (knob.name().to_string(), *value))
                .collect();
            let mut want = changes.clone();
            got.sort();
            want.sort();
            if got != want || update.ttl_s != *ttl_s {
                return Err(format!(
                    "parsed {update:?}, expected {changes:?} ttl {ttl_s:?}"
                ));
            }
            state.apply(update, None, std::time::Instant::now());
            for (name, value) in changes {
                let knob = Knob::from_name(name).expect("a knob");
                if state.config().value(knob) != *value {
                    return Err(format!("{name} reads back {}", state.config().value(knob)));
                }
            }
            Ok(())
        }
        (Verdict::Invalid { names_one_of }, Err(message)) => named(message, names_one_of),
        (Verdict::Unjudged, _) => {
            compare_with_plain_parse(&case.body, &parsed, |text| parse_update(text).map(|_| ()))
                .and_then(
                    |()| match (&parsed, serde_json::from_slice::<Value>(&case.body)) {
                        (Ok(update), Ok(value)) => {
                            update.changes.iter().try_for_each(|(knob, v)| {
                                (knob_value(&value[knob.name()], knob.name()) == Some(*v))
                                    .then_some(())
                                    .ok_or_else(|| format!("{} parsed as {v}", knob.name()))
                            })
                        }
                        _ => Ok(()),
                    },
                )
        }
        (verdict, parsed) => Err(format!("expected {verdict:?}, got {parsed:?}")),
    }
}

fn check_transfer(case: &Case) -> Result<(), String> {
    let parsed = parse_transfer(&case.body);
    match (&case.verdict, &parsed) {
        (
            Verdict::Valid {
                changes, account, ..
            },
            Ok(request),
        ) => {
            let cents = i64::try_from(changes[0].1).expect("cents");
            if request.amount_cents != cents || Some(&request.to_account) != account.as_ref() {
                return Err(format!(
                    "parsed {request:?}, expected {changes:?} {account:?}"
                ));
            }
            Ok(())
        }
        (Verdict::Invalid { names_one_of }, Err(message)) => named(message, names_one_of),
        (Verdict::Unjudged, _) => {
            compare_with_plain_parse(&case.body, &parsed, |text| parse_transfer(text).map(|_| ()))
        }
        (verdict, parsed) => Err(format!("expected {verdict:?}, got {parsed:?}")),
    }
}

/// Bytes without a verdict: if plain JSON parsing reads them, the strict parse of the bytes and
/// of the value written out again must agree, unless the bytes repeat a key; if it does not,
/// the strict parse must refuse them too.
fn compare_with_plain_parse<T: std::fmt::Debug>(
    body: &[u8],
    strict: &Result<T, String>,
    again: impl Fn(&[u8]) -> Result<(), String>,
) -> Result<(), String> {
    if let Err(message) = strict {
        if message.len() > MAX_MESSAGE_BYTES {
            return Err(format!("message of {} bytes", message.len()));
        }
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return match strict {
            Ok(parsed) => Err(format!("accepted what is not JSON: {parsed:?}")),
            Err(_) => Ok(()),
        };
    };
    let rewritten = again(value.to_string().as_bytes());
    match (strict, rewritten) {
        (Ok(_), Ok(())) => Ok(()),
        (Err(message), Ok(())) if message.starts_with("duplicate field `") => Ok(()),
        // The quoted value may differ in its last digits: serde_json reads a long number
        // written out again as a slightly different float (it rounds without float_roundtrip).
        (Err(message), Err(other))
            if reason(message) == reason(&other) || message.starts_with("duplicate") =>
        {
            Ok(())
        }
        (strict, rewritten) => Err(format!(
            "strict {strict:?} but written out again {rewritten:?}"
        )),
    }
}

/// A refusal without the quote of the value refused.
fn reason(message: &str) -> &str {
    message.split("; got ").next().unwrap_or(message)
}

#[test]
fn api_bodies_hold_their_invariants_in_process() {
    let executions = env_number("GAMEDAY_FUZZ_EXECUTIONS", 40_000);
    let seed = env_number("GAMEDAY_FUZZ_SEED", 0x5eed_2026);
    let mut bodies = Bodies::new(seed);
    let mut state = FailureState::default();
    let (mut crashes, mut violations) = (0u64, Vec::new());
    for execution in 0..executions {
        let case = match execution % 4 {
            0 => bodies.failures(),
            1 => bodies.transfer(),
            2 => bodies.mutated(false),
            _ => bodies.mutated(true),
        };
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            if execution % 2 == 0 {
                check_failures(&case, &mut state)
            } else {
                check_transfer(&case)
            }
        }));
        match outcome {
            Err(_) => crashes += 1,
            Ok(Err(violation)) => violations.push(format!(
                "{violation}\n  body: {}",
                String::from_utf8_lossy(&case.body)
            )),
            Ok(Ok(())) => {}
        }
    }
    println!(
        "fuzz: executions {executions}, crashes {crashes}, violations {}, seed {seed}",
        violations.len()
    );
    assert_eq!(crashes, 0, "panics in {crashes} executions");
    assert!(
        violations.is_empty(),
        "{} violations, the first:\n{}",
        violations.len(),
        violations[..violations.len().min(5)].join("\n")
    );
}

async fn post(api: &Api, path: &str, body: &[u8]) -> (u16, Value) {
    let response = api
        .http
        .post(format!("{}{path}", api.base))
        .header("Content-Type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .expect("POST answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A knob set with a time to live could expire during the test and change the state read back.
fn expires_soon(body: &[u8]) -> bool {
    parse_update(body).is_ok_and(|update| update.ttl_s.is_some_and(|ttl| (1..=600).contains(&ttl)))
}

#[tokio::test]
async fn api_bodies_hold_their_invariants_over_http() {
    let sandbox = Sandbox::start(&["--memory-cap", "16MiB"]);
    let api = Api::new(&sandbox.url);
    let mut bodies = Bodies::new(env_number("GAMEDAY_FUZZ_SEED", 0x5eed_2026) + 1);

    let mut config = json_bodies::fresh_config();
    let mut sent = 0;
    while sent < 300 {
        let case = if sent % 3 == 2 {
            bodies.mutated(false)
        } else {
            bodies.failures()
        };
        if expires_soon(&case.body) {
            continue;
        }
        sent += 1;
        let (status, answer) = post(&api, "/api/failures", &case.body).await;
        let body = String::from_utf8_lossy(&case.body);
        assert!(status < 500, "{status} for {body}: {answer}");
        match (&case.verdict, parse_update(&case.body)) {
            (Verdict::Valid { changes, .. }, _) => {
                assert_eq!(status, 200, "{body}: {answer}");
                json_bodies::apply(&mut config, changes);
            }
            (Verdict::Invalid { names_one_of }, _) => {
                assert_eq!(status, 400, "{body}: {answer}");
                named(answer["error"].as_str().expect("an error"), names_one_of).unwrap();
            }
            (Verdict::Unjudged, Ok(update)) => {
                assert_eq!(status, 200, "{body}: {answer}");
                let changes: Vec<(String, u64)> = update
                    .changes
                    .iter()
                    .map(|(knob, value)| (knob.name().to_string(), *value))
                    .collect();
                json_bodies::apply(&mut config, &changes);
            }
            (Verdict::Unjudged, Err(message)) => {
                assert_eq!(status, 400, "{body}: {answer}");
                assert_eq!(answer["error"], message.as_str());
            }
        }
        let (status, back) = api.get("/api/failures").await;
        assert_eq!(status, 200);
        assert_eq!(back["current_config"], config, "after {body}");
    }

    let (status, _) = api.post("/api/reset", "").await;
    assert_eq!(status, 200);
    let mut balance_cents: i64 = 1_000_000;
    for sent in 0..200 {
        let case = if sent % 3 == 2 {
            bodies.mutated(true)
        } else {
            bodies.transfer()
        };
        let (status, answer) = post(&api, "/api/transfer", &case.body).await;
        let body = String::from_utf8_lossy(&case.body);
        assert!(status < 500, "{status} for {body}: {answer}");
        match parse_transfer(&case.body) {
            Ok(request) if request.amount_cents <= balance_cents => {
                assert_eq!(status, 200, "{body}: {answer}");
                balance_cents -= request.amount_cents;
            }
            Ok(_) => assert_eq!(status, 422, "{body}: {answer}"),
            Err(message) => {
                assert_eq!(status, 400, "{body}: {answer}");
                assert_eq!(answer["error"], message.as_str());
            }
        }
        if let Verdict::Invalid { names_one_of } = &case.verdict {
            named(answer["error"].as_str().expect("an error"), names_one_of).unwrap();
        }
        let balance = api.get("/api/balance").await.1["balance"]
            .as_f64()
            .expect("a balance");
        assert_eq!(
            (balance * 100.0).round() as i64,
            balance_cents,
            "after {body}"
        );
    }
}
