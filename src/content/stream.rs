//! Streaming one layer: re-opens the layer's blob through the image's store, decompresses it
//! (gzip, zstd or plain, sniffed by magic bytes) and walks its tar to the members wanted,
//! reading no further than needed. Memory is a few fixed buffers whatever the file size.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;

use crate::decode::Compression;
use crate::index::normalize_path;
use crate::source::Image;

use super::{shown, ContentError, Located};

const BUF: usize = 256 << 10;

/// The uncompressed tar stream of layer `layer`.
pub fn open_tar(image: &Image, layer: usize) -> Result<Box<dyn Read + Send + '_>, ContentError> {
    let blob = image.layers.get(layer).ok_or(ContentError::NoSuchLayer {
        layer,
        count: image.layers.len(),
    })?;
    let raw = image
        .store
        .open(blob)
        .map_err(|source| ContentError::Open { layer, source })?;
    let mut buf = BufReader::with_capacity(BUF, raw);
    let read = |source| ContentError::Read { layer, source };
    let head = buf.fill_buf().map_err(read)?;
    let kind = Compression::sniff(head).map_err(|e| read(io::Error::other(e)))?;
    Ok(match kind {
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buf)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buf).map_err(read)?),
        Compression::None => Box::new(buf),
    })
}

/// A tar member's path as the index stores it, or `None` for members the index does not
/// hold as such: the root, whiteout markers, metadata and unknown types, unsafe names.
pub(crate) fn member_path<R: Read>(e: &tar::Entry<'_, R>) -> Option<Vec<u8>> {
    use tar::EntryType as T;
    let known = matches!(
        e.header().entry_type(),
        T::Regular
            | T::Continuous
            | T::GNUSparse
            | T::Directory
            | T::Symlink
            | T::Link
            | T::Char
            | T::Block
            | T::Fifo
    );
    if !known {
        return None;
    }
    let p = normalize_path(&e.path_bytes()).ok()??;
    if crate::index::file_name(&p).starts_with(b".wh.") {
        return None;
    }
    Some(p)
}

/// Streams layer `found.layer` to the member `found` names and hands its bytes to `f`.
/// An error `f` returns is passed through as [`ContentError::Read`] unless it is tagged as
/// the output's (see `OutputError`), then as [`ContentError::Write`].
pub fn with_entry<T>(
    image: &Image,
    found: &Located,
    f: impl FnOnce(&mut dyn Read) -> io::Result<T>,
) -> Result<T, ContentError> {
    let layer = found.layer;
    let read = |source| ContentError::Read { layer, source };
    let mut archive = tar::Archive::new(open_tar(image, layer)?);
    let mut seen = 0;
    for entry in archive.entries().map_err(read)? {
        let mut entry = entry.map_err(read)?;
        if member_path(&entry).as_deref() != Some(found.path.as_slice()) {
            continue;
        }
        if seen < found.occurrence {
            seen += 1;
            continue;
        }
        return f(&mut entry).map_err(|e| match OutputError::take(e) {
            Ok(w) => ContentError::Write {
                path: "stdout".into(),
                source: w,
            },
            Err(e) => read(e),
        });
    }
    Err(ContentError::Vanished {
        path: shown(&found.path),
        layer,
    })
}

/// Walks layer `layer` once and calls `f` for each member whose (path, occurrence) is in
/// `wanted`, with the value stored there. Stops early when every wanted member was seen.
pub(crate) fn for_each_wanted<V: Copy, E: From<ContentError>>(
    image: &Image,
    layer: usize,
    wanted: &HashMap<&[u8], (usize, V)>,
    mut f: impl FnMut(&[u8], V, &mut dyn Read) -> Result<(), E>,
) -> Result<(), E> {
    if wanted.is_empty() {
        return Ok(());
    }
    let read = |source| ContentError::Read { layer, source };
    let mut archive = tar::Archive::new(open_tar(image, layer)?);
    let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut left = wanted.len();
    for entry in archive.entries().map_err(read)? {
        let mut entry = entry.map_err(read)?;
        let Some(p) = member_path(&entry) else {
            continue;
        };
        let Some(&(occ, v)) = wanted.get(p.as_slice()) else {
            continue;
        };
        let n = seen.entry(p.clone()).or_insert(0);
        let this = *n;
        *n += 1;
        if this == occ {
            f(&p, v, &mut entry)?;
            left -= 1;
            if left == 0 {
                break;
            }
        }
    }
    if left > 0 {
        return Err(ContentError::Vanished {
            path: format!("{left} wanted members"),
            layer,
        }
        .into());
    }
    Ok(())
}

/// Tags an io error as the output's (a closed stdout), not the layer's.
#[derive(Debug)]
pub(crate) struct OutputError(pub io::Error);

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
impl std::error::Error for OutputError {}

impl OutputError {
    fn take(e: io::Error) -> Result<io::Error, io::Error> {
        if e.get_ref().is_some_and(|i| i.is::<OutputError>()) {
            let kind = e.kind();
            match e.into_inner().map(|i| i.downcast::<OutputError>()) {
                Some(Ok(o)) => Ok(o.0),
                _ => Err(io::Error::from(kind)),
            }
        } else {
            Err(e)
        }
    }
}

/// A writer whose errors are tagged as [`OutputError`].
pub(crate) struct TaggedWriter<W>(pub W);

impl<W: io::Write> io::Write for TaggedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .write(buf)
            .map_err(|e| io::Error::new(e.kind(), OutputError(e)))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0
            .flush()
            .map_err(|e| io::Error::new(e.kind(), OutputError(e)))
    }
}

/// A file's bytes read on a thread of their own, a chunk at a time, only as fast as they
/// are consumed: the viewer pages through a large file without holding it.
pub(crate) struct EntryReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    cur: Vec<u8>,
    pos: usize,
}

impl EntryReader {
    pub(crate) fn spawn(image: Arc<Image>, found: Located) -> EntryReader {
        let (tx, rx) = sync_channel::<io::Result<Vec<u8>>>(2);
        let _ = std::thread::Builder::new()
            .name("content".into())
            .spawn(move || {
                let r = with_entry(&image, &found, |r| {
                    loop {
                        let mut chunk = vec![0u8; 64 << 10];
                        let n = r.read(&mut chunk)?;
                        if n == 0 {
                            return Ok(());
                        }
                        chunk.truncate(n);
                        if tx.send(Ok(chunk)).is_err() {
                            return Ok(()); // the reader was dropped
                        }
                    }
                });
                if let Err(e) = r {
                    let _ = tx.send(Err(io::Error::other(crate::content::chain(&e))));
                }
            });
        EntryReader {
            rx,
            cur: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for EntryReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.cur.len() {
            match self.rx.recv() {
                Ok(Ok(c)) => {
                    self.cur = c;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len() - self.pos);
        buf[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
