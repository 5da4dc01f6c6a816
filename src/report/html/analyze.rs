//! The analysis page: summary, one bar per layer (visible, hidden, avoidable), the treemap of
//! the final filesystem, findings and suggestions. Everything but the treemap is plain HTML.

use std::collections::HashMap;
use std::fmt::{self, Write};

use super::{escape, stacked_bar, tree};
use crate::analysis::Category;
use crate::report::json::{Layer, Report};
use crate::units::{human_bytes, percent};

/// Width of a layer's bar at the largest layer, in pixels.
const BAR_WIDTH: u32 = 320;
/// Evidence paths shown per finding before "N more".
const SHOWN_PATHS: usize = 5;

/// Writes the page for one analysed image (from its JSON report, so a saved report renders
/// too).
/// `owners` (visible file path → index into `r.packages`) names each cell's package.
pub(crate) fn write(
    r: &Report,
    owners: Option<&HashMap<String, u32>>,
    out: &mut impl Write,
) -> fmt::Result {
    let labels = package_labels(r);
    let owners = owners.map(|by_path| tree::Owners {
        by_path,
        labels: &labels,
    });
    let tree = tree::build(&r.files, None, owners.as_ref());
    let mut body = String::new();
    header(&mut body, r)?;
    summary(&mut body, r)?;
    layers(&mut body, r)?;
    treemap(&mut body, &tree)?;
    packages(&mut body, r)?;
    findings(&mut body, r)?;
    practices(&mut body, r)?;
    suggestions(&mut body, r)?;
    footer(&mut body, r)?;
    out.write_str(&super::treemap_page(
        &format!("layersift: {}", r.image.reference),
        &body,
        "report",
        &tree,
        &r.layers,
    ))
}

fn header(out: &mut String, r: &Report) -> fmt::Result {
    write!(
        out,
        "<header><h1>{}</h1><p class=\"meta\">{}{} · {} layers · layersift {}</p></header>\n<main>\n",
        escape(&r.image.reference),
        escape(&r.image.platform.to_string()),
        r.image
            .manifest_digest
            .as_deref()
            .map(|d| format!(" · <code>{}</code>", escape(d)))
            .unwrap_or_default(),
        r.layers.len(),
        escape(&r.tool.version),
    )?;
    Ok(())
}

