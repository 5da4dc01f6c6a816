//! Drawing: turns the TUI state into widgets. Every function here reads state (`&App`,
//! `&Loading`) and never changes it; pane geometry comes from `layout.rs`, which the state
//! also reads for mouse handling, so clicks agree with what is drawn. Only the tree rows
//! inside the visible window are formatted, whatever the size of the layer. The details pane
//! is [`details`].

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Gauge, Paragraph, Wrap};
use ratatui::Frame;

mod details;

use super::app::{App, Item, Loading, Pane, KEYS};
use super::tree::{permissions, printable, Change, Mark, SortOrder, TreeMode};
use crate::analysis::one_line;
use crate::analysis::{Category, Severity};
use crate::units::human_bytes;

const ADDED: Color = Color::Green;
const MODIFIED: Color = Color::Yellow;
const REMOVED: Color = Color::Red;
const WASTE: Color = Color::Magenta;
const ACCENT: Color = Color::Cyan;

pub(crate) fn change_style(c: Change) -> Style {
    match c {
        Change::Added => Style::new().fg(ADDED),
        Change::Modified => Style::new().fg(MODIFIED),
        Change::Removed => Style::new().fg(REMOVED),
        Change::Unchanged => Style::new(),
    }
}

fn block(title: String, focused: bool) -> Block<'static> {
    let b = Block::new().borders(Borders::ALL).title(Span::styled(
        title,
        Style::new().add_modifier(Modifier::BOLD),
    ));
    if focused {
        b.border_type(BorderType::Thick)
            .border_style(Style::new().fg(ACCENT))
    } else {
        b.border_style(Style::new().fg(Color::DarkGray))
    }
}

/// Cuts a string to `w` characters (with an ellipsis when cut).
fn fit(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        s.to_string()
    } else if w == 0 {
        String::new()
    } else {
        let mut c: String = s.chars().take(w - 1).collect();
        c.push('…');
        c
    }
}

/// Cuts a string to `w` characters by replacing its middle with `…`, keeping more of the
/// end than of the start (where names differ: `deb.debian.org_…_main_Packages`).
pub(crate) fn middle_ellipsis(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w {
        return s.to_string();
    }
    if w <= 1 {
        return "…".chars().take(w).collect();
    }
    let keep = w - 1;
    let head = keep * 2 / 5;
    let tail = keep - head;
    let mut out: String = s.chars().take(head).collect();
    out.push('…');
    out.extend(s.chars().skip(n - tail));
    out
}

/// With `NO_COLOR` set (to anything but the empty string), drops every colour from the
/// frame and keeps bold, reverse and underline, so selection and emphasis stay visible.
pub(crate) fn honour_no_color(f: &mut Frame) {
    static NO_COLOR: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *NO_COLOR.get_or_init(|| std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())) {
        strip_colors(f.buffer_mut());
    }
}

/// Resets the foreground and background colour of every cell.
pub fn strip_colors(buf: &mut ratatui::buffer::Buffer) {
    for cell in &mut buf.content {
        cell.set_fg(Color::Reset);
        cell.set_bg(Color::Reset);
    }
}

impl App {
    /// Draws the screen (reads the state only).
    pub fn draw(&self, f: &mut Frame) {
        draw(self, f);
    }
}

/// Draws the whole screen.
pub(crate) fn draw(app: &App, f: &mut Frame) {
    let a = app.areas();
    draw_layers(app, f, a.layers);
    draw_tree(app, f, a.tree);
    details::draw_details(app, f, a.details);
    draw_findings(app, f, a.findings);
    draw_status(app, f, a.status);
    if app.config_pane {
        super::image_config::draw(&app.analysis, app.config_scroll, f);
    }
    if app.help {
        draw_help(app, f);
    }
    app.content.draw(f, f.area());
    app.theme.apply(f.buffer_mut());
}

