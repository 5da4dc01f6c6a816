//! `extract`: writes files, directories and symlinks of the final filesystem (whiteouts
//! applied), of the filesystem after a layer, or of what one layer shipped, under a target
//! directory.
//!
//! Safety rules, each with a fixture test:
//! - nothing is written outside the target: every component of every path is checked, and
//!   `..`, `.`, empty and absolute names are refused (decode already refuses such layers);
//! - nothing is written through a symlink: each parent directory is checked with `lstat`
//!   and must be a real directory, files are created with `O_EXCL` (which does not follow a
//!   final symlink), and the image's own symlinks are created last, after every file, so an
//!   image's `a -> /etc` followed by `a/passwd` lands in a real `a/` (and the link is
//!   skipped);
//! - an existing file is replaced only with `force`, by unlinking it first (never by
//!   writing into it, so a hard link to a file elsewhere is never written through);
//! - setuid and setgid bits are dropped; owners are set only with `same_owner`;
//! - device nodes and fifos are skipped with a note.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use rayon::prelude::*;

use crate::index::{Entry, EntryKind, LayerIndex};
use crate::source::Image;
use crate::Analysis;

use super::lookup::{hardlink_target, occurrence, Located, Scope, View};
use super::{shown, stream, ContentError};

/// What to extract and how.
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    pub scope: Scope,
    /// Paths or globs; a match selects the entry and everything under it. Empty: all.
    pub patterns: Vec<String>,
    /// Replace existing files.
    pub force: bool,
    /// Set owners from the image (needs root).
    pub same_owner: bool,
}

/// What was written, and what was not and why.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub files: usize,
    pub dirs: usize,
    pub symlinks: usize,
    pub hardlinks: usize,
    pub bytes: u64,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

impl Summary {
    fn add(&mut self, o: Summary) {
        self.files += o.files;
        self.dirs += o.dirs;
        self.symlinks += o.symlinks;
        self.hardlinks += o.hardlinks;
        self.bytes += o.bytes;
        self.skipped.extend(o.skipped);
    }
}

/// Why one entry was not written (not an error: the rest goes on).
#[derive(Debug)]
enum Refusal {
    Skip(String),
    Fail(ContentError),
}

impl From<ContentError> for Refusal {
    fn from(e: ContentError) -> Self {
        Refusal::Fail(e)
    }
}

fn write_err(path: &Path) -> impl FnOnce(io::Error) -> ContentError + '_ {
    move |source| ContentError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// The entries `opts` selects: (layer, entry), in path order.
pub(crate) fn select(
    a: &Analysis,
    opts: &ExtractOptions,
) -> Result<Vec<(usize, usize)>, ContentError> {
    opts.scope.check(a)?;
    let mut all: Vec<(&[u8], (usize, usize))> = match opts.scope {
        Scope::Layer(n) => {
            let idx = &a.indexes[n];
            let mut last: HashMap<&[u8], usize> = HashMap::new();
            for i in 0..idx.len() {
                if !idx.entries[i].kind.is_marker() {
                    last.insert(idx.path(i), i);
                }
            }
            last.into_iter().map(|(p, i)| (p, (n, i))).collect()
        }
        Scope::Final => View::final_fs(a).entries().collect(),
        Scope::UpTo(n) => View::new(a, n).entries().collect(),
    };
    if !opts.patterns.is_empty() {
        let m = Matcher::new(&opts.patterns)?;
        all.retain(|(p, _)| m.selects(p));
        if all.is_empty() {
            return Err(ContentError::NoMatch {
                patterns: opts.patterns.iter().map(|p| format!("`{p}`")).collect(),
                scope: match opts.scope {
                    Scope::Final => "the final filesystem".to_string(),
                    Scope::UpTo(n) => format!("the filesystem after layer {n}"),
                    Scope::Layer(n) => format!("layer {n}"),
                },
            });
        }
    }
    all.sort_unstable_by(|a, b| a.0.cmp(b.0));
    Ok(all.into_iter().map(|(_, v)| v).collect())
}

/// Selects paths by literal prefix (a directory selects its subtree) or glob.
struct Matcher {
    literal: Vec<Vec<u8>>,
    globs: GlobSet,
}

impl Matcher {
    fn new(patterns: &[String]) -> Result<Matcher, ContentError> {
        let mut literal = Vec::new();
        let mut globs = GlobSetBuilder::new();
        for p in patterns {
            let t = p.trim_start_matches('/').trim_end_matches('/');
            if t.contains(['*', '?', '[', '{']) {
                let g = GlobBuilder::new(t)
                    .literal_separator(true)
                    .build()
                    .map_err(|source| ContentError::BadPattern {
                        pattern: p.clone(),
                        source,
                    })?;
                globs.add(g);
            } else {
                literal.push(super::lookup::user_path(t.as_bytes()));
            }
        }
        let globs = globs.build().map_err(|source| ContentError::BadPattern {
            pattern: patterns.join(" "),
            source,
        })?;
        Ok(Matcher { literal, globs })
    }

