//! Building a [`FileTree`]: one layer's changes, or everything visible up to a layer, from
//! the merged fates of the analysis, with waste and secret marks from the findings and
//! directory sizes summed up.

use std::collections::{HashMap, HashSet};

use super::printable;
use super::{Change, FileTree, Mark, Node, SortOrder, TreeMode};
use crate::analysis::{Analysis, Category};
use crate::index::{display_path, EntryKind};
use crate::merge::Fate;

struct Item {
    layer: u32,
    entry: u32,
    change: Change,
}

impl FileTree {
    /// Builds the tree of `layer` in the given mode.
    pub fn build(a: &Analysis, layer: usize, mode: TreeMode) -> FileTree {
        if let TreeMode::Range { from } = mode {
            return FileTree::build_range(a, from, layer);
        }
        let layer = layer.min(a.indexes.len().saturating_sub(1));
        let mut items: Vec<Item> = Vec::new();
        let mut replaced: HashSet<&[u8]> = HashSet::new();
        let this = u32::try_from(layer).unwrap_or(u32::MAX);
        for (j, fates) in a.merged.fates.iter().enumerate().take(layer) {
            let idx = &a.indexes[j];
            for (i, &fate) in fates.iter().enumerate() {
                let lj = u32::try_from(j).unwrap_or(u32::MAX);
                let ie = u32::try_from(i).unwrap_or(u32::MAX);
                match fate {
                    Fate::Marker => {}
                    Fate::Overwritten { by, .. } if by == this => {
                        replaced.insert(idx.path(i));
                    }
                    Fate::Removed { by } if by == this => items.push(Item {
                        layer: lj,
                        entry: ie,
                        change: Change::Removed,
                    }),
                    f if mode == TreeMode::Aggregated
                        && f.hidden_by().is_none_or(|by| by > this) =>
                    {
                        items.push(Item {
                            layer: lj,
                            entry: ie,
                            change: Change::Unchanged,
                        });
                    }
                    _ => {}
                }
            }
        }
        if let Some(idx) = a.indexes.get(layer) {
            for (i, e) in idx.entries.iter().enumerate() {
                if e.kind.is_marker() {
                    continue;
                }
                if matches!(a.merged.fate(layer, i), Fate::Overwritten { by, .. } if by == this) {
                    continue; // the same layer wrote this path again later
                }
                let change = if replaced.contains(idx.path(i)) {
                    Change::Modified
                } else {
                    Change::Added
                };
                items.push(Item {
                    layer: this,
                    entry: u32::try_from(i).unwrap_or(u32::MAX),
                    change,
                });
            }
        }

        let evidence = evidence_marks(a);
        let mut b = Builder::new(this);
        for it in &items {
            let (l, i) = (it.layer as usize, it.entry as usize);
            let idx = &a.indexes[l];
            let e = &idx.entries[i];
            let path = idx.path(i);
            let mut mark = Mark::None;
            if matches!(e.kind, EntryKind::File) && !a.merged.content_fate(l, i).is_visible() {
                mark = Mark::Waste;
            }
            if let Some(marks) = evidence.get(path) {
                for &(ml, m) in marks {
                    if ml == it.layer {
                        mark = mark.max(m);
                    }
                }
            }
            let id = b.node_for(path);
            let n = &mut b.nodes[id as usize];
            let own_new = it.layer == this;
            let merged_change = match (n.kind.is_some(), n.change, it.change) {
                (true, Change::Removed, Change::Added | Change::Modified) => Change::Modified,
                (true, Change::Added | Change::Modified, Change::Removed) => Change::Modified,
                _ => it.change,
            };
            if n.kind.is_some() && !own_new && it.change == Change::Removed {
                // Keep this layer's entry; only note that the path existed below.
                n.change = merged_change;
                continue;
            }
            n.kind = Some(e.kind);
            n.mode = e.mode();
            n.uid = e.uid;
            n.gid = e.gid;
            n.link = match e.kind {
                // Hard-link targets are archive paths; show them rooted like the tree.
                EntryKind::Hardlink => format!("/{}", printable(&display_path(idx.link(i)))).into(),
                _ => printable(&display_path(idx.link(i))).into(),
            };
            n.layer = it.layer;
            n.change = merged_change;
            n.mark = mark;
            n.size = e.size;
        }
        let mut t = b.finish();
        t.mode = mode;
        t.sort_children();
        t
    }
}

