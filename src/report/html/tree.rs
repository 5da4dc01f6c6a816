//! The treemap's data: the final filesystem as a directory tree, sized by visible bytes, with
//! the layer that shipped most of each cell's bytes and its bytes by waste category. Small
//! files and directories are folded into one "N files" cell per directory so the page stays
//! small whatever the image holds.

use std::collections::HashMap;

use serde::Serialize;

use crate::analysis::rules::{is_license, rule_index, PATH_RULES};
use crate::analysis::Category;
use crate::report::json::FileRow;

/// Waste categories a visible file can fall in, in the order of [`Cell::waste`].
pub(crate) const WASTE: [Category; 5] = [
    Category::PackageCache,
    Category::TempLog,
    Category::Duplicate,
    Category::Docs,
    Category::Toolchain,
];

/// Most cells drawn per directory; the rest fold into one "N files" cell.
const MAX_CHILDREN: usize = 48;
/// Cells smaller than total / this fold into their directory's "N files" cell.
const MIN_SHARE: u64 = 3000;

/// One treemap cell, in compact form for the page's data block.
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct Cell {
    /// Name within its directory (empty for the root). Folded cells have none.
    #[serde(rename = "n", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Visible bytes.
    #[serde(rename = "b")]
    pub bytes: u64,
    /// Regular files below (1 for a file).
    #[serde(rename = "f")]
    pub files: u64,
    /// The layer that shipped most of the bytes.
    #[serde(rename = "l")]
    pub layer: usize,
    /// Bytes per [`WASTE`] category; omitted when all are zero.
    #[serde(rename = "w", skip_serializing_if = "Option::is_none")]
    pub waste: Option<[u64; 5]>,
    /// The package that owns most of the bytes (`curl 7.88.1 (dpkg)`), when packages are known.
    #[serde(rename = "p", skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Bytes against the old image, for diff pages.
    #[serde(rename = "d", skip_serializing_if = "Option::is_none")]
    pub delta: Option<i64>,
    /// True for a directory (even when its children were folded away).
    #[serde(rename = "dir", skip_serializing_if = "std::ops::Not::not")]
    pub dir: bool,
    #[serde(rename = "k", skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Cell>,
}

#[derive(Default)]
struct Node {
    children: HashMap<String, usize>,
    bytes: u64,
    files: u64,
    by_layer: HashMap<usize, u64>,
    by_package: HashMap<u32, u64>,
    waste: [u64; 5],
    is_dir: bool,
}

/// The waste category of one visible file (by path rule, or a later copy of seen content).
fn waste_of(path: &str, content_id: &str, seen: &mut HashMap<String, ()>) -> Option<usize> {
    let rel = path.trim_start_matches('/');
    if let Some(ri) = rule_index(rel.as_bytes()) {
        return WASTE.iter().position(|c| *c == PATH_RULES[ri].category);
    }
    // All copies but the first of the same content; license texts never count.
    if !is_license(rel.as_bytes()) && seen.insert(content_id.to_string(), ()).is_some() {
        return Some(2);
    }
    None
}

/// Which package owns each visible file: path → index into `labels` (`curl 7.88.1 (dpkg)`).
pub(crate) struct Owners<'a> {
    pub by_path: &'a HashMap<String, u32>,
    pub labels: &'a [String],
}

/// Builds the tree of `files` (visible regular files, as the JSON report lists them).
/// `old`, when given, is the old image's files: every cell then carries its byte delta.
/// `owners`, when given, names the package owning most of each cell's bytes.
pub(crate) fn build(
    files: &[FileRow],
    old: Option<&[FileRow]>,
    owners: Option<&Owners<'_>>,
) -> Cell {
    let mut nodes: Vec<Node> = vec![Node {
        is_dir: true,
        ..Node::default()
    }];
    let mut seen = HashMap::new();
    for f in files {
        if f.size() == 0 {
            continue;
        }
        let waste = waste_of(f.path(), f.content_id(), &mut seen);
        let owner = owners.and_then(|o| o.by_path.get(f.path()).copied());
        let parts: Vec<&str> = f.path().split('/').filter(|p| !p.is_empty()).collect();
        let mut at = 0;
        add(&mut nodes[at], f, waste, owner);
        for (depth, part) in parts.iter().enumerate() {
            let next = match nodes[at].children.get(*part) {
                Some(&n) => n,
                None => {
                    nodes.push(Node::default());
                    let n = nodes.len() - 1;
                    nodes[at].children.insert((*part).to_string(), n);
                    n
                }
            };
            at = next;
            nodes[at].is_dir |= depth + 1 < parts.len();
            add(&mut nodes[at], f, waste, owner);
        }
    }
    let old_sizes = old.map(directory_sizes);
    let min = (nodes[0].bytes / MIN_SHARE).max(1);
    let labels = owners.map_or(&[][..], |o| o.labels);
    emit(&nodes, 0, None, "", min, old_sizes.as_ref(), labels)
}

