//! Layered settings: defaults, then `config.toml`, then `GAMEDAY_*` variables, then flags, each
//! layer overriding the one before. Every value is parsed by the same code whatever its layer,
//! and a bad one is an error that says where it came from (file, line and key; variable; flag)
//! and what is expected, so a typo never turns silently into a default.
//!
//! Each key is declared once, in `settings.rs`. `discover` is how every subcommand starts: it
//! finds the config file, loads the settings, the themes and the cases beside it, and checks
//! what needs them (a `theme` must name a theme found).

/// The macro that turns the table of settings into fields, parsers, flags and file keys.
mod declare;
/// One discovery of settings, themes and cases for every subcommand.
mod discover;
/// Reading `config.toml`: the one layer with its own syntax, lines and error messages.
mod file;
/// The `[keys]` table: remapped key bindings, kept with their places for the key table.
mod key_bindings;
/// The table of settings: every key declared once.
mod settings;
/// Every key's parser, shared by all layers.
mod values;

use std::fmt;
use std::path::{Path, PathBuf};

use directories::ProjectDirs;

pub use crate::i18n::Lang;
pub use discover::{Discovered, discover};
pub use key_bindings::{ConfigPlace, KeyBindingSetting};
pub use settings::{
    DEFAULT_EMBEDDED_LOAD, DockerSetting, FlagShape, LoadSetting, SettingKey, Settings,
    SettingsOverrides,
};

use file::apply_config_file;
use settings::apply;
use values::Problem;

use crate::toml_errors::{ECHO_CHARS, cut};

/// A setting that cannot be used, with where it came from and what is expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// `config.toml` in the platform's config directory (`~/.config/gameday/` on Linux).
pub fn default_config_file() -> Option<PathBuf> {
    ProjectDirs::from("", "", "gameday").map(|dirs| dirs.config_dir().join("config.toml"))
}

/// The platform's data directory for gameday (`~/.local/share/gameday/` on Linux).
pub fn default_data_dir() -> Option<PathBuf> {
    ProjectDirs::from("", "", "gameday").map(|dirs| dirs.data_dir().to_path_buf())
}

/// The config file `load` reads: the one `GAMEDAY_CONFIG` names, else `default_file`. User
/// themes and cases live beside it, in `themes/` and `cases/`.
pub fn config_file_in_use(
    default_file: Option<&Path>,
    env: &impl Fn(&str) -> Option<String>,
) -> Option<PathBuf> {
    match env("GAMEDAY_CONFIG").filter(|path| !path.is_empty()) {
        Some(path) => Some(PathBuf::from(path)),
        None => default_file.map(Path::to_path_buf),
    }
}

/// Where a setting's value came from, so a value found wrong later (a theme that does not
/// exist) is reported like one refused at once.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ValueOrigin {
    /// `config.toml`: the file as shown, the line, and the value as the file wrote it.
    File {
        source: String,
        line: usize,
        shown: String,
    },
    /// The key's `GAMEDAY_*` variable, with its value.
    Variable(String),
    /// The key's flag, with its value.
    Flag(String),
}

impl ValueOrigin {
    /// "what is wrong; expected what", worded the way this layer words it.
    fn reject(&self, key: SettingKey, problem: &Problem) -> ConfigError {
        // A secret is never echoed, not even a wrong one.
        if key.is_secret() {
            let place = match self {
                ValueOrigin::File { source, line, .. } => {
                    format!("{source} line {line}: key `{}`", key.name())
                }
                ValueOrigin::Variable(_) => key.env_var(),
                ValueOrigin::Flag(_) => key.flag(),
            };
            return ConfigError(format!("{place}: expected {}", problem.expected));
        }
        ConfigError(match self {
            ValueOrigin::File {
                source,
                line,
                shown,
            } => format!(
                "{source} line {line}: key `{}`: {}",
                key.name(),
                problem.describe(&cut(shown, ECHO_CHARS))
            ),
            ValueOrigin::Variable(value) => {
                format!(
                    "{}={}: expected {}",
                    key.env_var(),
                    cut(value, ECHO_CHARS),
                    problem.expected
                )
            }
            ValueOrigin::Flag(value) => {
                format!(
                    "{}: {}",
                    key.flag(),
                    problem.describe(&cut(&format!("{value:?}"), ECHO_CHARS))
                )
            }
        })
    }
}

/// The settings from every layer, with where each value set came from.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedSettings {
    pub settings: Settings,
    /// Every value applied, in order: the last one for a key is the one in `settings`.
    origins: Vec<(SettingKey, ValueOrigin)>,
}

impl LoadedSettings {
    /// Parses `text` as `key`'s value from `origin` and stores it.
    fn set(
        &mut self,
        key: SettingKey,
        text: &str,
        origin: ValueOrigin,
        folder: Option<&Path>,
    ) -> Result<(), ConfigError> {
        apply(&mut self.settings, key, text, folder)
            .map_err(|problem| origin.reject(key, &problem))?;
        self.origins.push((key, origin));
        Ok(())
    }

