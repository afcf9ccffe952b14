//! Layered settings: defaults, then `config.toml`, then `GAMEDAY_*` variables, then flags, each
//! layer overriding the one before. Every value is parsed by the same code whatever its layer,
//! and a bad one is an error that says where it came from (file, line and key; variable; flag)
//! and what is expected, so a typo never turns silently into a default.

/// Reading `config.toml`: the one layer with its own syntax, lines and error messages.
mod file;
/// Every key's name and parser, shared by all layers.
mod values;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use directories::ProjectDirs;

use crate::units::{ByteSize, HumanDuration};
use file::apply_config_file;
use values::{Key, apply};

/// The language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Ru,
}

impl Lang {
    /// The language the locale asks for: the first set of `LC_ALL`, `LC_MESSAGES`, `LANG` (as
    /// POSIX orders them) starting with `ru` means Russian; anything else English.
    pub fn from_locale(env: &impl Fn(&str) -> Option<String>) -> Lang {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .into_iter()
            .filter_map(env)
            .find(|value| !value.is_empty());
        match locale {
            Some(locale) if locale.to_ascii_lowercase().starts_with("ru") => Lang::Ru,
            _ => Lang::En,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "en" => Ok(Lang::En),
            "ru" => Ok(Lang::Ru),
            _ => Err(r#"expected "en" or "ru""#.to_string()),
        }
    }
}

/// Whether and where to ask Docker for container stats.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DockerSetting {
    /// No Docker: memory comes from the sandbox process or Prometheus.
    #[default]
    Off,
    /// `DOCKER_HOST`, or the platform's default socket.
    Default,
    /// This engine address: `unix:///run/podman/podman.sock`, `tcp://127.0.0.1:2375`.
    Host(String),
}

/// The background load driven at the API so panels have something to show.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LoadSetting {
    /// Not set anywhere: [`DEFAULT_EMBEDDED_LOAD`] on the embedded sandbox, none against
    /// another API (a shared workshop stack must not get every participant's load unasked).
    Default,
    Off,
    /// Requests per second.
    Rate(f64),
}

/// Requests per second the embedded default drives at its own sandbox.
pub const DEFAULT_EMBEDDED_LOAD: f64 = 20.0;

impl LoadSetting {
    /// The rate to drive, in requests per second (0: none).
    pub fn rate(self, embedded: bool) -> f64 {
        match self {
            LoadSetting::Default if embedded => DEFAULT_EMBEDDED_LOAD,
            LoadSetting::Default | LoadSetting::Off => 0.0,
            LoadSetting::Rate(rate) => rate,
        }
    }
}

/// Every setting, resolved from all layers.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub lang: Lang,
    /// A theme name; `load` checks it is a known one.
    pub theme: String,
    /// URL of a FinCore API; `None` runs the embedded sandbox.
    pub api: Option<String>,
    /// URL of a Prometheus; `None` scrapes `/metrics` directly.
    pub prometheus: Option<String>,
    pub docker: DockerSetting,
    /// Container to watch; `None` finds it by its compose service label.
    pub container: Option<String>,
    /// The database container, for the "database down" actions; `None` finds it by its
    /// compose service label (`db`).
    pub db_container: Option<String>,
    /// Where the embedded sandbox listens (loopback only); `None` picks a free port.
    pub sandbox_listen: Option<SocketAddr>,
    pub sandbox_memory: ByteSize,
    pub load: LoadSetting,
    pub poll_interval: HumanDuration,
    /// Time to live sent with every injection where the target supports it; `None`: none.
    pub ttl: Option<Duration>,
    /// Where session records go; `None` only when the platform has no home directory.
    pub data_dir: Option<PathBuf>,
    /// Watch only: no injecting or resetting failures.
    pub read_only: bool,
}

impl Settings {
    /// The settings before any file, variable or flag; the language comes from the locale.
    pub fn defaults(env: &impl Fn(&str) -> Option<String>) -> Settings {
        Settings {
            lang: Lang::from_locale(env),
            theme: "dark".to_string(),
            api: None,
            prometheus: None,
            docker: DockerSetting::Off,
            container: None,
            db_container: None,
            sandbox_listen: None,
            sandbox_memory: ByteSize(512 << 20),
            load: LoadSetting::Default,
            poll_interval: HumanDuration(Duration::from_secs(1)),
            ttl: Some(Duration::from_secs(600)),
            data_dir: default_data_dir(),
            read_only: false,
        }
    }
}

/// Values from command-line flags, as typed, so they are parsed and reported like the other
/// layers (`--load: "fast" is not ...`). cli.rs must name its flags as `Key::flag` does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsOverrides {
    pub lang: Option<String>,
    pub theme: Option<String>,
    pub api: Option<String>,
    pub prometheus: Option<String>,
    /// `"true"`, `"false"` or an address, as after `--docker=`.
    pub docker: Option<String>,
    pub container: Option<String>,
    pub db_container: Option<String>,
    pub sandbox_listen: Option<String>,
    pub sandbox_memory: Option<String>,
    pub load: Option<String>,
    pub poll_interval: Option<String>,
    pub ttl: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub read_only: Option<bool>,
}

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
/// themes live beside it in `themes/`, so pass its parent to `Themes::load`.
pub fn config_file_in_use(
    default_file: Option<&Path>,
    env: &impl Fn(&str) -> Option<String>,
) -> Option<PathBuf> {
    match env("GAMEDAY_CONFIG").filter(|path| !path.is_empty()) {
        Some(path) => Some(PathBuf::from(path)),
        None => default_file.map(Path::to_path_buf),
    }
}

