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
                | DecodeError::SizeMismatch { .. } => Some(
                    "the image is corrupt or was tampered with; fetch it again from a trusted source"
                        .to_string(),
                ),
                DecodeError::Decompress(..) | DecodeError::Tar(_) | DecodeError::Read(_) => {
                    Some("the layer blob is damaged or truncated; fetch the image again".to_string())
                }
                _ => None,
            },
        }
    }
}
