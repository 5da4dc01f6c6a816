//! The process: runs the command the user asked for, owns stdout/stderr and exit codes.
//!
//! Exit codes are a contract: 0 success (or all check rules passed), 1 a check rule failed,
//! 2 an error (bad input, bad image, bad config), 130 interrupted (Ctrl+C in the terminal UI
//! while loading).

mod base;
mod content;
mod fix;

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
        Some(Command::Explore(args)) if args.new.is_some() => explore_compare(&args),
        Some(Command::Explore(args)) => explore(
            &args.image,
            args.base.as_deref(),
            args.config.as_deref(),
            &args.source,
            &args.dockerfile,
        ),
        Some(Command::Fix(args)) => fix::run(&args, &args.source),
        Some(Command::Check(args)) => check(&args, &args.source),
        Some(Command::Diff(args)) => diff(&args, &args.source),
        Some(Command::Trend(args)) => trend(&args),
        Some(Command::Cat(args)) => content::cat(&args, &args.source),
        Some(Command::Extract(args)) => content::extract(&args, &args.source),
        Some(Command::Cache(args)) => cache(&args),
        Some(Command::Completions { shell }) => {
            use clap::CommandFactory as _;
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "layersift", &mut buf);
            emit(&String::from_utf8_lossy(&buf), None)?;
            Ok(ExitCode::from(EXIT_OK))
        }
        Some(Command::Man) => {
            use clap::CommandFactory as _;
            let mut buf = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut buf)
                .context("cannot render the man page")?;
            emit(&String::from_utf8_lossy(&buf), None)?;
            Ok(ExitCode::from(EXIT_OK))
        }
        None => match cli.image {
            Some(image) if std::io::stdout().is_terminal() => {
                explore(&image, None, None, &cli.source, &DockerfileArgs::default())
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
                    base: None,
                    max_chars: report::fit::DEFAULT_MAX_CHARS,
                };
                analyze(&args, &cli.source)
            }
            None => anyhow::bail!("no image given; try `layersift --help`"),
        },
    }
}

