//! What decode produces and how it fails: [`Compression`], [`DecodedLayer`], [`DecodeError`]
//! and [`LayerError`], and the [`Progress`] hook it reports to.

use std::io;

use crate::index::{LayerIndex, PathProblem};
use crate::packages::LayerPackages;
use crate::secrets::SecretHit;

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
            // A zstd skippable frame (magic 0x184D2A50..=0x184D2A5F, little-endian): zstd
            // streams may begin with one (the decoder skips them wherever they are).
            [0x50..=0x5f, 0x2a, 0x4d, 0x18, ..] => Ok(Compression::Zstd),
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
    /// Package metadata read from this layer's files (dpkg, apk, rpm, Python, npm, Go).
    pub packages: LayerPackages,
    /// gzip's output / input on the first bytes of an uncompressed layer's blob, the
    /// estimate of what a registry would store; filled by the layer stage for local images
    /// (see `crate::sample`) and kept in the layer cache, `None` until then.
    pub gzip_sample_ratio: Option<f64>,
}

/// Why a layer could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The source could not open the blob (its error, whatever the transport).
    #[error("cannot open the layer blob")]
    Open(#[source] Box<dyn std::error::Error + Send + Sync>),
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
    #[error("hard link `{path}` points to `{target}`, an unsafe name: {problem}")]
    HostileLinkTarget {
        path: String,
        target: String,
        problem: PathProblem,
    },
    #[error("blob digest mismatch: the manifest says `{expected}`, the blob hashes to `{actual}`")]
    DigestMismatch { expected: String, actual: String },
    #[error("diff_id mismatch: the config says `{expected}`, the uncompressed layer hashes to `{actual}`")]
    DiffIdMismatch { expected: String, actual: String },
    #[error("the blob is {actual} bytes but the manifest says {expected}")]
    SizeMismatch { expected: u64, actual: u64 },
}

/// A decode error together with the layer it happened in.
#[derive(Debug, thiserror::Error)]
#[error("cannot decode layer {} (`{}`)", .index, .name)]
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
    /// The layer came from the cache: its blob was only hashed, not decoded.
    fn layer_cached(&self, _layer: usize) {}
}

/// Progress that reports nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// Marks errors raised by the decompressor so they can be told apart from tar errors.
#[derive(Debug)]
pub(super) struct StageError(pub(super) &'static str, pub(super) io::Error);
impl std::fmt::Display for StageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0, self.1)
    }
}
impl std::error::Error for StageError {}

/// Stands in, downstream, for a blob read error that the reading stage reports itself.
#[derive(Debug)]
pub(super) struct BlobReadFailed;
impl std::fmt::Display for BlobReadFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("reading the blob failed")
    }
}
impl std::error::Error for BlobReadFailed {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_is_sniffed_by_magic_bytes() {
        assert_eq!(
            Compression::sniff(&[0x1f, 0x8b, 8]).unwrap(),
            Compression::Gzip
        );
        assert_eq!(
            Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]).unwrap(),
            Compression::Zstd
        );
        assert_eq!(Compression::sniff(b"etc/\0\0").unwrap(), Compression::None);
        assert_eq!(Compression::sniff(b"").unwrap(), Compression::None);
        assert!(matches!(
            Compression::sniff(b"BZh91AY"),
            Err(DecodeError::UnsupportedCompression("bzip2"))
        ));
        assert!(matches!(
            Compression::sniff(&[0xfd, b'7', b'z', b'X', b'Z', 0]),
            Err(DecodeError::UnsupportedCompression("xz"))
        ));
    }
}