/// Resolves every setting: defaults, then the config file (`default_file` if it exists, or the
/// one `GAMEDAY_CONFIG` names, which must), then `GAMEDAY_*` variables, then flags.
/// `theme_names` are the themes `theme` may name.
pub fn load(
    default_file: Option<&Path>,
    env: &impl Fn(&str) -> Option<String>,
    overrides: &SettingsOverrides,
    theme_names: &[&str],
) -> Result<Settings, ConfigError> {
    let mut settings = Settings::defaults(env);
    apply_config_file(&mut settings, default_file, env, theme_names)?;

    for key in Key::ALL {
        let var = key.env_var();
        if let Some(value) = env(&var).filter(|value| !value.is_empty()) {
            apply(&mut settings, key, &value, theme_names, None).map_err(|problem| {
                ConfigError(format!("{var}={value}: expected {}", problem.expected))
            })?;
        }
    }

    for (key, value) in overrides.entries() {
        if let Some(value) = value {
            apply(&mut settings, key, &value, theme_names, None).map_err(|problem| {
                ConfigError(format!(
                    "{}: {}",
                    key.flag(),
                    problem.describe(&format!("{value:?}"))
                ))
            })?;
        }
    }
    if let Some(data_dir) = &overrides.data_dir {
        settings.data_dir = Some(data_dir.clone());
    }
    Ok(settings)
}

impl SettingsOverrides {
    /// Every flag but `--data-dir` as text, so flags go through the same parsing as the other
    /// layers; a path is taken as it is, since the shell has already expanded it.
    fn entries(&self) -> [(Key, Option<String>); 13] {
        [
            (Key::Lang, self.lang.clone()),
            (Key::Theme, self.theme.clone()),
            (Key::Api, self.api.clone()),
            (Key::Prometheus, self.prometheus.clone()),
            (Key::Docker, self.docker.clone()),
            (Key::Container, self.container.clone()),
            (Key::DbContainer, self.db_container.clone()),
            (Key::SandboxListen, self.sandbox_listen.clone()),
            (Key::SandboxMemory, self.sandbox_memory.clone()),
            (Key::Load, self.load.clone()),
            (Key::PollInterval, self.poll_interval.clone()),
            (Key::Ttl, self.ttl.clone()),
            (Key::ReadOnly, self.read_only.map(|b| b.to_string())),
        ]
    }
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
        load(
            Some(path),
            &env_of(env),
            &SettingsOverrides::default(),
            THEMES,
        )
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
    use super::test_support::*;
    use super::values::parse_bool;
    use super::*;

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
    const LAYERED_VALUES: [(&str, &str, &str, &str); 14] = [
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
        ("sandbox_memory", "\"1MiB\"", "2MiB", "3MiB"),
        ("load", "1", "off", "3.5"),
        ("poll_interval", "\"2s\"", "3s", "4s"),
        ("ttl", "\"1m\"", "off", "2h"),
        ("data_dir", "\"/a\"", "/b", "/c"),
        ("read_only", "true", "false", "true"),
    ];

    fn overrides_with(key: Key, value: &str) -> SettingsOverrides {
        let mut flags = SettingsOverrides::default();
        let text = Some(value.to_string());
        match key {
            Key::Lang => flags.lang = text,
            Key::Theme => flags.theme = text,
            Key::Api => flags.api = text,
            Key::Prometheus => flags.prometheus = text,
            Key::Docker => flags.docker = text,
            Key::Container => flags.container = text,
            Key::DbContainer => flags.db_container = text,
            Key::SandboxListen => flags.sandbox_listen = text,
            Key::SandboxMemory => flags.sandbox_memory = text,
            Key::Load => flags.load = text,
            Key::PollInterval => flags.poll_interval = text,
            Key::Ttl => flags.ttl = text,
            Key::DataDir => flags.data_dir = Some(PathBuf::from(value)),
            Key::ReadOnly => flags.read_only = parse_bool(value),
        }
        flags
    }

    /// The same value applied as if it came from `text` alone, to compare layers by outcome.
    fn alone(key: Key, text: &str) -> Settings {
        let mut settings = Settings::defaults(&no_env());
        assert!(
            apply(&mut settings, key, text, THEMES, None).is_ok(),
            "{text}"
        );
        settings
    }

    #[test]
    fn each_layer_overrides_the_one_before_for_every_key() {
        for (name, file_value, env_value, flag_value) in LAYERED_VALUES {
            let key = Key::ALL
                .into_iter()
                .find(|k| k.name() == name)
                .expect("key");
            let (_dir, path) = write_config(&format!("{name} = {file_value}\n"));
            let var = key.env_var();
            let env = env_of(&[(var.as_str(), env_value)]);
            let flags = overrides_with(key, flag_value);
            let none = SettingsOverrides::default();
            let file_text = file_value.trim_matches('"');

            let from_file = load(Some(&path), &no_env(), &none, THEMES).expect("file");
            assert_eq!(from_file, alone(key, file_text), "{name} from the file");
            let from_env = load(Some(&path), &env, &none, THEMES).expect("env");
            assert_eq!(from_env, alone(key, env_value), "{name}: env over file");
            let from_flag = load(Some(&path), &env, &flags, THEMES).expect("flag");
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
        let error = load(Some(missing), &no_env(), &flags, THEMES).expect_err("bad flag");
        assert_eq!(
            error.0,
            r#"--load: "fast" is not a load; expected "off" or requests per second such as 20"#
        );
        let flags = SettingsOverrides {
            sandbox_listen: Some("0.0.0.0:5000".to_string()),
            ..SettingsOverrides::default()
        };
        let error = load(Some(missing), &no_env(), &flags, THEMES).expect_err("not loopback");
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
