//! The details pane: the selected tree entry, the layer and the image's totals (waste by
//! category), a layer range's sums, or the selected suggestion, finding or practice with its
//! evidence. Reads the state only, as the rest of [`super`] does.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{block, change_style, middle_ellipsis, ACCENT, ADDED, REMOVED};
use crate::analysis::one_line;
use crate::analysis::Category;
use crate::tui::app::{App, Item, Pane};
use crate::tui::tree::{permissions, printable, Change, TreeMode};
use crate::units::{human_bytes, percent};

fn kv(k: &str, v: String) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{k:<12}"), Style::new().fg(ACCENT)),
        Span::raw(v),
    ])
}

fn category_label(c: Category) -> &'static str {
    match c {
        Category::OverwrittenSame => "overwritten, same content",
        Category::OverwrittenChanged => "overwritten, changed",
        Category::Removed => "removed later",
        Category::PackageCache => "package caches",
        Category::TempLog => "temp and logs",
        Category::Duplicate => "duplicates",
        Category::Docs => "docs (optional)",
        Category::Toolchain => "toolchains (optional)",
        Category::Secret => "secrets",
        Category::Practice => "best practices",
    }
}

pub(super) fn draw_details(app: &App, f: &mut Frame, r: Rect) {
    let lines = if app.focus == Pane::Findings {
        item_details(app)
    } else {
        layer_and_image_details(app, usize::from(r.width.saturating_sub(2)))
    };
    let b = block(
        if app.focus == Pane::Findings {
            " Details: selected finding ".to_string()
        } else {
            " Details ".to_string()
        },
        app.focus == Pane::Details,
    );
    f.render_widget(
        Paragraph::new(lines)
            .block(b)
            .wrap(Wrap { trim: false })
            .scroll((app.details_scroll, 0)),
        r,
    );
}

