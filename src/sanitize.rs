//! Output safety: the one place that makes text an image controls (paths, commands, labels,
//! env, references, link targets, and anything read back from a saved report or a trend file)
//! safe to show. Every human-facing output calls [`for_terminal`] (or the markdown and HTML
//! escapers below, which start from it) on such text, and every output, JSON included, passes
//! it through the secret rules ([`redact`]).
//!
//! - [`for_terminal`]: secrets redacted, then every control character (C0, DEL, C1: the
//!   escape sequences that clear a screen or retitle a terminal) and every bidirectional
//!   override (which reorders what a reader sees) shown escaped as `\n`, `\u{1b}`, … ;
//!   [`for_terminal_lines`] keeps newlines, for multi-line messages (a TOML error's excerpt).
//! - [`markdown_text`], [`markdown_cell`], [`markdown_code`], [`markdown_cell_code`],
//!   [`markdown_fence`]: for GitHub-flavoured markdown (PR comments): no raw HTML, no links or
//!   images, no broken tables or code spans, whatever the text holds.
//! - [`html`]: for HTML text and attribute values.

use std::borrow::Cow;
use std::fmt::Write as _;

/// True for a character that must never reach a terminal (or a reader) as it is.
fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// Unicode bidirectional formatting characters: they make text display in an order other
/// than the one it is stored in ("Trojan Source").
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// `s` with every secret the secret rules find replaced by `[REDACTED]` (borrowed unchanged
/// when there is none, which a fast pre-check decides for almost every string).
pub(crate) fn redact(s: &str) -> Cow<'_, str> {
    match crate::secrets::scanner() {
        Some(scanner) if scanner.may_contain_secret(s) => Cow::Owned(scanner.redact_text(s)),
        _ => Cow::Borrowed(s),
    }
}

/// Text an image controls, made safe for a terminal on one line: secrets redacted, control
/// characters (newlines and tabs too) and bidirectional overrides escaped (`\n`, `\u{1b}`).
pub(crate) fn for_terminal(s: &str) -> Cow<'_, str> {
    escape(redact(s), &[])
}

/// As `for_terminal`, but newlines are kept: for messages of several lines.
pub fn for_terminal_lines(s: &str) -> Cow<'_, str> {
    escape(redact(s), &['\n'])
}

/// As [`for_terminal_lines`], keeping tabs too: a file's text shown as text (a file diff),
/// where a tab is layout, not a control.
pub(crate) fn for_terminal_text(s: &str) -> Cow<'_, str> {
    escape(redact(s), &['\n', '\t'])
}

