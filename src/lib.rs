//! layersift: finds the bytes a container image ships for nothing, says which build step put
//! them there, and how to stop shipping them.
//!
//! Data flows one way: [`source`] (resolve a reference to ordered layer blobs) →
//! [`decode`] (stream, verify, index each layer in parallel) → [`index`] (per-layer entry
//! lists) → [`merge`] (whiteouts, visibility) → [`analysis`] (findings) → [`report`]
//! (text, JSON) and the terminal UI. [`cli`] and [`app`] sit on top and own the process.

pub mod analysis;
pub mod app;
pub mod cli;
pub mod decode;
pub mod error;
pub mod fixture;
pub mod index;
pub mod merge;
pub mod report;
pub mod source;
pub mod tui;

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