    fn selects(&self, path: &[u8]) -> bool {
        let under = |dir: &[u8]| {
            dir.is_empty()
                || path == dir
                || (path.len() > dir.len() && path.starts_with(dir) && path[dir.len()] == b'/')
        };
        if self.literal.iter().any(|l| under(l)) {
            return true;
        }
        // A glob selects what it matches and everything under it.
        let mut p: &[u8] = path;
        loop {
            if self.globs.is_match(Path::new(OsStr::from_bytes(p))) {
                return true;
            }
            let parent = crate::index::parent(p);
            if parent.is_empty() {
                return false;
            }
            p = parent;
        }
    }
}

/// Extracts what `opts` selects under `dir` (created if missing).
pub fn extract(
    image: &Image,
    a: &Analysis,
    dir: &Path,
    opts: &ExtractOptions,
) -> Result<Summary, ContentError> {
    let selected = select(a, opts)?;
    fs::create_dir_all(dir).map_err(write_err(dir))?;
    let root = dir.to_path_buf();
    let entry = |(l, i): (usize, usize)| -> (&LayerIndex, &Entry) {
        (&a.indexes[l], &a.indexes[l].entries[i])
    };

    // Nothing is written when something is in the way, unless `force`.
    if !opts.force {
        for &(l, i) in &selected {
            let (idx, e) = entry((l, i));
            let Some(dest) = checked_join(&root, idx.path(i)) else {
                continue;
            };
            if let Ok(m) = fs::symlink_metadata(&dest) {
                if !(e.kind == EntryKind::Dir && m.file_type().is_dir()) {
                    return Err(ContentError::Exists { path: dest });
                }
            }
        }
    }

    let mut summary = Summary::default();
    let skip = |summary: &mut Summary, path: &[u8], reason: String| {
        summary.skipped.push(Skipped {
            path: shown(path),
            reason,
        });
    };

    // Directories first (modes are set at the end, so read-only ones can be filled).
    let mut dirs = Vec::new();
    for &(l, i) in &selected {
        let (idx, e) = entry((l, i));
        if e.kind != EntryKind::Dir {
            continue;
        }
        match make_dir(&root, idx.path(i)) {
            Ok(p) => {
                summary.dirs += 1;
                dirs.push((p, e.mode(), e.uid, e.gid));
            }
            Err(Refusal::Skip(r)) => skip(&mut summary, idx.path(i), r),
            Err(Refusal::Fail(e)) => return Err(e),
        }
    }

    // Regular files, each layer streamed once, layers in parallel.
    let mut by_layer: Vec<HashMap<&[u8], (usize, usize)>> = vec![HashMap::new(); a.indexes.len()];
    for &(l, i) in &selected {
        let (idx, e) = entry((l, i));
        if e.kind == EntryKind::File {
            by_layer[l].insert(idx.path(i), (occurrence(idx, i), i));
        }
    }
    let written: Mutex<HashSet<(usize, usize)>> = Mutex::new(HashSet::new());
    let per_layer: Vec<Result<Summary, ContentError>> = by_layer
        .par_iter()
        .enumerate()
        .map(|(l, wanted)| {
            let mut s = Summary::default();
            let mut buf = vec![0u8; 256 << 10];
            stream::for_each_wanted(image, l, wanted, |path, i, r| {
                let e = &a.indexes[l].entries[i];
                match write_file(&root, path, e, (l, r), &mut buf, opts) {
                    Ok(n) => {
                        s.files += 1;
                        s.bytes += n;
                        if let Ok(mut w) = written.lock() {
                            w.insert((l, i));
                        }
                        Ok(())
                    }
                    Err(Refusal::Skip(reason)) => {
                        s.skipped.push(Skipped {
                            path: shown(path),
                            reason,
                        });
                        Ok(())
                    }
                    Err(Refusal::Fail(e)) => Err(e),
                }
            })?;
            Ok(s)
        })
        .collect();
    for s in per_layer {
        summary.add(s?);
    }
    let written = written.into_inner().unwrap_or_default();

    // Links and special files last.
    for &(l, i) in &selected {
        let (idx, e) = entry((l, i));
        let path = idx.path(i);
        let r = match e.kind {
            EntryKind::Symlink => make_symlink(&root, path, idx.link(i), opts).map(|()| {
                summary.symlinks += 1;
            }),
            EntryKind::Hardlink => {
                make_hardlink(image, a, &root, (l, i), &written, opts).map(|linked| {
                    if linked {
                        summary.hardlinks += 1;
                    } else {
                        summary.files += 1;
                    }
                })
            }
            EntryKind::CharDevice | EntryKind::BlockDevice => {
                Err(Refusal::Skip("device node (not extracted)".to_string()))
            }
            EntryKind::Fifo => Err(Refusal::Skip("fifo (not extracted)".to_string())),
            _ => Ok(()),
        };
        match r {
            Ok(()) => {
                if opts.same_owner && matches!(e.kind, EntryKind::Symlink) {
                    if let Some(dest) = checked_join(&root, path) {
                        std::os::unix::fs::lchown(&dest, Some(e.uid), Some(e.gid))
                            .map_err(write_err(&dest))?;
                    }
                }
            }
            Err(Refusal::Skip(reason)) => skip(&mut summary, path, reason),
            Err(Refusal::Fail(e)) => return Err(e),
        }
    }

    // Directory modes and owners, deepest first.
    dirs.sort_by_key(|d| std::cmp::Reverse(d.0.as_os_str().len()));
    for (p, mode, uid, gid) in dirs {
        if opts.same_owner {
            std::os::unix::fs::lchown(&p, Some(uid), Some(gid)).map_err(write_err(&p))?;
        }
        fs::set_permissions(&p, fs::Permissions::from_mode(mode & 0o1777))
            .map_err(write_err(&p))?;
    }
    Ok(summary)
}

