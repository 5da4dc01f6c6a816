//! Rewrite suggestions: turns findings into concrete Dockerfile changes. Each suggestion
//! names the layer and instruction to rewrite, gives a snippet to write instead, the
//! findings it resolves (each finding is resolved by at most one suggestion, so savings add
//! up), the bytes it saves (content and estimated compressed) and evidence paths.
//!
//! Passes run in priority order and each claims the findings it resolves: secrets, apt,
//! other package caches, same-content rewrites (`chmod -R`, `chown -R`), files removed or
//! replaced by a later RUN, temporary and log files, duplicates, docs, toolchains.

use std::collections::{BTreeMap, BTreeSet};

use super::findings::{Category, Finding, Suggestion};
use super::rules::{classify, Fix};
use super::LayerInfo;

/// Evidence paths a suggestion keeps.
const MAX_EVIDENCE: usize = 10;

/// A layer's step viewed as a command.
fn keyword(l: &LayerInfo) -> &str {
    l.step.keyword()
}

fn is_run(l: &LayerInfo) -> bool {
    keyword(l) == "RUN"
}

/// The shell command of a RUN step (without `RUN`); the whole instruction otherwise.
fn command(l: &LayerInfo) -> &str {
    if is_run(l) {
        l.step.body()
    } else {
        &l.step.instruction
    }
}

/// `ADD rootfs.tar /`-style layers: a base image's root filesystem.
fn is_base_rootfs(l: &LayerInfo) -> bool {
    keyword(l) == "ADD" && (l.step.body().ends_with(" in /") || l.step.body().ends_with(" /"))
}

fn is_apt_command(cmd: &str) -> bool {
    cmd.contains("apt-get ")
        || cmd.contains("apt ")
        || cmd.contains("/var/lib/apt/lists")
        || cmd.contains("aptitude ")
}

