//! `numu`: parse the command line, load configuration, start telemetry, run the command.

use clap::Parser;

// The collector allocates and frees a few dozen small strings per event; glibc's malloc
// spent a quarter of its CPU there (load-tests/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = numu_server::cli::Cli::parse();
    match numu_server::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // One line, so operators and scripts see the cause and its fix at once.
            eprintln!("numu: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
