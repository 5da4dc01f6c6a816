//! The plain-text report: a summary a person takes in at a glance (sizes, efficiency,
//! savings, secrets), the top findings and the top suggestions with their snippets, then
//! one row per layer.

use std::fmt::{self, Write};

use super::summary;
use crate::analysis::{Category, Finding, Severity};
use crate::sanitize::for_terminal;
use crate::units::{human_bytes, percent, plural};
use crate::Analysis;

/// Findings listed in the summary.
pub(crate) const TOP_FINDINGS: usize = 8;
/// Suggestions listed in the summary, with their snippets.
pub(crate) const TOP_SUGGESTIONS: usize = 3;

/// How the text report is laid out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TextOptions {
    /// Cut long lines to fit this many columns (a terminal's width); `None` never cuts
    /// (a file, a pipe).
    pub width: Option<usize>,
    /// How many findings and suggestions to list; `None`: the top [`TOP_FINDINGS`] and
    /// [`TOP_SUGGESTIONS`].
    pub limit: Option<usize>,
}

/// Writes the text report with no line cut and the default number of findings.
pub(crate) fn write(a: &Analysis, out: &mut impl Write) -> fmt::Result {
    write_with(a, TextOptions::default(), out)
}

/// Writes the text report.
pub(crate) fn write_with(a: &Analysis, opts: TextOptions, out: &mut impl Write) -> fmt::Result {
    let t = &a.totals;
    // A field that starts at column `indent` keeps to the width, if there is one; what an
    // image controls is shown escaped, secrets redacted.
    let fit = |s: &str, indent: usize| {
        let line = match opts.width {
            Some(w) => one_line(s, w.saturating_sub(indent).max(20)),
            None => one_line(s, usize::MAX),
        };
        for_terminal(&line).into_owned()
    };
    let top_findings = opts.limit.unwrap_or(TOP_FINDINGS);
    let top_suggestions = opts.limit.unwrap_or(TOP_SUGGESTIONS);
    writeln!(out, "Image       {}", for_terminal(&a.image.reference))?;
    if let Some(d) = &a.image.manifest_digest {
        writeln!(out, "Digest      {}", for_terminal(d))?;
    }
    writeln!(
        out,
        "Platform    {}",
        for_terminal(&a.image.platform.to_string())
    )?;
    writeln!(out, "Size        {}", summary::size(a))?;
    if let Some(split) = super::json::BaseSplit::of_analysis(a) {
        let [base, own] = split.lines();
        writeln!(out, "Base        {}", fit(&base, 12))?;
        writeln!(out, "Own         {}", fit(&own, 12))?;
    }
    writeln!(
        out,
        "Efficiency  {:.1}% of the content is visible in the final image ({}); {} is hidden by later layers",
        a.efficiency() * 100.0,
        human_bytes(t.visible),
        human_bytes(t.hidden()),
    )?;
    let compressed = summary::compressed_savings(a)
        .unwrap_or_else(|| "no compressed estimate: layers stored uncompressed".to_string());
    writeln!(
        out,
        "Savings     {} could go ({compressed}): {} hidden + {} avoidable (visible caches, temp files, duplicates)",
        human_bytes(a.potential_savings()),
        human_bytes(t.hidden()),
        human_bytes(a.avoidable_bytes()),
    )?;
    writeln!(
        out,
        "Hidden      {} ({} of the content): {}",
        human_bytes(t.hidden()),
        percent(t.hidden(), t.content),
        summary::hidden_split(a),
    )?;
    if let Some(ctx) = &a.dockerfile {
        writeln!(out, "Dockerfile  {}", dockerfile_summary(ctx))?;
    }
    let secrets = a.secrets().count();
    if secrets > 0 {
        writeln!(
            out,
            "Secrets     {} found (redacted below); a deleted secret is still in the image",
            plural(secrets, "secret", "secrets")
        )?;
    }

    if !a.findings.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Top findings ({} of {})",
            a.findings.len().min(top_findings),
            a.findings.len()
        )?;
        for f in a.findings.iter().take(top_findings) {
            writeln!(
                out,
                "  {:<6} {:>9}  {:<8}  {}",
                severity_label(f.severity),
                finding_size(f),
                match (&f.source, f.in_config) {
                    (Some(src), true) => format!("config {src}"),
                    (None, true) => "config".to_string(),
                    (Some(src), false) => format!("{} {src}", f.place()),
                    (None, false) => f.place(),
                },
                fit(&f.title, 30)
            )?;
            if let Some(d) = &f.detail {
                writeln!(out, "{:30}{}", "", fit(d, 30))?;
            }
        }
        if a.findings.len() > top_findings {
            writeln!(
                out,
                "  … {} more: `--limit N` or `--all` lists them",
                a.findings.len() - top_findings
            )?;
        }
    }

    if !a.suggestions.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Top suggestions ({} of {})",
            a.suggestions.len().min(top_suggestions),
            a.suggestions.len()
        )?;
        for (n, s) in a.suggestions.iter().take(top_suggestions).enumerate() {
            let saves = match (s.saves_bytes, s.saves_compressed_bytes) {
                (0, _) => String::new(),
                (b, Some(c)) => format!(
                    " (saves {}, ~{} compressed)",
                    human_bytes(b),
                    human_bytes(c)
                ),
                (b, None) => format!(" (saves {})", human_bytes(b)),
            };
            writeln!(out, "  {}. {}{saves}", n + 1, for_terminal(&s.title))?;
            writeln!(
                out,
                "     {}: {}",
                match &s.source {
                    Some(src) => format!("{} ({src})", suggestion_place(a, s)),
                    None => suggestion_place(a, s),
                },
                fit(&s.instruction, 14)
            )?;
            for line in s.snippet.lines() {
                writeln!(out, "     | {}", for_terminal(line))?;
            }
        }
        if a.suggestions.len() > top_suggestions {
            writeln!(
                out,
                "  … {} more: `--limit N` or `--all` lists them",
                a.suggestions.len() - top_suggestions
            )?;
        }
    }

    if !a.practices.is_empty() {
        writeln!(out)?;
        writeln!(out, "Best practices ({})", a.practices.len())?;
        for f in &a.practices {
            let at = match (&f.source, f.in_config) {
                (Some(src), _) => src.clone(),
                (None, true) => "config".to_string(),
                (None, false) => f.place(),
            };
            writeln!(
                out,
                "  {:<6}  {:<14}  {}",
                severity_label(f.severity),
                for_terminal(&at),
                fit(&f.title, 28)
            )?;
            if let Some(p) = f.paths.first() {
                let more = f.path_count.saturating_sub(1);
                let more = if more > 0 {
                    format!(" (+{more} more)")
                } else {
                    String::new()
                };
                writeln!(out, "{:26}{}", "", fit(&format!("{p}{more}"), 26))?;
            }
            if let Some(d) = &f.detail {
                writeln!(out, "{:26}{}", "", fit(d, 26))?;
            }
        }
    }

    let packages = super::packages::text(a)?;
    if !packages.is_empty() {
        writeln!(out)?;
        out.write_str(&packages)?;
    }

    writeln!(out)?;
    writeln!(
        out,
        "{:>3}  {:>9}  {:>9}  {:>9}  {:>9}  {:>7}  Step",
        "#", "Size", "Blob", "Hidden", "Avoidable", "Entries"
    )?;
    for (i, l) in a.layers.iter().enumerate() {
        let mut step = if l.is_foreign() {
            "(foreign layer: not in the image, skipped)".to_string()
        } else if l.step.instruction.is_empty() {
            "(no history)".to_string()
        } else {
            fit(&l.step.instruction, 62)
        };
        if let Some(ctx) = &a.dockerfile {
            step = match (&l.step.source, ctx.mapping.unmapped_reason(i)) {
                (Some(src), _) => format!("{src}  {step}"),
                (None, Some(why)) => format!("(unmapped: {why})  {step}"),
                (None, None) => step,
            };
        }
        writeln!(
            out,
            "{:>3}  {:>9}  {:>9}  {:>9}  {:>9}  {:>7}  {}",
            i,
            human_bytes(l.bytes.content),
            human_bytes(l.compressed_size),
            human_bytes(l.bytes.hidden()),
            human_bytes(l.avoidable),
            l.entries,
            step
        )?;
    }
    Ok(())
}