fn escape<'a>(s: Cow<'a, str>, keep: &[char]) -> Cow<'a, str> {
    let bad = |c: char| is_unsafe(c) && !keep.contains(&c);
    if !s.chars().any(bad) {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A JSON string literal (quoted) for `s`: secrets redacted, and besides what JSON requires,
/// every character that acts on a terminal showing the file raw (DEL, C1 controls, bidi
/// overrides) written as a `\uXXXX` escape. The value is unchanged for a JSON reader.
pub(crate) fn json_string(s: &str) -> String {
    let quoted = serde_json::to_string(redact(s).as_ref()).unwrap_or_default();
    if !quoted.chars().any(is_unsafe) {
        return quoted;
    }
    let mut out = String::with_capacity(quoted.len() + 12);
    for c in quoted.chars() {
        if is_unsafe(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// Markdown punctuation that can start markup inline: emphasis, links and images, raw HTML
/// and autolinks, entities, strikethrough, tables, and the escape character itself.
fn is_markdown_special(c: char) -> bool {
    matches!(
        c,
        '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '!' | '|' | '~' | '#'
    )
}

/// Plain inline markdown text (outside tables): rendered exactly as the characters it holds.
/// Backquoted parts (as finding titles quote commands and paths) become code spans; every
/// other character that could start markup is backslash-escaped.
pub(crate) fn markdown_text(s: &str) -> String {
    inline(s, false)
}

/// As [`markdown_text`], for a table cell: pipes are escaped too, inside code spans as well.
pub(crate) fn markdown_cell(s: &str) -> String {
    inline(s, true)
}

fn inline(s: &str, table: bool) -> String {
    let s = for_terminal(s);
    let mut out = String::with_capacity(s.len() + 8);
    let parts: Vec<&str> = s.split('`').collect();
    // Parts at odd positions sit between two backquotes; an unpaired last one does not.
    let paired = if parts.len() % 2 == 0 {
        parts.len() - 1
    } else {
        parts.len()
    };
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 1 && i < paired {
            out.push_str(&code(part, table));
        } else {
            if i % 2 == 1 {
                out.push_str("\\`");
            }
            for c in part.chars() {
                if is_markdown_special(c) {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    }
    out
}

/// An inline code span holding `s` literally, whatever backquotes it holds.
pub(crate) fn markdown_code(s: &str) -> String {
    code(&for_terminal(s), false)
}

/// As [`markdown_code`], for a table cell (pipes escaped, as GFM tables need).
pub(crate) fn markdown_cell_code(s: &str) -> String {
    code(&for_terminal(s), true)
}

fn code(s: &str, table: bool) -> String {
    let s: Cow<'_, str> = if table && s.contains('|') {
        Cow::Owned(s.replace('|', "\\|"))
    } else {
        Cow::Borrowed(s)
    };
    if s.is_empty() {
        return "` `".to_string();
    }
    let fence = "`".repeat(longest_run(&s, '`') + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || (s.starts_with(' ') && s.ends_with(' '))
    {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A fenced code block (with its info string, e.g. `dockerfile`) holding `s` literally: the
/// fence is longer than any run of backquotes inside, and each line is made terminal-safe.
pub(crate) fn markdown_fence(s: &str, info: &str) -> String {
    let body: Vec<Cow<'_, str>> = s.lines().map(for_terminal).collect();
    let longest = body.iter().map(|l| longest_run(l, '`')).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let mut out = String::new();
    let _ = writeln!(out, "{fence}{info}");
    for l in body {
        let _ = writeln!(out, "{l}");
    }
    let _ = write!(out, "{fence}");
    out
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for x in s.chars() {
        run = if x == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// Text for HTML (element content or a quoted attribute value), made terminal-safe first.
pub(crate) fn html(s: &str) -> String {
    html_escape(&for_terminal(s))
}

/// As [`html`], but newlines are kept: for a multi-line snippet in a `<pre>` block.
pub(crate) fn html_lines(s: &str) -> String {
    html_escape(&for_terminal_lines(s))
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_text_keeps_layout_and_escapes_the_rest() {
        let t = "a\tb\nc\u{1b}[2Jd\u{202E}e\r";
        assert_eq!(for_terminal_text(t), "a\tb\nc\\u{1b}[2Jd\\u{202e}e\\r");
        assert_eq!(for_terminal_lines(t), "a\\tb\nc\\u{1b}[2Jd\\u{202e}e\\r");
    }

    #[test]
    fn terminal_text_has_no_controls() {
        assert!(matches!(for_terminal("plain/path"), Cow::Borrowed(_)));
        assert_eq!(for_terminal("a\nb\x1b[2Jc\t"), "a\\nb\\u{1b}[2Jc\\t");
        assert_eq!(for_terminal("x\x1b]0;title\x07"), "x\\u{1b}]0;title\\u{7}");
        assert_eq!(for_terminal("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(for_terminal("abc\u{202e}txt.exe"), "abc\\u{202e}txt.exe");
        assert_eq!(for_terminal_lines("a\nb\rc"), "a\nb\\rc");
    }

    #[test]
    fn secrets_in_names_are_redacted() {
        assert_eq!(
            for_terminal("app/AKIAIOSFODNN7EXAMPLE.txt"),
            "app/AKIA[REDACTED].txt"
        );
        assert_eq!(
            redact("/ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"),
            "/ghp_[REDACTED]"
        );
        assert!(matches!(redact("/usr/bin/curl"), Cow::Borrowed(_)));
        // A token that runs on into another: both are redacted (found by the property test).
        assert_eq!(
            redact("-xoxb-123456789012-abcdefghij--AKIAIOSFODNN7EXAMPLE-"),
            "-xoxb-[REDACTED]AKIA[REDACTED]-"
        );
    }

    #[test]
    fn markdown_cannot_inject_markup() {
        assert_eq!(
            markdown_text("![x](http://t/p.png) <img src=x> *b*"),
            "\\!\\[x\\](http://t/p.png) \\<img src=x\\> \\*b\\*"
        );
        assert_eq!(markdown_cell("a|b"), "a\\|b");
        // Backquoted parts become code spans; an unpaired backquote is escaped.
        assert_eq!(
            markdown_text("in `RUN a | b` and ` x"),
            "in `RUN a | b` and \\` x"
        );
        assert_eq!(markdown_cell("`a|b`"), "`a\\|b`");
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("`a"), "`` `a ``");
        assert_eq!(markdown_cell_code("x|y\n"), "`x\\|y\\n`");
        assert_eq!(markdown_code(""), "` `");
        assert_eq!(
            markdown_fence("a\n```\nb", "dockerfile"),
            "````dockerfile\na\n```\nb\n````"
        );
    }

    #[test]
    fn json_strings_are_inert() {
        assert_eq!(
            json_string("a\x1b[2J\u{9b}\u{202e}\x7f\"/AKIAIOSFODNN7EXAMPLE"),
            r#""a\u001b[2J\u009b\u202e\u007f\"/AKIA[REDACTED]""#
        );
        let back: String = serde_json::from_str(&json_string("x\u{202e}y")).unwrap();
        assert_eq!(back, "x\u{202e}y");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            html("<a href=\"x\">'&'</a>\x1b"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\\u{1b}"
        );
    }
}
