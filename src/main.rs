use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = gameday::cli::Cli::parse();
    gameday::cli::run(cli)
}
