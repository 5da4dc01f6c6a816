//! The on-disk cache of blobs and decoded layer indexes, keyed by digest, so a second
//! analysis of an image (or of one sharing its base layers) downloads and decodes only what
//! is new.
//!
//! Layout under the cache directory (`$XDG_CACHE_HOME/layersift`, `--cache-dir`):
//! `v1/blobs/sha256/<hex>` holds blobs exactly as the registry served them;
//! `v1/layers/sha256/<hex>` holds a decoded layer (sizes, digests, the secrets found in its
//! files under a fingerprint of the rule table, and its [`LayerIndex`]) keyed by its blob
//! digest; `v1/tmp/` holds entries being written.
//!
//! Crash safety: every entry is written to a temporary file and renamed into place, so a
//! reader sees a whole entry or none; a downloaded blob is renamed into place only after
//! decode verified its digest. A blob's name is its sha256 and is checked on every
//! read; a layer entry carries an xxh3-128 checksum of its contents. An entry that fails
//! its check (a torn write after a power loss, a disk error, tampering) is deleted and
//! treated as a miss, so the cache never serves a corrupt entry. Cache write failures are
//! not errors: the cache is an optimisation, the analysis goes on without it.
//!
//! Size: every hit refreshes its entry's modification time, and when the last handle on a
//! cache opened with a size limit is dropped (the end of an analysis), the least recently
//! used entries are deleted until the cache fits (`--cache-max-size`, default
//! [`DEFAULT_MAX_BYTES`]). `layersift cache` shows and trims it by hand.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use sha2::{Digest as _, Sha256};
use xxhash_rust::xxh3::xxh3_128;

use super::{digest_hex, hex, SourceError};
use crate::decode::{Compression, DecodedLayer};
use crate::index::LayerIndex;
use crate::secrets::{rules_fingerprint, SecretHit};

/// Format and meaning of layer entries. Bump it whenever decode's output for the same blob
/// changes (what is indexed, how contents are hashed): older entries then become misses.
/// Changes to the secret rules need no bump; entries carry the rules' fingerprint.
const LAYER_MAGIC: &[u8; 8] = b"LSLAYER2";
/// Temporary files older than this are left over from a crash and removed.
const STALE_TMP: Duration = Duration::from_secs(24 * 3600);

/// The cache's default size limit: 10 GB (decimal, as every size layersift prints).
pub const DEFAULT_MAX_BYTES: u64 = 10_000_000_000;

/// A cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    /// Shared by every clone; trims the cache to its limit when the last one goes.
    _trim: Arc<TrimOnDrop>,
}

#[derive(Debug)]
struct TrimOnDrop {
    root: PathBuf,
    max_bytes: Option<u64>,
}

impl Drop for TrimOnDrop {
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
    pub fn open(dir: &Path, max_bytes: Option<u64>) -> Result<Cache, SourceError> {
        let root = dir.join("v1");
        for sub in ["blobs/sha256", "layers/sha256", "tmp"] {
            let p = root.join(sub);
            fs::create_dir_all(&p).map_err(|e| SourceError::Wrapped {
                message: format!("cannot create the cache directory `{}`", p.display()),
                source: Box::new(e),
            })?;
        }
        let cache = Cache {
            _trim: Arc::new(TrimOnDrop {
                root: root.clone(),
                max_bytes,
            }),
            root,
        };
        cache.clear_stale_tmp();
        Ok(cache)
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
        let hex = digest_hex(digest).ok()?;
        Some(self.root.join("blobs/sha256").join(hex))
    }

