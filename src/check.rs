//! The CI gate: evaluates the rules of a [`CheckConfig`] against a report's numbers (and,
//! for growth limits, against a baseline report) and renders one line per rule,
//! `PASS  min-efficiency  97.3% >= 95.0%`. Rules read only [`Report`] values, so they are
//! tested without images; `app` turns a failed rule into exit code 1.

use crate::config::{CheckConfig, Growth};
use crate::report::json::Report;
use crate::units::{exact_bytes, signed_exact_bytes};
pub use crate::verdict::{CheckResult, Outcome, RuleResult};

/// Evidence lines listed under a failing rule; the rest are counted.
pub(crate) const MAX_EVIDENCE: usize = 20;

/// Output formats of `layersift check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// One `PASS|FAIL|SKIP  rule  value op threshold` line per rule.
    Text,
    /// `{"schema_version", "passed", "failed", "config", "rules": [...]}`.
    Json,
    /// JUnit XML: one test case per rule, failures with value and threshold.
    Junit,
    /// SARIF 2.1.0: findings, secrets and failed rules as results.
    Sarif,
    /// GitLab Code Quality JSON: findings and failed rules as issues.
    Gitlab,
    /// GitHub Actions: the PASS/FAIL lines and an `::error` per failed rule; a summary
    /// table goes to `$GITHUB_STEP_SUMMARY` when it is set.
    Github,
}

impl CheckResult {
    /// The results as JSON; `config` says where the rules came from.
    pub fn to_json(&self, config: &str) -> Result<String, serde_json::Error> {
        #[derive(serde::Serialize)]
        struct Wire<'a> {
            schema_version: u32,
            passed: bool,
            failed: usize,
            config: &'a str,
            rules: &'a [RuleResult],
        }
        crate::report::json::to_json(&Wire {
            schema_version: 1,
            passed: self.passed(),
            failed: self.failed(),
            config,
            rules: &self.rules,
        })
    }

    /// One line per rule, names padded to one column.
    pub fn render(&self) -> String {
        let width = self.rules.iter().map(|r| r.rule.len()).max().unwrap_or(0);
        let mut out = String::new();
        for r in &self.rules {
            out.push_str(&format!(
                "{}  {:<width$}  {}\n",
                r.outcome.label(),
                r.rule,
                crate::sanitize::for_terminal(&r.detail)
            ));
            for e in r.evidence.iter().take(MAX_EVIDENCE) {
                out.push_str(&format!("      - {}\n", crate::sanitize::for_terminal(e)));
            }
            if r.evidence.len() > MAX_EVIDENCE {
                out.push_str(&format!(
                    "      … and {} more (all in `--format json`)\n",
                    r.evidence.len() - MAX_EVIDENCE
                ));
            }
        }
        out
    }

    /// The closing line: `passed: all 3 rules passed`, `failed: 1 of 3 rules failed`.
    pub fn summary(&self) -> String {
        let n = self.rules.len();
        let failed = self.failed();
        if failed == 0 {
            format!(
                "passed: {} {} passed",
                if n == 1 { "the" } else { "all" },
                crate::units::plural(n, "rule", "rules")
            )
        } else {
            format!(
                "failed: {failed} of {} failed",
                crate::units::plural(n, "rule", "rules")
            )
        }
    }
}

fn at_most(rule: &'static str, value: u64, max: u64) -> RuleResult {
    let pass = value <= max;
    RuleResult {
        rule,
        outcome: if pass { Outcome::Pass } else { Outcome::Fail },
        value: Some(value as f64),
        threshold: Some(max as f64),
        detail: format!(
            "{} {} {}",
            exact_bytes(value),
            if pass { "<=" } else { ">" },
            exact_bytes(max)
        ),
        evidence: Vec::new(),
    }
}

fn ratio_at_most(rule: &'static str, value: f64, max: f64) -> RuleResult {
    let pass = value <= max;
    RuleResult {
        rule,
        outcome: if pass { Outcome::Pass } else { Outcome::Fail },
        value: Some(value),
        threshold: Some(max),
        detail: format!(
            "{} {} {}",
            pct(value),
            if pass { "<=" } else { ">" },
            pct(max)
        ),
        evidence: Vec::new(),
    }
}

