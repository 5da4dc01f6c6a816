//! Short, escaped excerpts of what the tool read (a file's first bytes, an argument), for
//! error messages: never more than a few dozen characters, never a control character or
//! invalid UTF-8 written raw to the terminal.

use std::fmt::Write as _;

/// At most `max` characters of `s`, control characters escaped (`\n`, `\u{1b}`), and `…`
/// when it was cut.
pub fn text(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        if c.is_control() || c == '`' {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// At most `max` characters of `bytes` read as UTF-8 where they are, each other byte as
/// `\xNN`, escaped as [`text`] escapes.
pub fn bytes(bytes: &[u8], max: usize) -> String {
    let mut out = String::new();
    let mut shown = 0;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if shown == max {
                out.push('…');
                return out;
            }
            out.push_str(&text(c.encode_utf8(&mut [0; 4]), 1));
            shown += 1;
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
            "\\u{1f}\\x8b\\u{8}\\0ok"
        );
        assert_eq!(super::bytes(&[0xff; 100], 2), "\\xff\\xff…");
    }
}
