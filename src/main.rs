//! The `layersift` binary: parse arguments, run, choose the exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = layersift::Cli::parse();
    layersift::run(cli).unwrap_or_else(|e| {
        layersift::print_error(&e);
        ExitCode::from(layersift::EXIT_ERROR)
    })
}
