//! Colour themes by role, so widgets ask for "critical" rather than "red", and a dark terminal,
//! a light one, a projected room or a colour-blind participant each get a palette that works.
//!
//! The built-in themes are embedded from `themes/*.toml` (television's approach). Files in
//! `<config dir>/themes/` override a built-in field by field, or add a new theme on a `base`
//! (bottom's approach: every field of a user file is optional and resolved over its base).

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use toml::Spanned;

use crate::toml_errors::{describe_toml_error, display_path, line_of};

/// The built-in themes in the order the `t` key cycles through them; the first is the default.
const BUILTIN_FILES: [(&str, &str); 4] = [
    ("dark", include_str!("../themes/dark.toml")),
    ("light", include_str!("../themes/light.toml")),
    ("projector", include_str!("../themes/projector.toml")),
    ("colorblind", include_str!("../themes/colorblind.toml")),
];

/// The base of a new user theme that names none.
const DEFAULT_BASE: &str = "dark";

const COLOUR_EXPECTED: &str = r##"a name like "green", "#rrggbb" or 0-255"##;

/// Declares the colour roles once, so the resolved `Theme`, the all-optional `ThemeFile` and the
/// list of known keys cannot drift apart.
macro_rules! colour_roles {
    ($($(#[doc = $doc:literal])* $role:ident,)*) => {
        /// Every colour the UI needs, by role, plus how to draw figures and text.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Theme {
            /// The file stem it was loaded from: `dark`, `projector`, `mine`.
            pub name: String,
            $($(#[doc = $doc])* pub $role: Color,)*
            /// Draw headline figures in large digits (for a projected room).
            pub big_numbers: bool,
            /// Draw all text bold (thin strokes vanish on a projector).
            pub bold_text: bool,
        }

        /// A theme file as written: every field optional, resolved over a base theme.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ThemeFile {
            base: Option<Spanned<String>>,
            $($role: Option<ColourValue>,)*
            big_numbers: Option<bool>,
            bold_text: Option<bool>,
        }

        /// Every key a theme file may set, in the order the error messages list them.
        const THEME_KEYS: &[&str] = &[$(stringify!($role),)* "big_numbers", "bold_text", "base"];

        impl ThemeFile {
            /// The theme `name`: what this file sets, and `base` for the rest.
            fn resolve_over(&self, base: &Theme, name: &str) -> Theme {
                Theme {
                    name: name.to_string(),
                    $($role: self.$role.map_or(base.$role, |colour| colour.0),)*
                    big_numbers: self.big_numbers.unwrap_or(base.big_numbers),
                    bold_text: self.bold_text.unwrap_or(base.bold_text),
                }
            }

            /// Keys this file leaves unset; a built-in theme must set them all.
            #[cfg(test)]
            fn missing_keys(&self) -> Vec<&'static str> {
                let mut missing = Vec::new();
                $(if self.$role.is_none() { missing.push(stringify!($role)); })*
                if self.big_numbers.is_none() { missing.push("big_numbers"); }
                if self.bold_text.is_none() { missing.push("bold_text"); }
                missing
            }
        }

        impl Theme {
            /// The terminal's own colours everywhere: the last resort if a built-in file broke.
            fn terminal_default(name: &str) -> Theme {
                Theme {
                    name: name.to_string(),
                    $($role: Color::Reset,)*
                    big_numbers: false,
                    bold_text: false,
                }
            }
        }
    };
}

colour_roles! {
    /// Behind everything; `reset` keeps the terminal's own.
    background,
    /// Ordinary text.
    text,
    /// Hints, units, timestamps: text that should recede.
    text_muted,
    /// Panel borders.
    border,
    /// The border of the focused panel.
    border_focused,
    /// Panel titles.
    title,
    /// A healthy state.
    ok,
    /// A state nearing its threshold.
    warning,
    /// A state past its threshold: an incident.
    critical,
    /// The median latency series.
    latency_p50,
    /// The 95th percentile latency series.
    latency_p95,
    /// The 99th percentile latency series.
    latency_p99,
    /// The requests-per-second series.
    requests,
    /// The errors series.
    errors,
    /// The memory-in-use series.
    memory,
    /// The memory limit line.
    memory_limit,
    /// Chart axes and their labels.
    axis,
    /// Behind the selected row or item.
    selection,
    /// A key in the key bar (`q`, `?`).
    key_bar_key,
    /// What a key in the key bar does.
    key_bar_label,
}

impl Theme {
    /// Text in `colour`, bold when the theme asks for bold text; the base of every other style.
    pub fn fg(&self, colour: Color) -> Style {
        let style = Style::new().fg(colour);
        if self.bold_text {
            style.add_modifier(Modifier::BOLD)
        } else {
            style
        }
    }

    /// Ordinary text on the theme's background: the style of the whole screen.
    pub fn base_style(&self) -> Style {
        self.fg(self.text).bg(self.background)
    }

    pub fn muted_style(&self) -> Style {
        self.fg(self.text_muted)
    }

    pub fn border_style(&self, focused: bool) -> Style {
        self.fg(if focused {
            self.border_focused
        } else {
            self.border
        })
    }

    /// Panel titles are always bold so they stand apart from the panel's content.
    pub fn title_style(&self) -> Style {
        self.fg(self.title).add_modifier(Modifier::BOLD)
    }

    pub fn key_style(&self) -> Style {
        self.fg(self.key_bar_key).add_modifier(Modifier::BOLD)
    }

    pub fn key_label_style(&self) -> Style {
        self.fg(self.key_bar_label)
    }
}

/// Parses a colour as a theme file writes it: a ratatui name (`"lightcyan"`, `"reset"`),
/// `"#rrggbb"` or an ANSI index `"213"`.
pub fn parse_colour(text: &str) -> Result<Color, String> {
    text.trim()
        .parse::<Color>()
        .map_err(|_| format!("{text:?} is not a colour; expected {COLOUR_EXPECTED}"))
}

/// A colour in a theme file: a string as `parse_colour` takes it, or a bare index 0-255.
#[derive(Debug, Clone, Copy)]
struct ColourValue(Color);

impl<'de> Deserialize<'de> for ColourValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ColourVisitor;
        impl Visitor<'_> for ColourVisitor {
            type Value = ColourValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(COLOUR_EXPECTED)
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<ColourValue, E> {
                parse_colour(text).map(ColourValue).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, index: i64) -> Result<ColourValue, E> {
                u8::try_from(index)
                    .map(|index| ColourValue(Color::Indexed(index)))
                    .map_err(|_| {
                        E::custom(format!(
                            "{index} is not a colour; expected {COLOUR_EXPECTED}"
                        ))
                    })
            }
        }
        deserializer.deserialize_any(ColourVisitor)
    }
}

