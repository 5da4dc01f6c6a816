//! Finding a path: in the final filesystem, in the filesystem as it stands after a layer, or
//! among the entries one layer shipped. Symlinks are followed inside the image (absolute
//! targets start at the image's root, `..` stops there), never on the host; a hard link
//! resolves to the file member it names in the same layer.

use std::collections::HashMap;

use crate::index::{normalize_path, EntryKind, LayerIndex};
use crate::merge::{merge, Fate};
use crate::Analysis;

use super::{shown, ContentError};

/// Which version of the image's files a command sees. Layers are numbered from 0, as the
/// reports number them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The final filesystem, whiteouts applied.
    Final,
    /// The filesystem as it stands after layer N (layers 0..=N merged).
    UpTo(usize),
    /// What layer N itself shipped, even if a later layer hid it.
    Layer(usize),
}

impl Scope {
    fn describe(self) -> String {
        match self {
            Scope::Final => "the final filesystem".to_string(),
            Scope::UpTo(n) => format!("the filesystem after layer {n}"),
            Scope::Layer(n) => format!("layer {n}"),
        }
    }

    /// The layer this scope is bounded by, checked against the image.
    pub fn check(self, a: &Analysis) -> Result<(), ContentError> {
        let count = a.indexes.len();
        match self {
            Scope::UpTo(layer) | Scope::Layer(layer) if layer >= count => {
                Err(ContentError::NoSuchLayer { layer, count })
            }
            _ => Ok(()),
        }
    }
}

/// A regular file's member in one layer's tar stream: enough to stream to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub layer: usize,
    /// Index of the file in its layer's index.
    pub entry: usize,
    /// The member's normalised path.
    pub path: Vec<u8>,
    /// How many members before it in the same layer carry the same path (a tar may hold a
    /// path twice; the later one wins).
    pub occurrence: usize,
    pub size: u64,
}

impl Located {
    /// The member for entry `entry` of `layer` (a file, or what a hard link names).
    pub fn of(a: &Analysis, layer: usize, entry: usize) -> Result<Located, ContentError> {
        let idx = &a.indexes[layer];
        let e = &idx.entries[entry];
        let entry = match e.kind {
            EntryKind::File => entry,
            EntryKind::Hardlink => {
                hardlink_target(idx, entry).ok_or_else(|| ContentError::Vanished {
                    path: shown(idx.link(entry)),
                    layer,
                })?
            }
            k => return Err(kind_error(shown(idx.path(entry)), k)),
        };
        let path = idx.path(entry).to_vec();
        Ok(Located {
            layer,
            entry,
            occurrence: occurrence(idx, entry),
            size: idx.entries[entry].size,
            path,
        })
    }
}

/// The file member a hard link at `entry` names: the last regular file with that path
/// before it in the same layer.
pub(crate) fn hardlink_target(idx: &LayerIndex, entry: usize) -> Option<usize> {
    let target = idx.link(entry);
    (0..entry)
        .rev()
        .find(|&j| idx.entries[j].kind == EntryKind::File && idx.path(j) == target)
}

/// How many non-marker entries before `entry` in its layer have the same path.
pub(crate) fn occurrence(idx: &LayerIndex, entry: usize) -> usize {
    let p = idx.path(entry);
    (0..entry)
        .filter(|&j| !idx.entries[j].kind.is_marker() && idx.path(j) == p)
        .count()
}

fn kind_error(path: String, k: EntryKind) -> ContentError {
    match k {
        EntryKind::Dir => ContentError::IsDir { path },
        EntryKind::Symlink => ContentError::NotRegular {
            path,
            kind: "symbolic link",
        },
        EntryKind::CharDevice => ContentError::NotRegular {
            path,
            kind: "character device",
        },
        EntryKind::BlockDevice => ContentError::NotRegular {
            path,
            kind: "block device",
        },
        EntryKind::Fifo => ContentError::NotRegular { path, kind: "fifo" },
        EntryKind::Whiteout | EntryKind::Opaque => ContentError::NotRegular {
            path,
            kind: "whiteout",
        },
        EntryKind::File | EntryKind::Hardlink => ContentError::NotRegular { path, kind: "file" },
    }
}

