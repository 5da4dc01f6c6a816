//! Reports: renders an [`Analysis`](crate::Analysis) for people (text, markdown) and for
//! machines (JSON, whose wire types live in [`json`] with a `schema_version`).

pub mod diff;
pub mod fit;
pub mod github;
pub mod gitlab;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod text;

pub mod saved;

/// Output formats of `layersift analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A summary a person reads in ten seconds, then the per-layer table.
    Text,
    /// Every number, for machines (see docs/json-report.md).
    Json,
    /// For a pull-request comment (fits `--max-chars`).
    Markdown,
    /// SARIF 2.1.0, for code scanning (findings and secrets as results).
    Sarif,
    /// GitLab Code Quality JSON, for the merge-request widget.
    Gitlab,
    /// GitHub Actions workflow commands (annotations); the markdown report goes to
    /// `$GITHUB_STEP_SUMMARY` when it is set.
    Github,
}

/// Renders an analysis in the given format.
pub fn render(a: &crate::Analysis, format: Format) -> String {
    match format {
        Format::Text => text::render(a),
        Format::Json => json::render(a),
        Format::Markdown => markdown::render(a),
        Format::Sarif => sarif::render(&json::Report::from_analysis(a), None),
        Format::Gitlab => gitlab::render(&json::Report::from_analysis(a), None),
        Format::Github => github::findings(&json::Report::from_analysis(a)),
    }
}

/// Sizes for people: decimal units as `du --si` and dive print them (`1.2 MB`).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = 0;
    while v >= 999.95 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if v >= 100.0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// A percentage with one decimal.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "0.0%".to_string()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1000), "1.0 kB");
        assert_eq!(human_bytes(300_000), "300 kB");
        assert_eq!(human_bytes(42_165_111), "42.2 MB");
        assert_eq!(human_bytes(999_999), "1.0 MB");
    }
}
