//! The process: runs the command the user asked for, owns stdout/stderr and exit codes.
//!
//! Exit codes are a contract: 0 success (or all check rules passed), 1 a check rule failed,
//! 2 an error (bad input, bad image, bad config), 130 interrupted (Ctrl+C in the terminal UI
//! while loading).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::cli::{
    AnalyzeArgs, CacheAction, CacheArgs, CheckArgs, Cli, Command, DiffArgs, DockerfileArgs,
    SourceArgs, TrendArgs,
};
use crate::decode::{NoProgress, Progress};
use crate::report::{self, saved, Format};

pub const EXIT_OK: u8 = 0;
pub const EXIT_RULE_FAILED: u8 = 1;
pub const EXIT_ERROR: u8 = 2;
/// Ctrl+C in the terminal UI before the analysis finished (128 + SIGINT, as shells use).
pub(crate) const EXIT_INTERRUPTED: u8 = 130;

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Command::Analyze(args)) => analyze(&args, &args.source),
        Some(Command::Explore(args)) => explore(&args.image, &args.source, &args.dockerfile),
        Some(Command::Fix(args)) => crate::dockerfile::fix::run(&args, &args.source),
        Some(Command::Check(args)) => check(&args, &args.source),
        Some(Command::Diff(args)) => diff(&args, &args.source),
        Some(Command::Trend(args)) => trend(&args),
        Some(Command::Cache(args)) => cache(&args),
        None => match cli.image {
            Some(image) if std::io::stdout().is_terminal() => {
                explore(&image, &cli.source, &DockerfileArgs::default())
            }
            Some(image) => {
                let args = AnalyzeArgs {
                    image,
                    format: Some(Format::Text),
                    output: None,
                    history: None,
                    dockerfile: DockerfileArgs::default(),
                    limit: None,
                    all: false,
                    source: cli.source.clone(),
                };
                analyze(&args, &cli.source)
            }
            None => anyhow::bail!("no image given; try `layersift --help`"),
        },
    }
}

