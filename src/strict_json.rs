//! JSON request bodies read strictly, for every server gameday runs (the sandbox, the payment
//! provider): a duplicate key anywhere (nested objects too) is refused with its name; amounts
//! are read into whole cents; texts that come from a request are cut before they reach a
//! message or the log. Imports nothing of the rest of the crate.

use std::fmt;

use axum::http::HeaderMap;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// `Idempotency-Key`, as both servers read it: absent, or 1 to 255 visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, String> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .filter(|key| (1..=255).contains(&key.len()) && key.chars().all(|c| c.is_ascii_graphic()))
        .map(|key| Some(key.to_string()))
        .ok_or_else(|| {
            "header `Idempotency-Key`: expected 1 to 255 visible ASCII characters".to_string()
        })
}

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

/// An amount from 0.01 to `max_cents / 100` with at most 2 decimals, in cents; the error names
/// `field`.
pub fn amount_cents(field: &str, value: &Value, max_cents: i64) -> Result<i64, String> {
    value
        .as_f64()
        .map(|amount| amount * 100.0)
        .filter(|cents| {
            cents.is_finite()
                && *cents >= 1.0 - 1e-6
                && (cents - cents.round()).abs() < 1e-6
                && cents.round() <= max_cents as f64
        })
        .map(|cents| cents.round() as i64)
        .ok_or_else(|| {
            format!(
                "field `{field}`: expected a number from 0.01 to {} with at most 2 decimals; got {}",
                max_cents / 100,
                quoted(value)
            )
        })
}

/// An account number: 1 to 20 letters, digits, `-` or `_`; the error names `field`.
pub fn account<'a>(field: &str, value: &'a Value) -> Result<&'a str, String> {
    value
        .as_str()
        .filter(|account| {
            (1..=20).contains(&account.len())
                && account
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .ok_or_else(|| {
            format!(
                "field `{field}`: expected 1 to 20 letters, digits, `-` or `_`; got {}",
                quoted(value)
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