fn layer_and_image_details(app: &App, width: usize) -> Vec<Line<'static>> {
    let an = &app.analysis;
    let mut out = Vec::new();
    if app.focus == Pane::Tree {
        if let (Some(t), Some(id)) = (app.tree.as_ref(), app.selected_node()) {
            let n = t.node(id);
            out.push(Line::styled(
                t.path(id),
                change_style(n.change).add_modifier(Modifier::BOLD),
            ));
            let origin = match n.change {
                Change::Added | Change::Modified => {
                    format!("{} in layer {}", n.change.label(), n.layer)
                }
                Change::Removed => format!("removed by layer {} (from layer {})", t.layer, n.layer),
                Change::Unchanged if n.kind.is_none() => "directory".to_string(),
                Change::Unchanged => format!("unchanged (from layer {})", n.layer),
            };
            let mut facts = format!(
                "{} {}:{} · {origin}",
                permissions(n.kind, n.mode),
                n.uid,
                n.gid,
            );
            facts.push_str(&format!(" · {}", human_bytes(n.size)));
            if n.waste > 0 {
                facts.push_str(&format!(", {} wasted", human_bytes(n.waste)));
            }
            out.push(Line::raw(facts));
            if n.kind == Some(crate::index::EntryKind::File) && n.change != Change::Removed {
                let owner = match app.package_of(&t.path(id)) {
                    Some(p) => format!(
                        "{} {} ({}, {} in {} files, installed in layer {})",
                        printable(&p.name),
                        printable(&p.version),
                        p.ecosystem.as_str(),
                        human_bytes(p.bytes),
                        p.files,
                        p.layer
                    ),
                    None if app.analysis.packages.packages.is_empty() => {
                        "none (no package database in the image)".to_string()
                    }
                    None => "none (no package manager owns it)".to_string(),
                };
                out.push(kv("Package", owner));
            }
            out.push(Line::raw(""));
        }
    }
    range_details(app, &mut out);
    if let Some(l) = an.layers.get(app.layer) {
        out.push(Line::styled(
            format!(
                "Layer {} of {} · {} · {} compressed ({}) · {}",
                app.layer,
                an.layers.len(),
                human_bytes(l.bytes.content),
                human_bytes(l.compressed_size),
                format!("{:?}", l.compression).to_lowercase(),
                crate::units::plural(l.entries, "entry", "entries")
            ),
            Style::new().add_modifier(Modifier::BOLD),
        ));
        if l.step.instruction.is_empty() {
            out.push(Line::raw("(no history)"));
        }
        for line in l.step.instruction.lines() {
            out.push(Line::raw(printable(line).into_owned()));
        }
        // With `--dockerfile`: the line that made the layer, or why none did.
        let why = an.dockerfile.as_ref().and_then(|c| {
            c.mapping
                .unmapped_reason(app.layer)
                .map(|w| format!("unmapped: {w}"))
        });
        if let Some(src) = l.step.source.clone().or(why) {
            out.push(kv("Dockerfile", printable(&src).into_owned()));
        }
        out.push(kv(
            "Hidden",
            format!(
                "{} ({} same, {} changed, {} removed)",
                human_bytes(l.bytes.hidden()),
                human_bytes(l.bytes.overwritten_same),
                human_bytes(l.bytes.overwritten_changed),
                human_bytes(l.bytes.removed)
            ),
        ));
        // Never wrapped (a wrapped digest leaves a stray character on the next line): cut
        // in the middle to fit the pane, both ends kept for recognising it.
        out.push(kv(
            "Digest",
            middle_ellipsis(&l.digest, width.saturating_sub(12).max(20)),
        ));
        out.push(Line::raw(""));
    }
    let t = &an.totals;
    out.push(Line::styled(
        "Image",
        Style::new().add_modifier(Modifier::BOLD),
    ));
    out.push(kv("Reference", printable(&an.image.reference).into_owned()));
    out.push(kv("Platform", an.image.platform.to_string()));
    out.push(kv(
        "Size",
        format!(
            "{} content, {} compressed",
            human_bytes(t.content),
            human_bytes(an.compressed_size())
        ),
    ));
    out.push(kv(
        "Efficiency",
        format!(
            "{:.1}% ({} visible)",
            an.efficiency() * 100.0,
            human_bytes(t.visible)
        ),
    ));
    out.push(kv(
        "Wasted",
        format!(
            "{} hidden ({}), {} avoidable",
            human_bytes(t.hidden()),
            percent(t.hidden(), t.content),
            human_bytes(an.avoidable_bytes())
        ),
    ));
    out.push(kv(
        "Savings",
        format!("{} possible", human_bytes(an.potential_savings())),
    ));
    if !app.analysis.categories.is_empty() {
        out.push(Span::styled("Waste by category", Style::new().fg(ACCENT)).into());
        for c in &app.analysis.categories {
            let n = c.finding_count;
            let v = if c.category == Category::Secret {
                format!("{n} found")
            } else {
                format!(
                    "{:>8}  in {}",
                    human_bytes(c.bytes),
                    crate::units::plural(n, "finding", "findings")
                )
            };
            out.push(Line::raw(format!(
                "  {:<26}{v}",
                category_label(c.category)
            )));
        }
    }
    out
}

/// A marked range (`v`) as one layer: its bytes by fate and what merging its steps saves.
fn range_details(app: &App, out: &mut Vec<Line<'static>>) {
    let (to, TreeMode::Range { from }) = app.tree_key() else {
        return;
    };
    let r = crate::tui::tree::RangeBytes::of(&app.analysis, from, to);
    out.push(Line::styled(
        format!(
            "Layers {}–{} as one layer · {} · {} compressed",
            r.from,
            r.to,
            human_bytes(r.content),
            human_bytes(r.compressed)
        ),
        Style::new().add_modifier(Modifier::BOLD).fg(ACCENT),
    ));
    out.push(kv(
        "Merged",
        format!(
            "one step would not ship {} ({}) that a later step of the range hides",
            human_bytes(r.hidden_within),
            crate::units::plural(r.files_hidden_within, "file", "files")
        ),
    ));
    out.push(kv(
        "Then",
        format!(
            "{} visible at the end, {} hidden by layers above",
            human_bytes(r.visible),
            human_bytes(r.hidden_after)
        ),
    ));
    out.push(Line::raw("v again: back to one layer"));
    out.push(Line::raw(""));
}

