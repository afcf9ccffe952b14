//! Error messages for hand-written TOML files (`config.toml` and theme files) in one shape,
//! "SOURCE line N: key `K`: what is wrong; expected ...". A module of its own because both
//! `config` and `theme` report through it and neither should depend on the other for it.

use std::path::Path;

use directories::BaseDirs;

/// The largest hand-written file read (`config.toml`, a theme, a case): the shipped cases are
/// under 10 KiB; past this a file is refused before it is parsed, so no file can make start-up
/// spend seconds of CPU (a 10 MB key once took 25 s).
pub(crate) const TEXT_FILE_CAP: u64 = 1 << 20;

/// Why a hand-written file cannot be read as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TextFileError {
    /// The system's reason (not found, permission denied).
    Io(String),
    /// A FIFO, a socket, a device or a folder: never opened, as opening a FIFO would hang.
    NotRegular,
    TooBig {
        bytes: u64,
    },
    /// The first byte that is not UTF-8, by 1-based line and column (in characters).
    NotUtf8 {
        line: usize,
        column: usize,
    },
}

impl TextFileError {
    /// Where in the file the problem is: its line and column, or the start of the file.
    pub(crate) fn place(&self) -> (usize, usize) {
        match self {
            TextFileError::NotUtf8 { line, column } => (*line, *column),
            _ => (1, 1),
        }
    }
}

impl std::fmt::Display for TextFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TextFileError::Io(reason) => write!(f, "cannot read it ({reason})"),
            TextFileError::NotRegular => {
                f.write_str("not a regular file (a FIFO, socket, device or folder); not read")
            }
            TextFileError::TooBig { bytes } => write!(
                f,
                "{bytes} bytes, over the {} KiB a hand-written file may have; not read",
                TEXT_FILE_CAP >> 10
            ),
            TextFileError::NotUtf8 { line, column } => {
                write!(f, "line {line} column {column}: {}", NOT_UTF8)
            }
        }
    }
}

const NOT_UTF8: &str = "not UTF-8; expected UTF-8 text";

impl TextFileError {
    /// The reason without the place, for a report that gives the place apart.
    pub(crate) fn reason(&self) -> String {
        match self {
            TextFileError::NotUtf8 { .. } => NOT_UTF8.to_string(),
            other => other.to_string(),
        }
    }
}

/// Reads a hand-written file as UTF-8 text: only a regular file (checked before opening, so a
/// FIFO cannot hang start-up), at most [`TEXT_FILE_CAP`] bytes, and invalid UTF-8 placed at its
/// real line and column.
pub(crate) fn read_text_file(path: &Path) -> Result<String, TextFileError> {
    use std::io::Read;
    let io = |error: std::io::Error| TextFileError::Io(error.to_string());
    let metadata = std::fs::metadata(path).map_err(io)?;
    if !metadata.is_file() {
        return Err(TextFileError::NotRegular);
    }
    if metadata.len() > TEXT_FILE_CAP {
        return Err(TextFileError::TooBig {
            bytes: metadata.len(),
        });
    }
    // The file may grow between the look and the read: read one byte past the cap at most.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(TEXT_FILE_CAP + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > TEXT_FILE_CAP {
        return Err(TextFileError::TooBig {
            bytes: bytes.len() as u64,
        });
    }
    String::from_utf8(bytes).map_err(|error| {
        let valid = error.utf8_error().valid_up_to();
        let before = error.as_bytes().get(..valid).unwrap_or_default();
        // Valid up to `valid`, so this is text and the offset a character boundary.
        let before = String::from_utf8_lossy(before);
        let (line, column) = line_column(&before, before.len());
        TextFileError::NotUtf8 { line, column }
    })
}

/// At most `max` characters of `text` (a key or value echoed in a message), with `…` when cut.
pub(crate) fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", text.get(..at).unwrap_or_default()),
        None => text.to_string(),
    }
}

/// The longest key or value echoed in a message.
pub(crate) const ECHO_CHARS: usize = 60;