/// Parses one theme file; `source` names it in errors.
fn parse_theme_file(text: &str, source: &str) -> Result<ThemeFile, String> {
    toml::from_str(text).map_err(|error| describe_toml_error(source, text, &error, THEME_KEYS))
}

/// The themes one can switch between, built-ins first in a fixed order, then the user's own.
#[derive(Debug, Clone)]
pub struct Themes {
    /// Never empty: `builtin()` always yields the four built-ins.
    themes: Vec<Theme>,
}

impl Themes {
    /// The four themes embedded in the binary.
    pub fn builtin() -> Themes {
        let themes = BUILTIN_FILES
            .iter()
            .map(|(name, text)| {
                let base = Theme::terminal_default(name);
                // A test proves every built-in parses and sets every key.
                parse_theme_file(text, name)
                    .map(|file| file.resolve_over(&base, name))
                    .unwrap_or(base)
            })
            .collect();
        Themes { themes }
    }

    /// The built-ins with `<config_dir>/themes/*.toml` over them. A file named like a built-in
    /// changes only the keys it sets; a file with a new name adds a theme on `base` (default
    /// `dark`). A missing folder is fine; a bad file is an error naming file, line and key.
    pub fn load(config_dir: Option<&Path>) -> Result<Themes, String> {
        let builtins = Themes::builtin();
        let Some(config_dir) = config_dir else {
            return Ok(builtins);
        };
        let files = read_theme_files(&config_dir.join("themes"))?;
        let mut resolver = BaseResolver {
            builtins: &builtins,
            files: &files,
            resolved: BTreeMap::new(),
            chain: Vec::new(),
        };
        for name in files.keys() {
            resolver.resolve(name)?;
        }
        let mut themes = builtins.clone();
        for (name, theme) in resolver.resolved {
            match themes.themes.iter_mut().find(|t| t.name == name) {
                Some(builtin) => *builtin = theme,
                None => themes.themes.push(theme),
            }
        }
        Ok(themes)
    }

    pub fn get(&self, name: &str) -> Option<&Theme> {
        self.themes.iter().find(|theme| theme.name == name)
    }