fn item_details(app: &App) -> Vec<Line<'static>> {
    let an = &app.analysis;
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut out = Vec::new();
    match app.items.get(app.item) {
        None => out.push(Line::raw(
            "No findings: nothing wasted that layersift knows of.",
        )),
        Some(Item::Suggestion(i)) => {
            let s = &an.suggestions[*i];
            out.push(Line::styled(printable(&s.title).into_owned(), bold));
            out.push(kv(
                "Saves",
                format!(
                    "{} ({})",
                    human_bytes(s.saves_bytes),
                    crate::units::compressed_estimate(s.saves_compressed_bytes)
                ),
            ));
            let layers: Vec<String> = s.layers.iter().map(ToString::to_string).collect();
            out.push(kv(
                "Layers",
                if layers.len() > 1 {
                    format!("{} (rewrites {})", s.layer, layers.join(", "))
                } else {
                    format!("{}", s.layer)
                },
            ));
            out.push(Span::styled("Instead of", Style::new().fg(ACCENT)).into());
            for l in s.instruction.lines() {
                out.push(Line::styled(
                    printable(l).into_owned(),
                    Style::new().fg(REMOVED),
                ));
            }
            out.push(Span::styled("Write", Style::new().fg(ACCENT)).into());
            for l in s.snippet.lines() {
                out.push(Line::styled(
                    printable(l).into_owned(),
                    Style::new().fg(ADDED),
                ));
            }
            evidence_lines(app, &mut out);
        }
        Some(Item::Finding(i)) => {
            let fd = &an.findings[*i];
            out.push(Line::styled(printable(&fd.title).into_owned(), bold));
            out.push(kv("Rule", format!("{} ({})", fd.rule, fd.severity.name())));
            out.push(kv(
                "Bytes",
                format!(
                    "{} ({}), {}",
                    human_bytes(fd.bytes),
                    crate::units::compressed_estimate(fd.compressed_bytes),
                    crate::units::plural(fd.path_count, "path", "paths")
                ),
            ));
            finding_place(an, fd, &mut out);
            if let Some(by) = fd.hidden_by {
                let step = an
                    .layers
                    .get(by)
                    .map(|l| printable(&one_line(&l.step.instruction, 200)).into_owned())
                    .unwrap_or_default();
                out.push(kv("Hidden by", format!("{by} {step}")));
            }
            if let Some(d) = &fd.detail {
                out.push(kv("Detail", printable(d).into_owned()));
            }
            evidence_lines(app, &mut out);
        }
        Some(Item::Practice(i)) => {
            let fd = &an.practices[*i];
            out.push(Line::styled(printable(&fd.title).into_owned(), bold));
            out.push(kv("Rule", format!("{} ({})", fd.rule, fd.severity.name())));
            if let Some(d) = &fd.detail {
                let fix = d.strip_prefix("fix: ").unwrap_or(d);
                out.push(kv("Fix", printable(fix).into_owned()));
            }
            if fd.path_count > 0 {
                out.push(kv(
                    "Files",
                    if fd.bytes > 0 {
                        format!(
                            "{}, {}",
                            crate::units::plural(fd.path_count, "path", "paths"),
                            human_bytes(fd.bytes)
                        )
                    } else {
                        crate::units::plural(fd.path_count, "path", "paths")
                    },
                ));
            }
            finding_place(an, fd, &mut out);
            evidence_lines(app, &mut out);
        }
    }
    out
}

/// Where a finding comes from: its layer and step (or the image config), and its
/// Dockerfile line when one is known.
fn finding_place(
    an: &crate::Analysis,
    fd: &crate::analysis::Finding,
    out: &mut Vec<Line<'static>>,
) {
    if fd.in_config {
        out.push(kv("Layer", "image config".to_string()));
    } else {
        let step = an
            .layers
            .get(fd.layer)
            .map(|l| printable(&one_line(&l.step.instruction, 200)).into_owned())
            .unwrap_or_default();
        out.push(kv("Layer", format!("{} {step}", fd.layer)));
    }
    if let Some(s) = &fd.source {
        out.push(kv("Dockerfile", printable(s).into_owned()));
    }
}

fn evidence_lines(app: &App, out: &mut Vec<Line<'static>>) {
    if app.evidence.is_empty() {
        return;
    }
    out.push(Span::styled("Evidence (Enter: next in tree)", Style::new().fg(ACCENT)).into());
    for (i, p) in app.evidence.iter().enumerate() {
        let m = if i == app.evidence_pos { "▶ " } else { "  " };
        out.push(Line::raw(format!("{m}{}", printable(p))));
    }
}
