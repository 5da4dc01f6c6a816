//! Layer decoding: streams each blob through sha256, sniffs its compression by magic bytes,
//! decompresses while streaming, hashes the uncompressed tar against its diff_id, and walks
//! the tar into a [`LayerIndex`], hashing file contents and dropping them. Memory per layer
//! is a few fixed buffers, whatever the layer's size; nothing touches the disk.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

use sha2::{Digest as _, Sha256};
use xxhash_rust::xxh3::Xxh3;

use crate::index::{normalize_path, EntryKind, LayerIndex, NewEntry, PathProblem};
use crate::secrets::{self, SecretHit};
use crate::source::{hex, Image, LayerBlob, SourceError};

/// How a blob is compressed, as its first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    Gzip,
    Zstd,
    None,
}

impl Compression {
    /// Sniffs magic bytes. Formats layers may not use (bzip2, xz) are named in the error.
    pub fn sniff(head: &[u8]) -> Result<Compression, DecodeError> {
        match head {
            [0x1f, 0x8b, ..] => Ok(Compression::Gzip),
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Ok(Compression::Zstd),
            [b'B', b'Z', b'h', ..] => Err(DecodeError::UnsupportedCompression("bzip2")),
            [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Err(DecodeError::UnsupportedCompression("xz")),
            _ => Ok(Compression::None),
        }
    }
}

/// A decoded layer: its index and what was measured while streaming it.
#[derive(Debug, Clone)]
pub struct DecodedLayer {
    pub index: LayerIndex,
    pub compression: Compression,
    /// Blob bytes read (what a registry stores and users pull).
    pub compressed_size: u64,
    /// Uncompressed tar stream bytes.
    pub uncompressed_size: u64,
    /// `sha256:…` of the blob as read.
    pub digest: String,
    /// `sha256:…` of the uncompressed tar.
    pub diff_id: String,
    /// Secrets found in this layer's small text files (redacted), by entry index.
    pub secrets: Vec<SecretHit>,
}

/// Why a layer could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("cannot open the layer blob")]
    Open(#[source] SourceError),
    #[error("reading the layer blob failed")]
    Read(#[source] io::Error),
    #[error("the {0} stream is corrupt or truncated")]
    Decompress(&'static str, #[source] io::Error),
    #[error("the layer uses {0} compression, which OCI images do not allow")]
    UnsupportedCompression(&'static str),
    #[error("the layer's tar stream is corrupt")]
    Tar(#[source] io::Error),
    #[error("tar entry `{path}` has an unsafe name: {problem}")]
    HostilePath { path: String, problem: PathProblem },
    #[error("blob digest mismatch: the manifest says `{expected}`, the blob hashes to `{actual}`")]
    DigestMismatch { expected: String, actual: String },
    #[error("diff_id mismatch: the config says `{expected}`, the uncompressed layer hashes to `{actual}`")]
    DiffIdMismatch { expected: String, actual: String },
    #[error("the blob is {actual} bytes but the manifest says {expected}")]
    SizeMismatch { expected: u64, actual: u64 },
}

/// A decode error together with the layer it happened in.
#[derive(Debug, thiserror::Error)]
#[error("cannot decode layer {} (`{}`)", .index + 1, .name)]
pub struct LayerError {
    pub index: usize,
    pub name: String,
    #[source]
    pub source: DecodeError,
}

/// Reports decode progress: called from worker threads with (layer, compressed bytes so far).
pub trait Progress: Sync {
    /// Every layer the image will decode, as (layer, blob size), before any starts.
    fn layers_known(&self, _layers: &[(usize, u64)]) {}
    fn layer_started(&self, _layer: usize, _total: u64) {}
    fn advanced(&self, _layer: usize, _bytes_read: u64) {}
    fn layer_done(&self, _layer: usize) {}
}

/// Progress that reports nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// Counts and sha256-hashes the tar stream as the walk reads it (its diff_id).
struct Hashing<R> {
    inner: R,
    /// `None` when the hash is not needed (a plain tar blob is its own diff_id).
    sha: Option<Sha256>,
    count: u64,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R, hash: bool) -> Self {
        Hashing {
            inner,
            sha: hash.then(Sha256::new),
            count: 0,
        }
    }

    fn into_parts(self) -> (String, u64) {
        (
            self.sha
                .map(|sha| format!("sha256:{}", hex(&sha.finalize())))
                .unwrap_or_default(),
            self.count,
        )
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(sha) = &mut self.sha {
            sha.update(&buf[..n]);
        }
        self.count += n as u64;
        Ok(n)
    }
}

/// Marks errors raised by the decompressor so they can be told apart from tar errors.
#[derive(Debug)]
struct StageError(&'static str, io::Error);
impl std::fmt::Display for StageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0, self.1)
    }
}
impl std::error::Error for StageError {}

const BUF: usize = 256 * 1024;

enum Decompressor<R: BufRead> {
    Gzip(Box<flate2::bufread::MultiGzDecoder<R>>),
    Zstd(zstd::stream::read::Decoder<'static, R>),
    Plain(R),
}

impl<R: BufRead> Decompressor<R> {
    fn new(kind: Compression, r: R) -> io::Result<Self> {
        Ok(match kind {
            Compression::Gzip => {
                Decompressor::Gzip(Box::new(flate2::bufread::MultiGzDecoder::new(r)))
            }
            Compression::Zstd => Decompressor::Zstd(zstd::stream::read::Decoder::with_buffer(r)?),
            Compression::None => Decompressor::Plain(r),
        })
    }
}

impl<R: BufRead> Read for Decompressor<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (name, res) = match self {
            Decompressor::Gzip(d) => ("gzip", d.read(buf)),
            Decompressor::Zstd(d) => ("zstd", d.read(buf)),
            Decompressor::Plain(r) => return r.read(buf),
        };
        res.map_err(|e| io::Error::new(e.kind(), StageError(name, e)))
    }
}

/// Turns an io error from the tar walk into the stage that caused it.
fn classify(e: io::Error) -> DecodeError {
    let kind = e.kind();
    match e.into_inner() {
        Some(inner) => match inner.downcast::<StageError>() {
            // The source failed (a download), not the decompressor reading from it.
            Ok(stage) if stage.1.get_ref().is_some_and(|e| e.is::<SourceError>()) => {
                DecodeError::Read(stage.1)
            }
            Ok(stage) => DecodeError::Decompress(stage.0, stage.1),
            Err(other) => match other.downcast::<io::Error>() {
                Ok(io) => classify(*io),
                Err(other) => DecodeError::Tar(io::Error::new(kind, other)),
            },
        },
        None => DecodeError::Tar(io::Error::from(kind)),
    }
}

/// Bytes move between the pipeline's threads (blob reader → inflater → tar walk) in chunks
/// of this size; a few are in flight per stage, so memory stays bounded.
const CHUNK: usize = 256 << 10;
const CHUNKS_IN_FLIGHT: usize = 4;

type ChunkTx = SyncSender<io::Result<Vec<u8>>>;

/// The receiving end of a pipeline stage: reads the chunks the stage before it sends, and
/// hands spent buffers back for reuse.
struct ChunkReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    back: SyncSender<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
}

