//! Layer decoding: streams each blob through sha256, sniffs its compression by magic bytes,
//! decompresses while streaming, hashes the uncompressed tar against its diff_id, and walks
//! the tar into a [`LayerIndex`], hashing file contents and dropping them. Memory per layer
//! is a few fixed buffers, whatever the layer's size; nothing touches the disk.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use rayon::prelude::*;
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
    fn layer_started(&self, _layer: usize, _total: u64) {}
    fn advanced(&self, _layer: usize, _bytes_read: u64) {}
    fn layer_done(&self, _layer: usize) {}
}

/// Progress that reports nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// Counts and sha256-hashes what passes through, and reports progress every few MiB.
struct Hashing<'p, R> {
    inner: R,
    /// `None` once it is known the hash is not needed (a plain tar blob is its own diff_id).
    sha: Option<Sha256>,
    count: u64,
    reported: u64,
    progress: Option<(&'p dyn Progress, usize)>,
}

impl<'p, R: Read> Hashing<'p, R> {
    fn new(inner: R, progress: Option<(&'p dyn Progress, usize)>) -> Self {
        Hashing {
            inner,
            sha: Some(Sha256::new()),
            count: 0,
            reported: 0,
            progress,
        }
    }

    fn into_parts(self) -> (R, String, u64) {
        (
            self.inner,
            self.sha
                .map(|sha| format!("sha256:{}", hex(&sha.finalize())))
                .unwrap_or_default(),
            self.count,
        )
    }
}

impl<R: Read> Read for Hashing<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(sha) = &mut self.sha {
            sha.update(&buf[..n]);
        }
        self.count += n as u64;
        if let Some((p, layer)) = self.progress {
            if self.count - self.reported >= 4 << 20 || n == 0 {
                self.reported = self.count;
                p.advanced(layer, self.count);
            }
        }
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

