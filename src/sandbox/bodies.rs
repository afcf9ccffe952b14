//! The JSON bodies of the sandbox's API, read strictly (`crate::strict_json`): a duplicate key
//! anywhere is refused with its name, as is any field the endpoint does not know.

use serde_json::Value;

use super::ledger::{SOURCE_ACCOUNT, TransferRequest};
pub use crate::strict_json::{QUOTE_BYTES, bounded, parse_strict, quoted};
use crate::strict_json::{account, amount_cents};

/// The most cents one transfer may move (1,000,000.00).
pub const MAX_TRANSFER_CENTS: i64 = 100_000_000;

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
    let amount_cents = amount_cents("amount", amount, MAX_TRANSFER_CENTS)?;
    let to_account = fields
        .get("to_account")
        .ok_or("field `to_account` is missing: expected an account number such as \"ACC-002\"")?;
    let to_account = account("to_account", to_account)?;
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
