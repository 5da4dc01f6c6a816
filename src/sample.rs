//! Compressed estimates for layers stored uncompressed (classic `docker save` archives):
//! their blob size is their content size, so the layer's own ratio says nothing about what
//! a registry would store. A sample of the blob is gzip-compressed instead, and its ratio
//! stands in. Only local images are sampled (archives, layouts, and podman/docker images,
//! whose save is read while analysed); re-reading a registry blob would download it again,
//! so there the estimate is reported as unavailable. The layer stage takes the sample when
//! it decodes a layer and the layer cache keeps it, so a warm run does not compress again.

use std::io::{Read as _, Write as _};

use crate::decode::{Compression, DecodedLayer};
use crate::source::{Image, LayerBlob, Transport};

/// Bytes of each blob compressed for the estimate.
pub(crate) const SAMPLE_BYTES: u64 = 2 << 20;

/// The gzip sample ratio of `layer`, decoded as `d`, when it is an uncompressed layer of a
/// local image; `None` otherwise (or when its blob cannot be read again).
pub(crate) fn of_layer(image: &Image, layer: &LayerBlob, d: &DecodedLayer) -> Option<f64> {
    let local = matches!(
        image.transport,
        Transport::DockerArchive
            | Transport::OciArchive
            | Transport::Oci
            | Transport::Podman
            | Transport::DockerDaemon
    );
    if !local || d.compression != Compression::None || d.uncompressed_size == 0 {
        return None;
    }
    image
        .store
        .gzip_sample_ratio(layer)
        .or_else(|| gzip_ratio(image, layer))
}

/// gzip's (level 6, as `docker push` and most tools use) output / input on the first
/// [`SAMPLE_BYTES`] of a blob.
fn gzip_ratio(image: &Image, blob: &LayerBlob) -> Option<f64> {
    // Allocated once at its size (grown from empty, `read_to_end` would end at twice that).
    // The sample is compressed in one call: deflate's output depends on how its input is
    // split, and a stream's sample (`stream.rs`) is compressed whole too.
    let mut sample = Vec::with_capacity(SAMPLE_BYTES as usize);
    image
        .store
        .open(blob)
        .ok()?
        .take(SAMPLE_BYTES)
        .read_to_end(&mut sample)
        .ok()?;
    ratio_of(&sample)
}

/// gzip's output / input on `sample` (the first [`SAMPLE_BYTES`] of a blob).
pub(crate) fn ratio_of(sample: &[u8]) -> Option<f64> {
    if sample.is_empty() {
        return None;
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    gz.write_all(sample).ok()?;
    let out = gz.finish().ok()?;
    Some(out.len() as f64 / sample.len() as f64)
}
