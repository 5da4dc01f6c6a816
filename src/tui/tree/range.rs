//! A range of layers seen as one layer (`v` in the layers pane, dive #414: "what if I
//! merged these RUNs?"): the range's net changes against the filesystem below it, and its
//! bytes split by fate — visible at the end, hidden by a later layer inside the range (what
//! merging the steps into one would stop shipping), or hidden by a layer above the range.

use std::collections::HashSet;

use super::build::{evidence_marks, Builder};
use super::{Change, FileTree, Mark, TreeMode};
use crate::analysis::Analysis;
use crate::index::{display_path, EntryKind};
use crate::merge::Fate;

/// The bytes of a layer range by fate (file contents, as the layer sizes count them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RangeBytes {
    pub(crate) from: usize,
    pub(crate) to: usize,
    /// Everything the range's layers ship.
    pub(crate) content: u64,
    /// Still visible in the final image.
    pub(crate) visible: u64,
    /// Overwritten or removed by a later layer of the range: one merged step would not
    /// ship these.
    pub(crate) hidden_within: u64,
    pub(crate) files_hidden_within: usize,
    /// Overwritten or removed by a layer above the range.
    pub(crate) hidden_after: u64,
    /// Compressed size of the range's blobs.
    pub(crate) compressed: u64,
}

impl RangeBytes {
    pub(crate) fn of(a: &Analysis, from: usize, to: usize) -> RangeBytes {
        let last = a.indexes.len().saturating_sub(1);
        let (from, to) = (from.min(to).min(last), to.max(from).min(last));
        let mut r = RangeBytes {
            from,
            to,
            ..RangeBytes::default()
        };
        let to32 = u32::try_from(to).unwrap_or(u32::MAX);
        for l in from..=to {
            r.compressed += a.layers.get(l).map_or(0, |x| x.compressed_size);
            let Some(idx) = a.indexes.get(l) else {
                continue;
            };
            for (i, e) in idx.entries.iter().enumerate() {
                if e.kind != EntryKind::File {
                    continue;
                }
                r.content += e.size;
                match a.merged.content_fate(l, i).hidden_by() {
                    None => r.visible += e.size,
                    Some(by) if by <= to32 => {
                        r.hidden_within += e.size;
                        r.files_hidden_within += 1;
                    }
                    Some(_) => r.hidden_after += e.size,
                }
            }
        }
        r
    }
}

