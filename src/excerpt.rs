//! Short, escaped excerpts of what the tool read (a file's first bytes, an argument), for
//! error messages: never more than a few dozen characters, secrets redacted and control
//! characters escaped by [`crate::sanitize`], invalid UTF-8 shown as `\xNN`.

use std::fmt::Write as _;

/// `s` made safe for one terminal line (see [`crate::sanitize::for_terminal`]), backticks
/// turned into `'` so the excerpt can sit between backticks.
fn safe(s: &str) -> String {
    crate::sanitize::for_terminal(s).replace('`', "'")
}

/// At most `max` characters of `s` (secrets redacted first), escaped, and `…` when it was
/// cut.
pub(crate) fn text(s: &str, max: usize) -> String {
    let s = crate::sanitize::redact(s);
    let cut: String = s.chars().take(max).collect();
    let mut out = safe(&cut);
    if cut.len() < s.len() {
        out.push('…');
    }
    out
}

/// At most `max` characters of `bytes`: UTF-8 where they are (escaped as [`text`] escapes),
/// each other byte as `\xNN`, and `…` when cut.
pub(crate) fn bytes(bytes: &[u8], max: usize) -> String {
    let mut out = String::new();
    let mut shown = 0;
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        let take: String = valid.chars().take(max - shown).collect();
        shown += take.chars().count();
        out.push_str(&safe(&take));
        if take.len() < valid.len() {
            out.push('…');
            return out;
        }
        for b in chunk.invalid() {
            if shown == max {
                out.push('…');
                return out;
            }
            let _ = write!(out, "\\x{b:02x}");
            shown += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn excerpts_are_short_and_escaped() {
        assert_eq!(super::text("abc", 5), "abc");
        assert_eq!(super::text("abcdef", 3), "abc…");
        assert_eq!(super::text("a\nb\x1b[2J", 10), "a\\nb\\u{1b}[2J");
        assert_eq!(
            super::bytes(b"\x1f\x8b\x08\0ok", 10),
            "\\u{1f}\\x8b\\u{8}\\u{0}ok"
        );
        assert_eq!(super::bytes(&[0xff; 100], 2), "\\xff\\xff…");
        assert_eq!(super::bytes(b"abcdef", 3), "abc…");
        assert_eq!(super::text("a `b`", 9), "a 'b'");
    }
}
