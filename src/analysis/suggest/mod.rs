//! Rewrite suggestions: turns findings into concrete Dockerfile changes. Each suggestion
//! names the layer and instruction to rewrite, gives a snippet to write instead, the
//! findings it resolves (each finding is resolved by at most one suggestion, so savings add
//! up), the bytes it saves (content and estimated compressed) and evidence paths.
//!
//! Passes run in priority order and each claims the findings it resolves: secrets, apt,
//! other package caches, same-content rewrites (`chmod -R`, `chown -R`), files removed or
//! replaced by a later RUN, temporary and log files, duplicates, docs, toolchains.
//!
//! One module per family of suggestion (`secrets`, `apt`, `caches`, `same_content`,
//! `removed`, `temp`, `duplicates`, `optional`); `shell` holds the command helpers they
//! share, and this module the `Builder` that claims findings and totals them.

mod apt;
mod caches;
mod combine;
mod duplicates;
mod optional;
mod packages;
mod removed;
mod same_content;
mod secrets;
pub(crate) use secrets::secret_id;
mod shell;
mod temp;

use std::collections::BTreeSet;

use super::findings::{Category, Finding, Suggestion};
use super::LayerInfo;

/// Evidence paths a suggestion keeps.
const MAX_EVIDENCE: usize = 10;

/// What a pass proposes; [`Builder::push`] works out the layers, savings and evidence from
/// the findings it resolves.
struct Draft {
    /// Stable rule id (`merge-apt-steps`, `secret-mount`, …).
    rule: &'static str,
    title: String,
    /// The layer whose step to rewrite.
    layer: usize,
    /// The instruction shown as the one to rewrite; `None`: the layer's own step.
    instruction: Option<String>,
    /// What to write instead.
    snippet: String,
    /// Indexes of the findings it resolves (those already claimed are dropped).
    findings: Vec<usize>,
}

struct Builder<'a> {
    findings: &'a [Finding],
    layers: &'a [LayerInfo],
    used: Vec<bool>,
    out: Vec<Suggestion>,
}

impl<'a> Builder<'a> {
    fn free(&self) -> impl Iterator<Item = (usize, &'a Finding)> + '_ {
        self.findings
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.used[*i])
    }

    fn instruction(&self, layer: usize) -> String {
        self.layers
            .get(layer)
            .map(|l| l.step.instruction.clone())
            .unwrap_or_default()
    }

    /// Records a suggestion resolving the draft's findings (ignored if they are all taken
    /// already).
    fn push(&mut self, draft: Draft) {
        let Draft {
            rule,
            title,
            layer,
            instruction,
            snippet,
            findings,
        } = draft;
        let ids: Vec<usize> = findings.into_iter().filter(|&i| !self.used[i]).collect();
        if ids.is_empty() {
            return;
        }
        let mut layers = BTreeSet::from([layer]);
        let mut evidence = Vec::new();
        let (mut bytes, mut compressed) = (0, Some(0));
        for &i in &ids {
            self.used[i] = true;
            let f = &self.findings[i];
            layers.insert(f.layer);
            if let Some(by) = f.hidden_by {
                layers.insert(by);
            }
            if f.category != Category::Secret {
                bytes += f.bytes;
                compressed = crate::analysis::add_estimates(compressed, f.compressed_bytes);
            }
            for p in &f.paths {
                if evidence.len() < MAX_EVIDENCE && !evidence.contains(p) {
                    evidence.push(p.clone());
                }
            }
        }
        self.out.push(Suggestion {
            rule: rule.to_string(),
            title,
            layer,
            layers: layers.into_iter().collect(),
            instruction: instruction.unwrap_or_else(|| self.instruction(layer)),
            snippet,
            saves_bytes: bytes,
            saves_compressed_bytes: compressed,
            findings: ids,
            evidence,
            source: None,
        });
    }

    fn layer(&self, i: usize) -> Option<&'a LayerInfo> {
        self.layers.get(i)
    }
}

/// Builds the suggestions for an analysis' findings.
pub(crate) fn suggestions(
    findings: &[Finding],
    layers: &[LayerInfo],
    packages: &super::packages::Packages,
) -> Vec<Suggestion> {
    let mut b = Builder {
        findings,
        layers,
        used: vec![false; findings.len()],
        out: Vec::new(),
    };
    secrets::secrets(&mut b);
    apt::apt(&mut b);
    caches::caches(&mut b);
    same_content::same_content(&mut b);
    removed::merge_runs(&mut b);
    temp::temp(&mut b);
    duplicates::duplicates(&mut b);
    packages::packages(&mut b, packages);
    optional::optional(&mut b, Category::Docs);
    optional::optional(&mut b, Category::Toolchain);
    let mut out = combine::combine(b.out, layers);
    out.sort_by(|a, b| {
        let sa = a.rule.starts_with("secret");
        let sb = b.rule.starts_with("secret");
        sb.cmp(&sa)
            .then(b.saves_bytes.cmp(&a.saves_bytes))
            .then(a.layer.cmp(&b.layer))
    });
    out
}
