//! How each setting's value is parsed and checked. One parser per key, whatever the layer, so
//! `load = "fast"` in the file, `GAMEDAY_LOAD=fast` and `--load fast` are rejected alike; the
//! table in `settings.rs` names each key's parser.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use directories::BaseDirs;

use super::settings::{DockerSetting, LoadSetting};
use crate::i18n::Lang;
use crate::secret::Secret;
use crate::units::{ByteSize, HumanDuration};

/// Highest load rate accepted: a typo like `20000000` should not flood the sandbox.
const MAX_LOAD_RATE: f64 = 10_000.0;
/// Longest failure time to live: a day covers any workshop.
const MAX_TTL: Duration = Duration::from_secs(24 * 3600);
const POLL_INTERVAL_RANGE: RangeInclusive<Duration> =
    Duration::from_millis(100)..=Duration::from_secs(60);

/// What is wrong with a value: "VALUE is not `is_not`; expected `expected`".
pub(super) struct Problem {
    is_not: &'static str,
    pub(super) expected: String,
}

impl Problem {
    pub(super) fn new(is_not: &'static str, expected: impl Into<String>) -> Problem {
        Problem {
            is_not,
            expected: expected.into(),
        }
    }

    pub(super) fn describe(&self, shown_value: &str) -> String {
        format!(
            "{shown_value} is not {}; expected {}",
            self.is_not, self.expected
        )
    }
}

pub(super) fn parse_lang(text: &str) -> Result<Lang, Problem> {
    text.parse()
        .map_err(|_| Problem::new("a language", r#""en" or "ru""#))
}

/// Any name: which themes exist is known only once they are loaded, so `discover` checks it.
pub(super) fn parse_theme_name(text: &str) -> Result<String, Problem> {
    Ok(text.to_string())
}

/// The embedded sandbox's memory limit: below 32 MiB it cannot even start (it would be killed
/// and restarted at once), and above 64 GiB is a typo on any machine this runs on.
const SANDBOX_MEMORY_RANGE: RangeInclusive<u64> = (32 << 20)..=(64 << 30);

pub(super) fn parse_sandbox_memory(text: &str) -> Result<ByteSize, Problem> {
    let expected = "a size from 32MiB to 64GiB, such as 512MiB or 1GiB";
    match text.parse::<ByteSize>() {
        Ok(size) if SANDBOX_MEMORY_RANGE.contains(&size.0) => Ok(size),
        Ok(_) => Err(Problem::new("a memory limit within range", expected)),
        Err(_) => Err(Problem::new("a size", expected)),
    }
}

/// A folder; `~/` is the home directory and a relative path is taken from `folder` (the config
/// file's) when given.
pub(super) fn parse_data_dir(text: &str, folder: Option<&Path>) -> Result<PathBuf, Problem> {
    if text.is_empty() {
        return Err(Problem::new("a folder", "the path of a folder"));
    }
    let path = expand_home(text);
    Ok(match folder {
        Some(folder) if path.is_relative() => folder.join(path),
        _ => path,
    })
}

/// A control token: printable, without spaces (it goes into an HTTP header as it is).
pub(super) fn parse_control_token(text: &str) -> Result<Secret, Problem> {
    use crate::secret::{MAX_TOKEN_BYTES, is_acceptable_token};
    if !is_acceptable_token(text) {
        return Err(Problem::new(
            "a control token",
            format!("1 to {MAX_TOKEN_BYTES} printable ASCII characters without spaces"),
        ));
    }
    Ok(Secret::new(text.to_string()))
}

/// A PEM file of certificates to trust for https, checked as it is named so a wrong path is
/// an error of the layer that gave it; relative paths are taken from the config file's folder.
pub(super) fn parse_ca_cert(text: &str, folder: Option<&Path>) -> Result<PathBuf, Problem> {
    if text.is_empty() {
        return Err(Problem::new("a file", "the path of a PEM certificate"));
    }
    let path = expand_home(text);
    let path = match folder {
        Some(folder) if path.is_relative() => folder.join(path),
        _ => path,
    };
    crate::fincore::tls::read_pem_file(&path).map_err(|reason| {
        Problem::new(
            "a usable CA certificate",
            format!("a readable PEM certificate file ({reason})"),
        )
    })?;
    Ok(path)
}

pub(super) fn parse_switch(text: &str) -> Result<bool, Problem> {
    parse_bool(text).ok_or_else(|| Problem::new("a boolean", "true or false"))
}

/// A boolean as people type it in any layer: `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`.
pub(super) fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// An `http://` or `https://` URL with a host and, if given, a numeric port.
pub(super) fn parse_http_url(text: &str) -> Result<String, Problem> {
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

pub(super) fn parse_docker(text: &str) -> Result<DockerSetting, Problem> {
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
pub(super) fn parse_container(text: &str) -> Result<String, Problem> {
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
pub(super) fn parse_loopback(text: &str) -> Result<SocketAddr, Problem> {
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

pub(super) fn parse_load(text: &str) -> Result<LoadSetting, Problem> {
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

pub(super) fn parse_poll_interval(text: &str) -> Result<HumanDuration, Problem> {
    let expected = "a duration from 100ms to 60s, such as 1s or 500ms";
    match text.parse::<HumanDuration>() {
        Ok(interval) if POLL_INTERVAL_RANGE.contains(&interval.0) => Ok(interval),
        Ok(_) => Err(Problem::new("a poll interval within range", expected)),
        Err(_) => Err(Problem::new("a duration", expected)),
    }
}

/// The time to live sent with every injection: `off` (or 0) for none.
pub(super) fn parse_ttl(text: &str) -> Result<Option<Duration>, Problem> {
    let expected = r#""off" or a duration up to 24h, such as 10m or 90s"#;
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    match text.parse::<HumanDuration>() {
        Ok(ttl) if ttl.0.is_zero() => Ok(None),
        Ok(ttl) if ttl.0 < Duration::from_secs(1) || ttl.0 > MAX_TTL => {
            Err(Problem::new("a time to live within range", expected))
        }
        Ok(ttl) => Ok(Some(ttl.0)),
        Err(_) => Err(Problem::new("a time to live", expected)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SettingKey as Key;
    use crate::config::Settings;
    use crate::config::settings::apply;
    use crate::config::test_support::*;

    #[test]
    fn values_are_checked_alike_in_every_layer() {
        let parse = |key: Key, text: &str| {
            let mut settings = Settings::defaults(&no_env());
            apply(&mut settings, key, text, None).map(|()| settings)
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
        let ttl = |text| parse(Key::Ttl, text).map(|s| s.ttl).ok();
        assert_eq!(ttl("10m"), Some(Some(Duration::from_secs(600))));
        assert_eq!(ttl("off"), Some(None));
        assert_eq!(ttl("0s"), Some(None));
        assert_eq!(ttl("500ms"), None);
        assert_eq!(ttl("2d"), None);
        assert_eq!(ttl("soon"), None);
    }

    #[test]
    fn data_dir_expands_home() {
        let settings = load_text("data_dir = \"~/drills\"\n").expect("valid");
        let home = BaseDirs::new().map(|dirs| dirs.home_dir().join("drills"));
        assert_eq!(settings.data_dir, home);
    }
}
