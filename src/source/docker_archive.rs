//! Docker archives (`docker-archive:PATH[:NAME:TAG|:@N]`), as `docker save` and skopeo
//! write them: `manifest.json` names the config and the layer tars, in order. Covers both
//! the classic layout (`<id>/layer.tar`) and Docker 25+'s (an OCI layout whose
//! `manifest.json` points into `blobs/sha256/`).

use std::collections::HashMap;
use std::sync::Arc;

use oci_spec::image::ImageConfiguration;

use super::oci::config_platform;
use super::{
    digest_hex, parse_json, sha256_digest, verify_doc, BlobStore, Container, Image, ImageRef,
    LayerBlob, SourceError, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES,
};

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
    #[serde(default)]
    layer_sources: Option<HashMap<String, Source>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    media_type: Option<String>,
}

struct Members<C: Container>(Arc<C>);

impl<C: Container> BlobStore for Members<C> {
    fn open(&self, layer: &LayerBlob) -> Result<Box<dyn std::io::Read + Send + '_>, SourceError> {
        Ok(self.0.open(&layer.locator)?.0)
    }
}

/// The digest a member's name gives it: `<64 hex>.json` (classic `docker save`) or
/// `blobs/sha256/<64 hex>` (Docker 25+); none for any other name.
fn named_digest(name: &str) -> Option<String> {
    let hex = match name.strip_prefix("blobs/sha256/") {
        Some(h) => h,
        None => name.rsplit('/').next()?.strip_suffix(".json")?,
    };
    let is_hex = hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    is_hex.then(|| format!("sha256:{hex}"))
}

fn tags(e: &Entry) -> Vec<String> {
    e.repo_tags.clone().unwrap_or_default()
}

/// `name:tag` and `docker.io/library/name:tag` name the same image.
fn same_tag(a: &str, b: &str) -> bool {
    let short = |s: &str| {
        s.trim_start_matches("docker.io/")
            .trim_start_matches("library/")
            .to_string()
    };
    short(a) == short(b)
}

fn choose<'a>(entries: &'a [Entry], r: &ImageRef) -> Result<&'a Entry, SourceError> {
    let listing = || {
        entries
            .iter()
            .enumerate()
            .map(|(i, e)| tags(e).first().cloned().unwrap_or_else(|| format!("@{i}")))
            .collect::<Vec<_>>()
    };
    match &r.inner {
        Some(wanted) => {
            if let Some(n) = wanted
                .strip_prefix('@')
                .and_then(|n| n.parse::<usize>().ok())
            {
                return entries.get(n).ok_or_else(|| SourceError::RefNotFound {
                    wanted: wanted.clone(),
                    available: listing(),
                });
            }
            entries
                .iter()
                .find(|e| tags(e).iter().any(|t| same_tag(t, wanted)))
                .ok_or_else(|| SourceError::RefNotFound {
                    wanted: wanted.clone(),
                    available: listing(),
                })
        }
        None => match entries {
            [] => Err(SourceError::EmptyManifestList),
            [one] => Ok(one),
            _ => Err(SourceError::AmbiguousRef(listing())),
        },
    }
}

pub(crate) fn open<C: Container + 'static>(c: Arc<C>, r: &ImageRef) -> Result<Image, SourceError> {
    let bytes = c.read_small(
        "docker archive manifest",
        "manifest.json",
        MAX_MANIFEST_BYTES,
    )?;
    let entries: Vec<Entry> = parse_json("docker archive manifest", &bytes)?;
    let entry = choose(&entries, r)?;
    let config_bytes = c.read_small("config", &entry.config, MAX_CONFIG_BYTES)?;
    // Classic archives name the config `<sha256>.json`, Docker 25+ `blobs/sha256/<sha256>`:
    // where the name is a digest, the bytes must match it.
    let config_digest = match named_digest(&entry.config) {
        Some(d) => {
            verify_doc("config", &config_bytes, &d)?;
            d
        }
        None => sha256_digest(&config_bytes),
    };
    let config: ImageConfiguration = parse_json("config", &config_bytes)?;
    let diff_ids = config.rootfs().diff_ids();
    if entry.layers.len() != diff_ids.len() {
        return Err(SourceError::LayerCountMismatch {
            layers: entry.layers.len(),
            diff_ids: diff_ids.len(),
        });
    }
    let mut layers = Vec::with_capacity(entry.layers.len());
    for (path, diff_id) in entry.layers.iter().zip(diff_ids) {
        digest_hex(diff_id)?;
        let digest = path
            .strip_prefix("blobs/sha256/")
            .map(|h| format!("sha256:{h}"))
            .filter(|d| digest_hex(d).is_ok());
        let media_type = digest.as_ref().and_then(|d| {
            entry
                .layer_sources
                .as_ref()
                .and_then(|s| s.get(d))
                .and_then(|s| s.media_type.clone())
        });
        let size = c.size(path)?;
        layers.push(LayerBlob {
            digest,
            diff_id: Some(diff_id.clone()),
            media_type,
            size,
            locator: path.clone(),
        });
    }
    Ok(Image {
        reference: r.to_string(),
        transport: r.transport,
        manifest_digest: None,
        config_digest: Some(config_digest),
        platform: config_platform(&config),
        config,
        healthcheck: super::docker_config::healthcheck(&config_bytes),
        layers,
        store: Arc::new(Members(c)),
        cache: None,
        annotations: Default::default(),
    })
}
