//! Saved reports: recognising a JSON report written by `layersift analyze --format json` (or
//! `check --save-report`) among image references, and reading it back, refusing reports of a
//! newer schema than this build knows.

/// Why a saved report could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ReportFileError {
    #[error("cannot read report `{path}`")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not a layersift JSON report")]
    Parse {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("report `{path}` has schema_version {found}; this layersift reads up to {supported}")]
    Version {
        path: String,
        found: u32,
        supported: u32,
    },
}

impl ReportFileError {
    pub(crate) fn hint(&self) -> Option<String> {
        Some(match self {
            ReportFileError::Read { .. } => "check the path".to_string(),
            ReportFileError::Parse { .. } => {
                "write reports with `layersift analyze IMAGE --format json -o FILE`".to_string()
            }
            ReportFileError::Version { .. } => {
                "upgrade layersift, or write the report again with this version".to_string()
            }
        })
    }
}

/// True when `arg` names a file that holds JSON (a saved report) rather than an image.
pub(crate) fn is_report_file(arg: &str) -> bool {
    use std::io::Read as _;
    let path = std::path::Path::new(arg);
    if !path.is_file() {
        return false;
    }
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    head[..n]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
}

/// Reads a saved JSON report.
pub(crate) fn read_report(path: &str) -> Result<super::json::Report, ReportFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReportFileError::Read {
        path: path.to_string(),
        source,
    })?;
    parse_report(&text, path)
}

/// Parses a saved report's text; `path` is for messages.
pub fn parse_report(text: &str, path: &str) -> Result<super::json::Report, ReportFileError> {
    // Check the version before the shape, so a newer report says so.
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        if let Some(found) = v.get("schema_version").and_then(|n| n.as_u64()) {
            let found = u32::try_from(found).unwrap_or(u32::MAX);
            if found > super::json::SCHEMA_VERSION {
                return Err(ReportFileError::Version {
                    path: path.to_string(),
                    found,
                    supported: super::json::SCHEMA_VERSION,
                });
            }
        }
    }
    serde_json::from_str(text).map_err(|source| ReportFileError::Parse {
        path: path.to_string(),
        source,
    })
}
