//! `rapport`: the command-line interface. Each verb lives in `command/<verb>.rs`; this
//! file parses arguments, opens the store and the configuration, and turns errors into
//! one clear line and an exit status.

mod cli;
mod command;
mod config;
mod demo_data;
mod output;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

/// Help and version go out as clap writes them; a usage mistake is one line.
fn usage_error(e: &clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::from(e.exit_code().clamp(0, 255) as u8)
        }
        _ => {
            // clap's first paragraph says what is wrong; the usage and tips follow.
            let text = e.to_string();
            let what: Vec<&str> = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let what = what.join(" ");
            let what = what.trim_start_matches("error: ");
            eprintln!("rapport: {what} (see `rapport --help`)");
            ExitCode::from(2)
        }
    }
}

/// Log lines (the listener's progress, connector faults) go to stderr; `RAPPORT_LOG`
/// sets the level (`warn`, `info`, `debug`, or per module as in `RUST_LOG`).
fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("RAPPORT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=error"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    rapport_connectors::net::ensure_crypto();
    init_logging();
    // One thread for the CLI's sequential work (handing every query between runtime
    // workers and SQLite's thread costs more than it gives); every core for the servers.
    let serving = matches!(
        cli.command,
        cli::Command::Serve { .. } | cli::Command::Listen(_)
    ) || matches!(&cli.command, cli::Command::Demo(d) if !d.no_serve && !d.json);
    let built = if serving {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    let runtime = match built {
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
            let broken_pipe = |e: &(dyn std::error::Error + 'static)| {
                e.downcast_ref::<std::io::Error>().map(std::io::Error::kind)
                    == Some(std::io::ErrorKind::BrokenPipe)
                    || e.downcast_ref::<serde_json::Error>()
                        .and_then(serde_json::Error::io_error_kind)
                        == Some(std::io::ErrorKind::BrokenPipe)
            };
            if err.chain().any(broken_pipe) {
                return ExitCode::SUCCESS;
            }
            let _ = std::io::stdout().flush();
            eprintln!("rapport: {err:#}");
            ExitCode::FAILURE
        }
    }
}