/// `root/rel`, or `None` when a component of `rel` is not a plain name.
fn checked_join(root: &Path, rel: &[u8]) -> Option<PathBuf> {
    let mut p = root.to_path_buf();
    for c in rel.split(|&b| b == b'/') {
        if c.is_empty() || c == b"." || c == b".." || c.contains(&0) {
            return None;
        }
        p.push(OsStr::from_bytes(c));
    }
    (p != root).then_some(p)
}

/// Makes sure every directory above `rel` exists under `root` as a real directory (never a
/// symlink), creating what is missing; returns the path `rel` is to be written at.
fn safe_parent(root: &Path, rel: &[u8]) -> Result<PathBuf, Refusal> {
    let dest = checked_join(root, rel)
        .ok_or_else(|| Refusal::Skip("unsafe name (outside the target)".to_string()))?;
    let parent = crate::index::parent(rel);
    let mut p = root.to_path_buf();
    if !parent.is_empty() {
        for c in parent.split(|&b| b == b'/') {
            p.push(OsStr::from_bytes(c));
            ensure_real_dir(&p, root)?;
        }
    }
    Ok(dest)
}

/// `p` is a real directory afterwards (created when missing), or the entry is refused.
fn ensure_real_dir(p: &Path, root: &Path) -> Result<(), Refusal> {
    let shown_rel = || {
        p.strip_prefix(root)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    };
    for _ in 0..2 {
        match fs::symlink_metadata(p) {
            Ok(m) if m.file_type().is_dir() => return Ok(()),
            Ok(m) if m.file_type().is_symlink() => {
                return Err(Refusal::Skip(format!(
                    "`{}` is a symlink; nothing is written through one",
                    shown_rel()
                )))
            }
            Ok(_) => {
                return Err(Refusal::Skip(format!(
                    "`{}` is not a directory",
                    shown_rel()
                )))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(p) {
                Ok(()) => return Ok(()),
                // Another layer's writer made it at the same moment: look again.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Refusal::Fail(write_err(p)(e))),
            },
            Err(e) => return Err(Refusal::Fail(write_err(p)(e))),
        }
    }
    Err(Refusal::Skip(format!("`{}` keeps changing", shown_rel())))
}

fn make_dir(root: &Path, rel: &[u8]) -> Result<PathBuf, Refusal> {
    let dest = safe_parent(root, rel)?;
    ensure_real_dir(&dest, root)?;
    // Writable while extracting; the image's mode is set at the end.
    let m = fs::symlink_metadata(&dest).map_err(|e| Refusal::Fail(write_err(&dest)(e)))?;
    if m.permissions().mode() & 0o700 != 0o700 {
        fs::set_permissions(&dest, fs::Permissions::from_mode(0o700))
            .map_err(|e| Refusal::Fail(write_err(&dest)(e)))?;
    }
    Ok(dest)
}

/// Clears the way for a new non-directory at `dest`: nothing there, or (with `force`) a
/// file or symlink that is unlinked, never written into.
fn clear(dest: &Path, opts: &ExtractOptions) -> Result<(), Refusal> {
    match fs::symlink_metadata(dest) {
        Err(_) => Ok(()),
        Ok(m) if m.file_type().is_dir() => {
            Err(Refusal::Skip("a directory is in its place".to_string()))
        }
        Ok(_) if opts.force => fs::remove_file(dest).map_err(|e| Refusal::Fail(write_err(dest)(e))),
        Ok(_) => Err(Refusal::Fail(ContentError::Exists {
            path: dest.to_path_buf(),
        })),
    }
}

fn write_file(
    root: &Path,
    rel: &[u8],
    e: &Entry,
    (layer, r): (usize, &mut dyn Read),
    buf: &mut [u8],
    opts: &ExtractOptions,
) -> Result<u64, Refusal> {
    let dest = safe_parent(root, rel)?;
    clear(&dest, opts)?;
    let fail = |e| Refusal::Fail(write_err(&dest)(e));
    // O_CREAT|O_EXCL: fails on anything already there, a dangling symlink included.
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&dest)
        .map_err(fail)?;
    let mut n = 0u64;
    loop {
        let k = match r.read(buf) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => return Err(Refusal::Fail(ContentError::Read { layer, source })),
        };
        f.write_all(&buf[..k]).map_err(fail)?;
        n += k as u64;
    }
    finish_file(&f, &dest, e, opts).map_err(fail)?;
    Ok(n)
}