fn analyze(args: &AnalyzeArgs, source: &SourceArgs) -> anyhow::Result<ExitCode> {
    let df = read_dockerfile(&args.dockerfile)?;
    let mut analysis = load_with(&args.image, source, df.as_ref())?;
    analysis.base = base::choose(
        args.base.as_deref(),
        &analysis.image,
        &layer_ids(&analysis),
        source,
    )?;
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
        // Streamed: a large image's `files` rows are never all in memory.
        Format::Json => {
            emit_json(&analysis, args.output.as_deref())?;
            String::new()
        }
        Format::Markdown => report::markdown::render_fit(&analysis, args.max_chars)
            .map_err(report::RenderError::from)?,
        Format::Github => {
            step_summary(
                &report::markdown::render_fit(&analysis, args.max_chars)
                    .map_err(report::RenderError::from)?,
            )?;
            report::render(&analysis, Format::Github)?
        }
        f => report::render(&analysis, f)?,
    };
    if args.format() != Format::Json {
        emit(&out, args.output.as_deref())?;
    }
    if let Some(h) = &args.history {
        let record =
            // Totals only: the trend record reads no file rows.
            crate::trend::Record::from_report(&report::json::Report::from_analysis_without_files(
                &analysis,
            ));
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
    let (baseline, mut current, inventory) = match &args.baseline {
        _ if df.is_some() => {
            if saved::is_report_file(&args.image) {
                anyhow::bail!(
                    "`--dockerfile` needs an image to map, not the saved report `{}`",
                    args.image
                );
            }
            let (r, inv) = load_checked(&args.image, source, df.as_ref())?;
            let baseline = match &args.baseline {
                Some(b) => Some(load_report(b, source)?),
                None => None,
            };
            (baseline, r, inv)
        }
        Some(b) => load_pair(b, &args.image, source, true)?,
        None => {
            let (r, inv) = load_checked(&args.image, source, None)?;
            (None, r, inv)
        }
    };
    base::settle(&mut current, args.base.as_deref(), source)?;
    if cfg.scope == crate::config::Scope::Own && current.base.is_none() {
        return Err(crate::config::ConfigError::Value {
            path: std::path::PathBuf::from(cfg.origin.name()),
            key: "scope".to_string(),
            value: "own".to_string(),
            message: "the image has no known base: pass `--base IMAGE|REPORT`, or check a \
                      report made with `analyze --base`"
                .to_string(),
        }
        .into());
    }
    let inventory = inventory.unwrap_or_else(|| crate::policy::Inventory::from_report(&current));
    if let Some(p) = &args.save_report {
        emit(&report::json::to_json(&current)?, Some(p))?;
    }
    if let Some(h) = &args.history {
        crate::trend::append(h, &crate::trend::Record::from_report(&current))?;
    }
    let result = crate::check::evaluate_with(&cfg, &current, baseline.as_ref(), &inventory);
    use crate::check::CheckFormat;
    let out = match args.format {
        CheckFormat::Text => result.render(),
        CheckFormat::Json => result.to_json(&cfg.origin.name())?,
        CheckFormat::Junit => report::junit::render(&current.image.reference, &result),
        CheckFormat::Sarif => report::sarif::render(&current, Some(&result))?,
        CheckFormat::Gitlab => report::gitlab::render(&current, Some(&result))?,
        CheckFormat::Github => {
            step_summary(&report::github::check_summary(&current, &result))?;
            report::github::check(&result)
        }
    };
    emit(&out, args.output.as_deref())?;
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

/// The image (or saved report) `check` gates, with every path of every layer when it is an
/// image (a saved report lists only visible files; the rules then use those).
fn load_checked(
    arg: &str,
    source: &SourceArgs,
    dockerfile: Option<&(crate::dockerfile::Dockerfile, usize)>,
) -> anyhow::Result<(report::json::Report, Option<crate::policy::Inventory>)> {
    if saved::is_report_file(arg) {
        Ok((saved::read_report(arg)?, None))
    } else {
        let a = load_with(arg, source, dockerfile)?;
        let inv = crate::policy::Inventory::from_analysis(&a);
        Ok((report::json::Report::from_analysis(&a), Some(inv)))
    }
}

/// Loads a baseline (OLD) and a current (NEW) side: saved reports are read as they are; when
/// both are images, their shared layers are decoded once and all layers in parallel. With
/// `inventory`, also every path of NEW's layers when NEW is an image.
type Pair = (
    Option<report::json::Report>,
    report::json::Report,
    Option<crate::policy::Inventory>,
);

fn load_pair(old: &str, new: &str, source: &SourceArgs, inventory: bool) -> anyhow::Result<Pair> {
    if saved::is_report_file(old) || saved::is_report_file(new) {
        let (n, inv) = if inventory {
            load_checked(new, source, None)?
        } else {
            (load_report(new, source)?, None)
        };
        return Ok((Some(load_report(old, source)?), n, inv));
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
    let n = both.pop();
    let o = both.pop().map(|a| report::json::Report::from_analysis(&a));
    match (o, n) {
        (Some(o), Some(n)) => {
            let inv = inventory.then(|| crate::policy::Inventory::from_analysis(&n));
            Ok((Some(o), report::json::Report::from_analysis(&n), inv))
        }
        _ => anyhow::bail!("internal: two images asked, fewer analysed"),
    }
}

fn diff(args: &DiffArgs, source: &SourceArgs) -> anyhow::Result<ExitCode> {
    if args.file.is_some() {
        return content::diff_file(args, source);
    }
    let Some(new) = &args.new else {
        anyhow::bail!("`diff` needs two images or reports (or `--file PATH --layers A B`)");
    };
    let (old, mut new, _) = load_pair(&args.old, new, source, false)?;
    let Some(mut old) = old else {
        anyhow::bail!("internal: the old side of a diff was not loaded");
    };
    match args.base.as_deref() {
        Some(b) if b != base::NO_BASE => base::split_both(b, &mut old, &mut new, source)?,
        b => {
            base::settle(&mut old, b, source)?;
            base::settle(&mut new, b, source)?;
        }
    }
    let d = crate::diff::compare(&old, &new, args.limit);
    let format = args.format();
    let mut out = crate::diff::render::render(&old, &new, &d, format)?;
    if format == Format::Markdown {
        out = report::fit::cut(
            &out,
            args.max_chars,
            "`layersift diff OLD NEW --format json`",
        );
    }
    emit(&out, args.output.as_deref())?;
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
    match args.format {
        crate::cli::TrendFormat::Text => emit(
            &crate::trend::render_tables(records),
            args.output.as_deref(),
        )?,
        crate::cli::TrendFormat::Html => {
            let mut page = String::new();
            crate::trend::html::write(records, &mut page)?;
            emit(&page, args.output.as_deref())?
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// `explore OLD NEW`: both sides analysed (or read from saved reports), then the TUI on
/// their difference. Only the reports are kept, so memory is that of the two file lists.
fn explore_compare(args: &crate::cli::ExploreArgs) -> anyhow::Result<ExitCode> {
    let settings = crate::tui::load_settings(args.config.as_deref())?;
    if args.base.is_some() || args.dockerfile.dockerfile.is_some() {
        anyhow::bail!(
            "`--base` and `--dockerfile` explore one image; compare mode (`explore OLD NEW`) takes neither (`layersift diff OLD NEW --base IMAGE` splits a comparison at a base)"
        );
    }
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "`layersift explore OLD NEW` needs a terminal on stdout; for a report use `layersift diff OLD NEW`"
        );
    }
    let Some(new) = args.new.as_deref() else {
        anyhow::bail!("internal: compare mode without a new side");
    };
    let (old, new, _) = load_pair(&args.image, new, &args.source, false)?;
    let Some(old) = old else {
        anyhow::bail!("internal: the old side of a comparison was not loaded");
    };
    let d = crate::diff::compare(&old, &new, usize::MAX);
    let runtimes = [old.image.runtime.clone(), new.image.runtime.clone()];
    drop(old);
    Ok(ExitCode::from(
        match crate::tui::run_compare(d, &new.files, runtimes, &settings)? {
            crate::tui::Ended::Quit => EXIT_OK,
            crate::tui::Ended::Interrupted => EXIT_INTERRUPTED,
        },
    ))
}

/// Opens the terminal UI; it needs a terminal on stdout.
fn explore(
    image: &str,
    base: Option<&str>,
    config: Option<&std::path::Path>,
    source: &crate::cli::SourceArgs,
    dockerfile: &DockerfileArgs,
) -> anyhow::Result<ExitCode> {
    // The config first: a bad one is an error before anything else happens.
    let settings = crate::tui::load_settings(config)?;
    // A bad Dockerfile is an error before the terminal is taken over.
    let df = read_dockerfile(dockerfile)?;
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "`layersift explore` needs a terminal on stdout; for a report use `layersift analyze {image}`"
        );
    }
    let base = match base {
        Some(base::NO_BASE) => None,
        Some(b) => Some((b.to_string(), base_diff_ids(b, source)?)),
        None => base::annotated_for_explore(image, source),
    };
    Ok(ExitCode::from(
        match crate::tui::run(image, base, source, &settings, df)? {
            crate::tui::Ended::Quit => EXIT_OK,
            crate::tui::Ended::Interrupted => EXIT_INTERRUPTED,
        },
    ))
}

/// The diff_ids of an analysed image's layers, bottom first.
pub(crate) fn layer_ids(a: &crate::Analysis) -> Vec<String> {
    a.layers.iter().map(|l| l.diff_id.clone()).collect()
}

/// The layer diff_ids of a base: a saved report's, or an image's from its config (nothing
/// is decoded).
pub(crate) fn base_diff_ids(base: &str, source: &SourceArgs) -> anyhow::Result<Vec<String>> {
    base_diff_ids_with(base, &source.open_options())
}

/// As [`base_diff_ids`], with the options given (an optional lookup asks for no retries).
pub(crate) fn base_diff_ids_with(
    base: &str,
    opts: &crate::source::OpenOptions,
) -> anyhow::Result<Vec<String>> {
    if saved::is_report_file(base) {
        let r = saved::read_report(base)?;
        return Ok(r.layers.into_iter().map(|l| l.diff_id).collect());
    }
    let wrap = |source| crate::Error::Source {
        reference: base.to_string(),
        source,
    };
    let r = crate::source::ImageRef::parse(base).map_err(wrap)?;
    let image = crate::source::open(&r, opts).map_err(wrap)?;
    Ok(image
        .layers
        .into_iter()
        .map(|l| l.diff_id.unwrap_or_default())
        .collect())
}

/// Matches a base (`--base`) against an image's layer diff_ids.
pub(crate) fn resolve_base(
    base: &str,
    image_ids: &[String],
    source: &SourceArgs,
) -> anyhow::Result<crate::base::Base> {
    let ids = base_diff_ids(base, source)?;
    let n = crate::base::match_prefix(base, &ids, image_ids)?;
    Ok(crate::base::Base {
        reference: base.to_string(),
        layer_count: n,
    })
}

/// Resolves and analyses an image, keeping its blob store for content access, with
/// progress on stderr when it is a terminal.
pub(crate) fn load_image(
    image: &str,
    source: &SourceArgs,
) -> anyhow::Result<(crate::source::Image, crate::Analysis)> {
    let opts = source.open_options();
    let progress = StderrProgress::new();
    let r = if std::io::stderr().is_terminal() {
        let r = crate::analyze_image(image, &opts, &progress);
        progress.clear();
        r
    } else {
        crate::analyze_image(image, &opts, &NoProgress)
    };
    Ok(r?)
}

/// Reads `--dockerfile` (with `--target` and `--build-arg`): the file and the stage built.
pub(crate) fn read_dockerfile(
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

/// Appends markdown to the GitHub job summary (`$GITHUB_STEP_SUMMARY`) when it is set.
fn step_summary(markdown: &str) -> anyhow::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let path = std::path::PathBuf::from(path);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot open the job summary `{}`", path.display()))?;
    f.write_all(markdown.as_bytes())
        .and_then(|()| f.write_all(b"\n"))
        .with_context(|| format!("cannot write the job summary `{}`", path.display()))
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

/// Writes the JSON report to `path` (stdout when `None`) as it is made, without holding it
/// in memory; a closed pipe on stdout is a normal end, as in [`emit`].
fn emit_json(a: &crate::Analysis, path: Option<&std::path::Path>) -> anyhow::Result<()> {
    let write = |w: &mut dyn Write| -> std::io::Result<()> {
        let mut w = std::io::BufWriter::with_capacity(1 << 16, w);
        report::json::write(a, &mut w)?;
        w.flush()
    };
    match path {
        Some(p) => std::fs::File::create(p)
            .and_then(|mut f| write(&mut f))
            .with_context(|| format!("cannot write `{}`", p.display())),
        None => match write(&mut std::io::stdout().lock()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(e).context("cannot write to stdout")
            }
            _ => Ok(()),
        },
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
        if let Some(be) = cause.downcast_ref::<crate::base::BaseError>() {
            hint = hint.or_else(|| be.hint());
        }
        if let Some(re) = cause.downcast_ref::<saved::ReportFileError>() {
            hint = hint.or_else(|| re.hint());
        }
        if let Some(de) = cause.downcast_ref::<crate::dockerfile::DockerfileError>() {
            hint = hint.or_else(|| de.hint());
        }
        if let Some(ce) = cause.downcast_ref::<crate::content::ContentError>() {
            hint = hint.or_else(|| ce.hint());
        }
        if let Some(se) = cause.downcast_ref::<crate::tui::SettingsError>() {
            hint = hint.or_else(|| se.hint());
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
    /// Layers whose decoding has begun (the others wait their turn).
    started: std::collections::BTreeSet<usize>,
    last_draw: Option<Instant>,
}

impl ProgressState {
    /// `layers 1/5 · 2.0 MB of 9.0 MB · 4.0 MB/s · #3 40%`: every layer of the image counts,
    /// waiting ones too; the percentages are of layers in flight.
    fn line(&self, secs: f64) -> String {
        let read: u64 = self.layers.values().map(|l| l.0).sum();
        let total: u64 = self.layers.values().map(|l| l.1).sum();
        let done = self.layers.values().filter(|l| l.2).count();
        let mut line = format!(
            "layers {done}/{} · {} of {} · {}/s",
            self.layers.len(),
            crate::units::human_bytes(read),
            crate::units::human_bytes(total),
            crate::units::human_bytes((read as f64 / secs) as u64),
        );
        for (i, (r, t, _)) in self
            .layers
            .iter()
            .filter(|(i, l)| !l.2 && self.started.contains(i))
            .take(4)
        {
            let pct = if *t == 0 { 100 } else { r * 100 / t };
            line.push_str(&format!(" · layer {i} {pct}%"));
        }
        line
    }
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
        let secs = now.duration_since(self.start).as_secs_f64().max(0.001);
        let line = st.line(secs);
        let _ = write!(std::io::stderr(), "\r\x1b[2K{line}");
    }

    fn clear(&self) {
        let _ = write!(std::io::stderr(), "\r\x1b[2K");
    }
}

impl Progress for StderrProgress {
    fn layers_known(&self, layers: &[(usize, u64)]) {
        self.update(
            |st| {
                for &(i, size) in layers {
                    st.layers.entry(i).or_insert((0, size, false));
                }
            },
            false,
        );
    }

    fn layer_started(&self, layer: usize, total: u64) {
        self.update(
            |st| {
                st.layers.insert(layer, (0, total, false));
                st.started.insert(layer);
            },
            false,
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_counts_every_layer_of_the_image() {
        let p = StderrProgress::new();
        let sizes: Vec<(usize, u64)> = (0..5).map(|i| (i, 1000)).collect();
        p.layers_known(&sizes);
        p.layer_started(2, 1000);
        p.advanced(2, 400);
        p.layer_started(0, 1000);
        p.layer_done(0);
        let line = p.state.lock().unwrap().line(1.0);
        assert!(line.starts_with("layers 1/5 · 1.4 kB of 5.0 kB"), "{line}");
        assert!(
            line.ends_with(" · layer 2 40%"),
            "only layers in flight: {line}"
        );
    }
}
