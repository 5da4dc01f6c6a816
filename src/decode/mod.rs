//! Layer decoding: streams each blob through sha256, sniffs its compression by magic bytes,
//! decompresses while streaming, hashes the uncompressed tar against its diff_id, and walks
//! the tar into a [`LayerIndex`], hashing file contents and dropping them. Memory per layer
//! is a few fixed buffers, whatever the layer's size; nothing touches the disk.
//!
//! Decode knows nothing of where blobs come from: the layer stage (`layers`) opens
//! them through the source and hands them here, and keeps what comes back in the cache in
//! the form [`DecodedLayer::to_entry`] gives.
//!
//! One job per module: `types` (what decode produces, its errors and progress hook),
//! `pipeline` (the threads that decode one layer and the checks after them), `walk` (the tar
//! walk into an index), `entry` (the cached form of a decoded layer).

mod entry;
mod pipeline;
mod types;
mod walk;

pub use pipeline::decode_layer;
pub use types::{Compression, DecodedLayer, NoProgress, Progress};
pub(crate) use types::{DecodeError, LayerError};
