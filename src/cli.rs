//! Command-line arguments (clap derive). Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, CommandFactory as _, Parser, Subcommand};

use crate::cache::Cache;
use crate::config::Growth;
use crate::report::Format;
use crate::source::{Credentials, OpenOptions, Platform};

/// Find the bytes a container image ships for nothing, the build step that put them there,
/// and how to stop shipping them.
///
/// IMAGE uses skopeo's transport names: `oci:DIR[:REF]`, `oci-archive:PATH[:REF]`,
/// `docker-archive:PATH[:NAME:TAG]`, `docker://NAME[:TAG|@DIGEST]`, `podman:NAME`,
/// `docker-daemon:NAME`. An existing path without a transport is recognised by its content.
#[derive(Debug, Parser)]
#[command(name = "layersift", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Image to explore (opens the terminal UI when stdout is a terminal, else prints the
    /// text report).
    pub image: Option<String>,

    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse an image and print a report.
    #[command(visible_alias = "analyse")]
    Analyze(AnalyzeArgs),
    /// Explore an image in the terminal UI (layers, file trees, waste, suggestions).
    Explore(ExploreArgs),
    /// Gate an image in CI: one PASS/FAIL line per rule; exit 1 when a rule fails.
    ///
    /// Rules come from `--config FILE`, else `layersift.toml` (`[check]` table), else dive's
    /// `.dive-ci`, in the current directory; without any, only "no secrets" is checked.
    Check(CheckArgs),
    /// Compare two images (or saved JSON reports): sizes, layers, directories, files, findings.
    Diff(DiffArgs),
    /// Show a size history written by `--history`: a table with a chart, or an SVG.
    Trend(TrendArgs),
    /// Write one file's bytes to stdout: the final version, or the one a layer shipped
    /// (`--layer N`), even if a later layer deleted or overwrote it.
    Cat(CatArgs),
    /// Write files, directories and symlinks under a directory: the final filesystem
    /// (whiteouts applied), or what one layer shipped (`--layer N`).
    Extract(ExtractArgs),
    /// Show what the layer cache holds (decoded layers of every image, registry blobs), or
    /// trim it.
    Cache(CacheArgs),
    /// Turn the mechanical suggestions into a patch of the Dockerfile (and `.dockerignore`):
    /// a unified diff for `git apply` or `patch -p1`, one hunk per suggestion.
    Fix(FixArgs),
    /// Print a shell completion script, e.g.
    /// `layersift completions bash > ~/.local/share/bash-completion/completions/layersift`.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `layersift man > ~/.local/share/man/man1/layersift.1`.
    Man,
}

/// The Dockerfile an image was built from.
#[derive(Debug, Clone, Default, Args)]
pub struct DockerfileArgs {
    /// The Dockerfile (or Containerfile) the image was built from: every layer is tied to
    /// the line that made it, and findings and suggestions cite `Dockerfile:LINE`.
    #[arg(long, value_name = "PATH")]
    pub dockerfile: Option<PathBuf>,

    /// The stage that was built (`docker build --target`); default the last.
    #[arg(long, value_name = "STAGE", requires = "dockerfile")]
    pub target: Option<String>,

    /// A build argument the build was given, NAME=VALUE (repeatable).
    #[arg(long = "build-arg", value_name = "NAME=VALUE", requires = "dockerfile", value_parser = parse_build_arg)]
    pub build_args: Vec<(String, String)>,
}

fn parse_build_arg(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
}

#[derive(Debug, Args)]
pub struct FixArgs {
    /// The image built from the Dockerfile.
    pub image: String,

    #[command(flatten)]
    pub dockerfile: DockerfileArgs,

    /// Write the patch to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "PATCH")]
    pub output: Option<PathBuf>,

    /// List the hunks (what each changes and saves) without writing the patch.
    #[arg(long)]
    pub dry_run: bool,

    /// Keep package caches in `RUN --mount=type=cache` mounts instead of disabling them.
    #[arg(long)]
    pub cache_mounts: bool,

    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub action: Option<CacheAction>,

