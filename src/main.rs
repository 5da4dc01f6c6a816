//! The `layersift` binary: parse arguments, run, choose the exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = layersift::cli::parse();
    layersift::app::run(cli).unwrap_or_else(|e| {
        layersift::app::print_error(&e);
        ExitCode::from(layersift::app::EXIT_ERROR)
    })
}
