//! The `config.toml` layer: which file is read, how it is deserialized (every key optional,
//! unknown keys refused) and how a bad value is reported with its file, line and key.

use std::fmt;
use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::key_bindings::key_bindings;
use super::settings::{ConfigFile, SettingKey};
use super::{ConfigError, LoadedSettings, ValueOrigin, config_file_in_use};
use crate::toml_errors::{
    TextFileError, describe_toml_error, display_path, line_of, read_text_file,
};

/// Applies the config file `config_file_in_use` names, if there is one, over `loaded`.
pub(super) fn apply_config_file(
    loaded: &mut LoadedSettings,
    default_file: Option<&Path>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    let from_env = env("GAMEDAY_CONFIG").is_some_and(|path| !path.is_empty());
    let Some(path) = config_file_in_use(default_file, env) else {
        return Ok(());
    };
    if let Err(error) = fs::metadata(&path)
        && error.kind() == ErrorKind::NotFound
        && !from_env
    {
        return Ok(());
    }
    let text = match read_text_file(&path) {
        Ok(text) => text,
        Err(error @ TextFileError::NotUtf8 { .. }) => {
            return Err(ConfigError(format!("{} {error}", display_path(&path))));
        }
        Err(error) if from_env => {
            return Err(ConfigError(format!(
                "GAMEDAY_CONFIG={}: {error}; expected the path of a config file",
                path.display()
            )));
        }
        Err(error) => {
            return Err(ConfigError(format!("{}: {error}", display_path(&path))));
        }
    };
    let source = display_path(&path);
    let known_keys: Vec<&str> = SettingKey::ALL.iter().map(|key| key.name()).collect();
    let file: ConfigFile = toml::from_str(&text)
        .map_err(|error| ConfigError(describe_toml_error(&source, &text, &error, &known_keys)))?;
    let folder = path.parent();
    for (key, value) in file.entries() {
        if let Some(value) = value {
            let origin = ValueOrigin::File {
                source: source.clone(),
                line: line_of(&text, value.span().start),
                shown: value.get_ref().shown(),
            };
            loaded.set(key, &value.get_ref().text(), origin, folder)?;
        }
    }
    if let Some(table) = &file.keys {
        loaded.settings.keys = key_bindings(table.get_ref(), &source, &text)?;
    }
    Ok(())
}

/// One value in `config.toml`. Numbers and booleans are taken as their text, so `load = 20`,
/// `load = "20"` and `GAMEDAY_LOAD=20` are parsed alike.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum ScalarValue {
    Text(String),
    Number(String),
    Bool(bool),
}

impl ScalarValue {
    fn text(&self) -> String {
        match self {
            ScalarValue::Text(text) | ScalarValue::Number(text) => text.clone(),
            ScalarValue::Bool(value) => value.to_string(),
        }
    }

    /// The value as the file wrote it: strings quoted, numbers and booleans bare.
    fn shown(&self) -> String {
        match self {
            ScalarValue::Text(text) => format!("{text:?}"),
            other => other.text(),
        }
    }
}