fn draw_layers(app: &App, f: &mut Frame, r: Rect) {
    let an = &app.analysis;
    let mode = match app.tree_key().1 {
        TreeMode::Layer => "layer changes",
        TreeMode::Aggregated => "aggregated",
        TreeMode::Range { .. } => "range as one layer",
    };
    let base_layers = an.base.as_ref().map_or(0, |b| b.layer_count);
    let count = if base_layers > 0 {
        format!(
            "{}: {base_layers} base, {} own",
            an.layers.len(),
            an.layers.len().saturating_sub(base_layers)
        )
    } else {
        an.layers.len().to_string()
    };
    let b = block(
        format!(" Layers ({count}) · tree: {mode} "),
        app.focus == Pane::Layers,
    );
    let inner = b.inner(r);
    f.render_widget(b, r);
    let w = usize::from(inner.width);
    let mut lines = vec![Line::styled(
        fit(
            &format!(
                "{:>3} {:>8} {:>8} {:>8}  Command",
                "#", "Size", "Comp.", "Waste"
            ),
            w,
        ),
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
    )];
    let h = usize::from(inner.height.saturating_sub(1));
    for (i, l) in an.layers.iter().enumerate().skip(app.layer_offset).take(h) {
        let cmd = if l.step.instruction.is_empty() {
            "(no history)".to_string()
        } else {
            printable(&one_line(&l.step.instruction, 400)).into_owned()
        };
        let waste = l.waste();
        let in_view = match app.tree_key() {
            (to, TreeMode::Range { from }) => i >= from && i <= to && i != app.layer,
            (_, mode) => mode == TreeMode::Aggregated && i < app.layer,
        };
        let marker = if i == app.layer {
            '▶'
        } else if in_view {
            '│'
        } else {
            ' '
        };
        let text = format!(
            "{marker}{:>2} {:>8} {:>8} {:>8}  {cmd}",
            i,
            human_bytes(l.bytes.content),
            human_bytes(l.compressed_size),
            human_bytes(waste),
        );
        let mut style = Style::new();
        if waste > 0 && waste * 10 >= l.bytes.content.max(1) {
            style = style.fg(WASTE);
        }
        if i < base_layers {
            // The base image's layers: not the user's to change.
            style = style.add_modifier(Modifier::DIM);
        }
        if i == app.layer {
            style = selected(style, app.focus == Pane::Layers);
        }
        lines.push(Line::styled(fit(&text, w), style));
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn selected(style: Style, focused: bool) -> Style {
    if focused {
        style.add_modifier(Modifier::REVERSED)
    } else {
        style.add_modifier(Modifier::BOLD).bg(Color::DarkGray)
    }
}

fn draw_tree(app: &App, f: &mut Frame, r: Rect) {
    let mut title = match app.tree_key() {
        (_, TreeMode::Layer) => format!(" Layer {} changes ", app.layer),
        (_, TreeMode::Aggregated) => format!(" Aggregated up to layer {} ", app.layer),
        (to, TreeMode::Range { from }) => format!(" Layers {from}–{to} as one layer "),
    };
    let hidden: Vec<&str> = Change::ALL
        .iter()
        .filter(|c| !app.view.shows(**c))
        .map(|c| c.label())
        .collect();
    if !hidden.is_empty() {
        title.push_str(&format!("· hiding {} ", hidden.join(", ")));
    }
    if app.view.waste_only {
        title.push_str("· waste only ");
    }
    if let Some((name, _)) = &app.view.package {
        title.push_str(&format!("· package {} ", printable(name)));
    }
    if app.sort == SortOrder::Size {
        title.push_str("· by size ");
    }
    if !app.filter_text.is_empty() {
        title.push_str(&format!("· filter: {} ", app.filter_text));
    }
    let mut b = block(title, app.focus == Pane::Tree);
    if let Some(t) = app.tree.as_ref() {
        let n = t.rows().len();
        b = b.title_bottom(
            Line::from(format!(" {}/{n} ", (app.tree_cursor + 1).min(n))).right_aligned(),
        );
    }
    let inner = b.inner(r);
    f.render_widget(b, r);
    let Some(t) = app.tree.as_ref() else {
        let msg = if app.analysis.layers.is_empty() {
            "this image has no layers"
        } else {
            "building the tree…"
        };
        f.render_widget(Paragraph::new(msg), inner);
        return;
    };
    if app.tree_stale() {
        let note = Line::styled("updating…", Style::new().fg(Color::DarkGray));
        let r = Rect::new(
            inner.right().saturating_sub(10),
            r.y,
            10.min(inner.width),
            1,
        );
        f.render_widget(Paragraph::new(note), r);
    }
    let w = usize::from(inner.width);
    let attrs = app.show_attributes && w >= 60;
    let rows = t.rows();
    if rows.is_empty() {
        f.render_widget(
            Paragraph::new("nothing to show (check the filters: Ctrl+A/R/M/U, Ctrl+F, w)"),
            inner,
        );
        return;
    }
    let header = if attrs {
        format!(
            "  {:<10} {:>9} {:>8} Filetree",
            "Permission", "UID:GID", "Size"
        )
    } else {
        format!("  {:>8} Filetree", "Size")
    };
    let h = usize::from(inner.height.saturating_sub(1));
    let end = (app.tree_offset + h).min(rows.len());
    let mut lines = Vec::with_capacity(h + 1);
    lines.push(Line::styled(
        fit(&header, w),
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
    ));
    for (pos, &id) in rows.iter().enumerate().take(end).skip(app.tree_offset) {
        let n = t.node(id);
        let mark = match n.mark {
            Mark::None => Span::raw(" "),
            Mark::Waste => Span::styled("W", Style::new().fg(WASTE).add_modifier(Modifier::BOLD)),
            Mark::Secret => Span::styled(
                "!",
                Style::new()
                    .fg(Color::LightRed)
                    .add_modifier(Modifier::BOLD),
            ),
        };
        let mut spans = vec![mark, Span::raw(" ")];
        if attrs {
            spans.push(Span::styled(
                format!(
                    "{} {:>9} ",
                    permissions(n.kind, n.mode),
                    format!("{}:{}", n.uid, n.gid)
                ),
                Style::new().fg(Color::DarkGray),
            ));
        }
        spans.push(Span::raw(format!("{:>8} ", human_bytes(n.size))));
        let guides = t.guides_with(id, w < 60);
        let used: usize = spans
            .iter()
            .map(|s| s.content.chars().count())
            .sum::<usize>()
            + guides.chars().count();
        spans.push(Span::styled(guides, Style::new().fg(Color::DarkGray)));
        let mut name_style = change_style(n.change);
        if n.mark != Mark::None {
            name_style = name_style.add_modifier(Modifier::UNDERLINED);
        }
        if n.is_dir() {
            name_style = name_style.add_modifier(Modifier::BOLD);
        }
        let mut name = n.name.to_string();
        if !n.link.is_empty() {
            name.push_str(" → ");
            name.push_str(&n.link);
        }
        // Cut in the middle: the end of a name (`…_Packages`, `.so.6`) tells rows apart.
        spans.push(Span::styled(
            middle_ellipsis(&name, w.saturating_sub(used)),
            name_style,
        ));
        let mut line = Line::from(spans);
        if pos == app.tree_cursor {
            line = line.style(selected(Style::new(), app.focus == Pane::Tree));
        }
        lines.push(line);
    }
    f.render_widget(Paragraph::new(lines), inner);
}

/// The findings pane's title: what it lists and how many, shortened to fit `width`.
fn findings_title(an: &crate::Analysis, width: usize) -> String {
    let (s, f, p) = (an.suggestions.len(), an.findings.len(), an.practices.len());
    if p == 0 {
        return format!(" Suggestions {s} · Findings {f} ");
    }
    let full = format!(" Suggestions {s} · Findings {f} · Practices {p} ");
    if full.chars().count() <= width {
        full
    } else {
        format!(" Sugg. {s} · Find. {f} · Pract. {p} ")
    }
}

fn draw_findings(app: &App, f: &mut Frame, r: Rect) {
    let an = &app.analysis;
    let b = block(
        findings_title(an, usize::from(r.width.saturating_sub(2))),
        app.focus == Pane::Findings,
    );
    let inner = b.inner(r);
    f.render_widget(b, r);
    let w = usize::from(inner.width);
    if app.items.is_empty() {
        f.render_widget(Paragraph::new("No findings"), inner);
        return;
    }
    let h = usize::from(inner.height);
    let mut lines = Vec::with_capacity(h);
    for (pos, it) in app.items.iter().enumerate().skip(app.item_offset).take(h) {
        let (text, style) = match *it {
            Item::Suggestion(i) => {
                let s = &an.suggestions[i];
                (
                    format!(
                        "★ {:>8}  {}",
                        human_bytes(s.saves_bytes),
                        printable(&s.title)
                    ),
                    Style::new().fg(ADDED),
                )
            }
            Item::Finding(i) => {
                let fd = &an.findings[i];
                let style = match (fd.category, fd.severity) {
                    (Category::Secret, _) | (_, Severity::High) => Style::new().fg(Color::LightRed),
                    (_, Severity::Medium) => Style::new().fg(MODIFIED),
                    _ => Style::new(),
                };
                let size = if fd.category == Category::Secret {
                    "secret".to_string()
                } else {
                    human_bytes(fd.bytes)
                };
                (
                    format!("· {size:>8}  L{} {}", fd.layer, printable(&fd.title)),
                    style,
                )
            }
            Item::Practice(i) => {
                let fd = &an.practices[i];
                let style = match fd.severity {
                    Severity::High => Style::new().fg(Color::LightRed),
                    Severity::Medium => Style::new().fg(MODIFIED),
                    _ => Style::new(),
                };
                let place = fd.source.clone().unwrap_or_else(|| {
                    if fd.in_config {
                        "config".into()
                    } else {
                        format!("L{}", fd.layer)
                    }
                });
                (
                    format!(
                        "! {:>8}  {} {}",
                        fd.severity.name(),
                        printable(&place),
                        printable(&fd.title)
                    ),
                    style,
                )
            }
        };
        let mut style = style;
        if pos == app.item {
            style = selected(style, app.focus == Pane::Findings);
        }
        lines.push(Line::styled(fit(&text, w), style));
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn draw_status(app: &App, f: &mut Frame, r: Rect) {
    let key = Style::new().fg(Color::Black).bg(ACCENT);
    let line = if app.filter_editing {
        let mut spans = vec![
            Span::styled(" Path filter (regex) ", key),
            Span::raw(" "),
            Span::raw(app.filter_text.clone()),
            Span::styled("█", Style::new().fg(ACCENT)),
            Span::raw("  Enter keep · Esc clear"),
        ];
        if let Some(e) = &app.filter_error {
            spans.push(Span::styled(format!("  {e}"), Style::new().fg(REMOVED)));
        }
        Line::from(spans)
    } else if app.search.editing {
        let mut spans = vec![
            Span::styled(" Search (text or regex) ", key),
            Span::raw(" "),
            Span::raw(printable(&app.search.text).into_owned()),
            Span::styled("█", Style::new().fg(ACCENT)),
        ];
        spans.push(Span::raw(match app.search.at {
            Some((i, n)) => format!("  {i}/{n}"),
            None if app.search.text.is_empty() => String::new(),
            None => "  no match".to_string(),
        }));
        spans.push(Span::raw("  Enter keep · Esc back"));
        Line::from(spans)
    } else {
        let pairs: &[(&str, &str)] = match app.focus {
            Pane::Layers => &[
                ("^L", "layer"),
                ("^A", "aggregated"),
                ("^F", "filter"),
                ("c", "config"),
                ("Tab", "pane"),
                ("?", "help"),
                ("q", "quit"),
            ],
            Pane::Tree => &[
                ("Space", "fold"),
                ("^Space", "all"),
                ("^A/R/M/U", "kinds"),
                ("^O", "sort"),
                ("w", "waste"),
                ("/", "search"),
                ("^F", "filter"),
                ("?", "help"),
            ],
            Pane::Findings => &[
                ("↑↓", "select"),
                ("Enter", "next evidence"),
                ("Tab", "pane"),
                ("?", "help"),
                ("q", "quit"),
            ],
            Pane::Details => &[
                ("↑↓", "scroll"),
                ("Tab", "pane"),
                ("?", "help"),
                ("q", "quit"),
            ],
        };
        let mut spans = Vec::new();
        // The selected entry's full path first (the tree cuts long names), then where a
        // search stands.
        if app.focus == Pane::Tree {
            if let (Some(t), Some(id)) = (app.tree.as_ref(), app.selected_node()) {
                spans.push(Span::styled(
                    format!(" {} ", printable(&t.path(id))),
                    Style::new().add_modifier(Modifier::BOLD),
                ));
            }
            if let Some((i, n)) = app.search.at {
                spans.push(Span::styled(
                    format!(" /{} {i}/{n} ", printable(&app.search.text)),
                    Style::new().fg(ACCENT),
                ));
            }
        }
        for (k, v) in pairs {
            spans.push(Span::styled(format!(" {} ", hint_key(app, k)), key));
            spans.push(Span::raw(format!(" {v} ")));
        }
        Line::from(spans)
    };
    f.render_widget(Paragraph::new(line), r);
}

/// A status-bar key as the user's config binds it (its first alternative), else as shown.
fn hint_key(app: &App, shown: &str) -> String {
    use super::keymap::Action;
    let action = match shown {
        "^L" => Action::CompareLayer,
        "^A" => Action::CompareAll,
        "^F" => Action::FilterFiles,
        "^O" => Action::ToggleSortOrder,
        "^Space" => Action::ToggleCollapseAllDir,
        "Space" => Action::ToggleCollapseDir,
        "Tab" => Action::ToggleView,
        "c" => Action::ImageConfig,
        "w" => Action::WasteView,
        "/" => Action::Search,
        "?" => Action::Help,
        "q" => Action::Quit,
        _ => return shown.to_string(),
    };
    match app.keys.remapped.iter().find(|(a, _)| *a == action) {
        Some((_, keys)) => printable(keys.split(',').next().unwrap_or(keys).trim()).into_owned(),
        None => shown.to_string(),
    }
}

/// Lines the help spends on a config's remapped keys.
fn remapped_lines(app: &App) -> usize {
    match app.keys.remapped.len() {
        0 => 0,
        n => n + 2,
    }
}

fn draw_help(app: &App, f: &mut Frame) {
    let area = f.area();
    let w = area.width.saturating_sub(2).min(90);
    let h = area
        .height
        .saturating_sub(2)
        .min(u16::try_from(KEYS.len() + 3 + remapped_lines(app)).unwrap_or(30));
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    let mut lines = vec![Line::styled(
        "Changes: added  modified  removed  unchanged   W wasted   ! secret",
        Style::new(),
    )];
    lines[0] = Line::from(vec![
        Span::raw("Colours: "),
        Span::styled("added ", change_style(Change::Added)),
        Span::styled("modified ", change_style(Change::Modified)),
        Span::styled("removed ", change_style(Change::Removed)),
        Span::raw("unchanged  "),
        Span::styled("W", Style::new().fg(WASTE)),
        Span::raw(" wasted  "),
        Span::styled("!", Style::new().fg(Color::LightRed)),
        Span::raw(" secret"),
    ]);
    if !app.keys.remapped.is_empty() {
        lines.push(Line::styled(
            "From your config (these replace the defaults below):",
            Style::new().add_modifier(Modifier::BOLD),
        ));
        for (a, keys) in &app.keys.remapped {
            lines.push(Line::from(vec![
                Span::styled(format!("{:<9}", "config"), Style::new().fg(Color::DarkGray)),
                Span::styled(format!("{:<15} ", printable(keys)), Style::new().fg(ACCENT)),
                Span::raw(format!("{} ({})", a.what(), a.name())),
            ]));
        }
        lines.push(Line::raw(""));
    }
    for (pane, keys, what) in KEYS {
        lines.push(Line::from(vec![
            Span::styled(format!("{pane:<9}"), Style::new().fg(Color::DarkGray)),
            Span::styled(format!("{keys:<16}"), Style::new().fg(ACCENT)),
            Span::raw(what.to_string()),
        ]));
    }
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .block(block(
                " Keys · ↑↓ scroll · ? or Esc closes ".to_string(),
                true,
            ))
            .wrap(Wrap { trim: false })
            .scroll((app.help_scroll, 0)),
        r,
    );
}

/// Draws decode progress while the analysis runs.
pub fn draw_loading(l: &Loading, f: &mut Frame) {
    let area = f.area();
    let b = block(format!(" layersift · {} ", l.reference), true);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let done = l.layers.iter().filter(|x| x.2).count();
    let head = if l.layers.is_empty() {
        "opening the image…".to_string()
    } else {
        format!(
            "decoding layers: {done} done, {} in progress  (q to quit)",
            l.layers.len() - done
        )
    };
    let mut y = inner.y;
    f.render_widget(Paragraph::new(head), Rect::new(inner.x, y, inner.width, 1));
    y += 2;
    for (i, (read, total, finished)) in l.layers.iter().enumerate() {
        if y >= inner.bottom() {
            break;
        }
        let ratio = if *finished {
            1.0
        } else if *total == 0 {
            0.0
        } else {
            (*read as f64 / *total as f64).clamp(0.0, 1.0)
        };
        let label = format!(
            "layer {i}: {} / {}{}",
            human_bytes(*read),
            human_bytes(*total),
            if *finished { "  done" } else { "" }
        );
        f.render_widget(
            Gauge::default()
                .gauge_style(Style::new().fg(if *finished { ADDED } else { ACCENT }))
                .ratio(ratio)
                .label(label),
            Rect::new(inner.x, y, inner.width, 1),
        );
        y += 1;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn middle_ellipsis_keeps_both_ends() {
        use super::middle_ellipsis;
        assert_eq!(middle_ellipsis("short", 10), "short");
        let name = "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages";
        let cut = middle_ellipsis(name, 30);
        assert_eq!(cut.chars().count(), 30);
        assert!(
            cut.starts_with("deb.debian.") && cut.ends_with("amd64_Packages"),
            "{cut}"
        );
        assert_eq!(middle_ellipsis("abcdef", 1), "…");
    }
}