/// The visible entries of a filesystem: path → (layer, entry).
pub(crate) struct View<'a> {
    a: &'a Analysis,
    map: HashMap<&'a [u8], (usize, usize)>,
}

/// How many symlinks one lookup may follow (Linux's limit).
const MAX_HOPS: usize = 40;

impl<'a> View<'a> {
    /// The filesystem after layer `upto` (the final one when `upto` is the last layer).
    pub(crate) fn new(a: &'a Analysis, upto: usize) -> View<'a> {
        let last = a.indexes.len().saturating_sub(1);
        let fates: Vec<Vec<Fate>>;
        let fates = if upto >= last {
            &a.merged.fates
        } else {
            let refs: Vec<&LayerIndex> = a.indexes[..=upto].iter().collect();
            fates = merge(&refs).fates;
            &fates
        };
        let mut map = HashMap::new();
        for (l, f) in fates.iter().enumerate() {
            let idx = &a.indexes[l];
            for (i, fate) in f.iter().enumerate() {
                if fate.is_visible() && !idx.entries[i].kind.is_marker() {
                    map.insert(idx.path(i), (l, i));
                }
            }
        }
        View { a, map }
    }

    /// The final filesystem.
    pub(crate) fn final_fs(a: &'a Analysis) -> View<'a> {
        View::new(a, usize::MAX)
    }

    pub(crate) fn get(&self, path: &[u8]) -> Option<(usize, usize)> {
        self.map.get(path).copied()
    }

    /// Every visible (layer, entry), unordered.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&'a [u8], (usize, usize))> + '_ {
        self.map.iter().map(|(p, v)| (*p, *v))
    }

    /// True when some visible entry lies under `dir` (a directory without its own entry).
    pub(crate) fn has_children(&self, dir: &[u8]) -> bool {
        self.map
            .keys()
            .any(|p| p.len() > dir.len() && p.starts_with(dir) && p[dir.len()] == b'/')
    }

    /// Resolves `path` (any form: leading `/`, `.`, `..`) through the image's symlinks,
    /// the last component's too when `follow_last`. Returns the resolved path.
    pub(crate) fn resolve(&self, path: &[u8], follow_last: bool) -> Result<Vec<u8>, ContentError> {
        let mut todo: Vec<Vec<u8>> = components(path).rev().map(<[u8]>::to_vec).collect();
        let mut cur: Vec<u8> = Vec::new();
        let mut hops = 0;
        while let Some(c) = todo.pop() {
            match c.as_slice() {
                b"" | b"." => continue,
                b".." => {
                    let p = crate::index::parent(&cur).len();
                    cur.truncate(p);
                    continue;
                }
                _ => {}
            }
            let mut next = cur.clone();
            if !next.is_empty() {
                next.push(b'/');
            }
            next.extend_from_slice(&c);
            let link = self.get(&next).filter(|&(l, i)| {
                self.a.indexes[l].entries[i].kind == EntryKind::Symlink
                    && (follow_last || !todo.is_empty())
            });
            match link {
                Some((l, i)) => {
                    hops += 1;
                    if hops > MAX_HOPS {
                        return Err(ContentError::SymlinkLoop { path: shown(path) });
                    }
                    let target = self.a.indexes[l].link(i);
                    if target.first() == Some(&b'/') {
                        cur.clear();
                    }
                    todo.extend(components(target).rev().map(<[u8]>::to_vec));
                }
                None => cur = next,
            }
        }
        Ok(cur)
    }
}

fn components(path: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    path.split(|&b| b == b'/').filter(|c| !c.is_empty())
}

/// The last non-marker entry of `idx` at `path`.
pub(crate) fn last_at(idx: &LayerIndex, path: &[u8]) -> Option<usize> {
    (0..idx.len())
        .rev()
        .find(|&i| !idx.entries[i].kind.is_marker() && idx.path(i) == path)
}

/// Locates the regular file `path` names in `scope`, following symlinks and hard links.
pub(crate) fn locate_file(
    a: &Analysis,
    scope: Scope,
    path: &[u8],
) -> Result<Located, ContentError> {
    let (l, i) = locate(a, scope, path)?;
    Located::of(a, l, i)
}

/// Locates the entry `path` names in `scope`, following symlinks (the last one too).
pub(crate) fn locate(
    a: &Analysis,
    scope: Scope,
    path: &[u8],
) -> Result<(usize, usize), ContentError> {
    scope.check(a)?;
    let upto = match scope {
        Scope::Final => usize::MAX,
        Scope::UpTo(n) | Scope::Layer(n) => n,
    };
    let view = View::new(a, upto);
    let found = match scope {
        Scope::Layer(n) => {
            // The path's directories as the filesystem stood then; the entry from layer N.
            let at = view.resolve(path, false)?;
            let idx = &a.indexes[n];
            match last_at(idx, &at) {
                Some(i) if idx.entries[i].kind == EntryKind::Symlink => {
                    let target = view.resolve(&at, true)?;
                    view.get(&target)
                        .ok_or_else(|| not_found(a, &view, scope, &target))?
                }
                Some(i) => (n, i),
                None => return Err(not_found(a, &view, scope, &at)),
            }
        }
        Scope::Final | Scope::UpTo(_) => {
            let at = view.resolve(path, true)?;
            match view.get(&at) {
                Some(found) => found,
                None if !at.is_empty() && view.has_children(&at) => {
                    return Err(ContentError::IsDir { path: shown(&at) })
                }
                None if at.is_empty() => return Err(ContentError::IsDir { path: "/".into() }),
                None => {
                    return Err(
                        deleted(a, upto, &at).unwrap_or_else(|| not_found(a, &view, scope, &at))
                    )
                }
            }
        }
    };
    Ok(found)
}

/// When `path` was shipped by a layer up to `upto` and removed later (up to `upto`), the
/// error that says so.
fn deleted(a: &Analysis, upto: usize, path: &[u8]) -> Option<ContentError> {
    let last = a.indexes.len().saturating_sub(1).min(upto);
    (0..=last).rev().find_map(|l| {
        let i = last_at(&a.indexes[l], path)?;
        let by = a.merged.fate(l, i).hidden_by()? as usize;
        (by <= last).then(|| ContentError::Deleted {
            path: shown(path),
            layer: by,
        })
    })
}

fn not_found(a: &Analysis, view: &View<'_>, scope: Scope, path: &[u8]) -> ContentError {
    let (near, elsewhere) = match scope {
        Scope::Layer(n) => {
            let idx = &a.indexes[n];
            let names = (0..idx.len())
                .filter(|&i| !idx.entries[i].kind.is_marker())
                .map(|i| idx.path(i));
            let elsewhere = (0..a.indexes.len())
                .filter(|&l| l != n && last_at(&a.indexes[l], path).is_some())
                .collect();
            (near_matches(path, names), elsewhere)
        }
        _ => (
            near_matches(path, view.entries().map(|(p, _)| p)),
            Vec::new(),
        ),
    };
    ContentError::NotFound {
        path: shown(path),
        scope: scope.describe(),
        near,
        elsewhere,
    }
}

/// Up to five paths that look like `wanted`: the same file name first, then by edit
/// distance of the whole path.
pub(crate) fn near_matches<'p>(
    wanted: &[u8],
    paths: impl Iterator<Item = &'p [u8]>,
) -> Vec<String> {
    let want = shown(wanted);
    let want_name = shown(crate::index::file_name(wanted));
    let mut scored: Vec<(f64, String)> = paths
        .filter_map(|p| {
            let s = shown(p);
            let name = shown(crate::index::file_name(p));
            let mut score = strsim::normalized_levenshtein(&want, &s);
            if name == want_name {
                score += 1.0;
            } else {
                score = score.max(0.9 * strsim::normalized_levenshtein(&want_name, &name));
            }
            (score >= 0.6).then_some((score, s))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(5).map(|(_, s)| s).collect()
}

/// Normalises a path a user typed, relative to the image root (leading `/` allowed).
pub(crate) fn user_path(path: &[u8]) -> Vec<u8> {
    let start = path.iter().position(|&b| b != b'/').unwrap_or(path.len());
    let trimmed = &path[start..];
    match normalize_path(trimmed) {
        Ok(Some(p)) => p,
        _ => trimmed.to_vec(),
    }
}