fn summary(out: &mut String, r: &Report) -> fmt::Result {
    let s = &r.summary;
    out.push_str("<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">\n");
    let card = |out: &mut String, label: &str, value: String, note: String| {
        writeln!(
            out,
            "<div class=\"card\"><div class=\"label\">{label}</div>\
             <div class=\"value\">{value}</div><div class=\"note\">{note}</div></div>"
        )
    };
    card(
        out,
        "Content",
        human_bytes(s.content_bytes),
        format!(
            "file bytes over all {} layers · {} compressed",
            s.layer_count,
            human_bytes(s.compressed_bytes)
        ),
    )?;
    if let Some(split) = &r.base {
        let [base, own] = split.lines();
        card(
            out,
            "Own layers",
            human_bytes(split.own.content_bytes),
            format!("{} · base: {}", escape(&own), escape(&base)),
        )?;
    }
    card(
        out,
        "Efficiency",
        format!("{:.1}%", s.efficiency * 100.0),
        format!(
            "{} of the content is visible in the final filesystem",
            human_bytes(s.visible_bytes)
        ),
    )?;
    card(
        out,
        "Potential savings",
        human_bytes(s.potential_savings_bytes),
        format!(
            "{}: {} hidden + {} avoidable",
            crate::units::compressed_estimate(s.potential_savings_compressed_bytes),
            human_bytes(s.hidden_bytes),
            human_bytes(s.avoidable_bytes)
        ),
    )?;
    card(
        out,
        "Hidden",
        human_bytes(s.hidden_bytes),
        format!(
            "{} of content, shipped but not visible: {} rewritten unchanged, {} replaced, {} removed",
            percent(s.hidden_bytes, s.content_bytes),
            human_bytes(s.overwritten_same_bytes),
            human_bytes(s.overwritten_changed_bytes),
            human_bytes(s.removed_bytes)
        ),
    )?;
    card(
        out,
        "Avoidable",
        human_bytes(s.avoidable_bytes),
        "visible but not needed to run: caches, temp and log files, duplicate copies".into(),
    )?;
    card(
        out,
        "Secrets",
        s.secret_count.to_string(),
        if s.secret_count == 0 {
            "none found".into()
        } else {
            "redacted below; a deleted secret is still in the image".into()
        },
    )?;
    out.push_str("</div>\n");
    let secrets: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.category == Category::Secret)
        .collect();
    if !secrets.is_empty() {
        out.push_str("<ul class=\"secrets\">\n");
        for f in secrets {
            writeln!(
                out,
                "<li data-layer=\"{}\"><strong>{}</strong> — layer {}{}{}</li>",
                f.layer,
                escape(&f.title),
                f.layer,
                f.paths
                    .first()
                    .map(|p| format!(" · <code>{}</code>", escape(p)))
                    .unwrap_or_default(),
                f.detail
                    .as_deref()
                    .map(|d| format!(" · {}", escape(d)))
                    .unwrap_or_default(),
            )?;
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
    Ok(())
}

fn layer_parts(l: &Layer) -> Vec<(&'static str, u64, String)> {
    let hidden = l.overwritten_same_bytes + l.overwritten_changed_bytes + l.removed_bytes;
    let avoidable = l.avoidable_bytes.min(l.visible_bytes);
    let needed = l.visible_bytes - avoidable;
    vec![
        (
            "visible",
            needed,
            format!("{} visible and needed", human_bytes(needed)),
        ),
        (
            "avoidable",
            avoidable,
            format!("{} visible but avoidable", human_bytes(avoidable)),
        ),
        (
            "hidden",
            hidden,
            format!("{} hidden by later layers", human_bytes(hidden)),
        ),
    ]
}

fn layers(out: &mut String, r: &Report) -> fmt::Result {
    let scale = r.layers.iter().map(|l| l.content_bytes).max().unwrap_or(0);
    out.push_str(
        "<section id=\"layers\"><h2>Layers</h2>\
         <p class=\"hint\">Click a layer to show only its findings, suggestions and files; \
         click it again to show all.</p>\
         <p class=\"legend\"><span class=\"swatch visible\"></span>visible \
         <span class=\"swatch avoidable\"></span>avoidable \
         <span class=\"swatch hidden\"></span>hidden</p>\n\
         <table class=\"layers\"><thead><tr><th>#</th><th>bytes</th><th>content</th>\
         <th>compressed</th><th>build step</th></tr></thead><tbody>\n",
    );
    for l in &r.layers {
        writeln!(
            out,
            "<tr class=\"layer\" data-layer=\"{i}\"><td><button type=\"button\" class=\"layer-pick\" \
             data-layer-select=\"{i}\" title=\"Show only layer {i}\">{i}</button></td>\
             <td>{bar}</td><td class=\"num\">{content}</td><td class=\"num\">{compressed}</td>\
             <td><code class=\"step\">{step}</code></td></tr>",
            i = l.index,
            bar = stacked_bar(&layer_parts(l), scale, BAR_WIDTH),
            content = human_bytes(l.content_bytes),
            compressed = human_bytes(l.compressed_bytes),
            step = escape(&crate::analysis::one_line(&l.instruction, 160)),
        )?;
    }
    out.push_str("</tbody></table></section>\n");
    Ok(())
}

fn treemap(out: &mut String, t: &tree::Cell) -> fmt::Result {
    // Without script: the largest top-level directories as a table.
    let mut fallback = String::from(
        "<p>The treemap needs JavaScript. Largest directories:</p>\
         <table><thead><tr><th>path</th><th>bytes</th></tr></thead><tbody>",
    );
    for c in t.children.iter().filter(|c| c.dir).take(15) {
        write!(
            fallback,
            "<tr><td><code>/{}</code></td><td class=\"num\">{}</td></tr>",
            escape(c.name.as_deref().unwrap_or("")),
            human_bytes(c.bytes)
        )?;
    }
    fallback.push_str("</tbody></table>");
    out.push_str(&super::treemap_section(
        "Where the bytes are",
        &[("layer", "layer"), ("waste", "waste category")],
        "Treemap of the final filesystem by directory",
        &fallback,
    ));
    Ok(())
}
/// Packages shown in the "Largest packages" table.
const SHOWN_PACKAGES: usize = 15;

/// `curl 7.88.1 (dpkg)` for each package of the report, in its order.
fn package_labels(r: &Report) -> Vec<String> {
    r.packages
        .iter()
        .map(|p| {
            super::plain(&format!(
                "{} {} ({})",
                p.name,
                p.version,
                p.ecosystem.as_str()
            ))
        })
        .collect()
}

fn packages(out: &mut String, r: &Report) -> fmt::Result {
    if r.packages.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "<section id=\"packages\"><h2>Largest packages <span class=\"count\">{}</span></h2>\
         <table class=\"packages\"><thead><tr><th>package</th><th>version</th><th>ecosystem</th>\
         <th>bytes</th><th>files</th><th>layer</th></tr></thead><tbody>",
        r.packages.len()
    )?;
    let mut by_size: Vec<_> = r.packages.iter().collect();
    by_size.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.name.cmp(&b.name)));
    for p in by_size.iter().take(SHOWN_PACKAGES) {
        writeln!(
            out,
            "<tr data-layer=\"{layer}\"><td><code>{}</code></td><td>{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{layer}</td></tr>",
            escape(&p.name),
            escape(&p.version),
            p.ecosystem.as_str(),
            human_bytes(p.bytes),
            p.files,
            layer = p.layer,
        )?;
    }
    if r.packages.len() > SHOWN_PACKAGES {
        writeln!(
            out,
            "<tr><td colspan=\"6\" class=\"rule\">and {} smaller packages (see the JSON report)</td></tr>",
            r.packages.len() - SHOWN_PACKAGES
        )?;
    }
    writeln!(
        out,
        "</tbody></table><p class=\"note\">Files no package manager knows about: {} \
         in {} files.</p></section>",
        human_bytes(r.package_summary.unowned_bytes),
        r.package_summary.unowned_files
    )
}

