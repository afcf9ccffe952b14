//! `gameday cases`: list, show and validate drill cases.

use clap::Args;

/// Flags of `gameday cases`.
#[derive(Debug, Args)]
pub struct CasesArgs {}

pub fn run(_args: CasesArgs) -> Result<(), String> {
    Err("gameday cases is not built yet".to_string())
}
