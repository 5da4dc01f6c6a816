//! The plain-text report: a summary a person takes in at a glance (sizes, efficiency,
//! savings, secrets), the top findings and the top suggestions with their snippets, then
//! one row per layer.

use std::fmt::{self, Write};

use crate::analysis::{Category, Finding, Severity};
use crate::units::{human_bytes, percent};
use crate::Analysis;

/// Findings listed in the summary.
pub const TOP_FINDINGS: usize = 8;
/// Suggestions listed in the summary, with their snippets.
pub const TOP_SUGGESTIONS: usize = 3;

/// Writes the text report.
pub fn write(a: &Analysis, out: &mut impl Write) -> fmt::Result {
    let t = &a.totals;
    writeln!(out, "Image       {}", a.image.reference)?;
    if let Some(d) = &a.image.manifest_digest {
        writeln!(out, "Digest      {d}")?;
    }
    writeln!(out, "Platform    {}", a.image.platform)?;
    writeln!(
        out,
        "Size        {} content in {} layers, {} compressed",
        human_bytes(t.content),
        a.layers.len(),
        human_bytes(a.compressed_size())
    )?;
    writeln!(
        out,
        "Efficiency  {:.1}% ({} of it visible; {:.1}% of compressed bytes)",
        a.efficiency() * 100.0,
        human_bytes(t.visible),
        a.compressed_efficiency() * 100.0
    )?;
    writeln!(
        out,
        "Savings     {} possible (~{} compressed): {} hidden + {} avoidable",
        human_bytes(a.potential_savings()),
        human_bytes(a.potential_savings_compressed()),
        human_bytes(t.hidden()),
        human_bytes(a.avoidable_bytes()),
    )?;
    writeln!(
        out,
        "Hidden      {} ({}): {} same content rewritten, {} replaced, {} removed",
        human_bytes(t.hidden()),
        percent(t.hidden(), t.content),
        human_bytes(t.overwritten_same),
        human_bytes(t.overwritten_changed),
        human_bytes(t.removed),
    )?;
    if let Some(ctx) = &a.dockerfile {
        writeln!(out, "Dockerfile  {}", dockerfile_summary(ctx))?;
    }
    let secrets = a.secrets().count();
    if secrets > 0 {
        writeln!(
            out,
            "Secrets     {secrets} found (redacted below); a deleted secret is still in the image"
        )?;
    }

    if !a.findings.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Top findings ({} of {})",
            a.findings.len().min(TOP_FINDINGS),
            a.findings.len()
        )?;
        for f in a.findings.iter().take(TOP_FINDINGS) {
            let at = match &f.source {
                Some(src) => format!("layer {:<2} {src}", f.layer),
                None => format!("layer {:<2}", f.layer),
            };
            writeln!(
                out,
                "  {:<6} {:>9}  {at}  {}",
                severity_label(f.severity),
                finding_size(f),
                one_line(&f.title, 90)
            )?;
            if let Some(d) = &f.detail {
                writeln!(out, "{:30}{}", "", one_line(d, 90))?;
            }
        }
    }

    if !a.suggestions.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Top suggestions ({} of {})",
            a.suggestions.len().min(TOP_SUGGESTIONS),
            a.suggestions.len()
        )?;
        for (n, s) in a.suggestions.iter().take(TOP_SUGGESTIONS).enumerate() {
            let saves = if s.saves_bytes > 0 {
                format!(
                    " (saves {}, ~{} compressed)",
                    human_bytes(s.saves_bytes),
                    human_bytes(s.saves_compressed_bytes)
                )
            } else {
                String::new()
            };
            writeln!(out, "  {}. {}{saves}", n + 1, s.title)?;
            let at = match &s.source {
                Some(src) => format!("layer {} ({src})", s.layer),
                None => format!("layer {}", s.layer),
            };
            writeln!(out, "     {at}: {}", one_line(&s.instruction, 100))?;
            for line in s.snippet.lines() {
                writeln!(out, "     | {line}")?;
            }
        }
    }

    writeln!(out)?;
    writeln!(
        out,
        "{:>3}  {:>9}  {:>9}  {:>9}  {:>9}  {:>7}  Step",
        "#", "Size", "Blob", "Hidden", "Avoidable", "Entries"
    )?;
    for (i, l) in a.layers.iter().enumerate() {
        let mut step = if l.step.instruction.is_empty() {
            "(no history)".to_string()
        } else {
            one_line(&l.step.instruction, 100)
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
pub fn dockerfile_summary(ctx: &crate::dockerfile::Context) -> String {
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

/// `HIGH`, `MEDIUM`, … for the summary.
pub fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
        Severity::Info => "INFO",
    }
}

/// A finding's size for people: its bytes, or `secret` for secrets.
pub fn finding_size(f: &Finding) -> String {
    if f.category == Category::Secret {
        "secret".to_string()
    } else {
        human_bytes(f.bytes)
    }
}

pub use crate::analysis::one_line;
