//! Command-line arguments (clap derive). Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::Format;
use crate::source::{OpenOptions, Platform};

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
}

#[derive(Debug, Args)]
pub struct ExploreArgs {
    /// The image to explore.
    pub image: String,
}

/// How to reach and pick the image.
#[derive(Debug, Clone, Default, Args)]
pub struct SourceArgs {
    /// Platform to pick from a multi-arch image, as os/arch[/variant] (default: the host's).
    #[arg(long, global = true, value_parser = parse_platform)]
    pub platform: Option<Platform>,
}

impl SourceArgs {
    pub fn open_options(&self) -> OpenOptions {
        OpenOptions {
            platform: self.platform.clone(),
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
