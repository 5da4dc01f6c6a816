//! The `layersift` binary: parse arguments, run, choose the exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = layersift::cli::Cli::parse();
    layersift::app::run(cli).unwrap_or_else(|e| {
        layersift::app::print_error(&e);
        ExitCode::from(layersift::app::EXIT_ERROR)
    })
}
