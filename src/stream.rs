//! Compressed image archives (`docker save IMAGE | gzip > image.tar.gz`, a `.tar.zst` of an
//! OCI archive): a compressed stream cannot be read in place, so the archive is read once,
//! in order. Each layer member is decoded (hashed, walked, indexed) as the stream passes it,
//! small JSON members (manifests, index, configs) are kept, and the image is assembled from
//! them once the stream ends, whichever order `manifest.json` or `index.json` came in.
//! Every layer is then checked against its manifest digest and config diff_id, as the layer
//! stage checks any other source's. Nothing is written to disk; memory holds the small
//! documents and the indexes. Content access later reads the archive again, up to the
//! member it needs ([`PassedStore`]).

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;

use crate::decode::{decode_layer, DecodeError, DecodedLayer, LayerError};
use crate::sample;
use crate::source::{
    BlobStore, Container, Image, ImageRef, LayerBlob, OpenOptions, SourceError, MAX_CONFIG_BYTES,
};

/// Members up to this size are read whole before deciding what they are.
const SMALL: u64 = 1 << 20;
/// Chunks handed from the archive reader to a layer's decoder.
const CHUNK: usize = 256 * 1024;

/// An image read from a compressed archive, with the layers decoded in the pass.
pub(crate) struct Streamed {
    pub image: Image,
    layers: HashMap<String, DecodedLayer>,
    failed: HashMap<String, String>,
}

impl Streamed {
    /// The image's layers in manifest order, each checked against the digest, diff_id and
    /// size its manifest and config give it.
    pub(crate) fn layers(&self) -> Result<Vec<DecodedLayer>, LayerError> {
        self.image
            .layers
            .iter()
            .enumerate()
            .map(|(index, layer)| {
                let member = layer.locator.trim_start_matches("./");
                let fail = |source| LayerError {
                    index,
                    name: layer
                        .digest
                        .clone()
                        .or_else(|| layer.diff_id.clone())
                        .unwrap_or_else(|| member.to_string()),
                    source,
                };
                let Some(d) = self.layers.get(member) else {
                    return Err(fail(DecodeError::Open(Box::new(SourceError::Streamed {
                        member: member.to_string(),
                        why: Some(
                            self.failed
                                .get(member)
                                .cloned()
                                .unwrap_or_else(|| "the archive has no such member".to_string()),
                        ),
                    }))));
                };
                match (&layer.digest, &layer.diff_id) {
                    (Some(x), _) if *x != d.digest => Err(fail(DecodeError::DigestMismatch {
                        expected: x.clone(),
                        actual: d.digest.clone(),
                    })),
                    (_, Some(x)) if *x != d.diff_id => Err(fail(DecodeError::DiffIdMismatch {
                        expected: x.clone(),
                        actual: d.diff_id.clone(),
                    })),
                    (Some(_), _) if layer.size != d.compressed_size => {
                        Err(fail(DecodeError::SizeMismatch {
                            expected: layer.size,
                            actual: d.compressed_size,
                        }))
                    }
                    _ => Ok(d.clone()),
                }
            })
            .collect()
    }
}

