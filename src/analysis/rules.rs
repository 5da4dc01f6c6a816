//! Path rules: the one table that says which visible files are package-manager caches,
//! temporary or log files, documentation, or build toolchains, and which fix each calls for.
//! A reader extends the table by adding a [`PathRule`] line; the patterns are globs over the
//! normalised layer path (no leading `/`): `*` matches within one component, `**` matches
//! any number of components (including none), `?` one character. The first matching rule
//! wins, so specific rules come before general ones.

use std::sync::OnceLock;

use regex::bytes::RegexSet;

use super::findings::Category;

/// The fix a rule's findings call for; the suggestion engine turns each into a rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Fix {
    /// apt lists, binary caches and `.deb` archives: one RUN that updates, installs with
    /// `--no-install-recommends` and cleans.
    Apt,
    /// `apk add --no-cache`.
    Apk,
    /// `dnf`/`yum`/`microdnf`: `clean all` in the same RUN.
    Dnf,
    /// `zypper clean --all` in the same RUN.
    Zypper,
    /// `pip install --no-cache-dir`.
    Pip,
    /// `npm cache clean --force`.
    Npm,
    /// `yarn cache clean`.
    Yarn,
    /// `pnpm store prune`.
    Pnpm,
    /// Anything else: a `RUN --mount=type=cache,target=DIR` keeps the cache out of the layer.
    CacheMount(&'static str),
    /// Delete temporary and log files in the step that wrote them.
    DeleteInStep,
    /// Keep docs out (`path-exclude` in dpkg config, or delete them in the same step).
    NoDocs,
    /// Build in one stage, copy the result into a runtime stage.
    MultiStage,
}

/// One line of the table.
pub(crate) struct PathRule {
    /// Stable id; findings use `<category>.<id>`, e.g. `cache.apt-lists`.
    pub id: &'static str,
    pub category: Category,
    /// What the files are, for people.
    pub what: &'static str,
    /// Globs over the normalised path.
    pub globs: &'static [&'static str],
    pub fix: Fix,
}

const fn r(
    id: &'static str,
    category: Category,
    what: &'static str,
    globs: &'static [&'static str],
    fix: Fix,
) -> PathRule {
    PathRule {
        id,
        category,
        what,
        globs,
        fix,
    }
}

use Category::{Docs, PackageCache as Cache, TempLog, Toolchain};

