//! The markdown report, fit for a pull-request comment: a headline table, the findings
//! table, the suggestions with their Dockerfile snippets, and the per-layer table folded in a
//! `<details>` block so the comment stays short.

use std::fmt::Write as _;

use super::text::{finding_size, one_line, severity_label};
use super::{human_bytes, percent};
use crate::Analysis;

/// Findings listed in the table; the rest are counted.
pub const MAX_FINDINGS: usize = 20;
/// Suggestions shown with snippets.
pub const MAX_SUGGESTIONS: usize = 10;

/// Escapes text for a table cell (pipes, newlines) and inline HTML.
fn cell(s: &str) -> String {
    one_line(s, 160)
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Inline code that survives backticks inside.
fn code(s: &str) -> String {
    let s = one_line(s, 120).replace('|', "\\|");
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

/// Renders the markdown report.
pub fn render(a: &Analysis) -> String {
    let mut out = String::new();
    let t = &a.totals;
    let _ = writeln!(out, "## layersift: {}", code(&a.image.reference));
    let _ = writeln!(out);
    let _ = writeln!(out, "| | |");
    let _ = writeln!(out, "|---|---|");
    let _ = writeln!(
        out,
        "| Size | {} content in {} layers, {} compressed |",
        human_bytes(t.content),
        a.layers.len(),
        human_bytes(a.compressed_size())
    );
    let _ = writeln!(
        out,
        "| Efficiency | **{:.1}%** ({:.1}% of compressed bytes) |",
        a.efficiency() * 100.0,
        a.compressed_efficiency() * 100.0
    );
    let _ = writeln!(
        out,
        "| Potential savings | **{}** (~{} compressed) |",
        human_bytes(a.potential_savings()),
        human_bytes(a.potential_savings_compressed())
    );
    let _ = writeln!(
        out,
        "| Hidden | {} ({}): {} same content rewritten, {} replaced, {} removed |",
        human_bytes(t.hidden()),
        percent(t.hidden(), t.content),
        human_bytes(t.overwritten_same),
        human_bytes(t.overwritten_changed),
        human_bytes(t.removed)
    );
    let _ = writeln!(
        out,
        "| Avoidable | {} (caches, temporary files, duplicates) |",
        human_bytes(a.avoidable_bytes())
    );
    let secrets = a.secrets().count();
    let _ = writeln!(
        out,
        "| Secrets | {} |",
        if secrets == 0 {
            "none found".to_string()
        } else {
            format!(":warning: **{secrets}** (redacted)")
        }
    );

    if !a.findings.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "### Findings");
        let _ = writeln!(out);
        let _ = writeln!(out, "| Severity | Size | Layer | Finding | Rule |");
        let _ = writeln!(out, "|---|---:|---:|---|---|");
        for f in a.findings.iter().take(MAX_FINDINGS) {
            let mut what = cell(&f.title);
            if let Some(d) = &f.detail {
                let _ = write!(what, "<br>{}", code(d));
            }
            let layer = match &f.source {
                Some(src) => format!("{} ({})", f.layer, code(src)),
                None => f.layer.to_string(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {layer} | {} | `{}` |",
                severity_label(f.severity),
                finding_size(f),
                what,
                f.rule
            );
        }
        if a.findings.len() > MAX_FINDINGS {
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "…and {} more finding{} (see `layersift analyze --format json`).",
                a.findings.len() - MAX_FINDINGS,
                if a.findings.len() - MAX_FINDINGS == 1 {
                    ""
                } else {
                    "s"
                }
            );
        }
    }

    if !a.suggestions.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "### Suggestions");
        for (n, s) in a.suggestions.iter().take(MAX_SUGGESTIONS).enumerate() {
            let _ = writeln!(out);
            let saves = if s.saves_bytes > 0 {
                format!(
                    " — saves {} (~{} compressed)",
                    human_bytes(s.saves_bytes),
                    human_bytes(s.saves_compressed_bytes)
                )
            } else {
                String::new()
            };
            let _ = writeln!(out, "**{}. {}**{saves}", n + 1, cell(&s.title));
            let _ = writeln!(out);
            match &s.source {
                Some(src) => {
                    let _ = writeln!(
                        out,
                        "Layer {} ({}): {}",
                        s.layer,
                        code(src),
                        code(&s.instruction)
                    );
                }
                None => {
                    let _ = writeln!(out, "Layer {}: {}", s.layer, code(&s.instruction));
                }
            }
            let _ = writeln!(out);
            let _ = writeln!(out, "```dockerfile");
            let _ = writeln!(out, "{}", s.snippet.replace("```", "'''"));
            let _ = writeln!(out, "```");
            if !s.evidence.is_empty() {
                let _ = writeln!(out);
                let _ = writeln!(
                    out,
                    "<details><summary>Evidence ({} paths)</summary>\n",
                    s.evidence.len()
                );
                for p in &s.evidence {
                    let _ = writeln!(out, "- {}", code(p));
                }
                let _ = writeln!(out, "\n</details>");
            }
        }
    }

    let _ = writeln!(out);
    let _ = writeln!(out, "<details><summary>Layers</summary>");
    let _ = writeln!(out);
    let _ = writeln!(out, "| # | Size | Blob | Hidden | Avoidable | Step |");
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---|");
    for (i, l) in a.layers.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {i} | {} | {} | {} | {} | {} |",
            human_bytes(l.bytes.content),
            human_bytes(l.compressed_size),
            human_bytes(l.bytes.hidden()),
            human_bytes(a.layer_avoidable(i)),
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
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "</details>");
    out
}
