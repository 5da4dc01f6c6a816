//! Compressed estimates for layers stored uncompressed (classic `docker save` archives):
//! their blob size is their content size, so the layer's own ratio says nothing about what
//! a registry would store. A sample of the blob is gzip-compressed instead, and its ratio
//! stands in. Only local images are sampled (archives, layouts, and podman/docker images,
//! whose save is read while analysed); re-reading a registry blob would download it again,
//! so there the estimate is reported as unavailable.

use std::io::{Read as _, Write as _};

use rayon::prelude::*;

use super::LayerInfo;
use crate::decode::Compression;
use crate::source::{Image, Transport};

/// Bytes of each blob compressed for the estimate.
pub(crate) const SAMPLE_BYTES: u64 = 2 << 20;

/// Fills [`LayerInfo::gzip_sample_ratio`] for every uncompressed layer of a local image.
pub(crate) fn sample_plain_layers(image: &Image, layers: &mut [LayerInfo]) {
    if !matches!(
        image.transport,
        Transport::DockerArchive
            | Transport::OciArchive
            | Transport::Oci
            | Transport::Podman
            | Transport::DockerDaemon
    ) {
        return;
    }
    let ratios: Vec<Option<f64>> = layers
        .par_iter()
        .zip(&image.layers)
        .map(|(l, blob)| {
            (l.compression == Compression::None && l.uncompressed_size > 0)
                .then(|| {
                    image
                        .store
                        .gzip_sample_ratio(blob)
                        .or_else(|| gzip_ratio(image, blob))
                })
                .flatten()
        })
        .collect();
    for (l, r) in layers.iter_mut().zip(ratios) {
        l.gzip_sample_ratio = r;
    }
}

/// gzip's (level 6, as `docker push` and most tools use) output / input on the first
/// [`SAMPLE_BYTES`] of a blob.
fn gzip_ratio(image: &Image, blob: &crate::source::LayerBlob) -> Option<f64> {
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