    /// An error about `key`'s value as it is now, worded for the layer that set it.
    fn reject(&self, key: SettingKey, shown_default: &str, problem: &Problem) -> ConfigError {
        match self.origins.iter().rev().find(|(set, _)| *set == key) {
            Some((_, origin)) => origin.reject(key, problem),
            None => ConfigError(format!(
                "{} (default): {}",
                key.name(),
                problem.describe(shown_default)
            )),
        }
    }
}

/// Resolves every setting: defaults, then the config file (`default_file` if it exists, or the
/// one `GAMEDAY_CONFIG` names, which must), then `GAMEDAY_*` variables, then flags. Values that
/// need more than the settings to check (the theme) are checked by `discover`.
pub fn load(
    default_file: Option<&Path>,
    env: &impl Fn(&str) -> Option<String>,
    overrides: &SettingsOverrides,
) -> Result<LoadedSettings, ConfigError> {
    let mut loaded = LoadedSettings {
        settings: Settings::defaults(env),
        origins: Vec::new(),
    };
    apply_config_file(&mut loaded, default_file, env)?;
    for &key in SettingKey::ALL {
        if let Some(value) = env(&key.env_var()).filter(|value| !value.is_empty()) {
            loaded.set(key, &value, ValueOrigin::Variable(value.clone()), None)?;
        }
    }
    for &key in SettingKey::ALL {
        if let Some(value) = overrides.get(key) {
            loaded.set(key, value, ValueOrigin::Flag(value.to_string()), None)?;
        }
    }
    Ok(loaded)
}

/// `tests/fixtures/config`, found from this file's path so it works from any crate including it.
#[cfg(test)]
pub(crate) fn fixtures_dir() -> PathBuf {
    Path::new(file!())
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .map(|root| root.join("tests/fixtures/config"))
        .unwrap_or_default()
}

/// Helpers shared by the tests of this module, `file` and `values`, which all load settings.
#[cfg(test)]
mod test_support {
    use super::*;
    use crate::toml_errors::display_path;
    use std::collections::HashMap;
    use std::fs;

    pub(super) const THEMES: &[&str] = &["dark", "light", "projector", "colorblind"];

    pub(super) fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let vars: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    pub(super) fn no_env() -> impl Fn(&str) -> Option<String> {
        env_of(&[])
    }

    pub(super) fn fixture(name: &str) -> PathBuf {
        fixtures_dir().join(name)
    }

    pub(super) fn load_file(path: &Path, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        load_checked(Some(path), &env_of(env), &SettingsOverrides::default())
    }

    /// `load` with the theme checked against the built-in themes, as `discover` does.
    pub(super) fn load_checked(
        default_file: Option<&Path>,
        env: &impl Fn(&str) -> Option<String>,
        overrides: &SettingsOverrides,
    ) -> Result<Settings, ConfigError> {
        load(default_file, env, overrides)?.check_theme(THEMES)
    }

    pub(super) fn write_config(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        fs::write(&path, text).expect("write config");
        (dir, path)
    }

