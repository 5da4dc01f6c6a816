//! Layer merging: applies layers in order with OCI whiteout rules and decides, for every
//! entry of every layer, whether it is visible in the final filesystem or which later layer
//! hid it and how (overwritten with the same or changed content, or removed).
//!
//! Rules: a layer's whiteouts and opaque markers apply to the layers below it only, so they
//! are applied before the layer's own entries. `.wh.NAME` removes `NAME` and its subtree;
//! an opaque marker removes every lower child of its directory (not the directory). An entry
//! at a path already present overwrites it; a non-directory replacing a directory also
//! removes the directory's subtree. Hard-linked content stays visible while any of its names
//! in the same layer does.

use std::collections::HashMap;

use crate::index::{EntryKind, LayerIndex};

/// What became of one entry in the final filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Visible,
    /// A whiteout or opaque marker: an instruction, not a file.
    Marker,
    /// A later (or the same) layer wrote the same path.
    Overwritten {
        by: u32,
        same: bool,
    },
    /// A later layer deleted it (whiteout, opaque directory, or a file replacing its parent).
    Removed {
        by: u32,
    },
}

impl Fate {
    pub fn is_visible(self) -> bool {
        self == Fate::Visible
    }

    /// The layer that hid this entry, if any.
    pub fn hidden_by(self) -> Option<u32> {
        match self {
            Fate::Overwritten { by, .. } | Fate::Removed { by } => Some(by),
            _ => None,
        }
    }
}

/// The merged view of an image: one fate per entry, per layer.
#[derive(Debug, Clone, Default)]
pub struct Merged {
    pub fates: Vec<Vec<Fate>>,
    /// Regular files whose content has a better fate through one of their hard links (same
    /// layer) than through their own name: visible beats overwritten beats removed.
    via_link: HashMap<(u32, u32), Fate>,
}

type Loc = (u32, u32);

fn as_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Merged {
    pub fn fate(&self, layer: usize, entry: usize) -> Fate {
        self.fates[layer][entry]
    }

    /// The fate of an entry's content bytes: like [`Merged::fate`], except that content
    /// shared by hard links takes the best fate of all its names (a file whose other name
    /// is still visible is visible).
    pub fn content_fate(&self, layer: usize, entry: usize) -> Fate {
        self.via_link
            .get(&(as_u32(layer), as_u32(entry)))
            .copied()
            .unwrap_or(self.fates[layer][entry])
    }

    /// Every visible entry, as (layer, entry) pairs, in layer order.
    pub fn visible(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.fates.iter().enumerate().flat_map(|(l, f)| {
            f.iter()
                .enumerate()
                .filter(|(_, f)| f.is_visible())
                .map(move |(i, _)| (l, i))
        })
    }
}

fn carries_content(k: EntryKind) -> bool {
    matches!(k, EntryKind::File | EntryKind::Hardlink)
}

/// Whether `newer` replacing `older` at one path keeps the same content.
fn same_content(older: (&LayerIndex, usize), newer: (&LayerIndex, usize)) -> bool {
    let (a, b) = (&older.0.entries[older.1], &newer.0.entries[newer.1]);
    match (a.kind, b.kind) {
        (EntryKind::Dir, EntryKind::Dir) => true,
        (x, y) if carries_content(x) && carries_content(y) => a.hash() == b.hash(),
        (EntryKind::Symlink, EntryKind::Symlink) => older.0.link(older.1) == newer.0.link(newer.1),
        (x, y) => x == y && x != EntryKind::Dir && x != EntryKind::File,
    }
}

/// Orders paths so that a directory's descendants follow it directly: bytewise, except that
/// `/` sorts before every other byte (plain bytewise order would put `a-x` between `a` and
/// `a/b`).
fn tree_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let key = |c: u8| if c == b'/' { 0 } else { u16::from(c) + 1 };
    // Paths share long prefixes: find the first difference with plain byte compares, then
    // order by that byte alone.
    let n = a.len().min(b.len());
    let i = a[..n]
        .iter()
        .zip(&b[..n])
        .position(|(x, y)| x != y)
        .unwrap_or(n);
    match (a.get(i), b.get(i)) {
        (Some(&x), Some(&y)) => key(x).cmp(&key(y)),
        _ => a.len().cmp(&b.len()),
    }
}

