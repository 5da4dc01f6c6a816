//! Package ownership: joins the package metadata decode read from every layer with the
//! merged filesystem, and says which package owns each visible regular file, how many bytes
//! each package ships, in which layer it came and which later layers changed it, what the
//! package managers do not know about (unowned bytes per top directory), and how each
//! layer changed the package set.
//!
//! Only metadata files that are visible in the final image count (a status file overwritten
//! by a later layer is that later layer's status). Listed paths are resolved inside the
//! image, through symlinked directories (Debian's merged /usr lists `/bin/bash`, which the
//! image holds as `/usr/bin/bash`).
//!
//! **Double claims.** A visible file has at most one owner. The system package managers
//! (dpkg, apk, rpm) claim first, then Python distributions, then npm packages (deepest
//! `node_modules` directory first, so a nested package owns its own files), then Go
//! binaries; a file already claimed stays with its first owner. Within one ecosystem, the
//! package whose name sorts first keeps a file two of them list. A Python or npm package
//! whose own metadata file belongs to a system package (`python3-requests` installed by
//! apt) was installed by that package manager: its files stay with the system package and
//! it is not listed again.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::index::{EntryKind, LayerIndex};
use crate::merge::Merged;
use crate::packages::{npm::NpmManifest, DbContent, Ecosystem, LayerPackages, PkgRecord};

/// One installed package and what it ships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    /// Content bytes of the visible regular files it owns.
    pub bytes: u64,
    /// Number of visible regular files it owns.
    pub files: usize,
    /// The layer that installed it (0-based): the first whose files or database list it.
    pub layer: usize,
    /// Later layers that rewrote its files or changed its version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed_in: Vec<usize>,
    /// Packages it depends on (dpkg `Depends` + `Pre-Depends`, apk, rpm requires), names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends: Vec<String>,
    /// Where it lives, for language packages: its `.dist-info`, its `node_modules`
    /// directory, or the Go binary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// A package named with its version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PackageRef {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
}

/// A package whose version changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Upgrade {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub from: String,
    pub to: String,
}

/// How one layer changed the package set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerChanges {
    pub added: Vec<PackageRef>,
    pub removed: Vec<PackageRef>,
    pub upgraded: Vec<Upgrade>,
}

impl LayerChanges {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.upgraded.is_empty()
    }
}

/// Visible bytes no package owns, under one top-level directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirBytes {
    /// `/usr`, `/app`, or `/` for files at the root.
    pub dir: String,
    pub bytes: u64,
    pub files: usize,
}

/// A package database with entries that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: String,
    pub layer: usize,
    pub entries: u32,
}

/// Everything known about the image's packages.
#[derive(Debug, Clone, Default)]
pub struct Packages {
    /// Largest first, then by ecosystem and name.
    pub packages: Vec<Package>,
    /// Visible regular file (layer, entry) → index into `packages`.
    pub owner: HashMap<(u32, u32), u32>,
    pub owned_bytes: u64,
    pub unowned_bytes: u64,
    pub unowned_files: usize,
    /// Largest first.
    pub unowned_by_dir: Vec<DirBytes>,
    /// Per layer.
    pub layer_changes: Vec<LayerChanges>,
    /// Databases with unreadable entries.
    pub skipped: Vec<Skipped>,
    /// Databases found but not read (rpm's Berkeley DB), and other notes.
    pub notes: Vec<String>,
    /// Application `package.json` files (not under `node_modules`) with devDependencies.
    pub apps: Vec<(usize, NpmManifest)>,
}

impl Packages {
    /// Owned visible files by absolute path (`/usr/bin/curl`) → index into `packages`,
    /// for views that know paths rather than entries (the TUI's tree).
    pub fn owners_by_path(&self, indexes: &[LayerIndex]) -> HashMap<String, u32> {
        self.owner
            .iter()
            .filter_map(|(&(l, e), &id)| {
                let idx = indexes.get(l as usize).filter(|i| (e as usize) < i.len())?;
                Some((
                    format!("/{}", crate::index::display_path(idx.path(e as usize))),
                    id,
                ))
            })
            .collect()
    }