    fn into_inner(self) -> R {
        match self {
            Decompressor::Gzip(d) => d.into_inner(),
            Decompressor::Zstd(d) => d.finish(),
            Decompressor::Plain(r) => r,
        }
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

/// Decompressed bytes move from the inflating thread to the indexing thread in chunks of
/// this size; a few are in flight per layer, so memory stays bounded.
const CHUNK: usize = 256 << 10;
const CHUNKS_IN_FLIGHT: usize = 4;

/// The indexing side of the pipeline: reads the chunks the inflating thread sends, and
/// hands spent buffers back for reuse.
struct ChunkReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    back: SyncSender<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.cur.len() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    let spent = std::mem::replace(&mut self.cur, chunk);
                    let _ = self.back.try_send(spent);
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0), // the inflating side finished
            }
        }
        let n = buf.len().min(self.cur.len() - self.pos);
        buf[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// What the inflating side measured: the blob's digest and size (also after a failure, when
/// the rest of the blob could still be read), and its own error if it failed.
struct Inflated {
    blob: Option<(String, u64)>,
    error: Option<DecodeError>,
}

/// The inflating side: reads and hashes the blob, decompresses it into chunks, then hashes
/// whatever trails the compressed stream. After a decompression or indexing failure it still
/// hashes the rest of the blob, so a blob that does not match its digest (tampered, damaged
/// in transit) is reported as that, whatever broke first.
fn inflate_side<R: Read>(
    decomp: Decompressor<BufReader<Hashing<'_, R>>>,
    tx: &SyncSender<io::Result<Vec<u8>>>,
    back: &Receiver<Vec<u8>>,
) -> Inflated {
    let mut decomp = decomp;
    let error = inflate_chunks(&mut decomp, tx, back).err();
    let mut raw = decomp.into_inner();
    match io::copy(&mut raw, &mut io::sink()) {
        Ok(_) => {
            let (_, digest, size) = raw.into_inner().into_parts();
            Inflated {
                blob: Some((digest, size)),
                error,
            }
        }
        Err(e) => Inflated {
            blob: None,
            error: error.or(Some(DecodeError::Read(e))),
        },
    }
}

fn inflate_chunks<R: Read>(
    decomp: &mut Decompressor<BufReader<Hashing<'_, R>>>,
    tx: &SyncSender<io::Result<Vec<u8>>>,
    back: &Receiver<Vec<u8>>,
) -> Result<(), DecodeError> {
    loop {
        let mut chunk = back.try_recv().unwrap_or_default();
        chunk.resize(CHUNK, 0);
        let mut filled = 0;
        let eof = loop {
            match decomp.read(&mut chunk[filled..]) {
                Ok(0) => break true,
                Ok(n) => {
                    filled += n;
                    if filled == CHUNK {
                        break false;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return Err(DecodeError::Read(io::Error::other("decompression failed")));
                }
            }
        };
        chunk.truncate(filled);
        if filled > 0 && tx.send(Ok(chunk)).is_err() {
            // The indexing side stopped (its own error is the one reported).
            return Err(DecodeError::Read(io::Error::other("indexing stopped")));
        }
        if eof {
            return Ok(());
        }
    }
}

/// Decodes one layer blob stream, verifying it against whatever digests are known.
///
/// Decompression runs on its own thread and hands chunks to this one, which hashes the tar
/// stream and walks it, so one large layer keeps two cores busy.
pub fn decode_layer(
    blob: impl Read + Send,
    expected_digest: Option<&str>,
    expected_diff_id: Option<&str>,
    progress: Option<(&dyn Progress, usize)>,
) -> Result<DecodedLayer, DecodeError> {
    let mut raw = BufReader::with_capacity(BUF, Hashing::new(blob, progress));
    let head = raw.fill_buf().map_err(DecodeError::Read)?;
    let compression = Compression::sniff(head)?;
    let decomp = Decompressor::new(compression, raw).map_err(DecodeError::Read)?;

    let (tx, rx) = sync_channel::<io::Result<Vec<u8>>>(CHUNKS_IN_FLIGHT);
    let (back_tx, back_rx) = sync_channel::<Vec<u8>>(CHUNKS_IN_FLIGHT + 1);
    let (indexed, inflated) = std::thread::scope(|scope| {
        let inflater = scope.spawn(move || inflate_side(decomp, &tx, &back_rx));
        let reader = ChunkReader {
            rx,
            back: back_tx,
            cur: Vec::new(),
            pos: 0,
        };
        // A plain blob is the tar itself: hash it once, on the reading side, which otherwise
        // has little to do.
        let indexed = index_tar(reader, compression != Compression::None);
        let inflated = inflater.join().unwrap_or_else(|_| Inflated {
            blob: None,
            error: Some(DecodeError::Read(io::Error::other(
                "decompression thread panicked",
            ))),
        });
        (indexed, inflated)
    });
    // A whole blob that does not hash to its digest (tampered, or damaged in storage) is
    // reported as such, even when its damage also broke decompression; a truncated one is
    // reported by the stage that ran out of input.
    let truncated = match &indexed {
        Err(DecodeError::Decompress(_, e) | DecodeError::Tar(e)) => {
            e.kind() == io::ErrorKind::UnexpectedEof
        }
        _ => false,
    };
    if let (Some(expected), Some((digest, _))) = (expected_digest, &inflated.blob) {
        if expected != digest && !truncated && (indexed.is_err() || inflated.error.is_some()) {
            return Err(DecodeError::DigestMismatch {
                expected: expected.to_string(),
                actual: digest.clone(),
            });
        }
    }
    // A tar or decompression error seen while indexing says more than the inflating side's.
    let (mut index, secret_hits, mut diff_id, uncompressed_size) = indexed?;
    if let Some(e) = inflated.error {
        return Err(e);
    }
    let (digest, compressed_size) = inflated
        .blob
        .ok_or_else(|| DecodeError::Read(io::Error::other("the blob was not read")))?;
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
fn index_tar(
    stream: impl Read,
    hash: bool,
) -> Result<(LayerIndex, Vec<SecretHit>, String, u64), DecodeError> {
    let mut hashing = Hashing::new(stream, None);
    if !hash {
        hashing.sha = None;
    }
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
    let (_, diff_id, size) = rest.into_parts();
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

/// Decodes every layer of an image in parallel, in manifest order.
pub fn decode_image(
    image: &Image,
    progress: &dyn Progress,
) -> Result<Vec<DecodedLayer>, LayerError> {
    image
        .layers
        .par_iter()
        .enumerate()
        .map(|(i, layer)| {
            progress.layer_started(i, layer.size);
            let r = decode_one(image, layer, progress, i).map_err(|source| LayerError {
                index: i,
                name: layer_name(layer),
                source,
            });
            progress.layer_done(i);
            r
        })
        .collect()
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
