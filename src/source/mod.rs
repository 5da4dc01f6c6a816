//! Image sources: turns a user's image reference into a manifest, a config and the ordered
//! list of layer blobs, whatever transport holds them.
//!
//! Transport names follow skopeo (`docker-archive:`, `oci-archive:`, `oci:`, `docker://`,
//! `podman:`, `docker-daemon:`); an existing path with no transport is sniffed. Every source
//! yields an [`Image`] whose layers are in manifest order and whose blobs are opened on demand
//! through a [`BlobStore`], so nothing is read twice or held whole in memory. [`open`] hands
//! every image, whatever its transport, the layer cache the options ask for; the layer
//! stage (`layers`) uses it. Sources know nothing of decode.

pub(crate) mod auth;
mod container;
pub(crate) mod daemon;
mod docker_archive;
mod docker_config;
mod error;
mod oci;
pub(crate) mod platform;
pub(crate) mod registry;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use oci_spec::image::ImageConfiguration;

use crate::cache::Cache;

pub(crate) use auth::Credentials;
pub use container::{Container, MemContainer};
pub(crate) use container::{DirContainer, TarContainer};
pub(crate) use daemon::DaemonError;
pub use docker_config::Healthcheck;
pub use error::SourceError;
pub(crate) use error::TAMPERED;
pub(crate) use oci::is_foreign_layer_media_type;
pub use platform::Platform;
pub(crate) use registry::RegistryError;

/// Largest manifest or index document accepted (the distribution spec's limit).
pub(crate) const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// Largest image config accepted.
pub(crate) const MAX_CONFIG_BYTES: u64 = 32 << 20;

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
        if !path.exists() {
            if let Some(e) = mistyped_transport(s) {
                return Err(e);
            }
        }
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

/// Transport names as written before the `:`.
const TRANSPORTS: [&str; 6] = [
    "docker-archive",
    "oci-archive",
    "oci",
    "docker",
    "podman",
    "docker-daemon",
];

/// `oic:DIR`, `docker-archve:PATH`: a word before `:` one or two edits from a transport
/// name. (`docker` alone counts only before `://`: `docker:TAG` is a registry image.)
fn mistyped_transport(s: &str) -> Option<SourceError> {
    let (word, rest) = s.split_once(':')?;
    if word.is_empty() || !word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return None;
    }
    let scheme = rest.starts_with("//");
    let names = TRANSPORTS
        .iter()
        .copied()
        .filter(|&t| scheme || t != "docker");
    let near = crate::typo::nearest(&word.to_ascii_lowercase(), names)?;
    Some(SourceError::UnknownTransport {
        given: word.to_string(),
        suggestion: if near == "docker" {
            "docker://".to_string()
        } else {
            format!("{near}:")
        },
    })
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
    // A compressed archive is read in one pass, which finds out which kind it is.
    if compressed_archive(path).is_some() {
        return Ok(Transport::DockerArchive);
    }
    let c = TarContainer::open(path)?;
    if c.has("manifest.json") {
        Ok(Transport::DockerArchive)
    } else if c.has("index.json") {
        Ok(Transport::OciArchive)
    } else if c.truncated() {
        Err(SourceError::Truncated(path.to_path_buf()))
    } else {
        Err(SourceError::UnknownFormat(path.to_path_buf()))
    }
}

/// What a path holds, for errors that say a transport does not fit it: `Some(transport)`
/// for an image of another kind, `None` when it is no image layout or archive.
fn actual_transport(path: &Path) -> Option<Transport> {
    if path.is_dir() {
        if path.join("index.json").is_file() {
            return Some(Transport::Oci);
        }
        return path
            .join("manifest.json")
            .is_file()
            .then_some(Transport::DockerArchive);
    }
    let c = TarContainer::open(path).ok()?;
    if c.has("index.json") {
        Some(Transport::OciArchive)
    } else {
        c.has("manifest.json").then_some(Transport::DockerArchive)
    }
}

