//! SARIF 2.1.0 output (`--format sarif`) for code-scanning views such as GitHub's: every
//! finding and secret is a result whose location names the image (a logical location), the
//! layer (a logical location inside it) and the path inside the image (an artifact under the
//! `IMAGE_ROOT` base); every rule carries help text and, when one applies, the suggested
//! Dockerfile rewrite. `check` adds one result per failed rule.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::json::Report;
use crate::analysis::{Category, Finding, Severity};
use crate::verdict::{CheckResult, Outcome};

/// The schema URI written into the log (the OASIS SARIF 2.1.0 schema).
pub(crate) const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Renders a report (and, from `check`, its rule results) as a SARIF 2.1.0 log.
pub(crate) fn render(
    report: &Report,
    check: Option<&CheckResult>,
) -> Result<String, serde_json::Error> {
    let mut rules: Vec<Value> = Vec::new();
    let mut rule_index: BTreeMap<String, usize> = BTreeMap::new();
    let mut results: Vec<Value> = Vec::new();
    let image = &report.image.reference;

    for (i, f) in report.findings.iter().enumerate() {
        let idx = *rule_index.entry(f.rule.clone()).or_insert_with(|| {
            rules.push(finding_rule(report, f));
            rules.len() - 1
        });
        results.push(finding_result(report, i, f, idx));
    }
    // Best practices: no suggestion resolves them (their fix is in `detail`).
    for f in &report.practices {
        let idx = *rule_index.entry(f.rule.clone()).or_insert_with(|| {
            rules.push(finding_rule(report, f));
            rules.len() - 1
        });
        results.push(finding_result(report, usize::MAX, f, idx));
    }
    if let Some(check) = check {
        for r in check.rules.iter().filter(|r| r.outcome == Outcome::Fail) {
            let id = format!("check/{}", r.rule);
            let idx = *rule_index.entry(id.clone()).or_insert_with(|| {
                rules.push(json!({
                    "id": id,
                    "name": r.rule,
                    "shortDescription": { "text": format!("layersift check rule `{}`", r.rule) },
                    "help": { "text": format!(
                        "The `{}` rule of `layersift check` failed; its threshold is set in \
                         layersift.toml ([check] table) or .dive-ci.",
                        r.rule
                    ) },
                    "defaultConfiguration": { "level": "error" },
                    "properties": { "tags": ["layersift-check"] }
                }));
                rules.len() - 1
            });
            results.push(json!({
                "ruleId": id,
                "ruleIndex": idx,
                "level": "error",
                "message": { "text": crate::sanitize::redact(&format!("{}: {}", r.rule, r.detail)) },
                "locations": [{ "logicalLocations": [image_location(image)] }],
                "properties": { "value": r.value, "threshold": r.threshold }
            }));
        }
    }

    let log = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "layersift",
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "rules": rules
            } },
            "originalUriBaseIds": {
                "IMAGE_ROOT": { "description": { "text": format!(
                    "The root of the filesystem of image `{image}`"
                ) } }
            },
            "properties": {
                "image": image,
                "manifestDigest": report.image.manifest_digest,
                "contentBytes": report.summary.content_bytes,
                "potentialSavingsBytes": report.summary.potential_savings_bytes,
                "efficiency": report.summary.efficiency
            },
            "results": results
        }]
    });
    super::json::to_json(&log)
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn category_text(c: Category) -> &'static str {
    match c {
        Category::OverwrittenSame => {
            "Bytes a later layer rewrote with identical content (chmod -R, chown -R, touch): \
             shipped twice, visible once."
        }
        Category::OverwrittenChanged => {
            "Bytes a later layer replaced with different content: the old copy is still shipped."
        }
        Category::Removed => {
            "Bytes a later layer deleted: they are still shipped in the layer that added them."
        }
        Category::PackageCache => {
            "Package-manager caches and indexes left in the image; not needed to run it."
        }
        Category::TempLog => "Temporary and log files left in the image.",
        Category::Duplicate => "Byte-identical files at several paths: all copies but one.",
        Category::Docs => "Documentation, man pages and locales (optional at run time).",
        Category::Toolchain => {
            "Compilers, headers and static libraries in a runtime image (a multi-stage build \
             leaves them behind)."
        }
        Category::Secret => {
            "A secret (private key, token, credential file) in a layer, ENV or the history. \
             A secret deleted by a later layer is still in the image."
        }
        Category::Practice => {
            "A container best practice the image breaks (root user, no health check, \
             shell-form CMD, setuid or world-writable files, ...)."
        }
    }
}

