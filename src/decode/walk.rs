//! The tar walk: reads an uncompressed layer stream entry by entry into a [`LayerIndex`]
//! (normalised paths, whiteouts, link targets), hashing file contents (xxh3-128) and the
//! whole stream (sha256, its diff_id), handing small text files to the secret scanner and
//! package metadata (and ELF binaries, for Go build info) to the package capture.

use std::io::{self, Read};

use sha2::{Digest as _, Sha256};
use xxhash_rust::xxh3::Xxh3;

use super::types::{BlobReadFailed, DecodeError, StageError};
use crate::digest::hex;
use crate::index::{normalize_path, EntryKind, LayerIndex, NewEntry};
use crate::packages::{Capture, LayerPackages};
use crate::secrets::{self, SecretHit};

/// What the tar walk produced: the index, the secrets seen, the package metadata, the
/// diff_id and the tar size.
pub(super) type Indexed = (LayerIndex, Vec<SecretHit>, LayerPackages, String, u64);

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

const BUF: usize = 256 * 1024;

/// Turns an io error from the tar walk into the stage that caused it.
pub(super) fn classify(e: io::Error) -> DecodeError {
    let kind = e.kind();
    match e.into_inner() {
        Some(inner) => match inner.downcast::<StageError>() {
            // The blob could not be read (a download failed), not the decompressor reading
            // from it: the reading stage reports the cause.
            Ok(stage) if stage.1.get_ref().is_some_and(|e| e.is::<BlobReadFailed>()) => {
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

/// Walks an uncompressed tar stream into an index, hashing the whole stream (the diff_id)
/// when asked to.
/// Returns the index, the secrets found in its small text files, the package metadata, the
/// digest and the size.
pub(super) fn index_tar(stream: impl Read, hash: bool) -> Result<Indexed, DecodeError> {
    let hashing = Hashing::new(stream, hash);
    let mut archive = tar::Archive::new(hashing);
    let mut index = LayerIndex::new();
    let mut buf = vec![0u8; BUF];
    let mut scan = SecretScan {
        scanner: secrets::scanner(),
        content: Vec::new(),
        hits: Vec::new(),
    };
    let mut capture = Capture::default();
    for entry in archive.entries().map_err(classify)? {
        let mut entry = entry.map_err(classify)?;
        index_entry(&mut index, &mut entry, &mut buf, &mut scan, &mut capture)?;
    }
    // Hash the rest of the stream (end-of-archive padding).
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(classify)?;
    let (diff_id, size) = rest.into_parts();
    Ok((index, scan.hits, capture.found, diff_id, size))
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
    capture: &mut Capture,
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
                    return Err(DecodeError::HostileLinkTarget {
                        path: crate::index::display_path(&raw_path).into_owned(),
                        target: crate::index::display_path(&raw).into_owned(),
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
        capture.start(&path, header.size().unwrap_or(u64::MAX));
        let mut hasher = Xxh3::new();
        loop {
            let n = entry.read(buf).map_err(classify)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            capture.feed(&buf[..n]);
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
        capture.abandon();
    }
    if scanned && kind == EntryKind::File {
        if let Some(scanner) = scan.scanner {
            scanner.scan_file(index.len(), &target, &scan.content, &mut scan.hits);
        }
    }
    if kind == EntryKind::File {
        capture.finish(index.len(), &target);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut tar = tar::Builder::new(Vec::new());
        for (path, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, path, *data).unwrap();
        }
        tar.into_inner().unwrap()
    }

    #[test]
    fn whiteouts_become_their_targets_and_the_stream_is_hashed() {
        let tar = tar_of(&[
            ("usr/bin/tool", b"binary"),
            ("var/cache/.wh.apt", b""),
            ("tmp/.wh..wh..opq", b""),
            ("x/.wh..wh.plnk", b""),
        ]);
        let (index, _, _, diff_id, size) = index_tar(&tar[..], true).unwrap();
        assert_eq!(diff_id, crate::digest::sha256_digest(&tar));
        assert_eq!(size, tar.len() as u64);
        assert_eq!(index.len(), 3, "aufs bookkeeping is dropped");
        assert_eq!(index.path(0), b"usr/bin/tool");
        assert_eq!(index.path(1), b"var/cache/apt");
        assert_eq!(index.entries[1].kind, EntryKind::Whiteout);
        assert_eq!(index.path(2), b"tmp");
        assert_eq!(index.entries[2].kind, EntryKind::Opaque);
    }

    #[test]
    fn a_name_that_climbs_out_is_refused() {
        let mut tar = tar_of(&[("a", b"x")]);
        // `tar::Builder` refuses `..` itself, so write the name into the header by hand.
        tar[..7].copy_from_slice(b"../evil");
        let mut h = tar::Header::from_byte_slice(&tar[..512]).clone();
        h.set_cksum();
        tar[..512].copy_from_slice(h.as_bytes());
        let err = index_tar(&tar[..], false).unwrap_err();
        assert!(matches!(err, DecodeError::HostilePath { .. }), "{err}");
    }
}
