//! layersift: finds the bytes a container image ships for nothing, says which build step put
//! them there, and how to stop shipping them.
//!
//! Data flows one way: `source` (resolve a reference to ordered layer blobs) → `layers`
//! (each blob from the `cache` when it holds it, else through `decode`, which streams,
//! verifies and indexes each layer in parallel) → `index` (per-layer entry lists) →
//! `merge` (whiteouts, visibility) → `analysis` (findings) → `report` (text, JSON,
//! markdown) and the terminal UI. `check` (rules from `config`), `diff` and `trend` read
//! reports. `cli` and `app` sit on top and own the process. The modules are private; this
//! page lists what the binary, the tests, the benchmarks and the examples use.

mod analysis;
mod app;
mod base;
mod cache;
mod check;
mod cli;
mod config;
mod content;
mod decode;
mod diff;
mod digest;
mod dockerfile;
mod error;
mod excerpt;
mod fix;
mod history;
mod index;
mod layers;
mod merge;
mod packages;
mod policy;
mod report;
mod sample;
mod sanitize;
mod secrets;
mod source;
mod stream;
mod trend;
mod tui;
mod typo;
mod unidiff;
mod units;
mod verdict;

// The binary: parse, run, report an error, choose the exit code.
pub use app::{print_error, run, EXIT_ERROR, EXIT_OK, EXIT_RULE_FAILED};
pub use cli::{parse as parse_args, Cli};

// The pipeline, for tests, benches and examples: source → decode → index → merge → analysis.
pub use analysis::packages::{analyze as analyze_packages, Package};
pub use analysis::{
    Analysis, Category, CategoryTotal, Finding, ImageInfo, LayerInfo, Severity, Step, Suggestion,
};
pub use decode::{decode_layer, Compression, DecodedLayer, NoProgress, Progress};
// `--dockerfile` and `fix`: the parsed file, the layer map, the patch plan.
pub use dockerfile::map::{LayerSource, Mapping};
pub use dockerfile::{Context as DockerfileContext, Dockerfile, DockerfileError};
pub use error::Error;
pub use fix::{plan as fix_plan, Options as FixOptions, Plan as FixPlan};
pub use index::{display_path, EntryKind, LayerIndex};
pub use layers::decode_image;
pub use merge::{merge, ByteSplit, Fate, Merged};
pub use packages::Ecosystem;
pub use source::{
    open, Healthcheck, Image, ImageRef, LayerBlob, OpenOptions, Platform, SourceError, Transport,
};

// What reads reports: the JSON wire types, the gate, size diffs and history.
pub use base::Base;
pub use cache::Cache;
pub use check::{evaluate, CheckResult, Outcome, RuleResult};
pub use config::{CheckConfig, Growth, Scope as RuleScope};
pub use diff::{compare, Diff, LayerStatus};
pub use policy::{GlobList, PathGlob, PathRules};
pub use report::github::{
    escape_data as github_escape_data, escape_property as github_escape_property,
};
pub use report::json;
pub use report::json::{BaseSplit, ScopeTotals};
pub use report::{render as render_report, Format as ReportFormat, RenderError};
pub use trend::{read as read_trend, Record, SERIES};

// Entry points of the fuzz targets (`fuzz/`, its own workspace) and their seed writer.
pub use config::{parse_dive_ci, parse_toml};
pub use diff::render::render as render_diff;
pub use digest::sha256_digest;
pub use index::normalize_path;
pub use report::saved::parse_report;
pub use sanitize::for_terminal_lines;
pub use source::registry::parse_reference;
pub use source::{digest_hex, open_in, Container, MemContainer};
pub use trend::{parse_history, render_table as render_trend};

// Content access: cat, extract, file diffs.
pub use content::extract::{extract, ExtractOptions};
pub use content::stream::{open_tar, with_entry};
pub use content::{cat, cat_member, ContentError, Located, Scope};

// The terminal UI, for its tests and benchmark.
pub use tui::{
    draw_loading, parse_settings, strip_colors, Action, App, Change, ComparePane, CompareView,
    FileTree, Key, KeyMap, Loading, Pane, ProgressMsg, Settings, SettingsError, Theme, TreeMode,
    ViewOptions, KEYS,
};

/// Resolves, decodes and analyses one image.
pub fn analyze_reference(
    reference: &str,
    opts: &OpenOptions,
    progress: &dyn decode::Progress,
) -> Result<Analysis, Error> {
    analyze_image(reference, opts, progress).map(|(_, a)| a)
}

/// Resolves, decodes and analyses one image built from a Dockerfile (and the stage built):
/// layers, findings and suggestions cite its lines.
pub fn analyze_reference_with(
    reference: &str,
    opts: &OpenOptions,
    progress: &dyn decode::Progress,
    dockerfile: Option<(&dockerfile::Dockerfile, usize)>,
) -> Result<Analysis, Error> {
    analyze_image_with(reference, opts, progress, dockerfile).map(|(_, a)| a)
}

/// Resolves, decodes and analyses one image, and keeps the image (its blob store) for
/// content access.
pub fn analyze_image(
    reference: &str,
    opts: &OpenOptions,
    progress: &dyn decode::Progress,
) -> Result<(source::Image, Analysis), Error> {
    analyze_image_with(reference, opts, progress, None)
}

