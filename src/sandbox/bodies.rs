//! The JSON bodies of the sandbox's API, read strictly: a duplicate key anywhere (nested
//! objects too) is refused with its name, as is any field the endpoint does not know. Texts
//! that come from a request are cut before they reach a message or the log.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::ledger::{SOURCE_ACCOUNT, TransferRequest};

/// The most cents one transfer may move (1,000,000.00).
pub const MAX_TRANSFER_CENTS: i64 = 100_000_000;
/// The most bytes of a request's text quoted in an answer or a log line.
pub const QUOTE_BYTES: usize = 200;

/// `text` cut to at most `max` bytes (on a character boundary), saying how long it was.
pub fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len())
}

/// A JSON value as written in a request, cut for quoting.
pub fn quoted(value: &Value) -> String {
    bounded(&value.to_string(), QUOTE_BYTES)
}

/// Parses a body as JSON, refusing a duplicate key at any depth with its name.
pub fn parse_strict(body: &[u8]) -> Result<Value, String> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = StrictValue
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value))
        .map_err(|err| {
            let text = err.to_string();
            if text.starts_with(DUPLICATE) {
                text
            } else {
                format!("body is not valid JSON: {}", bounded(&text, QUOTE_BYTES))
            }
        })?;
    Ok(value)
}

const DUPLICATE: &str = "duplicate field ";

/// Builds a `serde_json::Value` like its own `Deserialize`, but an object's second use of a
/// key is an error.
#[derive(Clone, Copy)]
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_string()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if fields.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "{DUPLICATE}`{}`: each field may appear once",
                    bounded(&key, QUOTE_BYTES)
                )));
            }
            let value = map.next_value_seed(StrictValue)?;
            fields.insert(key, value);
        }
        Ok(Value::Object(fields))
    }
}

/// Parses a `POST /api/transfer` body: `amount` (0.01 to 1,000,000 with at most 2 decimals)
/// and `to_account`, nothing else. The error names the field at fault.
pub fn parse_transfer(body: &[u8]) -> Result<TransferRequest, String> {
    let value = parse_strict(body)?;
    let Value::Object(fields) = value else {
        return Err(
            "body must be a JSON object such as {\"amount\": 100, \"to_account\": \"ACC-002\"}"
                .to_string(),
        );
    };
    if let Some(unknown) = fields
        .keys()
        .find(|key| !matches!(key.as_str(), "amount" | "to_account"))
    {
        return Err(format!(
            "unknown field `{}`: expected amount, to_account",
            bounded(unknown, QUOTE_BYTES)
        ));
    }
    let amount = fields
        .get("amount")
        .ok_or("field `amount` is missing: expected a positive number with at most 2 decimals")?;
    let amount_cents = amount
        .as_f64()
        .map(|amount| amount * 100.0)
        .filter(|cents| {
            cents.is_finite()
                && *cents >= 1.0 - 1e-6
                && (cents - cents.round()).abs() < 1e-6
                && cents.round() <= MAX_TRANSFER_CENTS as f64
        })
        .map(|cents| cents.round() as i64)
        .ok_or_else(|| {
            format!(
                "field `amount`: expected a number from 0.01 to {} with at most 2 decimals; got {}",
                MAX_TRANSFER_CENTS / 100,
                quoted(amount)
            )
        })?;
    let to_account = fields
        .get("to_account")
        .ok_or("field `to_account` is missing: expected an account number such as \"ACC-002\"")?;
    let to_account = to_account
        .as_str()
        .filter(|account| {
            (1..=20).contains(&account.len())
                && account
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .ok_or_else(|| {
            format!(
                "field `to_account`: expected 1 to 20 letters, digits, `-` or `_`; got {}",
                quoted(to_account)
            )
        })?;
    if to_account == SOURCE_ACCOUNT {
        return Err(format!(
            "field `to_account`: cannot transfer from {SOURCE_ACCOUNT} to itself"
        ));
    }
    Ok(TransferRequest {
        amount_cents,
        to_account: to_account.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfers_are_parsed_strictly() {
        let ok = parse_transfer(br#"{"amount": 12.34, "to_account": "ACC-002"}"#).expect("valid");
        assert_eq!(ok.amount_cents, 1234);
        let cases = [
            (r#"{"amount": 0, "to_account": "ACC-002"}"#, "`amount`"),
            (r#"{"amount": 1.234, "to_account": "ACC-002"}"#, "`amount`"),
            (r#"{"amount": "5", "to_account": "ACC-002"}"#, "`amount`"),
            (r#"{"to_account": "ACC-002"}"#, "`amount` is missing"),
            (r#"{"amount": 5}"#, "`to_account` is missing"),
            (r#"{"amount": 5, "to_account": 7}"#, "`to_account`"),
            (r#"{"amount": 5, "to_account": "ACC-001"}"#, "itself"),
            (
                r#"{"amount": 5, "to_account": "A", "memo": "x"}"#,
                "unknown field `memo`",
            ),
            (r#"[]"#, "JSON object"),
            (
                r#"{"amount": 999999, "amount": 1, "to_account": "ACC-002"}"#,
                "duplicate field `amount`",
            ),
        ];
        for (body, expected) in cases {
            let err = parse_transfer(body.as_bytes()).expect_err(body);
            assert!(err.contains(expected), "{body}: {err}");
        }
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        for (body, key) in [
            (r#"{"a":1,"a":2}"#, "`a`"),
            (r#"{"a":{"b":1,"c":{"d":1,"d":1}}}"#, "`d`"),
            (r#"[{"x":1},{"y":1,"y":2}]"#, "`y`"),
        ] {
            let err = parse_strict(body.as_bytes()).expect_err(body);
            assert!(err.starts_with("duplicate field"), "{body}: {err}");
            assert!(err.contains(key), "{body}: {err}");
        }
        let value = parse_strict(br#"{"a":{"b":[1,2.5,"x",null,true]},"b":{"b":1}}"#)
            .expect("same key in different objects is fine");
        assert_eq!(value["a"]["b"][1], 2.5);
        assert!(
            parse_strict(br#"{"a":1} x"#)
                .expect_err("trailing")
                .contains("not valid JSON")
        );
    }

    #[test]
    fn long_texts_are_cut_with_their_length() {
        let long = "é".repeat(1000);
        let cut = bounded(&long, QUOTE_BYTES);
        assert!(cut.len() < QUOTE_BYTES + 30, "{}", cut.len());
        assert!(cut.ends_with("… (2000 bytes)"), "{cut}");
        assert_eq!(bounded("short", QUOTE_BYTES), "short");
        let body = format!(r#"{{"amount": 5, "to_account": "{}"}}"#, "x".repeat(60_000));
        let err = parse_transfer(body.as_bytes()).expect_err("too long");
        assert!(err.len() < 500, "{}", err.len());
    }
}
