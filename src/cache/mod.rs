//! The on-disk cache: blobs named by their sha256, and layer entries (opaque bytes under a
//! blob's digest). It sits below its users and knows none of their types: the registry
//! source keeps the blobs it downloads here, and the layer stage (`layers`) keeps
//! what decode made of each layer, in a form decode alone reads and writes.
//!
//! Layout under the cache directory (`$XDG_CACHE_HOME/layersift`, `--cache-dir`,
//! `LAYERSIFT_CACHE_DIR`): `v1/blobs/sha256/<hex>` holds blobs exactly as a registry served
//! them; `v1/layers/sha256/<hex>` holds the entry of the layer whose blob (or, for a plain
//! layer without a blob digest, whose tar) has that digest; `v1/tmp/` holds entries being
//! written.
//!
//! Crash safety: every entry is written to a temporary file and renamed into place, so a
//! reader sees a whole entry or none; a downloaded blob is renamed into place only after it
//! hashed to its digest. A blob's name is its sha256 and is checked on every read; a layer
//! entry carries an xxh3-128 checksum of its contents. An entry that fails its check (a torn
//! write after a power loss, a disk error, tampering) is deleted and treated as a miss.
//!
//! Failures are never errors: the cache is an optimisation. A directory that cannot be
//! created, or a write that fails (read-only, disk full), prints one warning and the
//! analysis goes on without it.
//!
//! Size: every hit refreshes its entry's modification time, and when the last handle on a
//! cache opened with a size limit is dropped (the end of an analysis), the least recently
//! used entries are deleted until the cache fits (`--cache-max-size`, default
//! [`DEFAULT_MAX_BYTES`]). `layersift cache` shows and trims it by hand.

mod blob;

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use xxhash_rust::xxh3::{xxh3_128, Xxh3};

use crate::digest::{sha256_digest, sha256_hex};

pub(crate) use blob::Tee;

/// Temporary files older than this are left over from a crash and removed.
const STALE_TMP: Duration = Duration::from_secs(24 * 3600);

/// The cache's default size limit: 10 GB (decimal, as every size layersift prints).
pub(crate) const DEFAULT_MAX_BYTES: u64 = 10_000_000_000;

/// Why the cache could not be used. Never fatal: printed as a warning by [`Cache::warn`].
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot create the cache directory `{}`", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write to the cache directory `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// A cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    /// Shared by every clone; trims the cache to its limit when the last one goes.
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    root: PathBuf,
    max_bytes: Option<u64>,
    /// One warning per cache and run is enough.
    warned: AtomicBool,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(max) = self.max_bytes {
            trim(&self.root, max);
        }
    }
}

/// What the cache holds: entries and bytes, blobs and decoded layers apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub blobs: u64,
    pub blob_bytes: u64,
    pub layers: u64,
    pub layer_bytes: u64,
}

impl Usage {
    pub fn bytes(&self) -> u64 {
        self.blob_bytes + self.layer_bytes
    }
}

/// What a trim removed and what it left.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trimmed {
    pub removed: u64,
    pub freed_bytes: u64,
    pub kept_bytes: u64,
}

/// Every entry (blob or decoded layer) with its last use and size, least recently used first.
fn entries(root: &Path) -> Vec<(SystemTime, u64, PathBuf, bool)> {
    let mut all = Vec::new();
    for (sub, is_blob) in [("blobs/sha256", true), ("layers/sha256", false)] {
        let Ok(dir) = fs::read_dir(root.join(sub)) else {
            continue;
        };
        for e in dir.flatten() {
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_file() {
                let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                all.push((used, meta.len(), e.path(), is_blob));
            }
        }
    }
    all.sort();
    all
}

/// Deletes least recently used entries until the cache holds at most `max_bytes`.
fn trim(root: &Path, max_bytes: u64) -> Trimmed {
    let all = entries(root);
    let mut total: u64 = all.iter().map(|e| e.1).sum();
    let mut t = Trimmed::default();
    for (_, size, path, _) in all {
        if total <= max_bytes {
            break;
        }
        if fs::remove_file(&path).is_ok() {
            total -= size;
            t.removed += 1;
            t.freed_bytes += size;
        }
    }
    t.kept_bytes = total;
    t
}

