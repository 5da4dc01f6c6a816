//! Image sources: turns a user's image reference into a manifest, a config and the ordered
//! list of layer blobs, whatever transport holds them.
//!
//! Transport names follow skopeo (`docker-archive:`, `oci-archive:`, `oci:`, `docker://`,
//! `podman:`, `docker-daemon:`); an existing path with no transport is sniffed. Every source
//! yields an [`Image`] whose layers are in manifest order and whose blobs are opened on demand
//! through a [`BlobStore`], so nothing is read twice or held whole in memory.

pub mod auth;
pub mod cache;
mod container;
pub mod daemon;
mod docker_archive;
mod oci;
pub mod platform;
pub mod registry;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use oci_spec::image::ImageConfiguration;

use crate::decode::DecodedLayer;

pub use auth::Credentials;
pub use container::{Container, DirContainer, TarContainer};
pub use daemon::DaemonError;
pub use platform::Platform;
pub use registry::RegistryError;

/// Largest manifest or index document accepted (the distribution spec's limit).
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// Largest image config accepted.
pub const MAX_CONFIG_BYTES: u64 = 32 << 20;

/// How an image is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    DockerArchive,
    OciArchive,
    Oci,
    Docker,
    Podman,
    DockerDaemon,
}

impl Transport {
    pub fn prefix(self) -> &'static str {
        match self {
            Transport::DockerArchive => "docker-archive",
            Transport::OciArchive => "oci-archive",
            Transport::Oci => "oci",
            Transport::Docker => "docker",
            Transport::Podman => "podman",
            Transport::DockerDaemon => "docker-daemon",
        }
    }
}

/// A parsed image reference: transport, where (path or name), and an optional ref inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub transport: Transport,
    /// A filesystem path for archive and layout transports, an image name otherwise.
    pub location: String,
    /// `REF` of `oci:DIR:REF`, `oci-archive:PATH:REF`, `docker-archive:PATH:NAME:TAG`.
    pub inner: Option<String>,
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.transport {
            Transport::Docker => write!(f, "docker://{}", self.location),
            t => {
                write!(f, "{}:{}", t.prefix(), self.location)?;
                if let Some(r) = &self.inner {
                    write!(f, ":{r}")?;
                }
                Ok(())
            }
        }
    }
}

impl ImageRef {
    /// Parses skopeo-style references. A bare existing path is sniffed (`manifest.json` →
    /// docker archive, `index.json` → OCI); any other bare `NAME[:TAG]` means a registry.
    pub fn parse(s: &str) -> Result<ImageRef, SourceError> {
        let bad = || SourceError::BadReference(s.to_string());
        if s.is_empty() {
            return Err(bad());
        }
        if let Some(rest) = s.strip_prefix("docker://") {
            if rest.is_empty() {
                return Err(bad());
            }
            return Ok(ImageRef {
                transport: Transport::Docker,
                location: rest.to_string(),
                inner: None,
            });
        }
        for (prefix, t) in [
            ("docker-archive:", Transport::DockerArchive),
            ("oci-archive:", Transport::OciArchive),
            ("oci:", Transport::Oci),
        ] {
            if let Some(rest) = s.strip_prefix(prefix) {
                let (path, inner) = split_path_ref(rest);
                if path.is_empty() {
                    return Err(bad());
                }
                return Ok(ImageRef {
                    transport: t,
                    location: path,
                    inner,
                });
            }
        }
        for (prefix, t) in [
            ("podman:", Transport::Podman),
            ("docker-daemon:", Transport::DockerDaemon),
        ] {
            if let Some(rest) = s.strip_prefix(prefix) {
                if rest.is_empty() {
                    return Err(bad());
                }
                return Ok(ImageRef {
                    transport: t,
                    location: rest.to_string(),
                    inner: None,
                });
            }
        }
        let path = Path::new(s);
        if path.exists() {
            return Ok(ImageRef {
                transport: sniff(path)?,
                location: s.to_string(),
                inner: None,
            });
        }
        if looks_like_path(s) {
            return Err(SourceError::NotFound(PathBuf::from(s)));
        }
        Ok(ImageRef {
            transport: Transport::Docker,
            location: s.to_string(),
            inner: None,
        })
    }
}

