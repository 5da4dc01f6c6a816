//! Viewing a built [`FileTree`]: filters (change kinds, waste only, path regex), sort order,
//! collapse state, the flat list of visible rows and tree guides, and the text helpers rows
//! are drawn with.

use super::{FileTree, Mark, Node, SortOrder, ViewOptions};
use crate::index::EntryKind;

impl FileTree {
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

    pub(super) fn sort_children(&mut self) {
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

    /// One flag per node from its full path (with a leading `/`) and its parent's flag,
    /// walking the tree once with one path buffer; the root's flag is false.
    fn mark_paths(&self, mut f: impl FnMut(&str, bool) -> bool) -> Vec<bool> {
        let mut m = vec![false; self.nodes.len()];
        let mut path = String::new();
        let mut stack: Vec<(u32, usize)> = vec![(0, 0)];
        while let Some((id, len)) = stack.pop() {
            path.truncate(len);
            if id != 0 {
                path.push('/');
                path.push_str(&self.nodes[id as usize].name);
                let parent = self.nodes[id as usize].parent as usize;
                m[id as usize] = f(&path, m[parent]);
            }
            let here = path.len();
            for &c in self.nodes[id as usize].children.iter().rev() {
                stack.push((c, here));
            }
        }
        m
    }

    /// Every node but the root in display order (children in sort order, whether collapsed
    /// or not), with its full path (leading `/`): what search walks.
    pub fn walk_paths(&self, mut f: impl FnMut(u32, &str)) {
        let mut path = String::new();
        let mut stack: Vec<(u32, usize)> = vec![(0, 0)];
        while let Some((id, len)) = stack.pop() {
            path.truncate(len);
            if id != 0 {
                path.push('/');
                path.push_str(&self.nodes[id as usize].name);
                f(id, &path);
            }
            let here = path.len();
            for &c in self.nodes[id as usize].children.iter().rev() {
                stack.push((c, here));
            }
        }
    }

    /// Recomputes the visible rows for the given options.
    pub fn apply(&mut self, opts: &ViewOptions) {
        let n = self.nodes.len();
        // Regex: a node matches if its path does, or any ancestor's does (a matching
        // directory shows its subtree).
        let matched: Vec<bool> = match &opts.regex {
            None => vec![true; n],
            Some(re) => self.mark_paths(|path, parent| parent || re.is_match(path)),
        };
        // Package: a node is in it if its path is one of the package's files.
        let in_package: Option<Vec<bool>> = opts
            .package
            .as_ref()
            .map(|(_, paths)| self.mark_paths(|path, _| paths.contains(path)));
        let mut visible = vec![false; n];
        // Children always have larger ids than their parents: a reverse sweep is post-order.
        for id in (1..n).rev() {
            let node = &self.nodes[id];
            let own = matched[id]
                && opts.shows(node.change)
                && (!opts.waste_only || node.mark != Mark::None)
                && in_package.as_ref().is_none_or(|m| m[id]);
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

/// Text from an image (names, commands) made safe for a terminal: control characters
/// (newlines, escape sequences a hostile layer could carry) are shown escaped, as `\n` or
/// `\u{1b}`, never sent to the terminal.
pub(crate) fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    crate::sanitize::for_terminal(s)
}

/// `ls -l` style permissions (`drwxr-xr-x`).
pub(crate) fn permissions(kind: Option<EntryKind>, mode: u32) -> String {
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