fn analyze(args: &AnalyzeArgs, source: &SourceArgs) -> anyhow::Result<ExitCode> {
    let df = read_dockerfile(&args.dockerfile)?;
    let analysis = load_with(&args.image, source, df.as_ref())?;
    let out = match args.format() {
        Format::Text => {
            // Fit a terminal's width; a file or a pipe gets whole lines.
            let width = (args.output.is_none() && std::io::stdout().is_terminal())
                .then(|| crossterm::terminal::size().ok())
                .flatten()
                .map(|(w, _)| usize::from(w));
            let mut out = String::new();
            report::text::write_with(
                &analysis,
                report::text::TextOptions {
                    width,
                    limit: args.limit(),
                },
                &mut out,
            )
            .map_err(report::RenderError::from)?;
            out
        }
        f => report::render(&analysis, f)?,
    };
    emit(&out, args.output.as_deref())?;
    if let Some(h) = &args.history {
        let record =
            crate::trend::Record::from_report(&report::json::Report::from_analysis(&analysis));
        crate::trend::append(h, &record)?;
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// `layersift cache [info|prune]`.
fn cache(args: &CacheArgs) -> anyhow::Result<ExitCode> {
    use crate::cache::{Cache, DEFAULT_MAX_BYTES};
    use crate::units::human_bytes;
    let opts = args.cache();
    let Some(dir) = opts.dir() else {
        anyhow::bail!("no cache directory: `--no-cache` was given, or neither `--cache-dir`, XDG_CACHE_HOME nor HOME is set");
    };
    // Pruning to a limit the user mistyped would delete the wrong amount: an error here.
    let limit = match (&args.action, opts.max_size()) {
        (Some(CacheAction::Prune { .. }), Err(e)) => anyhow::bail!(e),
        (_, limit) => limit.unwrap_or_else(|_| opts.max_size_or_warn()),
    }
    .unwrap_or(DEFAULT_MAX_BYTES);
    if !dir.join("v1").is_dir() {
        emit(&format!("cache   {} (empty)\n", dir.display()), None)?;
        return Ok(ExitCode::from(EXIT_OK));
    }
    let cache = Cache::open(&dir, None)?;
    let out = match args.action.clone().unwrap_or(CacheAction::Info) {
        CacheAction::Info => {
            let u = cache.usage();
            format!(
                "cache   {}\nblobs   {} ({})\nlayers  {} decoded ({})\ntotal   {} of {} allowed\n",
                dir.display(),
                u.blobs,
                human_bytes(u.blob_bytes),
                u.layers,
                human_bytes(u.layer_bytes),
                human_bytes(u.bytes()),
                human_bytes(limit),
            )
        }
        CacheAction::Prune { max_size, all } => {
            let keep = if all { 0 } else { max_size.unwrap_or(limit) };
            let t = cache.trim(keep);
            format!(
                "removed {} entries ({}); {} left in {}\n",
                t.removed,
                human_bytes(t.freed_bytes),
                human_bytes(t.kept_bytes),
                dir.display()
            )
        }
    };
    emit(&out, None)?;
    Ok(ExitCode::from(EXIT_OK))
}

/// One side of a diff or check: a saved report as it is, or an image analysed into one.
pub(crate) fn load_report(arg: &str, source: &SourceArgs) -> anyhow::Result<report::json::Report> {
    if saved::is_report_file(arg) {
        Ok(saved::read_report(arg)?)
    } else {
        let a = load(arg, source)?;
        Ok(report::json::Report::from_analysis(&a))
    }
}

fn check(args: &CheckArgs, source: &SourceArgs) -> anyhow::Result<ExitCode> {
    // Config first: a bad config is an error before any image work.
    let mut cfg = crate::config::CheckConfig::discover(args.config.as_deref())?;
    let g = &mut cfg.growth;
    g.max_content = args.max_growth.or(g.max_content);
    g.max_compressed = args.max_compressed_growth.or(g.max_compressed);
    g.max_waste = args.max_waste_growth.or(g.max_waste);
    let df = read_dockerfile(&args.dockerfile)?;
    let (baseline, current) = match &args.baseline {
        _ if df.is_some() => {
            if saved::is_report_file(&args.image) {
                anyhow::bail!(
                    "`--dockerfile` needs an image to map, not the saved report `{}`",
                    args.image
                );
            }
            let current =
                report::json::Report::from_analysis(&load_with(&args.image, source, df.as_ref())?);
            let baseline = match &args.baseline {
                Some(b) => Some(load_report(b, source)?),
                None => None,
            };
            (baseline, current)
        }
        Some(b) => {
            let (b, c) = load_pair(b, &args.image, source)?;
            (Some(b), c)
        }
        None => (None, load_report(&args.image, source)?),
    };
    if let Some(p) = &args.save_report {
        emit(&report::json::to_json(&current)?, Some(p))?;
    }
    if let Some(h) = &args.history {
        crate::trend::append(h, &crate::trend::Record::from_report(&current))?;
    }
    let result = crate::check::evaluate(&cfg, &current, baseline.as_ref());
    let out = match args.format {
        crate::check::CheckFormat::Text => result.render(),
        crate::check::CheckFormat::Json => result.to_json(&cfg.origin.name())?,
    };
    emit(&out, None)?;
    let failed = result.failed();
    let _ = writeln!(
        std::io::stderr(),
        "{} (rules from {})",
        result.summary(),
        cfg.origin
    );
    Ok(ExitCode::from(if failed == 0 {
        EXIT_OK
    } else {
        EXIT_RULE_FAILED
    }))
}

/// Loads a baseline (OLD) and a current (NEW) side: saved reports are read as they are; when
/// both are images, their shared layers are decoded once and all layers in parallel.
fn load_pair(
    old: &str,
    new: &str,
    source: &SourceArgs,
) -> anyhow::Result<(report::json::Report, report::json::Report)> {
    if saved::is_report_file(old) || saved::is_report_file(new) {
        return Ok((load_report(old, source)?, load_report(new, source)?));
    }
    let opts = source.open_options();
    let progress = StderrProgress::new();
    let tty = std::io::stderr().is_terminal();
    let p: &dyn Progress = if tty { &progress } else { &NoProgress };
    let r = crate::analyze_references(&[old, new], &opts, p);
    if tty {
        progress.clear();
    }
    let mut both = r.map_err(|(n, e)| match e {
        crate::Error::Source { .. } => anyhow::Error::new(e),
        e => {
            let which = if n == 0 { old } else { new };
            anyhow::Error::new(e).context(format!("cannot analyse `{which}`"))
        }
    })?;
    let n = both.pop().map(|a| report::json::Report::from_analysis(&a));
    let o = both.pop().map(|a| report::json::Report::from_analysis(&a));
    match (o, n) {
        (Some(o), Some(n)) => Ok((o, n)),
        _ => anyhow::bail!("internal: two images asked, fewer analysed"),
    }
}

fn diff(args: &DiffArgs, source: &SourceArgs) -> anyhow::Result<ExitCode> {
    let (old, new) = load_pair(&args.old, &args.new, source)?;
    let d = crate::diff::compare(&old, &new, args.limit);
    emit(
        &crate::diff::render::render(&d, args.format())?,
        args.output.as_deref(),
    )?;
    Ok(ExitCode::from(EXIT_OK))
}

fn trend(args: &TrendArgs) -> anyhow::Result<ExitCode> {
    let history = crate::trend::read_lenient(&args.file)?;
    if let Some(w) = history.warning(&args.file) {
        let _ = writeln!(std::io::stderr(), "{w}");
    }
    let records = &history.records;
    if records.is_empty() {
        let _ = writeln!(
            std::io::stderr(),
            "note: `{}` has no records yet; `analyze --history` and `check --history` append them",
            args.file.display()
        );
    }
    // The chart first: an unwritable path fails before anything is printed.
    if let Some(svg) = &args.svg {
        let groups = crate::trend::series(records);
        let last = records
            .last()
            .map(|r| crate::trend::series_key(&r.reference));
        let chart: Vec<_> = groups
            .iter()
            .find(|(k, _)| Some(k) == last.as_ref())
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        if groups.len() > 1 {
            let _ = writeln!(
                std::io::stderr(),
                "note: the chart shows `{}`, the image recorded last; the file holds {} images",
                last.unwrap_or_default(),
                groups.len()
            );
        }
        crate::trend::render_svg(&chart, svg)?;
    }
    emit(&crate::trend::render_tables(records), None)?;
    Ok(ExitCode::from(EXIT_OK))
}

/// Opens the terminal UI; it needs a terminal on stdout.
fn explore(
    image: &str,
    source: &crate::cli::SourceArgs,
    dockerfile: &DockerfileArgs,
) -> anyhow::Result<ExitCode> {
    // A bad Dockerfile is an error before the terminal is taken over.
    let df = read_dockerfile(dockerfile)?;
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "`layersift explore` needs a terminal on stdout; for a report use `layersift analyze {image}`"
        );
    }
    Ok(ExitCode::from(match crate::tui::run(image, source, df)? {
        crate::tui::Ended::Quit => EXIT_OK,
        crate::tui::Ended::Interrupted => EXIT_INTERRUPTED,
    }))
}

