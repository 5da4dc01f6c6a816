//! Renders a [`Diff`] for people (text for the terminal, markdown for a pull-request comment)
//! and for machines (JSON with its own `schema_version`). Beside the model, as `check` and
//! `trend` keep their renderers beside theirs.

use std::fmt::{self, Write};

use super::{Delta, Diff, FileChange, FindingRef, LayerChange, LayerStatus};
use crate::analysis::one_line;
use crate::report::json::Report;
use crate::report::{Format, RenderError};
use crate::sanitize::{self, for_terminal};
use crate::units::{human_bytes, plural, ratio_change, ratio_percent, signed_bytes};

/// Renders a diff of `old` and `new` in the given format. Only the HTML page reads the two
/// reports themselves (its treemap sizes the new image's directories against the old's).
pub fn render(old: &Report, new: &Report, d: &Diff, format: Format) -> Result<String, RenderError> {
    let mut out = String::new();
    match format {
        Format::Text => text(d, &mut out)?,
        Format::Json => out = crate::report::json::to_json(d)?,
        Format::Markdown => markdown(d, &mut out)?,
        Format::Html => super::html::write(old, new, d, &mut out)?,
        Format::Sarif | Format::Gitlab | Format::Github => {
            return Err(RenderError::Unsupported {
                format: match format {
                    Format::Sarif => "sarif",
                    Format::Gitlab => "gitlab",
                    _ => "github",
                },
                command: "diff",
            })
        }
    }
    Ok(out)
}

/// `+2`, `-1`, `0`.
fn count_change(d: i64) -> String {
    if d == 0 {
        "0".to_string()
    } else {
        format!("{d:+}")
    }
}

/// `+1.2 MB (+3.4%)`, percent left out when the old value is 0.
fn change(d: &Delta) -> String {
    match d.percent() {
        Some(p) if d.delta != 0 => format!("{} ({p:+.1}%)", signed_bytes(d.delta)),
        _ => signed_bytes(d.delta),
    }
}

fn status_word(s: LayerStatus) -> &'static str {
    match s {
        LayerStatus::Shared => "shared",
        LayerStatus::Changed => "changed",
        LayerStatus::Added => "added",
        LayerStatus::Removed => "removed",
    }
}

fn index(i: Option<usize>) -> String {
    i.map_or_else(|| "-".to_string(), |i| i.to_string())
}

fn step(l: &LayerChange, max: usize) -> String {
    let s = if l.instruction.is_empty() {
        "(no history)".to_string()
    } else {
        one_line(&l.instruction, max)
    };
    match &l.old_instruction {
        Some(o) => format!("{s} (was: {})", one_line(o, max)),
        None => s,
    }
}

/// A layer's size on the side it is on (OLD's for a removed layer).
fn side_value(l: &LayerChange, v: &Delta) -> u64 {
    if l.status == LayerStatus::Removed {
        v.old
    } else {
        v.new
    }
}

/// A file's change: signed bytes, or `= 300 B` for content changed at the same size.
fn file_change(c: &FileChange) -> String {
    if c.bytes.delta == 0 {
        format!("= {}", human_bytes(c.bytes.new))
    } else {
        signed_bytes(c.bytes.delta)
    }
}

fn layer_counts(d: &Diff) -> String {
    let count = |s| d.layers.iter().filter(|l| l.status == s).count();
    format!(
        "{} shared, {} changed, {} added, {} removed",
        count(LayerStatus::Shared),
        count(LayerStatus::Changed),
        count(LayerStatus::Added),
        count(LayerStatus::Removed)
    )
}

fn total_rows(d: &Diff) -> Vec<(&'static str, &Delta)> {
    let t = &d.totals;
    vec![
        ("content", &t.content_bytes),
        ("compressed", &t.compressed_bytes),
        ("visible", &t.visible_bytes),
        ("hidden", &t.hidden_bytes),
        ("avoidable", &t.avoidable_bytes),
        ("waste", &t.waste_bytes),
    ]
}