impl FileTree {
    /// The combined changes of layers `from..=to` against the filesystem below `from`:
    /// each path the range leaves written (added or modified), and each lower path it
    /// removes. A path the range writes and then removes again is not in it.
    pub(super) fn build_range(a: &Analysis, from: usize, to: usize) -> FileTree {
        let last = a.indexes.len().saturating_sub(1);
        let (from, to) = (from.min(to).min(last), to.max(from).min(last));
        let (from32, to32) = (
            u32::try_from(from).unwrap_or(u32::MAX),
            u32::try_from(to).unwrap_or(u32::MAX),
        );
        let in_range = |by: u32| by >= from32 && by <= to32;
        // Paths below the range that the range replaces or removes.
        let mut replaced: HashSet<&[u8]> = HashSet::new();
        let mut removed: Vec<(usize, usize)> = Vec::new();
        for (l, fates) in a.merged.fates.iter().enumerate().take(from) {
            for (i, &fate) in fates.iter().enumerate() {
                match fate {
                    Fate::Overwritten { by, .. } if in_range(by) => {
                        replaced.insert(a.indexes[l].path(i));
                    }
                    Fate::Removed { by } if in_range(by) => removed.push((l, i)),
                    _ => {}
                }
            }
        }
        let evidence = evidence_marks(a);
        let mut b = Builder::new(to32);
        for &(l, i) in &removed {
            let idx = &a.indexes[l];
            let e = &idx.entries[i];
            let id = b.node_for(idx.path(i));
            let n = &mut b.nodes[id as usize];
            n.kind = Some(e.kind);
            n.mode = e.mode();
            n.uid = e.uid;
            n.gid = e.gid;
            n.layer = u32::try_from(l).unwrap_or(u32::MAX);
            n.change = Change::Removed;
            n.size = e.size;
        }
        for l in from..=to {
            let idx = &a.indexes[l];
            let l32 = u32::try_from(l).unwrap_or(u32::MAX);
            for (i, e) in idx.entries.iter().enumerate() {
                if e.kind.is_marker() {
                    continue;
                }
                // Written again or removed inside the range: not a net change.
                if a.merged.fate(l, i).hidden_by().is_some_and(|by| by <= to32) {
                    continue;
                }
                let path = idx.path(i);
                let id = b.node_for(path);
                let mut mark = Mark::None;
                if e.kind == EntryKind::File && !a.merged.content_fate(l, i).is_visible() {
                    mark = Mark::Waste;
                }
                if let Some(marks) = evidence.get(path) {
                    for &(ml, m) in marks {
                        if ml >= from32 && ml <= to32 {
                            mark = mark.max(m);
                        }
                    }
                }
                let was_removed = b.nodes[id as usize].change == Change::Removed;
                let n = &mut b.nodes[id as usize];
                n.kind = Some(e.kind);
                n.mode = e.mode();
                n.uid = e.uid;
                n.gid = e.gid;
                n.link = super::printable(&display_path(idx.link(i))).into();
                n.layer = l32;
                n.change = if replaced.contains(path) || was_removed {
                    Change::Modified
                } else {
                    Change::Added
                };
                n.mark = mark;
                n.size = e.size;
            }
        }
        let mut t = b.finish();
        t.mode = TreeMode::Range { from };
        t.sort_children();
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use layersift_fixture::ImageBuilder;

    /// apt's classic three steps: update, install, clean.
    fn apt() -> Analysis {
        super::super::tests::analysis(
            ImageBuilder::new()
                .layer("ADD rootfs /", |l| {
                    l.dir("etc").file("etc/os-release", b"debian\n".to_vec())
                })
                .layer("RUN apt-get update", |l| {
                    l.dir("var/lib/apt/lists")
                        .file("var/lib/apt/lists/Packages", vec![1u8; 5000])
                })
                .layer("RUN apt-get install -y curl", |l| {
                    l.dir("usr/bin")
                        .file("usr/bin/curl", vec![2u8; 800])
                        .file("etc/os-release", b"debian 12\n".to_vec())
                })
                .layer("RUN rm -rf /var/lib/apt/lists/*", |l| {
                    l.whiteout("var/lib/apt/lists/Packages")
                }),
        )
    }

    fn rows(t: &FileTree) -> Vec<String> {
        t.rows()
            .iter()
            .map(|&id| format!("{} {:?}", t.path(id), t.node(id).change))
            .collect()
    }

    #[test]
    fn merged_steps_show_net_changes_and_what_merging_saves() {
        let a = apt();
        let mut t = FileTree::build(&a, 3, TreeMode::Range { from: 1 });
        t.apply(&Default::default());
        let r = rows(&t);
        // The lists come and go inside the range: not a change of the merged step.
        assert!(!r.iter().any(|p| p.contains("Packages")), "{r:?}");
        assert!(r.contains(&"/usr/bin/curl Added".to_string()), "{r:?}");
        assert!(r.contains(&"/etc/os-release Modified".to_string()), "{r:?}");
        let b = RangeBytes::of(&a, 3, 1);
        assert_eq!((b.from, b.to), (1, 3));
        assert_eq!(b.hidden_within, 5000);
        assert_eq!(b.files_hidden_within, 1);
        assert_eq!(b.visible, 800 + 10);
        assert_eq!(b.hidden_after, 0);
    }

    #[test]
    fn a_range_ending_before_the_clean_up_keeps_the_lists_as_waste() {
        let a = apt();
        let mut t = FileTree::build(&a, 2, TreeMode::Range { from: 1 });
        t.apply(&Default::default());
        let r = rows(&t);
        assert!(
            r.contains(&"/var/lib/apt/lists/Packages Added".to_string()),
            "{r:?}"
        );
        let id = t.find("/var/lib/apt/lists/Packages").unwrap();
        assert_eq!(t.node(id).mark, Mark::Waste);
        let b = RangeBytes::of(&a, 1, 2);
        assert_eq!(b.hidden_within, 0);
        assert_eq!(b.hidden_after, 5000);
        // The base layer's os-release, removed by nothing, is replaced: modified.
        assert!(r.contains(&"/etc/os-release Modified".to_string()), "{r:?}");
    }

    #[test]
    fn removing_a_lower_path_shows_as_removed() {
        let a = apt();
        let mut t = FileTree::build(&a, 3, TreeMode::Range { from: 3 });
        t.apply(&Default::default());
        assert!(rows(&t).contains(&"/var/lib/apt/lists/Packages Removed".to_string()));
    }
}
