//! The process: runs the command the user asked for, owns stdout/stderr and exit codes.
//!
//! Exit codes are a contract: 0 success (or all check rules passed), 1 a check rule failed,
//! 2 an error (bad input, bad image, bad config).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::Context as _;

use crate::cli::{AnalyzeArgs, Cli, Command};
use crate::decode::{NoProgress, Progress};
use crate::report::{self, Format};

pub const EXIT_OK: u8 = 0;
pub const EXIT_RULE_FAILED: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let opts = cli.source.open_options();
    match cli.command {
        Some(Command::Analyze(args)) => analyze(&args, &cli.source),
        Some(Command::Explore(args)) => explore(&args.image, &cli.source),
        None => match cli.image {
            Some(image) if std::io::stdout().is_terminal() => explore(&image, &cli.source),
            Some(image) => {
                let args = AnalyzeArgs {
                    image,
                    format: Format::Text,
                    output: None,
                };
                let _ = opts;
                analyze(&args, &cli.source)
            }
            None => anyhow::bail!("no image given; try `layersift --help`"),
        },
    }
}

fn analyze(args: &AnalyzeArgs, source: &crate::cli::SourceArgs) -> anyhow::Result<ExitCode> {
    let analysis = load(&args.image, source)?;
    let out = report::render(&analysis, args.format);
    emit(&out, args.output.as_deref())?;
    Ok(ExitCode::from(EXIT_OK))
}

/// Opens the terminal UI; it needs a terminal on stdout.
fn explore(image: &str, source: &crate::cli::SourceArgs) -> anyhow::Result<ExitCode> {
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "`layersift explore` needs a terminal on stdout; for a report use `layersift analyze {image}`"
        );
    }
    crate::tui::run(image, source)?;
    Ok(ExitCode::from(EXIT_OK))
}

/// Resolves and analyses an image, with progress on stderr when it is a terminal.
pub fn load(image: &str, source: &crate::cli::SourceArgs) -> anyhow::Result<crate::Analysis> {
    let opts = source.open_options();
    let progress = StderrProgress::new();
    let a = if std::io::stderr().is_terminal() {
        let a = crate::analyze_reference(image, &opts, &progress);
        progress.clear();
        a
    } else {
        crate::analyze_reference(image, &opts, &NoProgress)
    };
    Ok(a?)
}

/// Writes data to a file or stdout. A closed stdout (`| head`) is not an error.
pub fn emit(data: &str, path: Option<&std::path::Path>) -> anyhow::Result<()> {
    match path {
        Some(p) => {
            std::fs::write(p, data).with_context(|| format!("cannot write `{}`", p.display()))
        }
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(data.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(e).context("cannot write to stdout")
                }
                _ => Ok(()),
            }
        }
    }
}

/// Prints an error as `error: …`, its causes, and a hint where one is known.
pub fn print_error(e: &anyhow::Error) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {e}");
    let mut hint = None;
    for cause in e.chain() {
        if let Some(le) = cause.downcast_ref::<crate::Error>() {
            hint = hint.or_else(|| le.hint());
        }
        if let Some(se) = cause.downcast_ref::<crate::source::SourceError>() {
            hint = hint.or_else(|| se.hint());
        }
    }
    for cause in e.chain().skip(1) {
        let _ = writeln!(err, "  Caused by: {cause}");
    }
    if let Some(h) = hint {
        let _ = writeln!(err, "hint: {h}");
    }
}

/// Per-layer decode progress as one self-rewriting stderr line.
struct StderrProgress {
    layers_done: AtomicUsize,
    bytes: AtomicU64,
    line: Mutex<()>,
}

impl StderrProgress {
    fn new() -> Self {
        StderrProgress {
            layers_done: AtomicUsize::new(0),
            bytes: AtomicU64::new(0),
            line: Mutex::new(()),
        }
    }

    fn draw(&self) {
        if let Ok(_guard) = self.line.try_lock() {
            let _ = write!(
                std::io::stderr(),
                "\r\x1b[2Kdecoding: {} layers done, {} read",
                self.layers_done.load(Ordering::Relaxed),
                report::human_bytes(self.bytes.load(Ordering::Relaxed))
            );
        }
    }

    fn clear(&self) {
        let _ = write!(std::io::stderr(), "\r\x1b[2K");
    }
}

impl Progress for StderrProgress {
    fn advanced(&self, _layer: usize, _bytes_read: u64) {
        self.bytes.fetch_add(4 << 20, Ordering::Relaxed);
        self.draw();
    }

    fn layer_done(&self, _layer: usize) {
        self.layers_done.fetch_add(1, Ordering::Relaxed);
        self.draw();
    }
}