/// The table. Order matters: the first rule whose glob matches a path claims it.
pub(crate) static PATH_RULES: &[PathRule] = &[
    // Package managers: system.
    r(
        "apt-lists",
        Cache,
        "apt package lists",
        &["var/lib/apt/lists/**"],
        Fix::Apt,
    ),
    r(
        "apt-archives",
        Cache,
        "downloaded .deb archives",
        &["var/cache/apt/archives/**"],
        Fix::Apt,
    ),
    r(
        "apt-cache",
        Cache,
        "apt binary caches",
        &["var/cache/apt/**"],
        Fix::Apt,
    ),
    r(
        "apk",
        Cache,
        "apk package cache",
        &["var/cache/apk/**", "etc/apk/cache/**"],
        Fix::Apk,
    ),
    r(
        "dnf",
        Cache,
        "dnf/yum package cache",
        &[
            "var/cache/dnf/**",
            "var/cache/yum/**",
            "var/lib/dnf/repos/**",
        ],
        Fix::Dnf,
    ),
    r(
        "zypper",
        Cache,
        "zypper package cache",
        &["var/cache/zypp/**", "var/cache/zypper/**"],
        Fix::Zypper,
    ),
    // Language package managers.
    r(
        "pip",
        Cache,
        "pip wheel and HTTP cache",
        &["**/.cache/pip/**"],
        Fix::Pip,
    ),
    r(
        "npm",
        Cache,
        "npm cache",
        &["**/.npm/_cacache/**", "**/.npm/_logs/**", "**/.npm/_npx/**"],
        Fix::Npm,
    ),
    r(
        "yarn",
        Cache,
        "yarn cache",
        &[
            "**/.cache/yarn/**",
            "**/.yarn/berry/cache/**",
            "**/.yarn-cache/**",
        ],
        Fix::Yarn,
    ),
    r(
        "pnpm",
        Cache,
        "pnpm store",
        &[
            "**/.local/share/pnpm/store/**",
            "**/.pnpm-store/**",
            "**/.cache/pnpm/**",
        ],
        Fix::Pnpm,
    ),
    r(
        "go-build",
        Cache,
        "go build cache",
        &["**/.cache/go-build/**"],
        Fix::CacheMount("/root/.cache/go-build"),
    ),
    r(
        "go-mod",
        Cache,
        "go module cache",
        &["go/pkg/mod/**", "**/go/pkg/mod/**"],
        Fix::CacheMount("/go/pkg/mod"),
    ),
    r(
        "cargo",
        Cache,
        "cargo registry and git cache",
        &[
            "**/.cargo/registry/**",
            "**/.cargo/git/**",
            "usr/local/cargo/registry/**",
            "usr/local/cargo/git/**",
        ],
        Fix::CacheMount("/usr/local/cargo/registry"),
    ),
    r(
        "maven",
        Cache,
        "maven repository",
        &["**/.m2/repository/**"],
        Fix::CacheMount("/root/.m2"),
    ),
    r(
        "gradle",
        Cache,
        "gradle caches",
        &["**/.gradle/caches/**", "**/.gradle/wrapper/dists/**"],
        Fix::CacheMount("/root/.gradle"),
    ),
    r(
        "composer",
        Cache,
        "composer cache",
        &["**/.composer/cache/**", "**/.cache/composer/**"],
        Fix::CacheMount("/root/.composer/cache"),
    ),
    r(
        "gem",
        Cache,
        "gem and bundler cache",
        &[
            "**/gems/*/cache/**",
            "usr/local/bundle/cache/**",
            "**/.gem/specs/**",
            "**/.bundle/cache/**",
        ],
        Fix::CacheMount("/usr/local/bundle/cache"),
    ),
    r(
        "nuget",
        Cache,
        "nuget packages",
        &["**/.nuget/packages/**", "**/.local/share/NuGet/**"],
        Fix::CacheMount("/root/.nuget/packages"),
    ),
    r(
        "ccache",
        Cache,
        "ccache",
        &["**/.ccache/**", "**/.cache/ccache/**"],
        Fix::CacheMount("/root/.cache/ccache"),
    ),
    // Temporary and log files.
    r(
        "tmp",
        TempLog,
        "temporary files",
        &["tmp/**", "var/tmp/**"],
        Fix::DeleteInStep,
    ),
    r(
        "log",
        TempLog,
        "log files",
        &["var/log/**"],
        Fix::DeleteInStep,
    ),
    r(
        "backup",
        TempLog,
        "package-manager backup files",
        &["var/cache/debconf/*-old", "var/lib/dpkg/*-old"],
        Fix::DeleteInStep,
    ),
    // Lower severity: documentation. License texts are kept on purpose.
    r(
        "docs",
        Docs,
        "documentation",
        &[
            "usr/share/doc/**/README*",
            "usr/share/doc/**/*.gz",
            "usr/share/doc/**/*.html",
            "usr/share/doc/**/*.txt",
            "usr/share/doc/**/changelog*",
            "usr/share/doc/**/NEWS*",
            "usr/share/doc/**/examples/**",
            "usr/local/share/doc/**",
            "usr/share/gtk-doc/**",
        ],
        Fix::NoDocs,
    ),
    r(
        "man",
        Docs,
        "man and info pages",
        &[
            "usr/share/man/**",
            "usr/local/share/man/**",
            "usr/share/info/**",
            "usr/local/share/info/**",
        ],
        Fix::NoDocs,
    ),
    r(
        "locale",
        Docs,
        "translations and locale data",
        &["usr/share/locale/**", "usr/share/i18n/locales/**"],
        Fix::NoDocs,
    ),
    // Lower severity: build toolchains in a runtime image.
    r(
        "compiler",
        Toolchain,
        "compilers and binutils",
        &[
            "usr/lib/gcc/**",
            "usr/libexec/gcc/**",
            "usr/bin/gcc*",
            "usr/bin/g++*",
            "usr/bin/*-linux-gnu-gcc*",
            "usr/bin/*-linux-gnu-g++*",
            "usr/bin/*-linux-gnu-ld*",
            "usr/bin/*-linux-gnu-as",
            "usr/bin/clang*",
            "usr/lib/llvm-*/**",
            "usr/local/go/pkg/tool/**",
            "usr/local/go/bin/**",
            "usr/local/rustup/toolchains/**",
            "**/.rustup/toolchains/**",
        ],
        Fix::MultiStage,
    ),
    r(
        "headers",
        Toolchain,
        "C headers",
        &["usr/include/**", "usr/local/include/**"],
        Fix::MultiStage,
    ),
    r(
        "static-libs",
        Toolchain,
        "static libraries",
        &["usr/lib/**/*.a", "usr/local/lib/**/*.a", "lib/**/*.a"],
        Fix::MultiStage,
    ),
];

/// Turns a glob into an anchored regex over path bytes.
fn glob_to_regex(glob: &str) -> String {
    let mut re = String::from("(?-u)^");
    let mut rest = glob;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("**/") {
            re.push_str("(?:[^/]*/)*");
            rest = r;
        } else if let Some(r) = rest.strip_prefix("**") {
            re.push_str(".*");
            rest = r;
        } else if let Some(r) = rest.strip_prefix('*') {
            re.push_str("[^/]*");
            rest = r;
        } else if let Some(r) = rest.strip_prefix('?') {
            re.push_str("[^/]");
            rest = r;
        } else {
            let c = rest.chars().next().unwrap_or_default();
            re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
            rest = &rest[c.len_utf8()..];
        }
    }
    re.push('$');
    re
}

