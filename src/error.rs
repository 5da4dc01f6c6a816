//! The crate's top-level error: what failed while turning a reference into an analysis,
//! with a hint for the user where one is obvious.

use crate::decode::{DecodeError, LayerError};
use crate::source::SourceError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot open image `{reference}`")]
    Source {
        reference: String,
        #[source]
        source: SourceError,
    },
    #[error(transparent)]
    Layer(#[from] LayerError),
}

impl Error {
    /// A next step for the user, where one is obvious.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Source { source, .. } => source.hint(),
            Error::Layer(l) => match &l.source {
                DecodeError::DigestMismatch { .. }
                | DecodeError::DiffIdMismatch { .. }
                | DecodeError::SizeMismatch { .. } => Some(crate::source::TAMPERED.to_string()),
                DecodeError::Read(e) if is_download_error(e) => Some(
                    e.get_ref()
                        .and_then(|i| i.downcast_ref::<SourceError>())
                        .and_then(SourceError::hint)
                        .unwrap_or_else(|| {
                            "the download failed; run the command again (layers already \
                             cached are not downloaded again)"
                                .to_string()
                        }),
                ),
                DecodeError::Decompress(..) | DecodeError::Tar(_) | DecodeError::Read(_) => Some(
                    "the layer blob is damaged or truncated; fetch the image again".to_string(),
                ),
                DecodeError::HostilePath { .. } | DecodeError::HostileLinkTarget { .. } => Some(
                    "build tools never write such a name: the layer may be crafted to write \
                     outside the root when unpacked, so it is not read; do not unpack or run \
                     this image"
                        .to_string(),
                ),
                DecodeError::Open(e) => e.downcast_ref::<SourceError>().and_then(SourceError::hint),
                DecodeError::UnsupportedCompression(_) => None,
            },
        }
    }
}

/// True when a read failed in the source (a registry download), not in the blob's bytes.
fn is_download_error(e: &std::io::Error) -> bool {
    e.get_ref().is_some_and(|i| i.is::<SourceError>())
}
