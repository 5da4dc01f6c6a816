//! The image config pane (`c`): what the image runs and how, from its config — Entrypoint,
//! Cmd, User, WorkingDir, exposed ports, volumes, labels, Healthcheck, StopSignal, Env —
//! with its digests, platform and base image. Env values are already redacted by the model
//! (the secret rules run over the config before the analysis keeps it); every value passes
//! through the one escaping function here again, because labels and the rest are image text.
//! In compare mode (`explore OLD NEW`) it shows the new image's settings with each field
//! that differs from the old image's marked `≠` and the old value under it. The values come
//! from the model's [`RuntimeConfig`] (every string through the secret rules), so a saved
//! report shows the same. Drawing only: it reads the model and the pane's scroll offset.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::analysis::runtime::RuntimeConfig;
use crate::analysis::Analysis;
use crate::sanitize::for_terminal;

const KEY: Style = Style::new().fg(Color::Cyan);
/// A field whose value differs from the old image's (compare mode).
const CHANGED: Style = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
const WAS: Style = Style::new().fg(Color::DarkGray);

fn heading(s: &str) -> Line<'static> {
    Line::styled(s.to_string(), Style::new().add_modifier(Modifier::BOLD))
}

fn field(k: &str, v: impl Into<String>) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{k:<12}"), KEY),
        Span::raw(v.into()),
    ])
}

/// A command (exec form) as one line: each argument escaped, JSON-quoted when it holds a
/// space or a quote, so `["sh", "-c", "a b"]` reads as `sh -c "a b"`.
fn command(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            let a = for_terminal(a);
            if a.is_empty() || a.contains([' ', '"', '\'']) {
                format!("\"{}\"", a.replace('"', "\\\""))
            } else {
                a.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The pane's lines: every field, `(none)` where the image sets nothing.
pub(crate) fn lines(an: &Analysis) -> Vec<Line<'static>> {
    let runtime = an
        .image
        .runtime
        .clone()
        .unwrap_or_else(|| RuntimeConfig::of(&an.config, an.image.healthcheck.as_ref()));
    let mut out = vec![heading("Image")];
    out.push(field("Reference", for_terminal(&an.image.reference)));
    out.push(field("Platform", an.image.platform.to_string()));
    let none = || "(none)".to_string();
    out.push(field(
        "Manifest",
        an.image.manifest_digest.clone().unwrap_or_else(none),
    ));
    out.push(field(
        "Config",
        an.image.config_digest.clone().unwrap_or_else(none),
    ));
    let base = match &an.base {
        Some(b) => format!(
            "{} (layers 0–{})",
            for_terminal(&b.reference),
            b.layer_count.saturating_sub(1)
        ),
        None => match (
            &an.image.base_name,
            runtime.labels.get("org.opencontainers.image.base.name"),
        ) {
            (Some(name), _) => format!(
                "{} (named by the manifest; not readable here: give --base IMAGE)",
                for_terminal(name)
            ),
            (None, Some(name)) => format!("{} (from its label)", for_terminal(name)),
            (None, None) => "unknown (give --base IMAGE)".to_string(),
        },
    };
    out.push(field("Base", base));
    out.push(Line::raw(""));
    out.extend(runtime_lines(&runtime, None));
    out
}

/// The compare-mode pane: the new image's run settings, each field that differs from the
/// old image's marked, with the old value under it.
pub(crate) fn compare_lines(
    new_ref: &str,
    old_ref: &str,
    new: Option<&RuntimeConfig>,
    old: Option<&RuntimeConfig>,
) -> Vec<Line<'static>> {
    let mut out = vec![heading("Images")];
    out.push(field("New", for_terminal(new_ref)));
    out.push(field("Old", for_terminal(old_ref)));
    let Some(new) = new else {
        out.push(Line::raw(""));
        out.push(Line::raw(
            "The new side is a report saved before reports carried the image config: analyse the image again to see it.",
        ));
        return out;
    };
    let changed = old.map(|o| new.changed_from(o)).unwrap_or_default();
    out.push(field(
        "Changed",
        match (old, changed.is_empty()) {
            (None, _) => "unknown (the old side is a report without the image config)".to_string(),
            (Some(_), true) => "nothing: both images run the same way".to_string(),
            (Some(_), false) => changed.join(", "),
        },
    ));
    out.push(Line::raw(""));
    out.extend(runtime_lines(new, old));
    out
}