pub(crate) fn category_name(c: Category) -> &'static str {
    match c {
        Category::OverwrittenSame => "rewritten unchanged",
        Category::OverwrittenChanged => "replaced",
        Category::Removed => "removed",
        Category::PackageCache => "package cache",
        Category::TempLog => "temp/log",
        Category::Duplicate => "duplicate",
        Category::Docs => "docs",
        Category::Toolchain => "toolchain",
        Category::Secret => "secret",
        Category::Practice => "best practice",
    }
}

fn findings(out: &mut String, r: &Report) -> fmt::Result {
    writeln!(
        out,
        "<section id=\"findings\"><h2>Findings <span class=\"count\">{}</span></h2>\
         <p class=\"filter-note\" id=\"filter-note\" hidden></p>",
        r.findings.len()
    )?;
    if r.findings.is_empty() {
        out.push_str("<p>Nothing found.</p></section>\n");
        return Ok(());
    }
    out.push_str(
        "<table class=\"findings\"><thead><tr><th>severity</th><th>what</th><th>bytes</th>\
         <th>layer</th></tr></thead><tbody>\n",
    );
    for f in &r.findings {
        let hidden_by = f
            .hidden_by
            .map(|h| format!(", hidden by layer {h}"))
            .unwrap_or_default();
        writeln!(
            out,
            "<tr class=\"finding sev-{sev}\" data-layer=\"{layer}\"><td><span class=\"sev\">{sev}</span></td>\
             <td>{what}</td>\
             <td class=\"num\">{bytes}</td><td class=\"num\">{layer}{hidden_by}</td></tr>",
            sev = f.severity.name(),
            layer = f.layer,
            what = finding_cell(f)?,
            bytes = if f.bytes > 0 {
                human_bytes(f.bytes)
            } else {
                "—".into()
            },
        )?;
    }
    out.push_str("</tbody></table></section>\n");
    Ok(())
}