fn add(n: &mut Node, f: &FileRow, waste: Option<usize>, owner: Option<u32>) {
    if let Some(o) = owner {
        *n.by_package.entry(o).or_default() += f.size();
    }
    n.bytes += f.size();
    n.files += 1;
    *n.by_layer.entry(f.layer()).or_default() += f.size();
    if let Some(w) = waste {
        n.waste[w] += f.size();
    }
}

/// Bytes under every path (files and all their directories) of an image's files.
fn directory_sizes(files: &[FileRow]) -> HashMap<String, u64> {
    let mut sizes: HashMap<String, u64> = HashMap::new();
    for f in files {
        let p = f.path();
        *sizes.entry("/".to_string()).or_default() += f.size();
        for (i, c) in p.char_indices().skip(1) {
            if c == '/' {
                *sizes.entry(p[..i].to_string()).or_default() += f.size();
            }
        }
        *sizes.entry(p.to_string()).or_default() += f.size();
    }
    sizes
}

fn emit(
    nodes: &[Node],
    at: usize,
    name: Option<&str>,
    path: &str,
    min: u64,
    old: Option<&HashMap<String, u64>>,
    labels: &[String],
) -> Cell {
    let n = &nodes[at];
    let delta = old.map(|o| {
        let key = if path.is_empty() { "/" } else { path };
        n.bytes as i64 - o.get(key).copied().unwrap_or(0) as i64
    });
    let mut kids: Vec<(&String, usize)> = n.children.iter().map(|(k, &v)| (k, v)).collect();
    kids.sort_by(|a, b| nodes[b.1].bytes.cmp(&nodes[a.1].bytes).then(a.0.cmp(b.0)));
    let mut children = Vec::new();
    let mut rest: Option<Cell> = None;
    for (i, (child_name, child)) in kids.into_iter().enumerate() {
        let c = &nodes[child];
        if i < MAX_CHILDREN && c.bytes >= min {
            let child_path = format!("{path}/{child_name}");
            children.push(emit(
                nodes,
                child,
                Some(child_name),
                &child_path,
                min,
                old,
                labels,
            ));
        } else {
            let r = rest.get_or_insert_with(|| Cell {
                name: None,
                bytes: 0,
                files: 0,
                layer: c.dominant_layer(),
                waste: None,
                package: None,
                delta: None,
                dir: false,
                children: Vec::new(),
            });
            r.bytes += c.bytes;
            r.files += c.files;
            if c.waste.iter().any(|&w| w > 0) {
                let w = r.waste.get_or_insert([0; 5]);
                for (a, b) in w.iter_mut().zip(c.waste) {
                    *a += b;
                }
            }
        }
    }
    children.extend(rest);
    Cell {
        // Names an image controls: redacted and escaped like every other output.
        name: name.map(super::plain),
        bytes: n.bytes,
        files: n.files,
        layer: n.dominant_layer(),
        waste: n.waste.iter().any(|&w| w > 0).then_some(n.waste),
        package: n.package(labels),
        delta,
        dir: n.is_dir,
        children,
    }
}

