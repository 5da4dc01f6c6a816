//! Package databases read from an image's own files during the one decode pass: which small
//! files are package metadata ([`wants`]), and their parsers, one module per ecosystem
//! (dpkg, apk, rpm, Python, npm, Go). The result is per layer ([`LayerPackages`]) and is
//! part of what decode returns (and caches); which package owns which visible file is
//! decided later, over the merged image, by [`crate::analysis::packages`].
//!
//! Every parser tolerates truncated or hostile input: an entry it cannot read is skipped
//! and counted, never a panic.

pub(crate) mod apk;
pub(crate) mod dpkg;
pub(crate) mod golang;
pub(crate) mod npm;
pub(crate) mod python;
pub(crate) mod rpm;

use serde::{Deserialize, Serialize};

/// Bumped whenever what the parsers capture or how they read it changes: it is part of the
/// decoded-layer cache's key, so cached layers parsed by older parsers become misses.
pub(crate) const PARSER_VERSION: u64 = 2; // 2: Go build info found through the ELF program headers

/// Whether package metadata is read at all: `LAYERSIFT_NO_PACKAGES` turns it off, for
/// measuring what it costs (`scripts/bench-packages.sh`).
pub(crate) fn enabled() -> bool {
    std::env::var_os("LAYERSIFT_NO_PACKAGES").is_none()
}

/// A fingerprint of the package parsers (for the decoded-layer cache).
pub(crate) fn fingerprint() -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(b"layersift-packages");
    h.update(&[u8::from(enabled())]);
    h.update(&PARSER_VERSION.to_le_bytes());
    h.update(&MAX_DB_BYTES.to_le_bytes());
    h.update(&MAX_META_BYTES.to_le_bytes());
    h.digest()
}

/// Largest package database file read (dpkg status, apk installed, rpmdb.sqlite).
pub(crate) const MAX_DB_BYTES: u64 = 256 << 20;
/// Largest per-package metadata file read (lists, METADATA, RECORD, package.json).
pub(crate) const MAX_META_BYTES: u64 = 16 << 20;

/// Which package manager a package belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Dpkg,
    Apk,
    Rpm,
    Pip,
    Npm,
    Go,
}

impl Ecosystem {
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Dpkg => "dpkg",
            Ecosystem::Apk => "apk",
            Ecosystem::Rpm => "rpm",
            Ecosystem::Pip => "pip",
            Ecosystem::Npm => "npm",
            Ecosystem::Go => "go",
        }
    }

    /// The system package managers install a distribution's files; the others install
    /// language packages, often on top of them.
    pub fn is_system(self) -> bool {
        matches!(self, Ecosystem::Dpkg | Ecosystem::Apk | Ecosystem::Rpm)
    }
}

/// What kind of package metadata a file is, by its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DbKind {
    /// `/var/lib/dpkg/status`, or one file of `/var/lib/dpkg/status.d/` (distroless).
    DpkgStatus,
    /// `/var/lib/dpkg/info/NAME.list` (absolute paths, one a line).
    DpkgList,
    /// `NAME.md5sums` (`HASH  relative/path` lines), as distroless ships beside status.d.
    DpkgMd5sums,
    /// `/lib/apk/db/installed`.
    ApkInstalled,
    /// `rpmdb.sqlite`.
    RpmSqlite,
    /// The Berkeley DB (`Packages`) or ndb (`Packages.db`) rpm database: named, not read.
    RpmOther,
    /// `*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, or an `*.egg-info` file.
    PyMetadata,
    /// `*.dist-info/RECORD` or `*.egg-info/installed-files.txt`.
    PyRecord,
    /// `*.egg-info/top_level.txt`: the importable names, when no file list is shipped.
    PyTopLevel,
    /// A `package.json`.
    NpmPackage,
}

impl DbKind {
    fn max_bytes(self) -> u64 {
        match self {
            DbKind::DpkgStatus | DbKind::ApkInstalled | DbKind::RpmSqlite => MAX_DB_BYTES,
            DbKind::RpmOther => 0,
            _ => MAX_META_BYTES,
        }
    }
}

