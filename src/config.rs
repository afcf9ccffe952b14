//! Layered settings: defaults, then `config.toml`, then `GAMEDAY_*` variables, then flags, each
//! layer overriding the one before. Every value is parsed by the same code whatever its layer,
//! and a bad one is an error that says where it came from (file, line and key; variable; flag)
//! and what is expected, so a typo never turns silently into a default.

use std::fmt;
use std::fs;
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use directories::{BaseDirs, ProjectDirs};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use toml::Spanned;

use crate::units::{ByteSize, HumanDuration};

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

/// Highest load rate accepted: a typo like `20000000` should not flood the sandbox.
const MAX_LOAD_RATE: f64 = 10_000.0;
const POLL_INTERVAL_RANGE: RangeInclusive<Duration> =
    Duration::from_millis(100)..=Duration::from_secs(60);

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
    /// Where the embedded sandbox listens (loopback only); `None` picks a free port.
    pub sandbox_listen: Option<SocketAddr>,
    pub sandbox_memory: ByteSize,
    pub load: LoadSetting,
    pub poll_interval: HumanDuration,
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
            sandbox_listen: None,
            sandbox_memory: ByteSize(512 << 20),
            load: LoadSetting::Default,
            poll_interval: HumanDuration(Duration::from_secs(1)),
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
    pub sandbox_listen: Option<String>,
    pub sandbox_memory: Option<String>,
    pub load: Option<String>,
    pub poll_interval: Option<String>,
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

fn apply_config_file(
    settings: &mut Settings,
    default_file: Option<&Path>,
    env: &impl Fn(&str) -> Option<String>,
    theme_names: &[&str],
) -> Result<(), ConfigError> {
    let from_env = env("GAMEDAY_CONFIG").is_some_and(|path| !path.is_empty());
    let Some(path) = config_file_in_use(default_file, env) else {
        return Ok(());
    };
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == ErrorKind::NotFound && !from_env => return Ok(()),
        Err(error) if from_env => {
            return Err(ConfigError(format!(
                "GAMEDAY_CONFIG={}: cannot read it ({error}); expected the path of a config file",
                path.display()
            )));
        }
        Err(error) => {
            return Err(ConfigError(format!(
                "{}: cannot read it ({error})",
                display_path(&path)
            )));
        }
    };
    let source = display_path(&path);
    let known_keys = Key::ALL.map(Key::name);
    let file: ConfigFile = toml::from_str(&text)
        .map_err(|error| ConfigError(describe_toml_error(&source, &text, &error, &known_keys)))?;
    let folder = path.parent();
    for (key, value) in file.entries() {
        if let Some(value) = value {
            apply(settings, key, &value.get_ref().text(), theme_names, folder).map_err(
                |problem| {
                    let line = line_of(&text, value.span().start);
                    let shown = value.get_ref().shown();
                    ConfigError(format!(
                        "{source} line {line}: key `{}`: {}",
                        key.name(),
                        problem.describe(&shown)
                    ))
                },
            )?;
        }
    }
    Ok(())
}

/// A setting's name, from which its TOML key, variable and flag are derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Lang,
    Theme,
    Api,
    Prometheus,
    Docker,
    Container,
    SandboxListen,
    SandboxMemory,
    Load,
    PollInterval,
    DataDir,
    ReadOnly,
}

impl Key {
    const ALL: [Key; 12] = [
        Key::Lang,
        Key::Theme,
        Key::Api,
        Key::Prometheus,
        Key::Docker,
        Key::Container,
        Key::SandboxListen,
        Key::SandboxMemory,
        Key::Load,
        Key::PollInterval,
        Key::DataDir,
        Key::ReadOnly,
    ];