/// An error for a transport that does not fit what the path holds, if it does not.
fn check_transport(r: &ImageRef) -> Result<(), SourceError> {
    let path = Path::new(&r.location);
    if !path.exists() {
        return Err(SourceError::NotFound(path.to_path_buf()));
    }
    let wanted = match r.transport {
        Transport::Oci | Transport::OciArchive => "index.json",
        _ => "manifest.json",
    };
    let fits = if path.is_dir() {
        r.transport != Transport::OciArchive && path.join(wanted).is_file()
    } else {
        let tar = TarContainer::open(path)?;
        if !tar.has(wanted) && tar.truncated() {
            return Err(SourceError::Truncated(path.to_path_buf()));
        }
        r.transport != Transport::Oci && tar.has(wanted)
    };
    match actual_transport(path) {
        Some(actual) if !fits && actual != r.transport => Err(SourceError::WrongTransport {
            path: path.to_path_buf(),
            given: r.transport,
            actual,
        }),
        _ => Ok(()),
    }
}

/// `Some("gzip")` or `Some("zstd")` when `path` is a file compressed as a whole (a
/// `docker save … | gzip` archive): it cannot be read in place.
pub(crate) fn compressed_archive(path: &Path) -> Option<&'static str> {
    use std::io::Read as _;
    if !path.is_file() {
        return None;
    }
    let mut head = [0u8; 4];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .ok()?;
    match &head[..n] {
        [0x1f, 0x8b, ..] => Some("gzip"),
        [0x28, 0xb5, 0x2f, 0xfd] => Some("zstd"),
        _ => None,
    }
}

/// Opens the image `r` names from a container already in hand: a docker archive when it has
/// `manifest.json` (and `r` does not ask for an OCI transport while `index.json` is there
/// too), else an OCI layout.
pub(crate) fn open_container<C: Container + 'static>(
    c: Arc<C>,
    r: &ImageRef,
    opts: &OpenOptions,
) -> Result<Image, SourceError> {
    let oci_asked = matches!(r.transport, Transport::Oci | Transport::OciArchive);
    let docker = c.has("manifest.json") && !(oci_asked && c.has("index.json"));
    let image = if docker {
        if oci_asked {
            return Err(SourceError::WrongTransport {
                path: PathBuf::from(&r.location),
                given: r.transport,
                actual: Transport::DockerArchive,
            });
        }
        docker_archive::open(c, r)?
    } else if c.has("index.json") {
        let r = ImageRef {
            transport: Transport::OciArchive,
            ..r.clone()
        };
        oci::open(c, &r, opts)?
    } else {
        return Err(SourceError::UnknownFormat(PathBuf::from(&r.location)));
    };
    check_platform(image, opts)
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
    /// Where registry blobs and decoded layers (of every transport) are cached; `None`
    /// disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// `--cache-max-size`: the cache is trimmed to this after each use; `None` means
    /// `cache::DEFAULT_MAX_BYTES`.
    pub cache_max_bytes: Option<u64>,
    /// How many times a registry request that failed in a way a later attempt may not see
    /// (a refused connection, 429, 5xx) is tried again; `None` means the default (3). An
    /// optional lookup, such as the base the annotations name, asks for 0.
    pub registry_retries: Option<u32>,
}

