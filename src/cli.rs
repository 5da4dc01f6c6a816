//! Command-line arguments (clap derive). Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Growth;
use crate::report::Format;
use crate::source::cache::Cache;
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
    /// Show what the cache of registry, podman and docker layers holds, or trim it.
    Cache(CacheArgs),
    /// Turn the mechanical suggestions into a patch of the Dockerfile (and `.dockerignore`):
    /// a unified diff for `git apply` or `patch -p1`, one hunk per suggestion.
    Fix(FixArgs),
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
}

#[derive(Debug, Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub action: Option<CacheAction>,
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
    /// The image to explore.
    pub image: String,

    #[command(flatten)]
    pub dockerfile: DockerfileArgs,
}

/// How to reach and pick the image.
#[derive(Debug, Clone, Default, Args)]
pub struct SourceArgs {
    /// Platform to pick from a multi-arch image, as os/arch[/variant] (default: the host's).
    #[arg(long, global = true, value_parser = parse_platform)]
    pub platform: Option<Platform>,

    /// Registry credentials as USER:PASSWORD; overrides `auth.json` and `~/.docker/config.json`.
    #[arg(long, global = true, value_name = "USER:PASSWORD", value_parser = Credentials::parse)]
    pub creds: Option<Credentials>,

    /// Require HTTPS with valid certificates for registries (default true; always plain HTTP
    /// for localhost). `--tls-verify=false` allows invalid certificates and plain HTTP.
    #[arg(
        long,
        global = true,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub tls_verify: Option<bool>,

    /// Cache directory for blobs and decoded layers of registry, podman and docker images
    /// (default: `$XDG_CACHE_HOME/layersift`).
    #[arg(long, global = true, value_name = "DIR", env = "LAYERSIFT_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Neither read nor write the cache (wins over `--cache-dir`).
    #[arg(long, global = true)]
    pub no_cache: bool,

    /// Largest size the cache may keep after a run, e.g. `20GB`, `500MiB` (default 10GiB);
    /// least recently used entries go first.
    #[arg(
        long,
        global = true,
        value_name = "SIZE",
        env = "LAYERSIFT_CACHE_MAX_SIZE",
        value_parser = crate::config::parse_size
    )]
    pub cache_max_size: Option<u64>,
}

impl SourceArgs {
    pub fn open_options(&self) -> OpenOptions {
        OpenOptions {
            platform: self.platform.clone(),
            creds: self.creds.clone(),
            tls_verify: self.tls_verify,
            cache_dir: if self.no_cache {
                None
            } else {
                self.cache_dir.clone().or_else(Cache::default_dir)
            },
            cache_max_bytes: self.cache_max_size,
        }
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

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Append one size record (time, reference, digest, sizes, waste, efficiency) to this
    /// JSON Lines file, for `layersift trend`.
    #[arg(long, value_name = "FILE.jsonl")]
    pub history: Option<PathBuf>,

    #[command(flatten)]
    pub dockerfile: DockerfileArgs,
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

    /// Also write the checked image's JSON report to FILE (a baseline for later checks).
    #[arg(long, value_name = "FILE")]
    pub save_report: Option<PathBuf>,

    /// Append one size record to this JSON Lines file, for `layersift trend`.
    #[arg(long, value_name = "FILE.jsonl")]
    pub history: Option<PathBuf>,

    #[command(flatten)]
    pub dockerfile: DockerfileArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old side: an image reference or a saved JSON report.
    pub old: String,

    /// The new side: an image reference or a saved JSON report.
    pub new: String,

    /// Output format (`markdown` is meant for a pull-request comment).
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Write the diff to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// How many directories, and files of each kind, to list.
    #[arg(long, value_name = "N", default_value_t = crate::diff::DEFAULT_LIMIT)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct TrendArgs {
    /// A history file written by `analyze --history` or `check --history`.
    pub file: PathBuf,

    /// Also draw the series (content, compressed, waste) as an SVG line chart to this file.
    #[arg(long, value_name = "OUT.svg")]
    pub svg: Option<PathBuf>,
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