/// `PATH[:REF]`: the whole string is the path when it exists, else the last `:` splits.
fn split_path_ref(rest: &str) -> (String, Option<String>) {
    if Path::new(rest).exists() {
        return (rest.to_string(), None);
    }
    // docker-archive refs are `NAME:TAG`, so try each `:` from the left.
    for (i, _) in rest.match_indices(':') {
        if Path::new(&rest[..i]).exists() {
            let r = &rest[i + 1..];
            return (
                rest[..i].to_string(),
                (!r.is_empty()).then(|| r.to_string()),
            );
        }
    }
    match rest.split_once(':') {
        Some((p, r)) if !r.is_empty() => (p.to_string(), Some(r.to_string())),
        _ => (rest.trim_end_matches(':').to_string(), None),
    }
}

fn looks_like_path(s: &str) -> bool {
    s.starts_with('/')
        || s.starts_with("./")
        || s.starts_with("../")
        || s.ends_with(".tar")
        || s.ends_with(".tar.gz")
}

/// Tells an OCI layout directory, an OCI archive and a docker archive apart by content.
fn sniff(path: &Path) -> Result<Transport, SourceError> {
    if path.is_dir() {
        if path.join("manifest.json").is_file() {
            return Ok(Transport::DockerArchive);
        }
        if path.join("index.json").is_file() {
            return Ok(Transport::Oci);
        }
        return Err(SourceError::UnknownFormat(path.to_path_buf()));
    }
    let c = TarContainer::open(path)?;
    if c.has("manifest.json") {
        Ok(Transport::DockerArchive)
    } else if c.has("index.json") {
        Ok(Transport::OciArchive)
    } else {
        Err(SourceError::UnknownFormat(path.to_path_buf()))
    }
}

/// Options that shape how a reference resolves to one image.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// `--platform`; `None` means the host's when an index offers several.
    pub platform: Option<Platform>,
    /// `--creds`: registry credentials that override every configured source.
    pub creds: Option<Credentials>,
    /// `--tls-verify`: `Some(false)` allows registries without valid TLS (and plain HTTP).
    pub tls_verify: Option<bool>,
    /// Where blobs and decoded layers of remote images are cached; `None` disables it.
    pub cache_dir: Option<PathBuf>,
    /// `--cache-max-size`: the cache is trimmed to this after each use; `None` means
    /// [`cache::DEFAULT_MAX_BYTES`].
    pub cache_max_bytes: Option<u64>,
}

impl OpenOptions {
    /// Opens the cache these options ask for, if any.
    pub(crate) fn open_cache(&self) -> Result<Option<cache::Cache>, SourceError> {
        let limit = self.cache_max_bytes.unwrap_or(cache::DEFAULT_MAX_BYTES);
        self.cache_dir
            .as_deref()
            .map(|dir| cache::Cache::open(dir, Some(limit)))
            .transpose()
    }
}

/// One layer blob as the manifest lists it.
#[derive(Debug, Clone)]
pub struct LayerBlob {
    /// `sha256:…` of the blob, when the source knows it (classic docker archives do not).
    pub digest: Option<String>,
    /// `sha256:…` of the uncompressed tar, from the config's `rootfs.diff_ids`.
    pub diff_id: Option<String>,
    pub media_type: Option<String>,
    /// Compressed (stored) size in bytes.
    pub size: u64,
    /// Where the store finds it (a path inside an archive or layout).
    pub locator: String,
}

/// Opens layer blobs as streams. Implementations must be usable from several threads.
pub trait BlobStore: Send + Sync {
    fn open(&self, layer: &LayerBlob) -> Result<Box<dyn Read + Send + '_>, SourceError>;