impl Node {
    /// The package owning most of the bytes, with its share when it is not all of them.
    fn package(&self, labels: &[String]) -> Option<String> {
        let (&id, &bytes) = self
            .by_package
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))?;
        let label = labels.get(id as usize)?;
        Some(if bytes >= self.bytes {
            label.clone()
        } else {
            format!(
                "{label}: {}% of the bytes",
                (bytes * 100 / self.bytes.max(1)).max(1)
            )
        })
    }

    fn dominant_layer(&self) -> usize {
        self.by_layer
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map_or(0, |(&l, _)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(path: &str, size: u64, layer: usize, id: &str) -> FileRow {
        FileRow(path.to_string(), size, layer, id.to_string())
    }

    #[test]
    fn sizes_layers_and_waste_add_up() {
        let files = vec![
            row("/app/a.bin", 600, 2, "1"),
            row("/app/b.bin", 600, 2, "1"),
            row("/usr/bin/curl", 1000, 1, "2"),
            row("/var/lib/apt/lists/x_Packages", 500, 1, "3"),
        ];
        let t = build(&files, None, None);
        assert_eq!(t.bytes, 2700);
        assert_eq!(t.files, 4);
        assert_eq!(t.layer, 1, "layer 1 shipped 1500 of 2700 bytes");
        let app = t
            .children
            .iter()
            .find(|c| c.name.as_deref() == Some("app"))
            .unwrap();
        assert!(app.dir);
        assert_eq!(app.waste.unwrap()[2], 600, "the second copy is a duplicate");
        let var = t
            .children
            .iter()
            .find(|c| c.name.as_deref() == Some("var"))
            .unwrap();
        assert_eq!(var.waste.unwrap()[0], 500, "apt lists are a package cache");
    }

    #[test]
    fn small_cells_fold_into_one() {
        let mut files = vec![row("/big", 1_000_000, 0, "0")];
        for i in 0..200 {
            files.push(row(&format!("/small/f{i:03}"), 10, 0, &format!("s{i}")));
        }
        let t = build(&files, None, None);
        let small = t
            .children
            .iter()
            .find(|c| c.name.as_deref() == Some("small"))
            .unwrap();
        assert_eq!(small.bytes, 2000);
        assert!(small.children.is_empty() || small.children.iter().any(|c| c.name.is_none()));
        let folded: u64 = small.children.iter().map(|c| c.bytes).sum();
        assert!(small.children.is_empty() || folded == 2000);
    }

    #[test]
    fn a_large_image_stays_a_small_tree() {
        // 200,000 files in 2,000 directories of 100 files each, sizes spread out.
        let files: Vec<FileRow> = (0..200_000u64)
            .map(|i| {
                let dir = i / 100;
                row(
                    &format!("/srv/d{:02}/sub{dir:04}/f{i:06}", dir % 40),
                    1 + (i * 7919) % 20_000,
                    (i % 3) as usize,
                    &format!("{i:x}"),
                )
            })
            .collect();
        let t = build(&files, None, None);
        fn count(c: &Cell) -> usize {
            1 + c.children.iter().map(count).sum::<usize>()
        }
        let cells = count(&t);
        assert!(cells < 6_000, "{cells} cells");
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.len() < 400_000, "{} bytes", json.len());
        assert_eq!(t.files, 200_000);
        fn sums(c: &Cell) {
            if !c.children.is_empty() {
                assert_eq!(c.children.iter().map(|k| k.bytes).sum::<u64>(), c.bytes);
                c.children.iter().for_each(sums);
            }
        }
        sums(&t);
    }

    #[test]
    fn cells_name_their_package() {
        let files = vec![
            row("/usr/bin/curl", 300, 1, "1"),
            row("/usr/lib/libcurl.so", 600, 1, "2"),
            row("/usr/lib/mine.so", 100, 2, "3"),
        ];
        let by_path: HashMap<String, u32> = [
            ("/usr/bin/curl".to_string(), 0),
            ("/usr/lib/libcurl.so".to_string(), 1),
        ]
        .into();
        let labels = [
            "curl 7.88 (dpkg)".to_string(),
            "libcurl4 7.88 (dpkg)".to_string(),
        ];
        let t = build(
            &files,
            None,
            Some(&Owners {
                by_path: &by_path,
                labels: &labels,
            }),
        );
        let usr = &t.children[0];
        assert_eq!(
            usr.package.as_deref(),
            Some("libcurl4 7.88 (dpkg): 60% of the bytes")
        );
        let bin = usr
            .children
            .iter()
            .find(|c| c.name.as_deref() == Some("bin"))
            .unwrap();
        assert_eq!(bin.package.as_deref(), Some("curl 7.88 (dpkg)"));
    }

    #[test]
    fn deltas_against_the_old_files() {
        let old = vec![row("/usr/bin/a", 100, 0, "a")];
        let new = vec![
            row("/usr/bin/a", 100, 0, "a"),
            row("/usr/bin/b", 50, 1, "b"),
        ];
        let t = build(&new, Some(&old), None);
        assert_eq!(t.delta, Some(50));
        let usr = &t.children[0];
        assert_eq!(usr.delta, Some(50));
        let bin = &usr.children[0];
        let b = bin
            .children
            .iter()
            .find(|c| c.name.as_deref() == Some("b"))
            .unwrap();
        assert_eq!(b.delta, Some(50));
    }
}
