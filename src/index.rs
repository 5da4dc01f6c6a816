//! The per-layer file index: a compact, read-only list of every entry a layer's tar holds.
//!
//! A [`LayerIndex`] stores all paths and link targets of one layer in a single byte arena
//! (paths stay raw bytes, so non-UTF-8 names survive losslessly) and one fixed-size
//! [`Entry`] per tar member. Whiteouts and opaque-directory markers are stored already
//! resolved: a whiteout's path is the path it deletes, an opaque marker's path is the
//! directory whose lower children it hides.

use std::borrow::Cow;
use std::fmt::Write as _;

/// What a tar member is, after whiteout names have been resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    Hardlink,
    CharDevice,
    BlockDevice,
    Fifo,
    /// `.wh.NAME`: deletes `NAME` (and everything under it) from lower layers.
    Whiteout,
    /// `.wh..wh..opq`: hides every lower-layer child of its directory.
    Opaque,
}

impl EntryKind {
    /// Whiteouts and opaque markers change lower layers; they are not files themselves.
    pub fn is_marker(self) -> bool {
        matches!(self, EntryKind::Whiteout | EntryKind::Opaque)
    }

    /// One character for listings, as `ls -l` does.
    pub fn symbol(self) -> char {
        match self {
            EntryKind::File => '-',
            EntryKind::Dir => 'd',
            EntryKind::Symlink => 'l',
            EntryKind::Hardlink => 'h',
            EntryKind::CharDevice => 'c',
            EntryKind::BlockDevice => 'b',
            EntryKind::Fifo => 'p',
            EntryKind::Whiteout | EntryKind::Opaque => 'w',
        }
    }
}

/// A span of bytes in a [`LayerIndex`]'s name arena.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    start: u32,
    len: u32,
}

/// One tar member of a layer. Paths live in the owning [`LayerIndex`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Content identity (xxh3-128) for regular files and hard links (the target's), else 0.
    pub hash: u128,
    /// Content bytes for regular files; 0 for everything else (a hard link's bytes are its
    /// target's and are counted once, on the target).
    pub size: u64,
    pub mtime: i64,
    pub path: Span,
    /// Symlink or hard-link target; empty for other kinds.
    pub link: Span,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub kind: EntryKind,
}

/// Every entry of one layer, in tar order.
#[derive(Debug, Clone, Default)]
pub struct LayerIndex {
    names: Vec<u8>,
    pub entries: Vec<Entry>,
}

/// Fields of an entry before its names are interned; used while indexing.
#[derive(Debug, Clone, Copy)]
pub struct NewEntry<'a> {
    pub path: &'a [u8],
    pub link: &'a [u8],
    pub kind: EntryKind,
    pub size: u64,
    pub hash: u128,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: i64,
}

impl LayerIndex {
    pub fn new() -> Self {
        Self::default()
    }

    fn intern(&mut self, bytes: &[u8]) -> Span {
        if bytes.is_empty() {
            return Span::default();
        }
        // Offsets are u32: a layer would need 4 GiB of names to overflow, far past any
        // real image; saturate rather than wrap so a hostile layer cannot alias names.
        let start = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        self.names.extend_from_slice(bytes);
        Span { start, len }
    }

    pub fn push(&mut self, e: NewEntry<'_>) {
        let path = self.intern(e.path);
        let link = self.intern(e.link);
        self.entries.push(Entry {
            hash: e.hash,
            size: e.size,
            mtime: e.mtime,
            path,
            link,
            mode: e.mode,
            uid: e.uid,
            gid: e.gid,
            kind: e.kind,
        });
    }

    fn span(&self, s: Span) -> &[u8] {
        let start = s.start as usize;
        self.names
            .get(start..start + s.len as usize)
            .unwrap_or_default()
    }

    /// The normalised path of entry `i` (no leading `/` or `./`, no trailing `/`).
    pub fn path(&self, i: usize) -> &[u8] {
        self.span(self.entries[i].path)
    }

    /// The link target of entry `i` (empty unless a symlink or hard link).
    pub fn link(&self, i: usize) -> &[u8] {
        self.span(self.entries[i].link)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sum of regular-file content bytes in this layer.
    pub fn content_bytes(&self) -> u64 {
        self.entries.iter().map(|e| e.size).sum()
    }

    pub fn shrink_to_fit(&mut self) {
        self.names.shrink_to_fit();
        self.entries.shrink_to_fit();
    }

    /// Resolves hard links to their target's content hash, so identity comparisons see
    /// through them. Tar hard links always point at an earlier member of the same archive.
    pub fn resolve_hardlinks(&mut self) {
        if !self.entries.iter().any(|e| e.kind == EntryKind::Hardlink) {
            return;
        }
        let mut by_path: std::collections::HashMap<&[u8], u128> = std::collections::HashMap::new();
        let mut fixes = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            match e.kind {
                EntryKind::File => {
                    by_path.insert(self.span(e.path), e.hash);
                }
                EntryKind::Hardlink => {
                    if let Some(h) = by_path.get(self.span(e.link)) {
                        fixes.push((i, *h));
                    }
                }
                _ => {}
            }
        }
        for (i, h) in fixes {
            self.entries[i].hash = h;
        }
    }
}