/// A rule descriptor for a finding rule, with the first suggestion that resolves one of its
/// findings as help.
fn finding_rule(report: &Report, f: &Finding) -> Value {
    let mut help = category_text(f.category).to_string();
    let mut markdown = help.clone();
    let fix = report.suggestions.iter().find(|s| {
        s.findings
            .iter()
            .any(|&i| report.findings.get(i).is_some_and(|g| g.rule == f.rule))
    });
    if let Some(s) = fix {
        help.push_str(&format!("\n\nSuggestion: {}\n\n{}", s.title, s.snippet));
        markdown.push_str(&format!(
            "\n\n**Suggestion:** {}\n\n```dockerfile\n{}\n```",
            s.title,
            s.snippet.replace("```", "'''")
        ));
    }
    json!({
        "id": f.rule,
        "name": f.rule.replace(['.', '-'], "_"),
        "shortDescription": { "text": category_text(f.category) },
        "help": { "text": help, "markdown": markdown },
        "defaultConfiguration": { "level": level(f.severity) },
        "properties": {
            "tags": [serde_json::to_value(f.category).unwrap_or(Value::Null), "layersift"]
        }
    })
}

fn image_location(image: &str) -> Value {
    json!({ "name": image, "fullyQualifiedName": image, "kind": "module" })
}

/// Percent-encodes what a URI reference may not hold (spaces, `%`, `#`, `?`, non-ASCII).
fn uri_path(path: &str) -> String {
    let mut out = String::new();
    for b in path.trim_start_matches('/').bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn finding_result(report: &Report, i: usize, f: &Finding, rule_index: usize) -> Value {
    let image = &report.image.reference;
    let layer = report.layers.get(f.layer);
    let layer_name = format!("layer {}", f.layer);
    let logical = json!([
        image_location(image),
        {
            "name": layer_name,
            "fullyQualifiedName": format!("{image}/layers/{}", f.layer),
            "kind": "namespace",
            "properties": {
                "instruction": f.instruction,
                "diffId": layer.map(|l| l.diff_id.as_str()),
                "digest": layer.map(|l| l.digest.as_str())
            }
        }
    ]);
    let mut locations: Vec<Value> = f
        .paths
        .iter()
        .take(10)
        .map(|p| {
            json!({
                "physicalLocation": {
                    "artifactLocation": { "uri": uri_path(p), "uriBaseId": "IMAGE_ROOT" }
                },
                "logicalLocations": logical
            })
        })
        .collect();
    // With `--dockerfile`, the line first: code scanning shows a result at its first
    // location, and the Dockerfile is the file in the repository.
    if let Some((file, line)) = f.source_line() {
        locations.insert(
            0,
            json!({
                "physicalLocation": {
                    "artifactLocation": { "uri": uri_path(file) },
                    "region": { "startLine": line }
                },
                "logicalLocations": logical
            }),
        );
    }
    if locations.is_empty() {
        locations.push(json!({ "logicalLocations": logical }));
    }
    let mut text = format!("{} (layer {}: {})", f.title, f.layer, f.instruction);
    if let Some(d) = &f.detail {
        text.push_str(&format!("; {d}"));
    }
    if let Some(s) = &f.source {
        text.push_str(&format!(" [{s}]"));
    }
    let fix = report.suggestions.iter().find(|s| s.findings.contains(&i));
    if let Some(s) = fix {
        text.push_str(&format!(". Suggestion: {}", s.title));
    }
    json!({
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": crate::sanitize::redact(&text) },
        "locations": locations,
        "partialFingerprints": {
            "layersift/v1": fingerprint(&[&f.rule, &f.instruction, f.paths.first().map_or("", String::as_str)])
        },
        "properties": {
            "layer": f.layer,
            "bytes": f.bytes,
            "compressedBytes": f.compressed_bytes,
            "pathCount": f.path_count,
            "category": f.category,
            "suggestion": fix.map(|s| s.snippet.as_str())
        }
    })
}

/// A stable id of a finding across runs (rule, build step, first path), as hex.
pub(crate) fn fingerprint(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
