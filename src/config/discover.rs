//! How every subcommand starts: the config file in use, the settings from every layer, the
//! themes and cases beside the config file, and the checks that need them. One function, so
//! `gameday`, `gameday drill`, `gameday cases` and `gameday load` cannot find them differently.

use std::path::{Path, PathBuf};

use super::values::Problem;
use super::{
    ConfigError, LoadedSettings, SettingKey, Settings, SettingsOverrides, config_file_in_use, load,
};
use crate::drill::{CaseLibrary, CaseReport};
use crate::theme::Themes;

/// What a subcommand starts from.
#[derive(Debug, Clone)]
pub struct Discovered {
    /// Every layer applied, and `theme` one of `themes`.
    pub settings: Settings,
    /// The built-in themes with the user's `themes/*.toml` over them.
    pub themes: Themes,
    /// The folder of the config file in use, which holds the user's `themes/` and `cases/`.
    pub config_dir: Option<PathBuf>,
}

impl Discovered {
    /// The shipped cases with the user's `cases/*.toml` over them, and a report per user file
    /// (a broken one is left out of the library; whether that stops the subcommand is its
    /// call). Read on demand: only drills and `gameday cases` need them.
    pub fn cases(&self) -> (CaseLibrary, Vec<CaseReport>) {
        CaseLibrary::load(self.config_dir.as_deref())
    }
}

/// Finds the settings (`default_file`, or the file `GAMEDAY_CONFIG` names; `GAMEDAY_*`
/// variables; `overrides` from flags) and the themes beside the config file, and checks the
/// theme named is one of them. A bad theme file is reported before a bad setting.
pub fn discover(
    default_file: Option<&Path>,
    env: &impl Fn(&str) -> Option<String>,
    overrides: &SettingsOverrides,
) -> Result<Discovered, ConfigError> {
    let config_dir =
        config_file_in_use(default_file, env).and_then(|file| file.parent().map(Path::to_path_buf));
    let themes = Themes::load(config_dir.as_deref()).map_err(ConfigError)?;
    let settings = load(default_file, env, overrides)?.check_theme(&themes.names())?;
    if let Some(path) = &settings.ca_cert {
        // Every client built from now on trusts it (the parser has read it once already).
        crate::fincore::tls::trust_pem_file(path).map_err(ConfigError)?;
    }
    Ok(Discovered {
        settings,
        themes,
        config_dir,
    })
}

impl LoadedSettings {
    /// The settings, once `theme` names one of `theme_names`; otherwise an error worded for
    /// the layer that named it.
    pub(super) fn check_theme(self, theme_names: &[&str]) -> Result<Settings, ConfigError> {
        let theme = self.settings.theme.as_str();
        if theme_names.contains(&theme) {
            return Ok(self.settings);
        }
        let expected = format!("one of {}", theme_names.join(", "));
        let problem = Problem::new("a known theme", expected);
        Err(self.reject(SettingKey::Theme, &format!("{theme:?}"), &problem))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::*;
    use crate::config::{Lang, fixtures_dir};

    #[test]
    fn themes_and_cases_are_found_beside_the_config_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let themes = dir.path().join("themes");
        std::fs::create_dir(&themes).expect("themes folder");
        std::fs::write(themes.join("mine.toml"), "base = \"light\"\n").expect("theme");
        let config = dir.path().join("config.toml");
        std::fs::write(&config, "theme = \"mine\"\nlang = \"ru\"\n").expect("config");

        let found =
            discover(Some(&config), &no_env(), &SettingsOverrides::default()).expect("valid");
        assert_eq!(found.settings.theme, "mine");
        assert_eq!(found.settings.lang, Lang::Ru);
        assert!(found.themes.get("mine").is_some());
        assert_eq!(found.config_dir.as_deref(), Some(dir.path()));
        let (library, reports) = found.cases();
        assert!(library.get("latency").is_some() && reports.is_empty());

        // The same theme is unknown where the config file has no themes beside it.
        let elsewhere = fixtures_dir().join("valid.toml");
        let env = env_of(&[("GAMEDAY_THEME", "mine")]);
        let error = discover(Some(&elsewhere), &env, &SettingsOverrides::default())
            .expect_err("no such theme there");
        assert_eq!(
            error.0,
            "GAMEDAY_THEME=mine: expected one of dark, light, projector, colorblind"
        );
    }

    #[test]
    fn an_unknown_theme_is_reported_for_the_layer_that_named_it() {
        let (_dir, path) = write_config("\ntheme = \"neon\"\n");
        let none = SettingsOverrides::default();
        let error = discover(Some(&path), &no_env(), &none).expect_err("from the file");
        assert_eq!(
            error.0,
            format!(
                "{} line 2: key `theme`: \"neon\" is not a known theme; expected one of dark, \
                 light, projector, colorblind",
                crate::toml_errors::display_path(&path)
            )
        );
        let flags = SettingsOverrides {
            theme: Some("nope".to_string()),
            ..SettingsOverrides::default()
        };
        let error = discover(Some(&path), &no_env(), &flags).expect_err("from the flag");
        assert_eq!(
            error.0,
            "--theme: \"nope\" is not a known theme; expected one of dark, light, projector, \
             colorblind"
        );
        // A later layer naming a known theme overrides the file's unknown one.
        let flags = SettingsOverrides {
            theme: Some("light".to_string()),
            ..SettingsOverrides::default()
        };
        let found = discover(Some(&path), &no_env(), &flags).expect("the flag wins");
        assert_eq!(found.settings.theme, "light");
    }
}
