//! Package changes between two reports: packages added, removed, upgraded (old → new
//! version), grown and shrunk, each with its byte delta and layer, and for an added
//! package the package that pulled it in, from the dependency lists (dpkg `Depends`,
//! apk, rpm): the added package that depends on it, followed up to one nothing added
//! depends on (`gcc-12` pulled in by `build-essential`).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::Delta;
use crate::analysis::packages::Package;
use crate::packages::Ecosystem;

/// One package that differs between the two images.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PackageChange {
    pub ecosystem: Ecosystem,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_version: Option<String>,
    pub bytes: Delta,
    /// NEW's layer that installed it (OLD's for a removed package).
    pub layer: usize,
    /// For an added package: the added package whose dependencies brought it in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pulled_in_by: Option<String>,
}

/// Package changes, largest byte change first in each list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PackageDiff {
    pub added: Vec<PackageChange>,
    pub removed: Vec<PackageChange>,
    pub upgraded: Vec<PackageChange>,
    /// Same version, more bytes (files added by hand under its paths, a rebuilt package).
    pub grown: Vec<PackageChange>,
    pub shrunk: Vec<PackageChange>,
}

impl PackageDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.upgraded.is_empty()
            && self.grown.is_empty()
            && self.shrunk.is_empty()
    }
}

type Key<'a> = (Ecosystem, &'a str, Option<&'a str>);

fn key(p: &Package) -> Key<'_> {
    (p.ecosystem, p.name.as_str(), p.path.as_deref())
}

/// Compares the packages of two reports.
pub(crate) fn compare(old: &[Package], new: &[Package]) -> PackageDiff {
    let olds: HashMap<Key<'_>, &Package> = old.iter().map(|p| (key(p), p)).collect();
    let news: HashMap<Key<'_>, &Package> = new.iter().map(|p| (key(p), p)).collect();
    let mut d = PackageDiff::default();
    for p in new {
        let change = |o: Option<&Package>| PackageChange {
            ecosystem: p.ecosystem,
            name: p.name.clone(),
            old_version: o.map(|o| o.version.clone()),
            new_version: Some(p.version.clone()),
            bytes: Delta::new(o.map_or(0, |o| o.bytes), p.bytes),
            layer: p.layer,
            pulled_in_by: None,
        };
        match olds.get(&key(p)) {
            None => d.added.push(change(None)),
            Some(o) if o.version != p.version => d.upgraded.push(change(Some(o))),
            Some(o) if p.bytes > o.bytes => d.grown.push(change(Some(o))),
            Some(o) if p.bytes < o.bytes => d.shrunk.push(change(Some(o))),
            Some(_) => {}
        }
    }
    for p in old {
        if !news.contains_key(&key(p)) {
            d.removed.push(PackageChange {
                ecosystem: p.ecosystem,
                name: p.name.clone(),
                old_version: Some(p.version.clone()),
                new_version: None,
                bytes: Delta::new(p.bytes, 0),
                layer: p.layer,
                pulled_in_by: None,
            });
        }
    }
    pulled_in_by(&mut d.added, new);
    for list in [
        &mut d.added,
        &mut d.removed,
        &mut d.upgraded,
        &mut d.grown,
        &mut d.shrunk,
    ] {
        list.sort_by(|a, b| {
            b.bytes
                .delta
                .abs()
                .cmp(&a.bytes.delta.abs())
                .then(a.name.cmp(&b.name))
        });
    }
    d
}