/// Splits a shell command on `&&` into its parts, whitespace collapsed (`;` is left alone:
/// it also separates the clauses of `for` and `if`).
fn parts(cmd: &str) -> Vec<String> {
    cmd.split("&&")
        .map(|p| {
            p.split_whitespace()
                .filter(|w| *w != "\\")
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|p| !p.is_empty())
        .collect()
}

/// `RUN a \ && b \ && c` laid out one part per line (each command split on `&&`).
fn run_snippet(commands: &[String]) -> String {
    let all: Vec<String> = commands.iter().flat_map(|c| parts(c)).collect();
    let mut s = String::from("RUN ");
    for (i, p) in all.iter().enumerate() {
        if i > 0 {
            s.push_str(" \\\n && ");
        }
        s.push_str(p);
    }
    s
}

/// Inserts `flag` after every occurrence of `verb` in `cmd` and the options that follow it
/// (`apt-get install -y x` → `apt-get install -y FLAG x`), unless `cmd` already has it.
fn add_flag(cmd: &str, verb: &str, flag: &str) -> String {
    if cmd.contains(flag) {
        return cmd.to_string();
    }
    let mut out = String::with_capacity(cmd.len() + flag.len() + 1);
    let mut rest = cmd;
    while let Some(at) = rest.find(verb) {
        let after = at + verb.len();
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        // Keep the options that directly follow the verb before the flag.
        loop {
            let trimmed = rest.trim_start();
            let ws = rest.len() - trimmed.len();
            if ws > 0 && trimmed.starts_with('-') {
                let word = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
                out.push_str(&rest[..ws + word]);
                rest = &rest[ws + word..];
            } else {
                break;
            }
        }
        out.push(' ');
        out.push_str(flag);
    }
    out.push_str(rest);
    out
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

    /// Records a suggestion resolving `ids` (ignored if they are all taken already).
    fn push(
        &mut self,
        rule: &str,
        title: String,
        layer: usize,
        instruction: Option<String>,
        snippet: String,
        ids: Vec<usize>,
    ) {
        let ids: Vec<usize> = ids.into_iter().filter(|&i| !self.used[i]).collect();
        if ids.is_empty() {
            return;
        }
        let mut layers = BTreeSet::from([layer]);
        let mut evidence = Vec::new();
        let (mut bytes, mut compressed) = (0, 0);
        for &i in &ids {
            self.used[i] = true;
            let f = &self.findings[i];
            layers.insert(f.layer);
            if let Some(by) = f.hidden_by {
                layers.insert(by);
            }
            if f.category != Category::Secret {
                bytes += f.bytes;
                compressed += f.compressed_bytes;
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
pub fn suggestions(findings: &[Finding], layers: &[LayerInfo]) -> Vec<Suggestion> {
    let mut b = Builder {
        findings,
        layers,
        used: vec![false; findings.len()],
        out: Vec::new(),
    };
    secrets(&mut b);
    apt(&mut b);
    caches(&mut b);
    same_content(&mut b);
    merge_runs(&mut b);
    temp(&mut b);
    duplicates(&mut b);
    optional(&mut b, Category::Docs);
    optional(&mut b, Category::Toolchain);
    let mut out = b.out;
    out.sort_by(|a, b| {
        let sa = a.rule.starts_with("secret");
        let sb = b.rule.starts_with("secret");
        sb.cmp(&sa)
            .then(b.saves_bytes.cmp(&a.saves_bytes))
            .then(a.layer.cmp(&b.layer))
    });
    out
}

/// Secrets: mount them for the one step that needs them instead of shipping them.
fn secrets(b: &mut Builder<'_>) {
    let secret_ids: Vec<usize> = b
        .free()
        .filter(|(_, f)| f.category == Category::Secret)
        .map(|(i, _)| i)
        .collect();
    for i in secret_ids {
        let f = &b.findings[i];
        let mut ids = vec![i];
        let (title, snippet, instruction);
        if let Some(path) = f.paths.first() {
            // A secret file: also resolves the hidden copies of that same file.
            ids.extend(
                b.free()
                    .filter(|(j, g)| {
                        *j != i
                            && g.category.is_hidden()
                            && g.layer == f.layer
                            && !g.paths.is_empty()
                            && g.paths.iter().all(|p| p == path)
                    })
                    .map(|(j, _)| j),
            );
            let name = path.rsplit('/').next().unwrap_or("secret");
            let id = secret_id(name);
            title = format!("Mount `{path}` as a build secret instead of putting it in a layer");
            snippet = format!(
                "# build with: docker build --secret id={id},src=./{name} .\n\
                 RUN --mount=type=secret,id={id},target={path},required=true \\\n    \
                 <the command that needs it>"
            );
            instruction = None;
        } else {
            let var = f
                .detail
                .as_deref()
                .and_then(|d| d.strip_prefix("ENV "))
                .and_then(|d| d.split([' ', '=', ':']).next())
                .unwrap_or("TOKEN")
                .to_string();
            let id = secret_id(&var);
            title = if f.rule.ends_with("-env")
                || f.detail.as_deref().is_some_and(|d| d.starts_with("ENV "))
            {
                format!("Pass `{var}` as a build secret or at run time, not with ENV")
            } else {
                "Pass the credential as a build secret, not in the command line".to_string()
            };
            snippet = format!(
                "# build with: docker build --secret id={id},env={var} .\n\
                 RUN --mount=type=secret,id={id},env={var} \\\n    \
                 <the command that needs it>\n\
                 # and at run time: docker run -e {var} …"
            );
            // For ENV: the ENV instruction (redacted); for a command: the layer's own step.
            instruction = f
                .detail
                .as_deref()
                .filter(|d| d.starts_with("ENV "))
                .map(|d| d.split_once(": ").map_or(d, |(a, _)| a).to_string());
        }
        let layer = f.layer;
        b.push("secret-mount", title, layer, instruction, snippet, ids);
    }
}

fn secret_id(name: &str) -> String {
    let s: String = name
        .trim_start_matches('.')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "secret".to_string()
    } else {
        s
    }
}

/// apt: one RUN that updates, installs with `--no-install-recommends`, and cleans.
fn apt(b: &mut Builder<'_>) {
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
    b.push(
        "merge-apt-steps",
        title,
        first,
        None,
        run_snippet(&all),
        ids,
    );
}

/// Other package caches: the package manager's own flag, or a cache mount.
fn caches(b: &mut Builder<'_>) {
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
        b.push(rule, title, layer, None, snippet, ids);
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

/// Same-content rewrites (`chmod -R`, `chown -R`, `touch`): set modes where files are made.
fn same_content(b: &mut Builder<'_>) {
    let mut by_hider: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, f) in b.free() {
        if f.category == Category::OverwrittenSame {
            if let Some(by) = f.hidden_by {
                by_hider.entry(by).or_default().push(i);
            }
        }
    }
    for (by, ids) in by_hider {
        let Some(hider) = b.layer(by) else { continue };
        let creators: BTreeSet<usize> = ids.iter().map(|&i| b.findings[i].layer).collect();
        let hcmd = command(hider).to_string();
        let metadata_only = is_run(hider)
            && ["chmod", "chown", "chgrp", "touch", "setfacl"]
                .iter()
                .any(|c| hcmd.contains(c));
        let mut lines = Vec::new();
        for &c in &creators {
            let Some(cl) = b.layer(c) else { continue };
            match keyword(cl) {
                "COPY" | "ADD" if metadata_only => {
                    let (flag, val) = if hcmd.contains("chown") {
                        ("--chown", owner_of(&hcmd))
                    } else {
                        ("--chmod", mode_of(&hcmd))
                    };
                    lines.push(format!("{} {flag}={val} {}", keyword(cl), cl.step.body()));
                }
                "RUN" if is_run(hider) => {
                    lines.push(run_snippet(&[command(cl).to_string(), hcmd.clone()]));
                }
                _ => lines.push(cl.step.instruction.clone()),
            }
        }
        let (rule, title) = if metadata_only {
            (
                "set-modes-in-creating-step",
                if creators
                    .iter()
                    .any(|&c| b.layer(c).is_some_and(|l| keyword(l) != "RUN"))
                {
                    format!(
                        "Use `COPY --chmod/--chown` instead of a separate `{}` layer",
                        super::one_line(&hcmd, 40)
                    )
                } else {
                    "Change modes and owners in the step that creates the files, not in a later layer"
                        .to_string()
                },
            )
        } else {
            (
                "avoid-identical-rewrite",
                "Do not write files that an earlier layer already holds byte for byte".to_string(),
            )
        };
        let mut snippet = lines.join("\n");
        if metadata_only {
            snippet.push_str(&format!(
                "\n# and drop: {}",
                super::one_line(&hider.step.instruction, 80)
            ));
        }
        b.push(rule, title, by, None, snippet, ids);
    }
}

fn mode_of(cmd: &str) -> String {
    let mut words = cmd.split_whitespace().skip_while(|w| !w.ends_with("chmod"));
    words.next();
    words
        .find(|w| !w.starts_with('-'))
        .map_or("<mode>".to_string(), |m| {
            if m.chars().all(|c| c.is_ascii_digit()) {
                m.to_string()
            } else {
                format!("<octal mode for {m}>")
            }
        })
}

fn owner_of(cmd: &str) -> String {
    let mut words = cmd.split_whitespace().skip_while(|w| !w.ends_with("chown"));
    words.next();
    words
        .find(|w| !w.starts_with('-'))
        .map_or("<user>:<group>".to_string(), str::to_string)
}

/// Files removed or replaced by a later layer: remove them in the step that made them (or
/// merge the two RUNs), or keep them out of the build context / in a build stage.
fn merge_runs(b: &mut Builder<'_>) {
    let mut pairs: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for (i, f) in b.free() {
        if matches!(f.category, Category::Removed | Category::OverwrittenChanged) {
            if let Some(by) = f.hidden_by {
                pairs.entry((f.layer, by)).or_default().push(i);
            }
        }
    }
    for ((made, by), ids) in pairs {
        let (Some(ml), Some(bl)) = (b.layer(made), b.layer(by)) else {
            continue;
        };
        let removed_only = ids
            .iter()
            .all(|&i| b.findings[i].category == Category::Removed);
        if is_run(ml) && is_run(bl) {
            let title = if removed_only {
                format!("Delete the files in the step that creates them (merge layer {made} and layer {by})")
            } else {
                format!(
                    "Merge layer {made} and layer {by} into one RUN so only the final files ship"
                )
            };
            b.push(
                "merge-runs",
                title,
                made,
                None,
                run_snippet(&[command(ml).to_string(), command(bl).to_string()]),
                ids,
            );
        } else if matches!(keyword(ml), "COPY" | "ADD") && removed_only && made > 0 {
            let paths: Vec<String> = ids
                .iter()
                .flat_map(|&i| b.findings[i].paths.iter().take(5).cloned())
                .collect();
            b.push(
                "exclude-from-context",
                format!("Keep files that layer {by} deletes out of the build context, or copy them from a build stage"),
                made,
                None,
                format!(
                    "# .dockerignore (or COPY --from=build only what the image needs)\n{}\n{}",
                    paths
                        .iter()
                        .map(|p| p.trim_start_matches('/'))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    ml.step.instruction
                ),
                ids,
            );
        }
    }
}

/// Temporary and log files: delete them in the RUN that writes them.
fn temp(b: &mut Builder<'_>) {
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
        b.push("delete-temp-files", title, layer, None, snippet, ids);
    }
}

/// Duplicates: ship one copy, link the others.
fn duplicates(b: &mut Builder<'_>) {
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
                for p in f.paths.iter().take(8) {
                    links.push(format!("ln -sf {kept} {p}"));
                }
            }
        }
        if links.is_empty() {
            // Only pooled small duplicates: not worth a rewrite of their own.
            continue;
        }
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
        b.push(
            "link-duplicates",
            "Ship one copy of identical files and link the others".to_string(),
            layer,
            None,
            snippet,
            ids,
        );
    }
}

