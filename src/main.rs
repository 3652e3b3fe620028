//! The `wirecap` binary: parse arguments, run a command, print one error line, exit.

mod cli;
mod commands;
mod progress;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Stopped by a signal, no destructor runs: temporary outputs are removed here instead.
    let _ = ctrlc::set_handler(|| {
        wirecap::output::remove_unfinished();
        std::process::exit(130);
    });
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) if commands::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("wirecap: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
