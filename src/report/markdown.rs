//! The markdown report, fit for a pull-request comment: a headline table, the findings
//! table, the suggestions with their Dockerfile snippets, and the per-layer table folded in a
//! `<details>` block so the comment stays short. [`render_fit`] keeps it within a character
//! budget (`--max-chars`): it lists fewer rows, folds the rest, and says what it left out.

use std::fmt::{self, Write};

use super::summary;
use super::text::{finding_size, one_line, severity_label, suggestion_place};
use crate::sanitize;
use crate::units::{human_bytes, percent, plural};
use crate::Analysis;

/// Findings listed in the table; the rest are counted.
pub(crate) const MAX_FINDINGS: usize = 20;
/// Findings shown before the rest of the table folds into `<details>`.
pub(crate) const OPEN_FINDINGS: usize = 10;
/// Suggestions shown with snippets.
pub(crate) const MAX_SUGGESTIONS: usize = 10;

/// How much of each list a rendering shows.
#[derive(Debug, Clone, Copy)]
struct Limits {
    findings: usize,
    suggestions: usize,
    evidence: usize,
    layers: usize,
    snippet_lines: usize,
}

/// From the full report down to the summary and the top rows.
const LADDER: [Limits; 5] = [
    Limits {
        findings: MAX_FINDINGS,
        suggestions: MAX_SUGGESTIONS,
        evidence: 20,
        layers: usize::MAX,
        snippet_lines: 60,
    },
    Limits {
        findings: 15,
        suggestions: 5,
        evidence: 5,
        layers: 50,
        snippet_lines: 20,
    },
    Limits {
        findings: 10,
        suggestions: 3,
        evidence: 3,
        layers: 20,
        snippet_lines: 10,
    },
    Limits {
        findings: 5,
        suggestions: 2,
        evidence: 0,
        layers: 10,
        snippet_lines: 6,
    },
    Limits {
        findings: 3,
        suggestions: 1,
        evidence: 0,
        layers: 0,
        snippet_lines: 4,
    },
];

/// Where the full data is, for "left out" notes.
const FULL: &str =
    "the JSON report (`layersift analyze --format json`, or the CI job's JSON artifact)";

/// Renders the markdown report within `max_chars` characters: the first rendering of
/// [`LADDER`] that fits, else the last one cut to fit.
pub(crate) fn render_fit(a: &Analysis, max_chars: usize) -> Result<String, fmt::Error> {
    let mut last = String::new();
    for l in LADDER {
        last.clear();
        write_with(a, l, &mut last)?;
        if last.chars().count() <= max_chars {
            return Ok(last);
        }
    }
    Ok(super::fit::cut(&last, max_chars, FULL))
}

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

