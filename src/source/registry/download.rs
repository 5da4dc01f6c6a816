//! The streaming download of one blob: a task on the store's runtime that fetches the blob
//! with range requests, retries and resumes after failures, renews a refused access token
//! once, and sends the bytes through a bounded channel to a sync [`Read`] for decode.

use std::io::{self, Read};
use std::sync::Arc;

use bytes::{Buf as _, Bytes};
use futures_util::StreamExt as _;
use oci_client::client::BlobResponse;
use oci_client::errors::OciDistributionError;
use oci_client::{Client, Reference, RegistryOperation};
use tokio::sync::{mpsc, Semaphore};

use super::super::SourceError;
use super::error::{is_unauthorized, Context, RegistryError};
use super::retry::{is_digest_error, retryable, FIRST_BACKOFF, RETRIES};
use super::token::Login;

/// What a renewed token is, in errors.
const NEW_TOKEN: &str = "a new access token";
/// Bytes buffered per blob between the network task and decode.
const BUFFER_BYTES: usize = 1 << 20;

/// The repository downloads read from, and how to log in to it.
#[derive(Clone)]
pub(super) struct Remote {
    pub(super) client: Client,
    pub(super) reference: Reference,
    pub(super) cx: Context,
    pub(super) login: Login,
    /// `http` or `https`: the protocol `open` reached the registry with.
    pub(super) scheme: &'static str,
}

impl Remote {
    /// Puts a new access token in the client's token cache, after the registry refused the
    /// one in use: it expired during a long pull (Docker Hub's last five minutes) or was
    /// revoked. oci-client renews a token only when its own clock says it expired, and an
    /// access token traded for an identity token it renews as the same stale token.
    async fn renew_token(&self) -> Result<(), RegistryError> {
        let auth = self
            .login
            .auth(&self.reference, &self.cx, self.scheme)
            .await?;
        self.client
            .auth(&self.reference, &auth, RegistryOperation::Pull)
            .await
            .map_err(|e| self.cx.error(NEW_TOKEN, e))?;
        Ok(())
    }
}

/// Downloads one blob into `tx`, retrying and resuming after failures, and renewing the
/// access token once when the registry refuses it. Ends the channel normally when the blob
/// is complete, or with one error.
pub(super) async fn download(remote: Remote, digest: String, size: u64, tx: ChunkSender) {
    let Remote {
        client,
        reference,
        cx,
        ..
    } = &remote;
    let mut sent = 0u64;
    let mut attempt = 0;
    // A token renewed since the last byte arrived: a second refusal is final.
    let mut renewed = false;
    let mut delay = FIRST_BACKOFF;
    let what = format!("blob `{digest}`");
    loop {
        // Always a range request (`bytes=0-` at first): a registry that honours it sends the
        // blob without oci-client hashing it on the way, as decode hashes every blob anyway.
        // One that ignores ranges sends it whole; what was already passed on is skipped.
        let opened = client
            .pull_blob_stream_partial(reference, digest.as_str(), sent, None)
            .await
            .map(|r| match r {
                BlobResponse::Full(s) => (s, sent),
                BlobResponse::Partial(s) => (s, 0),
            });
        let failure = match opened {
            Err(e) => e,
            Ok((mut stream, mut skip)) => {
                let mut failure = None;
                while let Some(item) = stream.next().await {
                    match item {
                        Ok(mut chunk) => {
                            let n = skip.min(chunk.len() as u64) as usize;
                            chunk.advance(n);
                            skip -= n as u64;
                            if chunk.is_empty() {
                                continue;
                            }
                            sent += chunk.len() as u64;
                            if sent > size {
                                let e = RegistryError::Oversized {
                                    registry: cx.registry.clone(),
                                    digest: digest.clone(),
                                    expected: size,
                                };
                                let e = SourceError::from(e);
                                tx.fail(io::Error::other(e)).await;
                                return;
                            }
                            attempt = 0;
                            renewed = false;
                            if !tx.send(chunk).await {
                                return; // the reader is gone
                            }
                        }
                        // The blob is complete but does not hash to its digest: end the
                        // stream and let decode report the mismatch with both digests.
                        Err(e) if is_digest_error(&e) => return,
                        Err(e) => {
                            failure = Some(OciDistributionError::IoError(e));
                            break;
                        }
                    }
                }
                match failure {
                    None => return,
                    Some(f) => f,
                }
            }
        };
        if !renewed && is_unauthorized(&failure) {
            renewed = true;
            match remote.renew_token().await {
                Ok(()) => continue,
                Err(e) => {
                    tx.fail(io::Error::other(SourceError::from(e))).await;
                    return;
                }
            }
        }
        if attempt < RETRIES && retryable(&failure) {
            attempt += 1;
            tokio::time::sleep(delay).await;
            delay *= 2;
            continue;
        }
        let e = SourceError::from(cx.error(&what, failure));
        tx.fail(io::Error::other(e)).await;
        return;
    }
}