/// A channel of chunks between two stages, with the way back for spent buffers.
fn chunk_channel() -> (ChunkTx, Receiver<Vec<u8>>, ChunkReader) {
    let (tx, rx) = sync_channel(CHUNKS_IN_FLIGHT);
    let (back_tx, back_rx) = sync_channel(CHUNKS_IN_FLIGHT + 1);
    let reader = ChunkReader {
        rx,
        back: back_tx,
        cur: Vec::new(),
        pos: 0,
    };
    (tx, back_rx, reader)
}

impl BufRead for ChunkReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.cur.len() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    let spent = std::mem::replace(&mut self.cur, chunk);
                    let _ = self.back.try_send(spent);
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(&[]), // the sending stage finished
            }
        }
        Ok(&self.cur[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.cur.len());
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = buf.len().min(avail.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// Fills a chunk from `r` as far as it goes; fewer than [`CHUNK`] bytes means the end.
fn fill_chunk(r: &mut impl Read, chunk: &mut Vec<u8>) -> io::Result<()> {
    chunk.resize(CHUNK, 0);
    let mut filled = 0;
    while filled < CHUNK {
        match r.read(&mut chunk[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                chunk.truncate(filled);
                return Err(e);
            }
        }
    }
    chunk.truncate(filled);
    Ok(())
}

/// Stands in, downstream, for a blob read error that the reading stage reports itself.
#[derive(Debug)]
struct BlobReadFailed;
impl std::fmt::Display for BlobReadFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("reading the blob failed")
    }
}
impl std::error::Error for BlobReadFailed {}

