//! `declare_settings!`: from one entry per setting it writes everything that must agree across
//! the layers, so a key is declared once (in `settings.rs`) and no list of keys is kept by hand:
//!
//! - the `Settings` field (documented by the entry's doc) and its default;
//! - `SettingKey`: the key's name in `config.toml`, from which its `GAMEDAY_*` variable and its
//!   flag are derived, the flag's shape and help (the doc again), and `SettingKey::ALL`;
//! - `apply`: the key's parser, the same for every layer;
//! - `SettingsOverrides`: the flag's value as typed;
//! - `ConfigFile`: the key's field in `config.toml`, read with its place.
//!
//! An entry reads
//!
//! ```text
//! /// Help of the flag and doc of the field.
//! Variant field: Type = default, flag FlagShape, parse |text, folder| parser(text);
//! ```
//!
//! where the parser returns `Result<Type, Problem>` and `folder` is the config file's folder
//! (for values relative to it), `None` for variables and flags.

macro_rules! declare_settings {
    (
        environment $env:ident;
        $(
            $(#[doc = $doc:literal])+
            $variant:ident $field:ident: $type:ty = $default:expr,
            flag $flag:expr, parse $parse:expr;
        )+
    ) => {
        /// Every setting, resolved from all layers.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Settings {
            $(
                $(#[doc = $doc])+
                pub $field: $type,
            )+
            /// The `[keys]` table of `config.toml`, in file order: not a layered value but data
            /// for the key table, which checks each action and key.
            pub keys: Vec<$crate::config::KeyBindingSetting>,
        }

        impl Settings {
            /// The settings before any file, variable or flag (`env` for those that depend on
            /// the environment, such as the language).
            pub fn defaults($env: &impl Fn(&str) -> Option<String>) -> Settings {
                Settings {
                    $($field: $default,)+
                    keys: Vec::new(),
                }
            }
        }

        /// A setting's name, from which its TOML key, variable and flag are derived.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum SettingKey {
            $($variant,)+
        }

        impl SettingKey {
            /// Every setting, in the order of the table (and of "expected one of" lists).
            pub const ALL: &'static [SettingKey] = &[$(SettingKey::$variant,)+];

            /// The key in `config.toml`.
            pub fn name(self) -> &'static str {
                match self {
                    $(SettingKey::$variant => stringify!($field),)+
                }
            }

            /// What the setting does, for the flag's help: the entry's doc as one line without
            /// its final period, as clap shows the docs of derived flags.
            pub fn help(self) -> String {
                let doc: &[&str] = match self {
                    $(SettingKey::$variant => &[$($doc),+],)+
                };
                let help = doc.iter().map(|line| line.trim()).collect::<Vec<_>>().join(" ");
                help.strip_suffix('.').unwrap_or(&help).to_string()
            }

            /// How the flag is written on the command line.
            pub fn flag_shape(self) -> $crate::config::FlagShape {
                use $crate::config::FlagShape::*;
                match self {
                    $(SettingKey::$variant => $flag,)+
                }
            }
        }

        /// Parses `text` as the value of `key` and stores it. A value relative to a folder is
        /// taken from `folder` (the config file's) when given.
        pub(super) fn apply(
            settings: &mut Settings,
            key: SettingKey,
            text: &str,
            folder: Option<&::std::path::Path>,
        ) -> Result<(), $crate::config::values::Problem> {
            let text = text.trim();
            match key {
                $(SettingKey::$variant => {
                    let parse: fn(
                        &str,
                        Option<&::std::path::Path>,
                    ) -> Result<$type, $crate::config::values::Problem> = $parse;
                    settings.$field = parse(text, folder)?;
                })+
            }
            Ok(())
        }

        /// Values from command-line flags, as typed, so they are parsed and reported like the
        /// other layers (`--load: "fast" is not ...`).
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct SettingsOverrides {
            $(pub $field: Option<String>,)+
        }

        impl SettingsOverrides {
            /// The flag's value as typed, if it was given.
            pub fn get(&self, key: SettingKey) -> Option<&str> {
                match key {
                    $(SettingKey::$variant => self.$field.as_deref(),)+
                }
            }

            pub fn set(&mut self, key: SettingKey, value: String) {
                match key {
                    $(SettingKey::$variant => self.$field = Some(value),)+
                }
            }
        }

        /// `config.toml` as written: any key may be left out; unknown keys are errors.
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(super) struct ConfigFile {
            $($field: Option<toml::Spanned<$crate::config::file::ScalarValue>>,)+
            pub(super) keys: Option<toml::Spanned<$crate::config::key_bindings::KeyBindingsTable>>,
        }

        impl ConfigFile {
            /// Each setting with its value in the file, if the file sets it.
            pub(super) fn entries(
                &self,
            ) -> Vec<(SettingKey, Option<&toml::Spanned<$crate::config::file::ScalarValue>>)> {
                vec![$((SettingKey::$variant, self.$field.as_ref()),)+]
            }
        }
    };
}

pub(super) use declare_settings;
