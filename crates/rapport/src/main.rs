//! `rapport`: the command-line interface. Each verb lives in `command/<verb>.rs`; this
//! file parses arguments, opens the store and the configuration, and turns errors into
//! one clear line and an exit status.

mod cli;
mod command;
mod config;
mod demo_data;
mod output;
mod pipeline;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rapport: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(command::run(cli)) {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`rapport inbox | head`) is not a failure.
            if err
                .chain()
                .filter_map(|e| e.downcast_ref::<std::io::Error>())
                .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            let _ = std::io::stdout().flush();
            eprintln!("rapport: {err:#}");
            ExitCode::FAILURE
        }
    }
}
