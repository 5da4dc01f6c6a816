//! The `layersift` binary: parse arguments, run, choose the exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = layersift::parse_args();
    layersift::run(cli).unwrap_or_else(|e| {
        layersift::print_error(&e);
        ExitCode::from(layersift::EXIT_ERROR)
    })
}
