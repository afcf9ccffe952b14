//! `gameday`: a terminal dashboard for incident-response practice on the FinCore payment API.

pub mod actions;
pub mod alerts;
pub mod app;
pub mod cli;
pub mod config;
pub mod data_dir;
pub mod drill;
pub mod fincore;
pub mod i18n;
pub mod knobs;
pub mod load;
pub mod logging;
pub mod model;
pub mod pattern_settings;
pub mod provider;
pub mod sandbox;
pub mod secret;
pub mod sessions;
pub mod signals;
pub mod sources;
pub mod strict_json;
pub mod theme;
pub mod toml_errors;
pub mod ui;
pub mod units;
