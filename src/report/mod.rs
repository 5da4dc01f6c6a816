//! Reports: renders an [`Analysis`](crate::Analysis) for people (text, markdown) and for
//! machines (JSON, whose wire types live in [`json`] with a `schema_version`). Renderers
//! write to a [`std::fmt::Write`] and return its result; numbers go through
//! [`crate::units`].

pub mod json;
pub(crate) mod markdown;
pub(crate) mod packages;
pub(crate) mod text;

pub(crate) mod saved;

/// Output formats of `layersift analyze` and `layersift diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people: a summary read in ten seconds, then tables.
    Text,
    /// Every number, for machines (see docs/json-report.md).
    Json,
    /// GitHub-flavoured markdown, for a pull-request comment.
    Markdown,
}

impl Format {
    /// The format a file name's extension asks for (`.json`, `.md`), if it names one.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        match extension(path)?.as_str() {
            "json" => Some(Format::Json),
            "md" | "markdown" => Some(Format::Markdown),
            "txt" | "text" => Some(Format::Text),
            _ => None,
        }
    }
}

/// A file name's extension, lower-cased.
pub(crate) fn extension(path: &std::path::Path) -> Option<String> {
    Some(path.extension()?.to_str()?.to_ascii_lowercase())
}

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("could not format the report")]
    Format(#[from] std::fmt::Error),
    #[error("could not serialize the report as JSON")]
    Json(#[from] serde_json::Error),
}

/// Renders an analysis in the given format.
pub fn render(a: &crate::Analysis, format: Format) -> Result<String, RenderError> {
    let mut out = String::new();
    match format {
        Format::Text => text::write(a, &mut out)?,
        Format::Json => out = json::render(a)?,
        Format::Markdown => markdown::write(a, &mut out)?,
    }
    Ok(out)
}