/// True when `dir` is a strict ancestor of `path` (the root, `""`, is everyone's).
fn is_ancestor(dir: &[u8], path: &[u8]) -> bool {
    dir.is_empty() || (path.len() > dir.len() && path.starts_with(dir) && path[dir.len()] == b'/')
}

/// A directory on the path from the root to the current one, with the layers at which its
/// lower-layer descendants are cut off: its whiteouts, its opaque markers, and non-directory
/// entries written over it.
struct Frame<'a> {
    path: &'a [u8],
    cuts: Vec<u32>,
}

/// Every entry's fate before any later layer is applied: markers (whiteouts, opaque
/// markers) are markers, everything else visible.
fn initial_fates(layers: &[&LayerIndex]) -> Vec<Vec<Fate>> {
    layers
        .iter()
        .map(|l| {
            l.entries
                .iter()
                .map(|e| {
                    if e.kind.is_marker() {
                        Fate::Marker
                    } else {
                        Fate::Visible
                    }
                })
                .collect()
        })
        .collect()
}

/// Merges layers (bottom first).
///
/// Every entry of every layer is sorted by (path, layer), so all versions of a path sit
/// together and a directory's descendants follow it. One scan then decides each entry's
/// fate: the earliest later event that hides it, among the next version of its own path
/// (overwritten), a whiteout of its path, and a cut on one of its ancestors (removed).
/// Markers of a layer act before its entries, so a tie is a removal. Memory: one 8-byte
/// reference per entry while merging.
pub fn merge(layers: &[&LayerIndex]) -> Merged {
    let mut fates = initial_fates(layers);
    let path = |(l, i): Loc| layers[l as usize].path(i as usize);
    let kind = |(l, i): Loc| layers[l as usize].entries[i as usize].kind;
    let mut order: Vec<Loc> = layers
        .iter()
        .enumerate()
        .flat_map(|(l, idx)| (0..idx.len()).map(move |i| (as_u32(l), as_u32(i))))
        .collect();
    order.sort_unstable_by(|&a, &b| {
        tree_order(path(a), path(b))
            .then(a.0.cmp(&b.0))
            .then(kind(b).is_marker().cmp(&kind(a).is_marker()))
            .then(a.1.cmp(&b.1))
    });

    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut versions: Vec<Loc> = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let p = path(order[start]);
        let end = start
            + order[start..]
                .iter()
                .take_while(|&&loc| path(loc) == p)
                .count();
        let group = &order[start..end];
        while stack.last().is_some_and(|f| !is_ancestor(f.path, p)) {
            stack.pop();
        }
        // The earliest cut above layer `l` on any ancestor.
        let ancestor_cut = |l: u32| {
            stack
                .iter()
                .flat_map(|f| f.cuts.iter().copied())
                .filter(|&c| c > l)
                .min()
        };
        let whiteouts: Vec<u32> = group
            .iter()
            .filter(|&&loc| kind(loc) == EntryKind::Whiteout)
            .map(|&(l, _)| l)
            .collect();
        versions.clear();
        versions.extend(group.iter().copied().filter(|&loc| !kind(loc).is_marker()));
        for (k, &(l, i)) in versions.iter().enumerate() {
            let removed = whiteouts
                .iter()
                .copied()
                .filter(|&w| w > l)
                .min()
                .into_iter()
                .chain(ancestor_cut(l))
                .min();
            let overwritten = versions.get(k + 1).map(|&(nl, ni)| {
                let same = same_content(
                    (layers[l as usize], i as usize),
                    (layers[nl as usize], ni as usize),
                );
                (nl, same)
            });
            fates[l as usize][i as usize] = match (removed, overwritten) {
                (Some(r), Some((o, same))) if o < r => Fate::Overwritten { by: o, same },
                (Some(r), _) => Fate::Removed { by: r },
                (None, Some((o, same))) => Fate::Overwritten { by: o, same },
                (None, None) => Fate::Visible,
            };
        }
        let mut cuts = whiteouts;
        cuts.extend(group.iter().filter_map(|&loc| match kind(loc) {
            EntryKind::Opaque => Some(loc.0),
            EntryKind::Dir | EntryKind::Whiteout => None,
            _ => Some(loc.0),
        }));
        stack.push(Frame { path: p, cuts });
        start = end;
    }

    let via_link = hardlink_fates(layers, &fates);
    Merged { fates, via_link }
}

