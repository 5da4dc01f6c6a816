//! Size-regression comparison of two images. This module owns the diff model: it compares two
//! JSON [`Report`]s (an image is first analysed into a report, so an image and its saved
//! report give the same diff) and says how sizes moved: totals (content, compressed, waste),
//! layers aligned by diff_id (shared, changed, added, removed, with their build steps), the
//! directories that grew or shrank most, the files added, removed, grown, shrunk or changed
//! at the same size, and the findings that are new or gone. Rendering lives in
//! [`render`].

pub(crate) mod html;
pub(crate) mod render;

pub(crate) mod packages;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::analysis::{Category, Severity};
use crate::report::json::{FileRow, Report};

/// Version of the diff JSON's shape and meaning.
pub(crate) const DIFF_SCHEMA_VERSION: u32 = 1;

/// How many directories and files of each kind the diff lists (totals cover all of them).
pub(crate) const DEFAULT_LIMIT: usize = 20;

/// The comparison of two images, OLD → NEW.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Diff {
    pub schema_version: u32,
    pub old: Side,
    pub new: Side,
    pub totals: Totals,
    /// Layers in NEW's order, with OLD's removed layers where they stood.
    pub layers: Vec<LayerChange>,
    /// Directories whose visible content changed most, largest change first. A directory
    /// whose change is 90% or more inside one subdirectory is left out (the subdirectory
    /// says it).
    pub directories: Vec<DirChange>,
    pub files: FileChanges,
    /// Content bytes of findings, per category, on each side.
    pub waste_by_category: Vec<CategoryChange>,
    /// Findings of NEW that OLD did not have.
    pub new_findings: Vec<FindingRef>,
    /// Findings of OLD that NEW no longer has.
    pub gone_findings: Vec<FindingRef>,
    /// Packages added, removed, upgraded, grown and shrunk (empty when neither report has
    /// packages).
    #[serde(default)]
    pub packages: packages::PackageDiff,
    /// The base's layers and the image's own layers, each side by side, when both reports
    /// know their base (`--base`, on `diff` or when they were analysed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<ScopeChanges>,
    /// Run settings (Entrypoint, Cmd, User, Env…) that differ, when both reports carry
    /// them (`image.runtime`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<crate::analysis::runtime::ConfigChange>,
}

/// How the base's layers and the image's own layers moved.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScopeChanges {
    /// The base as each report names it.
    pub old_base: String,
    pub new_base: String,
    pub base: ScopeChange,
    pub own: ScopeChange,
}

/// Totals of one run of layers (the base's, or the own ones) on both sides.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScopeChange {
    pub layer_count: Delta,
    pub content_bytes: Delta,
    pub compressed_bytes: Delta,
    pub hidden_bytes: Delta,
    pub avoidable_bytes: Delta,
    /// Hidden + avoidable bytes.
    pub waste_bytes: Delta,
}

impl ScopeChange {
    fn new(
        o: &crate::report::json::ScopeTotals,
        n: &crate::report::json::ScopeTotals,
    ) -> ScopeChange {
        ScopeChange {
            layer_count: Delta::new(o.layer_count as u64, n.layer_count as u64),
            content_bytes: Delta::new(o.content_bytes, n.content_bytes),
            compressed_bytes: Delta::new(o.compressed_bytes, n.compressed_bytes),
            hidden_bytes: Delta::new(o.hidden_bytes, n.hidden_bytes),
            avoidable_bytes: Delta::new(o.avoidable_bytes, n.avoidable_bytes),
            waste_bytes: Delta::new(
                o.hidden_bytes + o.avoidable_bytes,
                n.hidden_bytes + n.avoidable_bytes,
            ),
        }
    }
}

