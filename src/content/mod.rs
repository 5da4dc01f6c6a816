//! Content access: the bytes of any file of any layer, including versions that later layers
//! deleted or overwrote, without extracting the image. Owns looking a path up in a layer or
//! in the filesystem as of a layer ([`lookup`]), streaming one layer's tar to one entry
//! ([`stream`]), `cat`, safe extraction ([`extract`]) and file diffs ([`filediff`]).
//!
//! Bytes are reached by re-opening the layer's blob through the image's
//! [`BlobStore`](crate::source::BlobStore) (local archives and layouts in place; registry,
//! podman and docker blobs from the cache, fetched when missing) and decompressing it up to
//! the entry. Nothing is written to disk but what `extract` is asked to write.

pub(crate) mod extract;
pub(crate) mod filediff;
pub(crate) mod lookup;
pub(crate) mod stream;

use std::io::{self, Write};
use std::path::PathBuf;

use crate::index::display_path;
use crate::source::{Image, SourceError};
use crate::Analysis;

pub use lookup::{Located, Scope};

/// Why content could not be reached or written.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("there is no layer {layer}: the image has {count} layers, numbered from 0")]
    NoSuchLayer { layer: usize, count: usize },
    #[error("`{path}` is not in {scope}")]
    NotFound {
        path: String,
        scope: String,
        /// Up to five paths that look like it.
        near: Vec<String>,
        /// Layers that do hold the path, when the lookup was in one layer.
        elsewhere: Vec<usize>,
    },
    #[error("`{path}` is a directory")]
    IsDir { path: String },
    #[error("`{path}` is a {kind}, not a regular file")]
    NotRegular { path: String, kind: &'static str },
    #[error("`{path}` was deleted in layer {layer}")]
    Deleted { path: String, layer: usize },
    #[error("`{path}`: too many levels of symbolic links")]
    SymlinkLoop { path: String },
    #[error("cannot open the blob of layer {layer}")]
    Open {
        layer: usize,
        #[source]
        source: SourceError,
    },
    #[error("cannot read layer {layer}")]
    Read {
        layer: usize,
        #[source]
        source: io::Error,
    },
    #[error(
        "`{path}` is not in the tar stream of layer {layer}; the blob differs from the one indexed"
    )]
    Vanished { path: String, layer: usize },
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("`{}` already exists", path.display())]
    Exists { path: PathBuf },
    #[error("bad pattern `{pattern}`")]
    BadPattern {
        pattern: String,
        #[source]
        source: globset::Error,
    },
    #[error("nothing in {scope} matches {}", patterns.join(", "))]
    NoMatch {
        patterns: Vec<String>,
        scope: String,
    },
}

impl ContentError {
    /// A next step for the user, where one is obvious.
    pub fn hint(&self) -> Option<String> {
        match self {
            ContentError::NotFound {
                near, elsewhere, ..
            } => {
                let mut parts = Vec::new();
                if !elsewhere.is_empty() {
                    let list: Vec<String> = elsewhere.iter().map(|l| l.to_string()).collect();
                    parts.push(format!(
                        "it is in layer {} (pass `--layer N`)",
                        list.join(", ")
                    ));
                }
                if !near.is_empty() {
                    parts.push(format!("did you mean {}", quoted(near)));
                }
                (!parts.is_empty()).then(|| parts.join("; "))
            }
            ContentError::Deleted { .. } => Some(
                "pass `--layer N` to read the version a layer shipped before it was deleted"
                    .to_string(),
            ),
            ContentError::IsDir { .. } => {
                Some("`layersift extract IMAGE PATH -o DIR` writes a directory".to_string())
            }
            ContentError::Exists { .. } => {
                Some("pass `--force` to replace existing files".to_string())
            }
            ContentError::NoSuchLayer { count, .. } if *count > 0 => {
                Some(format!("pass `--layer` between 0 and {}", count - 1))
            }
            ContentError::Open { source, .. } => source.hint(),
            _ => None,
        }
    }
}

fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes the bytes of `path` (as `scope` sees it) to `out`; returns the bytes written.
/// Symlinks are followed inside the image; a hard link gives its target's bytes.
pub fn cat(
    image: &Image,
    a: &Analysis,
    scope: Scope,
    path: &[u8],
    out: &mut dyn Write,
) -> Result<u64, ContentError> {
    let found = lookup::locate_file(a, scope, &lookup::user_path(path))?;
    // The writer tags its own errors, so `with_entry` tells them from read errors.
    stream::with_entry(image, &found, |r| {
        copy_out(r, &mut stream::TaggedWriter(out))
            .map_err(|(Copied::Read(e) | Copied::Write(e))| e)
    })
}

/// `cat --layer N` of a plain file in one pass over that layer, without decoding the rest
/// of the image: streams layer N to the first member at `path` and copies it when it is a
/// regular file (`Some(bytes)`). `None` when the layer has no regular file there (a link, a
/// directory, a miss): [`cat`] then follows links and explains misses. A layer that lists a
/// path twice (no builder writes one) gives its first copy here.
pub fn cat_member(
    image: &Image,
    layer: usize,
    path: &[u8],
    out: &mut dyn Write,
) -> Result<Option<u64>, ContentError> {
    let want = lookup::user_path(path);
    let read = |source| ContentError::Read { layer, source };
    let mut archive = tar::Archive::new(stream::open_tar(image, layer)?);
    for entry in archive.entries().map_err(read)? {
        let mut entry = entry.map_err(read)?;
        if stream::member_path(&entry).as_deref() != Some(want.as_slice()) {
            continue;
        }
        use tar::EntryType as T;
        if !matches!(
            entry.header().entry_type(),
            T::Regular | T::Continuous | T::GNUSparse
        ) {
            return Ok(None);
        }
        return copy_out(&mut entry, out).map(Some).map_err(|e| match e {
            Copied::Read(source) => read(source),
            Copied::Write(source) => ContentError::Write {
                path: "stdout".into(),
                source,
            },
        });
    }
    Ok(None)
}

/// Which side of [`copy_out`] failed.
enum Copied {
    Read(io::Error),
    Write(io::Error),
}

/// Copies `r` to `out` and flushes it; returns the bytes copied.
fn copy_out(r: &mut dyn io::Read, out: &mut dyn Write) -> Result<u64, Copied> {
    let mut buf = vec![0u8; 256 << 10];
    let mut n = 0u64;
    loop {
        let k = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Copied::Read(e)),
        };
        out.write_all(&buf[..k]).map_err(Copied::Write)?;
        n += k as u64;
    }
    out.flush().map_err(Copied::Write)?;
    Ok(n)
}

/// Reads a whole file into memory, at most `limit` bytes; `None` when it is larger.
pub(crate) fn read_limited(
    image: &Image,
    a: &Analysis,
    found: &Located,
    limit: u64,
) -> Result<Option<Vec<u8>>, ContentError> {
    if a.indexes[found.layer].entries[found.entry].size > limit {
        return Ok(None);
    }
    stream::with_entry(image, found, |r| {
        let mut buf = Vec::new();
        r.take(limit + 1).read_to_end(&mut buf)?;
        Ok(buf)
    })
    .map(|b| (b.len() as u64 <= limit).then_some(b))
}

/// A path for messages.
pub(crate) fn shown(path: &[u8]) -> String {
    display_path(path).into_owned()
}

use std::io::Read as _;

/// An error and its causes on one line, for places that show a single message (the TUI).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Text with every secret the rules know redacted, and the whole body of any private key
/// block (the rules redact only its start), for output people read.
pub(crate) fn redact_for_display(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_key = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim_end();
        if in_key {
            if t.starts_with("-----END ") {
                in_key = false;
                out.push_str(line);
            } else {
                out.push_str(crate::secrets::REDACTED);
                if line.ends_with('\n') {
                    out.push('\n');
                }
            }
            continue;
        }
        if t.starts_with("-----BEGIN ") && t.contains("PRIVATE KEY") {
            in_key = true;
            out.push_str(line);
            continue;
        }
        out.push_str(&crate::secrets::redact(line));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn private_key_bodies_are_redacted_whole() {
        let t = "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA\n-----END RSA PRIVATE KEY-----\nAKIAABCDEFGHIJKLMNOP\n";
        let r = super::redact_for_display(t);
        assert_eq!(
            r,
            "a\n-----BEGIN RSA PRIVATE KEY-----\n[REDACTED]\n[REDACTED]\n-----END RSA PRIVATE KEY-----\nAKIA[REDACTED]\n"
        );
    }
}