    /// The default theme: `dark`, or the user's version of it.
    pub fn default_theme(&self) -> &Theme {
        &self.themes[0]
    }

    /// Every theme's name in cycling order (`config::discover` checks `theme` against them).
    pub fn names(&self) -> Vec<&str> {
        self.themes
            .iter()
            .map(|theme| theme.name.as_str())
            .collect()
    }
}

/// Resolves user themes over their bases. Bases are looked up among the user's files first, so a
/// user's `dark.toml` is the base of every theme built on dark, whatever order files are read in.
struct BaseResolver<'a> {
    builtins: &'a Themes,
    files: &'a BTreeMap<String, UserThemeFile>,
    resolved: BTreeMap<String, Theme>,
    /// The themes being resolved, outermost first, to catch a loop of bases.
    chain: Vec<String>,
}

impl BaseResolver<'_> {
    fn exists(&self, name: &str) -> bool {
        self.files.contains_key(name) || self.builtins.get(name).is_some()
    }

    /// The theme `name`: the user's version if there is one, else the built-in.
    fn resolve(&mut self, name: &str) -> Result<Theme, String> {
        if let Some(theme) = self.resolved.get(name) {
            return Ok(theme.clone());
        }
        let (files, builtins) = (self.files, self.builtins);
        let Some(user) = files.get(name) else {
            return builtins
                .get(name)
                .cloned()
                .ok_or_else(|| format!("no theme named {name:?}"));
        };
        let at = |span: std::ops::Range<usize>| {
            let line = line_of(&user.text, span.start);
            format!("{} line {line}: key `base`", display_path(&user.path))
        };
        let builtin_of_same_name = builtins.get(name).filter(|_| is_builtin(name));
        let base = match &user.file.base {
            None => match builtin_of_same_name {
                Some(builtin) => builtin.clone(),
                None => self.resolve_base(name, DEFAULT_BASE)?,
            },
            Some(base) if base.get_ref() == name => {
                builtin_of_same_name.cloned().ok_or_else(|| {
                    format!(
                        "{}: {name:?} is this theme itself; expected another theme",
                        at(base.span())
                    )
                })?
            }
            Some(base) if self.chain.iter().any(|n| n == base.get_ref()) => {
                return Err(format!(
                    "{}: {:?} leads back to {name:?}; expected bases that end at a built-in theme",
                    at(base.span()),
                    base.get_ref()
                ));
            }
            Some(base) if self.exists(base.get_ref()) => self.resolve_base(name, base.get_ref())?,
            Some(base) => {
                let mut known = self.builtins.names();
                known.extend(
                    self.files
                        .keys()
                        .map(String::as_str)
                        .filter(|n| !is_builtin(n)),
                );
                return Err(format!(
                    "{}: {:?} is not a theme; expected one of {}",
                    at(base.span()),
                    base.get_ref(),
                    known.join(", ")
                ));
            }
        };
        let theme = user.file.resolve_over(&base, name);
        self.resolved.insert(name.to_string(), theme.clone());
        Ok(theme)
    }

    fn resolve_base(&mut self, name: &str, base: &str) -> Result<Theme, String> {
        self.chain.push(name.to_string());
        let theme = self.resolve(base);
        self.chain.pop();
        theme
    }
}

fn is_builtin(name: &str) -> bool {
    BUILTIN_FILES.iter().any(|(builtin, _)| *builtin == name)
}

/// A user's theme file, kept with its text so later errors can give line numbers.
struct UserThemeFile {
    path: PathBuf,
    text: String,
    file: ThemeFile,
}

