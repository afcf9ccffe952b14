//! The `[keys]` table of `config.toml`: which keys an action takes, as written,
//!
//! ```toml
//! [keys]
//! reset_failures = "R"
//! quit = ["q", "ctrl-c"]
//! ```
//!
//! Only the shape is checked here (a table of strings or lists of strings). Which actions exist
//! and how a key is spelled belong to the key table, which reports a mistake at the entry's
//! place with `KeyBindingSetting::error`, worded like every other config error.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use toml::Spanned;

use super::ConfigError;
use crate::toml_errors::line_column;

/// One `action = "key"` or `action = ["key", ...]` entry of `[keys]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBindingSetting {
    /// The action's name as written.
    pub action: String,
    /// The keys as written (`"R"`, `"ctrl-c"`), none empty; the list itself may be (`[]`).
    pub keys: Vec<String>,
    /// Where the action's name is written.
    pub place: ConfigPlace,
}

impl KeyBindingSetting {
    /// An error about this entry: "FILE line N: key `keys.ACTION`: DETAIL", as config errors
    /// read (DETAIL such as "unknown action; expected one of quit, help").
    pub fn error(&self, detail: &str) -> ConfigError {
        self.place.error(&format!("keys.{}", self.action), detail)
    }
}

/// A place in a config file, shown as `FILE:LINE:COLUMN` (1-based; the column counts
/// characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigPlace {
    /// The file as errors show it (`~/` for the home directory).
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl ConfigPlace {
    fn at(file: &str, text: &str, offset: usize) -> ConfigPlace {
        let (line, column) = line_column(text, offset);
        ConfigPlace {
            file: file.to_string(),
            line,
            column,
        }
    }

    /// An error about `key` (a dotted path such as `keys.quit`) at this place, in the shape of
    /// every config error: "FILE line N: key `KEY`: DETAIL".
    pub fn error(&self, key: &str, detail: &str) -> ConfigError {
        ConfigError(format!(
            "{} line {}: key `{key}`: {detail}",
            self.file, self.line
        ))
    }
}

impl fmt::Display for ConfigPlace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// `[keys]` as deserialized: each action's name and value with their spans, in no particular
/// order (`key_bindings` puts them in file order).
#[derive(Debug, Default)]
pub(super) struct KeyBindingsTable(Vec<(Spanned<String>, Spanned<toml::Value>)>);

impl<'de> Deserialize<'de> for KeyBindingsTable {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TableVisitor;
        impl<'de> Visitor<'de> for TableVisitor {
            type Value = KeyBindingsTable;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"a table of actions and their keys, such as [keys] quit = "q""#)
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(KeyBindingsTable(entries))
            }
        }
        deserializer.deserialize_map(TableVisitor)
    }
}

/// The entries of `[keys]` in file order, each value checked to be a key or a list of keys.
/// `source` and `text` are the file's name as shown and its contents.
pub(super) fn key_bindings(
    table: &KeyBindingsTable,
    source: &str,
    text: &str,
) -> Result<Vec<KeyBindingSetting>, ConfigError> {
    let mut entries: Vec<_> = table.0.iter().collect();
    entries.sort_by_key(|(action, _)| action.span().start);
    entries
        .into_iter()
        .map(|(action, value)| {
            let binding = KeyBindingSetting {
                action: action.get_ref().clone(),
                keys: Vec::new(),
                place: ConfigPlace::at(source, text, action.span().start),
            };
            match keys_of(value.get_ref()) {
                Some(keys) => Ok(KeyBindingSetting { keys, ..binding }),
                None => Err(ConfigPlace::at(source, text, value.span().start).error(
                    &format!("keys.{}", binding.action),
                    &format!(
                        r#"{} is not a key or a list of keys; expected a key such as "R" or a list such as ["q", "ctrl-c"]"#,
                        value.get_ref()
                    ),
                )),
            }
        })
        .collect()
}

