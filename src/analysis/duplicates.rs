//! Duplicates: byte-identical visible regular files (same xxh3-128 hash and size, size > 0)
//! at several paths. One copy is kept (the earliest layer's, then the shortest path, then
//! the first by name); every other copy is avoidable and attributed to the layer that
//! shipped it. Hard links share one copy of their content and are never duplicates; files
//! that a path rule already claimed (caches, docs, …) are left to that rule, and license
//! texts, which each package must carry, are not duplicates.

use std::collections::{BTreeMap, HashSet};

use super::findings::{Category, FileSet, Finding, Severity};
use super::hidden::MAX_EVIDENCE;
use super::LayerInfo;
use crate::index::{display_path, LayerIndex};
use crate::merge::Merged;

/// Duplicate groups whose extra copies in one layer reach this many bytes get a finding of
/// their own; smaller ones are pooled into one finding per layer.
pub(crate) const OWN_FINDING_BYTES: u64 = 64 * 1024;

/// Duplicate findings over visible files not in `claimed`.
pub(crate) fn findings(
    indexes: &[LayerIndex],
    merged: &Merged,
    layers: &[LayerInfo],
    claimed: &HashSet<(usize, usize)>,
) -> Vec<Finding> {
    // Sorting the visible files' (layer, entry) positions by (hash, size, layer, entry)
    // groups identical content together in 8 bytes per visible file, far less than a map
    // of vectors, or rows carrying the hash, would hold.
    let small = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let mut rows: Vec<(u32, u32)> = super::avoidable::visible_files(indexes, merged)
        .filter(|&(li, i)| {
            !claimed.contains(&(li, i)) && !super::rules::is_license(indexes[li].path(i))
        })
        .map(|(li, i)| (small(li), small(i)))
        .collect();
    let content = |&(li, i): &(u32, u32)| {
        let e = &indexes[li as usize].entries[i as usize];
        (e.hash(), e.size)
    };
    rows.sort_unstable_by(|a, b| content(a).cmp(&content(b)).then(a.cmp(b)));

    // (layer, kept path) -> extra copies in that layer; BTreeMap for a stable order.
    let mut groups: BTreeMap<(usize, String), FileSet> = BTreeMap::new();
    for same in rows.chunk_by(|a, b| content(a) == content(b)) {
        if same.len() < 2 {
            continue;
        }
        let copies: Vec<(usize, usize)> = same
            .iter()
            .map(|&(li, i)| (li as usize, i as usize))
            .collect();
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
            // Name the duplicate itself, not only the copy that is kept.
            let first = paths.first().cloned().unwrap_or_default();
            let title = if n == 1 {
                format!("`{first}` is a byte-identical copy of `{kept}`")
            } else {
                format!("{n} byte-identical copies of `{kept}`, the largest `{first}`")
            };
            findings.push(make(
                layers,
                li,
                bytes,
                n,
                paths,
                title,
                Some(format!("kept copy: `{kept}`; extra: `{first}`")),
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
    let severity = match Severity::for_bytes(bytes) {
        Severity::High => Severity::Medium,
        s => s,
    };
    Finding {
        path_count,
        paths,
        detail,
        ..Finding::shipped_by(
            Category::Duplicate,
            severity,
            "duplicate.identical-files".to_string(),
            title,
            layers,
            li,
            bytes,
        )
    }
}
