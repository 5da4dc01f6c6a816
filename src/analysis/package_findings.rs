//! Findings about packages (lower severity, "optional" like toolchains): build-only
//! packages in the final image (`*-dev`, compilers, `build-essential`, `*-doc`), npm
//! `devDependencies` installed in `node_modules`, and Python test suites and `__pycache__`
//! inside installed distributions, counted per package. Bytes a path rule already reports
//! (the compiler and headers rules, say) are not counted again: each byte once.

use std::collections::{BTreeMap, HashSet};

use super::findings::{Category, Finding, Severity};
use super::packages::{Package, Packages};
use super::LayerInfo;
use crate::index::{display_path, LayerIndex};
use crate::packages::Ecosystem;

/// Finding ids (and the suggestions that resolve them).
pub(crate) const BUILD_ONLY: &str = "package.build-only";
pub(crate) const NPM_DEV: &str = "package.npm-dev-dependencies";
pub(crate) const PY_TESTS: &str = "package.python-tests";
pub(crate) const PY_CACHE: &str = "package.python-pycache";

const MAX_EVIDENCE: usize = 20;

/// Is this system package only needed to build software?
pub(crate) fn is_build_only(p: &Package) -> bool {
    if !p.ecosystem.is_system() {
        return false;
    }
    let n = p.name.as_str();
    const EXACT: &[&str] = &[
        "build-essential",
        "build-base",
        "gcc",
        "g++",
        "cpp",
        "make",
        "clang",
        "binutils",
        "autoconf",
        "automake",
        "libtool",
        "pkg-config",
        "pkgconf",
        "cmake",
        "python3-dev",
        "dpkg-dev",
        "gcc-c++",
    ];
    const PREFIX: &[&str] = &["gcc-", "g++-", "cpp-", "clang-", "llvm-", "binutils-"];
    EXACT.contains(&n)
        || n.ends_with("-dev")
        || n.ends_with("-devel")
        || n.ends_with("-doc")
        // `gcc-12`, `clang-16`; not `gcc-12-base` (a runtime library's dependency).
        || PREFIX.iter().any(|p| {
            n.strip_prefix(p).is_some_and(|v| {
                !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.')
            })
        })
}

/// The files of each package, as (layer, entry), from the ownership map.
fn files_by_package(pk: &Packages) -> Vec<Vec<(usize, usize)>> {
    let mut out = vec![Vec::new(); pk.packages.len()];
    for (&(l, e), &id) in &pk.owner {
        out[id as usize].push((l as usize, e as usize));
    }
    out
}