/// Reads `--dockerfile` (with `--target` and `--build-arg`): the file and the stage built.
pub fn read_dockerfile(
    args: &DockerfileArgs,
) -> anyhow::Result<Option<(crate::dockerfile::Dockerfile, usize)>> {
    let Some(path) = &args.dockerfile else {
        return Ok(None);
    };
    let df = crate::dockerfile::Dockerfile::read(path, &args.build_args)?;
    let stage = df.target(args.target.as_deref())?;
    Ok(Some((df, stage)))
}

/// Resolves and analyses an image, with progress on stderr when it is a terminal.
pub(crate) fn load(image: &str, source: &SourceArgs) -> anyhow::Result<crate::Analysis> {
    load_with(image, source, None)
}

/// [`load`] with the Dockerfile the image was built from.
pub(crate) fn load_with(
    image: &str,
    source: &SourceArgs,
    dockerfile: Option<&(crate::dockerfile::Dockerfile, usize)>,
) -> anyhow::Result<crate::Analysis> {
    let opts = source.open_options();
    let progress = StderrProgress::new();
    let df = dockerfile.map(|(d, s)| (d, *s));
    let a = if std::io::stderr().is_terminal() {
        let a = crate::analyze_reference_with(image, &opts, &progress, df);
        progress.clear();
        a
    } else {
        crate::analyze_reference_with(image, &opts, &NoProgress, df)
    };
    let a = a?;
    if let Some(ctx) = &a.dockerfile {
        let m = &ctx.mapping;
        if m.unmapped() > 0 {
            let _ = writeln!(
                std::io::stderr(),
                "note: {} of {} layers match no line of `{}`; the report says why for each",
                m.unmapped(),
                m.layers.len(),
                ctx.dockerfile.path.display()
            );
        }
    }
    for (i, l) in a.layers.iter().enumerate().filter(|(_, l)| l.is_foreign()) {
        let _ = writeln!(
            std::io::stderr(),
            "warning: layer {i} (`{}`) is a foreign layer, not part of the image: skipped, its files are not counted",
            crate::sanitize::for_terminal(&l.digest)
        );
    }
    Ok(a)
}

