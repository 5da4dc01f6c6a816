//! Avoidable and optional bytes: visible files that the [path rules](super::rules) claim
//! (package caches, temporary and log files, docs, toolchains), one finding per (layer that
//! shipped them, rule). Only visible content counts here: a byte that a later layer hid is
//! already a hidden byte, and each byte is counted once.

use std::collections::BTreeMap;

use super::findings::{Category, FileSet, Finding, Severity};
use super::hidden::MAX_EVIDENCE;
use super::rules::{rule_index, PATH_RULES};
use super::LayerInfo;
use crate::index::{display_path, EntryKind, LayerIndex};
use crate::merge::{Fate, Merged};

/// Visible regular files with content, as (layer, entry) pairs.
pub(crate) fn visible_files<'a>(
    indexes: &'a [LayerIndex],
    merged: &'a Merged,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    indexes.iter().enumerate().flat_map(move |(li, idx)| {
        idx.entries
            .iter()
            .enumerate()
            .filter(move |(i, e)| {
                e.kind == EntryKind::File
                    && e.size > 0
                    && merged.content_fate(li, *i) == Fate::Visible
            })
            .map(move |(i, _)| (li, i))
    })
}

/// Findings for visible files claimed by a path rule. Returns them and the (layer, entry)
/// pairs they claimed, so duplicate detection can leave those alone.
pub(crate) fn findings(
    indexes: &[LayerIndex],
    merged: &Merged,
    layers: &[LayerInfo],
) -> (Vec<Finding>, std::collections::HashSet<(usize, usize)>) {
    let mut groups: BTreeMap<(usize, usize), FileSet> = BTreeMap::new();
    let mut claimed = std::collections::HashSet::new();
    for (li, i) in visible_files(indexes, merged) {
        let path = indexes[li].path(i);
        let Some(rule_index) = rule_index(path) else {
            continue;
        };
        groups
            .entry((li, rule_index))
            .or_insert_with(FileSet::new)
            .push(
                indexes[li].entries[i].size,
                format!("/{}", display_path(path)),
            );
        claimed.insert((li, i));
    }
    let findings = groups
        .into_iter()
        .map(|((li, ri), files)| {
            let rule = &PATH_RULES[ri];
            let bytes = files.bytes();
            let (path_count, paths) = files.evidence(MAX_EVIDENCE);
            let severity = match rule.category {
                Category::Docs | Category::Toolchain => {
                    if bytes >= 10_000_000 {
                        Severity::Low
                    } else {
                        Severity::Info
                    }
                }
                _ => Severity::for_bytes(bytes),
            };
            let title = format!(
                "{} left in the image ({} file{})",
                rule.what,
                path_count,
                if path_count == 1 { "" } else { "s" }
            );
            Finding {
                path_count,
                paths,
                ..Finding::shipped_by(
                    rule.category,
                    severity,
                    format!("{}.{}", prefix(rule.category), rule.id),
                    title,
                    layers,
                    li,
                    bytes,
                )
            }
        })
        .collect();
    (findings, claimed)
}

/// The rule-id prefix of a category.
pub(crate) fn prefix(c: Category) -> &'static str {
    match c {
        Category::PackageCache => "cache",
        Category::TempLog => "temp",
        Category::Docs => "docs",
        Category::Toolchain => "toolchain",
        Category::Duplicate => "duplicate",
        Category::Secret => "secret",
        Category::Practice => "practice",
        Category::OverwrittenSame | Category::OverwrittenChanged | Category::Removed => "hidden",
    }
}