/// How alive a fate keeps content: visible, then overwritten (same, changed), then removed.
fn liveness(f: Fate) -> u8 {
    match f {
        Fate::Visible => 4,
        Fate::Overwritten { same: true, .. } => 3,
        Fate::Overwritten { same: false, .. } => 2,
        Fate::Removed { .. } => 1,
        Fate::Marker => 0,
    }
}

/// Files whose content one of their hard links (same layer) keeps more alive than their own
/// name does.
fn hardlink_fates(layers: &[&LayerIndex], fates: &[Vec<Fate>]) -> HashMap<(u32, u32), Fate> {
    let mut better = HashMap::new();
    for (li, layer) in layers.iter().enumerate() {
        if !layer.entries.iter().any(|e| e.kind == EntryKind::Hardlink) {
            continue;
        }
        let files: HashMap<&[u8], usize> = (0..layer.len())
            .filter(|&i| layer.entries[i].kind == EntryKind::File)
            .map(|i| (layer.path(i), i))
            .collect();
        for i in (0..layer.len()).filter(|&i| layer.entries[i].kind == EntryKind::Hardlink) {
            if let Some(&f) = files.get(layer.link(i)) {
                let key = (as_u32(li), as_u32(f));
                let current = better.get(&key).copied().unwrap_or(fates[li][f]);
                if liveness(fates[li][i]) > liveness(current) {
                    better.insert(key, fates[li][i]);
                }
            }
        }
    }
    better
}

/// Content bytes of one layer, split by what became of them. Each byte is counted once:
/// `visible + overwritten_same + overwritten_changed + removed == content`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ByteSplit {
    pub content: u64,
    pub visible: u64,
    pub overwritten_same: u64,
    pub overwritten_changed: u64,
    pub removed: u64,
}

impl ByteSplit {
    pub fn hidden(&self) -> u64 {
        self.overwritten_same + self.overwritten_changed + self.removed
    }

    pub fn add(&mut self, o: &ByteSplit) {
        self.content += o.content;
        self.visible += o.visible;
        self.overwritten_same += o.overwritten_same;
        self.overwritten_changed += o.overwritten_changed;
        self.removed += o.removed;
    }

    /// Adds `bytes` under the given fate.
    pub fn count(&mut self, fate: Fate, bytes: u64) {
        self.content += bytes;
        match fate {
            Fate::Visible | Fate::Marker => self.visible += bytes,
            Fate::Overwritten { same: true, .. } => self.overwritten_same += bytes,
            Fate::Overwritten { same: false, .. } => self.overwritten_changed += bytes,
            Fate::Removed { .. } => self.removed += bytes,
        }
    }
}

