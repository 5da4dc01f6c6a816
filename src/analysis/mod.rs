//! Analysis: the model every output reads. Joins the decoded layers, their merge and the
//! image config into one [`Analysis`]: image facts, per-layer sizes and build steps, and the
//! byte accounting (visible, overwritten, removed), each byte counted once.

pub mod findings;
pub mod hidden;
pub mod history;

use oci_spec::image::ImageConfiguration;

use crate::decode::{Compression, DecodedLayer};
use crate::index::LayerIndex;
use crate::merge::{byte_splits, merge, ByteSplit, Merged};
use crate::source::{Image, Platform, Transport};

pub use findings::{Category, Finding, Severity, Suggestion};
pub use history::Step;

/// Facts about the analysed image.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImageInfo {
    pub reference: String,
    pub transport: Transport,
    pub manifest_digest: Option<String>,
    pub config_digest: Option<String>,
    pub platform: Platform,
}

/// One layer: where it came from, its sizes, its build step and its byte accounting.
#[derive(Debug, Clone)]
pub struct LayerInfo {
    pub digest: String,
    pub diff_id: String,
    pub media_type: Option<String>,
    pub compression: Compression,
    pub compressed_size: u64,
    pub uncompressed_size: u64,
    pub entries: usize,
    pub step: Step,
    /// This layer's content bytes by fate (visible, overwritten, removed).
    pub bytes: ByteSplit,
}

impl LayerInfo {
    /// Compressed bytes per content byte, for estimating compressed savings.
    pub fn compression_ratio(&self) -> f64 {
        if self.bytes.content == 0 {
            1.0
        } else {
            self.compressed_size as f64 / self.uncompressed_size.max(1) as f64
        }
    }

    /// Estimated compressed size of `bytes` content bytes of this layer.
    pub fn compressed_estimate(&self, bytes: u64) -> u64 {
        (bytes as f64 * self.compression_ratio()).round() as u64
    }
}

/// Everything known about an image after decoding and merging its layers.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub image: ImageInfo,
    pub config: ImageConfiguration,
    pub layers: Vec<LayerInfo>,
    pub indexes: Vec<LayerIndex>,
    pub merged: Merged,
    pub totals: ByteSplit,
    /// Every problem found, in no particular order (reports sort as they need).
    pub findings: Vec<Finding>,
    /// Dockerfile rewrites, each resolving some findings.
    pub suggestions: Vec<Suggestion>,
}

impl Analysis {
    /// Builds the analysis of an image from its decoded layers (in manifest order).
    pub fn new(image: &Image, decoded: Vec<DecodedLayer>) -> Analysis {
        let steps = history::steps_for_layers(&image.config, decoded.len());
        let mut indexes = Vec::with_capacity(decoded.len());
        let mut layers: Vec<LayerInfo> = Vec::with_capacity(decoded.len());
        for ((d, blob), step) in decoded.into_iter().zip(&image.layers).zip(steps) {
            layers.push(LayerInfo {
                digest: d.digest,
                diff_id: d.diff_id,
                media_type: blob.media_type.clone(),
                compression: d.compression,
                compressed_size: d.compressed_size,
                uncompressed_size: d.uncompressed_size,
                entries: d.index.len(),
                step,
                bytes: ByteSplit::default(),
            });
            indexes.push(d.index);
        }
        let refs: Vec<&LayerIndex> = indexes.iter().collect();
        let merged = merge(&refs);
        let mut totals = ByteSplit::default();
        for (layer, split) in layers.iter_mut().zip(byte_splits(&refs, &merged)) {
            totals.add(&split);
            layer.bytes = split;
        }
        let findings = hidden::findings(&indexes, &merged, &layers);
        Analysis {
            findings,
            suggestions: Vec::new(),
            image: ImageInfo {
                reference: image.reference.clone(),
                transport: image.transport,
                manifest_digest: image.manifest_digest.clone(),
                config_digest: image.config_digest.clone(),
                platform: image.platform.clone(),
            },
            config: image.config.clone(),
            layers,
            indexes,
            merged,
            totals,
        }
    }

    /// Final visible bytes / total content bytes (1.0 when nothing is hidden).
    pub fn efficiency(&self) -> f64 {
        if self.totals.content == 0 {
            1.0
        } else {
            self.totals.visible as f64 / self.totals.content as f64
        }
    }

    pub fn compressed_size(&self) -> u64 {
        self.layers.iter().map(|l| l.compressed_size).sum()
    }

    /// Hidden bytes, estimated in compressed bytes from each layer's own ratio.
    pub fn hidden_compressed(&self) -> u64 {
        self.layers
            .iter()
            .map(|l| l.compressed_estimate(l.bytes.hidden()))
            .sum()
    }

    /// Visible bytes the image does not need (caches, temp/log files, duplicate copies).
    pub fn avoidable_bytes(&self) -> u64 {
        self.findings
            .iter()
            .filter(|f| f.category.is_avoidable())
            .map(|f| f.bytes)
            .sum()
    }

    /// Hidden + avoidable bytes.
    pub fn potential_savings(&self) -> u64 {
        self.totals.hidden() + self.avoidable_bytes()
    }

    /// Findings that are secrets.
    pub fn secrets(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.category == Category::Secret)
    }
}
