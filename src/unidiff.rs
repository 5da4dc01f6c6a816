//! Unified diffs whose changes keep their own hunks: `fix` heads each suggestion's edit with
//! its own comment, and a reader (or `git apply --include`, `filterdiff`) takes them one by
//! one. The line diff comes from `similar`; the hunks are cut here, with context sized per
//! change so two changes a few lines apart do not merge, in forms both `git apply` and GNU
//! `patch` accept without fuzz:
//!
//! - at most 3 context lines, and never more than half the unchanged lines to the next or
//!   previous change, the same number before and after the change;
//! - one unchanged line between two changes: the first hunk ends on it, the second starts
//!   with no leading context and one trailing line (`git apply` reads a hunk without trailing
//!   context as "at the end of the file", GNU `patch` one with fewer trailing than leading
//!   context lines the same way; fewer leading lines are fine to both away from line 1);
//! - only changes with no unchanged line between them share a hunk.

use std::fmt::Write as _;
use std::ops::Range;

use similar::{DiffOp, DiffTag, TextDiff};

/// The most context lines a hunk has on either side.
const MAX_CONTEXT: usize = 3;

/// One run of changed lines: where it sits in the old and new text, and its ops.
struct Region<'o> {
    old: Range<usize>,
    new: Range<usize>,
    ops: &'o [DiffOp],
}

/// The unified diff body (`--- from`, `+++ to`, hunks) of `old` → `new`; empty when equal.
pub(crate) fn unified(from: &str, to: &str, old: &str, new: &str) -> String {
    let diff = TextDiff::from_lines(old, new);
    let old_lines = diff.old_slices();
    let new_lines = diff.new_slices();
    let ops = diff.ops();
    // Changed runs: consecutive ops other than Equal.
    let mut regions: Vec<Region<'_>> = Vec::new();
    let mut i = 0;
    while i < ops.len() {
        if ops[i].tag() == DiffTag::Equal {
            i += 1;
            continue;
        }
        let start = i;
        while i < ops.len() && ops[i].tag() != DiffTag::Equal {
            i += 1;
        }
        let run = &ops[start..i];
        regions.push(Region {
            old: run[0].old_range().start..run[run.len() - 1].old_range().end,
            new: run[0].new_range().start..run[run.len() - 1].new_range().end,
            ops: run,
        });
    }
    if regions.is_empty() {
        return String::new();
    }
    let mut out = format!("--- {from}\n+++ {to}\n");
    for (n, r) in regions.iter().enumerate() {
        // Unchanged lines to the previous and next change (None: to the file's edge).
        let gap_before = n.checked_sub(1).map(|p| r.old.start - regions[p].old.end);
        let gap_after = regions.get(n + 1).map(|q| q.old.start - r.old.end);
        let room = |gap: Option<usize>| gap.map_or(MAX_CONTEXT, |g| (g / 2).min(MAX_CONTEXT));
        let lead_room = if gap_before == Some(1) {
            0
        } else {
            room(gap_before)
        };
        let trail_room = if gap_after == Some(1) {
            1
        } else {
            room(gap_after)
        };
        // Symmetric, but never fewer trailing lines than leading ones, and at least one
        // trailing line; the file's edges cut either side where they come first.
        let sym = lead_room.min(trail_room);
        let lead = sym.min(r.old.start);
        let trail = trail_room.min(sym.max(1)).min(old_lines.len() - r.old.end);
        let old_start = r.old.start - lead;
        let new_start = r.new.start - lead;
        let old_len = lead + r.old.len() + trail;
        let new_len = lead + r.new.len() + trail;
        let _ = writeln!(
            out,
            "@@ -{} +{} @@",
            range(old_start, old_len),
            range(new_start, new_len)
        );
        for l in &old_lines[old_start..r.old.start] {
            line(&mut out, ' ', l);
        }
        for op in r.ops {
            for l in &old_lines[op.old_range()] {
                if op.tag() != DiffTag::Equal {
                    line(&mut out, '-', l);
                }
            }
            for l in &new_lines[op.new_range()] {
                if op.tag() != DiffTag::Equal {
                    line(&mut out, '+', l);
                }
            }
        }
        for l in &old_lines[r.old.end..r.old.end + trail] {
            line(&mut out, ' ', l);
        }
    }
    out
}

/// A hunk header's range: 1-based start and length; an empty range names the line before
/// it, and a length of 1 is left out.
fn range(start: usize, len: usize) -> String {
    match len {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        _ => format!("{},{len}", start + 1),
    }
}

fn line(out: &mut String, mark: char, text: &str) {
    out.push(mark);
    out.push_str(text);
    if !text.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

#[cfg(test)]
mod tests {
    use super::unified;

    fn lines(n: usize) -> String {
        (1..=n).map(|i| format!("l{i}\n")).collect()
    }

    fn change(text: &str, at: &[usize]) -> String {
        text.lines()
            .enumerate()
            .map(|(i, l)| {
                if at.contains(&(i + 1)) {
                    format!("{}\n", l.to_uppercase())
                } else {
                    format!("{l}\n")
                }
            })
            .collect()
    }

    fn headers(d: &str) -> Vec<&str> {
        d.lines().filter(|l| l.starts_with("@@")).collect()
    }

    #[test]
    fn context_shrinks_so_nearby_changes_keep_their_hunks() {
        let old = lines(20);
        // Far apart: 3 lines of context each.
        let d = unified("a/f", "b/f", &old, &change(&old, &[5, 15]));
        assert_eq!(headers(&d), ["@@ -2,7 +2,7 @@", "@@ -12,7 +12,7 @@"]);
        // 4 unchanged lines between: 2 each side, symmetric.
        let d = unified("a/f", "b/f", &old, &change(&old, &[5, 10]));
        assert_eq!(headers(&d), ["@@ -3,5 +3,5 @@", "@@ -8,5 +8,5 @@"]);
        // 2 between: 1 each.
        let d = unified("a/f", "b/f", &old, &change(&old, &[5, 8]));
        assert_eq!(headers(&d), ["@@ -4,3 +4,3 @@", "@@ -7,3 +7,3 @@"]);
        // 1 between: the first ends on it, the second starts at its change.
        let d = unified("a/f", "b/f", &old, &change(&old, &[5, 7]));
        assert_eq!(headers(&d), ["@@ -4,3 +4,3 @@", "@@ -7,2 +7,2 @@"]);
        assert!(d.ends_with("@@ -7,2 +7,2 @@\n-l7\n+L7\n l8\n"), "{d}");
        // Adjacent: one hunk.
        let d = unified("a/f", "b/f", &old, &change(&old, &[5, 6]));
        assert_eq!(headers(&d), ["@@ -2,8 +2,8 @@"]);
    }

    #[test]
    fn edges_insertions_and_a_missing_newline() {
        let d = unified("/dev/null", "b/.dockerignore", "", ".git\n");
        assert_eq!(
            d,
            "--- /dev/null\n+++ b/.dockerignore\n@@ -0,0 +1 @@\n+.git\n"
        );
        let d = unified("a/f", "b/f", "a\nb", "a\nc");
        assert_eq!(
            d,
            "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"
        );
        // An inserted line after line 2 of 3.
        let d = unified("a/f", "b/f", "a\nb\nc\n", "a\nb\nX\nc\n");
        assert_eq!(d, "--- a/f\n+++ b/f\n@@ -1,3 +1,4 @@\n a\n b\n+X\n c\n");
        assert_eq!(unified("a/f", "b/f", "same\n", "same\n"), "");
    }
}
