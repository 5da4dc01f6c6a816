//! layersift: finds the bytes a container image ships for nothing, says which build step put
//! them there, and how to stop shipping them.
//!
//! Data flows one way: [`source`] (resolve a reference to ordered layer blobs) →
//! [`layers`] (the layer stage: each blob from the [`cache`] when it holds it, else through
//! [`decode`], which streams, verifies and indexes each layer in parallel) → [`index`] (per-layer entry
//! lists) → [`merge`] (whiteouts, visibility) → [`analysis`] (findings) → [`report`]
//! (text, JSON) and the terminal UI. [`check`] (rules from [`config`]), [`diff`] and
//! [`trend`] read reports. [`cli`] and [`app`] sit on top and own the process.

pub mod analysis;
pub mod app;
pub mod cache;
pub mod check;
pub mod cli;
pub mod config;
pub mod decode;
pub mod diff;
pub mod digest;
pub mod dockerfile;
pub mod error;
pub mod excerpt;
pub mod index;
pub mod layers;
pub mod merge;
pub mod report;
pub mod secrets;
pub mod source;
pub mod trend;
pub mod tui;
pub mod typo;
pub mod units;

pub use analysis::Analysis;
pub use error::Error;

use source::{ImageRef, OpenOptions};

/// Resolves, decodes and analyses one image.
pub fn analyze_reference(
    reference: &str,
    opts: &OpenOptions,
    progress: &dyn decode::Progress,
) -> Result<Analysis, Error> {
    analyze_reference_with(reference, opts, progress, None)
}

/// Resolves, decodes and analyses one image built from a Dockerfile (and the stage built):
/// layers, findings and suggestions cite its lines.
pub fn analyze_reference_with(
    reference: &str,
    opts: &OpenOptions,
    progress: &dyn decode::Progress,
    dockerfile: Option<(&dockerfile::Dockerfile, usize)>,
) -> Result<Analysis, Error> {
    let wrap = |source| Error::Source {
        reference: reference.to_string(),
        source,
    };
    let r = ImageRef::parse(reference).map_err(wrap)?;
    let image = source::open(&r, opts).map_err(wrap)?;
    let decoded = layers::decode_image(&image, progress)?;
    Ok(Analysis::with_dockerfile(&image, decoded, dockerfile))
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

    // Each distinct blob is decoded by the first image that has it: `owner[n][layer]` is
    // (image, position in that image's own list of blobs to decode).
    let mut seen: HashMap<String, (usize, usize)> = HashMap::new();
    let mut own: Vec<Vec<usize>> = Vec::new();
    let mut owner: Vec<Vec<(usize, usize)>> = Vec::new();
    for (n, image) in images.iter().enumerate() {
        let (mut mine, mut from) = (Vec::new(), Vec::new());
        for (li, layer) in image.layers.iter().enumerate() {
            let key = layer.digest.as_ref().or(layer.diff_id.as_ref());
            match key.and_then(|k| seen.get(k)) {
                Some(&at) => from.push(at),
                None => {
                    let at = (n, mine.len());
                    if let Some(k) = key {
                        seen.insert(k.clone(), at);
                    }
                    mine.push(li);
                    from.push(at);
                }
            }
        }
        own.push(mine);
        owner.push(from);
    }
    // All images at once; each decodes its own blobs in parallel.
    let decoded: Vec<Vec<decode::DecodedLayer>> = images
        .par_iter()
        .zip(&own)
        .enumerate()
        .map(|(n, (image, mine))| {
            let mut only = image.clone();
            only.layers = mine.iter().map(|&li| image.layers[li].clone()).collect();
            layers::decode_image(&only, progress).map_err(|mut e| {
                e.index = mine.get(e.index).copied().unwrap_or(e.index);
                (n, Error::Layer(e))
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(images
        .iter()
        .zip(owner)
        .map(|(image, from)| {
            let layers = from.iter().map(|&(n, k)| decoded[n][k].clone()).collect();
            Analysis::new(image, layers)
        })
        .collect())
}