impl OpenOptions {
    /// Opens the cache these options ask for, if any. A cache directory that cannot be
    /// used is a warning, never an error: the analysis goes on without it.
    pub(crate) fn open_cache(&self) -> Option<Cache> {
        let limit = self
            .cache_max_bytes
            .unwrap_or(crate::cache::DEFAULT_MAX_BYTES);
        Cache::open_or_warn(self.cache_dir.as_deref()?, Some(limit))
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
    /// The blob of `layer`, from its first byte: in place for local archives and layouts,
    /// from the cache or the network for a registry.
    fn open(&self, layer: &LayerBlob) -> Result<Box<dyn Read + Send + '_>, SourceError>;

    /// True when blobs are fetched by digest from a store that serves content by digest and
    /// checks it on arrival (a registry): a cached decode of that digest is then served
    /// without reading the blob again, which would mean downloading it. Local files can
    /// change under the same name, so by default a blob is read and hashed before its cached
    /// decode is served.
    fn fetched_by_digest(&self) -> bool {
        false
    }

    /// gzip's output / input on a sample of an uncompressed layer's blob, when the store
    /// took one while the blob passed (a compressed archive read in one pass) and the blob
    /// cannot be opened again to take it.
    fn gzip_sample_ratio(&self, _layer: &LayerBlob) -> Option<f64> {
        None
    }
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
    /// Docker's `Healthcheck`, which the OCI config type does not keep.
    pub healthcheck: Option<Healthcheck>,
    pub platform: Platform,
    pub layers: Vec<LayerBlob>,
    pub store: Arc<dyn BlobStore>,
    /// The layer cache, unless `--no-cache` (or no cache directory could be used).
    pub cache: Option<Cache>,
    /// The manifest's annotations (OCI manifests only; e.g. `org.opencontainers.image.base.name`).
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// The annotation naming the image a manifest was built `FROM`.
pub(crate) const BASE_NAME_ANNOTATION: &str = "org.opencontainers.image.base.name";
/// The annotation holding that base image's manifest digest.
pub(crate) const BASE_DIGEST_ANNOTATION: &str = "org.opencontainers.image.base.digest";

impl Image {
    /// The blob of layer `n` (manifest order) as a stream, whatever the transport: local
    /// archives and layouts are read in place; registry blobs come from the cache, and are
    /// fetched (and cached) when missing; podman and docker images from their saved archive.
    pub fn open_blob(&self, n: usize) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        let layer = self.layers.get(n).ok_or(SourceError::NoSuchLayer {
            index: n,
            layers: self.layers.len(),
        })?;
        self.store.open(layer)
    }

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

/// Resolves a reference to an image, with the layer cache `opts` ask for.
pub fn open(r: &ImageRef, opts: &OpenOptions) -> Result<Image, SourceError> {
    let cache = opts.open_cache();
    let mut image = check_platform(open_any(r, opts, cache.clone())?, opts)?;
    image.cache = cache;
    Ok(image)
}

/// A single-platform image has no other platform to pick: asking for one is an error, as it
/// is for an index that lacks it.
fn check_platform(image: Image, opts: &OpenOptions) -> Result<Image, SourceError> {
    if let Some(wanted) = &opts.platform {
        if !image.platform.os.is_empty() && !wanted.accepts(&image.platform) {
            return Err(SourceError::PlatformMismatch {
                wanted: wanted.to_string(),
                actual: image.platform.to_string(),
            });
        }
    }
    Ok(image)
}

fn open_any(r: &ImageRef, opts: &OpenOptions, cache: Option<Cache>) -> Result<Image, SourceError> {
    if let Some(kind) = compressed_archive(Path::new(&r.location)) {
        return Err(SourceError::Compressed {
            path: PathBuf::from(&r.location),
            kind,
        });
    }
    if matches!(
        r.transport,
        Transport::Oci | Transport::OciArchive | Transport::DockerArchive
    ) {
        check_transport(r)?;
    }
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
        Transport::Docker => registry::open(r, opts, cache),
        Transport::Podman | Transport::DockerDaemon => daemon::open(r),
    }
}

/// Opens the image `r` names inside files that `c` holds: an OCI layout for the `oci` and
/// `oci-archive` transports, a docker archive for `docker-archive` (`r.location` is only
/// used in messages). The manifest, index and config parsers behind [`open`], reachable
/// without a file system (the fuzz targets use it).
pub fn open_in<C: Container + 'static>(
    c: Arc<C>,
    r: &ImageRef,
    opts: &OpenOptions,
) -> Result<Image, SourceError> {
    match r.transport {
        Transport::Oci | Transport::OciArchive => oci::open(c, r, opts),
        Transport::DockerArchive => docker_archive::open(c, r),
        t => Err(SourceError::UnsupportedTransport(t.prefix())),
    }
}

/// Checks a digest string and returns its hex part. Only sha256 is accepted, and only
/// lower-case hex, so a digest can never name a path outside a blob directory.
pub fn digest_hex(digest: &str) -> Result<&str, SourceError> {
    crate::digest::sha256_hex(digest).ok_or_else(|| SourceError::BadDigest(digest.to_string()))
}

pub(crate) use crate::digest::sha256_digest;

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

impl Transport {
    /// What a user calls a thing this transport reads, with its article.
    pub fn what(self) -> &'static str {
        match self {
            Transport::DockerArchive => "a docker archive",
            Transport::OciArchive => "an OCI archive",
            Transport::Oci => "an OCI layout directory",
            Transport::Docker => "a registry image",
            Transport::Podman => "a podman image",
            Transport::DockerDaemon => "a docker daemon image",
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
