//! layersift: finds the bytes a container image ships for nothing, says which build step put
//! them there, and how to stop shipping them.
//!
//! Data flows one way: [`source`] (resolve a reference to ordered layer blobs) →
//! [`decode`] (stream, verify, index each layer in parallel) → [`index`] (per-layer entry
//! lists) → [`merge`] (whiteouts, visibility) → [`analysis`] (findings) → [`report`]
//! (text, JSON) and the terminal UI. [`check`] (rules from [`config`]), [`diff`] and
//! [`trend`] read reports. [`cli`] and [`app`] sit on top and own the process.

pub mod analysis;
pub mod app;
pub mod check;
pub mod cli;
pub mod config;
pub mod decode;
pub mod diff;
pub mod error;
pub mod fixture;
pub mod index;
pub mod merge;
pub mod report;
pub mod source;
pub mod trend;

pub use analysis::Analysis;
pub use error::Error;

use source::{ImageRef, OpenOptions};

/// Resolves, decodes and analyses one image.
pub fn analyze_reference(
    reference: &str,
    opts: &OpenOptions,
    progress: &dyn decode::Progress,
) -> Result<Analysis, Error> {
    let wrap = |source| Error::Source {
        reference: reference.to_string(),
        source,
    };
    let r = ImageRef::parse(reference).map_err(wrap)?;
    let image = source::open(&r, opts).map_err(wrap)?;
    let decoded = decode::decode_image(&image, progress)?;
    Ok(Analysis::new(&image, decoded))
}

/// Resolves, decodes and analyses several images at once, decoding a layer blob that several
/// of them share (same digest, or same diff_id when the source has no digest) only once, and
/// all layers of all images in parallel. On error, says which reference (by position) failed.
pub fn analyze_references(
    references: &[&str],
    opts: &OpenOptions,
    progress: &dyn decode::Progress,
) -> Result<Vec<Analysis>, (usize, Error)> {
    use rayon::prelude::*;
    use std::collections::HashMap;

    let images = references
        .iter()
        .enumerate()
        .map(|(n, reference)| {
            let wrap = |source| {
                (
                    n,
                    Error::Source {
                        reference: reference.to_string(),
                        source,
                    },
                )
            };
            let r = ImageRef::parse(reference).map_err(wrap)?;
            source::open(&r, opts).map_err(wrap)
        })
        .collect::<Result<Vec<_>, _>>()?;

    // One decode job per distinct blob; `slots[image][layer]` is its job.
    let mut jobs: Vec<(usize, usize)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut slots: Vec<Vec<usize>> = Vec::new();
    for (n, image) in images.iter().enumerate() {
        let mut s = Vec::new();
        for (li, layer) in image.layers.iter().enumerate() {
            let job = match layer.digest.as_ref().or(layer.diff_id.as_ref()) {
                Some(key) => *seen.entry(key.clone()).or_insert_with(|| {
                    jobs.push((n, li));
                    jobs.len() - 1
                }),
                None => {
                    jobs.push((n, li));
                    jobs.len() - 1
                }
            };
            s.push(job);
        }
        slots.push(s);
    }
    let decoded: Vec<decode::DecodedLayer> = jobs
        .par_iter()
        .map(|&(n, li)| {
            let layer = &images[n].layers[li];
            progress.layer_started(li, layer.size);
            let r = decode::decode_one(&images[n], layer, progress, li).map_err(|source| {
                (
                    n,
                    Error::Layer(decode::LayerError {
                        index: li,
                        name: decode::layer_name(layer),
                        source,
                    }),
                )
            });
            progress.layer_done(li);
            r
        })
        .collect::<Result<_, _>>()?;
    Ok(images
        .iter()
        .zip(slots)
        .map(|(image, s)| Analysis::new(image, s.iter().map(|&j| decoded[j].clone()).collect()))
        .collect())
}
