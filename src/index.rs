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

/// One tar member of a layer, in 48 bytes. Its path and link target live in the owning
/// [`LayerIndex`]'s arena, at `name`.
///
/// The layout is what keeps a 200,000-file image's index small: the content hash is two
/// `u64` (a `u128` would align the struct to 16 bytes and pad it to 64), the mode keeps 24
/// bits (every value a tar header's octal mode field can hold; only base-256 garbage is
/// wider), and both name lengths sit in the arena before the names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// xxh3-128 of the content, low and high halves (see [`Entry::hash`]).
    hash: [u64; 2],
    /// Content bytes for regular files; 0 for everything else (a hard link's bytes are its
    /// target's and are counted once, on the target).
    pub size: u64,
    pub mtime: i64,
    /// Offset of this entry's name record in the arena (see [`LayerIndex`]); [`NO_NAME`]
    /// when the arena is full.
    name: u32,
    pub uid: u32,
    pub gid: u32,
    /// The low 24 bits of the tar mode, little-endian (see [`Entry::mode`]).
    mode: [u8; 3],
    pub kind: EntryKind,
}

const _: () = assert!(std::mem::size_of::<Entry>() == 48);

/// Mode bits an [`Entry`] keeps: 24, more than the 21 of a tar header's octal field.
pub(crate) const MODE_BITS: u32 = 0x00ff_ffff;

/// The name offset of an entry whose names did not fit in the arena (more than 4 GiB of
/// names in one layer): it reads back as empty, never as another entry's name.
const NO_NAME: u32 = u32::MAX;

impl Entry {
    /// Content identity (xxh3-128) for regular files and hard links (the target's), else 0.
    pub fn hash(&self) -> u128 {
        u128::from(self.hash[0]) | (u128::from(self.hash[1]) << 64)
    }

    fn set_hash(&mut self, h: u128) {
        self.hash = [h as u64, (h >> 64) as u64];
    }

    /// Permission, setuid/setgid/sticky and file-type bits, as the tar header gave them
    /// (bits above [`MODE_BITS`] are dropped).
    pub fn mode(&self) -> u32 {
        let [a, b, c] = self.mode;
        u32::from_le_bytes([a, b, c, 0])
    }

    fn pack_mode(mode: u32) -> [u8; 3] {
        let [a, b, c, _] = (mode & MODE_BITS).to_le_bytes();
        [a, b, c]
    }
}

/// Every entry of one layer, in tar order.
///
/// The arena holds one record per entry: the path's length (LEB128), the path, the link
/// target's length (LEB128) and the link target. Lengths below 128 take one byte.
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

/// Appends `n` as LEB128 (seven bits a byte, low bits first).
fn put_len(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a LEB128 length at the start of `b`: the length and the bytes after it. `None`
/// if it is cut short or wider than 32 bits.
fn take_len(b: &[u8]) -> Option<(usize, &[u8])> {
    let mut n: u64 = 0;
    for (i, &byte) in b.iter().enumerate().take(5) {
        n |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((u32::try_from(n).ok()? as usize, &b[i + 1..]));
        }
    }
    None
}

