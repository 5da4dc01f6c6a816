//! The summary sentences the text and the markdown report both open with, worded once: the
//! image's size, how its hidden bytes split, and the compressed estimate of what could go.
//! Each renderer adds only its own frame (a label column, a table cell, bold).

use crate::units::{human_bytes, plural};
use crate::Analysis;

/// `12 MiB of file content in 3 layers; 4 MiB compressed (what a pull downloads)`.
pub(crate) fn size(a: &Analysis) -> String {
    format!(
        "{} of file content in {}; {} compressed (what a pull downloads)",
        human_bytes(a.totals.content),
        plural(a.layers.len(), "layer", "layers"),
        human_bytes(a.compressed_size())
    )
}

/// `1 MiB same content rewritten, 0 B replaced, 2 MiB removed`: the hidden bytes by how a
/// later layer hid them.
pub(crate) fn hidden_split(a: &Analysis) -> String {
    let t = &a.totals;
    format!(
        "{} same content rewritten, {} replaced, {} removed",
        human_bytes(t.overwritten_same),
        human_bytes(t.overwritten_changed),
        human_bytes(t.removed)
    )
}

/// The potential savings in compressed bytes, `None` when the layers are stored
/// uncompressed and there is no ratio to estimate it from.
pub(crate) fn compressed_savings(a: &Analysis) -> Option<String> {
    a.potential_savings_compressed()
        .map(|c| format!("~{} compressed", human_bytes(c)))
}
