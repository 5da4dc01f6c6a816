//! The file-tree model behind the tree pane: one layer's changes, or the filesystem
//! aggregated up to a layer, as an arena of nodes with change kinds (added, modified,
//! removed, unchanged), waste marks, directory sizes, collapse state, and the flat list of
//! rows that the current filters, sort order and collapse state leave visible. It reads the
//! [`Analysis`](crate::Analysis) and knows nothing about terminals: drawing lives in `ui.rs`.
//! Building lives in `build.rs` (a layer range's combined changes in `range.rs`), the view (filters, sort, collapse, rows) in `view.rs`.
//!
//! Building is O(entries) plus a sort; applying filters and flattening are O(nodes); moving
//! through rows is O(1) and drawing touches only the rows on screen, so a layer with
//! hundreds of thousands of files stays responsive.

mod build;
mod compare;
mod range;
mod view;

pub(crate) use compare::{CompareTree, Compared};
pub(crate) use range::RangeBytes;

pub(crate) use view::{permissions, printable};

use regex::Regex;

use crate::index::EntryKind;

/// Which files the tree shows for the selected layer (dive's Ctrl+L / Ctrl+A).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TreeMode {
    /// Only what the selected layer changed.
    Layer,
    /// The whole filesystem as it stands after the selected layer.
    Aggregated,
    /// The combined changes of layers `from` to the selected one, as if they were one
    /// layer (`v` in the layers pane).
    Range { from: usize },
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
    /// Only the files of one package: its name (for the title) and its files' paths.
    pub package: Option<(String, std::sync::Arc<std::collections::HashSet<String>>)>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Analysis;
    use layersift_fixture::{Format, ImageBuilder};

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
