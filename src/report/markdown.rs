//! The markdown report, fit for a pull-request comment: a headline table, the findings
//! table, the suggestions with their Dockerfile snippets, and the per-layer table folded in a
//! `<details>` block so the comment stays short.

use std::fmt::{self, Write};

use super::text::{finding_size, one_line, severity_label, suggestion_place};
use crate::sanitize;
use crate::units::{human_bytes, percent, plural};
use crate::Analysis;

/// Findings listed in the table; the rest are counted.
pub(crate) const MAX_FINDINGS: usize = 20;
/// Suggestions shown with snippets.
pub(crate) const MAX_SUGGESTIONS: usize = 10;

/// Text for a table cell, on one line, with no markup but its own code spans.
fn cell(s: &str) -> String {
    sanitize::markdown_cell(&one_line(s, 160))
}

/// Inline code (safe in a table cell) that survives backticks and pipes inside.
fn code(s: &str) -> String {
    sanitize::markdown_cell_code(&one_line(s, 120))
}

/// Inline code outside a table.
fn inline_code(s: &str) -> String {
    sanitize::markdown_code(&one_line(s, 120))
}

/// Writes the markdown report.
pub(crate) fn write(a: &Analysis, out: &mut impl Write) -> fmt::Result {
    let t = &a.totals;
    writeln!(out, "## layersift: {}", inline_code(&a.image.reference))?;
    writeln!(out)?;
    writeln!(out, "| | |")?;
    writeln!(out, "|---|---|")?;
    writeln!(
        out,
        "| Size | {} of file content in {}; {} compressed (what a pull downloads) |",
        human_bytes(t.content),
        plural(a.layers.len(), "layer", "layers"),
        human_bytes(a.compressed_size())
    )?;
    writeln!(
        out,
        "| Efficiency | **{:.1}%** of the content is visible in the final filesystem; {} is hidden by later layers |",
        a.efficiency() * 100.0,
        human_bytes(t.hidden())
    )?;
    let compressed = if a.compressed_estimate_available() {
        format!(
            "; ~{} compressed",
            human_bytes(a.potential_savings_compressed())
        )
    } else {
        "; no compressed estimate (layers stored uncompressed)".to_string()
    };
    writeln!(
        out,
        "| Potential savings | **{}**: hidden + avoidable (visible, but caches, temp files, duplicates){compressed} |",
        human_bytes(a.potential_savings()),
    )?;
    writeln!(
        out,
        "| Hidden | {} ({}): {} same content rewritten, {} replaced, {} removed |",
        human_bytes(t.hidden()),
        percent(t.hidden(), t.content),
        human_bytes(t.overwritten_same),
        human_bytes(t.overwritten_changed),
        human_bytes(t.removed)
    )?;
    writeln!(
        out,
        "| Avoidable | {} (caches, temporary files, duplicates) |",
        human_bytes(a.avoidable_bytes())
    )?;
    let secrets = a.secrets().count();
    writeln!(
        out,
        "| Secrets | {} |",
        if secrets == 0 {
            "none found".to_string()
        } else {
            format!(":warning: **{secrets}** (redacted)")
        }
    )?;

    if !a.findings.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Findings")?;
        writeln!(out)?;
        writeln!(out, "| Severity | Size | Layer | Finding | Rule |")?;
        writeln!(out, "|---|---:|---:|---|---|")?;
        for f in a.findings.iter().take(MAX_FINDINGS) {
            let mut what = cell(&f.title);
            if let Some(d) = &f.detail {
                write!(what, "<br>{}", code(d))?;
            }
            writeln!(
                out,
                "| {} | {} | {} | {} | `{}` |",
                severity_label(f.severity),
                finding_size(f),
                match (&f.source, f.in_config) {
                    (_, true) => "config".to_string(),
                    (Some(src), false) => format!("{} ({})", f.layer, code(src)),
                    (None, false) => f.layer.to_string(),
                },
                what,
                f.rule
            )?;
        }
        if a.findings.len() > MAX_FINDINGS {
            writeln!(out)?;
            writeln!(
                out,
                "…and {} more finding{} (see `layersift analyze --format json`).",
                a.findings.len() - MAX_FINDINGS,
                if a.findings.len() - MAX_FINDINGS == 1 {
                    ""
                } else {
                    "s"
                }
            )?;
        }
    }

    if !a.suggestions.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Suggestions")?;
        for (n, s) in a.suggestions.iter().take(MAX_SUGGESTIONS).enumerate() {
            writeln!(out)?;
            let saves = match (s.saves_bytes, a.compressed_estimate_available()) {
                (0, _) => String::new(),
                (b, true) => format!(
                    " — saves {} (~{} compressed)",
                    human_bytes(b),
                    human_bytes(s.saves_compressed_bytes)
                ),
                (b, false) => format!(" — saves {}", human_bytes(b)),
            };
            writeln!(
                out,
                "**{}. {}**{saves}",
                n + 1,
                sanitize::markdown_text(&one_line(&s.title, 160))
            )?;
            writeln!(out)?;
            let place = suggestion_place(a, s);
            let mut chars = place.chars();
            let place: String = chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default();
            match &s.source {
                Some(src) => writeln!(
                    out,
                    "{place} ({}): {}",
                    inline_code(src),
                    inline_code(&s.instruction)
                )?,
                None => writeln!(out, "{place}: {}", inline_code(&s.instruction))?,
            }
            writeln!(out)?;
            writeln!(
                out,
                "{}",
                sanitize::markdown_fence(&s.snippet, "dockerfile")
            )?;
            if !s.evidence.is_empty() {
                writeln!(out)?;
                writeln!(
                    out,
                    "<details><summary>Evidence ({})</summary>\n",
                    plural(s.evidence.len(), "path", "paths")
                )?;
                for p in &s.evidence {
                    writeln!(out, "- {}", inline_code(p))?;
                }
                writeln!(out, "\n</details>")?;
            }
        }
    }

    let packages = super::packages::markdown(a);
    if !packages.is_empty() {
        writeln!(out)?;
        out.write_str(&packages)?;
    }

    writeln!(out)?;
    writeln!(out, "<details><summary>Layers</summary>")?;
    writeln!(out)?;
    writeln!(out, "| # | Size | Blob | Hidden | Avoidable | Step |")?;
    writeln!(out, "|---:|---:|---:|---:|---:|---|")?;
    for (i, l) in a.layers.iter().enumerate() {
        writeln!(
            out,
            "| {i} | {} | {} | {} | {} | {} |",
            human_bytes(l.bytes.content),
            human_bytes(l.compressed_size),
            human_bytes(l.bytes.hidden()),
            human_bytes(l.avoidable),
            {
                let step = if l.step.instruction.is_empty() {
                    "(no history)".to_string()
                } else {
                    code(&l.step.instruction)
                };
                let why = a
                    .dockerfile
                    .as_ref()
                    .and_then(|c| c.mapping.unmapped_reason(i));
                match (&l.step.source, why) {
                    (Some(src), _) => format!("{} {step}", code(src)),
                    (None, Some(why)) => format!("unmapped ({}) {step}", cell(why)),
                    _ => step,
                }
            }
        )?;
    }
    writeln!(out)?;
    writeln!(out, "</details>")?;
    Ok(())
}