/// Is the file at `path` (normalised, no leading `/`) package metadata to read? Decides on
/// the path alone, so the tar walk asks before it reads the content.
pub(crate) fn wants(path: &[u8], size: u64) -> Option<DbKind> {
    let kind = classify(path)?;
    // A database named but not read is reported whatever its size.
    (kind == DbKind::RpmOther || size <= kind.max_bytes()).then_some(kind)
}

fn classify(path: &[u8]) -> Option<DbKind> {
    let name = crate::index::file_name(path);
    let dir = crate::index::parent(path);
    match path {
        b"var/lib/dpkg/status" => return Some(DbKind::DpkgStatus),
        b"lib/apk/db/installed" => return Some(DbKind::ApkInstalled),
        b"var/lib/rpm/rpmdb.sqlite" | b"usr/lib/sysimage/rpm/rpmdb.sqlite" => {
            return Some(DbKind::RpmSqlite)
        }
        b"var/lib/rpm/Packages"
        | b"var/lib/rpm/Packages.db"
        | b"usr/lib/sysimage/rpm/Packages"
        | b"usr/lib/sysimage/rpm/Packages.db" => return Some(DbKind::RpmOther),
        _ => {}
    }
    if dir == b"var/lib/dpkg/info" {
        if name.ends_with(b".list") {
            return Some(DbKind::DpkgList);
        }
        return None;
    }
    if dir == b"var/lib/dpkg/status.d" {
        if name.ends_with(b".md5sums") {
            return Some(DbKind::DpkgMd5sums);
        }
        if !name.starts_with(b".") {
            return Some(DbKind::DpkgStatus);
        }
        return None;
    }
    let dir_name = crate::index::file_name(dir);
    if dir_name.ends_with(b".dist-info") {
        return match name {
            b"METADATA" => Some(DbKind::PyMetadata),
            b"RECORD" => Some(DbKind::PyRecord),
            _ => None,
        };
    }
    if dir_name.ends_with(b".egg-info") {
        return match name {
            b"PKG-INFO" => Some(DbKind::PyMetadata),
            b"installed-files.txt" => Some(DbKind::PyRecord),
            b"top_level.txt" => Some(DbKind::PyTopLevel),
            _ => None,
        };
    }
    if name.ends_with(b".egg-info") && (contains(dir, b"-packages")) {
        return Some(DbKind::PyMetadata); // an egg-info file holds PKG-INFO itself
    }
    if name == b"package.json" {
        return Some(DbKind::NpmPackage);
    }
    None
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

/// One package as its database lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PkgRecord {
    pub name: String,
    pub version: String,
    /// Names of the packages it depends on (dpkg `Depends` and `Pre-Depends`, apk `D:`),
    /// versions and alternatives dropped (the first alternative is kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends: Vec<String>,
    /// Absolute paths of its files, when the database lists them itself (apk, rpm).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

/// What one package metadata file says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DbContent {
    /// A database of installed packages: dpkg status (or one status.d file), apk's
    /// `installed`, rpmdb.sqlite.
    Installed {
        ecosystem: Ecosystem,
        packages: Vec<PkgRecord>,
    },
    /// The files of one dpkg package (`info/NAME.list`, `status.d/NAME.md5sums`).
    DpkgFiles { package: String, paths: Vec<String> },
    /// A Python distribution's name and version; `dir` is its `.dist-info`/`.egg-info`.
    PyMeta {
        dir: String,
        name: String,
        version: String,
    },
    /// A Python distribution's installed files (absolute); `dir` as for `PyMeta`.
    PyFiles { dir: String, paths: Vec<String> },
    /// An npm package's (or the app's) `package.json`; `dir` is its directory.
    Npm(npm::NpmManifest),
    /// A Go binary's build info.
    Go(golang::GoBuildInfo),
    /// A database this version does not read (rpm's Berkeley DB), named for the report.
    Unsupported { what: String },
}

/// One metadata file of a layer and what it said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbFile {
    /// The file's entry in the layer's index (its visibility decides whether it counts).
    pub entry: usize,
    pub content: DbContent,
    /// Entries of it that could not be read and were skipped.
    #[serde(default)]
    pub skipped: u32,
}

/// Every package metadata file of one layer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerPackages {
    pub files: Vec<DbFile>,
}