    /// The package owning a visible regular file, if any.
    pub fn owner_of(&self, layer: usize, entry: usize) -> Option<&Package> {
        let key = (u32::try_from(layer).ok()?, u32::try_from(entry).ok()?);
        self.owner
            .get(&key)
            .and_then(|&i| self.packages.get(i as usize))
    }
}

/// A package before its files are counted.
struct Candidate {
    ecosystem: Ecosystem,
    name: String,
    version: String,
    depends: Vec<String>,
    /// Absolute paths; a path ending in `/` claims everything under it.
    paths: Vec<String>,
    /// Where it was found (for language packages).
    path: Option<String>,
    /// Layer of the metadata that lists it.
    db_layer: usize,
    /// Its own metadata file, (layer, entry), for the "installed by apt" rule.
    meta: Option<(usize, usize)>,
}

/// Path lookups over the merged filesystem.
struct Tree<'a> {
    indexes: &'a [LayerIndex],
    /// Every visible entry by path.
    visible: HashMap<&'a [u8], (u32, u32)>,
    /// Visible regular files, sorted by path (for directory prefixes).
    files: Vec<(&'a [u8], (u32, u32))>,
}

impl<'a> Tree<'a> {
    fn new(indexes: &'a [LayerIndex], merged: &Merged) -> Tree<'a> {
        let mut visible = HashMap::new();
        let mut files = Vec::new();
        for (li, idx) in indexes.iter().enumerate() {
            for (i, e) in idx.entries.iter().enumerate() {
                if !merged.fate(li, i).is_visible() {
                    continue;
                }
                let key = (li as u32, i as u32);
                visible.insert(idx.path(i), key);
                if e.kind == EntryKind::File {
                    files.push((idx.path(i), key));
                }
            }
        }
        files.sort_unstable_by(|a, b| a.0.cmp(b.0));
        Tree {
            indexes,
            visible,
            files,
        }
    }

    fn entry(&self, key: (u32, u32)) -> &'a crate::index::Entry {
        &self.indexes[key.0 as usize].entries[key.1 as usize]
    }

    /// Resolves symlinks in the directory part of `path` (absolute, as a database lists
    /// it); returns the real path without a leading `/`.
    fn resolve_dirs(&self, path: &str) -> Option<Vec<u8>> {
        let mut out: Vec<u8> = Vec::with_capacity(path.len());
        let mut pending: Vec<Vec<u8>> = path
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .rev()
            .map(|c| c.as_bytes().to_vec())
            .collect();
        let mut hops = 0;
        while let Some(c) = pending.pop() {
            if c == b".." {
                let cut = out.iter().rposition(|&b| b == b'/').unwrap_or(0);
                out.truncate(cut);
                continue;
            }
            let before = out.len();
            if !out.is_empty() {
                out.push(b'/');
            }
            out.extend_from_slice(&c);
            if pending.is_empty() {
                break; // the last component is the listed entry itself
            }
            let Some(&key) = self.visible.get(out.as_slice()) else {
                continue;
            };
            if self.entry(key).kind != EntryKind::Symlink {
                continue;
            }
            hops += 1;
            if hops > 40 {
                return None;
            }
            let target = self.indexes[key.0 as usize].link(key.1 as usize).to_vec();
            out.truncate(before);
            if target.starts_with(b"/") {
                out.clear();
            }
            for t in target.split(|&b| b == b'/').rev() {
                if !t.is_empty() && t != b"." {
                    pending.push(t.to_vec());
                }
            }
        }
        Some(out)
    }

    /// The visible regular file a listed path names, if it is one.
    fn file(&self, path: &str) -> Option<(u32, u32)> {
        let real = self.resolve_dirs(path)?;
        let key = *self.visible.get(real.as_slice())?;
        (self.entry(key).kind == EntryKind::File).then_some(key)
    }

    /// Visible regular files under directory `dir` (listed path, ending in `/`).
    fn under(&self, dir: &str) -> Vec<(u32, u32)> {
        let Some(mut real) = self.resolve_dirs(dir.trim_end_matches('/')) else {
            return Vec::new();
        };
        if let Some(&key) = self.visible.get(real.as_slice()) {
            if self.entry(key).kind != EntryKind::Dir {
                return Vec::new();
            }
        }
        real.push(b'/');
        let start = self.files.partition_point(|(p, _)| *p < real.as_slice());
        self.files[start..]
            .iter()
            .take_while(|(p, _)| p.starts_with(&real))
            .map(|&(_, k)| k)
            .collect()
    }
}