/// Opens the image `r` names from a gzip- or zstd-compressed archive, decoding its layers.
pub(crate) fn open(
    r: &ImageRef,
    opts: &OpenOptions,
    kind: &'static str,
) -> Result<Streamed, SourceError> {
    let path = PathBuf::from(&r.location);
    let file = std::fs::File::open(&path).map_err(|e| SourceError::io(&path, e))?;
    let reader: Box<dyn Read> = match kind {
        "zstd" => Box::new(zstd::Decoder::new(file).map_err(|e| SourceError::io(&path, e))?),
        _ => Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
            file,
        ))),
    };
    let corrupt = |source| SourceError::CompressedCorrupt {
        path: path.clone(),
        kind,
        source,
    };
    let mut archive = tar::Archive::new(reader);
    let mut members = Members::default();
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let t = entry.header().entry_type();
        if !(t.is_file() || t.is_contiguous()) {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes())
            .trim_start_matches("./")
            .to_string();
        let size = entry.size();
        members.sizes.insert(name.clone(), size);
        let mut head = Vec::with_capacity(512.min(size as usize));
        (&mut entry)
            .take(if size <= SMALL { size } else { 512 })
            .read_to_end(&mut head)
            .map_err(corrupt)?;
        if looks_like_json(&head) && size <= MAX_CONFIG_BYTES {
            entry.read_to_end(&mut head).map_err(corrupt)?;
            members.docs.insert(name, head);
            continue;
        }
        let (decoded, sample) = if size <= SMALL {
            let ratio = sample::ratio_of(&head);
            (decode_layer(Cursor::new(head), None, None, None), ratio)
        } else {
            decode_streaming(head, &mut entry).map_err(corrupt)?
        };
        match decoded {
            Ok(d) => {
                if d.compression == crate::decode::Compression::None {
                    if let Some(r) = sample {
                        members.ratios.insert(name.clone(), r);
                    }
                }
                members.layers.insert(name, d);
            }
            Err(e) => {
                members.failed.insert(name, e.to_string());
            }
        }
    }
    if members.sizes.is_empty() {
        return Err(SourceError::UnknownFormat(path));
    }
    let store = Arc::new(PassedStore {
        ratios: std::mem::take(&mut members.ratios),
        path: path.clone(),
        kind,
    });
    let container = Arc::new(DocsContainer {
        path,
        docs: members.docs,
        sizes: members.sizes,
    });
    let mut image = crate::source::open_container(container, r, opts)?;
    image.store = store;
    Ok(Streamed {
        image,
        layers: members.layers,
        failed: members.failed,
    })
}

fn looks_like_json(head: &[u8]) -> bool {
    head.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{' || b == b'[')
}

/// A layer decode, and the gzip ratio of the member's first bytes.
type Decoded = (
    Result<DecodedLayer, crate::decode::DecodeError>,
    Option<f64>,
);

/// Decodes a large member as it streams: this thread keeps reading the archive (its tar
/// entry cannot cross threads) and hands chunks to the decoder's own threads, keeping the
/// first bytes as a gzip sample. `Err` is a read error of the archive itself.
fn decode_streaming(head: Vec<u8>, entry: &mut impl Read) -> std::io::Result<Decoded> {
    let limit = sample::SAMPLE_BYTES as usize;
    let mut sample = head.clone();
    let (tx, rx) = sync_channel::<Vec<u8>>(8);
    std::thread::scope(|s| {
        let decoder = s.spawn(move || {
            decode_layer(
                Chunks {
                    rx,
                    cur: Cursor::new(head),
                },
                None,
                None,
                None,
            )
        });
        let mut read_error = None;
        loop {
            let mut buf = vec![0u8; CHUNK];
            match entry.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    buf.truncate(n);
                    if sample.len() < limit {
                        let take = n.min(limit - sample.len());
                        sample.extend_from_slice(&buf[..take]);
                    }
                    // The decoder stopped (not a layer): drain the member all the same.
                    if tx.send(buf).is_err() {
                        if let Err(e) = std::io::copy(entry, &mut std::io::sink()) {
                            read_error = Some(e);
                        }
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    read_error = Some(e);
                    break;
                }
            }
        }
        drop(tx);
        let decoded = decoder.join().unwrap_or_else(|_| {
            Err(crate::decode::DecodeError::Read(std::io::Error::other(
                "the layer decoding thread panicked",
            )))
        });
        match read_error {
            Some(e) => Err(e),
            None => Ok((decoded, sample::ratio_of(&sample))),
        }
    })
}

/// A reader over the chunks another thread sends.
struct Chunks {
    rx: Receiver<Vec<u8>>,
    cur: Cursor<Vec<u8>>,
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.cur.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            match self.rx.recv() {
                Ok(next) => self.cur = Cursor::new(next),
                Err(_) => return Ok(0),
            }
        }
    }
}

#[derive(Default)]
struct Members {
    docs: HashMap<String, Vec<u8>>,
    sizes: HashMap<String, u64>,
    layers: HashMap<String, DecodedLayer>,
    failed: HashMap<String, String>,
    ratios: HashMap<String, f64>,
}