/// Parses one metadata file read by the tar walk. `path` is normalised (no leading `/`).
pub(crate) fn parse(kind: DbKind, path: &[u8], data: &[u8]) -> Option<(DbContent, u32)> {
    let path = String::from_utf8_lossy(path);
    let dir = |p: &str| p.rsplit_once('/').map_or("", |(d, _)| d).to_string();
    Some(match kind {
        DbKind::DpkgStatus => {
            let (packages, skipped) = dpkg::parse_status(data);
            (
                DbContent::Installed {
                    ecosystem: Ecosystem::Dpkg,
                    packages,
                },
                skipped,
            )
        }
        DbKind::DpkgList | DbKind::DpkgMd5sums => {
            let name = path.rsplit('/').next().unwrap_or_default();
            let package = name
                .trim_end_matches(".list")
                .trim_end_matches(".md5sums")
                .to_string();
            let (paths, skipped) = if kind == DbKind::DpkgList {
                dpkg::parse_list(data)
            } else {
                dpkg::parse_md5sums(data)
            };
            (DbContent::DpkgFiles { package, paths }, skipped)
        }
        DbKind::ApkInstalled => {
            let (packages, skipped) = apk::parse_installed(data);
            (
                DbContent::Installed {
                    ecosystem: Ecosystem::Apk,
                    packages,
                },
                skipped,
            )
        }
        DbKind::RpmSqlite => match rpm::parse_sqlite(data) {
            Ok((packages, skipped)) => (
                DbContent::Installed {
                    ecosystem: Ecosystem::Rpm,
                    packages,
                },
                skipped,
            ),
            Err(what) => (
                DbContent::Unsupported {
                    what: format!("/{path}: {what}"),
                },
                1,
            ),
        },
        DbKind::RpmOther => (
            DbContent::Unsupported {
                what: format!(
                    "/{path}: rpm's Berkeley DB / ndb database is not read (only rpmdb.sqlite)"
                ),
            },
            0,
        ),
        DbKind::PyMetadata => {
            let (name, version) = python::parse_metadata(data)?;
            let d = if path.ends_with(".egg-info") {
                path.to_string()
            } else {
                dir(&path)
            };
            (
                DbContent::PyMeta {
                    dir: format!("/{d}"),
                    name,
                    version,
                },
                0,
            )
        }
        DbKind::PyRecord | DbKind::PyTopLevel => {
            let meta_dir = dir(&path);
            let (paths, skipped) = match kind {
                DbKind::PyRecord if path.ends_with("/RECORD") => {
                    python::parse_record(&meta_dir, data)
                }
                DbKind::PyRecord => python::parse_installed_files(&meta_dir, data),
                _ => python::parse_top_level(&meta_dir, data),
            };
            (
                DbContent::PyFiles {
                    dir: format!("/{meta_dir}"),
                    paths,
                },
                skipped,
            )
        }
        DbKind::NpmPackage => {
            let d = format!("/{}", dir(&path));
            match npm::parse(&d, data) {
                Some(m) => (DbContent::Npm(m), 0),
                // An installed package's unreadable manifest is a skipped entry; others
                // (an app's, a package's inner one) are not package metadata.
                None if npm::is_installed_dir(&d) => return Some((bad_npm(&path), 1)),
                None => return None,
            }
        }
    })
}

fn bad_npm(path: &str) -> DbContent {
    DbContent::Unsupported {
        what: format!("/{path}: not a readable package.json"),
    }
}

/// The tar walk's package hook: decides which files to collect, collects them while they
/// are hashed anyway, and scans ELF files for Go build info as they stream by.
pub(crate) struct Capture {
    /// False when package reading is turned off ([`enabled`]).
    on: bool,
    /// The current file's metadata kind, when it is one.
    kind: Option<DbKind>,
    content: Vec<u8>,
    go: golang::Scanner,
    pub found: LayerPackages,
}

impl Default for Capture {
    fn default() -> Self {
        Capture {
            on: enabled(),
            kind: None,
            content: Vec::new(),
            go: golang::Scanner::default(),
            found: LayerPackages::default(),
        }
    }
}

