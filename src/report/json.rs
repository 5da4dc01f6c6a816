//! The JSON report's wire types. They are separate from the analysis model so the model can
//! change freely; a change of a field's meaning here bumps [`SCHEMA_VERSION`]. Documented
//! field by field in `docs/json-report.md`. They deserialize too: `layersift diff` reads
//! saved reports back.

use serde::{Deserialize, Serialize};

use crate::analysis::{Analysis, ImageInfo};

/// Version of the report's shape and meaning.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub image: ImageInfo,
    pub summary: Summary,
    pub layers: Vec<Layer>,
    pub findings: Vec<crate::analysis::Finding>,
    pub suggestions: Vec<crate::analysis::Suggestion>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

/// Byte accounting over the whole image. `visible_bytes + hidden_bytes == content_bytes`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub layer_count: usize,
    pub entry_count: usize,
    /// Regular-file content bytes over all layers (hard links counted once).
    pub content_bytes: u64,
    /// Content bytes visible in the final filesystem.
    pub visible_bytes: u64,
    /// Content bytes shipped but not visible: the three kinds below, added.
    pub hidden_bytes: u64,
    pub overwritten_same_bytes: u64,
    pub overwritten_changed_bytes: u64,
    pub removed_bytes: u64,
    /// visible_bytes / content_bytes; 1.0 when nothing is hidden.
    pub efficiency: f64,
    /// Sum of layer blob sizes (what a registry stores and a pull downloads).
    pub compressed_bytes: u64,
    /// Sum of uncompressed layer tar sizes.
    pub uncompressed_bytes: u64,
    /// hidden_bytes estimated in compressed bytes, from each layer's own ratio.
    pub hidden_compressed_bytes: u64,
    /// Visible bytes not needed at run time: package caches, temp/log files, duplicates.
    pub avoidable_bytes: u64,
    /// hidden_bytes + avoidable_bytes.
    pub potential_savings_bytes: u64,
    /// Number of secret findings (in any layer, hidden or not, ENV, history).
    pub secret_count: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Layer {
    /// 0-based position in the manifest (bottom layer first).
    pub index: usize,
    pub digest: String,
    pub diff_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub compression: crate::decode::Compression,
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    pub entry_count: usize,
    /// The build step in Dockerfile form (`RUN apt-get update`).
    pub instruction: String,
    /// The history's `created_by`, verbatim.
    pub created_by: String,
    pub content_bytes: u64,
    pub visible_bytes: u64,
    pub overwritten_same_bytes: u64,
    pub overwritten_changed_bytes: u64,
    pub removed_bytes: u64,
}

impl Report {
    pub fn from_analysis(a: &Analysis) -> Report {
        let t = &a.totals;
        Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: env!("CARGO_PKG_NAME").to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
            image: a.image.clone(),
            summary: Summary {
                layer_count: a.layers.len(),
                entry_count: a.layers.iter().map(|l| l.entries).sum(),
                content_bytes: t.content,
                visible_bytes: t.visible,
                hidden_bytes: t.hidden(),
                overwritten_same_bytes: t.overwritten_same,
                overwritten_changed_bytes: t.overwritten_changed,
                removed_bytes: t.removed,
                efficiency: a.efficiency(),
                compressed_bytes: a.compressed_size(),
                uncompressed_bytes: a.layers.iter().map(|l| l.uncompressed_size).sum(),
                hidden_compressed_bytes: a.hidden_compressed(),
                avoidable_bytes: a.avoidable_bytes(),
                potential_savings_bytes: a.potential_savings(),
                secret_count: a.secrets().count(),
            },
            findings: a.findings.clone(),
            suggestions: a.suggestions.clone(),
            layers: a
                .layers
                .iter()
                .enumerate()
                .map(|(index, l)| Layer {
                    index,
                    digest: l.digest.clone(),
                    diff_id: l.diff_id.clone(),
                    media_type: l.media_type.clone(),
                    compression: l.compression,
                    compressed_bytes: l.compressed_size,
                    uncompressed_bytes: l.uncompressed_size,
                    entry_count: l.entries,
                    instruction: l.step.instruction.clone(),
                    created_by: l.step.created_by.clone(),
                    content_bytes: l.bytes.content,
                    visible_bytes: l.bytes.visible,
                    overwritten_same_bytes: l.bytes.overwritten_same,
                    overwritten_changed_bytes: l.bytes.overwritten_changed,
                    removed_bytes: l.bytes.removed,
                })
                .collect(),
        }
    }
}

/// Pretty-printed JSON with a trailing newline.
pub fn render(a: &Analysis) -> String {
    let mut s = serde_json::to_string_pretty(&Report::from_analysis(a)).unwrap_or_default();
    s.push('\n');
    s
}