    #[command(flatten)]
    cache_opts: CacheCmdOpts,
}

/// [`CacheOpts`] for `layersift cache`, where they may also follow `prune`.
#[derive(Debug, Clone, Default, Args)]
struct CacheCmdOpts {
    /// The cache directory (default: `$XDG_CACHE_HOME/layersift`).
    #[arg(long, global = true, value_name = "DIR", env = "LAYERSIFT_CACHE_DIR")]
    cache_dir: Option<PathBuf>,

    /// Largest size the cache may keep, e.g. `20GB` (default 10 GB; env:
    /// LAYERSIFT_CACHE_MAX_SIZE).
    #[arg(long, global = true, value_name = "SIZE", value_parser = crate::config::parse_size)]
    cache_max_size: Option<u64>,
}

impl CacheArgs {
    /// The cache options given.
    pub fn cache(&self) -> CacheOpts {
        CacheOpts {
            cache_dir: self.cache_opts.cache_dir.clone(),
            no_cache: false,
            cache_max_size: self.cache_opts.cache_max_size,
        }
    }
}

#[derive(Debug, Clone, Subcommand)]
pub enum CacheAction {
    /// Where the cache is and what it holds (the default).
    Info,
    /// Delete least recently used entries until the cache fits `--max-size` (default: the
    /// `--cache-max-size` limit), or everything with `--all`.
    Prune {
        /// Keep at most this much, e.g. `2GB`.
        #[arg(long, value_name = "SIZE", value_parser = crate::config::parse_size, conflicts_with = "all")]
        max_size: Option<u64>,
        /// Empty the cache.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Args)]
pub struct ExploreArgs {
    /// The image to explore; with NEW, the old side of a comparison (an image or a saved
    /// JSON report).
    pub image: String,

    /// Compare mode: the new image (or saved report), explored against IMAGE: layers
    /// aligned as shared, changed, added and removed; the new tree marked added, removed,
    /// grown or shrunk with byte deltas (`]` / `[` jump between changes).
    pub new: Option<String>,

    /// The base image (what the Dockerfile starts `FROM`): an image reference or a saved JSON
    /// report. Its layers must be the image's bottom layers (matched by diff_id); the rest
    /// are the image's own.
    #[arg(long, value_name = "IMAGE|REPORT")]
    pub base: Option<String>,

    /// A TUI config file (YAML; dive's config works): `keybinding:`, `filetree:`, `layer:`,
    /// `theme: dark|light`, `colors:`. Without it: the first of
    /// `$XDG_CONFIG_HOME/dive/*.yaml` and `~/.dive.yaml`, then
    /// `$XDG_CONFIG_HOME/layersift/tui.yaml`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub dockerfile: DockerfileArgs,

    #[command(flatten)]
    pub source: SourceArgs,
}

/// How to reach and pick the image. Only commands that open images take these.
#[derive(Debug, Clone, Default, Args)]
pub struct SourceArgs {
    /// Platform to pick from a multi-arch image, as os/arch[/variant] (default: the host's).
    #[arg(long, value_parser = parse_platform)]
    pub platform: Option<Platform>,

    /// Registry credentials as USER:PASSWORD; overrides `auth.json` and `~/.docker/config.json`.
    #[arg(long, value_name = "USER:PASSWORD", value_parser = parse_creds)]
    pub creds: Option<Credentials>,

    /// Require HTTPS with valid certificates for registries (default true; always plain HTTP
    /// for localhost). `--tls-verify=false` allows invalid certificates and plain HTTP.
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub tls_verify: Option<bool>,

    #[command(flatten)]
    pub cache: CacheOpts,
}

/// Where the layer cache lives and how large it may grow.
#[derive(Debug, Clone, Default, Args)]
pub struct CacheOpts {
    /// Cache directory for decoded layers of every image and for registry blobs (default:
    /// `$XDG_CACHE_HOME/layersift`).
    #[arg(long, value_name = "DIR", env = "LAYERSIFT_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Neither read nor write the cache (wins over `--cache-dir`).
    #[arg(long)]
    pub no_cache: bool,

    /// Largest size the cache may keep after a run, e.g. `20GB`, `500MiB` (default 10 GB;
    /// env: LAYERSIFT_CACHE_MAX_SIZE); least recently used entries go first.
    #[arg(long, value_name = "SIZE", value_parser = crate::config::parse_size)]
    pub cache_max_size: Option<u64>,
}

/// The environment variable that sets `--cache-max-size`.
pub(crate) const CACHE_MAX_SIZE_ENV: &str = "LAYERSIFT_CACHE_MAX_SIZE";

impl CacheOpts {
    /// The cache directory, unless `--no-cache`.
    pub fn dir(&self) -> Option<PathBuf> {
        if self.no_cache {
            None
        } else {
            self.cache_dir.clone().or_else(Cache::default_dir)
        }
    }

    /// `--cache-max-size`, else `$LAYERSIFT_CACHE_MAX_SIZE`; an error names the variable
    /// when its value is not a size.
    pub fn max_size(&self) -> Result<Option<u64>, String> {
        if let Some(n) = self.cache_max_size {
            return Ok(Some(n));
        }
        match std::env::var_os(CACHE_MAX_SIZE_ENV) {
            None => Ok(None),
            Some(v) => {
                let v = v.to_string_lossy();
                crate::config::parse_size(&v)
                    .map(Some)
                    .map_err(|e| format!("{CACHE_MAX_SIZE_ENV}: {e}"))
            }
        }
    }

    /// [`Self::max_size`], where a bad environment value is a warning on stderr: the cache
    /// limit only trims the cache afterwards, so it must not stop an analysis.
    pub fn max_size_or_warn(&self) -> Option<u64> {
        self.max_size().unwrap_or_else(|e| {
            eprintln!("warning: {e}; using the default limit");
            None
        })
    }
}

impl SourceArgs {
    pub fn open_options(&self) -> OpenOptions {
        OpenOptions {
            platform: self.platform.clone(),
            creds: self.creds.clone(),
            tls_verify: self.tls_verify,
            cache_dir: self.cache.dir(),
            cache_max_bytes: self.cache.max_size_or_warn(),
            registry_retries: None,
        }
    }
}

fn parse_creds(s: &str) -> Result<Credentials, String> {
    match s.split_once(':') {
        Some((user, _)) if !user.is_empty() => Credentials::parse(s),
        Some(_) => Err("the user name is empty; expected USER:PASSWORD".to_string()),
        None => Err(format!(
            "no `:` in `{}`; expected USER:PASSWORD (a password may contain `:`)",
            crate::excerpt::text(s, 20)
        )),
    }
}

fn parse_platform(s: &str) -> Result<Platform, String> {
    Platform::parse(s).ok_or_else(|| {
        format!("`{s}` is not a platform; expected os/arch[/variant], e.g. linux/arm64/v8")
    })
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The image to analyse.
    pub image: String,

    /// Output format (default: from the `-o` file's extension, else text).
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<Format>,

    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Append one size record (time, reference, digest, sizes, waste, efficiency) to this
    /// JSON Lines file, for `layersift trend`.
    #[arg(long, value_name = "FILE.jsonl")]
    pub history: Option<PathBuf>,

    #[command(flatten)]
    pub dockerfile: DockerfileArgs,

    /// Longest markdown output, in characters: lists are shortened and folded to fit (a
    /// GitHub comment holds at most 65,536).
    #[arg(long, value_name = "N", default_value_t = crate::report::fit::DEFAULT_MAX_CHARS)]
    pub max_chars: usize,

    /// The base image (what the Dockerfile starts `FROM`): an image reference or a saved JSON
    /// report. Its layers must be the image's bottom layers (matched by diff_id); the rest
    /// are the image's own. Default: the base the manifest's
    /// `org.opencontainers.image.base.digest`/`base.name` annotations name, when it can be
    /// read; `none` turns that off.
    #[arg(long, value_name = "IMAGE|REPORT")]
    pub base: Option<String>,

    /// How many findings and suggestions the text report lists (default: 8 findings, 3
    /// suggestions).
    #[arg(long, value_name = "N", conflicts_with = "all")]
    pub limit: Option<usize>,

    /// List every finding and suggestion in the text report.
    #[arg(long)]
    pub all: bool,

    #[command(flatten)]
    pub source: SourceArgs,
}

impl AnalyzeArgs {
    /// `--limit N`, or everything with `--all`.
    pub fn limit(&self) -> Option<usize> {
        if self.all {
            Some(usize::MAX)
        } else {
            self.limit
        }
    }

    /// `--format`, else the one the `-o` file's extension names, else text.
    pub fn format(&self) -> Format {
        self.format
            .or_else(|| self.output.as_deref().and_then(Format::from_path))
            .unwrap_or(Format::Text)
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The image to check, or a saved JSON report (`analyze --format json`).
    pub image: String,

    /// Rules file: a `layersift.toml` or dive's `.dive-ci` (recognised by name: `.dive-ci`,
    /// `*.yml`, `*.yaml` are dive's format).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The report (or image) to measure growth against, usually the main branch's report.
    #[arg(long, value_name = "REPORT.json")]
    pub baseline: Option<String>,

    /// Most the content size may grow over the baseline: bytes (`10MB`, `1.5GiB`) or a
    /// percentage of the baseline (`5%`).
    #[arg(long, value_name = "SIZE|PERCENT", requires = "baseline", value_parser = Growth::parse)]
    pub max_growth: Option<Growth>,

    /// Most the compressed size (sum of layer blobs) may grow over the baseline.
    #[arg(long, value_name = "SIZE|PERCENT", requires = "baseline", value_parser = Growth::parse)]
    pub max_compressed_growth: Option<Growth>,

    /// Most the waste (hidden + avoidable bytes) may grow over the baseline.
    #[arg(long, value_name = "SIZE|PERCENT", requires = "baseline", value_parser = Growth::parse)]
    pub max_waste_growth: Option<Growth>,

    /// Output format of the rule results.
    #[arg(long, short = 'f', value_enum, default_value_t = crate::check::CheckFormat::Text)]
    pub format: crate::check::CheckFormat,

    /// Write the rule results to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write the checked image's JSON report to FILE (a baseline for later checks).
    #[arg(long, value_name = "FILE")]
    pub save_report: Option<PathBuf>,

    /// Append one size record to this JSON Lines file, for `layersift trend`.
    #[arg(long, value_name = "FILE.jsonl")]
    pub history: Option<PathBuf>,

    /// The base image (what the Dockerfile starts `FROM`): an image reference or a saved JSON
    /// report. Its layers must be the image's bottom layers (matched by diff_id); the rest
    /// are the image's own. Default: the base the manifest's
    /// `org.opencontainers.image.base.digest`/`base.name` annotations name, when it can be
    /// read; `none` turns that off.
    #[arg(long, value_name = "IMAGE|REPORT")]
    pub base: Option<String>,

    #[command(flatten)]
    pub dockerfile: DockerfileArgs,

    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, Args)]
pub struct CatArgs {
    /// The image.
    pub image: String,

    /// The file, as a path in the image (`/etc/os-release`). Symlinks are followed inside
    /// the image; a hard link gives its target's bytes.
    pub path: std::ffi::OsString,

    /// Read the version layer N shipped (layers are numbered from 0, as in reports).
    #[arg(long, value_name = "N")]
    pub layer: Option<usize>,

    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// The image.
    pub image: String,

    /// Paths or globs to extract (a directory brings everything under it); default: all.
    #[arg(value_name = "PATH|GLOB")]
    pub paths: Vec<String>,

    /// The directory to write into (created if missing). Nothing is written outside it.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output: PathBuf,

    /// Extract only what layer N shipped (numbered from 0), instead of the final filesystem.
    #[arg(long, value_name = "N")]
    pub layer: Option<usize>,

    /// Replace files that already exist under DIR.
    #[arg(long)]
    pub force: bool,

    /// Give files the image's owners (needs root).
    #[arg(long)]
    pub same_owner: bool,

    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old side: an image reference or a saved JSON report.
    pub old: String,

    /// The new side: an image reference or a saved JSON report (not with `--layers`).
    #[arg(required_unless_present = "layers")]
    pub new: Option<String>,

    /// Show a unified diff of this one file instead of the size comparison (images only).
    #[arg(long, value_name = "PATH")]
    pub file: Option<String>,

    /// With `--file`: compare the file between the filesystems after layers A and B of one
    /// image (numbered from 0).
    #[arg(long, num_args = 2, value_names = ["A", "B"], requires = "file", conflicts_with = "new")]
    pub layers: Option<Vec<usize>>,

    /// Output format (`markdown` is meant for a pull-request comment; default: from the
    /// `-o` file's extension, else text).
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<Format>,

    /// Write the diff to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// How many directories, and files of each kind, to list.
    #[arg(long, value_name = "N", default_value_t = crate::diff::DEFAULT_LIMIT)]
    pub limit: usize,

    /// Longest markdown output, in characters: lists are shortened and folded to fit (a
    /// GitHub comment holds at most 65,536).
    #[arg(long, value_name = "N", default_value_t = crate::report::fit::DEFAULT_MAX_CHARS)]
    pub max_chars: usize,

    /// The base image both sides start `FROM`: an image reference or a saved JSON report.
    /// The diff then also shows how the image's own layers (above the base) and the base's
    /// layers moved. A side the base is not a prefix of keeps the base of its saved report,
    /// if any.
    #[arg(long, value_name = "IMAGE|REPORT", conflicts_with = "file")]
    pub base: Option<String>,

    #[command(flatten)]
    pub source: SourceArgs,
}

impl DiffArgs {
    /// `--format`, else the one the `-o` file's extension names, else text.
    pub fn format(&self) -> Format {
        self.format
            .or_else(|| self.output.as_deref().and_then(Format::from_path))
            .unwrap_or(Format::Text)
    }
}

/// Parses the command line. A first word that is no command and no existing path, but one
/// edit away from a command, is an error that names the command rather than an image to
/// pull from a registry.
pub fn parse() -> Cli {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(e) = mistyped_command(&args) {
        e.exit();
    }
    Cli::parse_from(args)
}

fn mistyped_command(args: &[std::ffi::OsString]) -> Option<clap::Error> {
    let word = args.get(1)?.to_str()?;
    if word.starts_with('-') || std::path::Path::new(word).exists() {
        return None;
    }
    let mut cmd = Cli::command();
    let names: Vec<String> = cmd
        .get_subcommands()
        .flat_map(|c| std::iter::once(c.get_name()).chain(c.get_all_aliases()))
        .map(str::to_string)
        .collect();
    let near = crate::typo::nearest(word, names.iter().map(String::as_str))?;
    Some(cmd.error(
        clap::error::ErrorKind::InvalidSubcommand,
        format!(
            "`{word}` is not a command; did you mean `{near}`?\n\n\
             For an image named `{word}` in a registry, write `docker://{word}`"
        ),
    ))
}

#[derive(Debug, Args)]
pub struct TrendArgs {
    /// A history file written by `analyze --history` or `check --history`.
    pub file: PathBuf,

    /// Also draw the series (content, compressed, waste) as an SVG line chart to this file.
    #[arg(long, value_name = "OUT.svg")]
    pub svg: Option<PathBuf>,

    /// Output format: the table, or an interactive page (`html`, one chart per image).
    #[arg(long, short = 'f', value_enum, default_value_t = TrendFormat::Text)]
    pub format: TrendFormat,

    /// Write the output to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Output formats of `layersift trend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TrendFormat {
    /// A table with a small chart, for the terminal.
    Text,
    /// One self-contained page with an interactive chart per image.
    Html,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