/// The run settings, Env and labels. With `old`, a field that differs is marked `≠` and
/// followed by a `was` line with the old value.
fn runtime_lines(rt: &RuntimeConfig, old: Option<&RuntimeConfig>) -> Vec<Line<'static>> {
    let none = || "(none)".to_string();
    let list = |v: &[String]| {
        if v.is_empty() {
            none()
        } else {
            command(v)
        }
    };
    let joined = |v: &[String]| {
        if v.is_empty() {
            none()
        } else {
            v.iter()
                .map(|s| for_terminal(s).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let text = |v: &Option<String>| {
        v.as_deref()
            .map_or_else(none, |s| for_terminal(s).into_owned())
    };
    let user = |v: &Option<String>| {
        v.as_deref().map_or_else(
            || "(none: runs as root)".to_string(),
            |s| for_terminal(s).into_owned(),
        )
    };
    let value = |name: &str, r: &RuntimeConfig| -> String {
        match name {
            "Entrypoint" => list(&r.entrypoint),
            "Cmd" => list(&r.cmd),
            "User" => user(&r.user),
            "WorkingDir" => text(&r.working_dir),
            "Ports" => joined(&r.exposed_ports),
            "Volumes" => joined(&r.volumes),
            "StopSignal" => text(&r.stop_signal),
            _ => text(&r.healthcheck),
        }
    };
    let mut out = vec![heading("Runs")];
    for name in [
        "Entrypoint",
        "Cmd",
        "User",
        "WorkingDir",
        "Ports",
        "Volumes",
        "StopSignal",
        "Healthcheck",
    ] {
        let now = value(name, rt);
        match old.map(|o| value(name, o)).filter(|was| *was != now) {
            Some(was) => {
                out.push(Line::from(vec![
                    Span::styled(format!("{name:<11}≠"), CHANGED),
                    Span::styled(now, CHANGED),
                ]));
                out.push(Line::from(vec![
                    Span::styled(format!("{:<12}", "  was"), WAS),
                    Span::styled(was, WAS),
                ]));
            }
            None => out.push(field(name, now)),
        }
    }
    out.push(Line::raw(""));

    let mark = |differs: bool| if differs { " ≠ changed" } else { "" };
    out.push(heading(&format!(
        "Env ({}){}",
        rt.env.len(),
        mark(old.is_some_and(|o| o.env != rt.env))
    )));
    for kv in &rt.env {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let added = old.is_some_and(|o| !o.env.contains(kv));
        out.push(Line::from(vec![
            Span::styled(
                for_terminal(k).into_owned(),
                if added { CHANGED } else { KEY },
            ),
            Span::raw("="),
            Span::raw(for_terminal(v).into_owned()),
        ]));
    }
    out.push(Line::raw(""));

    out.push(heading(&format!(
        "Labels ({}){}",
        rt.labels.len(),
        mark(old.is_some_and(|o| o.labels != rt.labels))
    )));
    for (k, v) in &rt.labels {
        let added = old.is_some_and(|o| o.labels.get(k) != Some(v));
        out.push(Line::from(vec![
            Span::styled(
                for_terminal(k).into_owned(),
                if added { CHANGED } else { KEY },
            ),
            Span::raw("="),
            Span::raw(for_terminal(v).into_owned()),
        ]));
    }
    out
}

/// Draws the pane over the screen, scrolled by `scroll` lines.
pub(crate) fn draw(an: &Analysis, scroll: u16, f: &mut Frame) {
    draw_lines(lines(an), scroll, f);
}

/// Draws `lines` as the config pane over the screen, scrolled by `scroll` lines.
pub(crate) fn draw_lines(lines: Vec<Line<'static>>, scroll: u16, f: &mut Frame) {
    let area = f.area();
    let w = area.width.saturating_sub(2).min(120);
    let h = area.height.saturating_sub(2);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .block(
                Block::new()
                    .borders(Borders::ALL)
                    .border_type(BorderType::Thick)
                    .border_style(KEY)
                    .title(Span::styled(
                        " Image config · ↑↓ scroll · c or Esc closes ",
                        Style::new().add_modifier(Modifier::BOLD),
                    )),
            )
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        r,
    );
}