/// Works out package ownership for an image.
pub fn analyze(indexes: &[LayerIndex], merged: &Merged, found: &[LayerPackages]) -> Packages {
    let mut out = Packages {
        layer_changes: vec![LayerChanges::default(); indexes.len()],
        ..Packages::default()
    };
    if found.iter().all(|l| l.files.is_empty()) {
        // No package metadata: every visible file is unowned.
        let files = indexes.iter().enumerate().flat_map(|(li, idx)| {
            idx.entries
                .iter()
                .enumerate()
                .filter(move |(i, e)| e.kind == EntryKind::File && merged.fate(li, *i).is_visible())
                .map(move |(i, e)| (idx.path(i), e.size))
        });
        unowned(&mut out, files);
        return out;
    }
    let live = |li: usize, entry: usize| {
        entry < merged.fates.get(li).map_or(0, Vec::len) && merged.fate(li, entry).is_visible()
    };
    let tree = Tree::new(indexes, merged);

    // dpkg file lists by package name (the visible ones), and Python file lists by dir.
    let mut dpkg_files: HashMap<String, Vec<String>> = HashMap::new();
    let mut py_files: HashMap<String, Vec<String>> = HashMap::new();
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut py_meta: Vec<(usize, usize, String, String, String)> = Vec::new();
    // First layer whose database lists a system package, by (ecosystem, name).
    let mut first_listed: HashMap<(Ecosystem, String), usize> = HashMap::new();
    for (li, layer) in found.iter().enumerate() {
        for f in &layer.files {
            if let DbContent::Installed {
                ecosystem,
                packages,
            } = &f.content
            {
                for p in packages {
                    first_listed
                        .entry((*ecosystem, p.name.clone()))
                        .or_insert(li);
                }
            }
            if !live(li, f.entry) {
                continue;
            }
            let db_path = || format!("/{}", crate::index::display_path(indexes[li].path(f.entry)));
            if f.skipped > 0 {
                out.skipped.push(Skipped {
                    path: db_path(),
                    layer: li,
                    entries: f.skipped,
                });
            }
            match &f.content {
                DbContent::Installed {
                    ecosystem,
                    packages,
                } => {
                    for p in packages {
                        candidates.push(system_candidate(*ecosystem, p, li));
                    }
                }
                DbContent::DpkgFiles { package, paths } => {
                    let name = package.split(':').next().unwrap_or(package);
                    dpkg_files
                        .entry(name.to_string())
                        .or_default()
                        .extend(paths.iter().cloned());
                }
                DbContent::PyMeta { dir, name, version } => {
                    py_meta.push((li, f.entry, dir.clone(), name.clone(), version.clone()));
                }
                DbContent::PyFiles { dir, paths } => {
                    py_files
                        .entry(dir.clone())
                        .or_default()
                        .extend(paths.iter().cloned());
                }
                DbContent::Npm(m) if m.installed => candidates.push(Candidate {
                    ecosystem: Ecosystem::Npm,
                    name: m.name.clone(),
                    version: m.version.clone(),
                    depends: Vec::new(),
                    paths: vec![format!("{}/", m.dir)],
                    path: Some(m.dir.clone()),
                    db_layer: li,
                    meta: Some((li, f.entry)),
                }),
                DbContent::Npm(m) => {
                    if !m.dev_dependencies.is_empty() {
                        out.apps.push((li, m.clone()));
                    }
                }
                DbContent::Go(g) => {
                    let bin = db_path();
                    candidates.push(Candidate {
                        ecosystem: Ecosystem::Go,
                        name: g.module.clone(),
                        version: g.version.clone(),
                        depends: g.deps.iter().map(|d| d.0.clone()).collect(),
                        paths: vec![bin.clone()],
                        path: Some(bin),
                        db_layer: li,
                        meta: None,
                    });
                }
                DbContent::Unsupported { what } => out.notes.push(what.clone()),
            }
        }
    }
    for c in &mut candidates {
        if c.ecosystem == Ecosystem::Dpkg {
            if let Some(p) = dpkg_files.get(&c.name) {
                c.paths.clone_from(p);
            }
        }
    }
    for (li, entry, dir, name, version) in py_meta {
        let mut paths = py_files.remove(&dir).unwrap_or_default();
        paths.push(format!("{dir}/")); // the metadata directory itself
        candidates.push(Candidate {
            ecosystem: Ecosystem::Pip,
            name,
            version,
            depends: Vec::new(),
            paths,
            path: Some(dir),
            db_layer: li,
            meta: Some((li, entry)),
        });
    }

    // Claim order: ecosystem, then npm's deepest directories first, then name.
    candidates.sort_by(|a, b| {
        let depth = |c: &Candidate| {
            if c.ecosystem == Ecosystem::Npm {
                usize::MAX - c.paths[0].matches('/').count()
            } else {
                0
            }
        };
        a.ecosystem
            .cmp(&b.ecosystem)
            .then(depth(a).cmp(&depth(b)))
            .then(a.name.cmp(&b.name))
            .then(a.version.cmp(&b.version))
    });
    candidates.dedup_by(|a, b| a.ecosystem == b.ecosystem && a.name == b.name && a.path == b.path);

    let mut owner: HashMap<(u32, u32), u32> = HashMap::new();
    let mut packages: Vec<Package> = Vec::new();
    for c in candidates {
        let meta_owned = c.meta.is_some_and(|(li, e)| {
            owner
                .get(&(li as u32, e as u32))
                .is_some_and(|&o| packages[o as usize].ecosystem.is_system())
        });
        if meta_owned {
            continue;
        }
        let id = packages.len() as u32;
        let mut bytes = 0;
        let mut files = 0;
        let mut claim = |key: (u32, u32)| {
            if let std::collections::hash_map::Entry::Vacant(v) = owner.entry(key) {
                v.insert(id);
                bytes += tree.entry(key).size;
                files += 1;
            }
        };
        for p in &c.paths {
            if p.ends_with('/') {
                for key in tree.under(p) {
                    claim(key);
                }
            } else if let Some(key) = tree.file(p) {
                claim(key);
            }
        }
        let layer = if c.ecosystem.is_system() {
            first_listed
                .get(&(c.ecosystem, c.name.clone()))
                .copied()
                .unwrap_or(c.db_layer)
        } else {
            c.db_layer
        };
        packages.push(Package {
            ecosystem: c.ecosystem,
            name: c.name,
            version: c.version,
            bytes,
            files,
            layer,
            changed_in: Vec::new(),
            depends: c.depends,
            path: c.path,
        });
    }

    // Layers that wrote each package's files: the owned paths, looked up in every layer.
    let mut by_path: HashMap<&[u8], u32> = HashMap::with_capacity(owner.len());
    for (&(li, e), &id) in &owner {
        by_path.insert(indexes[li as usize].path(e as usize), id);
    }
    let mut wrote: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); packages.len()];
    for (li, idx) in indexes.iter().enumerate() {
        for (i, e) in idx.entries.iter().enumerate() {
            if e.kind == EntryKind::File {
                if let Some(&id) = by_path.get(idx.path(i)) {
                    wrote[id as usize].insert(li);
                }
            }
        }
    }
    for (p, layers) in packages.iter_mut().zip(&wrote) {
        if let Some(&first) = layers.first() {
            p.layer = p.layer.min(first);
        }
        p.changed_in = layers.iter().copied().filter(|&l| l > p.layer).collect();
    }

    // Per-layer changes: successive states of each system database, and language
    // packages where they appeared.
    layer_changes(found, indexes, &mut out.layer_changes, &mut packages);

    // Unowned bytes per top directory.
    let files = tree
        .files
        .iter()
        .filter(|(_, key)| !owner.contains_key(key))
        .map(|&(path, key)| (path, tree.entry(key).size));
    unowned(&mut out, files);
    out.owned_bytes = packages.iter().map(|p| p.bytes).sum();

    // Largest first; owner ids follow the new order.
    let mut order: Vec<usize> = (0..packages.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&packages[a], &packages[b]);
        y.bytes
            .cmp(&x.bytes)
            .then(x.ecosystem.cmp(&y.ecosystem))
            .then(x.name.cmp(&y.name))
            .then(x.path.cmp(&y.path))
    });
    let mut new_id = vec![0u32; packages.len()];
    for (n, &old) in order.iter().enumerate() {
        new_id[old] = n as u32;
    }
    let mut slots: Vec<Option<Package>> = packages.into_iter().map(Some).collect();
    out.packages = order.iter().filter_map(|&i| slots[i].take()).collect();
    out.owner = owner
        .into_iter()
        .map(|(k, id)| (k, new_id[id as usize]))
        .collect();
    out
}