/// The first stage: reads the blob, hashes it, reports progress, and sends it on in chunks.
/// When the next stage stops early (corrupt data, a bad tar entry), it goes on hashing to
/// the end unless told to `abort`, so that a blob which does not match its digest (tampered,
/// damaged in storage) is reported as that, whatever broke first downstream.
/// A plain tar blob is left for [`relay_side`] to hash, off this thread, so reading and
/// hashing a large uncompressed layer run side by side.
/// Returns the blob's digest (when this stage hashed it) and size.
fn read_side(
    mut blob: impl Read,
    progress: Option<(&dyn Progress, usize)>,
    tx: &ChunkTx,
    back: &Receiver<Vec<u8>>,
    abort: &AtomicBool,
) -> io::Result<(Option<String>, u64)> {
    let mut sha: Option<Sha256> = None;
    let (mut count, mut reported) = (0u64, 0u64);
    let mut live = true;
    let mut spare = Vec::new();
    loop {
        let mut chunk = back
            .try_recv()
            .unwrap_or_else(|_| std::mem::take(&mut spare));
        if let Err(e) = fill_chunk(&mut blob, &mut chunk) {
            if live {
                let _ = tx.send(Err(io::Error::new(e.kind(), BlobReadFailed)));
            }
            return Err(e);
        }
        if count == 0 && !matches!(Compression::sniff(&chunk), Ok(Compression::None)) {
            sha = Some(Sha256::new());
        }
        if let Some(sha) = &mut sha {
            sha.update(&chunk);
        }
        count += chunk.len() as u64;
        let end = chunk.len() < CHUNK;
        if let Some((p, layer)) = progress {
            if count - reported >= 4 << 20 || end {
                reported = count;
                p.advanced(layer, count);
            }
        }
        if live && !chunk.is_empty() {
            if let Err(returned) = tx.send(Ok(chunk)) {
                live = false;
                spare = returned.0.unwrap_or_default();
            }
        } else {
            spare = chunk;
        }
        if end {
            let digest = sha.map(|sha| format!("sha256:{}", hex(&sha.finalize())));
            return Ok((digest, count));
        }
        if !live && abort.load(Ordering::Relaxed) {
            return Err(io::Error::other("abandoned"));
        }
    }
}

/// The middle stage for a plain tar blob: hashes the chunks the reader sends (the blob's
/// digest, which is also its diff_id) and passes them on to the tar walk. Like the reader,
/// it hashes to the end even when the walk stops early.
fn relay_side(first: Vec<u8>, rx: Receiver<io::Result<Vec<u8>>>, tx: &ChunkTx) -> Option<String> {
    let mut sha = Sha256::new();
    let mut live = true;
    for item in std::iter::once(Ok(first)).chain(rx) {
        match item {
            Ok(chunk) => {
                sha.update(&chunk);
                if live && !chunk.is_empty() {
                    live = tx.send(Ok(chunk)).is_ok();
                }
            }
            Err(e) => {
                if live {
                    let _ = tx.send(Err(e));
                }
                return None;
            }
        }
    }
    Some(format!("sha256:{}", hex(&sha.finalize())))
}

/// The inflating stage: decompresses chunks from the reader into chunks for the tar walk.
fn inflate_side(
    mut decomp: Decompressor<ChunkReader>,
    tx: &ChunkTx,
    back: &Receiver<Vec<u8>>,
) -> Option<DecodeError> {
    loop {
        let mut chunk = back.try_recv().unwrap_or_default();
        if let Err(e) = fill_chunk(&mut decomp, &mut chunk) {
            let _ = tx.send(Err(e));
            return Some(DecodeError::Read(io::Error::other("decompression failed")));
        }
        let end = chunk.len() < CHUNK;
        if !chunk.is_empty() && tx.send(Ok(chunk)).is_err() {
            // The indexing side stopped (its own error is the one reported).
            return Some(DecodeError::Read(io::Error::other("indexing stopped")));
        }
        if end {
            return None;
        }
    }
}