    /// The key in `config.toml`.
    fn name(self) -> &'static str {
        match self {
            Key::Lang => "lang",
            Key::Theme => "theme",
            Key::Api => "api",
            Key::Prometheus => "prometheus",
            Key::Docker => "docker",
            Key::Container => "container",
            Key::SandboxListen => "sandbox_listen",
            Key::SandboxMemory => "sandbox_memory",
            Key::Load => "load",
            Key::PollInterval => "poll_interval",
            Key::DataDir => "data_dir",
            Key::ReadOnly => "read_only",
        }
    }

    fn env_var(self) -> String {
        format!("GAMEDAY_{}", self.name().to_ascii_uppercase())
    }

    fn flag(self) -> String {
        format!("--{}", self.name().replace('_', "-"))
    }
}

/// What is wrong with a value: "VALUE is not `is_not`; expected `expected`".
struct Problem {
    is_not: &'static str,
    expected: String,
}

impl Problem {
    fn new(is_not: &'static str, expected: impl Into<String>) -> Problem {
        Problem {
            is_not,
            expected: expected.into(),
        }
    }

    fn describe(&self, shown_value: &str) -> String {
        format!(
            "{shown_value} is not {}; expected {}",
            self.is_not, self.expected
        )
    }
}

/// Parses `text` as the value of `key` and stores it. A relative `data_dir` is taken from
/// `folder` (the config file's) when given.
fn apply(
    settings: &mut Settings,
    key: Key,
    text: &str,
    theme_names: &[&str],
    folder: Option<&Path>,
) -> Result<(), Problem> {
    let text = text.trim();
    match key {
        Key::Lang => {
            settings.lang = text
                .parse()
                .map_err(|_| Problem::new("a language", r#""en" or "ru""#))?;
        }
        Key::Theme => {
            if !theme_names.contains(&text) {
                let expected = format!("one of {}", theme_names.join(", "));
                return Err(Problem::new("a known theme", expected));
            }
            settings.theme = text.to_string();
        }
        Key::Api => settings.api = Some(parse_http_url(text)?),
        Key::Prometheus => settings.prometheus = Some(parse_http_url(text)?),
        Key::Docker => settings.docker = parse_docker(text)?,
        Key::Container => settings.container = Some(parse_container(text)?),
        Key::SandboxListen => settings.sandbox_listen = Some(parse_loopback(text)?),
        Key::SandboxMemory => {
            settings.sandbox_memory = text
                .parse()
                .map_err(|_| Problem::new("a size", "a size such as 512MiB, 1GiB or 256m"))?;
        }
        Key::Load => settings.load = parse_load(text)?,
        Key::PollInterval => settings.poll_interval = parse_poll_interval(text)?,
        Key::DataDir => {
            if text.is_empty() {
                return Err(Problem::new("a folder", "the path of a folder"));
            }
            let path = expand_home(text);
            settings.data_dir = Some(match folder {
                Some(folder) if path.is_relative() => folder.join(path),
                _ => path,
            });
        }
        Key::ReadOnly => {
            settings.read_only =
                parse_bool(text).ok_or_else(|| Problem::new("a boolean", "true or false"))?;
        }
    }
    Ok(())
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// An `http://` or `https://` URL with a host and, if given, a numeric port.
fn parse_http_url(text: &str) -> Result<String, Problem> {
    let bad = || {
        Problem::new(
            "a URL",
            "an http:// or https:// URL such as http://localhost:5000",
        )
    };
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"))
        .ok_or_else(bad)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(ipv6) => ipv6.split_once(']').ok_or_else(bad)?,
        None => host_port.rsplit_once(':').unwrap_or((host_port, "")),
    };
    let port = port.strip_prefix(':').unwrap_or(port);
    let port_ok = port.is_empty() || port.parse::<u16>().is_ok();
    if host.is_empty() || !port_ok || text.contains(char::is_whitespace) {
        return Err(bad());
    }
    Ok(text.to_string())
}

fn parse_docker(text: &str) -> Result<DockerSetting, Problem> {
    if let Some(enabled) = parse_bool(text) {
        return Ok(if enabled {
            DockerSetting::Default
        } else {
            DockerSetting::Off
        });
    }
    let address = ["unix://", "tcp://"]
        .iter()
        .find_map(|scheme| text.strip_prefix(scheme));
    match address {
        Some(rest) if !rest.is_empty() && !text.contains(char::is_whitespace) => {
            Ok(DockerSetting::Host(text.to_string()))
        }
        _ => Err(Problem::new(
            "a Docker setting",
            "true, false or an address such as unix:///run/podman/podman.sock or tcp://127.0.0.1:2375",
        )),
    }
}

/// A container name or id as Docker accepts them: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
fn parse_container(text: &str) -> Result<String, Problem> {
    let mut chars = text.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)) {
        Ok(text.to_string())
    } else {
        Err(Problem::new(
            "a container name",
            "a name of letters, digits, _ . and - such as workshop-fincore-1",
        ))
    }
}