/// The network end of a blob stream: at most [`BUFFER_BYTES`] are in flight to the reader,
/// whatever size the chunks come in.
pub(super) struct ChunkSender {
    tx: mpsc::Sender<io::Result<Bytes>>,
    budget: Arc<Semaphore>,
}

/// The decode end of a blob stream; gives the budget back as chunks are consumed.
pub(super) struct ChunkReceiver {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    budget: Arc<Semaphore>,
}

pub(super) fn blob_channel() -> (ChunkSender, ChunkReceiver) {
    let budget = Arc::new(Semaphore::new(BUFFER_BYTES));
    let (tx, rx) = mpsc::channel(1024);
    (
        ChunkSender {
            tx,
            budget: budget.clone(),
        },
        ChunkReceiver { rx, budget },
    )
}

/// Budget a chunk takes (a chunk larger than the whole budget takes all of it).
fn budget_of(len: usize) -> u32 {
    u32::try_from(len.min(BUFFER_BYTES)).unwrap_or(u32::MAX)
}

impl ChunkSender {
    /// Waits for room, then passes a chunk on; false when the reader is gone.
    async fn send(&self, chunk: Bytes) -> bool {
        match self.budget.acquire_many(budget_of(chunk.len())).await {
            Ok(p) => p.forget(),
            Err(_) => return false,
        }
        self.tx.send(Ok(chunk)).await.is_ok()
    }

    async fn fail(&self, e: io::Error) {
        let _ = self.tx.send(Err(e)).await;
    }
}

/// The sync end of a blob download. After a failure every read fails, so a caller that
/// keeps reading never mistakes a cut-off download for the end of the blob.
pub(super) struct ChannelReader {
    rx: ChunkReceiver,
    current: Bytes,
    /// Budget held by `current`, given back once it is consumed.
    held: u32,
    task: tokio::task::JoinHandle<()>,
    failed: bool,
}

impl ChannelReader {
    /// The sync end of the channel `rx`, filled by the download `task`.
    pub(super) fn new(rx: ChunkReceiver, task: tokio::task::JoinHandle<()>) -> ChannelReader {
        ChannelReader {
            rx,
            current: Bytes::new(),
            held: 0,
            task,
            failed: false,
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Err(io::Error::other("the download failed"));
        }
        while self.current.is_empty() {
            if self.held > 0 {
                self.rx.budget.add_permits(self.held as usize);
                self.held = 0;
            }
            match self.rx.rx.blocking_recv() {
                Some(Ok(chunk)) => {
                    self.held = budget_of(chunk.len());
                    self.current = chunk;
                }
                Some(Err(e)) => {
                    self.failed = true;
                    return Err(e);
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

impl Drop for ChannelReader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::Duration;

    #[test]
    fn blob_channel_bounds_bytes_in_flight() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .unwrap();
        let (tx, rx) = blob_channel();
        let chunk = Bytes::from(vec![7u8; BUFFER_BYTES * 3 / 5]);
        rt.block_on(async {
            assert!(tx.send(chunk.clone()).await);
            let second = tokio::time::timeout(Duration::from_millis(50), tx.send(chunk.clone()));
            assert!(
                second.await.is_err(),
                "a second chunk must wait for the reader"
            );
        });
        let task = rt.spawn(async move {
            for _ in 0..3 {
                assert!(tx.send(chunk.clone()).await);
            }
        });
        let mut reader = ChannelReader {
            rx,
            current: Bytes::new(),
            held: 0,
            task,
            failed: false,
        };
        // The reader runs on this thread while the sender runs on the runtime's worker.
        let mut got = Vec::new();
        reader.read_to_end(&mut got).unwrap();
        assert_eq!(got.len(), BUFFER_BYTES * 3 / 5 * 4);
    }
}