/// What the tar walk produced: the index, the secrets seen, the diff_id and the tar size.
type Indexed = (LayerIndex, Vec<SecretHit>, String, u64);

/// Decodes one layer blob stream, verifying it against whatever digests are known.
///
/// Three threads form a pipeline joined by bounded channels: one reads (and, for a
/// compressed blob, hashes) the blob; one decompresses it, or for a plain tar hashes it;
/// and this one walks the tar (hashing it too when it was decompressed). So one large layer
/// keeps more than one core busy, and the longest chain is the decompression alone, or the
/// single sha256 pass over a plain tar.
pub fn decode_layer(
    blob: impl Read + Send,
    expected_digest: Option<&str>,
    expected_diff_id: Option<&str>,
    progress: Option<(&dyn Progress, usize)>,
) -> Result<DecodedLayer, DecodeError> {
    let abort = AtomicBool::new(false);
    let (raw_tx, raw_back, mut raw) = chunk_channel();
    let (compression, indexed, inflate_error, blob_read, relayed) = std::thread::scope(|scope| {
        let abort = &abort;
        let reader = scope.spawn(move || read_side(blob, progress, &raw_tx, &raw_back, abort));
        type Reader<'s> = std::thread::ScopedJoinHandle<'s, io::Result<(Option<String>, u64)>>;
        let joined = |reader: Reader<'_>| {
            reader
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the blob reading thread panicked")))
        };
        let sniffed = match raw.fill_buf() {
            Ok(head) => Compression::sniff(head),
            Err(_) => Ok(Compression::None), // the reader's own error is reported below
        };
        let compression = match sniffed {
            Ok(c) => c,
            Err(e) => {
                abort.store(true, Ordering::Relaxed);
                drop(raw);
                let _ = joined(reader);
                return Err(e);
            }
        };
        let (indexed, inflate_error, relayed) = if compression == Compression::None {
            // A plain blob is the tar itself: one stage hashes it, the walk indexes it.
            let ChunkReader { rx, back, cur, pos } = raw;
            let (tx, _, mut walked) = chunk_channel();
            walked.back = back; // spent buffers go straight back to the reader
            let first = cur[pos..].to_vec();
            let relay = scope.spawn(move || relay_side(first, rx, &tx));
            let indexed = index_tar(walked, false);
            let digest = relay.join().unwrap_or(None);
            (indexed, None, digest)
        } else {
            let decomp = Decompressor::new(compression, raw).map_err(DecodeError::Read);
            match decomp {
                Ok(decomp) => {
                    let (tx, back, inflated) = chunk_channel();
                    let inflater = scope.spawn(move || inflate_side(decomp, &tx, &back));
                    let indexed = index_tar(inflated, true);
                    let error = inflater.join().unwrap_or_else(|_| {
                        Some(DecodeError::Read(io::Error::other(
                            "the decompression thread panicked",
                        )))
                    });
                    (indexed, error, None)
                }
                Err(e) => (Err(e), None, None),
            }
        };
        Ok((compression, indexed, inflate_error, joined(reader), relayed))
    })?;
    // A blob that could not be read is the cause of whatever failed after it.
    let (digest, compressed_size) = blob_read.map_err(DecodeError::Read)?;
    let digest = digest
        .or(relayed)
        .ok_or_else(|| DecodeError::Read(io::Error::other("the blob was not hashed")))?;
    // A whole blob that does not hash to its digest (tampered, or damaged in storage) is
    // reported as such, even when its damage also broke decompression; a truncated one is
    // reported by the stage that ran out of input.
    let truncated = match &indexed {
        Err(DecodeError::Decompress(_, e) | DecodeError::Tar(e)) => {
            e.kind() == io::ErrorKind::UnexpectedEof
        }
        _ => false,
    };
    if let Some(expected) = expected_digest {
        if expected != digest && !truncated && (indexed.is_err() || inflate_error.is_some()) {
            return Err(DecodeError::DigestMismatch {
                expected: expected.to_string(),
                actual: digest,
            });
        }
    }
    // A tar or decompression error seen while indexing says more than the inflating side's.
    let (mut index, secret_hits, mut diff_id, uncompressed_size) = indexed?;
    if let Some(e) = inflate_error {
        return Err(e);
    }
    if compression == Compression::None {
        diff_id.clone_from(&digest);
    }

    if let Some(expected) = expected_digest {
        if expected != digest {
            return Err(DecodeError::DigestMismatch {
                expected: expected.to_string(),
                actual: digest,
            });
        }
    }
    if let Some(expected) = expected_diff_id {
        if expected != diff_id {
            return Err(DecodeError::DiffIdMismatch {
                expected: expected.to_string(),
                actual: diff_id,
            });
        }
    }
    index.resolve_hardlinks();
    index.shrink_to_fit();
    Ok(DecodedLayer {
        index,
        compression,
        compressed_size,
        uncompressed_size,
        digest,
        diff_id,
        secrets: secret_hits,
    })
}

