//! The plain-text report: a summary a person takes in at a glance, then one row per layer.

use std::fmt::Write as _;

use super::{human_bytes, percent};
use crate::Analysis;

/// Renders the text report.
pub fn render(a: &Analysis) -> String {
    let mut out = String::new();
    let t = &a.totals;
    let _ = writeln!(out, "Image      {}", a.image.reference);
    if let Some(d) = &a.image.manifest_digest {
        let _ = writeln!(out, "Digest     {d}");
    }
    let _ = writeln!(out, "Platform   {}", a.image.platform);
    let _ = writeln!(
        out,
        "Size       {} content in {} layers, {} compressed",
        human_bytes(t.content),
        a.layers.len(),
        human_bytes(a.compressed_size())
    );
    let _ = writeln!(
        out,
        "Efficiency {:.1}% ({} visible)",
        a.efficiency() * 100.0,
        human_bytes(t.visible)
    );
    let _ = writeln!(
        out,
        "Hidden     {} ({}): {} overwritten with the same content, {} overwritten with changed content, {} removed",
        human_bytes(t.hidden()),
        percent(t.hidden(), t.content),
        human_bytes(t.overwritten_same),
        human_bytes(t.overwritten_changed),
        human_bytes(t.removed),
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:>3}  {:>9}  {:>9}  {:>9}  {:>7}  Step",
        "#", "Size", "Blob", "Hidden", "Entries"
    );
    for (i, l) in a.layers.iter().enumerate() {
        let step = if l.step.instruction.is_empty() {
            "(no history)".to_string()
        } else {
            one_line(&l.step.instruction, 100)
        };
        let _ = writeln!(
            out,
            "{:>3}  {:>9}  {:>9}  {:>9}  {:>7}  {}",
            i,
            human_bytes(l.bytes.content),
            human_bytes(l.compressed_size),
            human_bytes(l.bytes.hidden()),
            l.entries,
            step
        );
    }
    out
}

/// Collapses whitespace and cuts to `max` characters with an ellipsis.
pub fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}
