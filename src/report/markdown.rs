//! The markdown report, fit for a pull-request comment: a headline table, the findings
//! table, the suggestions with their Dockerfile snippets, and the per-layer table folded in a
//! `<details>` block so the comment stays short. [`render_fit`] keeps it within a character
//! budget (`--max-chars`): it lists fewer rows, folds the rest, and says what it left out.

use std::fmt::Write as _;

use super::text::{finding_size, one_line, severity_label};
use super::{human_bytes, percent};
use crate::Analysis;

/// Findings listed in the table; the rest are counted.
pub const MAX_FINDINGS: usize = 20;
/// Findings shown before the rest of the table folds into `<details>`.
pub const OPEN_FINDINGS: usize = 10;
/// Suggestions shown with snippets.
pub const MAX_SUGGESTIONS: usize = 10;

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
pub fn render_fit(a: &Analysis, max_chars: usize) -> String {
    let mut last = String::new();
    for l in LADDER {
        last = render_with(a, l);
        if last.chars().count() <= max_chars {
            return last;
        }
    }
    super::fit::cut(&last, max_chars, FULL)
}

/// Renders the markdown report within the default budget.
pub fn render(a: &Analysis) -> String {
    render_fit(a, super::fit::DEFAULT_MAX_CHARS)
}

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

fn render_with(a: &Analysis, lim: Limits) -> String {
    let mut out = String::new();
    let mut left_out: Vec<String> = Vec::new();
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
    if let Some(split) = crate::base::BaseSplit::of_analysis(a) {
        let [base, own] = split.lines();
        let _ = writeln!(out, "| Base | {} |", cell(&base));
        let _ = writeln!(out, "| Own layers | **{}** |", cell(&own));
    }
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
        for (n, f) in a.findings.iter().take(lim.findings).enumerate() {
            if n == OPEN_FINDINGS {
                let _ = writeln!(out);
                let _ = writeln!(
                    out,
                    "<details><summary>{} more findings</summary>",
                    lim.findings.min(a.findings.len()) - OPEN_FINDINGS
                );
                let _ = writeln!(out);
                let _ = writeln!(out, "| Severity | Size | Layer | Finding | Rule |");
                let _ = writeln!(out, "|---|---:|---:|---|---|");
            }
            let mut what = cell(&f.title);
            if let Some(d) = &f.detail {
                let _ = write!(what, "<br>{}", code(d));
            }
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | `{}` |",
                severity_label(f.severity),
                finding_size(f),
                f.layer,
                what,
                f.rule
            );
        }
        if lim.findings.min(a.findings.len()) > OPEN_FINDINGS {
            let _ = writeln!(out);
            let _ = writeln!(out, "</details>");
        }
        if a.findings.len() > lim.findings {
            left_out.push(plural(a.findings.len() - lim.findings, "finding"));
        }
    }

    if !a.suggestions.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "### Suggestions");
        for (n, s) in a.suggestions.iter().take(lim.suggestions).enumerate() {
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
            let _ = writeln!(out, "Layer {}: {}", s.layer, code(&s.instruction));
            let _ = writeln!(out);
            let _ = writeln!(out, "```dockerfile");
            let lines: Vec<&str> = s.snippet.lines().collect();
            for line in lines.iter().take(lim.snippet_lines) {
                let _ = writeln!(out, "{}", line.replace("```", "'''"));
            }
            if lines.len() > lim.snippet_lines {
                let _ = writeln!(
                    out,
                    "# … {} more lines in the JSON report",
                    lines.len() - lim.snippet_lines
                );
            }
            let _ = writeln!(out, "```");
            if !s.evidence.is_empty() && lim.evidence > 0 {
                let _ = writeln!(out);
                let _ = writeln!(
                    out,
                    "<details><summary>Evidence ({} paths)</summary>\n",
                    s.evidence.len()
                );
                for p in s.evidence.iter().take(lim.evidence) {
                    let _ = writeln!(out, "- {}", code(p));
                }
                if s.evidence.len() > lim.evidence {
                    let _ = writeln!(
                        out,
                        "- …and {} more in the JSON report",
                        s.evidence.len() - lim.evidence
                    );
                }
                let _ = writeln!(out, "\n</details>");
            }
        }
        if a.suggestions.len() > lim.suggestions {
            left_out.push(plural(a.suggestions.len() - lim.suggestions, "suggestion"));
        }
    }

    if lim.layers > 0 {
        let _ = writeln!(out);
        let _ = writeln!(out, "<details><summary>Layers</summary>");
        let _ = writeln!(out);
        let _ = writeln!(out, "| # | Size | Blob | Hidden | Avoidable | Step |");
        let _ = writeln!(out, "|---:|---:|---:|---:|---:|---|");
        for (i, l) in a.layers.iter().enumerate().take(lim.layers) {
            let _ = writeln!(
                out,
                "| {i} | {} | {} | {} | {} | {} |",
                human_bytes(l.bytes.content),
                human_bytes(l.compressed_size),
                human_bytes(l.bytes.hidden()),
                human_bytes(a.layer_avoidable(i)),
                if l.step.instruction.is_empty() {
                    "(no history)".to_string()
                } else {
                    code(&l.step.instruction)
                }
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "</details>");
    }
    if a.layers.len() > lim.layers {
        left_out.push(plural(a.layers.len() - lim.layers, "layer row"));
    }
    if !left_out.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "> Left out to keep this short: {}. The full list is in {FULL}.",
            left_out.join(", ")
        );
    }
    out
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}
