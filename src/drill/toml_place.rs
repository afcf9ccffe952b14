//! Where in a case file a toml or serde error is, as a key path (`signals[0].threshold`) and a
//! line and column, and its message in the words the rest of our errors use.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::case_file::TOP_KEYS;
use crate::toml_errors::closest_key;
pub(crate) use crate::toml_errors::line_column;

/// The key path (`signals[0].threshold`) of what is written at byte `offset`: the innermost key
/// or value there, else the innermost table around it.
pub(crate) fn field_at(root: &DeTable<'_>, offset: usize) -> String {
    fn in_table(table: &DeTable<'_>, offset: usize, path: &str) -> Option<String> {
        for (key, value) in table {
            let path = if path.is_empty() {
                key.get_ref().to_string()
            } else {
                format!("{path}.{}", key.get_ref())
            };
            if key.span().contains(&offset) {
                return Some(path);
            }
            if let Some(found) = in_value(value, offset, &path) {
                return Some(found);
            }
        }
        None
    }
    fn in_value(value: &Spanned<DeValue<'_>>, offset: usize, path: &str) -> Option<String> {
        let inner = match value.get_ref() {
            DeValue::Table(table) => in_table(table, offset, path),
            DeValue::Array(array) => array
                .iter()
                .enumerate()
                .find_map(|(index, item)| in_value(item, offset, &format!("{path}[{index}]"))),
            _ => None,
        };
        let span = value.span();
        inner.or_else(|| {
            (span.contains(&offset) || (span.is_empty() && span.start == offset))
                .then(|| path.to_string())
        })
    }
    in_table(root, offset, "").unwrap_or_default()
}

/// serde's and toml's messages in our words: "expected a number, found a string".
pub(crate) fn reword(message: &str, field: &str) -> String {
    let message = message.lines().next().unwrap_or(message);
    if let Some((found, expected)) = message
        .strip_prefix("invalid type: ")
        .and_then(|rest| rest.split_once(", expected "))
    {
        let found = crate::toml_errors::found_words(found).unwrap_or_else(|| type_words(found));
        return format!("expected {}, found {found}", type_words(expected));
    }
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((key, tail)) = rest.split_once('`')
    {
        let known: Vec<&str> = tail
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|name| !name.is_empty())
            .collect();
        let known = if known.is_empty() && !field.contains('.') {
            TOP_KEYS.to_vec()
        } else {
            known
        };
        let hint = closest_key(key, &known)
            .map(|near| format!(" (did you mean `{near}`?)"))
            .unwrap_or_default();
        return format!("unknown key{hint}; expected one of {}", known.join(", "));
    }
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some((key, _)) = rest.split_once('`')
    {
        let what = match key {
            "en" | "ru" => " (every text is given in both en and ru)",
            _ => "",
        };
        return format!("missing key `{key}`{what}");
    }
    if let Some(rest) = message.strip_prefix("unknown variant `")
        && let Some((value, tail)) = rest.split_once('`')
    {
        let expected = tail.trim_start_matches(", expected ").replace('`', "\"");
        let value = crate::toml_errors::cut(value, crate::toml_errors::ECHO_CHARS);
        return format!("`{value}` is not allowed; expected {expected}");
    }
    message.to_string()
}

/// serde's type words ("f64", "string \"x\"", "sequence") as a person writes them.
fn type_words(text: &str) -> String {
    let text = text.trim();
    let head = text.split_whitespace().next().unwrap_or(text);
    match head {
        "f64" | "f32" | "floating" => "a number".to_string(),
        "i64" | "i32" | "u64" | "u32" | "integer" => "an integer".to_string(),
        "string" => "a string".to_string(),
        "boolean" | "bool" => "a boolean".to_string(),
        "sequence" | "array" => "an array".to_string(),
        "map" | "struct" | "table" => "a table".to_string(),
        _ => text.to_string(),
    }
}
