//! Fitting markdown into a character budget (GitHub refuses a comment over 65,536
//! characters): cut at a line boundary, close what the cut left open (a code fence,
//! `<details>` blocks), and say what was left out and where the full data is.

/// The default `--max-chars`: room under GitHub's 65,536-character comment limit.
pub(crate) const DEFAULT_MAX_CHARS: usize = 60_000;

/// Characters kept free for the closing tags and the note.
const RESERVE: usize = 400;

/// `md` as it is when it fits `max` characters, else its first lines with open blocks
/// closed and a note naming how many lines were left out and `full` (where to read them).
pub(crate) fn cut(md: &str, max: usize, full: &str) -> String {
    if md.chars().count() <= max {
        return md.to_string();
    }
    let budget = max.saturating_sub(RESERVE);
    let mut out = String::new();
    let mut used = 0;
    let mut open_details = 0usize;
    let mut in_fence = false;
    let lines: Vec<&str> = md.lines().collect();
    let mut kept = 0;
    for line in &lines {
        let n = line.chars().count() + 1;
        if used + n > budget {
            break;
        }
        used += n;
        kept += 1;
        out.push_str(line);
        out.push('\n');
        let t = line.trim_start();
        if t.starts_with("```") {
            in_fence = !in_fence;
        } else if !in_fence {
            open_details += t.matches("<details>").count();
            open_details = open_details.saturating_sub(t.matches("</details>").count());
        }
    }
    if in_fence {
        out.push_str("```\n");
    }
    for _ in 0..open_details {
        out.push_str("\n</details>\n");
    }
    let left = lines.len() - kept;
    out.push_str(&format!(
        "\n> Cut to fit {max} characters: {left} more line{} left out. The full report: {full}.\n",
        if left == 1 { "" } else { "s" }
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_and_closes_what_it_cut() {
        assert_eq!(cut("short\n", 100, "x"), "short\n");
        let mut md = String::from("# head\n\n<details><summary>s</summary>\n\n```\n");
        for i in 0..1000 {
            md.push_str(&format!("line {i}\n"));
        }
        md.push_str("```\n\n</details>\n");
        let out = cut(&md, 2000, "the JSON report");
        assert!(out.chars().count() <= 2000, "{}", out.len());
        assert!(out.starts_with("# head\n"));
        assert_eq!(out.matches("```").count() % 2, 0, "fence closed");
        assert_eq!(
            out.matches("<details>").count(),
            out.matches("</details>").count()
        );
        assert!(out.contains("more lines left out. The full report: the JSON report."));
    }
}
