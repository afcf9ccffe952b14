//! Error messages for hand-written TOML files (`config.toml` and theme files) in one shape,
//! "SOURCE line N: key `K`: what is wrong; expected ...". A module of its own because both
//! `config` and `theme` report through it and neither should depend on the other for it.

use std::path::Path;

use directories::BaseDirs;

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// 1-based line and column (in characters) of byte `offset`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// A path as people write it: under the home directory as `~/...`.
pub(crate) fn display_path(path: &Path) -> String {
    let home = BaseDirs::new().map(|dirs| dirs.home_dir().to_path_buf());
    match home.as_deref().filter(|home| home.parent().is_some()) {
        Some(home) if path.starts_with(home) => match path.strip_prefix(home) {
            Ok(rest) => format!("~/{}", rest.display()),
            Err(_) => path.display().to_string(),
        },
        _ => path.display().to_string(),
    }
}

/// Turns a TOML or serde error into "SOURCE line N: key `K`: what is wrong; expected ...".
/// An unknown key lists `known_keys` (and the closest one, for a typo).
pub(crate) fn describe_toml_error(
    source: &str,
    text: &str,
    error: &toml::de::Error,
    known_keys: &[&str],
) -> String {
    let message = error.message().trim();
    let Some(span) = error.span() else {
        return format!("{source}: {message}");
    };
    let line = line_of(text, span.start);
    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(key, _)| key);
    let (key, detail) = match unknown {
        Some(key) => {
            let hint = closest_key(key, known_keys)
                .map(|near| format!(" (did you mean `{near}`?)"))
                .unwrap_or_default();
            let expected = known_keys.join(", ");
            let detail = format!("unknown key{hint}; expected one of {expected}");
            (Some(key.to_string()), detail)
        }
        None => (key_on_line(text, line), reword_serde_message(message)),
    };
    match key {
        Some(key) => format!("{source} line {line}: key `{key}`: {detail}"),
        None => format!("{source} line {line}: {detail}"),
    }
}

/// The key of a `key = value` line, if the line is one.
fn key_on_line(text: &str, line: usize) -> Option<String> {
    let (key, _) = text.lines().nth(line - 1)?.split_once('=')?;
    let key = key.trim().trim_matches('"');
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-.".contains(c);
    (!key.is_empty() && key.chars().all(plain)).then(|| key.to_string())
}

/// serde's "invalid type: X, expected Y" read the way our other messages read.
fn reword_serde_message(message: &str) -> String {
    let found_expected = message
        .strip_prefix("invalid type: ")
        .and_then(|rest| rest.split_once(", expected "));
    match found_expected {
        Some((found, expected)) => format!("expected {expected}, found {found}"),
        None => message.to_string(),
    }
}

/// The known key within two edits of `key`, for a "did you mean" hint.
pub(crate) fn closest_key<'a>(key: &str, known_keys: &[&'a str]) -> Option<&'a str> {
    known_keys
        .iter()
        .map(|known| (edit_distance(key, known), *known))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, known)| known)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}
