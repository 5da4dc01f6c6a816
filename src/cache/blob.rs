//! Blobs entering the cache while they stream: [`Tee`] copies what a download hands its
//! reader into a temporary file and hashes it; at the end of the stream the copy is renamed
//! into place only when it hashed to its digest. A stream that fails, stops early or does
//! not match leaves nothing behind.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;

use sha2::{Digest as _, Sha256};

use super::{Cache, CacheError};
use crate::digest::finish;

/// sha256 of everything `r` yields, as `sha256:<hex>`.
pub(super) fn sha256_of(mut r: impl Read) -> io::Result<String> {
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(finish(sha)),
            Ok(n) => sha.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// A blob being written to the cache while it streams.
pub struct PendingBlob {
    cache: Cache,
    file: BufWriter<File>,
    tmp: PathBuf,
    dest: PathBuf,
    digest: String,
    sha: Sha256,
}

impl Cache {
    /// Starts writing the blob `digest` as it streams; see `Tee`. `None` when the digest
    /// cannot name a file or the cache cannot be written (warned about once).
    pub fn blob_writer(&self, digest: &str) -> Option<PendingBlob> {
        let dest = self.blob_path(digest)?;
        let tmp = self.tmp_path();
        let file = match File::create(&tmp) {
            Ok(f) => f,
            Err(source) => {
                self.warn(&CacheError::Write {
                    path: self.root.clone(),
                    source,
                });
                return None;
            }
        };
        Some(PendingBlob {
            cache: self.clone(),
            file: BufWriter::with_capacity(256 * 1024, file),
            tmp,
            dest,
            digest: digest.to_string(),
            sha: Sha256::new(),
        })
    }
}

impl PendingBlob {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.sha.update(bytes);
        self.file.write_all(bytes)
    }

    /// The whole blob went through: into the cache if it hashed to its digest.
    fn finish(mut self) {
        let flushed = self.file.flush();
        let sha = std::mem::take(&mut self.sha);
        if finish(sha) != self.digest {
            return; // dropped: the reader reports the mismatch
        }
        if let Err(source) = flushed.and_then(|()| fs::rename(&self.tmp, &self.dest)) {
            self.cache.warn(&CacheError::Write {
                path: self.dest.clone(),
                source,
            });
        }
    }
}

impl Drop for PendingBlob {
    fn drop(&mut self) {
        // After a rename the temporary name no longer exists; otherwise nothing may keep it.
        let _ = fs::remove_file(&self.tmp);
    }
}

/// A reader that copies what passes through into a [`PendingBlob`], which enters the cache
/// at the end of the stream if it hashed to its digest.
pub(crate) struct Tee<R> {
    inner: R,
    pending: Option<PendingBlob>,
}

impl<R> Tee<R> {
    pub(crate) fn new(inner: R, pending: Option<PendingBlob>) -> Self {
        Tee { inner, pending }
    }
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let res = self.inner.read(buf);
        match res {
            Ok(0) => {
                if let Some(p) = self.pending.take() {
                    p.finish();
                }
            }
            Ok(n) => {
                if let Some(p) = &mut self.pending {
                    if let Err(source) = p.write(&buf[..n]) {
                        // Disk full or similar: give up caching this blob.
                        p.cache.warn(&CacheError::Write {
                            path: p.tmp.clone(),
                            source,
                        });
                        self.pending = None;
                    }
                }
            }
            Err(_) => self.pending = None,
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::sha256_digest;

    #[test]
    fn blobs_enter_the_cache_only_when_whole_and_matching() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), None).unwrap();
        let data = b"layer bytes".repeat(1000);
        let digest = sha256_digest(&data);
        let tmp_files = || fs::read_dir(cache.root().join("tmp")).unwrap().count();

        // A stream that fails leaves nothing behind.
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("connection reset"))
            }
        }
        let mut failing = Tee::new(Failing, cache.blob_writer(&digest));
        assert!(failing.read_to_end(&mut Vec::new()).is_err());
        drop(failing);
        assert_eq!(tmp_files(), 0);
        assert!(!cache.has_blob(&digest));

        // A stream dropped half way leaves nothing behind.
        let mut half = Tee::new(&data[..], cache.blob_writer(&digest));
        half.read_exact(&mut [0u8; 100]).unwrap();
        drop(half);
        assert_eq!(tmp_files(), 0);
        assert!(!cache.has_blob(&digest));

        // A whole stream that does not hash to its digest is not kept.
        let other = sha256_digest(b"other");
        let mut wrong = Tee::new(&data[..], cache.blob_writer(&other));
        io::copy(&mut wrong, &mut io::sink()).unwrap();
        assert!(!cache.has_blob(&other));
        assert_eq!(tmp_files(), 0);

        // A whole, matching stream is served.
        let mut tee = Tee::new(&data[..], cache.blob_writer(&digest));
        io::copy(&mut tee, &mut io::sink()).unwrap();
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