/// Walks an uncompressed tar stream into an index, hashing the whole stream (the diff_id)
/// when asked to.
/// Returns the index, the secrets found in its small text files, the digest and the size.
fn index_tar(stream: impl Read, hash: bool) -> Result<Indexed, DecodeError> {
    let hashing = Hashing::new(stream, hash);
    let mut archive = tar::Archive::new(hashing);
    let mut index = LayerIndex::new();
    let mut buf = vec![0u8; BUF];
    let mut scan = SecretScan {
        scanner: secrets::scanner(),
        content: Vec::new(),
        hits: Vec::new(),
    };
    for entry in archive.entries().map_err(classify)? {
        let mut entry = entry.map_err(classify)?;
        index_entry(&mut index, &mut entry, &mut buf, &mut scan)?;
    }
    // Hash the rest of the stream (end-of-archive padding).
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(classify)?;
    let (diff_id, size) = rest.into_parts();
    Ok((index, scan.hits, diff_id, size))
}

/// The secret-scan hook of the tar walk: small files' content is collected while it is
/// hashed anyway, then handed to the scanner if it looks like text.
struct SecretScan {
    scanner: Option<&'static secrets::Scanner>,
    content: Vec<u8>,
    hits: Vec<SecretHit>,
}

impl SecretScan {
    /// Should this file's content be collected? Small files only: credentials are small,
    /// and this keeps the copy cheap.
    fn wants(&self, size: u64) -> bool {
        self.scanner.is_some() && size > 0 && size <= secrets::MAX_SCAN_BYTES
    }
}

fn entry_kind(t: tar::EntryType) -> Option<EntryKind> {
    use tar::EntryType as T;
    Some(match t {
        T::Regular | T::Continuous | T::GNUSparse => EntryKind::File,
        T::Directory => EntryKind::Dir,
        T::Symlink => EntryKind::Symlink,
        T::Link => EntryKind::Hardlink,
        T::Char => EntryKind::CharDevice,
        T::Block => EntryKind::BlockDevice,
        T::Fifo => EntryKind::Fifo,
        // Metadata entries (PAX, GNU long names) are consumed by the tar reader; anything
        // else unknown is skipped rather than guessed at.
        _ => return None,
    })
}

