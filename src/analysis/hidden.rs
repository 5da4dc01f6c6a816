//! Hidden-bytes findings: one finding per (layer that shipped the bytes, layer that hid them,
//! how), with the largest paths as evidence.

use std::collections::BTreeMap;

use super::findings::{Category, Finding, Severity};
use super::LayerInfo;
use crate::index::{display_path, EntryKind, LayerIndex};
use crate::merge::{Fate, Merged};

/// How many evidence paths a finding keeps.
pub(crate) const MAX_EVIDENCE: usize = 25;

/// Groups every hidden regular file into findings.
pub(crate) fn findings(
    indexes: &[LayerIndex],
    merged: &Merged,
    layers: &[LayerInfo],
) -> Vec<Finding> {
    // (layer, category, hidden_by) -> (bytes, [(size, entry)])
    type Group = (u64, Vec<(u64, usize)>);
    let mut groups: BTreeMap<(usize, Category, u32), Group> = BTreeMap::new();
    for (li, idx) in indexes.iter().enumerate() {
        for (i, e) in idx.entries.iter().enumerate() {
            if e.kind != EntryKind::File {
                continue;
            }
            let (cat, by) = match merged.content_fate(li, i) {
                Fate::Overwritten { by, same: true } => (Category::OverwrittenSame, by),
                Fate::Overwritten { by, same: false } => (Category::OverwrittenChanged, by),
                Fate::Removed { by } => (Category::Removed, by),
                Fate::Visible | Fate::Marker => continue,
            };
            let g = groups.entry((li, cat, by)).or_default();
            g.0 += e.size;
            g.1.push((e.size, i));
        }
    }
    groups
        .into_iter()
        .filter(|(_, (bytes, _))| *bytes > 0)
        .map(|((li, cat, by), (bytes, mut files))| {
            files.sort_by_key(|f| std::cmp::Reverse(f.0));
            let by = by as usize;
            let by_step = layers
                .get(by)
                .map(|l| l.step.instruction.as_str())
                .unwrap_or_default();
            let n = files.len();
            let title = match cat {
                Category::OverwrittenSame => format!(
                    "{} rewritten with identical content by layer {by} ({})",
                    plural(n),
                    short(by_step)
                ),
                Category::OverwrittenChanged => {
                    format!("{} replaced by layer {by} ({})", plural(n), short(by_step))
                }
                _ => format!("{} deleted by layer {by} ({})", plural(n), short(by_step)),
            };
            let rule = match cat {
                Category::OverwrittenSame => "hidden.overwritten-same",
                Category::OverwrittenChanged => "hidden.overwritten-changed",
                _ => "hidden.removed",
            };
            Finding {
                hidden_by: Some(by),
                path_count: files.len(),
                paths: files
                    .iter()
                    .take(MAX_EVIDENCE)
                    .map(|&(_, i)| format!("/{}", display_path(indexes[li].path(i))))
                    .collect(),
                ..Finding::shipped_by(
                    cat,
                    Severity::for_bytes(bytes),
                    rule.to_string(),
                    title,
                    layers,
                    li,
                    bytes,
                )
            }
        })
        .collect()
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 file".to_string()
    } else {
        format!("{n} files")
    }
}

fn short(s: &str) -> String {
    super::one_line(s, 60)
}