/// Renders raw path bytes for people and JSON: valid UTF-8 as is, any other byte as `\xNN`,
/// so distinct names stay distinct.
pub fn display_path(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                for b in chunk.invalid() {
                    let _ = write!(out, "\\x{b:02x}");
                }
            }
            Cow::Owned(out)
        }
    }
}

/// Normalises a tar member name: drops `./` and empty components and any trailing `/`.
/// Returns `Ok(None)` for the root directory itself. `..` components and absolute paths
/// are refused: a layer must not name anything outside its own root.
pub fn normalize_path(raw: &[u8]) -> Result<Option<Vec<u8>>, PathProblem> {
    if raw.first() == Some(&b'/') && raw.iter().any(|&b| b != b'/') {
        return Err(PathProblem::Absolute);
    }
    let mut out = Vec::with_capacity(raw.len());
    for comp in raw.split(|&b| b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => return Err(PathProblem::ParentDir),
            c => {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(c);
            }
        }
    }
    Ok(if out.is_empty() { None } else { Some(out) })
}

/// Why a tar member name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathProblem {
    #[error("absolute path")]
    Absolute,
    #[error("`..` component escapes the layer root")]
    ParentDir,
}

/// The parent directory of a normalised path (`""` for top-level names).
pub(crate) fn parent(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) => &path[..i],
        None => b"",
    }
}

/// The last component of a normalised path.
pub(crate) fn file_name(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// Why serialized index bytes were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IndexFormatError {
    #[error("the index ends early")]
    Truncated,
    #[error("the index was written by another format version")]
    Version,
    #[error("the index holds an unknown entry kind {0}")]
    Kind(u8),
    #[error("the index names bytes outside its name arena")]
    Span,
    #[error("the index has bytes after its last entry")]
    Trailing,
}

/// Version of [`LayerIndex::to_bytes`]' format; bump on any change.
const INDEX_FORMAT: u32 = 1;
const ENTRY_BYTES: usize = 16 + 8 + 8 + 4 * 4 + 4 * 3 + 1;

impl EntryKind {
    fn code(self) -> u8 {
        match self {
            EntryKind::File => 0,
            EntryKind::Dir => 1,
            EntryKind::Symlink => 2,
            EntryKind::Hardlink => 3,
            EntryKind::CharDevice => 4,
            EntryKind::BlockDevice => 5,
            EntryKind::Fifo => 6,
            EntryKind::Whiteout => 7,
            EntryKind::Opaque => 8,
        }
    }

    fn from_code(c: u8) -> Option<EntryKind> {
        Some(match c {
            0 => EntryKind::File,
            1 => EntryKind::Dir,
            2 => EntryKind::Symlink,
            3 => EntryKind::Hardlink,
            4 => EntryKind::CharDevice,
            5 => EntryKind::BlockDevice,
            6 => EntryKind::Fifo,
            7 => EntryKind::Whiteout,
            8 => EntryKind::Opaque,
            _ => return None,
        })
    }
}

/// Reads little-endian fields from a byte slice, failing on truncation.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], IndexFormatError> {
        if self.0.len() < n {
            return Err(IndexFormatError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], IndexFormatError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u32(&mut self) -> Result<u32, IndexFormatError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, IndexFormatError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn len(&mut self) -> Result<usize, IndexFormatError> {
        usize::try_from(self.u64()?).map_err(|_| IndexFormatError::Truncated)
    }
}