/// Adds visible files no package owns, `(path, size)`, to the totals per top directory.
fn unowned<'a>(out: &mut Packages, files: impl Iterator<Item = (&'a [u8], u64)>) {
    let mut dirs: BTreeMap<String, (u64, usize)> = BTreeMap::new();
    for (path, size) in files {
        let top = match path.iter().position(|&b| b == b'/') {
            Some(i) => format!("/{}", crate::index::display_path(&path[..i])),
            None => "/".to_string(),
        };
        let d = dirs.entry(top).or_default();
        d.0 += size;
        d.1 += 1;
        out.unowned_bytes += size;
        out.unowned_files += 1;
    }
    out.unowned_by_dir = dirs
        .into_iter()
        .map(|(dir, (bytes, files))| DirBytes { dir, bytes, files })
        .collect();
    out.unowned_by_dir
        .sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.dir.cmp(&b.dir)));
}

fn system_candidate(ecosystem: Ecosystem, p: &PkgRecord, layer: usize) -> Candidate {
    Candidate {
        ecosystem,
        name: p.name.clone(),
        version: p.version.clone(),
        depends: p.depends.clone(),
        paths: p.files.clone(),
        path: None,
        db_layer: layer,
        meta: None,
    }
}

/// Fills in how each layer changed the package set: for each system database path, the
/// difference between its successive versions; for language packages, the layer that
/// installed them. A version change in a later layer is also recorded in `changed_in`.
fn layer_changes(
    found: &[LayerPackages],
    indexes: &[LayerIndex],
    changes: &mut [LayerChanges],
    packages: &mut [Package],
) {
    let mut state: HashMap<Vec<u8>, BTreeMap<String, String>> = HashMap::new();
    for (li, layer) in found.iter().enumerate() {
        for f in &layer.files {
            let DbContent::Installed {
                ecosystem,
                packages: listed,
            } = &f.content
            else {
                continue;
            };
            let now: BTreeMap<String, String> = listed
                .iter()
                .map(|p| (p.name.clone(), p.version.clone()))
                .collect();
            let key = indexes[li].path(f.entry).to_vec();
            // status.d holds one file per package: each is its own small database.
            let before = state.insert(key, now.clone()).unwrap_or_default();
            let c = &mut changes[li];
            for (name, version) in &now {
                match before.get(name) {
                    None => c.added.push(PackageRef {
                        ecosystem: *ecosystem,
                        name: name.clone(),
                        version: version.clone(),
                    }),
                    Some(old) if old != version => {
                        c.upgraded.push(Upgrade {
                            ecosystem: *ecosystem,
                            name: name.clone(),
                            from: old.clone(),
                            to: version.clone(),
                        });
                        if let Some(p) = packages
                            .iter_mut()
                            .find(|p| p.ecosystem == *ecosystem && p.name == *name)
                        {
                            if li > p.layer && !p.changed_in.contains(&li) {
                                p.changed_in.push(li);
                                p.changed_in.sort_unstable();
                            }
                        }
                    }
                    Some(_) => {}
                }
            }
            for (name, version) in &before {
                if !now.contains_key(name) {
                    c.removed.push(PackageRef {
                        ecosystem: *ecosystem,
                        name: name.clone(),
                        version: version.clone(),
                    });
                }
            }
        }
    }
    for p in packages.iter() {
        if !p.ecosystem.is_system() {
            if let Some(c) = changes.get_mut(p.layer) {
                c.added.push(PackageRef {
                    ecosystem: p.ecosystem,
                    name: p.name.clone(),
                    version: p.version.clone(),
                });
            }
        }
    }
    for c in changes.iter_mut() {
        c.added.sort();
        c.removed.sort();
        c.upgraded.sort();
    }
}