/// Builds the package findings. `claimed` are visible files a path rule already reports.
pub(crate) fn findings(
    pk: &Packages,
    indexes: &[LayerIndex],
    layers: &[LayerInfo],
    claimed: &HashSet<(usize, usize)>,
) -> Vec<Finding> {
    let files = files_by_package(pk);
    let size = |&(l, e): &(usize, usize)| indexes[l].entries[e].size;
    let path = |&(l, e): &(usize, usize)| format!("/{}", display_path(indexes[l].path(e)));
    let mut out = Vec::new();

    // Build-only system packages, grouped by the layer that installed them.
    let mut by_layer: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (id, p) in pk.packages.iter().enumerate() {
        if is_build_only(p) {
            by_layer.entry(p.layer).or_default().push(id);
        }
    }
    for (layer, ids) in by_layer {
        let mut bytes = 0;
        let mut evidence: Vec<(u64, String)> = Vec::new();
        let mut names = Vec::new();
        for &id in &ids {
            let p = &pk.packages[id];
            names.push(format!(
                "{} {} ({})",
                p.name,
                p.version,
                crate::units::human_bytes(p.bytes)
            ));
            for f in files[id].iter().filter(|f| !claimed.contains(f)) {
                bytes += size(f);
                evidence.push((size(f), path(f)));
            }
        }
        if bytes == 0 {
            continue;
        }
        let eco = pk.packages[ids[0]].ecosystem;
        let list: Vec<&str> = ids.iter().map(|&i| pk.packages[i].name.as_str()).collect();
        let mut f = Finding::shipped_by(
            Category::Toolchain,
            Severity::Low,
            BUILD_ONLY.to_string(),
            format!(
                "{} build-only {} package{} in the final image: {}",
                ids.len(),
                eco.as_str(),
                if ids.len() == 1 { "" } else { "s" },
                shorten(&list, 6)
            ),
            layers,
            layer,
            bytes,
        );
        f.detail = Some(names.join(", "));
        (f.path_count, f.paths) = evidence_of(evidence);
        out.push(f);
    }

    // npm devDependencies installed next to an application's package.json.
    for (layer, app) in &pk.apps {
        let mut ids = Vec::new();
        for dev in &app.dev_dependencies {
            let dir = format!("{}/node_modules/{dev}", app.dir.trim_end_matches('/'));
            if let Some(i) = pk.packages.iter().position(|p| {
                p.ecosystem == Ecosystem::Npm && p.path.as_deref() == Some(dir.as_str())
            }) {
                ids.push(i);
            }
        }
        let mut bytes = 0;
        let mut evidence = Vec::new();
        for &id in &ids {
            for f in files[id].iter().filter(|f| !claimed.contains(f)) {
                bytes += size(f);
                evidence.push((size(f), path(f)));
            }
        }
        if bytes == 0 {
            continue;
        }
        let list: Vec<&str> = ids.iter().map(|&i| pk.packages[i].name.as_str()).collect();
        let at = ids
            .iter()
            .map(|&i| pk.packages[i].layer)
            .max()
            .unwrap_or(*layer);
        let mut f = Finding::shipped_by(
            Category::Toolchain,
            Severity::for_bytes(bytes).min(Severity::Medium),
            NPM_DEV.to_string(),
            format!(
                "{} npm devDependencies of `{}` shipped: {}",
                ids.len(),
                app.dir,
                shorten(&list, 6)
            ),
            layers,
            at,
            bytes,
        );
        f.detail = Some(format!("{}/package.json", app.dir.trim_end_matches('/')));
        (f.path_count, f.paths) = evidence_of(evidence);
        out.push(f);
    }

    // Python test suites and bytecode caches, per distribution.
    for (rule, what, pick) in [
        (PY_TESTS, "test suites", is_test_path as fn(&[u8]) -> bool),
        (PY_CACHE, "`__pycache__` bytecode", is_pycache_path),
    ] {
        let mut by_layer: BTreeMap<usize, Vec<PerPackage>> = BTreeMap::new();
        for (id, p) in pk.packages.iter().enumerate() {
            if !(p.ecosystem == Ecosystem::Pip || p.name.starts_with("python3-")) {
                continue;
            }
            let mut bytes = 0;
            let mut ev = Vec::new();
            for f in &files[id] {
                if claimed.contains(f) || !pick(indexes[f.0].path(f.1)) {
                    continue;
                }
                bytes += size(f);
                ev.push((size(f), path(f)));
            }
            if bytes > 0 {
                by_layer.entry(p.layer).or_default().push((id, bytes, ev));
            }
        }
        for (layer, mut per) in by_layer {
            per.sort_by_key(|x| std::cmp::Reverse(x.1));
            let bytes: u64 = per.iter().map(|x| x.1).sum();
            let detail: Vec<String> = per
                .iter()
                .map(|(id, b, _)| {
                    format!(
                        "{}: {}",
                        pk.packages[*id].name,
                        crate::units::human_bytes(*b)
                    )
                })
                .collect();
            let names: Vec<&str> = per
                .iter()
                .map(|(id, _, _)| pk.packages[*id].name.as_str())
                .collect();
            let mut f = Finding::shipped_by(
                Category::Toolchain,
                Severity::Low,
                rule.to_string(),
                format!(
                    "Python {what} in {} installed package{}: {}",
                    per.len(),
                    if per.len() == 1 { "" } else { "s" },
                    shorten(&names, 6)
                ),
                layers,
                layer,
                bytes,
            );
            f.detail = Some(detail.join(", "));
            (f.path_count, f.paths) = evidence_of(per.into_iter().flat_map(|x| x.2).collect());
            out.push(f);
        }
    }
    out
}

/// (package index, bytes, evidence) for one package.
type PerPackage = (usize, u64, Vec<(u64, String)>);

fn is_pycache_path(p: &[u8]) -> bool {
    memchr::memmem::find(p, b"/__pycache__/").is_some()
}

/// A file inside a `tests`/`test` directory of a package (its bytecode is counted as
/// bytecode).
fn is_test_path(p: &[u8]) -> bool {
    !is_pycache_path(p)
        && (memchr::memmem::find(p, b"/tests/").is_some()
            || memchr::memmem::find(p, b"/test/").is_some())
        && memchr::memmem::find(p, b"-packages/").is_some()
}

fn shorten(names: &[&str], max: usize) -> String {
    let mut s = names
        .iter()
        .take(max)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > max {
        s.push_str(&format!(" and {} more", names.len() - max));
    }
    s
}

fn evidence_of(mut files: Vec<(u64, String)>) -> (usize, Vec<String>) {
    files.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let n = files.len();
    (
        n,
        files.into_iter().take(MAX_EVIDENCE).map(|f| f.1).collect(),
    )
}