    /// Where the decoded layer of the blob `digest` lives (whether or not it is there).
    pub fn layer_path(&self, digest: &str) -> Option<PathBuf> {
        let hex = digest_hex(digest).ok()?;
        Some(self.root.join("layers/sha256").join(hex))
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

    /// Writes `bytes` as a whole entry at `dest`: temp file, then rename.
    fn write_atomic(&self, dest: &Path, bytes: &[u8]) -> io::Result<()> {
        let tmp = self.tmp_path();
        let res = fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, dest));
        if res.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        res
    }

    /// A small cached blob (a config), read whole and verified; `None` on a miss.
    pub fn read_blob(&self, digest: &str, limit: u64) -> Option<Vec<u8>> {
        let path = self.blob_path(digest)?;
        let file = File::open(&path).ok()?;
        let mut bytes = Vec::new();
        file.take(limit + 1).read_to_end(&mut bytes).ok()?;
        if super::sha256_digest(&bytes) == digest {
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
            let _ = self.write_atomic(&dest, bytes);
        }
    }

    /// Opens a cached blob after checking it still hashes to its name; `None` on a miss
    /// (a damaged entry is deleted so it is fetched again).
    pub fn open_blob(&self, digest: &str) -> Option<File> {
        let path = self.blob_path(digest)?;
        let mut file = File::open(&path).ok()?;
        let mut sha = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => sha.update(&buf[..n]),
                Err(_) => return None,
            }
        }
        if format!("sha256:{}", hex(&sha.finalize())) != digest {
            let _ = fs::remove_file(&path);
            return None;
        }
        touch(&path);
        File::open(&path).ok()
    }

    /// Starts writing a blob that is being downloaded; see [`Tee`].
    pub fn blob_writer(&self, digest: &str) -> Option<PendingBlob> {
        let dest = self.blob_path(digest)?;
        let tmp = self.tmp_path();
        let file = File::create(&tmp).ok()?;
        Some(PendingBlob {
            file: Some(BufWriter::with_capacity(256 * 1024, file)),
            staged: Some(StagedBlob {
                tmp,
                dest,
                digest: digest.to_string(),
            }),
        })
    }

    /// A decoded layer cached under its blob digest; `None` on a miss or a damaged entry.
    pub fn get_layer(&self, digest: &str) -> Option<DecodedLayer> {
        let path = self.layer_path(digest)?;
        let bytes = fs::read(&path).ok()?;
        match decode_layer_entry(&bytes) {
            Some(d) if d.digest == digest => {
                touch(&path);
                Some(d)
            }
            _ => {
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// Caches a decoded, verified layer under its blob digest.
    pub fn put_layer(&self, d: &DecodedLayer) {
        if let Some(dest) = self.layer_path(&d.digest) {
            let _ = self.write_atomic(&dest, &encode_layer_entry(d));
        }
    }
}

/// A blob being written to the cache while it streams.
pub struct PendingBlob {
    file: Option<BufWriter<File>>,
    staged: Option<StagedBlob>,
}

impl PendingBlob {
    fn write(&mut self, bytes: &[u8]) {
        if let Some(f) = &mut self.file {
            if f.write_all(bytes).is_err() {
                self.file = None; // disk full or similar: give up caching this blob
                self.staged = None;
            }
        }
    }

    /// The whole blob is written; it enters the cache only when [`StagedBlob::commit`] is
    /// called, after whoever read it verified its digest.
    fn finish(mut self) -> Option<StagedBlob> {
        let f = self.file.take()?;
        f.into_inner().ok()?;
        self.staged.take()
    }
}

/// A completely written blob waiting for its digest to be verified. Dropping it without
/// committing deletes it.
pub struct StagedBlob {
    tmp: PathBuf,
    dest: PathBuf,
    digest: String,
}

impl StagedBlob {
    /// Moves the blob into the cache.
    pub fn commit(self) {
        let _ = fs::rename(&self.tmp, &self.dest);
    }
}

impl Drop for StagedBlob {
    fn drop(&mut self) {
        // After a commit the temporary name no longer exists; otherwise nothing may keep it.
        let _ = fs::remove_file(&self.tmp);
    }
}

/// Blobs written whole and waiting for their digest check, by digest.
#[derive(Default)]
pub struct Staging(Mutex<HashMap<String, StagedBlob>>);

impl Staging {
    fn put(&self, blob: StagedBlob) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(blob.digest.clone(), blob);
        }
    }

    /// Takes the staged blob with `digest`, to commit (or drop) it.
    pub fn take(&self, digest: &str) -> Option<StagedBlob> {
        self.0.lock().ok()?.remove(digest)
    }
}

