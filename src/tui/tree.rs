//! The file-tree model behind the tree pane: one layer's changes, or the filesystem
//! aggregated up to a layer, as an arena of nodes with change kinds (added, modified,
//! removed, unchanged), waste marks, directory sizes, collapse state, and the flat list of
//! rows that the current filters, sort order and collapse state leave visible. It reads the
//! [`Analysis`] and knows nothing about terminals: drawing lives in `ui.rs`.
//!
//! Building is O(entries) plus a sort; applying filters and flattening are O(nodes); moving
//! through rows is O(1) and drawing touches only the rows on screen, so a layer with
//! hundreds of thousands of files stays responsive.

use std::collections::{HashMap, HashSet};

use regex::Regex;

use crate::analysis::{Analysis, Category};
use crate::index::{display_path, EntryKind};
use crate::merge::Fate;

/// Which files the tree shows for the selected layer (dive's Ctrl+L / Ctrl+A).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TreeMode {
    /// Only what the selected layer changed.
    Layer,
    /// The whole filesystem as it stands after the selected layer.
    Aggregated,
}

/// How a path changed in the selected layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// The layer writes a path that no lower layer has.
    Added,
    /// The layer writes a path a lower layer already had.
    Modified,
    /// The layer deletes a lower layer's path (whiteout, opaque directory, replaced parent).
    Removed,
    /// Present from a lower layer and untouched (aggregated view), or a directory that only
    /// holds changes.
    Unchanged,
}

impl Change {
    pub const ALL: [Change; 4] = [
        Change::Added,
        Change::Modified,
        Change::Removed,
        Change::Unchanged,
    ];

    fn bit(self) -> u8 {
        match self {
            Change::Added => 1,
            Change::Modified => 2,
            Change::Removed => 4,
            Change::Unchanged => 8,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Modified => "modified",
            Change::Removed => "removed",
            Change::Unchanged => "unchanged",
        }
    }
}

/// Why an entry stands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mark {
    None,
    /// Shipped for nothing: hidden by a later layer, or evidence of a waste finding.
    Waste,
    /// Evidence of a secret finding.
    Secret,
}

/// One node: a path component, with what is known about the entry at that path.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: Box<str>,
    pub parent: u32,
    pub children: Vec<u32>,
    pub depth: u16,
    /// `None` for directories no layer in view lists (implied by their children).
    pub kind: Option<EntryKind>,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Symlink or hard-link target, empty otherwise.
    pub link: Box<str>,
    /// The layer the entry comes from (0-based); for implied directories, the tree's layer.
    pub layer: u32,
    pub change: Change,
    pub mark: Mark,
    /// Content bytes: the file's own, or the sum over a directory's subtree (removed
    /// children count only under removed directories).
    pub size: u64,
    /// Bytes under this node that are marked as waste or secret.
    pub waste: u64,
}

impl Node {
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, None | Some(EntryKind::Dir)) || !self.children.is_empty()
    }
}

/// Sort order of siblings (dive's Ctrl+O).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    #[default]
    Name,
    /// Largest first.
    Size,
}

/// What the tree shows: change kinds, waste only, a path regex.
#[derive(Debug, Clone, Default)]
pub struct ViewOptions {
    /// Bit set of hidden [`Change`] kinds.
    hidden: u8,
    pub waste_only: bool,
    /// Matched against the full path, with a leading `/`.
    pub regex: Option<Regex>,
}

impl ViewOptions {
    pub fn shows(&self, c: Change) -> bool {
        self.hidden & c.bit() == 0
    }

    pub fn toggle(&mut self, c: Change) {
        self.hidden ^= c.bit();
    }
}

/// A built tree plus its current view (visible rows).
#[derive(Debug, Clone)]
pub struct FileTree {
    pub layer: usize,
    pub mode: TreeMode,
    /// Node 0 is the root `/` and is never shown.
    pub nodes: Vec<Node>,
    collapsed: Vec<bool>,
    /// Visible node ids in display order.
    rows: Vec<u32>,
    /// Whether a node is the last visible child of its parent (for tree guides).
    last: Vec<bool>,
    /// Whether a node has visible children.
    open_children: Vec<bool>,
    sort: SortOrder,
}

