//! GitHub Actions output (`--format github`): workflow commands that turn into annotations
//! (`::error title=…::…`, `::warning`, `::notice`), and the markdown for the job summary,
//! which the caller appends to `$GITHUB_STEP_SUMMARY` when it is set.

use std::fmt::Write as _;

use super::json::Report;
use crate::analysis::{Finding, Severity};
use crate::verdict::{CheckResult, Outcome};

/// Findings turned into annotations at most (GitHub shows ten per kind and step).
pub(crate) const MAX_ANNOTATIONS: usize = 10;

/// Escapes a workflow command's message (`%`, CR, LF).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (also `:` and `,`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One workflow command; image-controlled text is made safe for a log (secrets redacted,
/// control characters escaped) before the command's own escaping.
fn command(kind: &str, title: &str, message: &str) -> String {
    located(kind, None, title, message)
}

/// A workflow command at a file and line (`file=Dockerfile,line=5`) when `at` is known
/// (a `--dockerfile` citation), so the annotation sits on that line.
fn located(kind: &str, at: Option<(&str, u64)>, title: &str, message: &str) -> String {
    use crate::sanitize::for_terminal;
    let at = at
        .map(|(file, line)| format!("file={},line={line},", escape_property(&for_terminal(file))))
        .unwrap_or_default();
    format!(
        "::{kind} {at}title={}::{}\n",
        escape_property(&for_terminal(title)),
        escape_data(&for_terminal(message))
    )
}

/// Annotations for the findings of a report: high severity as errors, medium as warnings,
/// the rest as one notice with their count. Then the best practices the image breaks, each
/// its own annotation (medium a warning, low and info a notice) with its severity, its fix
/// and, with `--dockerfile`, the line it sits on.
/// `msg` with the finding's detail (`; …`) and its Dockerfile line (` [Dockerfile:N]`).
fn detail_and_source(mut msg: String, f: &Finding) -> String {
    if let Some(d) = &f.detail {
        let _ = write!(msg, "; {d}");
    }
    if let Some(s) = &f.source {
        let _ = write!(msg, " [{s}]");
    }
    msg
}

pub(crate) fn findings(report: &Report) -> String {
    let mut out = String::new();
    let mut shown = 0;
    for f in &report.findings {
        let kind = match f.severity {
            Severity::High => "error",
            Severity::Medium => "warning",
            _ => continue,
        };
        if shown == MAX_ANNOTATIONS {
            break;
        }
        shown += 1;
        let msg = format!("{} (layer {}: {})", f.title, f.layer, f.instruction);
        out.push_str(&located(
            kind,
            f.source_line(),
            &format!("layersift: {}", f.rule),
            &detail_and_source(msg, f),
        ));
    }
    let rest = report.findings.len() - shown;
    if rest > 0 {
        out.push_str(&command(
            "notice",
            "layersift",
            &format!(
                "{rest} more finding{} in the JSON report (`layersift analyze --format json`)",
                if rest == 1 { "" } else { "s" }
            ),
        ));
    }
    for f in report.practices.iter().take(MAX_ANNOTATIONS) {
        let kind = match f.severity {
            Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low | Severity::Info => "notice",
        };
        let mut msg = f.title.clone();
        if f.in_config {
            msg.push_str(" (image config)");
        } else {
            let _ = write!(msg, " (layer {}: {})", f.layer, f.instruction);
        }
        if let Some(p) = f.paths.first() {
            let _ = write!(msg, ", e.g. {p}");
        }
        out.push_str(&located(
            kind,
            f.source_line(),
            &format!("layersift: {} ({})", f.rule, f.severity.name()),
            &detail_and_source(msg, f),
        ));
    }
    if report.practices.len() > MAX_ANNOTATIONS {
        out.push_str(&command(
            "notice",
            "layersift",
            &format!(
                "{} more best practices in the JSON report",
                report.practices.len() - MAX_ANNOTATIONS
            ),
        ));
    }
    out
}

/// `check`: the PASS/FAIL lines as log lines, then one `::error` per failed rule.
pub(crate) fn check(result: &CheckResult) -> String {
    let mut out = result.render();
    for r in result.rules.iter().filter(|r| r.outcome == Outcome::Fail) {
        out.push_str(&command(
            "error",
            &format!("layersift check: {}", r.rule),
            &r.detail,
        ));
    }
    out
}

/// The job summary of `check`: the verdict and one table row per rule.
pub(crate) fn check_summary(report: &Report, result: &CheckResult) -> String {
    let mut out = String::new();
    let failed = result.failed();
    let _ = writeln!(
        out,
        "## layersift check: {} {}\n",
        if failed == 0 { "passed" } else { "failed" },
        crate::sanitize::markdown_code(&report.image.reference)
    );
    let _ = writeln!(out, "| | Rule | Result |");
    let _ = writeln!(out, "|---|---|---|");
    for r in &result.rules {
        let mark = match r.outcome {
            Outcome::Pass => ":white_check_mark:",
            Outcome::Fail => ":x:",
            Outcome::Skip => ":heavy_minus_sign:",
        };
        let _ = writeln!(
            out,
            "| {mark} | `{}` | {} |",
            r.rule,
            crate::sanitize::markdown_cell(&r.detail)
        );
    }
    out
}