impl<'de> Deserialize<'de> for ScalarValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl Visitor<'_> for ScalarVisitor {
            type Value = ScalarValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<ScalarValue, E> {
                Ok(ScalarValue::Text(text.to_string()))
            }
            fn visit_i64<E: de::Error>(self, number: i64) -> Result<ScalarValue, E> {
                Ok(ScalarValue::Number(number.to_string()))
            }
            fn visit_u64<E: de::Error>(self, number: u64) -> Result<ScalarValue, E> {
                Ok(ScalarValue::Number(number.to_string()))
            }
            fn visit_f64<E: de::Error>(self, number: f64) -> Result<ScalarValue, E> {
                Ok(ScalarValue::Number(number.to_string()))
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<ScalarValue, E> {
                Ok(ScalarValue::Bool(value))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SettingKey as Key;
    use crate::config::test_support::*;
    use crate::config::{DockerSetting, Lang, LoadSetting, Settings, fixtures_dir};
    use crate::units::{ByteSize, HumanDuration};
    use std::time::Duration;

    #[test]
    fn the_valid_fixture_sets_every_key() {
        let path = fixture("valid.toml");
        let settings = load_file(&path, &[]).expect("valid fixture");
        let expected = Settings {
            lang: Lang::Ru,
            theme: "projector".to_string(),
            api: Some("http://localhost:5000".to_string()),
            prometheus: Some("https://prometheus.example:9090/".to_string()),
            ca_cert: Some(fixtures_dir().join("ca.pem")),
            docker: DockerSetting::Host("unix:///run/podman/podman.sock".to_string()),
            container: Some("workshop-fincore-1".to_string()),
            db_container: Some("workshop-db-1".to_string()),
            sandbox_listen: Some("127.0.0.1:5055".parse().expect("address")),
            sandbox_memory: ByteSize(1 << 30),
            load: LoadSetting::Rate(50.0),
            poll_interval: HumanDuration(Duration::from_millis(500)),
            ttl: Some(Duration::from_secs(300)),
            control_token: Some(crate::secret::Secret::new("fixture-token".to_string())),
            control_token_file: Some(fixtures_dir().join("token")),
            // Relative to the config file's folder, not to wherever gameday was started.
            data_dir: Some(fixtures_dir().join("gameday-data")),
            read_only: true,
            keys: Vec::new(),
        };
        assert_eq!(settings, expected);
    }

    #[test]
    fn gameday_config_replaces_the_default_file_and_must_exist() {
        let valid = fixture("valid.toml");
        let valid_text = valid.display().to_string();
        let missing = Path::new("/nonexistent/config.toml");
        let settings = load_file(missing, &[("GAMEDAY_CONFIG", &valid_text)]).expect("valid");
        assert_eq!(settings.theme, "projector");
        assert_eq!(
            config_file_in_use(Some(missing), &env_of(&[("GAMEDAY_CONFIG", &valid_text)])),
            Some(valid)
        );

        let error = load_file(
            &fixture("valid.toml"),
            &[("GAMEDAY_CONFIG", "/nonexistent/x.toml")],
        )
        .expect_err("missing file");
        assert_eq!(
            error.0,
            "GAMEDAY_CONFIG=/nonexistent/x.toml: cannot read it (No such file or directory \
             (os error 2)); expected the path of a config file"
        );
    }

    #[test]
    fn an_unknown_key_names_file_line_and_the_known_keys() {
        let path = fixture("unknown_key.toml");
        let error = load_file(&path, &[]).expect_err("unknown key");
        assert_eq!(
            error.0,
            format!(
                "{} line 3: key `thme`: unknown key (did you mean `theme`?); expected one of \
                 lang, theme, api, prometheus, ca_cert, docker, container, db_container, \
                 sandbox_listen, sandbox_memory, load, poll_interval, ttl, control_token, \
                 control_token_file, data_dir, read_only",
                display_path(&path)
            )
        );
    }

    #[test]
    fn a_bad_value_names_file_line_key_and_what_is_expected() {
        let path = fixture("bad_value.toml");
        let error = load_file(&path, &[]).expect_err("bad value");
        assert_eq!(
            error.0,
            format!(
                r#"{} line 4: key `load`: "fast" is not a load; expected "off" or requests per second such as 20"#,
                display_path(&path)
            )
        );
    }

    #[test]
    fn wrong_types_and_syntax_errors_name_their_line() {
        assert_eq!(
            load_text("theme = \"dark\"\nread_only = [true]\n").expect_err("array"),
            "line 2: key `read_only`: expected a string, number or boolean, found sequence"
        );
        assert_eq!(
            load_text("read_only = \"maybe\"\n").expect_err("not a bool"),
            "line 1: key `read_only`: \"maybe\" is not a boolean; expected true or false"
        );
        assert_eq!(
            load_text("lang = \"de\"\n").expect_err("unknown language"),
            r#"line 1: key `lang`: "de" is not a language; expected "en" or "ru""#
        );
        assert_eq!(
            load_text("\nload = 20000\n").expect_err("too fast"),
            r#"line 2: key `load`: 20000 is not a load within range; expected "off" or at most 10000 requests per second"#
        );
        assert_eq!(
            load_text("theme = dark\n").expect_err("unquoted string"),
            "line 1: key `theme`: string values must be quoted, expected literal string"
        );
        assert_eq!(
            load_text("[sandbox]\nmemory = 1\n").expect_err("a table"),
            "line 1: key `sandbox`: unknown key; expected one of lang, theme, api, prometheus, \
             ca_cert, docker, container, db_container, sandbox_listen, sandbox_memory, load, poll_interval, \
             ttl, control_token, control_token_file, data_dir, read_only"
        );
    }

    #[test]
    fn the_example_config_documents_every_key_and_its_defaults() {
        let example = Path::new(file!())
            .parent()
            .and_then(Path::parent)
            .and_then(Path::parent)
            .map(|root| root.join("assets/config.example.toml"))
            .expect("example path");
        let text = fs::read_to_string(&example).expect("read example");
        // As shipped, every key is commented out: loading it changes nothing.
        let (_dir, path) = write_config(&text);
        assert_eq!(load_file(&path, &[]), Ok(Settings::defaults(&no_env())));
        // Uncommented, every key is valid.
        let uncommented: String = text
            .lines()
            .map(|line| {
                let setting = line.strip_prefix("# ").filter(|rest| {
                    Key::ALL
                        .iter()
                        .any(|k| rest.starts_with(&format!("{} = ", k.name())))
                });
                format!("{}\n", setting.unwrap_or(line))
            })
            .collect();
        let (dir, path) = write_config(&uncommented);
        // The certificate it names must exist and be PEM: the fixture's stands in.
        fs::copy(fixture("ca.pem"), dir.path().join("fincore-ca.pem")).expect("copy ca.pem");
        let file: ConfigFile = toml::from_str(&uncommented).expect("uncommented example");
        assert!(file.entries().iter().all(|(_, value)| value.is_some()));
        assert!(load_file(&path, &[]).is_ok(), "{uncommented}");
    }
}