/// All globs compiled into one set, and which rule each glob belongs to.
struct Compiled {
    set: RegexSet,
    rule_of: Vec<usize>,
}

fn compiled() -> Option<&'static Compiled> {
    static C: OnceLock<Option<Compiled>> = OnceLock::new();
    C.get_or_init(|| {
        let mut patterns = Vec::new();
        let mut rule_of = Vec::new();
        for (i, rule) in PATH_RULES.iter().enumerate() {
            for g in rule.globs {
                patterns.push(glob_to_regex(g));
                rule_of.push(i);
            }
        }
        RegexSet::new(patterns)
            .ok()
            .map(|set| Compiled { set, rule_of })
    })
    .as_ref()
}

/// The first rule that claims `path` (a normalised layer path), if any.
pub(crate) fn classify(path: &[u8]) -> Option<&'static PathRule> {
    rule_index(path).map(|i| &PATH_RULES[i])
}

/// Position in [`PATH_RULES`] of the first rule that claims `path`.
pub(crate) fn rule_index(path: &[u8]) -> Option<usize> {
    let c = compiled()?;
    c.set.matches(path).into_iter().map(|k| c.rule_of[k]).min()
}

/// License texts: legally required per package, never waste (not even as duplicates).
pub(crate) fn is_license(path: &[u8]) -> bool {
    let name = crate::index::file_name(path);
    (path.starts_with(b"usr/share/doc/") && name == b"copyright")
        || [&b"LICENSE"[..], b"LICENCE", b"COPYING", b"NOTICE"]
            .iter()
            .any(|p| name.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(path: &str) -> Option<&'static str> {
        classify(path.as_bytes()).map(|r| r.id)
    }

    #[test]
    fn table_compiles() {
        assert!(compiled().is_some());
    }

    #[test]
    fn globs() {
        assert_eq!(glob_to_regex("a/*.deb"), r"(?-u)^a/[^/]*\.deb$");
        assert_eq!(
            id("var/lib/apt/lists/deb.debian.org_Packages"),
            Some("apt-lists")
        );
        assert_eq!(
            id("var/cache/apt/archives/curl_7.88_amd64.deb"),
            Some("apt-archives")
        );
        assert_eq!(id("var/cache/apt/pkgcache.bin"), Some("apt-cache"));
        assert_eq!(id("root/.cache/pip/http-v2/a/b"), Some("pip"));
        assert_eq!(id("home/app/.cache/pip/wheels/x.whl"), Some("pip"));
        assert_eq!(id("root/.npm/_cacache/index-v5/aa"), Some("npm"));
        assert_eq!(id("usr/local/share/.cache/yarn/v6/x"), Some("yarn"));
        assert_eq!(id("go/pkg/mod/github.com/x@v1/y.go"), Some("go-mod"));
        assert_eq!(id("root/.cache/go-build/aa/bb"), Some("go-build"));
        assert_eq!(id("usr/local/cargo/registry/cache/x.crate"), Some("cargo"));
        assert_eq!(id("root/.m2/repository/x.jar"), Some("maven"));
        assert_eq!(id("var/cache/apk/APKINDEX.tar.gz"), Some("apk"));
        assert_eq!(id("tmp/build.log"), Some("tmp"));
        assert_eq!(id("var/log/dpkg.log"), Some("log"));
        assert_eq!(id("usr/share/man/man1/ls.1.gz"), Some("man"));
        assert_eq!(id("usr/share/doc/curl/changelog.Debian.gz"), Some("docs"));
        assert_eq!(id("usr/lib/gcc/x86_64-linux-gnu/12/cc1"), Some("compiler"));
        assert_eq!(id("usr/include/stdio.h"), Some("headers"));
        assert_eq!(id("usr/lib/x86_64-linux-gnu/libc.a"), Some("static-libs"));
        // Not waste: licenses, runtime libraries, app files, the tmp dir's own path.
        assert_eq!(id("usr/share/doc/curl/copyright"), None);
        assert_eq!(id("usr/lib/x86_64-linux-gnu/libc.so.6"), None);
        assert_eq!(id("app/static/logo.bin"), None);
        assert_eq!(
            id("usr/local/lib/python3.11/dist-packages/pip/_internal/cache.py"),
            None
        );
        assert_eq!(id("tmpfoo/x"), None);
    }

    #[test]
    fn non_utf8_paths() {
        assert_eq!(classify(b"tmp/caf\xe9").map(|r| r.id), Some("tmp"));
    }
}
