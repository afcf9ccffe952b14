//! Every setting, declared once: its field, default, flag, parser and help in one entry of the
//! table below. To add a key, add an entry here and use the field where it matters; then list
//! it in `assets/config.example.toml` and the README's flag table (tests check both).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::declare::declare_settings;
use super::default_data_dir;
use super::values::{
    parse_ca_cert, parse_container, parse_control_token, parse_data_dir, parse_docker,
    parse_http_url, parse_lang, parse_load, parse_loopback, parse_poll_interval,
    parse_sandbox_memory, parse_switch, parse_theme_name, parse_ttl,
};
use crate::i18n::Lang;
use crate::secret::Secret;
use crate::units::{ByteSize, HumanDuration};

declare_settings! {
    environment env;

    /// Interface language (default: from the locale).
    Lang lang: Lang = Lang::from_locale(env),
        flag Value("en|ru"), parse |text, _| parse_lang(text);

    /// Colour theme: dark, light, projector, colorblind, or one of your own.
    // Any name here; `discover` checks it against the themes found.
    Theme theme: String = "dark".to_string(),
        flag Value("NAME"), parse |text, _| parse_theme_name(text);

    /// The FinCore API to watch, e.g. http://localhost:5000 (default: the embedded sandbox).
    Api api: Option<String> = None,
        flag Value("URL"), parse |text, _| parse_http_url(text).map(Some);

    /// Prometheus scraping that API, e.g. http://localhost:9090 (default: scrape /metrics).
    Prometheus prometheus: Option<String> = None,
        flag Value("URL"), parse |text, _| parse_http_url(text).map(Some);

    /// A PEM certificate to trust for https targets besides the system's roots, e.g. a
    /// self-signed one.
    CaCert ca_cert: Option<PathBuf> = None,
        flag Value("PATH"), parse |text, folder| parse_ca_cert(text, folder).map(Some);

    /// Container figures from Docker or podman: `--docker` for DOCKER_HOST or the default
    /// socket, `--docker=unix:///run/podman/podman.sock` for another.
    Docker docker: DockerSetting = DockerSetting::Off,
        flag OptionalValue { value_name: "HOST", bare: "true" },
        parse |text, _| parse_docker(text);

    /// The app container's name (default: every container of compose service `app`).
    Container container: Option<String> = None,
        flag Value("NAME"), parse |text, _| parse_container(text).map(Some);

    /// The database container, for the "database down" actions (default: the container of
    /// compose service `db`).
    DbContainer db_container: Option<String> = None,
        flag Value("NAME"), parse |text, _| parse_container(text).map(Some);

    /// Where the embedded sandbox listens (loopback; default: a free port).
    SandboxListen sandbox_listen: Option<SocketAddr> = None,
        flag Value("ADDR"), parse |text, _| parse_loopback(text).map(Some);

    /// Memory limit of the embedded sandbox; past it, it is killed and restarted.
    SandboxMemory sandbox_memory: ByteSize = ByteSize(512 << 20),
        flag Value("SIZE"), parse |text, _| parse_sandbox_memory(text);

    /// Background load in requests per second, or `off` (default: 20 on the embedded sandbox,
    /// none against another API).
    Load load: LoadSetting = LoadSetting::Default,
        flag Value("RATE|off"), parse |text, _| parse_load(text);

    /// How often sources are polled.
    PollInterval poll_interval: HumanDuration = HumanDuration(Duration::from_secs(1)),
        flag Value("DURATION"), parse |text, _| parse_poll_interval(text);

    /// Time to live of every injected failure, where the target supports it, so a forgotten
    /// failure ends by itself: a duration such as 10m, or `off`.
    Ttl ttl: Option<Duration> = Some(Duration::from_secs(600)),
        flag Value("DURATION|off"), parse |text, _| parse_ttl(text);

    /// The token the target asks of every request that changes it (a sandbox started with
    /// `--control-token`). Never shown or logged; the embedded sandbox gets its own.
    ControlToken control_token: Option<Secret> = None,
        flag Value("TOKEN"), parse |text, _| parse_control_token(text).map(Some);

    /// A file holding the control token, so it is not seen in the process list.
    ControlTokenFile control_token_file: Option<PathBuf> = None,
        flag Value("PATH"), parse |text, folder| parse_data_dir(text, folder).map(Some);

    /// Where logs and session records go.
    // `None` only when the platform has no home directory.
    DataDir data_dir: Option<PathBuf> = default_data_dir(),
        flag Value("PATH"), parse |text, folder| parse_data_dir(text, folder).map(Some);

    /// Watch only: no load, no key changes the target.
    ReadOnly read_only: bool = false,
        flag Switch, parse |text, _| parse_switch(text);
}

/// How a setting's flag is written on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagShape {
    /// `--flag VALUE`.
    Value(&'static str),
    /// `--flag` alone means `bare`; `--flag=VALUE` gives a value.
    OptionalValue {
        value_name: &'static str,
        bare: &'static str,
    },
    /// `--flag` alone means true; absent, the other layers decide.
    Switch,
}

impl SettingKey {
    pub fn env_var(self) -> String {
        format!("GAMEDAY_{}", self.name().to_ascii_uppercase())
    }

    /// Whether the value is a secret, never echoed in an error.
    pub fn is_secret(self) -> bool {
        matches!(self, SettingKey::ControlToken)
    }

    pub fn flag(self) -> String {
        format!("--{}", self.name().replace('_', "-"))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::Path;

    #[test]
    fn the_readme_lists_every_flag() {
        let readme = Path::new(file!())
            .ancestors()
            .nth(3)
            .map(|root| root.join("README.md"))
            .expect("README path");
        let text = fs::read_to_string(readme).expect("read README");
        for key in SettingKey::ALL {
            let row = format!("| `{}", key.flag());
            assert!(
                text.contains(&row),
                "README's flag table lacks {}",
                key.flag()
            );
        }
    }
}
