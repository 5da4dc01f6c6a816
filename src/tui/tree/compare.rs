//! The tree of compare mode (`layersift explore OLD NEW`): the new image's files, each
//! marked against the old image — added, removed (an old file the new image lacks),
//! grown, shrunk or changed — with its byte delta. Built from the two reports' file lists,
//! so each side may be an image or a saved report. Directories add up their files' deltas.

use std::collections::HashMap;

use super::build::Builder;
use super::{Change, FileTree, Mark};
use crate::diff::FileChanges;
use crate::index::EntryKind;
use crate::report::json::FileRow;

/// How an entry differs from the old image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compared {
    Same,
    Added,
    Removed,
    Grown,
    Shrunk,
    /// Same size, other bytes.
    Changed,
}

impl Compared {
    pub fn label(self) -> &'static str {
        match self {
            Compared::Same => "",
            Compared::Added => "added",
            Compared::Removed => "removed",
            Compared::Grown => "grown",
            Compared::Shrunk => "shrunk",
            Compared::Changed => "changed",
        }
    }
}

/// A compare tree and, per node, how it differs and by how many bytes (new − old).
pub struct CompareTree {
    pub tree: FileTree,
    pub marks: Vec<(Compared, i64)>,
}

impl CompareTree {
    /// `new_files`: the new image's visible files; `changes`: the diff's file lists (all of
    /// them, not cut to a limit).
    pub fn build(new_files: &[FileRow], changes: &FileChanges) -> CompareTree {
        let mut how: HashMap<&str, (Compared, i64)> = HashMap::new();
        for (list, kind) in [
            (&changes.added, Compared::Added),
            (&changes.grown, Compared::Grown),
            (&changes.shrunk, Compared::Shrunk),
            (&changes.changed, Compared::Changed),
            (&changes.removed, Compared::Removed),
        ] {
            for c in list {
                how.insert(c.path.as_str(), (kind, c.bytes.delta));
            }
        }
        let mut b = Builder::new(0);
        let mut marks: Vec<(Compared, i64)> = Vec::new();
        let rows = new_files
            .iter()
            .map(|f| (f.path(), f.size(), f.layer()))
            .chain(
                changes
                    .removed
                    .iter()
                    .map(|r| (r.path.as_str(), 0, r.layer)),
            );
        for (path, size, layer) in rows {
            let id = b.node_for(path.trim_start_matches('/').as_bytes()) as usize;
            let n = &mut b.nodes[id];
            n.kind = Some(EntryKind::File);
            n.mode = 0o644;
            n.size = size;
            n.layer = u32::try_from(layer).unwrap_or(u32::MAX);
            let (c, d) = how.get(path).copied().unwrap_or((Compared::Same, 0));
            n.change = match c {
                Compared::Same => Change::Unchanged,
                Compared::Added => Change::Added,
                Compared::Removed => Change::Removed,
                _ => Change::Modified,
            };
            n.mark = Mark::None;
            if marks.len() <= id {
                marks.resize(id + 1, (Compared::Same, 0));
            }
            marks[id] = (c, d);
        }
        let mut tree = b.finish();
        marks.resize(tree.nodes.len(), (Compared::Same, 0));
        // Directories: the sum of their files' deltas, marked when anything under changed
        // (children have larger ids than their parents).
        for id in (1..tree.nodes.len()).rev() {
            let p = tree.nodes[id].parent as usize;
            if p == 0 {
                continue;
            }
            let (c, d) = marks[id];
            marks[p].1 += d;
            if c != Compared::Same && marks[p].0 == Compared::Same {
                marks[p].0 = Compared::Changed;
            }
        }
        for (id, n) in tree.nodes.iter_mut().enumerate().skip(1) {
            if n.kind.is_none() {
                n.change = if marks[id].0 == Compared::Same {
                    Change::Unchanged
                } else {
                    Change::Modified
                };
            }
        }
        tree.sort_children();
        CompareTree { tree, marks }
    }
}