impl Capture {
    /// A new regular file of `size` bytes at `path` starts.
    pub(crate) fn start(&mut self, path: &[u8], size: u64) {
        if !self.on {
            return;
        }
        self.kind = wants(path, size);
        self.content.clear();
        self.go.start();
    }

    /// The next bytes of the current file.
    pub(crate) fn feed(&mut self, chunk: &[u8]) {
        if !self.on {
            return;
        }
        if let Some(kind) = self.kind {
            if kind == DbKind::RpmOther {
                // Named, not read.
            } else if (self.content.len() + chunk.len()) as u64 <= kind.max_bytes() {
                self.content.extend_from_slice(chunk);
            } else {
                self.kind = None; // grew past what its header said: not read
            }
        } else {
            self.go.feed(chunk);
        }
    }

    /// The current file ended; it is entry `entry` at `path` of the layer.
    pub(crate) fn finish(&mut self, entry: usize, path: &[u8]) {
        if let Some(kind) = self.kind.take() {
            if let Some((content, skipped)) = parse(kind, path, &self.content) {
                self.found.files.push(DbFile {
                    entry,
                    content,
                    skipped,
                });
            }
        } else if let Some(info) = self.go.finish() {
            self.found.files.push(DbFile {
                entry,
                content: DbContent::Go(info),
                skipped: 0,
            });
        }
        self.content.clear();
    }

    /// The current file turned out not to be a file (a whiteout): drop what was collected.
    pub(crate) fn abandon(&mut self) {
        self.kind = None;
        self.content.clear();
        self.go.start();
    }
}

/// Joins `rel` onto directory `base` (both without a leading `/`) and normalises `.` and
/// `..`; `None` when it climbs above the root. Returns an absolute path.
pub(crate) fn join_path(base: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = if rel.starts_with('/') {
        Vec::new()
    } else {
        base.split('/').filter(|s| !s.is_empty()).collect()
    };
    for c in rel.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_metadata_paths() {
        let k = |p: &str| classify(p.as_bytes());
        assert_eq!(k("var/lib/dpkg/status"), Some(DbKind::DpkgStatus));
        assert_eq!(k("var/lib/dpkg/status-old"), None);
        assert_eq!(k("var/lib/dpkg/status.d/base"), Some(DbKind::DpkgStatus));
        assert_eq!(
            k("var/lib/dpkg/status.d/base.md5sums"),
            Some(DbKind::DpkgMd5sums)
        );
        assert_eq!(k("var/lib/dpkg/info/curl.list"), Some(DbKind::DpkgList));
        assert_eq!(k("var/lib/dpkg/info/curl.md5sums"), None);
        assert_eq!(k("lib/apk/db/installed"), Some(DbKind::ApkInstalled));
        assert_eq!(k("var/lib/rpm/rpmdb.sqlite"), Some(DbKind::RpmSqlite));
        assert_eq!(k("var/lib/rpm/Packages"), Some(DbKind::RpmOther));
        assert_eq!(
            k("usr/lib/python3/dist-packages/a-1.dist-info/METADATA"),
            Some(DbKind::PyMetadata)
        );
        assert_eq!(
            k("usr/lib/python3/dist-packages/a-1.dist-info/RECORD"),
            Some(DbKind::PyRecord)
        );
        assert_eq!(
            k("usr/lib/python3/dist-packages/a-1.egg-info"),
            Some(DbKind::PyMetadata)
        );
        assert_eq!(
            k("app/node_modules/x/package.json"),
            Some(DbKind::NpmPackage)
        );
        assert_eq!(k("etc/passwd"), None);
        assert_eq!(wants(b"var/lib/dpkg/status", MAX_DB_BYTES + 1), None);
    }

    #[test]
    fn joins_paths() {
        assert_eq!(join_path("usr/lib", "a/b").as_deref(), Some("/usr/lib/a/b"));
        assert_eq!(
            join_path("usr/lib/python3/site-packages", "../../../bin/x").as_deref(),
            Some("/usr/bin/x")
        );
        assert_eq!(join_path("usr", "../../x"), None);
        assert_eq!(join_path("usr", "/etc/x").as_deref(), Some("/etc/x"));
    }
}