/// `Dockerfile (stage final): 5 layers from its lines, 1 from the base image, 0 unmapped`.
pub(crate) fn dockerfile_summary(ctx: &crate::dockerfile::Context) -> String {
    use crate::dockerfile::map::LayerSource;
    use std::fmt::Write as _;
    let m = &ctx.mapping;
    let count = |f: fn(&LayerSource) -> bool| m.layers.iter().filter(|l| f(l)).count();
    let mapped = count(|l| matches!(l, LayerSource::Instruction { .. }));
    let base = count(|l| matches!(l, LayerSource::Base { .. }));
    let stage = ctx
        .dockerfile
        .stages
        .get(ctx.stage)
        .and_then(|s| s.name.clone())
        .map_or_else(String::new, |n| format!(" (stage {n})"));
    let mut s = format!(
        "{}{stage}: {mapped} layers from its lines, {base} from the base image, {} unmapped",
        m.file,
        m.unmapped()
    );
    if !m.unmatched_lines.is_empty() {
        let lines: Vec<String> = m.unmatched_lines.iter().map(|l| l.to_string()).collect();
        let _ = write!(s, "; no layer for line {}", lines.join(", "));
    }
    s
}

/// `layer 3`, or `image config` for a suggestion about `ENV` alone.
pub(crate) fn suggestion_place(a: &Analysis, s: &crate::analysis::Suggestion) -> String {
    let in_config = !s.findings.is_empty()
        && s.findings
            .iter()
            .all(|&i| a.findings.get(i).is_some_and(|f| f.in_config));
    if in_config {
        "image config".to_string()
    } else {
        format!("layer {}", s.layer)
    }
}

/// `HIGH`, `MEDIUM`, … for the summary.
pub(crate) fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
        Severity::Info => "INFO",
    }
}

/// A finding's size for people: its bytes, or `secret` for secrets.
pub(crate) fn finding_size(f: &Finding) -> String {
    if f.category == Category::Secret {
        "secret".to_string()
    } else {
        human_bytes(f.bytes)
    }
}

pub(crate) use crate::analysis::one_line;