/// Reads and parses every `*.toml` in `dir`, by theme name; a missing folder has none.
fn read_theme_files(dir: &Path) -> Result<BTreeMap<String, UserThemeFile>, String> {
    let cannot_read = |path: &Path, error: std::io::Error| {
        format!("{}: cannot read: {error}", display_path(path))
    };
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(error) => return Err(cannot_read(dir, error)),
    };
    let mut files = BTreeMap::new();
    for entry in entries {
        let path = entry.map_err(|error| cannot_read(dir, error))?.path();
        if path.extension().is_none_or(|ext| ext != "toml") {
            continue;
        }
        let Some(name) = path.file_stem().and_then(|stem| stem.to_str()) else {
            return Err(format!(
                "{}: expected a theme file name in UTF-8",
                display_path(&path)
            ));
        };
        let name = name.to_string();
        // Only a regular file of a bounded size: a FIFO here would hang start-up.
        let text = crate::toml_errors::read_text_file(&path).map_err(|error| match error {
            crate::toml_errors::TextFileError::NotUtf8 { .. } => {
                format!("{} {error}", display_path(&path))
            }
            _ => format!("{}: {error}", display_path(&path)),
        })?;
        let file = parse_theme_file(&text, &display_path(&path))?;
        files.insert(name, UserThemeFile { path, text, file });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(dir: &str) -> PathBuf {
        crate::config::fixtures_dir().join(dir)
    }

    fn write_theme(dir: &Path, name: &str, text: &str) {
        let themes = dir.join("themes");
        fs::create_dir_all(&themes).expect("create themes dir");
        fs::write(themes.join(format!("{name}.toml")), text).expect("write theme");
    }

    #[test]
    fn every_builtin_parses_and_sets_every_key() {
        for (name, text) in BUILTIN_FILES {
            let file = parse_theme_file(text, name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(file.missing_keys(), Vec::<&str>::new(), "{name}");
            assert!(file.base.is_none(), "{name} must not need a base");
        }
        let themes = Themes::builtin();
        assert_eq!(themes.names(), ["dark", "light", "projector", "colorblind"]);
        assert_eq!(themes.default_theme().name, "dark");
    }

    #[test]
    fn projector_is_bold_with_big_numbers_on_black() {
        let themes = Themes::builtin();
        let projector = themes.get("projector").expect("projector");
        assert!(projector.big_numbers && projector.bold_text);
        assert_eq!(projector.background, Color::Indexed(16));
        assert_eq!(projector.text, Color::Indexed(231));
        assert!(
            projector
                .fg(projector.ok)
                .add_modifier
                .contains(Modifier::BOLD)
        );
        let dark = themes.get("dark").expect("dark");
        assert!(!dark.big_numbers && !dark.bold_text);
        assert!(!dark.fg(dark.ok).add_modifier.contains(Modifier::BOLD));
    }

    #[test]
    fn colorblind_never_uses_red_against_green_for_status() {
        let themes = Themes::builtin();
        let theme = themes.get("colorblind").expect("colorblind");
        let reds_and_greens = [Color::Red, Color::LightRed, Color::Green, Color::LightGreen];
        for colour in [theme.ok, theme.warning, theme.critical] {
            assert!(!reds_and_greens.contains(&colour), "{colour:?}");
        }
        assert_ne!(theme.ok, theme.critical);
        assert_ne!(theme.warning, theme.critical);
    }

    #[test]
    fn colours_parse_as_names_hex_and_indices() {
        assert_eq!(parse_colour("red"), Ok(Color::Red));
        assert_eq!(parse_colour("lightcyan"), Ok(Color::LightCyan));
        assert_eq!(parse_colour("reset"), Ok(Color::Reset));
        assert_eq!(parse_colour("#ff8000"), Ok(Color::Rgb(255, 128, 0)));
        assert_eq!(parse_colour("213"), Ok(Color::Indexed(213)));
        assert_eq!(
            parse_colour("gren"),
            Err(
                r##""gren" is not a colour; expected a name like "green", "#rrggbb" or 0-255"##
                    .to_string()
            )
        );
        assert!(parse_colour("256").is_err());
        assert!(parse_colour("#12345").is_err());
        let file: ThemeFile = toml::from_str("ok = 208").expect("integer colour");
        assert_eq!(file.ok.map(|c| c.0), Some(Color::Indexed(208)));
    }

    #[test]
    fn no_config_dir_or_no_themes_folder_gives_the_builtins() {
        assert_eq!(Themes::load(None).expect("builtins").names().len(), 4);
        let empty = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            Themes::load(Some(empty.path()))
                .expect("builtins")
                .names()
                .len(),
            4
        );
    }

    #[test]
    fn a_user_file_named_like_a_builtin_overrides_only_what_it_sets() {
        let themes = Themes::load(Some(&fixture("user_themes"))).expect("valid user themes");
        let builtin = Themes::builtin();
        let dark = themes.get("dark").expect("dark");
        assert_eq!(dark.critical, Color::Rgb(0xff, 0x00, 0x5f));
        assert!(dark.bold_text);
        let mut expected = builtin.get("dark").expect("dark").clone();
        expected.critical = dark.critical;
        expected.bold_text = true;
        assert_eq!(dark, &expected);
        // The override stays in the built-in's place in the cycle; new themes follow, by name.
        assert_eq!(
            themes.names(),
            [
                "dark",
                "light",
                "projector",
                "colorblind",
                "mine",
                "mine-bold"
            ]
        );
    }

    #[test]
    fn a_new_user_theme_resolves_over_its_base() {
        let themes = Themes::load(Some(&fixture("user_themes"))).expect("valid user themes");
        let light = Themes::builtin().get("light").expect("light").clone();
        let mine = themes.get("mine").expect("mine");
        assert_eq!(mine.name, "mine");
        assert_eq!(mine.ok, Color::Indexed(33));
        assert_eq!(mine.text_muted, light.text_muted);
        assert_eq!(mine.selection, light.selection);
        // `mine-bold` has no base of its own file but names `mine`, a user theme.
        let bold = themes.get("mine-bold").expect("mine-bold");
        assert_eq!(bold.ok, Color::Indexed(33));
        assert!(bold.big_numbers);
    }

    #[test]
    fn a_new_user_theme_without_base_resolves_over_dark() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_theme(dir.path(), "plain", "title = \"white\"\n");
        let themes = Themes::load(Some(dir.path())).expect("valid");
        let mut expected = Themes::builtin().get("dark").expect("dark").clone();
        expected.name = "plain".to_string();
        expected.title = Color::White;
        assert_eq!(themes.get("plain"), Some(&expected));
    }

    #[test]
    fn a_bad_colour_names_file_line_key_and_what_is_expected() {
        let dir = fixture("bad_theme_colour");
        let error = Themes::load(Some(&dir)).expect_err("bad colour");
        let file = display_path(&dir.join("themes").join("mine.toml"));
        assert_eq!(
            error,
            format!(
                r##"{file} line 4: key `ok`: "gren" is not a colour; expected a name like "green", "#rrggbb" or 0-255"##
            )
        );
    }

    #[test]
    fn an_unknown_key_lists_the_known_ones() {
        let dir = fixture("bad_theme_key");
        let error = Themes::load(Some(&dir)).expect_err("unknown key");
        let file = display_path(&dir.join("themes").join("mine.toml"));
        assert_eq!(
            error,
            format!(
                "{file} line 3: key `backgroud`: unknown key (did you mean `background`?); \
                 expected one of {}",
                THEME_KEYS.join(", ")
            )
        );
    }

    #[test]
    fn wrong_types_and_bad_bases_are_errors_with_their_place() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = display_path(&dir.path().join("themes").join("x.toml"));
        write_theme(dir.path(), "x", "ok = \"red\"\nbig_numbers = \"yes\"\n");
        assert_eq!(
            Themes::load(Some(dir.path())).expect_err("not a bool"),
            format!("{file} line 2: key `big_numbers`: expected a boolean, found string \"yes\"")
        );
        write_theme(dir.path(), "x", "\nok = 300\n");
        assert_eq!(
            Themes::load(Some(dir.path())).expect_err("index too big"),
            format!(
                r##"{file} line 2: key `ok`: 300 is not a colour; expected a name like "green", "#rrggbb" or 0-255"##
            )
        );
        write_theme(dir.path(), "x", "base = \"neon\"\n");
        assert_eq!(
            Themes::load(Some(dir.path())).expect_err("unknown base"),
            format!(
                "{file} line 1: key `base`: \"neon\" is not a theme; \
                 expected one of dark, light, projector, colorblind, x"
            )
        );
        write_theme(dir.path(), "x", "base = \"y\"\n");
        write_theme(dir.path(), "y", "base = \"x\"\n");
        let file_y = display_path(&dir.path().join("themes").join("y.toml"));
        assert_eq!(
            Themes::load(Some(dir.path())).expect_err("loop of bases"),
            format!(
                "{file_y} line 1: key `base`: \"x\" leads back to \"y\"; \
                 expected bases that end at a built-in theme"
            )
        );
    }

    #[test]
    fn styles_follow_the_theme() {
        let themes = Themes::builtin();
        let dark = themes.get("dark").expect("dark");
        assert_eq!(dark.border_style(true).fg, Some(Color::LightCyan));
        assert_eq!(dark.border_style(false).fg, Some(Color::Indexed(241)));
        assert!(dark.title_style().add_modifier.contains(Modifier::BOLD));
        assert_eq!(dark.base_style().bg, Some(Color::Reset));
    }
}