fn index_entry<R: Read>(
    index: &mut LayerIndex,
    entry: &mut tar::Entry<'_, R>,
    buf: &mut [u8],
    scan: &mut SecretScan,
) -> Result<(), DecodeError> {
    let header = entry.header();
    let Some(mut kind) = entry_kind(header.entry_type()) else {
        return Ok(());
    };
    let raw_path = entry.path_bytes().into_owned();
    let path = match normalize_path(&raw_path) {
        Ok(Some(p)) => p,
        Ok(None) => return Ok(()), // the root directory itself
        Err(problem) => {
            return Err(DecodeError::HostilePath {
                path: crate::index::display_path(&raw_path).into_owned(),
                problem,
            })
        }
    };
    let mode = header.mode().unwrap_or(0);
    let uid = header
        .uid()
        .ok()
        .and_then(|v| u32::try_from(v).ok())
        .unwrap_or(0);
    let gid = header
        .gid()
        .ok()
        .and_then(|v| u32::try_from(v).ok())
        .unwrap_or(0);
    let mtime = header
        .mtime()
        .ok()
        .and_then(|v| i64::try_from(v).ok())
        .unwrap_or(0);
    let mut link = match kind {
        EntryKind::Symlink => entry
            .link_name_bytes()
            .map(|l| l.into_owned())
            .unwrap_or_default(),
        EntryKind::Hardlink => {
            let raw = entry
                .link_name_bytes()
                .map(|l| l.into_owned())
                .unwrap_or_default();
            match normalize_path(&raw) {
                Ok(p) => p.unwrap_or_default(),
                Err(problem) => {
                    return Err(DecodeError::HostilePath {
                        path: crate::index::display_path(&raw).into_owned(),
                        problem,
                    })
                }
            }
        }
        _ => Vec::new(),
    };
    let (mut size, mut hash) = (0, 0);
    let mut scanned = false;
    if kind == EntryKind::File {
        let mut collect = scan.wants(header.size().unwrap_or(u64::MAX));
        scan.content.clear();
        let mut hasher = Xxh3::new();
        loop {
            let n = entry.read(buf).map_err(classify)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            if collect {
                if scan.content.is_empty() && !secrets::looks_like_text(&buf[..n]) {
                    collect = false; // binary: keep hashing, stop collecting
                } else if (scan.content.len() + n) as u64 <= secrets::MAX_SCAN_BYTES {
                    scan.content.extend_from_slice(&buf[..n]);
                }
            }
            size += n as u64;
        }
        hash = hasher.digest128();
        scanned = collect && !scan.content.is_empty();
    }
    // Whiteouts: `.wh.NAME` deletes NAME; `.wh..wh..opq` makes its directory opaque.
    let mut target = path.clone();
    if let Some(rest) = crate::index::file_name(&path).strip_prefix(b".wh.") {
        let dir = crate::index::parent(&path);
        if rest == b".wh..opq" {
            kind = EntryKind::Opaque;
            target = dir.to_vec();
        } else if rest.starts_with(b".wh.") {
            return Ok(()); // aufs bookkeeping (`.wh..wh.plnk` …), no effect on the tree
        } else {
            kind = EntryKind::Whiteout;
            target = dir.to_vec();
            if !target.is_empty() {
                target.push(b'/');
            }
            target.extend_from_slice(rest);
        }
        link.clear();
        size = 0;
        hash = 0;
    }
    if scanned && kind == EntryKind::File {
        if let Some(scanner) = scan.scanner {
            scanner.scan_file(index.len(), &target, &scan.content, &mut scan.hits);
        }
    }
    index.push(NewEntry {
        path: &target,
        link: &link,
        kind,
        size,
        hash,
        mode,
        uid,
        gid,
        mtime,
    });
    Ok(())
}

/// Decodes every layer of an image in parallel; the results are in manifest order.
///
/// Layers are taken largest first by a few workers, each taking the next layer as soon as
/// its last one is done, so the largest layer (the longest chain of work) never starts last.
/// Each layer runs its own short pipeline of threads, so more layers run at once than there
/// are cores: the spare threads fill the gaps a pipeline leaves and balance the end of the
/// run.
pub fn decode_image(
    image: &Image,
    progress: &dyn Progress,
) -> Result<Vec<DecodedLayer>, LayerError> {
    let order = image.decode_order();
    let known: Vec<(usize, u64)> = image.layers.iter().map(|l| l.size).enumerate().collect();
    progress.layers_known(&known);
    let slots: Vec<Mutex<Option<Result<DecodedLayer, DecodeError>>>> =
        image.layers.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let workers = decode_workers().min(order.len());
    let work = || {
        while !failed.load(Ordering::Relaxed) {
            let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) else {
                break;
            };
            let layer = &image.layers[i];
            progress.layer_started(i, layer.size);
            let r = decode_one(image, layer, progress, i);
            progress.layer_done(i);
            failed.fetch_or(r.is_err(), Ordering::Relaxed);
            if let Ok(mut slot) = slots[i].lock() {
                *slot = Some(r);
            }
        }
    };
    rayon::scope(|s| {
        for _ in 0..workers {
            s.spawn(|_| work());
        }
    });
    // The first failing layer in manifest order is the one reported.
    let mut decoded = Vec::with_capacity(slots.len());
    for (i, slot) in slots.into_iter().enumerate() {
        let layer = &image.layers[i];
        let r = slot.into_inner().ok().flatten();
        match r {
            Some(Ok(d)) => decoded.push(d),
            Some(Err(source)) => {
                return Err(LayerError {
                    index: i,
                    name: layer_name(layer),
                    source,
                })
            }
            // Not decoded because another layer failed first.
            None => continue,
        }
    }
    Ok(decoded)
}