/// Writes data to a file or stdout. A closed stdout (`| head`) is not an error.
pub(crate) fn emit(data: &str, path: Option<&std::path::Path>) -> anyhow::Result<()> {
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
    // Messages quote names an image or a file controls: shown escaped, secrets redacted.
    let safe = |m: String| crate::sanitize::for_terminal_lines(&m).into_owned();
    let _ = writeln!(err, "error: {}", safe(e.to_string()));
    let mut hint = None;
    for cause in e.chain() {
        if let Some(le) = cause.downcast_ref::<crate::Error>() {
            hint = hint.or_else(|| le.hint());
        }
        if let Some(se) = cause.downcast_ref::<crate::source::SourceError>() {
            hint = hint.or_else(|| se.hint());
        }
        if let Some(ce) = cause.downcast_ref::<crate::config::ConfigError>() {
            hint = hint.or_else(|| ce.hint());
        }
        if let Some(te) = cause.downcast_ref::<crate::trend::TrendError>() {
            hint = hint.or_else(|| te.hint());
        }
        if let Some(re) = cause.downcast_ref::<saved::ReportFileError>() {
            hint = hint.or_else(|| re.hint());
        }
        if let Some(de) = cause.downcast_ref::<crate::dockerfile::DockerfileError>() {
            hint = hint.or_else(|| de.hint());
        }
    }
    for cause in e.chain().skip(1) {
        let _ = writeln!(err, "  Caused by: {}", safe(cause.to_string()));
    }
    if let Some(h) = hint {
        let _ = writeln!(err, "hint: {}", safe(h));
    }
}

/// Per-layer progress (bytes read of each layer in flight, total and rate) as one
/// self-rewriting stderr line, redrawn at most ten times a second.
struct StderrProgress {
    start: Instant,
    state: Mutex<ProgressState>,
}

#[derive(Default)]
struct ProgressState {
    /// Layer → (bytes read, blob size, done).
    layers: BTreeMap<usize, (u64, u64, bool)>,
    last_draw: Option<Instant>,
}

impl StderrProgress {
    fn new() -> Self {
        StderrProgress {
            start: Instant::now(),
            state: Mutex::new(ProgressState::default()),
        }
    }

    fn update(&self, f: impl FnOnce(&mut ProgressState), force: bool) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        f(&mut st);
        let now = Instant::now();
        if !force
            && st
                .last_draw
                .is_some_and(|t| now.duration_since(t) < Duration::from_millis(100))
        {
            return;
        }
        st.last_draw = Some(now);
        let read: u64 = st.layers.values().map(|l| l.0).sum();
        let total: u64 = st.layers.values().map(|l| l.1).sum();
        let done = st.layers.values().filter(|l| l.2).count();
        let secs = now.duration_since(self.start).as_secs_f64().max(0.001);
        let mut line = format!(
            "layers {done}/{} · {} of {} · {}/s",
            st.layers.len(),
            crate::units::human_bytes(read),
            crate::units::human_bytes(total),
            crate::units::human_bytes((read as f64 / secs) as u64),
        );
        for (i, (r, t, _)) in st.layers.iter().filter(|(_, l)| !l.2).take(4) {
            let pct = if *t == 0 { 100 } else { r * 100 / t };
            line.push_str(&format!(" · layer {i} {pct}%"));
        }
        let _ = write!(std::io::stderr(), "\r\x1b[2K{line}");
    }

    fn clear(&self) {
        let _ = write!(std::io::stderr(), "\r\x1b[2K");
    }
}

impl Progress for StderrProgress {
    fn layer_started(&self, layer: usize, total: u64) {
        self.update(|st| _ = st.layers.insert(layer, (0, total, false)), false);
    }

    fn advanced(&self, layer: usize, bytes_read: u64) {
        self.update(
            |st| {
                if let Some(l) = st.layers.get_mut(&layer) {
                    l.0 = bytes_read;
                }
            },
            false,
        );
    }

    fn layer_done(&self, layer: usize) {
        self.update(
            |st| {
                if let Some(l) = st.layers.get_mut(&layer) {
                    l.0 = l.0.max(l.1);
                    l.2 = true;
                }
            },
            true,
        );
    }
}