/// The cells (name, old, new, change) of each size in `sizes`.
fn size_cells(sizes: &[(&'static str, &Delta)]) -> Vec<[String; 4]> {
    sizes
        .iter()
        .map(|(name, v)| {
            [
                name.to_string(),
                human_bytes(v.old),
                human_bytes(v.new),
                change(v),
            ]
        })
        .collect()
}

/// The summary's rows as cells: the [`total_rows`] sizes, then efficiency and secrets.
fn total_cells(d: &Diff) -> Vec<[String; 4]> {
    let t = &d.totals;
    let mut cells = size_cells(&total_rows(d));
    cells.push([
        "efficiency".to_string(),
        ratio_percent(t.efficiency_old),
        ratio_percent(t.efficiency_new),
        ratio_change(t.efficiency_old, t.efficiency_new),
    ]);
    cells.push([
        "secrets".to_string(),
        t.secret_count.old.to_string(),
        t.secret_count.new.to_string(),
        count_change(t.secret_count.delta),
    ]);
    cells
}

/// The own and base layers' rows, when both sides know their base.
fn scope_rows(d: &Diff) -> Vec<(&'static str, &Delta)> {
    d.scopes
        .as_ref()
        .map(|s| s.rows().to_vec())
        .unwrap_or_default()
}

/// `Own layers: 3 → 4 (above base `debian:12`, 1 layer)`, with both bases when it
/// changed; `quote` makes a reference safe for the output (it comes from a report).
fn scope_line(d: &Diff, quote: fn(&str) -> String) -> Option<String> {
    let s = d.scopes.as_ref()?;
    let base = if s.old_base == s.new_base {
        format!("base {}", quote(&s.new_base))
    } else {
        format!("base {} → {}", quote(&s.old_base), quote(&s.new_base))
    };
    Some(format!(
        "Own layers: {} → {} (above {base}, {})",
        s.own.layer_count.old,
        s.own.layer_count.new,
        s.base_layers()
    ))
}

/// True when nothing differs: the same layers, sizes, files and findings.
pub(crate) fn is_identical(d: &Diff) -> bool {
    let f = &d.files;
    d.layers.iter().all(|l| l.status == LayerStatus::Shared)
        && total_rows(d).iter().all(|(_, v)| v.delta == 0)
        && d.totals.secret_count.delta == 0
        && f.added_count + f.removed_count + f.grown_count + f.shrunk_count + f.changed_count == 0
        && d.new_findings.is_empty()
        && d.gone_findings.is_empty()
        && d.config.is_empty()
}

/// A config value for a diff line: `(none)` when empty.
fn config_value(v: &str) -> &str {
    if v.is_empty() {
        "(none)"
    } else {
        v
    }
}

/// `3 layers, 120 files`.
fn side_counts(layers: usize, files: usize) -> String {
    format!(
        "{}, {}",
        plural(layers, "layer", "layers"),
        plural(files, "file", "files")
    )
}

fn text(d: &Diff, o: &mut impl Write) -> fmt::Result {
    writeln!(
        o,
        "Old  {}  ({})",
        for_terminal(&d.old.reference),
        side_counts(d.old.layer_count, d.old.file_count)
    )?;
    writeln!(
        o,
        "New  {}  ({})",
        for_terminal(&d.new.reference),
        side_counts(d.new.layer_count, d.new.file_count)
    )?;
    writeln!(o)?;
    if is_identical(d) {
        return writeln!(
            o,
            "identical: the same {} ({} of content), the same files and findings",
            plural(d.new.layer_count, "layer", "layers"),
            human_bytes(d.totals.content_bytes.new)
        );
    }
    let scoped = scope_rows(d);
    let w = scoped
        .iter()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(0)
        .max(12);
    writeln!(o, "{:<w$}  {:>9}  {:>9}  change", "", "old", "new")?;
    for [name, old, new, change] in total_cells(d) {
        writeln!(o, "{name:<w$}  {old:>9}  {new:>9}  {change}")?;
    }
    if let Some(line) = scope_line(d, |r| format!("`{}`", for_terminal(r))) {
        writeln!(o, "\n{line}")?;
        for [name, old, new, change] in size_cells(&scoped) {
            writeln!(o, "{name:<w$}  {old:>9}  {new:>9}  {change}")?;
        }
    }

    writeln!(o, "\nLayers ({})", layer_counts(d))?;
    writeln!(
        o,
        "  {:<7}  {:>3}  {:>3}  {:>9}  {:>10}  {:>9}  {:>10}  step",
        "", "old", "new", "content", "change", "blob", "change"
    )?;
    for l in &d.layers {
        writeln!(
            o,
            "  {:<7}  {:>3}  {:>3}  {:>9}  {:>10}  {:>9}  {:>10}  {}",
            status_word(l.status),
            index(l.old_index),
            index(l.new_index),
            human_bytes(side_value(l, &l.content_bytes)),
            signed_bytes(l.content_bytes.delta),
            human_bytes(side_value(l, &l.compressed_bytes)),
            signed_bytes(l.compressed_bytes.delta),
            for_terminal(&step(l, 80))
        )?;
    }

    if !d.directories.is_empty() {
        writeln!(o, "\nDirectories that changed most")?;
        for dir in &d.directories {
            writeln!(
                o,
                "  {:>10}  {}  ({} → {})",
                signed_bytes(dir.bytes.delta),
                for_terminal(&dir.path),
                human_bytes(dir.bytes.old),
                human_bytes(dir.bytes.new)
            )?;
        }
    }

    let packages = package_lines(d);
    if !packages.is_empty() {
        writeln!(o, "\nPackages: {}", package_counts(d))?;
        for line in &packages {
            writeln!(o, "  {}", for_terminal(line))?;
        }
    }

    let f = &d.files;
    writeln!(
        o,
        "\nFiles: {} added ({}), {} removed ({}), {} grown ({}), {} shrunk ({}), {} changed at the same size ({})",
        f.added_count,
        signed_bytes(i64::try_from(f.added_bytes).unwrap_or(i64::MAX)),
        f.removed_count,
        signed_bytes(-i64::try_from(f.removed_bytes).unwrap_or(i64::MAX)),
        f.grown_count,
        signed_bytes(i64::try_from(f.grown_bytes).unwrap_or(i64::MAX)),
        f.shrunk_count,
        signed_bytes(-i64::try_from(f.shrunk_bytes).unwrap_or(i64::MAX)),
        f.changed_count,
        human_bytes(f.changed_bytes),
    )?;
    for (what, list) in f.lists() {
        for c in list {
            writeln!(
                o,
                "  {what:<7}  {:>10}  {}",
                file_change(c),
                for_terminal(&c.path)
            )?;
        }
    }

    let cats: Vec<_> = d
        .waste_by_category
        .iter()
        .filter(|c| c.bytes.old != 0 || c.bytes.new != 0)
        .collect();
    if !cats.is_empty() {
        writeln!(o, "\nWaste by category")?;
        for c in cats {
            writeln!(
                o,
                "  {:<20}  {:>9}  {:>9}  {}",
                category(c.category),
                human_bytes(c.bytes.old),
                human_bytes(c.bytes.new),
                signed_bytes(c.bytes.delta)
            )?;
        }
    }
    if !d.config.is_empty() {
        writeln!(o, "\nConfig (old → new)")?;
        for c in &d.config {
            writeln!(
                o,
                "  {:<12}{} → {}",
                c.field,
                for_terminal(&one_line(config_value(&c.old), 200)),
                for_terminal(&one_line(config_value(&c.new), 200))
            )?;
        }
    }
    for (title, list) in [
        ("New findings", &d.new_findings),
        ("Gone findings", &d.gone_findings),
    ] {
        if list.is_empty() {
            continue;
        }
        writeln!(o, "\n{title}")?;
        for f in list {
            writeln!(o, "  {}", for_terminal(&finding_line(f)))?;
        }
    }
    Ok(())
}

/// Package lines listed per kind of change (the counts cover all of them).
const MAX_PACKAGE_LINES: usize = 15;

fn package_counts(d: &Diff) -> String {
    let p = &d.packages;
    let sum = |l: &[crate::diff::packages::PackageChange]| l.iter().map(|c| c.bytes.delta).sum();
    format!(
        "{} added ({}), {} removed ({}), {} upgraded ({}), {} grown, {} shrunk",
        p.added.len(),
        signed_bytes(sum(&p.added)),
        p.removed.len(),
        signed_bytes(sum(&p.removed)),
        p.upgraded.len(),
        signed_bytes(sum(&p.upgraded)),
        p.grown.len(),
        p.shrunk.len()
    )
}

/// `+gcc-12 12.2.0-14 (dpkg) +125 MB in layer 2, pulled in by build-essential`, one per
/// changed package, largest first within each kind. Names come from the image: callers
/// pass each line through [`sanitize`] for their output.
fn package_lines(d: &Diff) -> Vec<String> {
    let clean = |s: &str| one_line(s, 60);
    let p = &d.packages;
    let mut out = Vec::new();
    let kinds: [(&str, &Vec<crate::diff::packages::PackageChange>); 5] = [
        ("+", &p.added),
        ("-", &p.removed),
        ("^", &p.upgraded),
        (">", &p.grown),
        ("<", &p.shrunk),
    ];
    for (mark, list) in kinds {
        for c in list.iter().take(MAX_PACKAGE_LINES) {
            let version = match (&c.old_version, &c.new_version) {
                (Some(o), Some(n)) if o != n => format!("{} → {}", clean(o), clean(n)),
                (_, Some(v)) | (Some(v), None) => clean(v),
                (None, None) => String::new(),
            };
            let mut line = format!(
                "{mark}{} {version} ({}) {} in layer {}",
                clean(&c.name),
                c.ecosystem.as_str(),
                signed_bytes(c.bytes.delta),
                c.layer
            );
            if let Some(by) = &c.pulled_in_by {
                line.push_str(&format!(", pulled in by {}", clean(by)));
            }
            out.push(line);
        }
        if list.len() > MAX_PACKAGE_LINES {
            out.push(format!("{mark}… {} more", list.len() - MAX_PACKAGE_LINES));
        }
    }
    out
}

fn category(c: crate::analysis::Category) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn severity(s: crate::analysis::Severity) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn finding_line(f: &FindingRef) -> String {
    // A secret has no size: it is a risk, not waste.
    let size = if f.category == crate::analysis::Category::Secret {
        String::new()
    } else {
        format!(" {}", human_bytes(f.bytes))
    };
    let place = if f.in_config {
        "in the image config".to_string()
    } else {
        format!("shipped by layer {}", f.layer)
    };
    format!(
        "[{}] {}{size}: {}; {place} ({})",
        severity(f.severity),
        f.rule,
        f.title,
        one_line(&f.instruction, 50)
    )
}

fn markdown(d: &Diff, o: &mut impl Write) -> fmt::Result {
    let t = &d.totals;
    writeln!(
        o,
        "### layersift: content {}, compressed {}\n",
        change(&t.content_bytes),
        change(&t.compressed_bytes)
    )?;
    writeln!(
        o,
        "{} → {}\n",
        sanitize::markdown_code(&d.old.reference),
        sanitize::markdown_code(&d.new.reference)
    )?;
    if is_identical(d) {
        return writeln!(
            o,
            "The images are identical: the same {} ({} of content), files and findings.",
            plural(d.new.layer_count, "layer", "layers"),
            human_bytes(d.totals.content_bytes.new)
        );
    }
    writeln!(o, "| | old | new | change |\n|---|---:|---:|---:|")?;
    for [name, old, new, change] in total_cells(d).into_iter().chain(size_cells(&scope_rows(d))) {
        writeln!(o, "| {name} | {old} | {new} | {change} |")?;
    }
    if let Some(line) = scope_line(d, sanitize::markdown_code) {
        writeln!(o, "\n{line}")?;
    }

    writeln!(
        o,
        "\n<details><summary>Layers: {}</summary>\n",
        layer_counts(d)
    )?;
    writeln!(
        o,
        "| | old | new | content | change | blob | change | step |\n|---|---:|---:|---:|---:|---:|---:|---|"
    )?;
    for l in &d.layers {
        writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            status_word(l.status),
            index(l.old_index),
            index(l.new_index),
            human_bytes(side_value(l, &l.content_bytes)),
            signed_bytes(l.content_bytes.delta),
            human_bytes(side_value(l, &l.compressed_bytes)),
            signed_bytes(l.compressed_bytes.delta),
            sanitize::markdown_cell_code(&step(l, 80))
        )?;
    }
    writeln!(o, "\n</details>")?;

    if !d.directories.is_empty() {
        writeln!(
            o,
            "\n<details><summary>Directories that changed most</summary>\n"
        )?;
        writeln!(
            o,
            "| directory | old | new | change |\n|---|---:|---:|---:|"
        )?;
        for dir in &d.directories {
            writeln!(
                o,
                "| {} | {} | {} | {} |",
                sanitize::markdown_cell_code(&dir.path),
                human_bytes(dir.bytes.old),
                human_bytes(dir.bytes.new),
                signed_bytes(dir.bytes.delta)
            )?;
        }
        writeln!(o, "\n</details>")?;
    }

    let packages = package_lines(d);
    if !packages.is_empty() {
        writeln!(
            o,
            "\n<details><summary>Packages: {}</summary>\n",
            package_counts(d)
        )?;
        for line in &packages {
            writeln!(o, "- {}", sanitize::markdown_text(line))?;
        }
        writeln!(o, "\n</details>")?;
    }

    let f = &d.files;
    writeln!(
        o,
        "\n<details><summary>Files: {} added, {} removed, {} grown, {} shrunk, {} changed</summary>\n",
        f.added_count, f.removed_count, f.grown_count, f.shrunk_count, f.changed_count
    )?;
    writeln!(o, "| | file | change |\n|---|---|---:|")?;
    for (what, list) in f.lists() {
        for c in list {
            writeln!(
                o,
                "| {what} | {} | {} |",
                sanitize::markdown_cell_code(&c.path),
                file_change(c)
            )?;
        }
    }
    writeln!(o, "\n</details>")?;

    if !d.config.is_empty() {
        writeln!(o, "\n**Config changes**\n")?;
        writeln!(o, "| setting | old | new |\n|---|---|---|")?;
        let cell = |v: &str| {
            if v.is_empty() {
                "(none)".to_string()
            } else {
                sanitize::markdown_cell_code(&one_line(v, 200))
            }
        };
        for c in &d.config {
            writeln!(o, "| {} | {} | {} |", c.field, cell(&c.old), cell(&c.new))?;
        }
    }
    for (title, list) in [
        ("New findings", &d.new_findings),
        ("Gone findings", &d.gone_findings),
    ] {
        if list.is_empty() {
            continue;
        }
        writeln!(o, "\n**{title}**\n")?;
        for f in list {
            writeln!(o, "- {}", sanitize::markdown_text(&finding_line(f)))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_sizes_and_counts() {
        assert_eq!(signed_bytes(0), "0 B");
        assert_eq!(signed_bytes(-1500), "-1.5 kB");
        assert_eq!(count_change(2), "+2");
    }
}
