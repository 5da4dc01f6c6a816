//! Reports: renders an [`Analysis`](crate::Analysis) for people (text, markdown) and for
//! machines (JSON, whose wire types live in [`json`] with a `schema_version`). Renderers
//! write to a [`std::fmt::Write`] and return its result; numbers go through
//! [`crate::units`].

pub(crate) mod fit;
pub(crate) mod github;
pub(crate) mod gitlab;
pub(crate) mod html;
pub mod json;
pub(crate) mod junit;
pub(crate) mod markdown;
pub(crate) mod packages;
pub(crate) mod sarif;
mod summary;
pub(crate) mod text;

pub(crate) mod saved;

/// Output formats of `layersift analyze` and `layersift diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people: a summary read in ten seconds, then tables.
    Text,
    /// Every number, for machines (see docs/json-report.md).
    Json,
    /// GitHub-flavoured markdown, for a pull-request comment (fits `--max-chars`).
    Markdown,
    /// SARIF 2.1.0, for code scanning (findings and secrets as results).
    Sarif,
    /// GitLab Code Quality JSON, for the merge-request widget.
    Gitlab,
    /// GitHub Actions workflow commands (annotations); the markdown report goes to
    /// `$GITHUB_STEP_SUMMARY` when it is set.
    Github,
    /// One self-contained page (summary, layer bars, treemap, findings); opens offline.
    Html,
}

impl Format {
    /// The format a file name's extension asks for (`.json`, `.md`), if it names one.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        match extension(path)?.as_str() {
            "json" => Some(Format::Json),
            "md" | "markdown" => Some(Format::Markdown),
            "txt" | "text" => Some(Format::Text),
            "sarif" => Some(Format::Sarif),
            "html" | "htm" => Some(Format::Html),
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
    #[error(
        "`--format {format}` is not available for `{command}`; it writes text, json or markdown"
    )]
    Unsupported {
        format: &'static str,
        command: &'static str,
    },
}

/// Renders an analysis in the given format.
pub fn render(a: &crate::Analysis, format: Format) -> Result<String, RenderError> {
    let mut out = String::new();
    match format {
        Format::Text => text::write(a, &mut out)?,
        Format::Json => out = json::render(a)?,
        Format::Markdown => out = markdown::render_fit(a, fit::DEFAULT_MAX_CHARS)?,
        Format::Sarif => out = sarif::render(&json::Report::from_analysis(a), None)?,
        Format::Gitlab => out = gitlab::render(&json::Report::from_analysis(a), None)?,
        Format::Github => out = github::findings(&json::Report::from_analysis(a)),
        Format::Html => {
            // The page names the package of each treemap cell: ownership is in the model.
            let owners = a.packages.owners_by_path(&a.indexes);
            html::write_report(&json::Report::from_analysis(a), Some(&owners), &mut out)?
        }
    }
    Ok(out)
}
