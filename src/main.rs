use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = gameday::cli::Cli::parse();
    if matches!(cli.command, None | Some(gameday::cli::Command::Drill(_))) {
        one_malloc_arena();
    }
    gameday::cli::run(cli)
}

/// The dashboard allocates little and from few threads: one glibc arena instead of one per
/// thread keeps its resident memory ~0.2 MB lower. The sandbox and the load generator keep the
/// default, which serves many threads allocating at once.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes a malloc setting; called before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