impl ScopeChanges {
    /// The rows every renderer shows: the own layers' content, compressed and waste, then
    /// the base's content and compressed bytes.
    pub(crate) fn rows(&self) -> [(&'static str, &Delta); 5] {
        [
            ("own content", &self.own.content_bytes),
            ("own compressed", &self.own.compressed_bytes),
            ("own waste", &self.own.waste_bytes),
            ("base content", &self.base.content_bytes),
            ("base compressed", &self.base.compressed_bytes),
        ]
    }

    /// `1 layer`, or `1 → 2 layers` when the base's layer count changed.
    pub(crate) fn base_layers(&self) -> String {
        let n = &self.base.layer_count;
        if n.old == n.new {
            crate::units::plural(n.new as usize, "layer", "layers")
        } else {
            format!("{} → {} layers", n.old, n.new)
        }
    }
}

fn scopes(old: &Report, new: &Report) -> Option<ScopeChanges> {
    let (o, n) = (old.base.as_ref()?, new.base.as_ref()?);
    Some(ScopeChanges {
        old_base: o.reference.clone(),
        new_base: n.reference.clone(),
        base: ScopeChange::new(&o.base, &n.base),
        own: ScopeChange::new(&o.own, &n.own),
    })
}

/// One side of the comparison.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Side {
    pub reference: String,
    pub manifest_digest: Option<String>,
    pub layer_count: usize,
    pub file_count: usize,
}

/// A number on both sides.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Delta {
    pub old: u64,
    pub new: u64,
    pub delta: i64,
}

impl Delta {
    pub fn new(old: u64, new: u64) -> Delta {
        Delta {
            old,
            new,
            delta: crate::units::delta(old, new),
        }
    }

    /// The change as a percentage of the old value (`None` when old is 0).
    pub fn percent(&self) -> Option<f64> {
        (self.old > 0).then(|| self.delta as f64 * 100.0 / self.old as f64)
    }
}

/// Whole-image numbers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Totals {
    /// Regular-file content bytes over all layers.
    pub content_bytes: Delta,
    /// Sum of layer blob sizes.
    pub compressed_bytes: Delta,
    pub visible_bytes: Delta,
    pub hidden_bytes: Delta,
    pub avoidable_bytes: Delta,
    /// Hidden + avoidable bytes.
    pub waste_bytes: Delta,
    pub secret_count: Delta,
    pub efficiency_old: f64,
    pub efficiency_new: f64,
}

