//! Registries (`docker://NAME[:TAG|@DIGEST]`, or a bare `NAME[:TAG]`), through oci-client:
//! resolves a tag or digest to one image manifest (picking a platform from an index),
//! fetches and verifies the config, and streams layer blobs to decode.
//!
//! Transport: HTTPS, except plain HTTP for `localhost`/`127.0.0.1`/`::1`; with
//! `--tls-verify=false`, HTTPS without certificate checks and then plain HTTP (skopeo's
//! behaviour). Connect and read timeouts; requests are retried with exponential backoff on
//! 429, 5xx and dropped connections, and an interrupted blob resumes where it stopped.
//!
//! The HTTP client is async; decode is sync (rayon). The store owns a small tokio runtime;
//! each opened blob is a task that sends chunks through a bounded channel to a sync
//! [`std::io::Read`], so a layer is never held whole in memory and downloads run while
//! decoding consumes them. Downloads of layers decode has not reached yet start early (a
//! few at a time, each buffering a bounded amount), so request latency overlaps decoding.
//! Blobs and decoded layers go to the cache when one is given.
//!
//! Credentials: basic ones go to oci-client as they are. An identity (refresh) token is
//! first traded for an access token the OAuth2 way of the distribution token spec (see
//! `token::exchange_identity_token`) over the same transport and timeouts, and the access token
//! is then used as a bearer token.
//!
//! One job per module: `error` (errors and their context), `retry` (retry policy),
//! `token` (challenges, bearer and identity-token exchange), `reference` (reference
//! parsing), `download` (the streaming download), `store` (the blob store); this module
//! resolves and opens an image.

mod download;
mod error;
mod reference;
mod retry;
mod store;
mod token;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use oci_spec::image::{Descriptor, ImageIndex};

use super::auth::{self, AuthEnv, CredsKind, Secret};
use super::oci::{config_platform, layers_of, parse_manifest_and_config, pick_platform};
use super::{
    parse_json, verify_doc, Image, ImageRef, OpenOptions, SourceError, MAX_CONFIG_BYTES,
    MAX_MANIFEST_BYTES,
};
use crate::cache::Cache;
use download::Remote;
pub(crate) use error::RegistryError;
use error::{Context, MANIFEST};
pub use reference::parse_reference;
use retry::with_retries;
use store::RegistryStore;
use token::{token_client, IdentityLogin, Login};

const ACCEPT: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

const USER_AGENT: &str = concat!("layersift/", env!("CARGO_PKG_VERSION"));
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const READ_TIMEOUT: Duration = Duration::from_secs(60);

fn is_loopback(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => registry.rsplit_once(':').map_or(registry, |(h, _)| h),
    };
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

/// rustls' crypto provider for this process: `ring` (the only one built in; see
/// Cargo.toml), installed once before the first client is made.
pub(super) fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err only when a provider is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

fn client(protocol: ClientProtocol, insecure: bool) -> Client {
    install_tls_provider();
    Client::new(ClientConfig {
        protocol,
        accept_invalid_certificates: insecure,
        platform_resolver: None,
        connect_timeout: Some(CONNECT_TIMEOUT),
        read_timeout: Some(READ_TIMEOUT),
        user_agent: USER_AGENT,
        ..ClientConfig::default()
    })
}
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Peek {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde_json::Value>,
}

/// Fetches the manifest a reference names, following an index to the wanted platform.
/// Returns the manifest's bytes and digest.
async fn resolve(
    client: &Client,
    reference: &Reference,
    auth: &RegistryAuth,
    opts: &OpenOptions,
    cx: &Context,
) -> Result<(Vec<u8>, String), SourceError> {
    let fetch = |r: Reference| async move {
        with_retries(cx.retries, || client.pull_manifest_raw(&r, auth, ACCEPT))
            .await
            .map_err(|e| cx.error(MANIFEST, e))
    };
    let (bytes, digest) = fetch(reference.clone()).await?;
    check_size("manifest", bytes.len())?;
    let peek: Peek = parse_json("manifest", &bytes)?;
    let is_index = peek.manifests.is_some()
        || peek
            .media_type
            .as_deref()
            .is_some_and(|m| m.contains("index") || m.contains("manifest.list"));
    if !is_index {
        return Ok((bytes.to_vec(), digest));
    }
    let index: ImageIndex = parse_json("image index", &bytes)?;
    let entries: Vec<&Descriptor> = index.manifests().iter().collect();
    let chosen = pick_platform(&entries, opts)?;
    let child_digest = chosen.digest().to_string();
    let (bytes, _) = fetch(reference.clone_with_digest(child_digest.clone())).await?;
    check_size("manifest", bytes.len())?;
    verify_doc("manifest", &bytes, &child_digest)?;
    Ok((bytes.to_vec(), child_digest))
}

fn check_size(what: &'static str, len: usize) -> Result<(), SourceError> {
    let size = len as u64;
    if size > MAX_MANIFEST_BYTES {
        return Err(SourceError::TooLarge {
            what,
            size,
            limit: MAX_MANIFEST_BYTES,
        });
    }
    Ok(())
}