/// The sandbox's address: loopback only, since whoever reaches it can inject failures.
fn parse_loopback(text: &str) -> Result<SocketAddr, Problem> {
    let address = match text.strip_prefix("localhost:") {
        Some(port) => port
            .parse::<u16>()
            .map(|port| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
            .ok(),
        None => text.parse::<SocketAddr>().ok(),
    };
    match address {
        Some(address) if address.ip().is_loopback() => Ok(address),
        Some(_) => Err(Problem::new(
            "a loopback address",
            "127.0.0.1, [::1] or localhost with a port, such as 127.0.0.1:5000 \
             (any other address lets others inject failures)",
        )),
        None => Err(Problem::new(
            "an address",
            "a loopback address with a port, such as 127.0.0.1:5000",
        )),
    }
}

fn parse_load(text: &str) -> Result<LoadSetting, Problem> {
    if text.eq_ignore_ascii_case("off") {
        return Ok(LoadSetting::Off);
    }
    match text.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate <= MAX_LOAD_RATE => Ok(LoadSetting::Rate(rate)),
        Ok(rate) if rate > MAX_LOAD_RATE => Err(Problem::new(
            "a load within range",
            format!(r#""off" or at most {MAX_LOAD_RATE} requests per second"#),
        )),
        _ => Err(Problem::new(
            "a load",
            r#""off" or requests per second such as 20"#,
        )),
    }
}

fn parse_poll_interval(text: &str) -> Result<HumanDuration, Problem> {
    let expected = "a duration from 100ms to 60s, such as 1s or 500ms";
    match text.parse::<HumanDuration>() {
        Ok(interval) if POLL_INTERVAL_RANGE.contains(&interval.0) => Ok(interval),
        Ok(_) => Err(Problem::new("a poll interval within range", expected)),
        Err(_) => Err(Problem::new("a duration", expected)),
    }
}

/// `~/x` means x in the home directory: TOML files and quoted variables are not expanded by
/// a shell.
fn expand_home(text: &str) -> PathBuf {
    let home = BaseDirs::new().map(|dirs| dirs.home_dir().to_path_buf());
    match (text.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(text),
    }
}

impl SettingsOverrides {
    /// Every flag but `--data-dir` as text, so flags go through the same parsing as the other
    /// layers; a path is taken as it is, since the shell has already expanded it.
    fn entries(&self) -> [(Key, Option<String>); 11] {
        [
            (Key::Lang, self.lang.clone()),
            (Key::Theme, self.theme.clone()),
            (Key::Api, self.api.clone()),
            (Key::Prometheus, self.prometheus.clone()),
            (Key::Docker, self.docker.clone()),
            (Key::Container, self.container.clone()),
            (Key::SandboxListen, self.sandbox_listen.clone()),
            (Key::SandboxMemory, self.sandbox_memory.clone()),
            (Key::Load, self.load.clone()),
            (Key::PollInterval, self.poll_interval.clone()),
            (Key::ReadOnly, self.read_only.map(|b| b.to_string())),
        ]
    }
}

/// `config.toml` as written: any key may be left out; unknown keys are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    lang: Option<Spanned<ScalarValue>>,
    theme: Option<Spanned<ScalarValue>>,
    api: Option<Spanned<ScalarValue>>,
    prometheus: Option<Spanned<ScalarValue>>,
    docker: Option<Spanned<ScalarValue>>,
    container: Option<Spanned<ScalarValue>>,
    sandbox_listen: Option<Spanned<ScalarValue>>,
    sandbox_memory: Option<Spanned<ScalarValue>>,
    load: Option<Spanned<ScalarValue>>,
    poll_interval: Option<Spanned<ScalarValue>>,
    data_dir: Option<Spanned<ScalarValue>>,
    read_only: Option<Spanned<ScalarValue>>,
}

