//! GitLab Code Quality JSON (`--format gitlab`): an array of issues that a merge request's
//! Code Quality widget shows. Each finding (and, from `check`, each failed rule) is one issue;
//! its location is the `Dockerfile` that builds the image (the file to change; GitLab's
//! format needs a repository path), and the description names the layer, its instruction
//! and the paths inside the image.

use serde_json::{json, Value};

use super::json::Report;
use crate::analysis::Severity;
use crate::verdict::{CheckResult, Outcome};

/// The repository file issues point at.
pub(crate) const LOCATION: &str = "Dockerfile";

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::High => "critical",
        Severity::Medium => "major",
        Severity::Low => "minor",
        Severity::Info => "info",
    }
}

/// Renders findings (and failed `check` rules) as a Code Quality report.
pub(crate) fn render(
    report: &Report,
    check: Option<&CheckResult>,
) -> Result<String, serde_json::Error> {
    let image = &report.image.reference;
    let mut issues: Vec<Value> = Vec::new();
    for f in report.findings.iter().chain(&report.practices) {
        let mut d = format!(
            "{} [image `{image}`, layer {}: {}]",
            f.title, f.layer, f.instruction
        );
        if let Some(p) = f.paths.first() {
            d.push_str(&format!(" e.g. `{p}`"));
            if f.path_count > 1 {
                d.push_str(&format!(" and {} more paths", f.path_count - 1));
            }
        }
        if let Some(det) = &f.detail {
            d.push_str(&format!("; {det}"));
        }
        // With `--dockerfile`, the issue sits on the line that made it.
        let (path, line) = f.source_line().unwrap_or((LOCATION, 1));
        issues.push(json!({
            "type": "issue",
            "description": crate::sanitize::redact(&d),
            "check_name": f.rule,
            "fingerprint": super::sarif::fingerprint(&[
                "gitlab", &f.rule, &f.instruction, f.paths.first().map_or("", String::as_str)
            ]),
            "severity": severity(f.severity),
            "categories": [category(f)],
            "location": { "path": path, "lines": { "begin": line } }
        }));
    }
    if let Some(check) = check {
        for r in check.rules.iter().filter(|r| r.outcome == Outcome::Fail) {
            issues.push(json!({
                "type": "issue",
                "description": crate::sanitize::redact(&format!(
                    "layersift check `{}` failed: {} [image `{image}`]",
                    r.rule, r.detail
                )),
                "check_name": format!("check/{}", r.rule),
                "fingerprint": super::sarif::fingerprint(&["gitlab-check", r.rule, &r.detail]),
                "severity": "blocker",
                "categories": ["Performance"],
                "location": { "path": LOCATION, "lines": { "begin": 1 } }
            }));
        }
    }
    super::json::to_json(&issues)
}

/// The Code Quality category of a finding: secrets and risky permissions are security
/// issues, other best practices bug risks, waste a performance issue.
fn category(f: &crate::analysis::Finding) -> &'static str {
    use crate::analysis::Category;
    match (f.category, f.rule.as_str()) {
        (Category::Secret, _)
        | (
            Category::Practice,
            "practice.root-user" | "practice.setuid" | "practice.world-writable",
        ) => "Security",
        (Category::Practice, _) => "Bug Risk",
        _ => "Performance",
    }
}
