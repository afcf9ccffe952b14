//! `gameday load`: the load generator without the dashboard.

use clap::Args;

/// Flags of `gameday load`.
#[derive(Debug, Args)]
pub struct LoadArgs {}

pub fn run(_args: LoadArgs) -> Result<(), String> {
    Err("gameday load is not built yet".to_string())
}