/// Marks an entry as just used (its modification time is its last use).
fn touch(path: &Path) {
    if let Ok(f) = File::options().append(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

impl Cache {
    /// The default cache directory: `$XDG_CACHE_HOME/layersift`, else `~/.cache/layersift`.
    pub fn default_dir() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|h| !h.is_empty())
                    .map(|h| PathBuf::from(h).join(".cache"))
            })?;
        Some(base.join("layersift"))
    }

    /// Opens (creating it if needed) a cache under `dir`, and clears stale temporary files.
    /// With `max_bytes`, the cache is trimmed to that size when the last handle is dropped.
    pub fn open(dir: &Path, max_bytes: Option<u64>) -> Result<Cache, CacheError> {
        let root = dir.join("v1");
        for sub in ["blobs/sha256", "layers/sha256", "tmp"] {
            let path = root.join(sub);
            fs::create_dir_all(&path).map_err(|source| CacheError::CreateDir { path, source })?;
        }
        let cache = Cache {
            shared: Arc::new(Shared {
                root: root.clone(),
                max_bytes,
                warned: AtomicBool::new(false),
            }),
            root,
        };
        cache.clear_stale_tmp();
        Ok(cache)
    }

    /// Opens the cache under `dir` for an analysis: a cache that cannot be opened is a
    /// warning on stderr, and the analysis goes on without one.
    pub fn open_or_warn(dir: &Path, max_bytes: Option<u64>) -> Option<Cache> {
        match Cache::open(dir, max_bytes) {
            Ok(c) => Some(c),
            Err(e) => {
                print_warning(&e);
                None
            }
        }
    }

    /// Reports a failure to use the cache, once per cache: later failures (every layer of
    /// a run on a full disk) say nothing new.
    pub fn warn(&self, e: &CacheError) {
        if !self.shared.warned.swap(true, Ordering::Relaxed) {
            print_warning(e);
        }
    }

    fn clear_stale_tmp(&self) {
        let Ok(dir) = fs::read_dir(self.root.join("tmp")) else {
            return;
        };
        let now = SystemTime::now();
        for e in dir.flatten() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > STALE_TMP);
            if old {
                let _ = fs::remove_file(e.path());
            }
        }
    }

    /// What the cache holds now.
    pub fn usage(&self) -> Usage {
        let mut u = Usage::default();
        for (_, size, _, is_blob) in entries(&self.root) {
            if is_blob {
                u.blobs += 1;
                u.blob_bytes += size;
            } else {
                u.layers += 1;
                u.layer_bytes += size;
            }
        }
        u
    }

    /// Deletes least recently used entries until the cache holds at most `max_bytes`
    /// (`0` empties it).
    pub fn trim(&self, max_bytes: u64) -> Trimmed {
        trim(&self.root, max_bytes)
    }

    /// The root of this cache's current format (`DIR/v1`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob with `digest` lives (whether or not it is there).
    pub fn blob_path(&self, digest: &str) -> Option<PathBuf> {
        Some(self.root.join("blobs/sha256").join(sha256_hex(digest)?))
    }

    /// Where the layer entry under `digest` lives (whether or not it is there).
    pub fn layer_path(&self, digest: &str) -> Option<PathBuf> {
        Some(self.root.join("layers/sha256").join(sha256_hex(digest)?))
    }

    fn tmp_path(&self) -> PathBuf {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        self.root
            .join("tmp")
            .join(format!("{}-{n}-{nanos}", std::process::id()))
    }

    /// Writes `bytes` as a whole entry at `dest`: temp file, then rename. A failure is
    /// warned about once and otherwise ignored.
    fn write_atomic(&self, dest: &Path, bytes: &[u8]) {
        let tmp = self.tmp_path();
        let res = fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, dest));
        if let Err(source) = res {
            let _ = fs::remove_file(&tmp);
            self.warn(&CacheError::Write {
                path: self.root.clone(),
                source,
            });
        }
    }

    /// True when a blob with `digest` is stored (unchecked: [`Cache::open_blob`] checks).
    pub fn has_blob(&self, digest: &str) -> bool {
        self.blob_path(digest).is_some_and(|p| p.is_file())
    }

    /// A small cached blob (a config), read whole and verified; `None` on a miss.
    pub fn read_blob(&self, digest: &str, limit: u64) -> Option<Vec<u8>> {
        let path = self.blob_path(digest)?;
        let file = File::open(&path).ok()?;
        let mut bytes = Vec::new();
        file.take(limit + 1).read_to_end(&mut bytes).ok()?;
        if sha256_digest(&bytes) == digest {
            touch(&path);
            Some(bytes)
        } else {
            let _ = fs::remove_file(&path);
            None
        }
    }

    /// Stores a small, already verified blob.
    pub fn put_blob(&self, digest: &str, bytes: &[u8]) {
        if let Some(dest) = self.blob_path(digest) {
            self.write_atomic(&dest, bytes);
        }
    }

    /// Opens a cached blob after checking it still hashes to its name; `None` on a miss
    /// (a damaged entry is deleted so it is fetched again).
    pub fn open_blob(&self, digest: &str) -> Option<File> {
        let path = self.blob_path(digest)?;
        let file = File::open(&path).ok()?;
        if blob::sha256_of(file).ok()? != digest {
            let _ = fs::remove_file(&path);
            return None;
        }
        touch(&path);
        File::open(&path).ok()
    }

    /// True when an entry is stored under `digest` (unchecked: [`Cache::get_layer`] checks).
    pub fn has_layer(&self, digest: &str) -> bool {
        self.layer_path(digest).is_some_and(|p| p.is_file())
    }

    /// The layer entry under `digest`, checked against its checksum; `None` on a miss or a
    /// damaged entry (which is deleted).
    pub fn get_layer(&self, digest: &str) -> Option<Vec<u8>> {
        let path = self.layer_path(digest)?;
        let mut bytes = fs::read(&path).ok()?;
        let body_len = bytes.len().checked_sub(16);
        let whole = body_len.is_some_and(|n| xxh3_128(&bytes[..n]).to_le_bytes() == bytes[n..]);
        match body_len {
            Some(n) if whole => {
                touch(&path);
                bytes.truncate(n);
                Some(bytes)
            }
            _ => {
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// The layer entry under `digest`, parsed by `parse` as it is read (given a reader of
    /// the entry and its length) and checked against its checksum as it goes, so the entry
    /// is never held whole in memory. `None` on a miss, or when the entry is damaged or
    /// `parse` refuses it (the entry is then deleted, to be rebuilt).
    pub fn read_layer<T>(
        &self,
        digest: &str,
        parse: impl FnOnce(&mut dyn Read, u64) -> Option<T>,
    ) -> Option<T> {
        let path = self.layer_path(digest)?;
        let file = File::open(&path).ok()?;
        let checked = || {
            let body = file.metadata().ok()?.len().checked_sub(16)?;
            let mut r = SummedRead {
                inner: io::BufReader::with_capacity(1 << 16, &file),
                sum: Xxh3::new(),
                left: body,
            };
            let value = parse(&mut r, body);
            // The checksum covers the whole body, whatever `parse` left unread.
            io::copy(&mut r, &mut io::sink()).ok()?;
            let mut stored = [0u8; 16];
            r.inner.read_exact(&mut stored).ok()?;
            (r.sum.digest128().to_le_bytes() == stored)
                .then_some(value)
                .flatten()
        };
        match checked() {
            Some(value) => {
                touch(&path);
                Some(value)
            }
            None => {
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores a layer entry under `digest`, with a checksum.
    pub fn put_layer(&self, digest: &str, entry: &[u8]) {
        self.put_layer_with(digest, |w| w.write_all(entry));
    }

    /// Stores the layer entry `write` writes under `digest`, with a checksum, as it is
    /// written: the entry (as large as the layer's index) is never held whole in memory.
    /// Temp file, then rename, as [`Cache::put_layer`]; a failure is warned about once.
    pub fn put_layer_with(
        &self,
        digest: &str,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) {
        let Some(dest) = self.layer_path(digest) else {
            return;
        };
        let tmp = self.tmp_path();
        let res = File::create(&tmp).and_then(|file| {
            let mut w = Summed {
                inner: io::BufWriter::with_capacity(1 << 16, file),
                sum: Xxh3::new(),
            };
            write(&mut w)?;
            let Summed { mut inner, sum } = w;
            inner.write_all(&sum.digest128().to_le_bytes())?;
            inner.flush()?;
            fs::rename(&tmp, &dest)
        });
        if let Err(source) = res {
            let _ = fs::remove_file(&tmp);
            self.warn(&CacheError::Write {
                path: self.root.clone(),
                source,
            });
        }
    }

    /// Deletes the layer entry under `digest` (its reader found it unusable).
    pub fn remove_layer(&self, digest: &str) {
        if let Some(p) = self.layer_path(digest) {
            let _ = fs::remove_file(p);
        }
    }
}

/// A reader of the first `left` bytes of `inner` that keeps their xxh3-128 checksum.
struct SummedRead<R> {
    inner: R,
    sum: Xxh3,
    left: u64,
}

impl<R: Read> Read for SummedRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let max = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.sum.update(&buf[..n]);
        self.left -= n as u64;
        Ok(n)
    }
}

/// A writer that keeps the xxh3-128 checksum of everything written through it.
struct Summed<W> {
    inner: W,
    sum: Xxh3,
}

impl<W: Write> Write for Summed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sum.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn print_warning(e: &CacheError) {
    use std::error::Error as _;
    let mut msg = format!("warning: {e}");
    let mut cause = e.source();
    while let Some(c) = cause {
        msg.push_str(&format!(": {c}"));
        cause = c.source();
    }
    // The path is the user's (or an environment variable's): escaped like any other text
    // that reaches the terminal.
    eprintln!(
        "{}; going on without the cache",
        crate::sanitize::for_terminal(&msg)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_drops_least_recently_used_first_and_hits_count_as_use() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), None).unwrap();
        let blob = |n: u8| {
            let bytes = vec![n; 1000];
            let digest = sha256_digest(&bytes);
            cache.put_blob(&digest, &bytes);
            digest
        };
        let (old, mid, new) = (blob(1), blob(2), blob(3));
        let age = |d: &str, secs: u64| {
            let f = File::options()
                .append(true)
                .open(cache.blob_path(d).unwrap());
            let when = SystemTime::now() - Duration::from_secs(secs);
            f.unwrap().set_modified(when).unwrap();
        };
        age(&old, 300);
        age(&mid, 200);
        age(&new, 100);
        assert_eq!(cache.usage().blobs, 3);
        assert_eq!(cache.usage().bytes(), 3000);

        // Reading `old` makes it the most recently used: `mid` goes first.
        assert!(cache.read_blob(&old, 5000).is_some());
        let t = cache.trim(2000);
        assert_eq!((t.removed, t.freed_bytes, t.kept_bytes), (1, 1000, 2000));
        assert!(cache.blob_path(&mid).is_some_and(|p| !p.exists()));
        assert!(cache.read_blob(&old, 5000).is_some());

        // A cache opened with a limit trims itself when its last handle goes.
        let limited = Cache::open(dir.path(), Some(1000)).unwrap();
        let clone = limited.clone();
        drop(limited);
        assert_eq!(clone.usage().blobs, 2, "not while a handle is alive");
        drop(clone);
        assert_eq!(cache.usage().blobs, 1);
        assert!(cache.read_blob(&old, 5000).is_some(), "the newest stays");
        assert_eq!(cache.trim(0).kept_bytes, 0);
        assert_eq!(cache.usage(), Usage::default());
    }

    #[test]
    fn layer_entries_round_trip_and_damage_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), None).unwrap();
        let key = format!("sha256:{}", "a".repeat(64));
        assert!(cache.get_layer(&key).is_none());
        cache.put_layer(&key, b"what decode made of the layer");
        assert!(cache.has_layer(&key));
        assert_eq!(
            cache.get_layer(&key).unwrap(),
            b"what decode made of the layer"
        );

        let path = cache.layer_path(&key).unwrap();
        let mut bytes = fs::read(&path).unwrap();
        bytes[3] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert!(cache.get_layer(&key).is_none());
        assert!(!path.exists(), "a damaged entry is deleted");

        cache.put_layer(&key, b"x");
        cache.remove_layer(&key);
        assert!(!cache.has_layer(&key));
        assert!(cache.layer_path("sha256:../../x").is_none());
    }

    /// An entry written piece by piece as it is encoded is the same file as one written
    /// whole (its checksum covers every piece); a writer that fails leaves no entry and no
    /// temporary file behind.
    #[test]
    fn layer_entries_written_as_they_are_encoded() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), None).unwrap();
        let (whole, pieces) = (
            format!("sha256:{}", "b".repeat(64)),
            format!("sha256:{}", "c".repeat(64)),
        );
        let body: Vec<u8> = (0..200_000u32).map(|n| (n % 251) as u8).collect();
        cache.put_layer(&whole, &body);
        cache.put_layer_with(&pieces, |w| {
            for part in body.chunks(777) {
                w.write_all(part)?;
            }
            Ok(())
        });
        assert_eq!(cache.get_layer(&pieces).unwrap(), body);
        assert_eq!(
            fs::read(cache.layer_path(&pieces).unwrap()).unwrap(),
            fs::read(cache.layer_path(&whole).unwrap()).unwrap()
        );

        let failed = format!("sha256:{}", "d".repeat(64));
        cache.put_layer_with(&failed, |w| {
            w.write_all(b"half an entry")?;
            Err(io::Error::other("the encoder failed"))
        });
        assert!(!cache.has_layer(&failed));
        assert_eq!(fs::read_dir(dir.path().join("v1/tmp")).unwrap().count(), 0);
    }

    /// An entry read as it is parsed: the parser sees the body and its length, and the
    /// checksum still covers the whole body, even bytes the parser did not read. Damage
    /// anywhere, or a parser that refuses the entry, is a miss and deletes it.
    #[test]
    fn layer_entries_parsed_as_they_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), None).unwrap();
        let key = format!("sha256:{}", "e".repeat(64));
        let body: Vec<u8> = (0..300_000u32).map(|n| (n % 253) as u8).collect();
        let whole = |r: &mut dyn Read, len: u64| {
            let mut v = Vec::new();
            r.read_to_end(&mut v).ok()?;
            (v.len() as u64 == len).then_some(v)
        };
        let head = |r: &mut dyn Read, _: u64| {
            let mut v = [0u8; 10];
            r.read_exact(&mut v).ok()?;
            Some(v)
        };
        assert_eq!(cache.read_layer(&key, whole), None, "a miss");
        cache.put_layer(&key, &body);
        assert_eq!(cache.read_layer(&key, whole).unwrap(), body);
        assert_eq!(cache.read_layer(&key, head).unwrap(), body[..10]);

        // Damage past what the parser reads is still found.
        let path = cache.layer_path(&key).unwrap();
        let mut bytes = fs::read(&path).unwrap();
        bytes[250_000] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(cache.read_layer(&key, head), None);
        assert!(!path.exists(), "a damaged entry is deleted");

        // Cut short: shorter than its checksum, or with the checksum torn off.
        for n in [5, body.len()] {
            cache.put_layer(&key, &body);
            let bytes = fs::read(&path).unwrap();
            fs::write(&path, &bytes[..n]).unwrap();
            assert_eq!(cache.read_layer(&key, whole), None, "{n}");
            assert!(!path.exists());
        }

        cache.put_layer(&key, &body);
        assert_eq!(cache.read_layer(&key, |_, _| None::<()>), None);
        assert!(!path.exists(), "an entry its reader refuses is deleted");
    }

    /// A directory that cannot be created is an error of `open`, which the analysis turns
    /// into a warning; a cache whose directory turned read-only warns once and goes on.
    #[test]
    fn an_unusable_directory_is_never_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        fs::write(&file, b"").unwrap();
        let err = Cache::open(&file, None).unwrap_err();
        assert!(matches!(err, CacheError::CreateDir { .. }), "{err}");
        assert!(Cache::open_or_warn(&file, None).is_none());

        let cache = Cache::open(dir.path(), None).unwrap();
        // Writes to a tmp directory that is gone fail: warned, not raised.
        fs::remove_dir_all(cache.root().join("tmp")).unwrap();
        let key = format!("sha256:{}", "b".repeat(64));
        cache.put_layer(&key, b"entry");
        assert!(!cache.has_layer(&key));
        assert!(cache.shared.warned.load(Ordering::Relaxed));
    }
}