/// A ratio as people read it: `0.8941` → `89.4%`.
fn pct(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

fn growth_rule(
    rule: &'static str,
    limit: Option<Growth>,
    old: Option<u64>,
    new: u64,
) -> Option<RuleResult> {
    let limit = limit?;
    let Some(old) = old else {
        return Some(RuleResult {
            rule,
            outcome: Outcome::Skip,
            value: None,
            threshold: None,
            detail: format!("no baseline to compare with (limit {limit}; pass --baseline)"),
            evidence: Vec::new(),
        });
    };
    let delta = i128::from(new) - i128::from(old);
    let allowed = limit.allowed(old);
    let pass = (delta as f64) <= allowed;
    let delta = i64::try_from(delta).unwrap_or(i64::MAX);
    let pct = if old > 0 {
        format!("{:+.2}%", delta as f64 * 100.0 / old as f64)
    } else if delta == 0 {
        "+0.00%".to_string()
    } else {
        "new".to_string()
    };
    let threshold = match limit {
        Growth::Bytes(b) => exact_bytes(b),
        Growth::Percent(p) => format!("{p}% of {}", exact_bytes(old)),
    };
    Some(RuleResult {
        rule,
        outcome: if pass { Outcome::Pass } else { Outcome::Fail },
        value: Some(delta as f64),
        threshold: Some(allowed),
        detail: format!(
            "{} [{pct}] {} {threshold}",
            signed_exact_bytes(delta),
            if pass { "<=" } else { ">" }
        ),
        evidence: Vec::new(),
    })
}

/// Evaluates every rule `cfg` turns on against `report`, growth rules against `baseline`;
/// path rules see the visible files the report lists.
pub fn evaluate(cfg: &CheckConfig, report: &Report, baseline: Option<&Report>) -> CheckResult {
    evaluate_with(
        cfg,
        report,
        baseline,
        &crate::policy::Inventory::from_report(report),
    )
}

/// Like [`evaluate`], with the paths the path rules see (every layer's files when the
/// image was analysed, so hidden files count for `forbid`).
pub(crate) fn evaluate_with(
    cfg: &CheckConfig,
    report: &Report,
    baseline: Option<&Report>,
    inventory: &crate::policy::Inventory,
) -> CheckResult {
    let s = &report.summary;
    let all = crate::report::json::ScopeTotals {
        layer_count: s.layer_count,
        content_bytes: s.content_bytes,
        visible_bytes: s.visible_bytes,
        hidden_bytes: s.hidden_bytes,
        avoidable_bytes: s.avoidable_bytes,
        compressed_bytes: s.compressed_bytes,
        efficiency: s.efficiency,
    };
    let (first_layer, t, scope) = match (cfg.scope, &report.base) {
        (crate::config::Scope::Own, Some(base)) => {
            let n = report.layers.len();
            let note = if base.layer_count >= n {
                " [own layers: none]".to_string()
            } else if base.layer_count + 1 == n {
                format!(" [own layer {}]", base.layer_count)
            } else {
                format!(" [own layers {}-{}]", base.layer_count, n - 1)
            };
            (base.layer_count, base.own.clone(), note)
        }
        _ => (0, all, String::new()),
    };
    let b = baseline.map(|b| &b.summary);
    let mut rules = Vec::new();
    let scoped = |mut r: RuleResult| {
        r.detail.push_str(&scope);
        r
    };
    if let Some(min) = cfg.min_efficiency {
        let pass = t.efficiency >= min;
        rules.push(scoped(RuleResult {
            rule: "min-efficiency",
            outcome: if pass { Outcome::Pass } else { Outcome::Fail },
            value: Some(t.efficiency),
            threshold: Some(min),
            detail: format!(
                "{} {} {}",
                pct(t.efficiency),
                if pass { ">=" } else { "<" },
                pct(min)
            ),
            evidence: Vec::new(),
        }));
    }
    if let Some(max) = cfg.max_hidden_bytes {
        rules.push(scoped(at_most("max-hidden-bytes", t.hidden_bytes, max)));
    }
    if let Some(max) = cfg.max_hidden_ratio {
        let ratio = if t.content_bytes == 0 {
            0.0
        } else {
            t.hidden_bytes as f64 / t.content_bytes as f64
        };
        rules.push(scoped(ratio_at_most("max-hidden-ratio", ratio, max)));
    }
    if let Some(max) = cfg.max_avoidable_bytes {
        rules.push(scoped(at_most(
            "max-avoidable-bytes",
            t.avoidable_bytes,
            max,
        )));
    }
    if let Some(max) = cfg.max_size {
        rules.push(scoped(at_most("max-size", t.content_bytes, max)));
    }
    if let Some(max) = cfg.max_compressed_size {
        rules.push(scoped(at_most(
            "max-compressed-size",
            t.compressed_bytes,
            max,
        )));
    }
    rules.extend(crate::policy::evaluate(
        &cfg.paths,
        report,
        inventory,
        first_layer,
        &scope,
    ));
    if !cfg.allow_secrets {
        let n = s.secret_count;
        rules.push(RuleResult {
            rule: "no-secrets",
            outcome: if n == 0 { Outcome::Pass } else { Outcome::Fail },
            value: Some(n as f64),
            threshold: Some(0.0),
            detail: format!("{} found", crate::units::plural(n, "secret", "secrets")),
            // Each secret under the rule: what, where, which layer, redacted.
            evidence: report
                .findings
                .iter()
                .filter(|f| f.category == crate::analysis::Category::Secret)
                .map(|f| match &f.detail {
                    Some(d) => format!("{} ({}: {d})", f.title, where_shipped(f)),
                    None => format!("{} ({})", f.title, where_shipped(f)),
                })
                .collect(),
        });
    }
    for &rule in &cfg.practices {
        // Practices about files (setuid, world-writable, `.pyc`, an `ADD`) follow the scope:
        // a layer's finding counts from the first own layer on. Those about the image config
        // (root user, health check, `CMD` form) describe the whole image and always count.
        let about_files = crate::analysis::practices::about_files(rule);
        let hits: Vec<&crate::analysis::Finding> = report
            .practices
            .iter()
            .filter(|f| f.rule == rule && (f.in_config || f.layer >= first_layer))
            .collect();
        let n = hits.len();
        rules.push(RuleResult {
            rule,
            outcome: if n == 0 { Outcome::Pass } else { Outcome::Fail },
            value: Some(n as f64),
            threshold: Some(0.0),
            detail: format!(
                "{} found{}",
                crate::units::plural(n, "finding", "findings"),
                if about_files { scope.as_str() } else { "" }
            ),
            evidence: hits
                .iter()
                .map(|f| {
                    let at = f.source.clone().unwrap_or_else(|| where_shipped(f));
                    match f.paths.first() {
                        Some(p) => format!("{} ({at}: {p})", f.title),
                        None => format!("{} ({at})", f.title),
                    }
                })
                .collect(),
        });
    }
    let g = &cfg.growth;
    rules.extend(growth_rule(
        "max-content-growth",
        g.max_content,
        b.map(|b| b.content_bytes),
        s.content_bytes,
    ));
    rules.extend(growth_rule(
        "max-compressed-growth",
        g.max_compressed,
        b.map(|b| b.compressed_bytes),
        s.compressed_bytes,
    ));
    rules.extend(growth_rule(
        "max-waste-growth",
        g.max_waste,
        b.map(|b| b.potential_savings_bytes),
        s.potential_savings_bytes,
    ));
    CheckResult { rules }
}

/// `layer 3` or `image config`, for a finding.
fn where_shipped(f: &crate::analysis::Finding) -> String {
    f.place()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_percent_and_bytes() {
        let r = growth_rule("g", Some(Growth::Percent(5.0)), Some(1000), 1050).unwrap();
        assert_eq!(r.outcome, Outcome::Pass);
        assert_eq!(r.detail, "+50 B [+5.00%] <= 5% of 1.0 kB (1000 B)");
        let r = growth_rule("g", Some(Growth::Percent(5.0)), Some(1000), 1051).unwrap();
        assert_eq!(r.outcome, Outcome::Fail);
        let r = growth_rule("g", Some(Growth::Bytes(10)), Some(1000), 900).unwrap();
        assert_eq!(r.outcome, Outcome::Pass);
        assert_eq!(r.detail, "-100 B [-10.00%] <= 10 B");
        let r = growth_rule("g", Some(Growth::Percent(5.0)), Some(0), 1).unwrap();
        assert_eq!(r.outcome, Outcome::Fail);
        assert_eq!(r.detail, "+1 B [new] > 5% of 0 B");
        let r = growth_rule("g", Some(Growth::Bytes(1)), None, 1).unwrap();
        assert_eq!(r.outcome, Outcome::Skip);
        assert!(growth_rule("g", None, Some(1), 1).is_none());
    }
}