struct Item {
    layer: u32,
    entry: u32,
    change: Change,
}

impl FileTree {
    /// Builds the tree of `layer` in the given mode.
    pub fn build(a: &Analysis, layer: usize, mode: TreeMode) -> FileTree {
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
            n.mode = e.mode;
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

    /// Visible rows, as node ids in display order.
    pub fn rows(&self) -> &[u32] {
        &self.rows
    }

    pub fn node(&self, id: u32) -> &Node {
        &self.nodes[id as usize]
    }

    pub fn is_collapsed(&self, id: u32) -> bool {
        self.collapsed[id as usize]
    }

    pub fn sort_order(&self) -> SortOrder {
        self.sort
    }

    /// Whether `id` is a directory with children left visible by the filters.
    pub fn has_visible_children(&self, id: u32) -> bool {
        self.open_children[id as usize]
    }

    /// The full path of a node, with a leading `/`.
    pub fn path(&self, id: u32) -> String {
        let mut parts = Vec::new();
        let mut cur = id;
        while cur != 0 {
            let n = &self.nodes[cur as usize];
            parts.push(&*n.name);
            cur = n.parent;
        }
        let mut s = String::new();
        for p in parts.iter().rev() {
            s.push('/');
            s.push_str(p);
        }
        if s.is_empty() {
            s.push('/');
        }
        s
    }

    /// The node at a path (leading `/` optional).
    pub fn find(&self, path: &str) -> Option<u32> {
        let mut cur = 0u32;
        for comp in path.split('/').filter(|c| !c.is_empty()) {
            cur = *self.nodes[cur as usize]
                .children
                .iter()
                .find(|&&c| &*self.nodes[c as usize].name == comp)?;
        }
        (cur != 0).then_some(cur)
    }

    /// Tree guides to draw before a row's name (`│   ├── `).
    pub fn guides(&self, id: u32) -> String {
        self.guides_with(id, false)
    }

    /// Tree guides, two columns per level instead of four when `compact` (narrow panes).
    pub fn guides_with(&self, id: u32, compact: bool) -> String {
        let mut chain = Vec::new();
        let mut cur = self.nodes[id as usize].parent;
        while cur != 0 {
            chain.push(cur);
            cur = self.nodes[cur as usize].parent;
        }
        let mut s = String::with_capacity(4 * (chain.len() + 1));
        for &a in chain.iter().rev() {
            s.push_str(match (self.last[a as usize], compact) {
                (true, false) => "    ",
                (false, false) => "│   ",
                (true, true) => "  ",
                (false, true) => "│ ",
            });
        }
        let collapsed = self.collapsed[id as usize] && self.open_children[id as usize];
        s.push_str(match (self.last[id as usize], collapsed, compact) {
            (true, false, false) => "└── ",
            (false, false, false) => "├── ",
            (true, true, false) => "└─⊕ ",
            (false, true, false) => "├─⊕ ",
            (true, false, true) => "└ ",
            (false, false, true) => "├ ",
            (true, true, true) => "└⊕",
            (false, true, true) => "├⊕",
        });
        s
    }

    /// Collapses or expands one directory.
    pub fn toggle_collapse(&mut self, id: u32) {
        if id != 0 && self.nodes[id as usize].is_dir() {
            self.collapsed[id as usize] = !self.collapsed[id as usize];
        }
    }

    pub fn set_collapsed(&mut self, id: u32, collapsed: bool) {
        if id != 0 && self.nodes[id as usize].is_dir() {
            self.collapsed[id as usize] = collapsed;
        }
    }

    /// Collapses (or expands) every directory.
    pub fn set_all_collapsed(&mut self, collapsed: bool) {
        for (i, n) in self.nodes.iter().enumerate().skip(1) {
            self.collapsed[i] = collapsed && n.is_dir();
        }
    }

    /// Expands every ancestor of `id` so it can be shown.
    pub fn expand_to(&mut self, id: u32) {
        let mut cur = self.nodes[id as usize].parent;
        while cur != 0 {
            self.collapsed[cur as usize] = false;
            cur = self.nodes[cur as usize].parent;
        }
    }

    pub fn set_sort(&mut self, sort: SortOrder) {
        if sort != self.sort {
            self.sort = sort;
            self.sort_children();
        }
    }

    fn sort_children(&mut self) {
        let mut children: Vec<Vec<u32>> = self
            .nodes
            .iter_mut()
            .map(|n| std::mem::take(&mut n.children))
            .collect();
        let nodes = &self.nodes;
        for c in &mut children {
            match self.sort {
                SortOrder::Name => {
                    c.sort_by(|&a, &b| nodes[a as usize].name.cmp(&nodes[b as usize].name))
                }
                SortOrder::Size => c.sort_by(|&a, &b| {
                    let (na, nb) = (&nodes[a as usize], &nodes[b as usize]);
                    nb.size.cmp(&na.size).then_with(|| na.name.cmp(&nb.name))
                }),
            }
        }
        for (n, c) in self.nodes.iter_mut().zip(children) {
            n.children = c;
        }
    }

    /// Recomputes the visible rows for the given options.
    pub fn apply(&mut self, opts: &ViewOptions) {
        let n = self.nodes.len();
        // Regex: a node matches if its path does, or any ancestor's does (a matching
        // directory shows its subtree).
        let matched: Vec<bool> = match &opts.regex {
            None => vec![true; n],
            Some(re) => {
                let mut m = vec![false; n];
                m[0] = false;
                let mut path = String::new();
                let mut stack: Vec<(u32, usize)> = vec![(0, 0)];
                while let Some((id, len)) = stack.pop() {
                    path.truncate(len);
                    if id != 0 {
                        path.push('/');
                        path.push_str(&self.nodes[id as usize].name);
                        let parent = self.nodes[id as usize].parent as usize;
                        m[id as usize] = m[parent] || re.is_match(&path);
                    }
                    let here = path.len();
                    for &c in self.nodes[id as usize].children.iter().rev() {
                        stack.push((c, here));
                    }
                }
                m
            }
        };
        let mut visible = vec![false; n];
        // Children always have larger ids than their parents: a reverse sweep is post-order.
        for id in (1..n).rev() {
            let node = &self.nodes[id];
            let own = matched[id]
                && opts.shows(node.change)
                && (!opts.waste_only || node.mark != Mark::None);
            if own || visible[id] {
                visible[id] = true;
                visible[node.parent as usize] = true;
            }
        }
        self.rows.clear();
        self.last.iter_mut().for_each(|l| *l = false);
        self.open_children.iter_mut().for_each(|o| *o = false);
        for (id, node) in self.nodes.iter().enumerate() {
            if let Some(&l) = node.children.iter().rev().find(|&&c| visible[c as usize]) {
                self.last[l as usize] = true;
                self.open_children[id] = true;
            }
        }
        let mut stack: Vec<u32> = self.nodes[0]
            .children
            .iter()
            .rev()
            .copied()
            .filter(|&c| visible[c as usize])
            .collect();
        while let Some(id) = stack.pop() {
            self.rows.push(id);
            if !self.collapsed[id as usize] {
                stack.extend(
                    self.nodes[id as usize]
                        .children
                        .iter()
                        .rev()
                        .copied()
                        .filter(|&c| visible[c as usize]),
                );
            }
        }
    }
}

/// Evidence paths of findings, by path (without the leading `/`): (layer, mark).
fn evidence_marks(a: &Analysis) -> HashMap<&[u8], Vec<(u32, Mark)>> {
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
struct Builder<'a> {
    nodes: Vec<Node>,
    by_path: HashMap<&'a [u8], u32>,
    layer: u32,
}

impl<'a> Builder<'a> {
    fn new(layer: u32) -> Self {
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
    fn node_for(&mut self, path: &'a [u8]) -> u32 {
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

    fn finish(mut self) -> FileTree {
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

/// Text from an image (names, commands) made safe for a terminal: control characters
/// (newlines, escape sequences a hostile layer could carry) are shown escaped, as `\n` or
/// `\u{1b}`, never sent to the terminal, and secrets redacted (the output-wide rule in
/// [`crate::sanitize`]).
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    crate::sanitize::for_terminal(s)
}

/// `ls -l` style permissions (`drwxr-xr-x`).
pub fn permissions(kind: Option<EntryKind>, mode: u32) -> String {
    let mut s = String::with_capacity(10);
    s.push(kind.map_or('d', EntryKind::symbol));
    for shift in [6u32, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        let special = match shift {
            6 => mode & 0o4000 != 0,
            3 => mode & 0o2000 != 0,
            _ => mode & 0o1000 != 0,
        };
        s.push(match (bits & 1 != 0, special, shift) {
            (true, true, 0) => 't',
            (false, true, 0) => 'T',
            (true, true, _) => 's',
            (false, true, _) => 'S',
            (true, false, _) => 'x',
            (false, false, _) => '-',
        });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{Format, ImageBuilder};

    pub(crate) fn analysis(b: ImageBuilder) -> Analysis {
        let dir = tempfile::tempdir().unwrap();
        let img = b.build().unwrap();
        img.write(Format::OciLayout, dir.path()).unwrap();
        let r = format!("oci:{}", dir.path().display());
        crate::analyze_reference(&r, &Default::default(), &crate::decode::NoProgress).unwrap()
    }

    fn sample() -> Analysis {
        analysis(
            ImageBuilder::new()
                .layer("ADD rootfs /", |l| {
                    l.dir("etc")
                        .file("etc/passwd", b"root:x:0:0\n".to_vec())
                        .dir("var/cache")
                        .file("var/cache/big", vec![1u8; 1000])
                        .dir("old")
                        .file("old/a", vec![2u8; 10])
                })
                .layer("RUN tweak", |l| {
                    l.dir("etc")
                        .file("etc/passwd", b"root:x:0:0:changed\n".to_vec())
                        .file("etc/new", b"n".to_vec())
                        .whiteout("old")
                }),
        )
    }

    fn rows(t: &FileTree) -> Vec<String> {
        t.rows()
            .iter()
            .map(|&id| {
                let n = t.node(id);
                format!("{}{} {:?} {}", t.guides(id), n.name, n.change, n.size)
            })
            .collect()
    }

    #[test]
    fn layer_view_shows_changes_with_kinds() {
        let a = sample();
        let mut t = FileTree::build(&a, 1, TreeMode::Layer);
        t.apply(&ViewOptions::default());
        assert_eq!(
            rows(&t),
            [
                "├── etc Modified 20",
                "│   ├── new Added 1",
                "│   └── passwd Modified 19",
                "└── old Removed 10",
                "    └── a Removed 10",
            ]
        );
        let old = t.find("/old/a").unwrap();
        assert_eq!(t.node(old).mark, Mark::Waste);
        assert_eq!(t.path(old), "/old/a");
    }

    #[test]
    fn aggregated_view_keeps_lower_files_as_unchanged() {
        let a = sample();
        let mut t = FileTree::build(&a, 1, TreeMode::Aggregated);
        t.apply(&ViewOptions::default());
        let r = rows(&t);
        assert!(
            r.contains(&"        └── big Unchanged 1000".to_string()),
            "{r:#?}"
        );
        assert!(r.contains(&"├── old Removed 10".to_string()), "{r:#?}");
        let mut o = ViewOptions::default();
        o.toggle(Change::Unchanged);
        o.toggle(Change::Removed);
        t.apply(&o);
        assert_eq!(
            rows(&t),
            [
                "└── etc Modified 20",
                "    ├── new Added 1",
                "    └── passwd Modified 19"
            ]
        );
    }

    #[test]
    fn regex_collapse_sort_and_waste_only() {
        let a = sample();
        let mut t = FileTree::build(&a, 0, TreeMode::Layer);
        let o = ViewOptions {
            regex: Some(Regex::new("cache").unwrap()),
            ..ViewOptions::default()
        };
        t.apply(&o);
        assert_eq!(
            rows(&t),
            [
                "└── var Unchanged 1000",
                "    └── cache Added 1000",
                "        └── big Added 1000"
            ]
        );
        t.set_all_collapsed(true);
        t.apply(&ViewOptions::default());
        assert_eq!(rows(&t).len(), 3, "{:#?}", rows(&t));
        t.set_all_collapsed(false);
        t.set_sort(SortOrder::Size);
        t.apply(&ViewOptions::default());
        assert_eq!(rows(&t)[0], "├── var Unchanged 1000");
        let o = ViewOptions {
            waste_only: true,
            ..ViewOptions::default()
        };
        t.apply(&o);
        // Layer 0's old/a is removed by layer 1 and etc/passwd replaced: both waste.
        assert_eq!(
            rows(&t),
            [
                "├── etc Added 11",
                "│   └── passwd Added 11",
                "└── old Added 10",
                "    └── a Added 10"
            ]
        );
    }

    #[test]
    fn opaque_dir_and_dir_replaced_by_file() {
        let a = analysis(
            ImageBuilder::new()
                .layer("ADD base /", |l| {
                    l.dir("a")
                        .file("a/x", vec![1u8; 10])
                        .dir("d")
                        .file("d/y", vec![2u8; 5])
                })
                .layer("RUN swap", |l| {
                    l.opaque("a")
                        .file("a/z", b"z".to_vec())
                        .file("d", b"ddd".to_vec())
                }),
        );
        let mut t = FileTree::build(&a, 1, TreeMode::Layer);
        t.apply(&ViewOptions::default());
        assert_eq!(
            rows(&t),
            [
                "├── a Unchanged 1",
                "│   ├── x Removed 10",
                "│   └── z Added 1",
                "└── d Modified 3",
                "    └── y Removed 5",
            ]
        );
        let y = t.find("/d/y").unwrap();
        assert_eq!(t.node(y).mark, Mark::Waste);
        assert_eq!(t.node(t.find("/d").unwrap()).waste, 5);
        // Aggregated at layer 1: the same, plus nothing unchanged left from layer 0.
        let mut t = FileTree::build(&a, 1, TreeMode::Aggregated);
        t.apply(&ViewOptions::default());
        assert_eq!(rows(&t).len(), 5, "{:#?}", rows(&t));
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        assert_eq!(printable("plain"), "plain");
        assert_eq!(printable("a\nb\x1b[2Jc"), "a\\nb\\u{1b}[2Jc");
        let a = analysis(
            ImageBuilder::new().layer("ADD x /", |l| l.file("evil\x1b[2J\nname", b"x".to_vec())),
        );
        let mut t = FileTree::build(&a, 0, TreeMode::Layer);
        t.apply(&ViewOptions::default());
        let n = t.node(t.rows()[0]);
        assert_eq!(&*n.name, "evil\\u{1b}[2J\\nname");
    }

    #[test]
    fn permission_strings() {
        assert_eq!(permissions(Some(EntryKind::Dir), 0o755), "drwxr-xr-x");
        assert_eq!(permissions(Some(EntryKind::File), 0o4755), "-rwsr-xr-x");
        assert_eq!(permissions(Some(EntryKind::Dir), 0o1777), "drwxrwxrwt");
        assert_eq!(permissions(Some(EntryKind::Symlink), 0o777), "lrwxrwxrwx");
    }
}