impl LayerIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a name record; returns its offset.
    fn intern(&mut self, path: &[u8], link: &[u8]) -> u32 {
        let start = self.names.len();
        // Offsets are u32: a layer would need 4 GiB of names to overflow, far past any real
        // image. Past that, names read back empty rather than wrapping onto another entry's.
        let room = (NO_NAME as usize).saturating_sub(start);
        if path.len() + link.len() + 10 > room {
            return NO_NAME;
        }
        put_len(&mut self.names, path.len());
        self.names.extend_from_slice(path);
        put_len(&mut self.names, link.len());
        self.names.extend_from_slice(link);
        start as u32
    }

    pub fn push(&mut self, e: NewEntry<'_>) {
        let name = self.intern(e.path, e.link);
        let mut entry = Entry {
            hash: [0; 2],
            size: e.size,
            mtime: e.mtime,
            name,
            uid: e.uid,
            gid: e.gid,
            mode: Entry::pack_mode(e.mode),
            kind: e.kind,
        };
        entry.set_hash(e.hash);
        self.entries.push(entry);
    }

    /// The (path, link) record at `at`, or `None` if it does not lie inside the arena.
    fn record(&self, at: u32) -> Option<(&[u8], &[u8])> {
        let rest = self.names.get(at as usize..)?;
        let (n, rest) = take_len(rest)?;
        let (path, rest) = rest.split_at_checked(n)?;
        let (n, rest) = take_len(rest)?;
        let link = rest.get(..n)?;
        Some((path, link))
    }

    /// The normalised path of entry `i` (no leading `/` or `./`, no trailing `/`).
    pub fn path(&self, i: usize) -> &[u8] {
        let at = self.entries[i].name as usize;
        self.names
            .get(at..)
            .and_then(take_len)
            .and_then(|(n, rest)| rest.get(..n))
            .unwrap_or_default()
    }

    /// The link target of entry `i` (empty unless a symlink or hard link).
    pub fn link(&self, i: usize) -> &[u8] {
        self.record(self.entries[i].name)
            .map(|(_, link)| link)
            .unwrap_or_default()
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
                    by_path.insert(self.path(i), e.hash());
                }
                EntryKind::Hardlink => {
                    if let Some(h) = by_path.get(self.link(i)) {
                        fixes.push((i, *h));
                    }
                }
                _ => {}
            }
        }
        for (i, h) in fixes {
            self.entries[i].set_hash(h);
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

/// Version of [`LayerIndex::to_bytes`]' format; bump on any change. 2: 48-byte entries
/// naming a record of the arena (version 1 had 61-byte entries with two spans).
const INDEX_FORMAT: u32 = 2;
/// hash, size, mtime, name offset, uid, gid, 24-bit mode, kind.
const ENTRY_BYTES: usize = 16 + 8 + 8 + 4 + 4 + 4 + 3 + 1;

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
}

