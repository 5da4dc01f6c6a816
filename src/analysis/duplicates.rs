//! Duplicates: byte-identical visible regular files (same xxh3-128 hash and size, size > 0)
//! at several paths. One copy is kept (the earliest layer's, then the shortest path, then
//! the first by name); every other copy is avoidable and attributed to the layer that
//! shipped it. Hard links share one copy of their content and are never duplicates; files
//! that a path rule already claimed (caches, docs, …) are left to that rule, and license
//! texts, which each package must carry, are not duplicates.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::findings::{Category, FileSet, Finding, Severity};
use super::hidden::MAX_EVIDENCE;
use super::LayerInfo;
use crate::index::{display_path, LayerIndex};
use crate::merge::Merged;

/// Duplicate groups whose extra copies in one layer reach this many bytes get a finding of
/// their own; smaller ones are pooled into one finding per layer.
pub const OWN_FINDING_BYTES: u64 = 64 * 1024;

/// Duplicate findings over visible files not in `claimed`.
pub fn findings(
    indexes: &[LayerIndex],
    merged: &Merged,
    layers: &[LayerInfo],
    claimed: &HashSet<(usize, usize)>,
) -> Vec<Finding> {
    let mut by_content: HashMap<(u128, u64), Vec<(usize, usize)>> = HashMap::new();
    for (li, i) in super::avoidable::visible_files(indexes, merged) {
        if claimed.contains(&(li, i)) || super::rules::is_license(indexes[li].path(i)) {
            continue;
        }
        let e = &indexes[li].entries[i];
        by_content
            .entry((e.hash, e.size))
            .or_default()
            .push((li, i));
    }

    // (layer, kept path) -> extra copies in that layer; BTreeMap for a stable order.
    let mut groups: BTreeMap<(usize, String), FileSet> = BTreeMap::new();
    for copies in by_content.into_values() {
        if copies.len() < 2 {
            continue;
        }
        let mut copies: Vec<(usize, &[u8], u64)> = copies
            .iter()
            .map(|&(li, i)| (li, indexes[li].path(i), indexes[li].entries[i].size))
            .collect();
        copies.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then(a.1.len().cmp(&b.1.len()))
                .then(a.1.cmp(b.1))
        });
        let kept = format!("/{}", display_path(copies[0].1));
        for &(li, path, size) in &copies[1..] {
            groups
                .entry((li, kept.clone()))
                .or_insert_with(FileSet::new)
                .push(size, format!("/{}", display_path(path)));
        }
    }

    let mut findings = Vec::new();
    let mut pooled: BTreeMap<usize, (FileSet, usize)> = BTreeMap::new();
    for ((li, kept), files) in groups {
        if files.bytes() >= OWN_FINDING_BYTES {
            let bytes = files.bytes();
            let (n, paths) = files.evidence(MAX_EVIDENCE);
            findings.push(make(
                layers,
                li,
                bytes,
                n,
                paths,
                format!(
                    "{n} extra cop{} of `{kept}` (byte-identical)",
                    if n == 1 { "y" } else { "ies" }
                ),
                Some(format!("kept copy: `{kept}`")),
            ));
        } else {
            let p = pooled.entry(li).or_insert_with(|| (FileSet::new(), 0));
            p.0.files.extend(files.files);
            p.1 += 1;
        }
    }
    for (li, (files, group_count)) in pooled {
        let bytes = files.bytes();
        let (n, paths) = files.evidence(MAX_EVIDENCE);
        findings.push(make(
            layers,
            li,
            bytes,
            n,
            paths,
            format!(
                "{n} small file{} repeat{} {group_count} other file{} byte for byte",
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" },
                if group_count == 1 { "" } else { "s" }
            ),
            None,
        ));
    }
    findings
}

fn make(
    layers: &[LayerInfo],
    li: usize,
    bytes: u64,
    path_count: usize,
    paths: Vec<String>,
    title: String,
    detail: Option<String>,
) -> Finding {
    let layer = layers.get(li);
    Finding {
        category: Category::Duplicate,
        severity: match Severity::for_bytes(bytes) {
            Severity::High => Severity::Medium,
            s => s,
        },
        rule: "duplicate.identical-files".to_string(),
        title,
        layer: li,
        instruction: layer
            .map(|l| l.step.instruction.clone())
            .unwrap_or_default(),
        hidden_by: None,
        bytes,
        compressed_bytes: layer.map_or(0, |l| l.compressed_estimate(bytes)),
        path_count,
        paths,
        detail,
    }
}