/// Evidence paths of findings, by path (without the leading `/`): (layer, mark).
pub(super) fn evidence_marks(a: &Analysis) -> HashMap<&[u8], Vec<(u32, Mark)>> {
    let mut m: HashMap<&[u8], Vec<(u32, Mark)>> = HashMap::new();
    for f in &a.findings {
        let mark = if f.category == Category::Secret {
            Mark::Secret
        } else {
            Mark::Waste
        };
        let layer = u32::try_from(f.layer).unwrap_or(u32::MAX);
        for p in &f.paths {
            let key = p.trim_start_matches('/').trim_end_matches('/').as_bytes();
            m.entry(key).or_default().push((layer, mark));
        }
    }
    m
}

/// Accumulates nodes by path.
pub(super) struct Builder<'a> {
    pub(super) nodes: Vec<Node>,
    by_path: HashMap<&'a [u8], u32>,
    layer: u32,
}

impl<'a> Builder<'a> {
    pub(super) fn new(layer: u32) -> Self {
        let mut b = Builder {
            nodes: Vec::new(),
            by_path: HashMap::new(),
            layer,
        };
        b.push(0, "", 0);
        b.nodes[0].kind = Some(EntryKind::Dir);
        b
    }

    fn push(&mut self, parent: u32, name: &str, depth: u16) -> u32 {
        let id = u32::try_from(self.nodes.len()).unwrap_or(u32::MAX);
        self.nodes.push(Node {
            name: name.into(),
            parent,
            children: Vec::new(),
            depth,
            kind: None,
            mode: 0o755,
            uid: 0,
            gid: 0,
            link: "".into(),
            layer: self.layer,
            change: Change::Unchanged,
            mark: Mark::None,
            size: 0,
            waste: 0,
        });
        if id != 0 {
            self.nodes[parent as usize].children.push(id);
        }
        id
    }

    /// The node for a path, creating it and any missing ancestors.
    pub(super) fn node_for(&mut self, path: &'a [u8]) -> u32 {
        if let Some(&id) = self.by_path.get(path) {
            return id;
        }
        let (parent_path, name) = match path.iter().rposition(|&b| b == b'/') {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => (&path[..0], path),
        };
        let parent = if parent_path.is_empty() {
            0
        } else {
            self.node_for(parent_path)
        };
        let depth = self.nodes[parent as usize].depth + 1;
        let id = self.push(parent, &printable(&display_path(name)), depth);
        self.by_path.insert(path, id);
        id
    }

    pub(super) fn finish(mut self) -> FileTree {
        let n = self.nodes.len();
        // Marks flow down: everything under a marked directory is marked.
        for id in 1..n {
            let p = self.nodes[id].parent as usize;
            if p != 0 && self.nodes[p].mark > self.nodes[id].mark {
                self.nodes[id].mark = self.nodes[p].mark;
            }
        }
        for id in 1..n {
            let node = &mut self.nodes[id];
            if node.mark != Mark::None && node.children.is_empty() {
                node.waste = node.size;
            }
        }
        // Sizes flow up (children have larger ids than parents).
        for id in (1..n).rev() {
            let (p, size, waste, change) = {
                let c = &self.nodes[id];
                (c.parent as usize, c.size, c.waste, c.change)
            };
            let parent_removed = self.nodes[p].change == Change::Removed;
            if change != Change::Removed || parent_removed {
                self.nodes[p].size += size;
            }
            self.nodes[p].waste += waste;
        }
        FileTree {
            layer: self.layer as usize,
            mode: TreeMode::Layer,
            collapsed: vec![false; n],
            rows: Vec::new(),
            last: vec![false; n],
            open_children: vec![false; n],
            nodes: self.nodes,
            sort: SortOrder::Name,
        }
    }
}