/// Docs and toolchains: one suggestion each, when they weigh at least 1 MB.
fn optional(b: &mut Builder<'_>, cat: Category) {
    let ids: Vec<usize> = b
        .free()
        .filter(|(_, f)| f.category == cat)
        .map(|(i, _)| i)
        .collect();
    let total: u64 = ids.iter().map(|&i| b.findings[i].bytes).sum();
    if total < 1_000_000 {
        return;
    }
    // Name the layer that ships the most of it.
    let mut per_layer: BTreeMap<usize, u64> = BTreeMap::new();
    for &i in &ids {
        *per_layer.entry(b.findings[i].layer).or_default() += b.findings[i].bytes;
    }
    let Some((&layer, _)) = per_layer
        .iter()
        .max_by_key(|(l, n)| (**n, std::cmp::Reverse(**l)))
    else {
        return;
    };
    let instruction = b.instruction(layer);
    let (rule, title, snippet) = if cat == Category::Docs {
        (
            "exclude-docs",
            "Keep docs, man pages and translations out of the image".to_string(),
            format!(
                "RUN printf '%s\\n' \\\n    'path-exclude /usr/share/doc/*' \\\n    'path-include /usr/share/doc/*/copyright' \\\n    'path-exclude /usr/share/man/*' \\\n    'path-exclude /usr/share/info/*' \\\n    'path-exclude /usr/share/locale/*' \\\n    > /etc/dpkg/dpkg.cfg.d/01-nodoc\n{instruction}"
            ),
        )
    } else {
        (
            "multi-stage",
            "Build in a separate stage and copy only the result into the runtime image".to_string(),
            format!(
                "FROM <build image> AS build\n{instruction}\nRUN <build the application into /out>\n\nFROM <runtime image>\nCOPY --from=build /out/ /app/"
            ),
        )
    };
    b.push(rule, title, layer, None, snippet, ids);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_joins_commands() {
        assert_eq!(
            parts("apt-get update && apt-get install -y \\\n curl && rm -rf /x"),
            ["apt-get update", "apt-get install -y curl", "rm -rf /x"]
        );
        assert_eq!(run_snippet(&["a".into(), "b".into()]), "RUN a \\\n && b");
        assert_eq!(
            add_flag("pip install x", "pip install", "--no-cache-dir"),
            "pip install --no-cache-dir x"
        );
        assert_eq!(
            add_flag(
                "apt-get install -y -q curl && apt-get install git",
                "apt-get install",
                "--no-install-recommends"
            ),
            "apt-get install -y -q --no-install-recommends curl && apt-get install --no-install-recommends git"
        );
        assert_eq!(
            add_flag("apk add", "apk add", "--no-cache"),
            "apk add --no-cache"
        );
        assert_eq!(mode_of("chmod -R g+w /x"), "<octal mode for g+w>");
        assert_eq!(mode_of("chmod -R 755 /x"), "755");
        assert_eq!(owner_of("chown -R app:app /x"), "app:app");
        assert_eq!(secret_id("id_rsa"), "id_rsa");
        assert_eq!(secret_id(".npmrc"), "npmrc");
    }
}