/// Splits each layer's content bytes by fate.
pub(crate) fn byte_splits(layers: &[&LayerIndex], merged: &Merged) -> Vec<ByteSplit> {
    layers
        .iter()
        .enumerate()
        .map(|(li, layer)| {
            let mut s = ByteSplit::default();
            for (i, e) in layer.entries.iter().enumerate() {
                if e.kind == EntryKind::File {
                    s.count(merged.content_fate(li, i), e.size);
                }
            }
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::NewEntry;

    fn layer(entries: &[(&str, EntryKind, u64)]) -> LayerIndex {
        let mut l = LayerIndex::new();
        for &(p, kind, size) in entries {
            let (path, link) = p.split_once("->").unwrap_or((p, ""));
            l.push(NewEntry {
                path: path.as_bytes(),
                link: link.as_bytes(),
                kind,
                size,
                hash: u128::from(size) * 31 + 7,
                mode: 0o644,
                uid: 0,
                gid: 0,
                mtime: 0,
            });
        }
        l.resolve_hardlinks();
        l
    }

    use EntryKind::{Dir, File, Hardlink, Opaque, Whiteout};

    #[test]
    fn whiteout_removes_subtree_and_opaque_hides_children() {
        let l0 = layer(&[
            ("a", Dir, 0),
            ("a/x", File, 10),
            ("a/y", File, 20),
            ("b", Dir, 0),
            ("b/z", File, 5),
        ]);
        let l1 = layer(&[("a", Whiteout, 0), ("b", Opaque, 0), ("b/new", File, 1)]);
        let m = merge(&[&l0, &l1]);
        assert_eq!(m.fate(0, 0), Fate::Removed { by: 1 });
        assert_eq!(m.fate(0, 1), Fate::Removed { by: 1 });
        assert_eq!(
            m.fate(0, 3),
            Fate::Visible,
            "an opaque dir keeps the dir itself"
        );
        assert_eq!(m.fate(0, 4), Fate::Removed { by: 1 });
        assert_eq!(
            m.fate(1, 2),
            Fate::Visible,
            "same-layer entries survive its own opaque marker"
        );
        let s = byte_splits(&[&l0, &l1], &m);
        assert_eq!(s[0].removed, 35);
        assert_eq!(s[1].visible, 1);
    }

    #[test]
    fn overwrite_same_and_changed() {
        let l0 = layer(&[("f", File, 10), ("g", File, 10)]);
        let l1 = layer(&[("f", File, 10), ("g", File, 11)]);
        let m = merge(&[&l0, &l1]);
        assert_eq!(m.fate(0, 0), Fate::Overwritten { by: 1, same: true });
        assert_eq!(m.fate(0, 1), Fate::Overwritten { by: 1, same: false });
        let s = byte_splits(&[&l0, &l1], &m);
        assert_eq!((s[0].overwritten_same, s[0].overwritten_changed), (10, 10));
        assert_eq!(s[1].visible, 21);
    }

    #[test]
    fn file_replacing_dir_removes_its_children() {
        let l0 = layer(&[("d", Dir, 0), ("d/x", File, 3)]);
        let l1 = layer(&[("d", File, 4)]);
        let m = merge(&[&l0, &l1]);
        assert_eq!(m.fate(0, 0), Fate::Overwritten { by: 1, same: false });
        assert_eq!(m.fate(0, 1), Fate::Removed { by: 1 });
    }

    #[test]
    fn hard_link_keeps_content_visible() {
        let l0 = layer(&[("a", File, 100), ("b->a", Hardlink, 0)]);
        let l1 = layer(&[("a", Whiteout, 0)]);
        let m = merge(&[&l0, &l1]);
        assert_eq!(m.fate(0, 0), Fate::Removed { by: 1 });
        assert_eq!(m.content_fate(0, 0), Fate::Visible);
        let s = byte_splits(&[&l0, &l1], &m);
        assert_eq!(s[0].visible, 100);
    }

    #[test]
    fn whiteout_does_not_touch_siblings_with_common_prefix() {
        let l0 = layer(&[
            ("a", Dir, 0),
            ("a/x", File, 1),
            ("a-b", File, 2),
            ("a0", File, 3),
        ]);
        let l1 = layer(&[("a", Whiteout, 0)]);
        let m = merge(&[&l0, &l1]);
        assert_eq!(m.fate(0, 2), Fate::Visible);
        assert_eq!(m.fate(0, 3), Fate::Visible);
    }

    // The straightforward sequential merge (a live map of paths, applied layer by layer),
    // kept as the oracle the sort-based merge must agree with.
    use std::collections::BTreeMap;
    use std::ops::Bound;

    fn subtree_bounds(dir: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut lo = dir.to_vec();
        let mut hi = dir.to_vec();
        if dir.is_empty() {
            // The root: everything.
            return (Vec::new(), vec![0xff; 8]);
        }
        lo.push(b'/');
        hi.push(b'/' + 1);
        (lo, hi)
    }

    // Removes `dir`'s strict descendants from the live map, marking them removed by `by`.
    fn remove_subtree(
        live: &mut BTreeMap<&[u8], Loc>,
        fates: &mut [Vec<Fate>],
        dir: &[u8],
        by: u32,
    ) {
        let (lo, hi) = subtree_bounds(dir);
        let doomed: Vec<&[u8]> = live
            .range::<[u8], _>((Bound::Included(&lo[..]), Bound::Excluded(&hi[..])))
            .filter(|(_, loc)| loc.0 < by)
            .map(|(k, _)| *k)
            .collect();
        for k in doomed {
            if let Some((l, i)) = live.remove(k) {
                fates[l as usize][i as usize] = Fate::Removed { by };
            }
        }
    }

    /// Merges layers (bottom first).
    fn reference_fates(layers: &[&LayerIndex]) -> Vec<Vec<Fate>> {
        let mut fates = initial_fates(layers);
        let mut live: BTreeMap<&[u8], Loc> = BTreeMap::new();

        for (li, layer) in layers.iter().enumerate() {
            let by = as_u32(li);
            // Markers first: they act on lower layers only.
            for (i, e) in layer.entries.iter().enumerate() {
                let path = layer.path(i);
                match e.kind {
                    EntryKind::Whiteout => {
                        if let Some((l, j)) = live.remove(path) {
                            fates[l as usize][j as usize] = Fate::Removed { by };
                        }
                        remove_subtree(&mut live, &mut fates, path, by);
                    }
                    EntryKind::Opaque => remove_subtree(&mut live, &mut fates, path, by),
                    _ => {}
                }
            }
            for (i, e) in layer.entries.iter().enumerate() {
                if e.kind.is_marker() {
                    continue;
                }
                let path = layer.path(i);
                if let Some((l, j)) = live.insert(path, (by, as_u32(i))) {
                    let old = &layers[l as usize].entries[j as usize];
                    let same = match (old.kind, e.kind) {
                        (EntryKind::Dir, EntryKind::Dir) => true,
                        (a, b) if carries_content(a) && carries_content(b) => {
                            old.hash() == e.hash()
                        }
                        (EntryKind::Symlink, EntryKind::Symlink) => {
                            layers[l as usize].link(j as usize) == layer.link(i)
                        }
                        (a, b) => a == b && a != EntryKind::Dir && a != EntryKind::File,
                    };
                    fates[l as usize][j as usize] = Fate::Overwritten { by, same };
                }
                // Nothing lives under a non-directory, whatever was there before.
                if e.kind != EntryKind::Dir {
                    remove_subtree(&mut live, &mut fates, path, by);
                }
            }
        }

        fates
    }

    /// Random small images over a tiny path alphabet, so paths collide, nest, get whited out,
    /// made opaque, and flip between file and directory.
    #[test]
    fn agrees_with_the_sequential_merge_on_random_images() {
        let names = ["a", "a/b", "a/b/c", "a/d", "a-x", "b", "b/c", "a/b/e"];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..3000 {
            let layer_count = 1 + next(4) as usize;
            let layers: Vec<LayerIndex> = (0..layer_count)
                .map(|_| {
                    let n = 1 + next(6) as usize;
                    let entries: Vec<(&str, EntryKind, u64)> = (0..n)
                        .map(|_| {
                            let name = names[next(names.len() as u64) as usize];
                            let kind = match next(6) {
                                0 | 1 => File,
                                2 => Dir,
                                3 => Whiteout,
                                4 => Opaque,
                                _ => EntryKind::Symlink,
                            };
                            (name, kind, next(3))
                        })
                        .collect();
                    // Well-formed layers only: nothing under a non-directory of the same
                    // layer (real tars cannot hold both; their order would decide).
                    let blocks = |p: &str| {
                        entries.iter().any(|&(q, k, _)| {
                            !matches!(k, Dir | Whiteout | Opaque)
                                && is_ancestor(q.as_bytes(), p.as_bytes())
                        })
                    };
                    let entries: Vec<_> = entries
                        .iter()
                        .copied()
                        .filter(|&(p, _, _)| !blocks(p))
                        .collect();
                    layer(&entries)
                })
                .collect();
            let refs: Vec<&LayerIndex> = layers.iter().collect();
            let expected = reference_fates(&refs);
            let got = merge(&refs).fates;
            assert_eq!(got, expected, "layers: {:?}", layers);
        }
    }
}