/// A finding's "what" cell: title, rule and category, the Dockerfile line when known, the
/// detail (for a best practice, its fix) and the first evidence paths.
fn finding_cell(f: &crate::analysis::Finding) -> Result<String, fmt::Error> {
    let mut cell = String::new();
    write!(
        cell,
        "<div class=\"title\">{}</div><div class=\"rule\">{} · {}{}</div>",
        escape(&f.title),
        escape(&f.rule),
        category_name(f.category),
        f.source
            .as_deref()
            .map(|s| format!(" · <code class=\"source\">{}</code>", escape(s)))
            .unwrap_or_default(),
    )?;
    if let Some(d) = &f.detail {
        write!(cell, "<div class=\"detail\">{}</div>", escape(d))?;
    }
    if !f.paths.is_empty() {
        cell.push_str("<ul class=\"paths\">");
        for p in f.paths.iter().take(SHOWN_PATHS) {
            write!(cell, "<li><code>{}</code></li>", escape(p))?;
        }
        if f.path_count > SHOWN_PATHS {
            write!(
                cell,
                "<li class=\"more\">and {} more</li>",
                f.path_count - SHOWN_PATHS
            )?;
        }
        cell.push_str("</ul>");
    }
    Ok(cell)
}

/// The best practices the image breaks: severity, what, its fix and the Dockerfile line.
/// One that a layer's files show follows the layer filter; one about the image config
/// (root user, health check, `CMD` form) belongs to no layer and always shows.
fn practices(out: &mut String, r: &Report) -> fmt::Result {
    writeln!(
        out,
        "<section id=\"practices\"><h2>Best practices <span class=\"count\">{}</span></h2>",
        r.practices.len()
    )?;
    if r.practices.is_empty() {
        out.push_str("<p>None broken that layersift checks.</p></section>\n");
        return Ok(());
    }
    out.push_str(
        "<table class=\"findings practices\"><thead><tr><th>severity</th><th>what and fix</th>\
         <th>layer</th></tr></thead><tbody>\n",
    );
    for f in &r.practices {
        let (attr, layer) = if f.in_config {
            (String::new(), "config".to_string())
        } else {
            (format!(" data-layer=\"{}\"", f.layer), f.layer.to_string())
        };
        writeln!(
            out,
            "<tr class=\"practice sev-{sev}\"{attr}><td><span class=\"sev\">{sev}</span></td>\
             <td>{what}</td><td class=\"num\">{layer}</td></tr>",
            sev = f.severity.name(),
            what = finding_cell(f)?,
        )?;
    }
    out.push_str("</tbody></table></section>\n");
    Ok(())
}

fn suggestions(out: &mut String, r: &Report) -> fmt::Result {
    writeln!(
        out,
        "<section id=\"suggestions\"><h2>Suggestions <span class=\"count\">{}</span></h2>",
        r.suggestions.len()
    )?;
    if r.suggestions.is_empty() {
        out.push_str("<p>No rewrite to suggest.</p></section>\n");
        return Ok(());
    }
    for (n, s) in r.suggestions.iter().enumerate() {
        let layers: Vec<String> = s.layers.iter().map(usize::to_string).collect();
        write!(
            out,
            "<article class=\"suggestion\" data-layers=\"{layers}\"><h3>{title}</h3>\
             <p class=\"saves\">Saves {saves} ({compressed}) · layer{plural} {list}</p>\
             <p>Instead of <code class=\"step\">{instruction}</code>, write:</p>\
             <div class=\"snippet\"><button type=\"button\" class=\"copy\" data-copy=\"snippet-{n}\" hidden>Copy</button>\
             <pre id=\"snippet-{n}\"><code>{snippet}</code></pre></div>",
            layers = layers.join(" "),
            title = escape(&s.title),
            saves = human_bytes(s.saves_bytes),
            compressed = crate::units::compressed_estimate(s.saves_compressed_bytes),
            plural = if s.layers.len() == 1 { "" } else { "s" },
            list = layers.join(", "),
            instruction = escape(&crate::analysis::one_line(&s.instruction, 200)),
            snippet = super::escape_lines(&s.snippet),
        )?;
        if !s.evidence.is_empty() {
            out.push_str("<details><summary>Evidence</summary><ul class=\"paths\">");
            for p in s.evidence.iter().take(20) {
                write!(out, "<li><code>{}</code></li>", escape(p))?;
            }
            out.push_str("</ul></details>");
        }
        out.push_str("</article>\n");
    }
    out.push_str("</section>\n");
    Ok(())
}

fn footer(out: &mut String, r: &Report) -> fmt::Result {
    write!(
        out,
        "</main>\n<footer>Sizes are regular-file content bytes (decimal units); each byte is \
         counted once. Generated by layersift {} · JSON report schema {}.</footer>\n",
        escape(&r.tool.version),
        r.schema_version
    )?;
    Ok(())
}