    /// A layer this store decoded and verified before (an on-disk cache), so decode can
    /// skip downloading it. Checked against the layer's digests by the caller.
    fn cached(&self, _layer: &LayerBlob) -> Option<DecodedLayer> {
        None
    }

    /// Offers a layer that was just decoded and verified, for the store to cache.
    fn remember(&self, _layer: &LayerBlob, _decoded: &DecodedLayer) {}
}

/// A resolved image: what to decode and where its build steps are described.
#[derive(Clone)]
pub struct Image {
    /// The reference as the user gave it, normalised (`oci:dir:ref`).
    pub reference: String,
    pub transport: Transport,
    pub manifest_digest: Option<String>,
    pub config_digest: Option<String>,
    pub config: ImageConfiguration,
    pub platform: Platform,
    pub layers: Vec<LayerBlob>,
    pub store: Arc<dyn BlobStore>,
}

impl Image {
    /// The order to fetch and decode layers in: largest blob first (ties in manifest order),
    /// so the longest piece of work starts first.
    pub fn decode_order(&self) -> Vec<usize> {
        largest_first(&self.layers)
    }
}

/// Indexes of `layers`, largest blob first, ties in manifest order.
pub(crate) fn largest_first(layers: &[LayerBlob]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..layers.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(layers[i].size));
    order
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Image")
            .field("reference", &self.reference)
            .field("transport", &self.transport)
            .field("manifest_digest", &self.manifest_digest)
            .field("layers", &self.layers)
            .finish_non_exhaustive()
    }
}

/// Resolves a reference to an image.
pub fn open(r: &ImageRef, opts: &OpenOptions) -> Result<Image, SourceError> {
    match r.transport {
        Transport::Oci => {
            let dir = DirContainer::open(Path::new(&r.location))?;
            oci::open(Arc::new(dir), r, opts)
        }
        Transport::OciArchive => {
            let tar = TarContainer::open(Path::new(&r.location))?;
            oci::open(Arc::new(tar), r, opts)
        }
        Transport::DockerArchive => {
            let p = Path::new(&r.location);
            if p.is_dir() {
                docker_archive::open(Arc::new(DirContainer::open(p)?), r)
            } else {
                docker_archive::open(Arc::new(TarContainer::open(p)?), r)
            }
        }
        Transport::Docker => registry::open(r, opts),
        Transport::Podman | Transport::DockerDaemon => daemon::open(r, opts),
    }
}

/// Checks a digest string and returns its hex part. Only sha256 is accepted, and only
/// lower-case hex, so a digest can never name a path outside a blob directory.
pub fn digest_hex(digest: &str) -> Result<&str, SourceError> {
    let hex = digest
        .strip_prefix("sha256:")
        .ok_or_else(|| SourceError::BadDigest(digest.to_string()))?;
    if hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(hex)
    } else {
        Err(SourceError::BadDigest(digest.to_string()))
    }
}