/// A reader that copies what passes through into a [`PendingBlob`]; at the end of the
/// stream the copy is staged in `staging` until the reader's consumer verified the digest.
/// A stream that fails or is dropped early leaves nothing behind.
pub struct Tee<R> {
    inner: R,
    pending: Option<PendingBlob>,
    staging: Arc<Staging>,
}

impl<R> Tee<R> {
    pub fn new(inner: R, pending: Option<PendingBlob>, staging: Arc<Staging>) -> Self {
        Tee {
            inner,
            pending,
            staging,
        }
    }
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let res = self.inner.read(buf);
        match res {
            Ok(0) => {
                if let Some(staged) = self.pending.take().and_then(PendingBlob::finish) {
                    self.staging.put(staged);
                }
            }
            Ok(n) => {
                if let Some(p) = &mut self.pending {
                    p.write(&buf[..n]);
                }
            }
            Err(_) => self.pending = None,
        }
        res
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn encode_layer_entry(d: &DecodedLayer) -> Vec<u8> {
    let index = d.index.to_bytes();
    let mut out = Vec::with_capacity(index.len() + 200);
    out.extend_from_slice(LAYER_MAGIC);
    out.push(match d.compression {
        Compression::Gzip => 1,
        Compression::Zstd => 2,
        Compression::None => 0,
    });
    out.extend_from_slice(&d.compressed_size.to_le_bytes());
    out.extend_from_slice(&d.uncompressed_size.to_le_bytes());
    put_str(&mut out, &d.digest);
    put_str(&mut out, &d.diff_id);
    // Secret hits name rules by position: valid only under the same rule table.
    out.extend_from_slice(&rules_fingerprint().to_le_bytes());
    out.extend_from_slice(&(d.secrets.len() as u32).to_le_bytes());
    for hit in &d.secrets {
        out.extend_from_slice(&(hit.entry as u64).to_le_bytes());
        out.extend_from_slice(&(hit.rule as u64).to_le_bytes());
        out.extend_from_slice(&(hit.line as u64).to_le_bytes());
        put_str(&mut out, &hit.redacted);
    }
    out.extend_from_slice(&index);
    let sum = xxh3_128(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

fn decode_layer_entry(bytes: &[u8]) -> Option<DecodedLayer> {
    let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(16)?)?;
    if xxh3_128(body).to_le_bytes() != sum {
        return None;
    }
    let rest = body.strip_prefix(LAYER_MAGIC)?;
    let (&c, rest) = rest.split_first()?;
    let compression = match c {
        0 => Compression::None,
        1 => Compression::Gzip,
        2 => Compression::Zstd,
        _ => return None,
    };
    let (compressed, rest) = rest.split_at_checked(8)?;
    let (uncompressed, rest) = rest.split_at_checked(8)?;
    let (digest, rest) = take_str(rest)?;
    let (diff_id, rest) = take_str(rest)?;
    let (fingerprint, rest) = take_u64(rest)?;
    if fingerprint != rules_fingerprint() {
        return None;
    }
    let (count, mut rest) = rest.split_at_checked(4)?;
    let count = u32::from_le_bytes(count.try_into().ok()?);
    let mut secrets = Vec::new();
    for _ in 0..count {
        let (entry, r) = take_u64(rest)?;
        let (rule, r) = take_u64(r)?;
        let (line, r) = take_u64(r)?;
        let (redacted, r) = take_str(r)?;
        rest = r;
        secrets.push(SecretHit {
            entry: usize::try_from(entry).ok()?,
            rule: usize::try_from(rule).ok()?,
            line: usize::try_from(line).ok()?,
            redacted,
        });
    }
    let index = LayerIndex::from_bytes(rest).ok()?;
    if secrets.iter().any(|h| h.entry >= index.len()) {
        return None;
    }
    Some(DecodedLayer {
        index,
        compression,
        compressed_size: u64::from_le_bytes(compressed.try_into().ok()?),
        uncompressed_size: u64::from_le_bytes(uncompressed.try_into().ok()?),
        digest,
        diff_id,
        secrets,
    })
}

fn take_u64(b: &[u8]) -> Option<(u64, &[u8])> {
    let (v, rest) = b.split_at_checked(8)?;
    Some((u64::from_le_bytes(v.try_into().ok()?), rest))
}

fn take_str(b: &[u8]) -> Option<(String, &[u8])> {
    let (len, rest) = b.split_at_checked(4)?;
    let len = u32::from_le_bytes(len.try_into().ok()?) as usize;
    let (s, rest) = rest.split_at_checked(len)?;
    Some((String::from_utf8(s.to_vec()).ok()?, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{EntryKind, NewEntry};

    fn layer() -> DecodedLayer {
        let mut index = LayerIndex::new();
        index.push(NewEntry {
            path: b"etc/hosts",
            link: b"",
            kind: EntryKind::File,
            size: 12,
            hash: 99,
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: 1,
        });
        DecodedLayer {
            index,
            compression: Compression::Gzip,
            compressed_size: 100,
            uncompressed_size: 2048,
            digest: format!("sha256:{}", "a".repeat(64)),
            diff_id: format!("sha256:{}", "b".repeat(64)),
            secrets: vec![SecretHit {
                entry: 0,
                rule: 3,
                line: 2,
                redacted: "token=[REDACTED]".to_string(),
            }],
        }
    }

    #[test]
    fn trim_drops_least_recently_used_first_and_hits_count_as_use() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), None).unwrap();
        let blob = |n: u8| {
            let bytes = vec![n; 1000];
            let digest = super::super::sha256_digest(&bytes);
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
        let d = layer();
        assert!(cache.get_layer(&d.digest).is_none());
        cache.put_layer(&d);
        let back = cache.get_layer(&d.digest).unwrap();
        assert_eq!(back.index.entries, d.index.entries);
        assert_eq!(back.index.path(0), b"etc/hosts");
        assert_eq!(
            (
                back.compression,
                back.compressed_size,
                back.uncompressed_size
            ),
            (Compression::Gzip, 100, 2048)
        );
        assert_eq!(back.diff_id, d.diff_id);
        assert_eq!(back.secrets, d.secrets);

        let path = cache.layer_path(&d.digest).unwrap();
        let mut bytes = fs::read(&path).unwrap();
        bytes[20] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert!(cache.get_layer(&d.digest).is_none());
        assert!(!path.exists(), "a damaged entry is deleted");
    }

    #[test]
    fn blobs_enter_the_cache_only_when_whole_and_committed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), None).unwrap();
        let data = b"layer bytes".repeat(1000);
        let digest = super::super::sha256_digest(&data);
        let staging = Arc::new(Staging::default());
        let tmp_files = || fs::read_dir(cache.root().join("tmp")).unwrap().count();