fn write_with(a: &Analysis, lim: Limits, out: &mut impl Write) -> fmt::Result {
    let mut left_out: Vec<String> = Vec::new();
    let t = &a.totals;
    writeln!(out, "## layersift: {}", inline_code(&a.image.reference))?;
    writeln!(out)?;
    writeln!(out, "| | |")?;
    writeln!(out, "|---|---|")?;
    writeln!(out, "| Size | {} |", summary::size(a))?;
    if let Some(split) = super::json::BaseSplit::of_analysis(a) {
        let [base, own] = split.lines();
        writeln!(out, "| Base | {} |", cell(&base))?;
        writeln!(out, "| Own layers | **{}** |", cell(&own))?;
    }
    writeln!(
        out,
        "| Efficiency | **{:.1}%** of the content is visible in the final filesystem; {} is hidden by later layers |",
        a.efficiency() * 100.0,
        human_bytes(t.hidden())
    )?;
    let compressed = match summary::compressed_savings(a) {
        Some(c) => format!("; {c}"),
        None => "; no compressed estimate (layers stored uncompressed)".to_string(),
    };
    writeln!(
        out,
        "| Potential savings | **{}**: hidden + avoidable (visible, but caches, temp files, duplicates){compressed} |",
        human_bytes(a.potential_savings()),
    )?;
    writeln!(
        out,
        "| Hidden | {} ({}): {} |",
        human_bytes(t.hidden()),
        percent(t.hidden(), t.content),
        summary::hidden_split(a)
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
        for (n, f) in a.findings.iter().take(lim.findings).enumerate() {
            if n == OPEN_FINDINGS {
                writeln!(out)?;
                writeln!(
                    out,
                    "<details><summary>{} more findings</summary>",
                    lim.findings.min(a.findings.len()) - OPEN_FINDINGS
                )?;
                writeln!(out)?;
                writeln!(out, "| Severity | Size | Layer | Finding | Rule |")?;
                writeln!(out, "|---|---:|---:|---|---|")?;
            }
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
                    (Some(src), true) => format!("config ({})", code(src)),
                    (None, true) => "config".to_string(),
                    (Some(src), false) => format!("{} ({})", f.layer, code(src)),
                    (None, false) => f.layer.to_string(),
                },
                what,
                f.rule
            )?;
        }
        if lim.findings.min(a.findings.len()) > OPEN_FINDINGS {
            writeln!(out)?;
            writeln!(out, "</details>")?;
        }
        if a.findings.len() > lim.findings {
            left_out.push(plural(
                a.findings.len() - lim.findings,
                "finding",
                "findings",
            ));
        }
    }

    if !a.suggestions.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Suggestions")?;
        for (n, s) in a.suggestions.iter().take(lim.suggestions).enumerate() {
            writeln!(out)?;
            let saves = match (s.saves_bytes, s.saves_compressed_bytes) {
                (0, _) => String::new(),
                (b, Some(c)) => format!(
                    " — saves {} (~{} compressed)",
                    human_bytes(b),
                    human_bytes(c)
                ),
                (b, None) => format!(" — saves {}", human_bytes(b)),
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
            let lines: Vec<&str> = s.snippet.lines().collect();
            let mut snippet = lines
                .iter()
                .take(lim.snippet_lines)
                .copied()
                .collect::<Vec<_>>()
                .join("\n");
            if lines.len() > lim.snippet_lines {
                snippet.push_str(&format!(
                    "\n# … {} more lines in the JSON report",
                    lines.len() - lim.snippet_lines
                ));
            }
            writeln!(out, "{}", sanitize::markdown_fence(&snippet, "dockerfile"))?;
            if !s.evidence.is_empty() && lim.evidence > 0 {
                writeln!(out)?;
                writeln!(
                    out,
                    "<details><summary>Evidence ({})</summary>\n",
                    plural(s.evidence.len(), "path", "paths")
                )?;
                for p in s.evidence.iter().take(lim.evidence) {
                    writeln!(out, "- {}", inline_code(p))?;
                }
                if s.evidence.len() > lim.evidence {
                    writeln!(
                        out,
                        "- …and {} more in the JSON report",
                        s.evidence.len() - lim.evidence
                    )?;
                }
                writeln!(out, "\n</details>")?;
            }
        }
        if a.suggestions.len() > lim.suggestions {
            left_out.push(plural(
                a.suggestions.len() - lim.suggestions,
                "suggestion",
                "suggestions",
            ));
        }
    }

    if !a.practices.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Best practices")?;
        writeln!(out)?;
        writeln!(out, "| Severity | Where | Finding | Rule |")?;
        writeln!(out, "|---|---|---|---|")?;
        for f in &a.practices {
            let mut what = cell(&f.title);
            if let Some(p) = f.paths.first() {
                write!(what, "<br>{}", code(p))?;
                if f.path_count > 1 {
                    write!(what, " (+{} more)", f.path_count - 1)?;
                }
            }
            if let Some(d) = &f.detail {
                write!(what, "<br>{}", cell(d))?;
            }
            writeln!(
                out,
                "| {} | {} | {} | `{}` |",
                severity_label(f.severity),
                match (&f.source, f.in_config) {
                    (Some(src), _) => code(src),
                    (None, true) => "config".to_string(),
                    (None, false) => format!("layer {}", f.layer),
                },
                what,
                f.rule
            )?;
        }
    }

    let packages = super::packages::markdown(a)?;
    if !packages.is_empty() {
        if lim.evidence > 0 {
            writeln!(out)?;
            out.write_str(&packages)?;
        } else {
            left_out.push("the packages table".to_string());
        }
    }

    if lim.layers > 0 {
        writeln!(out)?;
        writeln!(out, "<details><summary>Layers</summary>")?;
        writeln!(out)?;
        writeln!(out, "| # | Size | Blob | Hidden | Avoidable | Step |")?;
        writeln!(out, "|---:|---:|---:|---:|---:|---|")?;
        for (i, l) in a.layers.iter().enumerate().take(lim.layers) {
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
    }
    if a.layers.len() > lim.layers {
        left_out.push(plural(
            a.layers.len() - lim.layers,
            "layer row",
            "layer rows",
        ));
    }
    if !left_out.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "> Left out to keep this short: {}. The full list is in {FULL}.",
            left_out.join(", ")
        )?;
    }
    Ok(())
}
