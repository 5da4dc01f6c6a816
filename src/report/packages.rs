//! The packages section of the text and markdown reports: the largest packages and what no
//! package owns, in a few lines.

use std::fmt::Write as _;

use crate::sanitize::{for_terminal, markdown_cell};
use crate::units::{human_bytes, percent};
use crate::Analysis;

/// Packages listed in the text and markdown reports.
pub(crate) const TOP_PACKAGES: usize = 10;

/// Names and versions come from the image: escaped for the terminal.
fn clean(s: &str) -> String {
    for_terminal(&crate::analysis::one_line(s, 60)).into_owned()
}

/// `Largest packages` for the text report (empty when the image has no package database).
pub(crate) fn text(a: &Analysis) -> Result<String, std::fmt::Error> {
    let p = &a.packages;
    let mut out = String::new();
    if p.packages.is_empty() && p.notes.is_empty() {
        return Ok(out);
    }
    let visible = a.totals.visible;
    writeln!(
        out,
        "Largest packages ({} of {}; {} owned, {} unowned)",
        p.packages.len().min(TOP_PACKAGES),
        p.packages.len(),
        human_bytes(p.owned_bytes),
        human_bytes(p.unowned_bytes),
    )?;
    for pk in p.packages.iter().take(TOP_PACKAGES) {
        writeln!(
            out,
            "  {:>9}  {:<5} layer {:<2}  {}{}",
            human_bytes(pk.bytes),
            pk.ecosystem.as_str(),
            pk.layer,
            clean(&pk.name),
            // A Go binary built in GOPATH mode has no module version.
            if pk.version.is_empty() {
                String::new()
            } else {
                format!(" {}", clean(&pk.version))
            },
        )?;
    }
    if p.unowned_bytes > 0 {
        let dirs: Vec<String> = p
            .unowned_by_dir
            .iter()
            .take(4)
            .map(|d| format!("{} {}", clean(&d.dir), human_bytes(d.bytes)))
            .collect();
        writeln!(
            out,
            "  Unowned {} ({} of visible): {}",
            human_bytes(p.unowned_bytes),
            percent(p.unowned_bytes, visible),
            dirs.join(", ")
        )?;
    }
    let skipped: u32 = p.skipped.iter().map(|s| s.entries).sum();
    if skipped > 0 {
        writeln!(
            out,
            "  {skipped} unreadable database entries skipped ({})",
            p.skipped
                .iter()
                .map(|s| clean(&s.path))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    for n in &p.notes {
        writeln!(out, "  note: {}", clean(n))?;
    }
    Ok(out)
}

/// A short packages table for the markdown report.
pub(crate) fn markdown(a: &Analysis) -> Result<String, std::fmt::Error> {
    let p = &a.packages;
    let mut out = String::new();
    if p.packages.is_empty() {
        return Ok(out);
    }
    let cell = |s: &str| markdown_cell(&crate::analysis::one_line(s, 60));
    writeln!(
        out,
        "### Largest packages ({} of {})",
        p.packages.len().min(TOP_PACKAGES),
        p.packages.len()
    )?;
    writeln!(out)?;
    writeln!(out, "| Package | Version | Kind | Size | Layer |")?;
    writeln!(out, "|---|---|---|---:|---:|")?;
    for pk in p.packages.iter().take(TOP_PACKAGES) {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&pk.name),
            cell(&pk.version),
            pk.ecosystem.as_str(),
            human_bytes(pk.bytes),
            pk.layer
        )?;
    }
    writeln!(
        out,
        "| *no package* | | | {} | |",
        human_bytes(p.unowned_bytes)
    )?;
    Ok(out)
}