/// The rewrite for a package finding: (suggestion rule, title, snippet), given the
/// finding and the packages.
pub(crate) fn fix(
    f: &Finding,
    pk: &Packages,
    instruction: &str,
) -> Option<(&'static str, String, String)> {
    match f.rule.as_str() {
        // A base image's packages (`ADD rootfs.tar /`) are not removed by editing that step.
        BUILD_ONLY if !instruction.starts_with("RUN ") => None,
        BUILD_ONLY => {
            let names: Vec<&Package> = pk
                .packages
                .iter()
                .filter(|p| p.layer == f.layer && is_build_only(p))
                .collect();
            let list = names.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(" ");
            let eco = names.first().map_or(Ecosystem::Dpkg, |p| p.ecosystem);
            let purge = match eco {
                Ecosystem::Apk => format!("apk del {list}"),
                Ecosystem::Rpm => format!("dnf remove -y {list} && dnf clean all"),
                _ => format!("apt-get purge -y --auto-remove {list}"),
            };
            Some((
                "purge-build-packages",
                "Remove build-only packages in the step that used them, or build in a separate stage".to_string(),
                format!(
                    "# purge them in the same RUN that needed them:\n{instruction} \\\n && <build> \\\n && {purge}\n\n# or build in a separate stage:\nFROM <build-image> AS build\n{instruction}\nRUN <build the application into /out>\nFROM <runtime-image>\nCOPY --from=build /out/ /app/"
                ),
            ))
        }
        NPM_DEV => Some((
            "npm-omit-dev",
            "Install only production dependencies".to_string(),
            instruction
                .strip_prefix("RUN ")
                .and_then(|cmd| npm_omit_dev(cmd).ok())
                .unwrap_or_else(|| {
                    "RUN npm ci --omit=dev \\\n && npm cache clean --force".to_string()
                }),
        )),
        PY_TESTS | PY_CACHE => Some((
            "python-slim-site-packages",
            "Keep bytecode caches and test suites out of site-packages".to_string(),
            format!(
                "ENV PYTHONDONTWRITEBYTECODE=1\n{instruction} \\\n && find / -xdev -depth \\( -name __pycache__ -o -name tests -path '*-packages/*' \\) -type d -exec rm -rf {{}} +"
            ),
        )),
        _ => None,
    }
}

/// A RUN's `npm install` / `npm ci` rewritten to install the lock file's production
/// dependencies only, with npm's cache cleaned in the same step (`RUN npm ci --omit=dev \
/// && npm cache clean --force`); or why it cannot be done mechanically.
pub(crate) fn npm_omit_dev(cmd: &str) -> Result<String, String> {
    let parts: Vec<String> = cmd
        .split("&&")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty() && p != "\\")
        .collect();
    if parts.iter().any(|p| p.contains("npm run ")) {
        return Err(
            "the same RUN runs `npm run …`, which may need the dev dependencies: build in a \
             stage and `COPY --from` what it makes"
                .into(),
        );
    }
    let mut found = false;
    let mut out = Vec::new();
    for p in &parts {
        let words: Vec<&str> = p.split_whitespace().filter(|w| *w != "\\").collect();
        match words.as_slice() {
            ["npm", "ci" | "install" | "i", rest @ ..]
                if rest.iter().all(|w| w.starts_with('-')) =>
            {
                found = true;
                let mut line = vec!["npm", "ci"];
                line.extend(rest.iter().copied().filter(|w| {
                    !matches!(
                        *w,
                        "--omit=dev" | "--production" | "--only=production" | "--only=prod"
                    )
                }));
                line.push("--omit=dev");
                out.push(line.join(" "));
            }
            ["npm", "install" | "i", ..] => {
                return Err(
                    "`npm install NAME` adds packages by name; list them in package.json and \
                     install the lock file with `npm ci --omit=dev`"
                        .into(),
                )
            }
            _ => out.push(p.clone()),
        }
    }
    if !found {
        return Err("the step has no `npm ci` or `npm install`".into());
    }
    if !out.iter().any(|p| p.starts_with("npm cache clean")) {
        out.push("npm cache clean --force".to_string());
    }
    Ok(format!("RUN {}", out.join(" \\\n && ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_install_becomes_npm_ci_omit_dev() {
        assert_eq!(
            npm_omit_dev("npm install").unwrap(),
            "RUN npm ci --omit=dev \\\n && npm cache clean --force"
        );
        assert_eq!(
            npm_omit_dev("cd /app && npm ci --no-audit --production").unwrap(),
            "RUN cd /app \\\n && npm ci --no-audit --omit=dev \\\n && npm cache clean --force"
        );
        assert!(npm_omit_dev("npm ci && npm run build").is_err());
        assert!(npm_omit_dev("npm install express").is_err());
        assert!(npm_omit_dev("pip install x").is_err());
    }

    fn named(name: &str) -> Package {
        Package {
            ecosystem: Ecosystem::Dpkg,
            name: name.into(),
            version: "1".into(),
            bytes: 0,
            files: 0,
            layer: 0,
            changed_in: Vec::new(),
            depends: Vec::new(),
            path: None,
        }
    }

    #[test]
    fn build_only_names() {
        for n in [
            "gcc-12",
            "g++-12",
            "cpp-12",
            "clang-16",
            "libc6-dev",
            "build-essential",
            "make",
            "python3-dev",
            "bash-doc",
            "openssl-devel",
        ] {
            assert!(is_build_only(&named(n)), "{n}");
        }
        for n in [
            "gcc-12-base",
            "libgcc-s1",
            "libc6",
            "cpp-httplib",
            "makedev",
            "libllvm15",
        ] {
            assert!(!is_build_only(&named(n)), "{n}");
        }
    }
}
