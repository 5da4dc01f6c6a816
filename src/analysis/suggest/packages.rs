//! Package finding suggestions: each package finding gets its own rewrite (purge build-only
//! packages, `npm ci --omit=dev`, no bytecode or tests in site-packages); the snippets are
//! written by [`crate::analysis::package_findings::fix`].

use super::{Builder, Draft};
use crate::analysis::package_findings;
use crate::analysis::packages::Packages;

/// Package findings (`package.*`): one suggestion each.
pub(super) fn packages(b: &mut Builder<'_>, packages: &Packages) {
    let ids: Vec<usize> = b
        .free()
        .filter(|(_, f)| f.rule.starts_with("package."))
        .map(|(i, _)| i)
        .collect();
    for i in ids {
        let f = &b.findings[i];
        let instruction = b.instruction(f.layer);
        if let Some((rule, title, snippet)) = package_findings::fix(f, packages, &instruction) {
            b.push(Draft {
                rule,
                title,
                layer: f.layer,
                instruction: None,
                snippet,
                findings: vec![i],
            });
        }
    }
}
