//! Layer decoding: streams each blob through sha256, sniffs its compression by magic bytes,
//! decompresses while streaming, hashes the uncompressed tar against its diff_id, and walks
//! the tar into a [`LayerIndex`], hashing file contents and dropping them. Memory per layer
//! is a few fixed buffers, whatever the layer's size; nothing touches the disk.//!
//! One job per module: `types` (what decode produces, its errors and progress hook),
//! `pipeline` (the threads that decode one layer and the checks after them), `walk` (the tar
//! walk into an index); this module decodes the layers of an image in parallel.

mod pipeline;
mod types;
mod walk;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::source::{Image, LayerBlob};

pub use pipeline::decode_layer;
pub use types::{Compression, DecodeError, DecodedLayer, LayerError, NoProgress, Progress};

/// Decodes every layer of an image in parallel; the results are in manifest order.
///
/// Layers are taken largest first by a few workers, each taking the next layer as soon as
/// its last one is done, so the largest layer (the longest chain of work) never starts last.
/// Each layer runs its own short pipeline of threads, so more layers run at once than there
/// are cores: the spare threads fill the gaps a pipeline leaves and balance the end of the
/// run.
pub fn decode_image(
    image: &Image,
    progress: &dyn Progress,
) -> Result<Vec<DecodedLayer>, LayerError> {
    let order = image.decode_order();
    let slots: Vec<Mutex<Option<Result<DecodedLayer, DecodeError>>>> =
        image.layers.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let workers = decode_workers().min(order.len());
    let work = || {
        while !failed.load(Ordering::Relaxed) {
            let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) else {
                break;
            };
            let layer = &image.layers[i];
            progress.layer_started(i, layer.size);
            let r = decode_one(image, layer, progress, i);
            progress.layer_done(i);
            failed.fetch_or(r.is_err(), Ordering::Relaxed);
            if let Ok(mut slot) = slots[i].lock() {
                *slot = Some(r);
            }
        }
    };
    rayon::scope(|s| {
        for _ in 0..workers {
            s.spawn(|_| work());
        }
    });
    // The first failing layer in manifest order is the one reported.
    let mut decoded = Vec::with_capacity(slots.len());
    for (i, slot) in slots.into_iter().enumerate() {
        let layer = &image.layers[i];
        let r = slot.into_inner().ok().flatten();
        match r {
            Some(Ok(d)) => decoded.push(d),
            Some(Err(source)) => {
                return Err(LayerError {
                    index: i,
                    name: layer_name(layer),
                    source,
                })
            }
            // Not decoded because another layer failed first.
            None => continue,
        }
    }
    Ok(decoded)
}

/// How many layers decode at once: twice the worker threads (see [`decode_image`]);
/// `LAYERSIFT_DECODE_JOBS` overrides it.
fn decode_workers() -> usize {
    std::env::var("LAYERSIFT_DECODE_JOBS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| 2 * rayon::current_num_threads())
}

fn decode_one(
    image: &Image,
    layer: &LayerBlob,
    progress: &dyn Progress,
    i: usize,
) -> Result<DecodedLayer, DecodeError> {
    if let Some(d) = image
        .store
        .cached(layer)
        .filter(|d| is_same_layer(layer, d))
    {
        progress.advanced(i, d.compressed_size);
        return Ok(d);
    }
    let blob = image.store.open(layer).map_err(DecodeError::Open)?;
    let d = decode_layer(
        blob,
        layer.digest.as_deref(),
        layer.diff_id.as_deref(),
        Some((progress, i)),
    )?;
    if layer.digest.is_some() && layer.size != d.compressed_size {
        return Err(DecodeError::SizeMismatch {
            expected: layer.size,
            actual: d.compressed_size,
        });
    }
    image.store.remember(layer, &d);
    Ok(d)
}

/// True when a cached decode is of this very layer: every digest and size the manifest
/// and config give must match what was measured when it was decoded.
fn is_same_layer(layer: &LayerBlob, d: &DecodedLayer) -> bool {
    layer.digest.as_ref().is_none_or(|x| *x == d.digest)
        && layer.diff_id.as_ref().is_none_or(|x| *x == d.diff_id)
        && (layer.digest.is_none() || layer.size == d.compressed_size)
        && (layer.digest.is_some() || layer.diff_id.is_some())
}

fn layer_name(layer: &LayerBlob) -> String {
    layer
        .digest
        .clone()
        .or_else(|| layer.diff_id.clone())
        .unwrap_or_else(|| layer.locator.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use layersift_fixture::{noise, Format, ImageBuilder};

    fn open(img: &layersift_fixture::BuiltImage, path: &std::path::Path) -> Image {
        img.write(Format::OciLayout, path).unwrap();
        let r = crate::source::ImageRef::parse(&format!("oci:{}", path.display())).unwrap();
        crate::source::open(&r, &Default::default()).unwrap()
    }

    /// Layers are decoded largest first, but come back in manifest order, and a failure
    /// names the failing layer by its manifest position.
    #[test]
    fn results_keep_manifest_order_whatever_the_decode_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = ImageBuilder::new();
        for (i, n) in [10usize, 300_000, 1, 90_000].into_iter().enumerate() {
            b = b.layer(&format!("RUN make {i}"), |l| {
                l.file(format!("f{i}"), noise(n, i as u64 + 7))
            });
        }
        let img = b.build().unwrap();
        let image = open(&img, &dir.path().join("img"));
        assert_eq!(image.decode_order(), vec![1, 3, 0, 2]);
        let decoded = decode_image(&image, &NoProgress).unwrap();
        for (d, l) in decoded.iter().zip(&image.layers) {
            assert_eq!(Some(&d.digest), l.digest.as_ref());
            assert_eq!(d.compressed_size, l.size);
        }
        assert_eq!(decoded.len(), 4);

        // Damage the third layer (the smallest, decoded last): it is the one reported.
        let mut bad = img.clone();
        let n = bad.layers[2].blob.len() / 2;
        bad.layers[2].blob.truncate(n);
        let image = open(&bad, &dir.path().join("bad"));
        let err = decode_image(&image, &NoProgress).unwrap_err();
        assert_eq!(err.index, 2, "{err}");
    }
}
