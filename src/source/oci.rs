//! OCI image layouts (`oci:DIR[:REF]`) and OCI archives (`oci-archive:PATH[:REF]`): picks
//! one image from `index.json` by ref name and platform, then reads and verifies its
//! manifest and config. Also used by sources that deliver an OCI layout (registries).

use std::sync::Arc;

use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest};

use super::{
    digest_hex, parse_json, verify_doc, BlobStore, Container, Image, ImageRef, LayerBlob,
    OpenOptions, Platform, SourceError, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES,
};

const REF_NAME: &str = "org.opencontainers.image.ref.name";

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
const MANIFEST_TYPES: [&str; 2] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];
const CONFIG_TYPES: [&str; 2] = [
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];

/// Layer media types layersift decodes (the blob's compression is sniffed, not trusted).
const LAYER_TYPES: [&str; 6] = [
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.diff.tar.zstd",
];

/// Foreign (non-distributable) layers: their blobs live elsewhere (Windows base layers), so
/// they are skipped and reported, never fetched.
const FOREIGN_LAYER_TYPES: [&str; 5] = [
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.foreign.diff.tar",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
];

/// True for media types of image layers layersift reads or skips (foreign layers);
/// anything else (an encrypted layer, an artifact's blob) is refused.
pub(crate) fn is_layer_media_type(t: &str) -> bool {
    LAYER_TYPES.contains(&t) || is_foreign_layer_media_type(t)
}

/// True for a foreign (non-distributable) layer's media type.
pub(crate) fn is_foreign_layer_media_type(t: &str) -> bool {
    FOREIGN_LAYER_TYPES.contains(&t)
}

struct BlobsIn<C: Container>(Arc<C>);

impl<C: Container> BlobStore for BlobsIn<C> {
    fn open(&self, layer: &LayerBlob) -> Result<Box<dyn std::io::Read + Send + '_>, SourceError> {
        Ok(self.0.open(&layer.locator)?.0)
    }
}

pub(crate) fn blob_path(digest: &str) -> Result<String, SourceError> {
    Ok(format!("blobs/sha256/{}", digest_hex(digest)?))
}

fn read_blob<C: Container>(
    c: &C,
    what: &'static str,
    d: &Descriptor,
    limit: u64,
) -> Result<Vec<u8>, SourceError> {
    let digest = d.digest().to_string();
    if d.size() > limit {
        return Err(SourceError::TooLarge {
            what,
            size: d.size(),
            limit,
        });
    }
    let bytes = c.read_small(what, &blob_path(&digest)?, limit)?;
    verify_doc(what, &bytes, &digest)?;
    Ok(bytes)
}

fn ref_name(d: &Descriptor) -> Option<&str> {
    d.annotations()
        .as_ref()
        .and_then(|a| a.get(REF_NAME))
        .map(String::as_str)
}

fn descriptor_platform(d: &Descriptor) -> Option<Platform> {
    d.platform().as_ref().map(|p| Platform {
        os: p.os().to_string(),
        architecture: p.architecture().to_string(),
        variant: p.variant().clone(),
    })
}

/// Chooses among index entries by platform: the requested one, else the host's.
pub(crate) fn pick_platform<'a>(
    entries: &[&'a Descriptor],
    opts: &OpenOptions,
) -> Result<&'a Descriptor, SourceError> {
    let wanted = opts.platform.clone().unwrap_or_else(Platform::host);
    let images: Vec<&Descriptor> = entries
        .iter()
        .copied()
        .filter(|d| !is_attestation(d))
        .collect();
    if let Some(d) = images
        .iter()
        .find(|d| descriptor_platform(d).is_some_and(|p| wanted.accepts(&p)))
    {
        return Ok(d);
    }
    if opts.platform.is_none() && images.len() == 1 {
        return Ok(images[0]);
    }
    Err(SourceError::PlatformNotFound {
        wanted: wanted.to_string(),
        available: images
            .iter()
            .filter_map(|d| descriptor_platform(d).map(|p| p.to_string()))
            .collect(),
    })
}

/// BuildKit stores attestation manifests in indexes with platform `unknown/unknown`.
fn is_attestation(d: &Descriptor) -> bool {
    descriptor_platform(d).is_some_and(|p| p.os == "unknown" && p.architecture == "unknown")
}

/// Resolves `index.json` of a layout to one image manifest descriptor.
fn select<C: Container>(
    c: &C,
    index: &ImageIndex,
    r: &ImageRef,
    opts: &OpenOptions,
) -> Result<Descriptor, SourceError> {
    let all: Vec<&Descriptor> = index.manifests().iter().collect();
    if all.is_empty() {
        return Err(SourceError::EmptyIndex);
    }
    let mut names: Vec<String> = all
        .iter()
        .filter_map(|d| ref_name(d))
        .map(str::to_string)
        .collect();
    names.dedup();
    let candidates: Vec<&Descriptor> = match &r.inner {
        Some(wanted) => {
            let mut m: Vec<&Descriptor> = all
                .iter()
                .copied()
                .filter(|d| ref_name(d) == Some(wanted.as_str()))
                .collect();
            // No name matches: a manifest digest (`oci:DIR:sha256:…`) picks its entry.
            if m.is_empty() && wanted.starts_with("sha256:") {
                m = all
                    .iter()
                    .copied()
                    .filter(|d| d.digest().to_string() == *wanted)
                    .collect();
            }
            if m.is_empty() {
                return Err(SourceError::RefNotFound {
                    wanted: wanted.clone(),
                    available: names,
                });
            }
            m
        }
        None => {
            let mut distinct = names.clone();
            distinct.sort();
            distinct.dedup();
            if distinct.len() > 1 {
                return Err(SourceError::AmbiguousRef(names));
            }
            all
        }
    };
    let chosen = if candidates.len() == 1 {
        candidates[0]
    } else {
        pick_platform(&candidates, opts)?
    };
    resolve_nested(c, chosen, opts, 0)
}

