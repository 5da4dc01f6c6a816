//! The registry's blob store: opens layer blobs of one repository as streams, from the
//! cache when it holds them, else downloading them (a few ahead of decode).

use std::collections::HashMap;
use std::future::Future;
use std::io::Read;
use std::sync::{Arc, Mutex};

use tokio::runtime::Runtime;
use tokio::sync::{Notify, Semaphore};

use super::super::{BlobStore, LayerBlob, SourceError};
use super::download::{blob_channel, download, ChannelReader, ChunkReceiver, ChunkSender, Remote};
use crate::cache::{Cache, Tee};

/// Downloads allowed to run ahead of decode.
const PREFETCH: usize = 4;

/// A download started ahead of decode: its channel, its task, and how to let it start at
/// once when decode wants it.
pub(super) struct Prefetch {
    rx: ChunkReceiver,
    task: tokio::task::JoinHandle<()>,
    wanted: Arc<Notify>,
}

/// Streams layer blobs of one repository.
pub(super) struct RegistryStore {
    pub(super) rt: Runtime,
    pub(super) remote: Remote,
    pub(super) cache: Option<Cache>,
    /// Downloads started ahead of decode, by digest.
    pub(super) prefetched: Mutex<HashMap<String, Prefetch>>,
}

impl RegistryStore {
    /// Starts downloading every layer that is not cached, so request latency overlaps with
    /// decoding. At most [`PREFETCH`] run ahead of decode; each buffers at most
    /// [`BUFFER_BYTES`] and then waits for its reader. A download decode asks for
    /// starts at once, permit or not, so decode never waits on a download that waits on it.
    pub(super) fn prefetch(&self, layers: &[LayerBlob]) {
        let permits = Arc::new(Semaphore::new(PREFETCH));
        let Ok(mut map) = self.prefetched.lock() else {
            return;
        };
        // In the order decode takes them, so the download decode wants next is under way.
        for layer in super::super::largest_first(layers)
            .into_iter()
            .map(|i| &layers[i])
        {
            let Some(digest) = layer.digest.clone() else {
                continue;
            };
            let cached = self
                .cache
                .as_ref()
                .is_some_and(|c| c.has_layer(&digest) || c.has_blob(&digest));
            if cached || map.contains_key(&digest) {
                continue;
            }
            let wanted = Arc::new(Notify::new());
            let (tx, rx) = blob_channel();
            let gate = (permits.clone(), wanted.clone());
            let task = self
                .rt
                .spawn(self.download(&digest, layer.size, tx, Some(gate)));
            map.insert(digest, Prefetch { rx, task, wanted });
        }
    }

    fn download(
        &self,
        digest: &str,
        size: u64,
        tx: ChunkSender,
        gate: Option<(Arc<Semaphore>, Arc<Notify>)>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let (remote, digest) = (self.remote.clone(), digest.to_string());
        async move {
            let _permit = match gate {
                Some((permits, wanted)) => tokio::select! {
                    p = permits.acquire_owned() => p.ok(),
                    () = wanted.notified() => None,
                },
                None => None,
            };
            download(remote, digest, size, tx).await;
        }
    }
}

impl BlobStore for RegistryStore {
    fn open(&self, layer: &LayerBlob) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        let digest = layer
            .digest
            .clone()
            .ok_or_else(|| SourceError::LayerWithoutDigest {
                locator: layer.locator.clone(),
            })?;
        if let Some(f) = self.cache.as_ref().and_then(|c| c.open_blob(&digest)) {
            return Ok(Box::new(f));
        }
        let ahead = self
            .prefetched
            .lock()
            .ok()
            .and_then(|mut m| m.remove(&digest));
        let (rx, task) = match ahead {
            Some(p) => {
                p.wanted.notify_one();
                (p.rx, p.task)
            }
            None => {
                let (tx, rx) = blob_channel();
                let task = self.rt.spawn(self.download(&digest, layer.size, tx, None));
                (rx, task)
            }
        };
        let reader = ChannelReader::new(rx, task);
        // The copy enters the cache once the whole blob went through and hashed to its
        // digest, whoever reads it (the layer stage, or content access).
        let pending = self.cache.as_ref().and_then(|c| c.blob_writer(&digest));
        Ok(Box::new(Tee::new(reader, pending)))
    }

    fn fetched_by_digest(&self) -> bool {
        true
    }
}
