//! Duplicate suggestions: ship one copy of identical files and link the others.

use std::collections::BTreeMap;

use super::shell::{command, keyword, run_snippet};
use super::{Builder, Draft};
use crate::analysis::findings::Category;

/// Duplicate links spelled out one `ln` each; more become one `hardlink` command.
pub(crate) const MAX_LN_LINES: usize = 4;

/// Duplicates: ship one copy, link the others.
pub(super) fn duplicates(b: &mut Builder<'_>) {
    let mut by_layer: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, f) in b.free() {
        if f.category == Category::Duplicate {
            by_layer.entry(f.layer).or_default().push(i);
        }
    }
    for (layer, ids) in by_layer {
        let Some(l) = b.layer(layer) else { continue };
        let mut links = Vec::new();
        for &i in &ids {
            let f = &b.findings[i];
            let kept = f
                .detail
                .as_deref()
                .and_then(|d| d.split('`').nth(1))
                .map(str::to_string);
            // Files under system directories belong to packages: linking them would break
            // the package database, so only application files get a rewrite.
            let system = |p: &str| {
                ["/usr/", "/lib", "/etc/", "/var/", "/bin/", "/sbin/"]
                    .iter()
                    .any(|d| p.starts_with(d))
            };
            if let Some(kept) = kept.filter(|k| !system(k)) {
                for p in f.paths.iter() {
                    links.push((kept.clone(), p.clone()));
                }
            }
        }
        if links.is_empty() {
            // Only pooled small duplicates: not worth a rewrite of their own.
            continue;
        }
        // A few links are spelled out; more become one bounded `hardlink` over their
        // directories (the full list of copies stays in the JSON findings).
        let links: Vec<String> = if links.len() <= MAX_LN_LINES {
            links
                .iter()
                .map(|(kept, p)| format!("ln -sf {kept} {p}"))
                .collect()
        } else {
            vec![format!(
                "hardlink {}  # util-linux: links byte-identical files",
                crate::analysis::hardlink::dirs(&links).join(" ")
            )]
        };
        let mut snippet = String::new();
        if matches!(keyword(l), "COPY" | "ADD") {
            snippet.push_str(
                "# leave the extra copies out of the build context (.dockerignore), then\n",
            );
            snippet.push_str(&l.step.instruction);
            snippet.push('\n');
            snippet.push_str(&run_snippet(&links));
        } else {
            let mut all = vec![command(l).to_string()];
            all.extend(links);
            snippet = run_snippet(&all);
        }
        b.push(Draft {
            rule: "link-duplicates",
            title: "Ship one copy of identical files and link the others".to_string(),
            layer,
            instruction: None,
            snippet,
            findings: ids,
        });
    }
}