impl LayerIndex {
    /// A compact, versioned binary form of the index (little-endian, the name arena, then
    /// fixed-size entries), for caching on disk. [`LayerIndex::from_bytes`] reads it back.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        // Writing to a Vec cannot fail.
        let _ = self.write_to(&mut out);
        out
    }

    /// The length of [`LayerIndex::to_bytes`]' form.
    pub fn encoded_len(&self) -> usize {
        20 + self.names.len() + self.entries.len() * ENTRY_BYTES
    }

    /// Writes [`LayerIndex::to_bytes`]' form to `w` as it goes, so a cache entry is written
    /// without a second copy of the index in memory.
    pub fn write_to(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        w.write_all(&INDEX_FORMAT.to_le_bytes())?;
        w.write_all(&(self.names.len() as u64).to_le_bytes())?;
        w.write_all(&self.names)?;
        w.write_all(&(self.entries.len() as u64).to_le_bytes())?;
        let mut rec = [0u8; ENTRY_BYTES];
        for e in &self.entries {
            rec[0..8].copy_from_slice(&e.hash[0].to_le_bytes());
            rec[8..16].copy_from_slice(&e.hash[1].to_le_bytes());
            rec[16..24].copy_from_slice(&e.size.to_le_bytes());
            rec[24..32].copy_from_slice(&e.mtime.to_le_bytes());
            rec[32..36].copy_from_slice(&e.name.to_le_bytes());
            rec[36..40].copy_from_slice(&e.uid.to_le_bytes());
            rec[40..44].copy_from_slice(&e.gid.to_le_bytes());
            rec[44..47].copy_from_slice(&e.mode);
            rec[47] = e.kind.code();
            w.write_all(&rec)?;
        }
        Ok(())
    }

    /// Reads [`LayerIndex::to_bytes`]' form, checking that every entry names a whole
    /// record of the arena.
    pub fn from_bytes(bytes: &[u8]) -> Result<LayerIndex, IndexFormatError> {
        Self::read_from(&mut &bytes[..], bytes.len() as u64)
    }

    /// Reads [`LayerIndex::to_bytes`]' form from `r`, which holds exactly `len` more bytes
    /// of it, straight into the index's vectors (a cache hit holds no second copy). Every
    /// length is checked against `len` before anything is allocated for it.
    pub fn read_from(r: &mut dyn std::io::Read, len: u64) -> Result<LayerIndex, IndexFormatError> {
        let mut read = |buf: &mut [u8]| r.read_exact(buf).map_err(|_| IndexFormatError::Truncated);
        let mut head = [0u8; 12];
        if len < 20 {
            return Err(IndexFormatError::Truncated);
        }
        read(&mut head)?;
        let mut c = Cursor(&head);
        if c.u32()? != INDEX_FORMAT {
            return Err(IndexFormatError::Version);
        }
        let names_len = c.u64()?;
        let left = (len - 20)
            .checked_sub(names_len)
            .ok_or(IndexFormatError::Truncated)?;
        let mut names =
            vec![0u8; usize::try_from(names_len).map_err(|_| IndexFormatError::Truncated)?];
        read(&mut names)?;
        let mut count = [0u8; 8];
        read(&mut count)?;
        let count = u64::from_le_bytes(count);
        let wanted = count.saturating_mul(ENTRY_BYTES as u64);
        if wanted != left {
            return Err(if wanted > left {
                IndexFormatError::Truncated
            } else {
                IndexFormatError::Trailing
            });
        }
        let count = usize::try_from(count).map_err(|_| IndexFormatError::Truncated)?;
        let mut index = LayerIndex {
            names,
            entries: Vec::with_capacity(count),
        };
        // Whole blocks of records at a time, decoded from one reused buffer.
        const BLOCK: usize = 1024;
        let mut block = vec![0u8; ENTRY_BYTES * BLOCK.min(count)];
        let mut remaining = count;
        while remaining > 0 {
            let n = remaining.min(BLOCK);
            let buf = &mut block[..n * ENTRY_BYTES];
            read(buf)?;
            for rec in buf.chunks_exact(ENTRY_BYTES) {
                let entry = index.entry_from(&mut Cursor(rec))?;
                index.entries.push(entry);
            }
            remaining -= n;
        }
        Ok(index)
    }

    /// One 48-byte record of [`LayerIndex::to_bytes`]' form, checked against the arena.
    fn entry_from(&self, c: &mut Cursor<'_>) -> Result<Entry, IndexFormatError> {
        let hash = [c.u64()?, c.u64()?];
        let size = c.u64()?;
        let mtime = i64::from_le_bytes(c.array()?);
        let (name, uid, gid) = (c.u32()?, c.u32()?, c.u32()?);
        let mode = c.array()?;
        let [code] = c.array()?;
        let kind = EntryKind::from_code(code).ok_or(IndexFormatError::Kind(code))?;
        if name != NO_NAME && self.record(name).is_none() {
            return Err(IndexFormatError::Span);
        }
        Ok(Entry {
            hash,
            size,
            mtime,
            name,
            uid,
            gid,
            mode,
            kind,
        })
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
        assert_eq!(idx.entries[1].hash(), 7);
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

    /// Every field at its extremes survives the packing, in memory and through the binary
    /// form: the widest hash, size and times, every mode bit the entry keeps, ids at
    /// `u32::MAX`, long and non-UTF-8 names and link targets, and empty ones.
    #[test]
    fn packed_entries_keep_every_field_at_its_extremes() {
        let long_name = [b'n'; 300];
        let long_link = vec![0xffu8; 70_000];
        let cases: Vec<NewEntry<'_>> = vec![
            NewEntry {
                path: b"max",
                link: b"",
                kind: EntryKind::File,
                size: u64::MAX,
                hash: u128::MAX,
                mode: MODE_BITS,
                uid: u32::MAX,
                gid: u32::MAX,
                mtime: i64::MAX,
            },
            NewEntry {
                path: b"min",
                link: b"",
                kind: EntryKind::Dir,
                size: 0,
                hash: 0,
                mode: 0,
                uid: 0,
                gid: 0,
                mtime: i64::MIN,
            },
            NewEntry {
                // Halves that differ, so swapped halves would show.
                path: b"caf\xe9/\x80\xff",
                link: b"",
                kind: EntryKind::Hardlink,
                size: 1 << 40,
                hash: 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210,
                mode: 0o107_777,
                uid: 1,
                gid: 2,
                mtime: -1,
            },
            NewEntry {
                path: &long_name,
                link: &long_link,
                kind: EntryKind::Symlink,
                size: 0,
                hash: 0,
                mode: 0o120_777,
                uid: 65_534,
                gid: 65_534,
                mtime: 1_700_000_000,
            },
            NewEntry {
                path: b"",
                link: b"../t\xe9rget",
                kind: EntryKind::Symlink,
                size: 0,
                hash: 0,
                mode: 0o777,
                uid: 0,
                gid: 0,
                mtime: 0,
            },
        ];
        let mut idx = LayerIndex::new();
        for e in &cases {
            idx.push(*e);
        }
        idx.push(NewEntry {
            mode: 0xffff_ffff,
            ..cases[0]
        });
        let back = LayerIndex::from_bytes(&idx.to_bytes()).unwrap();
        assert_eq!(back.entries, idx.entries);
        for index in [&idx, &back] {
            for (i, want) in cases.iter().enumerate() {
                let e = &index.entries[i];
                assert_eq!(index.path(i), want.path, "path {i}");
                assert_eq!(index.link(i), want.link, "link {i}");
                assert_eq!(
                    (e.kind, e.size, e.hash(), e.mode(), e.uid, e.gid, e.mtime),
                    (want.kind, want.size, want.hash, want.mode, want.uid, want.gid, want.mtime),
                    "entry {i}"
                );
            }
            // Bits above the 24 kept are dropped; the permission bits below are not
            // touched (a setuid bit is never invented or lost).
            assert_eq!(index.entries[cases.len()].mode(), MODE_BITS);
        }
        // Every mode bit on its own.
        for bit in 0..24 {
            let mut one = LayerIndex::new();
            one.push(NewEntry {
                mode: 1 << bit,
                ..cases[1]
            });
            let back = LayerIndex::from_bytes(&one.to_bytes()).unwrap();
            assert_eq!(back.entries[0].mode(), 1 << bit);
        }
    }

    #[test]
    fn name_lengths_round_trip_at_every_width() {
        for n in [0usize, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152] {
            let mut b = Vec::new();
            put_len(&mut b, n);
            b.push(0xaa);
            assert_eq!(take_len(&b), Some((n, &[0xaa][..])), "{n}");
        }
        let mut b = Vec::new();
        put_len(&mut b, u32::MAX as usize);
        assert_eq!(take_len(&b), Some((u32::MAX as usize, &[][..])));
        // Cut short, or wider than 32 bits: refused.
        assert_eq!(take_len(&[0x80]), None);
        assert_eq!(take_len(&[0xff, 0xff, 0xff, 0xff, 0x10]), None);
        assert_eq!(take_len(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), None);
    }

    #[test]
    fn an_entry_naming_bytes_outside_its_arena_is_refused() {
        let mut idx = LayerIndex::new();
        idx.push(NewEntry {
            path: b"etc/passwd",
            link: b"",
            kind: EntryKind::File,
            size: 1,
            hash: 1,
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: 0,
        });
        let bytes = idx.to_bytes();
        // The name offset is the u32 after hash, size and mtime of the only entry.
        let at = bytes.len() - ENTRY_BYTES + 32;
        for bad in [idx.names.len() as u32, 13, 3, u32::MAX - 1] {
            let mut b = bytes.clone();
            b[at..at + 4].copy_from_slice(&bad.to_le_bytes());
            assert_eq!(
                LayerIndex::from_bytes(&b).unwrap_err(),
                IndexFormatError::Span,
                "offset {bad}"
            );
        }
        // A path length running past the arena's end.
        let mut b = bytes;
        b[12] = 0x7f;
        assert_eq!(
            LayerIndex::from_bytes(&b).unwrap_err(),
            IndexFormatError::Span
        );
    }
}