/// [`analyze_image`] with the Dockerfile the image was built from and the stage built.
fn analyze_image_with(
    reference: &str,
    opts: &OpenOptions,
    progress: &dyn decode::Progress,
    dockerfile: Option<(&dockerfile::Dockerfile, usize)>,
) -> Result<(source::Image, Analysis), Error> {
    let wrap = |source| Error::Source {
        reference: reference.to_string(),
        source,
    };
    let r = ImageRef::parse(reference).map_err(wrap)?;
    match open_image(&r, opts).map_err(wrap)? {
        Opened::Source(image) => {
            let decoded = layers::decode_image(&image, progress)?;
            let analysis = Analysis::with_dockerfile(&image, decoded, dockerfile);
            Ok((image, analysis))
        }
        Opened::Streamed(s) => {
            let decoded = s.layers()?;
            let analysis = Analysis::with_dockerfile(&s.image, decoded, dockerfile);
            Ok((s.image, analysis))
        }
    }
}

/// An image opened for analysis: through its source, or read in one pass with its layers
/// decoded on the way (a compressed archive, `stream`).
enum Opened {
    Source(source::Image),
    Streamed(stream::Streamed),
}

impl Opened {
    /// Decodes the layers (or checks the ones decoded in the pass) and analyses the image.
    fn analyze(self, progress: &dyn decode::Progress) -> Result<Analysis, Error> {
        self.analyze_with(progress, None)
    }

    /// [`Opened::analyze`] with the Dockerfile the image was built from and the stage built.
    fn analyze_with(
        self,
        progress: &dyn decode::Progress,
        dockerfile: Option<(&dockerfile::Dockerfile, usize)>,
    ) -> Result<Analysis, Error> {
        match self {
            Opened::Source(image) => {
                let decoded = layers::decode_image(&image, progress)?;
                Ok(Analysis::with_dockerfile(&image, decoded, dockerfile))
            }
            Opened::Streamed(s) => {
                let decoded = s.layers()?;
                Ok(Analysis::with_dockerfile(&s.image, decoded, dockerfile))
            }
        }
    }
}

/// Resolves a reference to an image: through its source, or for a compressed archive
/// (`docker save | gzip`) by reading it once, in order.
fn open_image(r: &ImageRef, opts: &OpenOptions) -> Result<Opened, source::SourceError> {
    let archive = matches!(
        r.transport,
        source::Transport::DockerArchive | source::Transport::OciArchive
    );
    match source::compressed_archive(std::path::Path::new(&r.location)) {
        Some(kind) if archive => Ok(Opened::Streamed(stream::open(r, opts, kind)?)),
        _ => Ok(Opened::Source(source::open(r, opts)?)),
    }
}

/// Resolves, decodes and analyses several images at once, decoding a layer blob that several
/// of them share (same digest, or same diff_id when the source has no digest) only once, and
/// all layers of all images in parallel. On error, says which reference (by position) failed.
pub fn analyze_references(
    references: &[&str],
    opts: &OpenOptions,
    progress: &dyn decode::Progress,
) -> Result<Vec<Analysis>, (usize, Error)> {
    use rayon::prelude::*;
    use std::collections::HashMap;

    let opened = references
        .iter()
        .enumerate()
        .map(|(n, reference)| {
            let wrap = |source| {
                (
                    n,
                    Error::Source {
                        reference: reference.to_string(),
                        source,
                    },
                )
            };
            let r = ImageRef::parse(reference).map_err(wrap)?;
            open_image(&r, opts).map_err(wrap)
        })
        .collect::<Result<Vec<_>, _>>()?;
    // A compressed archive's layers were decoded in its one pass: nothing left to share.
    if opened.iter().any(|o| matches!(o, Opened::Streamed(_))) {
        return opened
            .into_iter()
            .enumerate()
            .map(|(n, o)| o.analyze(progress).map_err(|e| (n, e)))
            .collect();
    }
    let images: Vec<source::Image> = opened
        .into_iter()
        .filter_map(|o| match o {
            Opened::Source(image) => Some(image),
            Opened::Streamed(_) => None,
        })
        .collect();

    // Each distinct blob is decoded by the first image that has it: `owner[n][layer]` is
    // (image, position in that image's own list of blobs to decode).
    let mut seen: HashMap<String, (usize, usize)> = HashMap::new();
    let mut own: Vec<Vec<usize>> = Vec::new();
    let mut owner: Vec<Vec<(usize, usize)>> = Vec::new();
    for (n, image) in images.iter().enumerate() {
        let (mut mine, mut from) = (Vec::new(), Vec::new());
        for (li, layer) in image.layers.iter().enumerate() {
            let key = layer.digest.as_ref().or(layer.diff_id.as_ref());
            match key.and_then(|k| seen.get(k)) {
                Some(&at) => from.push(at),
                None => {
                    let at = (n, mine.len());
                    if let Some(k) = key {
                        seen.insert(k.clone(), at);
                    }
                    mine.push(li);
                    from.push(at);
                }
            }
        }
        own.push(mine);
        owner.push(from);
    }
    // All images at once; each decodes its own blobs in parallel.
    let decoded: Vec<Vec<decode::DecodedLayer>> = images
        .par_iter()
        .zip(&own)
        .enumerate()
        .map(|(n, (image, mine))| {
            let mut only = image.clone();
            only.layers = mine.iter().map(|&li| image.layers[li].clone()).collect();
            layers::decode_image(&only, progress).map_err(|mut e| {
                e.index = mine.get(e.index).copied().unwrap_or(e.index);
                (n, Error::Layer(e))
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(images
        .iter()
        .zip(owner)
        .map(|(image, from)| {
            let layers = from.iter().map(|&(n, k)| decoded[n][k].clone()).collect();
            Analysis::new(image, layers)
        })
        .collect())
}