/// `"key"` or `["key", ...]`, no key empty.
fn keys_of(value: &toml::Value) -> Option<Vec<String>> {
    let key = |value: &toml::Value| {
        value
            .as_str()
            .filter(|key| !key.trim().is_empty())
            .map(str::to_string)
    };
    match value {
        toml::Value::Array(items) => items.iter().map(key).collect(),
        single => key(single).map(|key| vec![key]),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::test_support::*;
    use crate::config::{ConfigPlace, KeyBindingSetting};

    fn place(line: usize, column: usize) -> ConfigPlace {
        ConfigPlace {
            file: String::new(),
            line,
            column,
        }
    }

    /// The bindings of `text` with the file left out of their places, for short assertions.
    fn bindings(text: &str) -> Result<Vec<KeyBindingSetting>, String> {
        load_text(text).map(|settings| {
            settings
                .keys
                .into_iter()
                .map(|binding| KeyBindingSetting {
                    place: ConfigPlace {
                        file: String::new(),
                        ..binding.place
                    },
                    ..binding
                })
                .collect()
        })
    }

    fn binding(action: &str, keys: &[&str], place: ConfigPlace) -> KeyBindingSetting {
        KeyBindingSetting {
            action: action.to_string(),
            keys: keys.iter().map(|key| key.to_string()).collect(),
            place,
        }
    }

    #[test]
    fn keys_come_in_file_order_with_their_places() {
        let text = "theme = \"dark\"\n\n[keys]\nreset_failures = \"R\"\n  quit = [\"q\", \"ctrl-c\"]\nhelp = []\n";
        assert_eq!(
            bindings(text),
            Ok(vec![
                binding("reset_failures", &["R"], place(4, 1)),
                binding("quit", &["q", "ctrl-c"], place(5, 3)),
                binding("help", &[], place(6, 1)),
            ])
        );
        let dotted = "keys.zoom = \"Z\"\nkeys = { quit = \"Q\" }\n";
        assert!(bindings(dotted).is_err(), "a table defined twice");
        let inline = "keys = { quit = \"Q\", abort = \"esc\" }\n";
        assert_eq!(
            bindings(inline),
            Ok(vec![
                binding("quit", &["Q"], place(1, 10)),
                binding("abort", &["esc"], place(1, 22)),
            ])
        );
        assert_eq!(bindings("lang = \"en\"\n"), Ok(Vec::new()));
    }

    #[test]
    fn a_value_not_a_key_names_file_line_and_entry() {
        assert_eq!(
            load_text("[keys]\nquit = \"q\"\nhelp = 5\n").expect_err("a number"),
            r#"line 3: key `keys.help`: 5 is not a key or a list of keys; expected a key such as "R" or a list such as ["q", "ctrl-c"]"#
        );
        assert_eq!(
            load_text("[keys]\nquit = [\"q\", true]\n").expect_err("a boolean in the list"),
            r#"line 2: key `keys.quit`: ["q", true] is not a key or a list of keys; expected a key such as "R" or a list such as ["q", "ctrl-c"]"#
        );
        assert_eq!(
            load_text("[keys]\nquit = \"\"\n").expect_err("empty"),
            r#"line 2: key `keys.quit`: "" is not a key or a list of keys; expected a key such as "R" or a list such as ["q", "ctrl-c"]"#
        );
        assert_eq!(
            load_text("keys = \"q\"\n").expect_err("not a table"),
            r#"line 1: key `keys`: expected a table of actions and their keys, such as [keys] quit = "q", found string "q""#
        );
    }

    #[test]
    fn the_key_table_reports_at_an_entry_like_any_config_error() {
        let (_dir, path) = write_config("[keys]\n\nquit = \"q\"\n");
        let settings = load_file(&path, &[]).expect("valid");
        let quit = &settings.keys[0];
        let file = crate::toml_errors::display_path(&path);
        assert_eq!(quit.place.to_string(), format!("{file}:3:1"));
        assert_eq!(
            quit.error("unknown action; expected one of help, zoom").0,
            format!("{file} line 3: key `keys.quit`: unknown action; expected one of help, zoom")
        );
    }

    #[test]
    fn the_example_config_shows_a_keys_table() {
        let example = std::path::Path::new(file!())
            .ancestors()
            .nth(3)
            .map(|root| root.join("assets/config.example.toml"))
            .expect("example path");
        let text = std::fs::read_to_string(example).expect("read example");
        let (_, table) = text
            .split_once("# [keys]\n")
            .expect("a commented [keys] table");
        let uncommented: String = table
            .lines()
            .map(|line| format!("{}\n", line.strip_prefix("# ").unwrap_or(line)))
            .collect();
        let keys = bindings(&format!("[keys]\n{uncommented}")).expect("valid [keys]");
        let written: Vec<(&str, Vec<&str>)> = keys
            .iter()
            .map(|b| {
                (
                    b.action.as_str(),
                    b.keys.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            written,
            [("reset_failures", vec!["R"]), ("quit", vec!["q", "Q"])]
        );
    }
}