/// serde's word for what it found ("integer `1000…` as i128", "floating point `1e23`",
/// "string \"x\"") as a person writes it, saying the value where it tells what is wrong.
pub(crate) fn found_words(found: &str) -> Option<String> {
    let found = found.trim();
    let quoted = |rest: &str| {
        rest.split('`')
            .nth(1)
            .map(|value| cut(value, ECHO_CHARS))
            .unwrap_or_default()
    };
    if let Some(rest) = found.strip_prefix("integer `") {
        let value = quoted(&format!("`{rest}"));
        // serde widens an integer past 64 bits to i128 before it refuses it.
        return Some(
            if found.ends_with("as i128") || found.ends_with("as u128") {
                format!("{value}, an integer too large for one")
            } else {
                "an integer".to_string()
            },
        );
    }
    if found.starts_with("floating point `") {
        return Some(format!("a float {}", quoted(found)));
    }
    None
}

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
            (Some(cut(key, ECHO_CHARS)), detail)
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
    (!key.is_empty() && key.chars().all(plain)).then(|| cut(key, ECHO_CHARS))
}

/// serde's "invalid type: X, expected Y" read the way our other messages read.
fn reword_serde_message(message: &str) -> String {
    let found_expected = message
        .strip_prefix("invalid type: ")
        .and_then(|rest| rest.split_once(", expected "));
    match found_expected {
        Some((found, expected)) => {
            let found = found_words(found).unwrap_or_else(|| cut(found, ECHO_CHARS));
            format!("expected {}, found {found}", cut(expected, 200))
        }
        // toml's own messages quote little of the text; the cut bounds what they do.
        None => cut(message, 200),
    }
}

/// The known key within two edits of `key`, for a "did you mean" hint.
pub(crate) fn closest_key<'a>(key: &str, known_keys: &[&'a str]) -> Option<&'a str> {
    // Lengths more than two apart are more than two edits apart: a huge key costs nothing.
    let length = key.chars().count();
    known_keys
        .iter()
        .filter(|known| known.chars().count().abs_diff(length) <= 2)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_placed_at_its_line_and_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.toml");
        let mut bytes = "a = 1\n".repeat(39).into_bytes();
        bytes.extend_from_slice(b"name = \"caf\xff\"\n");
        std::fs::write(&path, bytes).expect("write");
        let error = read_text_file(&path).expect_err("not UTF-8");
        assert_eq!(
            error,
            TextFileError::NotUtf8 {
                line: 40,
                column: 12
            }
        );
        assert_eq!(
            error.to_string(),
            "line 40 column 12: not UTF-8; expected UTF-8 text"
        );
    }

    #[test]
    fn big_files_and_fifos_are_refused_unread() {
        let dir = tempfile::tempdir().expect("tempdir");
        let big = dir.path().join("big.toml");
        std::fs::write(&big, vec![b'a'; (TEXT_FILE_CAP + 1) as usize]).expect("write");
        assert!(matches!(
            read_text_file(&big),
            Err(TextFileError::TooBig { .. })
        ));
        let fifo = dir.path().join("fifo.toml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        // Opening it would block until a writer comes: it is refused before.
        assert_eq!(read_text_file(&fifo), Err(TextFileError::NotRegular));
        assert_eq!(read_text_file(dir.path()), Err(TextFileError::NotRegular));
    }

    #[test]
    fn echoed_text_is_cut_and_numbers_are_worded() {
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("абв", 3), "абв");
        assert_eq!(
            found_words("integer `100000000000000000000000` as i128").as_deref(),
            Some("100000000000000000000000, an integer too large for one")
        );
        assert_eq!(
            found_words("floating point `1e23`").as_deref(),
            Some("a float 1e23")
        );
        assert_eq!(found_words("integer `5`").as_deref(), Some("an integer"));
        let long = "k".repeat(10_000_000);
        assert_eq!(closest_key(&long, &["theme", "lang"]), None);
    }
}