impl LayerIndex {
    /// A compact, versioned binary form of the index (little-endian, fixed-size entries
    /// after the name arena), for caching on disk. [`LayerIndex::from_bytes`] reads it back.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(20 + self.names.len() + self.entries.len() * ENTRY_BYTES);
        out.extend_from_slice(&INDEX_FORMAT.to_le_bytes());
        out.extend_from_slice(&(self.names.len() as u64).to_le_bytes());
        out.extend_from_slice(&self.names);
        out.extend_from_slice(&(self.entries.len() as u64).to_le_bytes());
        for e in &self.entries {
            out.extend_from_slice(&e.hash.to_le_bytes());
            out.extend_from_slice(&e.size.to_le_bytes());
            out.extend_from_slice(&e.mtime.to_le_bytes());
            for v in [
                e.path.start,
                e.path.len,
                e.link.start,
                e.link.len,
                e.mode,
                e.uid,
                e.gid,
            ] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.push(e.kind.code());
        }
        out
    }

    /// Reads [`LayerIndex::to_bytes`]' form, checking every span against the arena.
    pub fn from_bytes(bytes: &[u8]) -> Result<LayerIndex, IndexFormatError> {
        let mut c = Cursor(bytes);
        if c.u32()? != INDEX_FORMAT {
            return Err(IndexFormatError::Version);
        }
        let names_len = c.len()?;
        let names = c.take(names_len)?.to_vec();
        let count = c.len()?;
        if count.saturating_mul(ENTRY_BYTES) != c.0.len() {
            return Err(if count.saturating_mul(ENTRY_BYTES) > c.0.len() {
                IndexFormatError::Truncated
            } else {
                IndexFormatError::Trailing
            });
        }
        let in_arena = |s: Span| (s.start as usize).saturating_add(s.len as usize) <= names.len();
        let mut entries = Vec::with_capacity(count);
        for _ in 0..count {
            let hash = u128::from_le_bytes(c.array()?);
            let size = c.u64()?;
            let mtime = i64::from_le_bytes(c.array()?);
            let path = Span {
                start: c.u32()?,
                len: c.u32()?,
            };
            let link = Span {
                start: c.u32()?,
                len: c.u32()?,
            };
            let (mode, uid, gid) = (c.u32()?, c.u32()?, c.u32()?);
            let [code] = c.array()?;
            let kind = EntryKind::from_code(code).ok_or(IndexFormatError::Kind(code))?;
            if !in_arena(path) || !in_arena(link) {
                return Err(IndexFormatError::Span);
            }
            entries.push(Entry {
                hash,
                size,
                mtime,
                path,
                link,
                mode,
                uid,
                gid,
                kind,
            });
        }
        Ok(LayerIndex { names, entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_names() {
        assert_eq!(
            normalize_path(b"./etc/passwd").unwrap(),
            Some(b"etc/passwd".to_vec())
        );
        assert_eq!(
            normalize_path(b"etc//x/./y/").unwrap(),
            Some(b"etc/x/y".to_vec())
        );
        assert_eq!(normalize_path(b"./").unwrap(), None);
        assert_eq!(normalize_path(b"/").unwrap(), None);
        assert_eq!(
            normalize_path(b"../etc/passwd"),
            Err(PathProblem::ParentDir)
        );
        assert_eq!(normalize_path(b"a/../../b"), Err(PathProblem::ParentDir));
        assert_eq!(normalize_path(b"/etc/passwd"), Err(PathProblem::Absolute));
    }

    #[test]
    fn displays_non_utf8_losslessly() {
        assert_eq!(display_path(b"caf\xc3\xa9"), "café");
        assert_eq!(display_path(b"caf\xe9"), "caf\\xe9");
    }

    #[test]
    fn arena_round_trips() {
        let mut idx = LayerIndex::new();
        idx.push(NewEntry {
            path: b"a/b",
            link: b"",
            kind: EntryKind::File,
            size: 3,
            hash: 7,
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: 0,
        });
        idx.push(NewEntry {
            path: b"a/c",
            link: b"a/b",
            kind: EntryKind::Hardlink,
            size: 0,
            hash: 0,
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: 0,
        });
        idx.resolve_hardlinks();
        assert_eq!(idx.path(1), b"a/c");
        assert_eq!(idx.link(1), b"a/b");
        assert_eq!(idx.entries[1].hash, 7);
        assert_eq!(idx.content_bytes(), 3);
        assert_eq!(parent(b"a/b/c"), b"a/b");
        assert_eq!(file_name(b"a/b/c"), b"c");
        assert_eq!(parent(b"a"), b"");
    }

    #[test]
    fn binary_form_round_trips_and_refuses_damage() {
        let mut idx = LayerIndex::new();
        for (path, link, kind) in [
            (&b"etc/caf\xe9"[..], &b""[..], EntryKind::File),
            (b"bin/sh", b"busybox", EntryKind::Symlink),
            (b"gone", b"", EntryKind::Whiteout),
        ] {
            idx.push(NewEntry {
                path,
                link,
                kind,
                size: 42,
                hash: u128::MAX - 1,
                mode: 0o4755,
                uid: 1000,
                gid: 7,
                mtime: -5,
            });
        }
        let bytes = idx.to_bytes();
        let back = LayerIndex::from_bytes(&bytes).unwrap();
        assert_eq!(back.entries, idx.entries);
        assert_eq!(back.path(0), b"etc/caf\xe9");
        assert_eq!(back.link(1), b"busybox");
        assert_eq!(
            LayerIndex::from_bytes(&bytes[..bytes.len() - 1]).unwrap_err(),
            IndexFormatError::Truncated
        );
        let mut extra = bytes.clone();
        extra.push(0);
        assert_eq!(
            LayerIndex::from_bytes(&extra).unwrap_err(),
            IndexFormatError::Trailing
        );
        let mut bad_kind = bytes.clone();
        let last = bad_kind.len() - 1;
        bad_kind[last] = 99;
        assert_eq!(
            LayerIndex::from_bytes(&bad_kind).unwrap_err(),
            IndexFormatError::Kind(99)
        );
        let mut old = bytes;
        old[0] = 0;
        assert_eq!(
            LayerIndex::from_bytes(&old).unwrap_err(),
            IndexFormatError::Version
        );
    }
}