/// `sha256:<hex>` of some bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", hex(&sha2::Sha256::digest(bytes)))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Verifies a small document (manifest, index, config) against its descriptor digest.
pub(crate) fn verify_doc(
    what: &'static str,
    bytes: &[u8],
    digest: &str,
) -> Result<(), SourceError> {
    digest_hex(digest)?;
    let actual = sha256_digest(bytes);
    if actual == digest {
        Ok(())
    } else {
        Err(SourceError::DocDigestMismatch {
            what,
            expected: digest.to_string(),
            actual,
        })
    }
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, SourceError> {
    serde_json::from_slice(bytes).map_err(|source| SourceError::Malformed { what, source })
}

/// Why an image could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("`{0}` is not an image reference")]
    BadReference(String),
    #[error("`{}` does not exist", .0.display())]
    NotFound(PathBuf),
    #[error("`{}` is neither an OCI layout, an OCI archive nor a docker archive", .0.display())]
    UnknownFormat(PathBuf),
    #[error("cannot read `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{name}` is missing from the image")]
    Missing { name: String },
    #[error("the {what} is {size} bytes, more than the {limit} bytes allowed")]
    TooLarge {
        what: &'static str,
        size: u64,
        limit: u64,
    },
    #[error("the {what} is not valid JSON of the expected form")]
    Malformed {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("the {what} does not match its digest: expected `{expected}`, got `{actual}`")]
    DocDigestMismatch {
        what: &'static str,
        expected: String,
        actual: String,
    },
    #[error("`{0}` is not a sha256 digest")]
    BadDigest(String),
    #[error("unsupported media type `{0}`")]
    UnsupportedMediaType(String),
    #[error("the image has {layers} layers but its config lists {diff_ids} diff_ids")]
    LayerCountMismatch { layers: usize, diff_ids: usize },
    #[error("no image named `{wanted}`; the image holds: {}", list_or_none(.available))]
    RefNotFound {
        wanted: String,
        available: Vec<String>,
    },
    #[error("the image holds several images; choose one: {}", .0.join(", "))]
    AmbiguousRef(Vec<String>),
    #[error("no image for platform `{wanted}`; available: {}", list_or_none(.available))]
    PlatformNotFound {
        wanted: String,
        available: Vec<String>,
    },
    #[error("invalid platform `{0}` (expected os/arch[/variant], e.g. linux/arm64/v8)")]
    BadPlatform(String),
    #[error("the image has no layers")]
    NoLayers,
    #[error("the `{0}` transport is not available in this build")]
    UnsupportedTransport(&'static str),
    #[error(transparent)]
    Registry(Box<RegistryError>),
    #[error(transparent)]
    Daemon(Box<DaemonError>),
    #[error("refusing blob path `{name}` outside the image directory")]
    UnsafeMemberPath { name: String },
    #[error("`manifest.json` lists no images")]
    EmptyManifestList,
    #[error("the image index lists no images")]
    EmptyIndex,
    #[error("image indexes nest too deeply")]
    IndexTooDeep { depth: u8 },
    #[error("cannot reach registry `{registry}`")]
    RegistryUnreachable { registry: String },
    #[error("a registry layer has no digest")]
    LayerWithoutDigest { locator: String },
    #[error("{message}")]
    Wrapped {
        message: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "(none)".to_string()
    } else {
        v.join(", ")
    }
}

impl SourceError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SourceError::Io {
            path: path.into(),
            source,
        }
    }

    /// A next step for the user, where one is obvious.
    pub fn hint(&self) -> Option<String> {
        match self {
            SourceError::RefNotFound { available, .. } | SourceError::AmbiguousRef(available)
                if !available.is_empty() =>
            {
                Some(format!("append `:{}` to the reference", available[0]))
            }
            SourceError::PlatformNotFound { available, .. } if !available.is_empty() => {
                Some(format!("pass `--platform {}`", available[0]))
            }
            SourceError::Registry(e) => e.hint(),
            SourceError::Daemon(e) => e.hint(),
            SourceError::UnsafeMemberPath { .. } => Some(
                "the image names a file outside itself; it may be crafted to escape, so it is not read"
                    .to_string(),
            ),
            SourceError::EmptyManifestList | SourceError::EmptyIndex => Some(
                "the image was saved without any image in it; save or copy it again".to_string(),
            ),
            SourceError::BadReference(_) | SourceError::UnknownFormat(_) => Some(
                "use a transport prefix: `oci:DIR[:REF]`, `oci-archive:PATH[:REF]`, \
                 `docker-archive:PATH`, `docker://NAME[:TAG]`, `podman:NAME`"
                    .to_string(),
            ),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(size: u64) -> LayerBlob {
        LayerBlob {
            digest: None,
            diff_id: None,
            media_type: None,
            size,
            locator: String::new(),
        }
    }

    #[test]
    fn decode_order_is_largest_first_and_stable_on_ties() {
        let layers: Vec<LayerBlob> = [5, 70, 0, 70, 300].into_iter().map(blob).collect();
        assert_eq!(largest_first(&layers), vec![4, 1, 3, 0, 2]);
        assert!(largest_first(&[]).is_empty());
    }
}
