//! The threads that decode one layer: a reader that hashes the blob, an inflater (or, for a
//! plain tar, a second hasher), and the tar walk, joined by bounded channels of reused
//! chunks; then the checks of the blob digest, the diff_id and what failed first.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use sha2::{Digest as _, Sha256};

use super::types::{BlobReadFailed, Compression, DecodeError, DecodedLayer, Progress, StageError};
use super::walk::index_tar;
use crate::digest::hex;

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
    let (mut index, secret_hits, packages, mut diff_id, uncompressed_size) = indexed?;
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
        packages,
        gzip_sample_ratio: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_tar_is_its_own_diff_id_and_a_wrong_digest_is_named() {
        let mut tar = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(5);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, "etc/motd", &b"hello"[..]).unwrap();
        let tar = tar.into_inner().unwrap();
        let digest = crate::digest::sha256_digest(&tar);
        let d = decode_layer(&tar[..], Some(&digest), Some(&digest), None).unwrap();
        assert_eq!(
            (d.compression, d.digest.as_str()),
            (Compression::None, digest.as_str())
        );
        assert_eq!(d.diff_id, digest);
        assert_eq!(d.compressed_size, tar.len() as u64);
        assert_eq!(d.index.len(), 1);

        let wrong = format!("sha256:{}", "0".repeat(64));
        let err = decode_layer(&tar[..], Some(&wrong), None, None).unwrap_err();
        assert!(matches!(err, DecodeError::DigestMismatch { .. }), "{err}");
    }
}
