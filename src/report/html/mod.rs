//! HTML pages: one self-contained file per report (analysis, diff, trend) that opens
//! anywhere, offline. CSS, script and data are inline; the page declares a strict
//! Content-Security-Policy that allows only its own inline style and script (by hash), so it
//! makes no network request. Summary, layers and findings are plain HTML and read without
//! JavaScript; only the treemap and the trend chart need script. The diff and trend pages
//! live beside their models (`diff::html`, `trend::html`) and use the shell and treemap here.

mod analyze;
pub(crate) mod tree;

use std::fmt::Write as _;

use base64::Engine as _;
use sha2::{Digest, Sha256};

pub(crate) use analyze::{category_name, write as write_report};

const CSS: &str = include_str!("assets/report.css");
const TREEMAP_JS: &str = include_str!("assets/treemap.js");
pub(crate) const TREND_JS: &str = include_str!("assets/trend.js");

/// Text an image controls, for HTML: secrets redacted, controls escaped, markup escaped.
pub(crate) use crate::sanitize::html as escape;
/// As [`escape`], keeping newlines (snippets in `<pre>` blocks).
pub(crate) use crate::sanitize::html_lines as escape_lines;

/// Text an image controls, for the page's data block (shown by script as text): secrets
/// redacted and control characters escaped, as on a terminal.
pub(crate) fn plain(s: &str) -> String {
    crate::sanitize::for_terminal(s).into_owned()
}

/// Serialises `value` as JSON safe to put inside a `<script type="application/json">`
/// element: nothing in it can close the element or start a comment.
pub(crate) fn script_json<T: serde::Serialize>(value: &T) -> String {
    let json = serde_json::to_string(value).unwrap_or_else(|_| "null".to_string());
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// `'sha256-…'` of an inline style or script, for the Content-Security-Policy.
fn csp_hash(source: &str) -> String {
    let digest = Sha256::digest(source.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The whole page: head with the policy and the style, `body`, then the data block and the
/// script (when there is one).
pub(crate) fn page(title: &str, body: &str, data: Option<&str>, script: Option<&str>) -> String {
    let script_src = script.map_or_else(|| "'none'".to_string(), csp_hash);
    let policy = format!(
        "default-src 'none'; style-src {}; script-src {script_src}; img-src data:; \
         base-uri 'none'; form-action 'none'",
        csp_hash(CSS)
    );
    let mut out = String::with_capacity(body.len() + data.map_or(0, str::len) + 40_000);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"layersift {}\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}",
        env!("CARGO_PKG_VERSION"),
        escape(title),
    );
    if let Some(data) = data {
        let _ = writeln!(
            out,
            "<script type=\"application/json\" id=\"layersift-data\">{data}</script>"
        );
    }
    if let Some(script) = script {
        let _ = writeln!(out, "<script>{script}</script>");
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// The treemap's section: a heading, the colour radios (value, label; the first is checked),
/// the map, its legend, and what shows in its place without script.
pub(crate) fn treemap_section(
    heading: &str,
    colours: &[(&str, &str)],
    aria: &str,
    noscript: &str,
) -> String {
    let mut radios = String::new();
    for (i, (value, label)) in colours.iter().enumerate() {
        let checked = if i == 0 { " checked" } else { "" };
        let _ = write!(
            radios,
            "<label><input type=\"radio\" name=\"colour\" value=\"{value}\"{checked}> {label}</label> "
        );
    }
    format!(
        "<section id=\"files\"><h2>{heading}</h2><div class=\"controls\" hidden>Colour by \
         {radios}<span class=\"crumbs\" id=\"crumbs\"></span></div>\
         <div id=\"treemap\" class=\"treemap\" role=\"img\" aria-label=\"{aria}\"></div>\
         <div id=\"treemap-legend\" class=\"legend\"></div>\n<noscript>{noscript}</noscript></section>\n"
    )
}

/// A page whose script draws `tree` (`kind` is `report` or `diff`): the data block holds the
/// tree, each layer's step for the cells' titles, and the waste category names.
pub(crate) fn treemap_page(
    title: &str,
    body: &str,
    kind: &str,
    tree: &tree::Cell,
    layers: &[crate::report::json::Layer],
) -> String {
    let data = serde_json::json!({
        "kind": kind,
        "tree": tree,
        "layers": layers.iter().map(|l| serde_json::json!({
            "index": l.index,
            "instruction": plain(&crate::analysis::one_line(&l.instruction, 100)),
        })).collect::<Vec<_>>(),
        "waste": tree::WASTE.iter().map(|c| category_name(*c)).collect::<Vec<_>>(),
    });
    page(title, body, Some(&script_json(&data)), Some(TREEMAP_JS))
}

/// A horizontal bar of stacked parts (plain SVG, readable without script): each part is
/// (CSS class, value, label).
pub(crate) fn stacked_bar(parts: &[(&str, u64, String)], scale: u64, width: u32) -> String {
    let mut out = format!(
        "<svg class=\"bar\" width=\"{width}\" height=\"14\" viewBox=\"0 0 {width} 14\" \
         role=\"img\" aria-label=\"{}\">",
        escape(
            &parts
                .iter()
                .filter(|p| p.1 > 0)
                .map(|p| p.2.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    );
    let mut x = 0.0f64;
    for (class, value, label) in parts {
        if *value == 0 || scale == 0 {
            continue;
        }
        let w = *value as f64 * f64::from(width) / scale as f64;
        let _ = write!(
            out,
            "<rect class=\"{class}\" x=\"{x:.2}\" y=\"0\" width=\"{:.2}\" height=\"14\">\
             <title>{}</title></rect>",
            w.max(0.5),
            escape(label)
        );
        x += w;
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_controls_and_secrets() {
        assert_eq!(
            escape("<script>alert('1')</script>&\"\x1b[2J"),
            "&lt;script&gt;alert(&#39;1&#39;)&lt;/script&gt;&amp;&quot;\\u{1b}[2J"
        );
        assert_eq!(escape_lines("RUN a \\\n  && b"), "RUN a \\\n  &amp;&amp; b");
        assert!(!plain("app/AKIAIOSFODNN7EXAMPLE.txt").contains("AKIAIOSFODNN7EXAMPLE"));
    }

    #[test]
    fn script_json_cannot_close_its_element() {
        let s = script_json(&vec!["</script><script>alert(1)</script>", "<!--"]);
        assert!(!s.contains('<'), "{s}");
        let back: Vec<String> = serde_json::from_str(&s).unwrap();
        assert_eq!(back[0], "</script><script>alert(1)</script>");
    }

    #[test]
    fn policy_hashes_the_inline_style_and_script() {
        let p = page("t", "<p>x</p>", Some("{}"), Some("let a = 1;"));
        assert!(p.contains(&csp_hash(CSS)));
        assert!(p.contains(&csp_hash("let a = 1;")));
        assert!(p.contains("<script>let a = 1;</script>"));
        assert!(p.contains("default-src 'none'"));
    }
}