/// Follows image indexes (multi-arch) down to an image manifest.
fn resolve_nested<C: Container>(
    c: &C,
    d: &Descriptor,
    opts: &OpenOptions,
    depth: u8,
) -> Result<Descriptor, SourceError> {
    let mt = d.media_type().to_string();
    if !INDEX_TYPES.contains(&mt.as_str()) {
        return Ok(d.clone());
    }
    if depth > 4 {
        return Err(SourceError::IndexTooDeep { depth });
    }
    let bytes = read_blob(c, "image index", d, MAX_MANIFEST_BYTES)?;
    let nested: ImageIndex = parse_json("image index", &bytes)?;
    let entries: Vec<&Descriptor> = nested.manifests().iter().collect();
    let chosen = pick_platform(&entries, opts)?;
    resolve_nested(c, chosen, opts, depth + 1)
}

/// Opens the image a reference names inside an OCI layout held by `c`.
pub(crate) fn open<C: Container + 'static>(
    c: Arc<C>,
    r: &ImageRef,
    opts: &OpenOptions,
) -> Result<Image, SourceError> {
    let index_bytes = c.read_small("image index", "index.json", MAX_MANIFEST_BYTES)?;
    let index: ImageIndex = parse_json("image index", &index_bytes)?;
    let desc = select(c.as_ref(), &index, r, opts)?;
    let mt = desc.media_type().to_string();
    if !MANIFEST_TYPES.contains(&mt.as_str()) {
        return Err(SourceError::UnsupportedMediaType(mt));
    }
    let manifest_bytes = read_blob(c.as_ref(), "manifest", &desc, MAX_MANIFEST_BYTES)?;
    let (manifest, config, healthcheck) = parse_manifest_and_config(&manifest_bytes, |cd| {
        read_blob(c.as_ref(), "config", cd, MAX_CONFIG_BYTES)
    })?;
    let layers = layers_of(&manifest, &config, blob_path)?;
    Ok(Image {
        reference: r.to_string(),
        transport: r.transport,
        manifest_digest: Some(desc.digest().to_string()),
        config_digest: Some(manifest.config().digest().to_string()),
        platform: config_platform(&config),
        config,
        healthcheck,
        layers,
        store: Arc::new(BlobsIn(c)),
        cache: None,
        annotations: annotations(&manifest),
    })
}

/// Parses a manifest, checks its media types, and fetches and parses its config.
pub(crate) fn parse_manifest_and_config(
    manifest_bytes: &[u8],
    fetch_config: impl FnOnce(&Descriptor) -> Result<Vec<u8>, SourceError>,
) -> Result<
    (
        ImageManifest,
        ImageConfiguration,
        Option<super::Healthcheck>,
    ),
    SourceError,
> {
    let manifest: ImageManifest = parse_json("manifest", manifest_bytes)?;
    // The document's own type, where it gives one, must be an image manifest's too (an
    // index entry can claim one type and point at another document).
    if let Some(mt) = manifest.media_type() {
        if !MANIFEST_TYPES.contains(&mt.as_ref()) {
            return Err(SourceError::UnsupportedMediaType(mt.to_string()));
        }
    }
    let cmt = manifest.config().media_type().to_string();
    if !CONFIG_TYPES.contains(&cmt.as_str()) {
        return Err(SourceError::UnsupportedMediaType(cmt));
    }
    let config_bytes = fetch_config(manifest.config())?;
    let config: ImageConfiguration = parse_json("config", &config_bytes)?;
    let healthcheck = super::docker_config::healthcheck(&config_bytes);
    Ok((manifest, config, healthcheck))
}

/// The manifest's layers, in order, paired with the config's diff_ids.
pub(crate) fn layers_of(
    manifest: &ImageManifest,
    config: &ImageConfiguration,
    locate: impl Fn(&str) -> Result<String, SourceError>,
) -> Result<Vec<LayerBlob>, SourceError> {
    let diff_ids = config.rootfs().diff_ids();
    let descs = manifest.layers();
    if descs.len() != diff_ids.len() {
        return Err(SourceError::LayerCountMismatch {
            layers: descs.len(),
            diff_ids: diff_ids.len(),
        });
    }
    descs
        .iter()
        .zip(diff_ids)
        .map(|(d, diff_id)| {
            let mt = d.media_type().to_string();
            if !is_layer_media_type(&mt) {
                return Err(SourceError::UnsupportedMediaType(mt));
            }
            let digest = d.digest().to_string();
            digest_hex(diff_id)?;
            Ok(LayerBlob {
                locator: locate(&digest)?,
                digest: Some(digest),
                diff_id: Some(diff_id.clone()),
                media_type: Some(mt),
                size: d.size(),
            })
        })
        .collect()
}

/// The manifest's annotations (the base image's name and digest among them), sorted.
pub(crate) fn annotations(manifest: &ImageManifest) -> std::collections::BTreeMap<String, String> {
    manifest
        .annotations()
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

pub(crate) fn config_platform(config: &ImageConfiguration) -> Platform {
    Platform {
        os: config.os().to_string(),
        architecture: config.architecture().to_string(),
        variant: config.variant().clone(),
    }
}
