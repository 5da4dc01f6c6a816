//! apt suggestions: one `RUN` that updates, installs with `--no-install-recommends` and
//! cleans up after itself.

use std::collections::BTreeSet;

use super::shell::{add_flag, command, is_apt_command, is_run, parts, run_snippet};
use super::{Builder, Draft};
use crate::analysis::findings::Category;

/// apt: one RUN that updates, installs with `--no-install-recommends`, and cleans.
pub(super) fn apt(b: &mut Builder<'_>) {
    let apt_layers: Vec<usize> = b
        .layers
        .iter()
        .enumerate()
        .filter(|(_, l)| is_run(l) && is_apt_command(command(l)))
        .map(|(i, _)| i)
        .collect();
    let is_apt_layer = |l: usize| apt_layers.contains(&l);
    let ids: Vec<usize> = b
        .free()
        .filter(|(_, f)| {
            (f.category == Category::PackageCache && f.rule.starts_with("cache.apt-"))
                || (f.category.is_hidden()
                    && is_apt_layer(f.layer)
                    && f.hidden_by.is_some_and(is_apt_layer))
        })
        .map(|(i, _)| i)
        .collect();
    if ids.is_empty() {
        return;
    }
    // The layers the rewrite covers: the apt layers the findings touch, and any apt layer
    // between them.
    let mut touched: BTreeSet<usize> = BTreeSet::new();
    for &i in &ids {
        let f = &b.findings[i];
        touched.insert(f.layer);
        if let Some(by) = f.hidden_by {
            touched.insert(by);
        }
    }
    let (lo, hi) = match (touched.first(), touched.last()) {
        (Some(&lo), Some(&hi)) => (lo, hi),
        _ => return,
    };
    let covered: Vec<usize> = apt_layers
        .iter()
        .copied()
        .filter(|&l| l >= lo && l <= hi)
        .collect();
    let covered = if covered.is_empty() {
        // Caches shipped by a layer that runs no apt command (e.g. COPY): rewrite the
        // apt layers around it anyway, or just the first apt layer.
        apt_layers.first().map(|&l| vec![l]).unwrap_or_default()
    } else {
        covered
    };
    let mut update = false;
    let mut body: Vec<String> = Vec::new();
    for &l in &covered {
        let Some(layer) = b.layer(l) else { continue };
        for p in parts(command(layer)) {
            if p.contains("apt-get update") || p.starts_with("apt update") {
                update = true;
            } else if p.contains("/var/lib/apt/lists") || p.contains("apt-get clean") {
                // Re-added at the end.
            } else if p.contains("apt-get install") || p.starts_with("apt install") {
                let p = p.replace("apt install", "apt-get install");
                body.push(add_flag(&p, "apt-get install", "--no-install-recommends"));
            } else {
                body.push(p);
            }
        }
    }
    let mut all = Vec::new();
    if update || body.iter().any(|p| p.contains("apt-get install")) {
        all.push("apt-get update".to_string());
    }
    all.extend(body);
    all.push("apt-get clean".to_string());
    all.push("rm -rf /var/lib/apt/lists/*".to_string());
    let first = covered.first().copied().unwrap_or(lo);
    let title = if covered.len() > 1 {
        format!(
            "Merge the {} apt steps into one RUN that cleans up after itself",
            covered.len()
        )
    } else {
        "Clean apt's lists and caches in the RUN that fills them".to_string()
    };
    b.push(Draft {
        rule: "merge-apt-steps",
        title,
        layer: first,
        instruction: None,
        snippet: run_snippet(&all),
        findings: ids,
    });
}