/// How many layers decode at once: twice the worker threads (see [`decode_image`]);
/// `LAYERSIFT_DECODE_JOBS` overrides it.
fn decode_workers() -> usize {
    std::env::var("LAYERSIFT_DECODE_JOBS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| 2 * rayon::current_num_threads())
}

fn decode_one(
    image: &Image,
    layer: &LayerBlob,
    progress: &dyn Progress,
    i: usize,
) -> Result<DecodedLayer, DecodeError> {
    if let Some(d) = image
        .store
        .cached(layer)
        .filter(|d| is_same_layer(layer, d))
    {
        progress.advanced(i, d.compressed_size);
        return Ok(d);
    }
    let blob = image.store.open(layer).map_err(DecodeError::Open)?;
    let d = decode_layer(
        blob,
        layer.digest.as_deref(),
        layer.diff_id.as_deref(),
        Some((progress, i)),
    )?;
    if layer.digest.is_some() && layer.size != d.compressed_size {
        return Err(DecodeError::SizeMismatch {
            expected: layer.size,
            actual: d.compressed_size,
        });
    }
    image.store.remember(layer, &d);
    Ok(d)
}

/// True when a cached decode is of this very layer: every digest and size the manifest
/// and config give must match what was measured when it was decoded.
fn is_same_layer(layer: &LayerBlob, d: &DecodedLayer) -> bool {
    layer.digest.as_ref().is_none_or(|x| *x == d.digest)
        && layer.diff_id.as_ref().is_none_or(|x| *x == d.diff_id)
        && (layer.digest.is_none() || layer.size == d.compressed_size)
        && (layer.digest.is_some() || layer.diff_id.is_some())
}

fn layer_name(layer: &LayerBlob) -> String {
    layer
        .digest
        .clone()
        .or_else(|| layer.diff_id.clone())
        .unwrap_or_else(|| layer.locator.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{Format, ImageBuilder};

    /// `n` bytes that do not compress, so blob sizes follow content sizes.
    fn noise(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    fn open(img: &crate::fixture::BuiltImage, path: &std::path::Path) -> Image {
        img.write(Format::OciLayout, path).unwrap();
        let r = crate::source::ImageRef::parse(&format!("oci:{}", path.display())).unwrap();
        crate::source::open(&r, &Default::default()).unwrap()
    }

    /// Layers are decoded largest first, but come back in manifest order, and a failure
    /// names the failing layer by its manifest position.
    #[test]
    fn results_keep_manifest_order_whatever_the_decode_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = ImageBuilder::new();
        for (i, n) in [10usize, 300_000, 1, 90_000].into_iter().enumerate() {
            b = b.layer(&format!("RUN make {i}"), |l| {
                l.file(format!("f{i}"), noise(n, i as u64 + 7))
            });
        }
        let img = b.build().unwrap();
        let image = open(&img, &dir.path().join("img"));
        assert_eq!(image.decode_order(), vec![1, 3, 0, 2]);
        let decoded = decode_image(&image, &NoProgress).unwrap();
        for (d, l) in decoded.iter().zip(&image.layers) {
            assert_eq!(Some(&d.digest), l.digest.as_ref());
            assert_eq!(d.compressed_size, l.size);
        }
        assert_eq!(decoded.len(), 4);

        // Damage the third layer (the smallest, decoded last): it is the one reported.
        let mut bad = img.clone();
        let n = bad.layers[2].blob.len() / 2;
        bad.layers[2].blob.truncate(n);
        let image = open(&bad, &dir.path().join("bad"));
        let err = decode_image(&image, &NoProgress).unwrap_err();
        assert_eq!(err.index, 2, "{err}");
    }
}
