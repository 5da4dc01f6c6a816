//! The image config pane (`c`): what the image runs and how, from its config — Entrypoint,
//! Cmd, User, WorkingDir, exposed ports, volumes, labels, Healthcheck, StopSignal, Env —
//! with its digests, platform and base image. Env values are already redacted by the model
//! (the secret rules run over the config before the analysis keeps it); every value passes
//! through the one escaping function here again, because labels and the rest are image text.
//! Drawing only: it reads the analysis and the pane's scroll offset.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::analysis::Analysis;
use crate::sanitize::for_terminal;

const KEY: Style = Style::new().fg(Color::Cyan);

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
    let labels = an
        .config
        .config()
        .as_ref()
        .and_then(|c| c.labels().clone())
        .unwrap_or_default();
    let base = match &an.base {
        Some(b) => format!(
            "{} (layers 0–{})",
            for_terminal(&b.reference),
            b.layer_count.saturating_sub(1)
        ),
        None => match (
            &an.image.base_name,
            labels.get("org.opencontainers.image.base.name"),
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

    out.push(heading("Runs"));
    let cfg = an.config.config().clone().unwrap_or_default();
    let list = |v: &Option<Vec<String>>| match v {
        Some(v) if !v.is_empty() => command(v),
        _ => none(),
    };
    out.push(field("Entrypoint", list(cfg.entrypoint())));
    out.push(field("Cmd", list(cfg.cmd())));
    out.push(field(
        "User",
        match cfg.user().as_deref() {
            Some(u) if !u.is_empty() => for_terminal(u).into_owned(),
            _ => "(none: runs as root)".to_string(),
        },
    ));
    out.push(field(
        "WorkingDir",
        cfg.working_dir()
            .as_deref()
            .filter(|w| !w.is_empty())
            .map_or_else(none, |w| for_terminal(w).into_owned()),
    ));
    // Sorted: the config holds them as JSON object keys, in no particular order.
    let joined = |v: &Option<Vec<String>>| match v {
        Some(v) if !v.is_empty() => {
            let mut v: Vec<String> = v.iter().map(|s| for_terminal(s).into_owned()).collect();
            v.sort();
            v.join(", ")
        }
        _ => none(),
    };
    out.push(field("Ports", joined(cfg.exposed_ports())));
    out.push(field("Volumes", joined(cfg.volumes())));
    out.push(field(
        "StopSignal",
        cfg.stop_signal()
            .as_deref()
            .map_or_else(none, |s| for_terminal(s).into_owned()),
    ));
    out.push(field(
        "Healthcheck",
        an.image
            .healthcheck
            .as_ref()
            .map_or_else(none, |h| for_terminal(&h.describe()).into_owned()),
    ));
    out.push(Line::raw(""));

    let env = cfg.env().clone().unwrap_or_default();
    out.push(heading(&format!("Env ({})", env.len())));
    for kv in &env {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        out.push(Line::from(vec![
            Span::styled(for_terminal(k).into_owned(), KEY),
            Span::raw("="),
            Span::raw(for_terminal(v).into_owned()),
        ]));
    }
    out.push(Line::raw(""));

    let mut labels: Vec<(String, String)> = labels.into_iter().collect();
    labels.sort();
    out.push(heading(&format!("Labels ({})", labels.len())));
    for (k, v) in &labels {
        out.push(Line::from(vec![
            Span::styled(for_terminal(k).into_owned(), KEY),
            Span::raw("="),
            Span::raw(for_terminal(v).into_owned()),
        ]));
    }
    out
}

/// Draws the pane over the screen, scrolled by `scroll` lines.
pub(crate) fn draw(an: &Analysis, scroll: u16, f: &mut Frame) {
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
        Paragraph::new(lines(an))
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