/// The archive's small documents, by member name; layer members are known by size only.
struct DocsContainer {
    path: PathBuf,
    docs: HashMap<String, Vec<u8>>,
    sizes: HashMap<String, u64>,
}

impl Container for DocsContainer {
    fn describe(&self) -> &Path {
        &self.path
    }

    fn has(&self, name: &str) -> bool {
        self.sizes.contains_key(name.trim_start_matches("./"))
    }

    fn open(&self, name: &str) -> Result<(Box<dyn Read + Send + '_>, u64), SourceError> {
        let name = name.trim_start_matches("./");
        match self.docs.get(name) {
            Some(d) => Ok((Box::new(Cursor::new(d.as_slice())), d.len() as u64)),
            None if self.sizes.contains_key(name) => Err(SourceError::Streamed {
                member: name.to_string(),
                why: None,
            }),
            None => Err(SourceError::Missing {
                name: name.to_string(),
            }),
        }
    }

    fn size(&self, name: &str) -> Result<u64, SourceError> {
        let name = name.trim_start_matches("./");
        self.sizes
            .get(name)
            .copied()
            .ok_or_else(|| SourceError::Missing {
                name: name.to_string(),
            })
    }
}

/// The blob store of a streamed image. The analysis saw each blob once, in the pass; what
/// it keeps of them is a gzip sample ratio per uncompressed layer. A blob asked for later
/// (content access: `cat`, `extract`, the viewer) is reached by reading the compressed
/// archive again from its start up to that member, on a thread that hands the member's
/// bytes over in chunks: nothing is written to disk, and memory holds a few chunks.
struct PassedStore {
    ratios: HashMap<String, f64>,
    path: PathBuf,
    kind: &'static str,
}

/// Chunks of one archive member handed over by the thread that reads the archive again.
struct MemberReader {
    rx: Receiver<std::io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for MemberReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.rx.recv() {
                Ok(Ok(c)) => {
                    self.chunk = c;
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0), // the member ended
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Reads the compressed archive at `path` from its start to `member` and sends the
/// member's bytes; an error if it is not there or the stream breaks off.
fn send_member(
    path: &Path,
    kind: &'static str,
    member: &str,
    tx: &std::sync::mpsc::SyncSender<std::io::Result<Vec<u8>>>,
) -> std::io::Result<()> {
    let file = std::fs::File::open(path)?;
    let reader: Box<dyn Read> = match kind {
        "zstd" => Box::new(zstd::Decoder::new(file)?),
        _ => Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
            file,
        ))),
    };
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if name.trim_start_matches("./") != member {
            continue;
        }
        loop {
            let mut chunk = vec![0u8; CHUNK];
            let n = entry.read(&mut chunk)?;
            if n == 0 {
                return Ok(());
            }
            chunk.truncate(n);
            if tx.send(Ok(chunk)).is_err() {
                return Ok(()); // the reader was dropped: nobody wants the rest
            }
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        format!("`{member}` is no longer in the archive (it changed since the analysis)"),
    ))
}

impl BlobStore for PassedStore {
    fn open(&self, layer: &LayerBlob) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        let member = layer.locator.trim_start_matches("./").to_string();
        let (tx, rx) = sync_channel(4);
        let (path, kind) = (self.path.clone(), self.kind);
        let spawned = std::thread::Builder::new()
            .name("archive-reread".into())
            .spawn(move || {
                if let Err(e) = send_member(&path, kind, &member, &tx) {
                    let _ = tx.send(Err(e));
                }
            });
        if let Err(e) = spawned {
            return Err(SourceError::Streamed {
                member: layer.locator.trim_start_matches("./").to_string(),
                why: Some(format!("cannot start a thread to read it again: {e}")),
            });
        }
        Ok(Box::new(MemberReader {
            rx,
            chunk: Vec::new(),
            at: 0,
        }))
    }

    fn gzip_sample_ratio(&self, layer: &LayerBlob) -> Option<f64> {
        self.ratios
            .get(layer.locator.trim_start_matches("./"))
            .copied()
    }
}