        // A stream that fails leaves nothing behind.
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("connection reset"))
            }
        }
        let mut failing = Tee::new(Failing, cache.blob_writer(&digest), staging.clone());
        assert!(failing.read_to_end(&mut Vec::new()).is_err());
        drop(failing);
        assert!(staging.take(&digest).is_none());
        assert_eq!(tmp_files(), 0);

        // A whole stream is staged; dropping it unverified deletes it.
        let mut tee = Tee::new(&data[..], cache.blob_writer(&digest), staging.clone());
        io::copy(&mut tee, &mut io::sink()).unwrap();
        drop(staging.take(&digest).unwrap());
        assert!(cache.open_blob(&digest).is_none());
        assert_eq!(tmp_files(), 0);

        // Committed after verification, it is served.
        let mut tee = Tee::new(&data[..], cache.blob_writer(&digest), staging.clone());
        io::copy(&mut tee, &mut io::sink()).unwrap();
        staging.take(&digest).unwrap().commit();
        let mut back = Vec::new();
        cache
            .open_blob(&digest)
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);
        assert_eq!(tmp_files(), 0);

        // A damaged blob is deleted on open.
        let path = cache.blob_path(&digest).unwrap();
        fs::write(&path, b"tampered").unwrap();
        assert!(cache.open_blob(&digest).is_none());
        assert!(!path.exists());
        assert!(cache.read_blob(&digest, 1 << 20).is_none());
    }
}
