//! Structured JSON logs to stderr or a file, never to a terminal screen that a TUI owns.

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::filter::LevelFilter;

/// The level comes from `GAMEDAY_LOG` (`error`, `warn`, `info`, `debug`, `trace`; default info).
pub fn init_json(log_file: Option<&Path>) -> Result<(), String> {
    let level = match std::env::var("GAMEDAY_LOG") {
        Ok(text) => text.parse::<LevelFilter>().map_err(|_| {
            format!("GAMEDAY_LOG=`{text}`: expected one of off, error, warn, info, debug, trace")
        })?,
        Err(_) => LevelFilter::INFO,
    };
    let builder = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_max_level(level);
    let result = match log_file {
        Some(path) => {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|err| format!("cannot open the log file {}: {err}", path.display()))?;
            builder.with_writer(Mutex::new(file)).try_init()
        }
        None => builder.with_writer(std::io::stderr).try_init(),
    };
    result.map_err(|err| format!("cannot start logging: {err}"))
}