impl ConfigFile {
    fn entries(&self) -> [(Key, Option<&Spanned<ScalarValue>>); 12] {
        [
            (Key::Lang, self.lang.as_ref()),
            (Key::Theme, self.theme.as_ref()),
            (Key::Api, self.api.as_ref()),
            (Key::Prometheus, self.prometheus.as_ref()),
            (Key::Docker, self.docker.as_ref()),
            (Key::Container, self.container.as_ref()),
            (Key::SandboxListen, self.sandbox_listen.as_ref()),
            (Key::SandboxMemory, self.sandbox_memory.as_ref()),
            (Key::Load, self.load.as_ref()),
            (Key::PollInterval, self.poll_interval.as_ref()),
            (Key::DataDir, self.data_dir.as_ref()),
            (Key::ReadOnly, self.read_only.as_ref()),
        ]
    }
}

/// One value in `config.toml`. Numbers and booleans are taken as their text, so `load = 20`,
/// `load = "20"` and `GAMEDAY_LOAD=20` are parsed alike.
#[derive(Debug, Clone, PartialEq)]
enum ScalarValue {
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

// ---- TOML error reporting, shared with theme.rs ----

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
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
fn closest_key<'a>(key: &str, known_keys: &[&'a str]) -> Option<&'a str> {
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