/// What happened to a layer between the two images.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum LayerStatus {
    /// The same diff_id on both sides.
    Shared,
    /// The same build step, different content.
    Changed,
    Added,
    Removed,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LayerChange {
    pub status: LayerStatus,
    pub old_index: Option<usize>,
    pub new_index: Option<usize>,
    /// The build step (NEW's, or OLD's for a removed layer).
    pub instruction: String,
    /// OLD's build step, for a changed layer whose step was edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_instruction: Option<String>,
    pub diff_id: String,
    pub content_bytes: Delta,
    pub compressed_bytes: Delta,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DirChange {
    /// Absolute path; sizes include everything below it.
    pub path: String,
    pub bytes: Delta,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileChange {
    pub path: String,
    pub bytes: Delta,
    /// NEW's layer for added and changed files, OLD's for removed ones.
    pub layer: usize,
}

/// Visible-file changes: counts and bytes over all files, lists cut to the largest.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FileChanges {
    pub added_count: usize,
    pub added_bytes: u64,
    pub removed_count: usize,
    pub removed_bytes: u64,
    pub grown_count: usize,
    pub grown_bytes: u64,
    pub shrunk_count: usize,
    pub shrunk_bytes: u64,
    /// Same size, different content (a rebuilt binary, an edited config).
    pub changed_count: usize,
    /// Their bytes (on each side).
    pub changed_bytes: u64,
    pub added: Vec<FileChange>,
    pub removed: Vec<FileChange>,
    pub grown: Vec<FileChange>,
    pub shrunk: Vec<FileChange>,
    pub changed: Vec<FileChange>,
}

impl FileChanges {
    /// The listed files of each kind, named: added, removed, grown, shrunk, changed.
    pub(crate) fn lists(&self) -> [(&'static str, &[FileChange]); 5] {
        [
            ("added", &self.added),
            ("removed", &self.removed),
            ("grown", &self.grown),
            ("shrunk", &self.shrunk),
            ("changed", &self.changed),
        ]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CategoryChange {
    pub category: Category,
    pub bytes: Delta,
}

/// A finding, as a diff names it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FindingRef {
    pub rule: String,
    pub category: Category,
    pub severity: Severity,
    pub title: String,
    pub bytes: u64,
    pub layer: usize,
    /// A secret in the image config (`ENV`), which no layer shipped.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_config: bool,
    pub instruction: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// Compares two reports, listing at most `limit` directories and files of each kind.
pub fn compare(old: &Report, new: &Report, limit: usize) -> Diff {
    let so = &old.summary;
    let sn = &new.summary;
    Diff {
        schema_version: DIFF_SCHEMA_VERSION,
        old: side(old),
        new: side(new),
        totals: Totals {
            content_bytes: Delta::new(so.content_bytes, sn.content_bytes),
            compressed_bytes: Delta::new(so.compressed_bytes, sn.compressed_bytes),
            visible_bytes: Delta::new(so.visible_bytes, sn.visible_bytes),
            hidden_bytes: Delta::new(so.hidden_bytes, sn.hidden_bytes),
            avoidable_bytes: Delta::new(so.avoidable_bytes, sn.avoidable_bytes),
            waste_bytes: Delta::new(so.potential_savings_bytes, sn.potential_savings_bytes),
            secret_count: Delta::new(so.secret_count as u64, sn.secret_count as u64),
            efficiency_old: so.efficiency,
            efficiency_new: sn.efficiency,
        },
        layers: align_layers(old, new),
        directories: directories(&old.files, &new.files, limit),
        files: files(&old.files, &new.files, limit),
        waste_by_category: categories(old, new),
        new_findings: finding_changes(new, old),
        gone_findings: finding_changes(old, new),
        packages: packages::compare(&old.packages, &new.packages),
        scopes: scopes(old, new),
        config: match (&old.image.runtime, &new.image.runtime) {
            (Some(o), Some(n)) => crate::analysis::runtime::changes(o, n),
            _ => Vec::new(),
        },
    }
}

fn side(r: &Report) -> Side {
    Side {
        reference: r.image.reference.clone(),
        manifest_digest: r.image.manifest_digest.clone(),
        layer_count: r.layers.len(),
        file_count: r.files.len(),
    }
}

/// Aligns layers: the longest common subsequence of diff_ids is shared; between two shared
/// layers, a layer on each side with the same instruction is changed (and, when no step
/// matches but both sides have as many layers, they pair in order as edited steps), the rest
/// are removed (OLD) or added (NEW).
fn align_layers(old: &Report, new: &Report) -> Vec<LayerChange> {
    let a: Vec<&str> = old.layers.iter().map(|l| l.diff_id.as_str()).collect();
    let b: Vec<&str> = new.layers.iter().map(|l| l.diff_id.as_str()).collect();
    // lcs[i][j]: LCS length of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    let (mut gap_old, mut gap_new) = (Vec::new(), Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            flush_gap(old, new, &mut gap_old, &mut gap_new, &mut out);
            out.push(layer_change(
                old,
                new,
                LayerStatus::Shared,
                Some(i),
                Some(j),
            ));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            gap_new.push(j);
            j += 1;
        } else {
            gap_old.push(i);
            i += 1;
        }
    }
    flush_gap(old, new, &mut gap_old, &mut gap_new, &mut out);
    out
}

fn flush_gap(
    old: &Report,
    new: &Report,
    gap_old: &mut Vec<usize>,
    gap_new: &mut Vec<usize>,
    out: &mut Vec<LayerChange>,
) {
    let mut paired: HashMap<usize, usize> = HashMap::new(); // new -> old
    let mut used = HashSet::new();
    for &j in gap_new.iter() {
        let step = &new.layers[j].instruction;
        if let Some(&i) = gap_old
            .iter()
            .find(|&&i| !used.contains(&i) && old.layers[i].instruction == *step)
        {
            used.insert(i);
            paired.insert(j, i);
        }
    }
    // An edited step (`RUN apt-get install curl` → `RUN apt-get install curl wget`): as many
    // layers on each side and none with the same step, so they pair up in order.
    if paired.is_empty() && gap_old.len() == gap_new.len() {
        for (&i, &j) in gap_old.iter().zip(gap_new.iter()) {
            used.insert(i);
            paired.insert(j, i);
        }
    }
    // NEW's order; OLD's unpaired layers go where they stood: before the first NEW layer
    // that comes after them (as a unified diff puts deletions before additions).
    let mut pending: std::collections::VecDeque<usize> = gap_old
        .iter()
        .copied()
        .filter(|i| !used.contains(i))
        .collect();
    for (k, &j) in gap_new.iter().enumerate() {
        let bound = match paired.get(&j) {
            Some(&i) => i,
            None => gap_new[k..]
                .iter()
                .filter_map(|j| paired.get(j).copied())
                .min()
                .unwrap_or(usize::MAX),
        };
        while pending.front().is_some_and(|&i| i < bound) {
            if let Some(i) = pending.pop_front() {
                out.push(layer_change(old, new, LayerStatus::Removed, Some(i), None));
            }
        }
        match paired.get(&j) {
            Some(&i) => out.push(layer_change(
                old,
                new,
                LayerStatus::Changed,
                Some(i),
                Some(j),
            )),
            None => out.push(layer_change(old, new, LayerStatus::Added, None, Some(j))),
        }
    }
    for i in pending {
        out.push(layer_change(old, new, LayerStatus::Removed, Some(i), None));
    }
    gap_old.clear();
    gap_new.clear();
}

fn layer_change(
    old: &Report,
    new: &Report,
    status: LayerStatus,
    i: Option<usize>,
    j: Option<usize>,
) -> LayerChange {
    let lo = i.and_then(|i| old.layers.get(i));
    let ln = j.and_then(|j| new.layers.get(j));
    let main = ln.or(lo);
    LayerChange {
        status,
        old_index: i,
        new_index: j,
        instruction: main.map(|l| l.instruction.clone()).unwrap_or_default(),
        old_instruction: match (lo, ln) {
            (Some(o), Some(n)) if o.instruction != n.instruction => Some(o.instruction.clone()),
            _ => None,
        },
        diff_id: main.map(|l| l.diff_id.clone()).unwrap_or_default(),
        content_bytes: Delta::new(
            lo.map_or(0, |l| l.content_bytes),
            ln.map_or(0, |l| l.content_bytes),
        ),
        compressed_bytes: Delta::new(
            lo.map_or(0, |l| l.compressed_bytes),
            ln.map_or(0, |l| l.compressed_bytes),
        ),
    }
}

/// Total visible bytes under every directory (recursive), root included as `/`.
fn dir_sizes(files: &[FileRow]) -> HashMap<&str, u64> {
    let mut sizes: HashMap<&str, u64> = HashMap::new();
    for f in files {
        let p = f.path();
        let mut end = p.len();
        while let Some(i) = p[..end].rfind('/') {
            let dir = if i == 0 { "/" } else { &p[..i] };
            *sizes.entry(dir).or_default() += f.size();
            if i == 0 {
                break;
            }
            end = i;
        }
    }
    sizes
}

fn parent_dir(p: &str) -> Option<&str> {
    match p.rfind('/') {
        Some(0) if p.len() > 1 => Some("/"),
        Some(0) | None => None,
        Some(i) => Some(&p[..i]),
    }
}

/// True when a child's change is most (90% or more) of its parent's, in the same direction.
fn explains(child: i64, parent: i64) -> bool {
    child.signum() == parent.signum() && child.unsigned_abs() * 10 >= parent.unsigned_abs() * 9
}

fn directories(old: &[FileRow], new: &[FileRow], limit: usize) -> Vec<DirChange> {
    let so = dir_sizes(old);
    let sn = dir_sizes(new);
    let mut all: BTreeMap<&str, Delta> = BTreeMap::new();
    for (&d, &o) in &so {
        all.insert(d, Delta::new(o, sn.get(d).copied().unwrap_or(0)));
    }
    for (&d, &n) in &sn {
        all.entry(d).or_insert_with(|| Delta::new(0, n));
    }
    all.retain(|_, d| d.delta != 0);
    // A directory whose change sits (90% or more) in one child directory adds nothing.
    let mut passthrough: HashSet<&str> = HashSet::new();
    for (&d, delta) in &all {
        if let Some(p) = parent_dir(d) {
            if all.get(p).is_some_and(|pd| explains(delta.delta, pd.delta)) {
                passthrough.insert(p);
            }
        }
    }
    let mut out: Vec<DirChange> = all
        .into_iter()
        .filter(|(d, _)| *d != "/" && !passthrough.contains(d))
        .map(|(d, bytes)| DirChange {
            path: d.to_string(),
            bytes,
        })
        .collect();
    out.sort_by(|x, y| {
        y.bytes
            .delta
            .unsigned_abs()
            .cmp(&x.bytes.delta.unsigned_abs())
            .then_with(|| x.path.cmp(&y.path))
    });
    out.truncate(limit);
    out
}

fn files(old: &[FileRow], new: &[FileRow], limit: usize) -> FileChanges {
    let om: HashMap<&str, &FileRow> = old.iter().map(|f| (f.path(), f)).collect();
    let nm: HashMap<&str, &FileRow> = new.iter().map(|f| (f.path(), f)).collect();
    let mut c = FileChanges::default();
    for f in new {
        match om.get(f.path()) {
            None => c.added.push(FileChange {
                path: f.path().to_string(),
                bytes: Delta::new(0, f.size()),
                layer: f.layer(),
            }),
            Some(o) if o.size() < f.size() => c.grown.push(FileChange {
                path: f.path().to_string(),
                bytes: Delta::new(o.size(), f.size()),
                layer: f.layer(),
            }),
            Some(o) if o.size() > f.size() => c.shrunk.push(FileChange {
                path: f.path().to_string(),
                bytes: Delta::new(o.size(), f.size()),
                layer: f.layer(),
            }),
            Some(o) if o.content_id() != f.content_id() => c.changed.push(FileChange {
                path: f.path().to_string(),
                bytes: Delta::new(o.size(), f.size()),
                layer: f.layer(),
            }),
            Some(_) => {}
        }
    }
    for f in old.iter().filter(|f| !nm.contains_key(f.path())) {
        c.removed.push(FileChange {
            path: f.path().to_string(),
            bytes: Delta::new(f.size(), 0),
            layer: f.layer(),
        });
    }
    let sum = |v: &[FileChange]| v.iter().map(|f| f.bytes.delta.unsigned_abs()).sum::<u64>();
    c.added_count = c.added.len();
    c.added_bytes = sum(&c.added);
    c.removed_count = c.removed.len();
    c.removed_bytes = sum(&c.removed);
    c.grown_count = c.grown.len();
    c.grown_bytes = sum(&c.grown);
    c.shrunk_count = c.shrunk.len();
    c.shrunk_bytes = sum(&c.shrunk);
    c.changed_count = c.changed.len();
    c.changed_bytes = c.changed.iter().map(|f| f.bytes.new).sum();
    c.changed.sort_by(|x, y| {
        y.bytes
            .new
            .cmp(&x.bytes.new)
            .then_with(|| x.path.cmp(&y.path))
    });
    c.changed.truncate(limit);
    for v in [&mut c.added, &mut c.removed, &mut c.grown, &mut c.shrunk] {
        v.sort_by(|x, y| {
            y.bytes
                .delta
                .unsigned_abs()
                .cmp(&x.bytes.delta.unsigned_abs())
                .then_with(|| x.path.cmp(&y.path))
        });
        v.truncate(limit);
    }
    c
}

fn categories(old: &Report, new: &Report) -> Vec<CategoryChange> {
    let mut m: BTreeMap<Category, (u64, u64)> = BTreeMap::new();
    for f in &old.findings {
        m.entry(f.category).or_default().0 += f.bytes;
    }
    for f in &new.findings {
        m.entry(f.category).or_default().1 += f.bytes;
    }
    m.into_iter()
        .map(|(category, (o, n))| CategoryChange {
            category,
            bytes: Delta::new(o, n),
        })
        .collect()
}

/// What identifies a finding across images: its rule and its first evidence (or its detail,
/// or its title). Layer numbers are left out, they move when layers are added.
fn finding_key(f: &crate::analysis::Finding) -> (String, String) {
    let what = f
        .paths
        .first()
        .cloned()
        .or_else(|| f.detail.clone())
        .unwrap_or_else(|| f.title.clone());
    (f.rule.clone(), what)
}

/// Findings of `a` whose key `b` has not.
fn finding_changes(a: &Report, b: &Report) -> Vec<FindingRef> {
    let keys: HashSet<(String, String)> = b.findings.iter().map(finding_key).collect();
    let mut out: Vec<FindingRef> = a
        .findings
        .iter()
        .filter(|f| !keys.contains(&finding_key(f)))
        .map(|f| FindingRef {
            rule: f.rule.clone(),
            category: f.category,
            severity: f.severity,
            title: f.title.clone(),
            bytes: f.bytes,
            layer: f.layer,
            in_config: f.in_config,
            instruction: if f.in_config {
                f.instruction.clone()
            } else {
                a.layers
                    .get(f.layer)
                    .map(|l| l.instruction.clone())
                    .unwrap_or_default()
            },
            path: f.paths.first().cloned(),
        })
        .collect();
    out.sort_by(|x, y| {
        y.severity
            .cmp(&x.severity)
            .then(y.bytes.cmp(&x.bytes))
            .then_with(|| x.rule.cmp(&y.rule))
            .then_with(|| x.path.cmp(&y.path))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[(&str, u64)]) -> Vec<FileRow> {
        v.iter()
            .map(|(p, s)| FileRow(p.to_string(), *s, 0, format!("{s:016x}")))
            .collect()
    }

    #[test]
    fn directory_deltas_skip_passthrough_parents() {
        let old = rows(&[("/usr/lib/a/x", 10), ("/usr/lib/b/y", 5), ("/etc/c", 1)]);
        let new = rows(&[
            ("/usr/lib/a/x", 110),
            ("/usr/lib/b/y", 5),
            ("/usr/lib/b/z", 20),
            ("/usr/w", 5),
            ("/etc/c", 1),
        ]);
        let d = directories(&old, &new, 10);
        let got: Vec<(&str, i64)> = d.iter().map(|d| (d.path.as_str(), d.bytes.delta)).collect();
        // /usr (125) is mostly /usr/lib (120), which splits between a (100) and b (20).
        assert_eq!(
            got,
            vec![("/usr/lib", 120), ("/usr/lib/a", 100), ("/usr/lib/b", 20)]
        );
    }

    #[test]
    fn file_changes() {
        let old = rows(&[("/a", 10), ("/b", 5), ("/c", 7), ("/d", 1)]);
        let new = rows(&[("/a", 12), ("/b", 5), ("/c", 3), ("/e", 9)]);
        let c = files(&old, &new, 10);
        assert_eq!((c.added_count, c.added_bytes), (1, 9));
        assert_eq!((c.removed_count, c.removed_bytes), (1, 1));
        assert_eq!((c.grown_count, c.grown_bytes), (1, 2));
        assert_eq!((c.shrunk_count, c.shrunk_bytes), (1, 4));
        assert_eq!(c.shrunk[0].bytes, Delta::new(7, 3));
    }

    #[test]
    fn delta_sign_and_percent() {
        let d = Delta::new(200, 150);
        assert_eq!(d.delta, -50);
        assert_eq!(d.percent(), Some(-25.0));
        assert_eq!(Delta::new(0, 5).percent(), None);
    }
}