/// Downloads a small blob whole, refusing to hold more than `limit` bytes whatever the
/// registry sends.
async fn fetch_small(
    client: &Client,
    reference: &Reference,
    digest: &str,
    limit: u64,
) -> Result<Vec<u8>, OciDistributionError> {
    let mut stream = client.pull_blob_stream(reference, digest).await?;
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        buf.extend_from_slice(&chunk?);
        if buf.len() as u64 > limit {
            return Err(OciDistributionError::SpecViolationError(format!(
                "blob `{digest}` is larger than {limit} bytes"
            )));
        }
    }
    Ok(buf)
}

/// Opens an image in a registry; `cache` keeps its config and blobs.
pub(crate) fn open(
    r: &ImageRef,
    opts: &OpenOptions,
    cache: Option<Cache>,
) -> Result<Image, SourceError> {
    let reference = parse_reference(&r.location)
        .ok_or_else(|| SourceError::BadReference(r.location.clone()))?;
    let registry = reference.registry().to_string();
    let found = auth::lookup(
        &registry,
        reference.repository(),
        opts.creds.as_ref(),
        &AuthEnv::from_process(),
    )
    .map_err(RegistryError::Auth)?;
    let kind = found
        .as_ref()
        .map_or(CredsKind::Basic, |(secret, _)| secret.kind());
    // An identity token is traded for an access token per protocol tried, below.
    let (auth, identity, creds) = match found {
        Some((Secret::Basic(c), src)) => {
            (RegistryAuth::Basic(c.username, c.password), None, Some(src))
        }
        Some((Secret::IdentityToken(t), src)) => (RegistryAuth::Anonymous, Some(t), Some(src)),
        None => (RegistryAuth::Anonymous, None, None),
    };
    let cx = Context {
        registry: registry.clone(),
        reference: reference.whole(),
        creds,
        kind,
        retries: opts.registry_retries.unwrap_or(retry::RETRIES),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("layersift-net")
        .enable_all()
        .build()
        .map_err(RegistryError::Runtime)?;

    let insecure = opts.tls_verify == Some(false);
    let protocols: &[ClientProtocol] = if is_loopback(&registry) {
        &[ClientProtocol::Http]
    } else if insecure {
        &[ClientProtocol::Https, ClientProtocol::Http]
    } else {
        &[ClientProtocol::Https]
    };
    let login = Login {
        auth,
        identity: match (identity, &cx.creds) {
            (Some(token), Some(source)) => Some(Arc::new(IdentityLogin {
                token,
                http: token_client(insecure)?,
                insecure,
                source: source.clone(),
            })),
            _ => None,
        },
    };
    let mut resolved = None;
    for (i, proto) in protocols.iter().enumerate() {
        let c = client(proto.clone(), insecure);
        let scheme = match proto {
            ClientProtocol::Http => "http",
            _ => "https",
        };
        let attempt = rt.block_on(async {
            let auth = login.auth(&reference, &cx, scheme).await?;
            resolve(&c, &reference, &auth, opts, &cx).await
        });
        match attempt {
            Ok(m) => {
                resolved = Some((c, scheme, m));
                break;
            }
            Err(SourceError::Registry(e))
                if i + 1 < protocols.len()
                    && matches!(
                        *e,
                        RegistryError::Unreachable { .. } | RegistryError::Failed { .. }
                    ) => {}
            Err(e) => return Err(e),
        }
    }
    let Some((client, scheme, (manifest_bytes, manifest_digest))) = resolved else {
        return Err(SourceError::RegistryUnreachable {
            registry: registry.to_string(),
        });
    };

    let (manifest, config, healthcheck) = parse_manifest_and_config(&manifest_bytes, |d| {
        let digest = d.digest().to_string();
        if d.size() > MAX_CONFIG_BYTES {
            return Err(SourceError::TooLarge {
                what: "config",
                size: d.size(),
                limit: MAX_CONFIG_BYTES,
            });
        }
        if let Some(bytes) = cache
            .as_ref()
            .and_then(|c| c.read_blob(&digest, MAX_CONFIG_BYTES))
        {
            return Ok(bytes);
        }
        let bytes = rt.block_on(with_retries(cx.retries, || {
            fetch_small(&client, &reference, &digest, MAX_CONFIG_BYTES)
        }));
        let bytes = bytes.map_err(|e| cx.error("the image config", e))?;
        verify_doc("config", &bytes, &digest)?;
        if let Some(c) = &cache {
            c.put_blob(&digest, &bytes);
        }
        Ok(bytes)
    })?;
    let layers = layers_of(&manifest, &config, |d| Ok(d.to_string()))?;
    Ok(Image {
        reference: format!("docker://{}", cx.reference),
        transport: r.transport,
        manifest_digest: Some(manifest_digest),
        config_digest: Some(manifest.config().digest().to_string()),
        platform: config_platform(&config),
        config,
        healthcheck,
        store: {
            let store = RegistryStore {
                rt,
                remote: Remote {
                    client,
                    reference,
                    cx,
                    login,
                    scheme,
                },
                cache,
                prefetched: Mutex::default(),
            };
            store.prefetch(&layers);
            Arc::new(store)
        },
        layers,
        cache: None,
        annotations: super::oci::annotations(&manifest),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_use_plain_http() {
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("localhost"));
        assert!(is_loopback("[::1]:5000"));
        assert!(!is_loopback("docker.io"));
        assert!(!is_loopback("registry.local:5000"));
    }
}