/// `tests/fixtures/config`, found from this file's path so it works from any crate including it.
#[cfg(test)]
pub(crate) fn fixtures_dir() -> PathBuf {
    Path::new(file!())
        .parent()
        .and_then(Path::parent)
        .map(|root| root.join("tests/fixtures/config"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const THEMES: &[&str] = &["dark", "light", "projector", "colorblind"];

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let vars: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    fn no_env() -> impl Fn(&str) -> Option<String> {
        env_of(&[])
    }

    fn fixture(name: &str) -> PathBuf {
        fixtures_dir().join(name)
    }

    fn load_file(path: &Path, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        load(
            Some(path),
            &env_of(env),
            &SettingsOverrides::default(),
            THEMES,
        )
    }

    fn write_config(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        fs::write(&path, text).expect("write config");
        (dir, path)
    }

    fn load_text(text: &str) -> Result<Settings, String> {
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

    #[test]
    fn the_valid_fixture_sets_every_key() {
        let path = fixture("valid.toml");
        let settings = load_file(&path, &[]).expect("valid fixture");
        let expected = Settings {
            lang: Lang::Ru,
            theme: "projector".to_string(),
            api: Some("http://localhost:5000".to_string()),
            prometheus: Some("https://prometheus.example:9090/".to_string()),
            docker: DockerSetting::Host("unix:///run/podman/podman.sock".to_string()),
            container: Some("workshop-fincore-1".to_string()),
            sandbox_listen: Some("127.0.0.1:5055".parse().expect("address")),
            sandbox_memory: ByteSize(1 << 30),
            load: LoadSetting::Rate(50.0),
            poll_interval: HumanDuration(Duration::from_millis(500)),
            // Relative to the config file's folder, not to wherever gameday was started.
            data_dir: Some(fixtures_dir().join("gameday-data")),
            read_only: true,
        };
        assert_eq!(settings, expected);
    }

    /// For each key: a value for the file, one for the variable and one for the flag.
    const LAYERED_VALUES: [(&str, &str, &str, &str); 12] = [
        ("lang", "\"ru\"", "en", "ru"),
        ("theme", "\"light\"", "projector", "colorblind"),
        ("api", "\"http://a:1\"", "http://b:2", "http://c:3"),
        ("prometheus", "\"http://a:1\"", "http://b:2", "http://c:3"),
        ("docker", "true", "tcp://127.0.0.1:2375", "false"),
        ("container", "\"a\"", "b", "c"),
        (
            "sandbox_listen",
            "\"127.0.0.1:1\"",
            "127.0.0.1:2",
            "[::1]:3",
        ),
        ("sandbox_memory", "\"1MiB\"", "2MiB", "3MiB"),
        ("load", "1", "off", "3.5"),
        ("poll_interval", "\"2s\"", "3s", "4s"),
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
            Key::SandboxListen => flags.sandbox_listen = text,
            Key::SandboxMemory => flags.sandbox_memory = text,
            Key::Load => flags.load = text,
            Key::PollInterval => flags.poll_interval = text,
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
                 lang, theme, api, prometheus, docker, container, sandbox_listen, \
                 sandbox_memory, load, poll_interval, data_dir, read_only",
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
             docker, container, sandbox_listen, sandbox_memory, load, poll_interval, data_dir, \
             read_only"
        );
    }

    #[test]
    fn values_are_checked_alike_in_every_layer() {
        let parse = |key: Key, text: &str| {
            let mut settings = Settings::defaults(&no_env());
            apply(&mut settings, key, text, THEMES, None).map(|()| settings)
        };
        assert!(parse(Key::Api, "http://localhost:5000").is_ok());
        assert!(parse(Key::Api, "https://[::1]:8443/api").is_ok());
        for bad in [
            "localhost:5000",
            "http://",
            "http://host:port",
            "ftp://x",
            "http://a b",
        ] {
            assert!(parse(Key::Api, bad).is_err(), "{bad}");
        }
        let docker = |text| parse(Key::Docker, text).map(|s| s.docker).ok();
        assert_eq!(docker("true"), Some(DockerSetting::Default));
        assert_eq!(docker("off"), Some(DockerSetting::Off));
        assert_eq!(
            docker("tcp://127.0.0.1:2375"),
            Some(DockerSetting::Host("tcp://127.0.0.1:2375".into()))
        );
        assert_eq!(docker("unix://"), None);
        assert_eq!(docker("/var/run/docker.sock"), None);
        let listen = |text| {
            parse(Key::SandboxListen, text)
                .map(|s| s.sandbox_listen)
                .ok()
                .flatten()
        };
        assert_eq!(
            listen("localhost:0"),
            Some("127.0.0.1:0".parse().expect("address"))
        );
        assert_eq!(
            listen("[::1]:5000"),
            Some("[::1]:5000".parse().expect("address"))
        );
        assert_eq!(listen("192.168.1.2:5000"), None);
        assert_eq!(listen("127.0.0.1"), None);
        let interval = |text| {
            parse(Key::PollInterval, text)
                .map(|s| s.poll_interval.0)
                .ok()
        };
        assert_eq!(interval("100ms"), Some(Duration::from_millis(100)));
        assert_eq!(interval("60s"), Some(Duration::from_secs(60)));
        assert_eq!(interval("50ms"), None);
        assert_eq!(interval("2m"), None);
        assert!(parse(Key::Load, "0").is_err());
        assert!(parse(Key::Load, "-5").is_err());
        assert!(parse(Key::Container, "-bad").is_err());
        assert!(parse(Key::Lang, "RU").is_ok());
    }

    #[test]
    fn data_dir_expands_home() {
        let settings = load_text("data_dir = \"~/drills\"\n").expect("valid");
        let home = BaseDirs::new().map(|dirs| dirs.home_dir().join("drills"));
        assert_eq!(settings.data_dir, home);
    }

    #[test]
    fn the_example_config_documents_every_key_and_its_defaults() {
        let example = Path::new(file!())
            .parent()
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
        let (_dir, path) = write_config(&uncommented);
        let file: ConfigFile = toml::from_str(&uncommented).expect("uncommented example");
        assert!(file.entries().iter().all(|(_, value)| value.is_some()));
        assert!(load_file(&path, &[]).is_ok(), "{uncommented}");
    }
}
