//! Package-cache suggestions other than apt: the package manager's own flag or clean
//! command, a build cache mount, or leaving the cache out of the build context.

use std::collections::BTreeMap;

use super::shell::{add_flag, command, is_run, run_snippet};
use super::{Builder, Draft};
use crate::analysis::findings::Category;
use crate::analysis::rules::{classify, Fix};

/// Other package caches: the package manager's own flag, or a cache mount.
pub(super) fn caches(b: &mut Builder<'_>) {
    let mut groups: BTreeMap<(usize, Fix), Vec<usize>> = BTreeMap::new();
    for (i, f) in b.free() {
        if f.category != Category::PackageCache {
            continue;
        }
        let Some(fix) = f
            .paths
            .first()
            .and_then(|p| classify(p.trim_start_matches('/').as_bytes()))
            .map(|r| r.fix)
        else {
            continue;
        };
        groups.entry((f.layer, fix)).or_default().push(i);
    }
    for ((layer, fix), ids) in groups {
        let Some(l) = b.layer(layer) else { continue };
        let cmd = command(l).to_string();
        let run = is_run(l);
        let (rule, title, snippet) = match fix {
            Fix::Pip if run && cmd.contains("pip") => (
                "pip-no-cache-dir",
                "Install with `pip install --no-cache-dir`".to_string(),
                format!(
                    "RUN {}",
                    add_flag(
                        &add_flag(&cmd, "pip install", "--no-cache-dir"),
                        "pip3 install",
                        "--no-cache-dir"
                    )
                ),
            ),
            Fix::Npm if run => (
                "npm-cache-clean",
                "Clean npm's cache in the same RUN".to_string(),
                run_snippet(&[cmd.clone(), "npm cache clean --force".to_string()]),
            ),
            Fix::Yarn if run => (
                "yarn-cache-clean",
                "Clean yarn's cache in the same RUN".to_string(),
                run_snippet(&[cmd.clone(), "yarn cache clean".to_string()]),
            ),
            Fix::Apk if run => (
                "apk-no-cache",
                "Install with `apk add --no-cache`".to_string(),
                format!(
                    "RUN {}",
                    add_flag(&cmd, "apk add", "--no-cache").replace("apk update && ", "")
                ),
            ),
            Fix::Dnf if run => {
                let tool = if cmd.contains("microdnf") {
                    "microdnf"
                } else if cmd.contains("yum ") {
                    "yum"
                } else {
                    "dnf"
                };
                (
                    "dnf-clean-all",
                    format!("Run `{tool} clean all` in the same RUN"),
                    run_snippet(&[cmd.clone(), format!("{tool} clean all")]),
                )
            }
            Fix::Zypper if run => (
                "zypper-clean",
                "Run `zypper clean --all` in the same RUN".to_string(),
                run_snippet(&[cmd.clone(), "zypper clean --all".to_string()]),
            ),
            _ if run => {
                let target = match fix {
                    Fix::CacheMount(dir) => dir.to_string(),
                    Fix::Pip => "/root/.cache/pip".to_string(),
                    Fix::Npm => "/root/.npm".to_string(),
                    Fix::Yarn => "/usr/local/share/.cache/yarn".to_string(),
                    Fix::Pnpm => "/root/.local/share/pnpm/store".to_string(),
                    _ => cache_dir(b, &ids),
                };
                (
                    "cache-mount",
                    format!("Keep the cache in a build cache mount (`{target}`), not in the layer"),
                    format!("RUN --mount=type=cache,target={target} \\\n    {cmd}"),
                )
            }
            _ => (
                "exclude-from-context",
                "Leave the cache out of the build context (.dockerignore)".to_string(),
                format!(
                    "# .dockerignore\n{}\n{}",
                    cache_dir(b, &ids).trim_start_matches('/'),
                    l.step.instruction
                ),
            ),
        };
        b.push(Draft {
            rule,
            title,
            layer,
            instruction: None,
            snippet,
            findings: ids,
        });
    }
}

/// The deepest directory common to the findings' evidence paths.
fn cache_dir(b: &Builder<'_>, ids: &[usize]) -> String {
    let mut common: Option<Vec<&str>> = None;
    for &i in ids {
        for p in &b.findings[i].paths {
            let comps: Vec<&str> = p.split('/').collect();
            let dir = &comps[..comps.len().saturating_sub(1)];
            common = Some(match common {
                None => dir.to_vec(),
                Some(c) => c
                    .iter()
                    .zip(dir)
                    .take_while(|(a, b)| a == b)
                    .map(|(a, _)| *a)
                    .collect(),
            });
        }
    }
    let dir = common.unwrap_or_default().join("/");
    if dir.is_empty() {
        "/".to_string()
    } else {
        dir
    }
}