    pub(super) fn load_text(text: &str) -> Result<Settings, String> {
        let (_dir, path) = write_config(text);
        load_file(&path, &[]).map_err(|error| {
            let prefix = format!("{} ", display_path(&path));
            error
                .0
                .strip_prefix(&prefix)
                .unwrap_or(&error.0)
                .to_string()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::SettingKey as Key;
    use super::test_support::*;
    use super::*;
    use crate::units::ByteSize;

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let missing = Path::new("/nonexistent/gameday/config.toml");
        let settings = load_file(missing, &[]).expect("defaults");
        assert_eq!(settings, Settings::defaults(&no_env()));
        assert_eq!(settings.lang, Lang::En);
        assert_eq!(settings.theme, "dark");
        assert_eq!(settings.docker, DockerSetting::Off);
        assert_eq!(settings.sandbox_memory, ByteSize(512 << 20));
        assert_eq!(settings.load, LoadSetting::Default);
        assert_eq!(settings.poll_interval.to_string(), "1s");
        assert_eq!(settings.data_dir, default_data_dir());
        assert!(!settings.read_only && settings.api.is_none() && settings.sandbox_listen.is_none());
    }

    #[test]
    fn locale_picks_the_language_in_posix_order() {
        let lang = |pairs: &[(&str, &str)]| Lang::from_locale(&env_of(pairs));
        assert_eq!(lang(&[]), Lang::En);
        assert_eq!(lang(&[("LANG", "ru_RU.UTF-8")]), Lang::Ru);
        assert_eq!(
            lang(&[("LANG", "en_US.UTF-8"), ("LC_MESSAGES", "ru_RU")]),
            Lang::Ru
        );
        assert_eq!(lang(&[("LANG", "ru_RU.UTF-8"), ("LC_ALL", "C")]), Lang::En);
        assert_eq!(lang(&[("LANG", "ru_RU.UTF-8"), ("LC_ALL", "")]), Lang::Ru);
        assert_eq!(lang(&[("LC_ALL", "RU")]), Lang::Ru);
        assert_eq!(lang(&[("LANG", "rw_RW")]), Lang::En);
        let settings = load_file(Path::new("/nonexistent"), &[("LANG", "ru_RU.UTF-8")]);
        assert_eq!(settings.map(|s| s.lang), Ok(Lang::Ru));
    }

    /// For each key: a value for the file, one for the variable and one for the flag.
    const LAYERED_VALUES: &[(&str, &str, &str, &str)] = &[
        ("lang", "\"ru\"", "en", "ru"),
        ("theme", "\"light\"", "projector", "colorblind"),
        ("api", "\"http://a:1\"", "http://b:2", "http://c:3"),
        ("prometheus", "\"http://a:1\"", "http://b:2", "http://c:3"),
        ("docker", "true", "tcp://127.0.0.1:2375", "false"),
        ("container", "\"a\"", "b", "c"),
        ("db_container", "\"a\"", "b", "c"),
        (
            "sandbox_listen",
            "\"127.0.0.1:1\"",
            "127.0.0.1:2",
            "[::1]:3",
        ),
        ("sandbox_memory", "\"100MiB\"", "200MiB", "300MiB"),
        ("load", "1", "off", "3.5"),
        ("poll_interval", "\"2s\"", "3s", "4s"),
        ("ttl", "\"1m\"", "off", "2h"),
        ("control_token", "\"a\"", "b", "c"),
        ("control_token_file", "\"/a\"", "/b", "/c"),
        ("data_dir", "\"/a\"", "/b", "/c"),
        ("read_only", "true", "false", "true"),
    ];

    fn overrides_with(key: Key, value: &str) -> SettingsOverrides {
        let mut flags = SettingsOverrides::default();
        flags.set(key, value.to_string());
        flags
    }

    /// The same value applied as if it came from `text` alone, to compare layers by outcome.
    fn alone(key: Key, text: &str) -> Settings {
        let mut settings = Settings::defaults(&no_env());
        assert!(apply(&mut settings, key, text, None).is_ok(), "{text}");
        settings
    }

    #[test]
    fn each_layer_overrides_the_one_before_for_every_key() {
        for &(name, file_value, env_value, flag_value) in LAYERED_VALUES {
            let key = Key::ALL
                .iter()
                .copied()
                .find(|k| k.name() == name)
                .expect("key");
            let (_dir, path) = write_config(&format!("{name} = {file_value}\n"));
            let var = key.env_var();
            let env = env_of(&[(var.as_str(), env_value)]);
            let flags = overrides_with(key, flag_value);
            let none = SettingsOverrides::default();
            let file_text = file_value.trim_matches('"');

            let from_file = load_checked(Some(&path), &no_env(), &none).expect("file");
            assert_eq!(from_file, alone(key, file_text), "{name} from the file");
            let from_env = load_checked(Some(&path), &env, &none).expect("env");
            assert_eq!(from_env, alone(key, env_value), "{name}: env over file");
            let from_flag = load_checked(Some(&path), &env, &flags).expect("flag");
            assert_eq!(from_flag, alone(key, flag_value), "{name}: flag over env");
            assert_ne!(from_file, from_env, "{name}: test values must differ");
            assert_ne!(from_env, from_flag, "{name}: test values must differ");
        }
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let settings = load_file(Path::new("/nonexistent"), &[("GAMEDAY_LOAD", "")]);
        assert_eq!(settings.map(|s| s.load), Ok(LoadSetting::Default));
    }

    #[test]
    fn a_bad_variable_or_flag_names_itself() {
        let missing = Path::new("/nonexistent");
        let error = load_file(missing, &[("GAMEDAY_LOAD", "fast")]).expect_err("bad env");
        assert_eq!(
            error.0,
            r#"GAMEDAY_LOAD=fast: expected "off" or requests per second such as 20"#
        );
        let flags = SettingsOverrides {
            load: Some("fast".to_string()),
            ..SettingsOverrides::default()
        };
        let error = load_checked(Some(missing), &no_env(), &flags).expect_err("bad flag");
        assert_eq!(
            error.0,
            r#"--load: "fast" is not a load; expected "off" or requests per second such as 20"#
        );
        let flags = SettingsOverrides {
            sandbox_listen: Some("0.0.0.0:5000".to_string()),
            ..SettingsOverrides::default()
        };
        let error = load_checked(Some(missing), &no_env(), &flags).expect_err("not loopback");
        assert_eq!(
            error.0,
            "--sandbox-listen: \"0.0.0.0:5000\" is not a loopback address; expected 127.0.0.1, \
             [::1] or localhost with a port, such as 127.0.0.1:5000 (any other address lets \
             others inject failures)"
        );
        let error = load_file(missing, &[("GAMEDAY_THEME", "neon")]).expect_err("bad theme");
        assert_eq!(
            error.0,
            "GAMEDAY_THEME=neon: expected one of dark, light, projector, colorblind"
        );
    }
}