/// Mode without setuid/setgid, mtime, and the owner when asked.
fn finish_file(f: &fs::File, dest: &Path, e: &Entry, opts: &ExtractOptions) -> io::Result<()> {
    if opts.same_owner {
        std::os::unix::fs::fchown(f, Some(e.uid), Some(e.gid))?;
    }
    f.set_permissions(fs::Permissions::from_mode(e.mode() & 0o777))?;
    if let Ok(secs) = u64::try_from(e.mtime) {
        let _ = f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
    }
    let _ = dest;
    Ok(())
}

fn make_symlink(
    root: &Path,
    rel: &[u8],
    target: &[u8],
    opts: &ExtractOptions,
) -> Result<(), Refusal> {
    let dest = safe_parent(root, rel)?;
    clear(&dest, opts)?;
    std::os::unix::fs::symlink(OsStr::from_bytes(target), &dest)
        .map_err(|e| Refusal::Fail(write_err(&dest)(e)))
}

/// A hard link to the file it names when that file was extracted in this run (and is still
/// a regular file there); otherwise a copy of its bytes. Returns whether it linked.
fn make_hardlink(
    image: &Image,
    a: &Analysis,
    root: &Path,
    (l, i): (usize, usize),
    written: &HashSet<(usize, usize)>,
    opts: &ExtractOptions,
) -> Result<bool, Refusal> {
    let idx = &a.indexes[l];
    let rel = idx.path(i);
    let dest = safe_parent(root, rel)?;
    clear(&dest, opts)?;
    if let Some(j) = hardlink_target(idx, i).filter(|&j| written.contains(&(l, j))) {
        if let Ok(src) = safe_parent(root, idx.path(j)) {
            let regular = fs::symlink_metadata(&src).is_ok_and(|m| m.file_type().is_file());
            if regular {
                fs::hard_link(&src, &dest).map_err(|e| Refusal::Fail(write_err(&dest)(e)))?;
                return Ok(true);
            }
        }
    }
    let found = Located::of(a, l, i)?;
    let e = idx.entries[found.entry].clone();
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&dest)
        .map_err(|e| Refusal::Fail(write_err(&dest)(e)))?;
    stream::with_entry(image, &found, |r| io::copy(r, &mut f))?;
    finish_file(&f, &dest, &e, opts).map_err(|e| Refusal::Fail(write_err(&dest)(e)))?;
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_join_refuses_every_unsafe_component() {
        let root = Path::new("/t");
        assert_eq!(checked_join(root, b"a/b"), Some(PathBuf::from("/t/a/b")));
        for bad in [
            &b"../x"[..],
            b"a/../../x",
            b"/etc",
            b"a//b",
            b"./a",
            b"",
            b"a\0b",
        ] {
            assert_eq!(checked_join(root, bad), None, "{:?}", shown(bad));
        }
    }

    #[test]
    fn patterns_select_subtrees_and_globs() {
        let m = Matcher::new(&["/etc".into(), "usr/lib/*.so".into()]).unwrap();
        assert!(m.selects(b"etc"));
        assert!(m.selects(b"etc/passwd"));
        assert!(!m.selects(b"etcx"));
        assert!(m.selects(b"usr/lib/a.so"));
        assert!(!m.selects(b"usr/lib/x/a.so"));
        assert!(!m.selects(b"usr/lib"));
    }
}