/// Names, for each added package, the added package that pulled it in.
fn pulled_in_by(added: &mut [PackageChange], new: &[Package]) {
    let is_added: HashSet<(Ecosystem, &str)> = added
        .iter()
        .map(|c| (c.ecosystem, c.name.as_str()))
        .collect();
    // Added package → the added packages that depend on it.
    let mut parents: BTreeMap<(Ecosystem, &str), Vec<&str>> = BTreeMap::new();
    for p in new {
        if !is_added.contains(&(p.ecosystem, p.name.as_str())) || !p.ecosystem.is_system() {
            continue;
        }
        for dep in &p.depends {
            if dep != &p.name && is_added.contains(&(p.ecosystem, dep.as_str())) {
                parents
                    .entry((p.ecosystem, dep.as_str()))
                    .or_default()
                    .push(p.name.as_str());
            }
        }
    }
    for list in parents.values_mut() {
        list.sort_unstable();
        list.dedup();
    }
    let mut answers = Vec::with_capacity(added.len());
    for c in added.iter() {
        let eco = c.ecosystem;
        let Some(first) = parents.get(&(eco, c.name.as_str())) else {
            answers.push(None);
            continue;
        };
        // Walk up to an ancestor nothing added depends on; the first found in name order.
        let mut seen: HashSet<&str> = HashSet::from([c.name.as_str()]);
        let mut queue: VecDeque<&str> = first.iter().copied().collect();
        let mut root = None;
        while let Some(q) = queue.pop_front() {
            if !seen.insert(q) {
                continue;
            }
            match parents.get(&(eco, q)) {
                Some(ps) if ps.iter().any(|p| !seen.contains(p)) => {
                    queue.extend(ps.iter().copied());
                }
                Some(_) => {}
                None => {
                    root = Some(q);
                    break;
                }
            }
        }
        answers.push(Some(root.unwrap_or(first[0]).to_string()));
    }
    for (c, a) in added.iter_mut().zip(answers) {
        c.pulled_in_by = a;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, version: &str, bytes: u64, depends: &[&str]) -> Package {
        Package {
            ecosystem: Ecosystem::Dpkg,
            name: name.into(),
            version: version.into(),
            bytes,
            files: 1,
            layer: 1,
            changed_in: Vec::new(),
            depends: depends.iter().map(|s| s.to_string()).collect(),
            path: None,
        }
    }

    #[test]
    fn added_upgraded_removed_and_who_pulled_them_in() {
        let old = vec![
            pkg("libc6", "2.36-9", 100, &[]),
            pkg("zlib1g", "1.2", 10, &["libc6"]),
            pkg("gone", "1", 5, &[]),
            pkg("tzdata", "2024a", 50, &[]),
        ];
        let new = vec![
            pkg("libc6", "2.36-9+deb12u1", 110, &[]),
            pkg("zlib1g", "1.2", 10, &["libc6"]),
            pkg("tzdata", "2024a", 70, &[]),
            pkg("build-essential", "12.9", 1, &["gcc", "libc6-dev"]),
            pkg("gcc", "4:12", 2, &["gcc-12", "cpp"]),
            pkg("gcc-12", "12.2", 1000, &["cpp-12", "libc6"]),
            pkg("cpp-12", "12.2", 300, &["gcc-12"]),
            pkg("libc6-dev", "2.36", 200, &["libc6"]),
        ];
        let d = compare(&old, &new);
        let by = |n: &str| d.added.iter().find(|c| c.name == n).unwrap();
        assert_eq!(d.added[0].name, "gcc-12", "largest first");
        assert_eq!(
            by("gcc-12").pulled_in_by.as_deref(),
            Some("build-essential")
        );
        assert_eq!(
            by("cpp-12").pulled_in_by.as_deref(),
            Some("build-essential")
        );
        assert_eq!(
            by("libc6-dev").pulled_in_by.as_deref(),
            Some("build-essential")
        );
        assert_eq!(by("build-essential").pulled_in_by, None);
        assert_eq!(d.upgraded.len(), 1);
        assert_eq!(d.upgraded[0].old_version.as_deref(), Some("2.36-9"));
        assert_eq!(d.upgraded[0].bytes.delta, 10);
        assert_eq!(d.grown[0].name, "tzdata");
        assert_eq!(d.removed[0].name, "gone");
        assert_eq!(d.removed[0].bytes.delta, -5);
    }
}
