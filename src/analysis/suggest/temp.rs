//! Temporary and log file suggestions: delete them in the RUN that writes them.

use std::collections::{BTreeMap, BTreeSet};

use super::shell::{command, is_base_rootfs, is_run, run_snippet};
use super::{Builder, Draft};
use crate::analysis::findings::Category;

/// Temporary and log files: delete them in the RUN that writes them.
pub(super) fn temp(b: &mut Builder<'_>) {
    let mut by_layer: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, f) in b.free() {
        if f.category == Category::TempLog {
            by_layer.entry(f.layer).or_default().push(i);
        }
    }
    for (layer, ids) in by_layer {
        let Some(l) = b.layer(layer) else { continue };
        let mut targets: BTreeSet<String> = BTreeSet::new();
        for &i in &ids {
            for p in &b.findings[i].paths {
                let t = if p.starts_with("/tmp/") {
                    "/tmp/*".to_string()
                } else if p.starts_with("/var/tmp/") {
                    "/var/tmp/*".to_string()
                } else if let Some(rest) = p.strip_prefix("/var/log/") {
                    match rest.split_once('/') {
                        Some((dir, _)) => format!("/var/log/{dir}/*"),
                        None => p.clone(),
                    }
                } else {
                    p.clone()
                };
                targets.insert(t);
            }
        }
        let rm = format!(
            "rm -rf {}",
            targets.into_iter().collect::<Vec<_>>().join(" ")
        );
        if is_base_rootfs(l) {
            continue; // the base image's own files: not this Dockerfile's to fix
        }
        let (title, snippet) = if is_run(l) {
            (
                "Delete temporary and log files in the RUN that writes them".to_string(),
                run_snippet(&[command(l).to_string(), rm]),
            )
        } else {
            (
                "Keep temporary and log files out of the build context".to_string(),
                format!("# .dockerignore the files, then\n{}", l.step.instruction),
            )
        };
        b.push(Draft {
            rule: "delete-temp-files",
            title,
            layer,
            instruction: None,
            snippet,
            findings: ids,
        });
    }
}
