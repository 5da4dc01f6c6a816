//! Path policies of `layersift check`: forbidden globs (matched against every file of every
//! layer, hidden ones too), per-glob size budgets, and limits on layers, layer size and file
//! count. Globs are compiled with `globset` when the config is read; rules read an
//! [`Inventory`] of paths, built from an analysis (every layer's files) or from a saved
//! report (only the visible files it lists).

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use crate::report::json::Report;
use crate::units::exact_bytes as bytes;
use crate::verdict::{Outcome, RuleResult};

/// A compiled glob with the text the user wrote.
#[derive(Debug, Clone)]
pub struct PathGlob {
    pub text: String,
    glob: globset::GlobMatcher,
}

impl PartialEq for PathGlob {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl PathGlob {
    /// Compiles a glob: `*` and `?` stay inside one path component, `**` crosses them, and a
    /// glob without a leading `/` matches paths with or without one.
    pub fn new(text: &str) -> Result<PathGlob, String> {
        Ok(PathGlob {
            text: text.to_string(),
            glob: compile(text)?.compile_matcher(),
        })
    }

    pub fn is_match(&self, path: &str) -> bool {
        self.glob.is_match(path)
            || path
                .strip_prefix('/')
                .is_some_and(|p| self.glob.is_match(p))
    }
}

fn compile(text: &str) -> Result<Glob, String> {
    GlobBuilder::new(text)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("not a glob: {e}"))
}

/// Several globs matched at once; says which matched.
#[derive(Debug, Clone, Default)]
pub struct GlobList {
    pub texts: Vec<String>,
    set: GlobSet,
}

impl PartialEq for GlobList {
    fn eq(&self, other: &Self) -> bool {
        self.texts == other.texts
    }
}

impl GlobList {
    pub fn new(texts: &[String]) -> Result<GlobList, (String, String)> {
        let mut b = GlobSetBuilder::new();
        for t in texts {
            b.add(compile(t).map_err(|m| (t.clone(), m))?);
        }
        let set = b
            .build()
            .map_err(|e| (texts.join(", "), format!("not a glob set: {e}")))?;
        Ok(GlobList {
            texts: texts.to_vec(),
            set,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// The first glob (in the order written) matching `path`, with or without its `/`.
    pub fn first_match(&self, path: &str) -> Option<&str> {
        let mut hits = self.set.matches(path);
        if let Some(p) = path.strip_prefix('/') {
            hits.extend(self.set.matches(p));
        }
        hits.into_iter().min().map(|i| self.texts[i].as_str())
    }
}

/// One path shipped by one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathEntry {
    /// Absolute path (`/root/.ssh/id_rsa`).
    pub(crate) path: String,
    /// Content bytes (0 for links and special files).
    pub(crate) size: u64,
    /// The layer that shipped it (0-based).
    pub(crate) layer: usize,
    /// In the final filesystem, or hidden by a later layer.
    pub(crate) visible: bool,
    /// A regular file (counted by `max_files` and budgets).
    pub(crate) regular: bool,
}

/// Every path the rules can see.
#[derive(Debug, Clone, Default)]
pub(crate) struct Inventory {
    pub(crate) entries: Vec<PathEntry>,
    /// False when built from a saved report: it lists visible files only.
    pub(crate) has_hidden: bool,
}

impl Inventory {
    /// Every non-directory entry of every layer (hidden ones too), with its fate.
    pub(crate) fn from_analysis(a: &crate::Analysis) -> Inventory {
        use crate::index::{display_path, EntryKind};
        let mut entries = Vec::new();
        for (li, idx) in a.indexes.iter().enumerate() {
            for (i, e) in idx.entries.iter().enumerate() {
                if e.kind == EntryKind::Dir || e.kind.is_marker() {
                    continue;
                }
                let regular = e.kind == EntryKind::File;
                let visible = a.merged.fate(li, i).is_visible();
                entries.push(PathEntry {
                    path: format!("/{}", display_path(idx.path(i))),
                    size: if regular { e.size } else { 0 },
                    layer: li,
                    visible,
                    regular,
                });
            }
        }
        Inventory {
            entries,
            has_hidden: true,
        }
    }

    /// The files a saved report lists: the visible regular files, and the hidden entries
    /// when the report has them (reports of older versions do not).
    pub(crate) fn from_report(r: &Report) -> Inventory {
        let mut entries: Vec<PathEntry> = r
            .files
            .iter()
            .map(|f| PathEntry {
                path: f.path().to_string(),
                size: f.size(),
                layer: f.layer(),
                visible: true,
                regular: true,
            })
            .collect();
        if let Some(hidden) = &r.hidden_files {
            entries.extend(hidden.iter().map(|h| PathEntry {
                path: h.0.clone(),
                size: h.1,
                layer: h.2,
                visible: false,
                regular: h.1 > 0,
            }));
        }
        Inventory {
            entries,
            has_hidden: r.hidden_files.is_some(),
        }
    }
}

/// The path rules of a config (all off by default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PathRules {
    /// Fails when any path, visible or hidden, matches one of these.
    pub forbid: GlobList,
    /// Most visible content bytes under each glob, sorted by glob.
    pub budgets: Vec<(PathGlob, u64)>,
    pub max_layers: Option<usize>,
    /// Largest content bytes a single layer may ship.
    pub max_layer_size: Option<u64>,
    /// Most visible regular files.
    pub max_files: Option<usize>,
}

/// Paths listed in a rule line before "and N more".
const LISTED: usize = 5;

/// Evaluates the path rules. Only layers `first_layer..` count (the image's own layers when
/// the scope is "own"); `scope` is appended to each line's detail.
pub(crate) fn evaluate(
    rules: &PathRules,
    report: &Report,
    inv: &Inventory,
    first_layer: usize,
    scope: &str,
) -> Vec<RuleResult> {
    let mut out = Vec::new();
    let in_scope = |e: &&PathEntry| e.layer >= first_layer;
    if let Some(max) = rules.max_layers {
        let n = report.layers.len().saturating_sub(first_layer);
        let pass = n <= max;
        out.push(RuleResult {
            rule: "max-layers",
            outcome: outcome(pass),
            value: Some(n as f64),
            threshold: Some(max as f64),
            detail: format!("{n} {} {max}{scope}", if pass { "<=" } else { ">" }),
            evidence: Vec::new(),
        });
    }
    if let Some(max) = rules.max_layer_size {
        let largest = report
            .layers
            .iter()
            .skip(first_layer)
            .max_by_key(|l| (l.content_bytes, std::cmp::Reverse(l.index)));
        let (value, which) = match largest {
            Some(l) => (
                l.content_bytes,
                format!(
                    " (layer {}: `{}`)",
                    l.index,
                    crate::analysis::one_line(&l.instruction, 60)
                ),
            ),
            None => (0, String::new()),
        };
        let pass = value <= max;
        out.push(RuleResult {
            rule: "max-layer-size",
            outcome: outcome(pass),
            value: Some(value as f64),
            threshold: Some(max as f64),
            detail: format!(
                "{}{which} {} {}{scope}",
                bytes(value),
                if pass { "<=" } else { ">" },
                bytes(max)
            ),
            evidence: Vec::new(),
        });
    }
    if let Some(max) = rules.max_files {
        let n = inv
            .entries
            .iter()
            .filter(in_scope)
            .filter(|e| e.visible && e.regular)
            .count();
        let pass = n <= max;
        out.push(RuleResult {
            rule: "max-files",
            outcome: outcome(pass),
            value: Some(n as f64),
            threshold: Some(max as f64),
            detail: format!(
                "{n} visible files {} {max}{scope}",
                if pass { "<=" } else { ">" }
            ),
            evidence: Vec::new(),
        });
    }
    for (glob, max) in &rules.budgets {
        let (mut n, mut total) = (0usize, 0u64);
        for e in inv.entries.iter().filter(in_scope) {
            if e.visible && e.regular && glob.is_match(&e.path) {
                n += 1;
                total += e.size;
            }
        }
        let pass = total <= *max;
        out.push(RuleResult {
            rule: "budget",
            outcome: outcome(pass),
            value: Some(total as f64),
            threshold: Some(*max as f64),
            detail: format!(
                "`{}`: {} in {n} {} {} {}{scope}",
                glob.text,
                bytes(total),
                if n == 1 { "file" } else { "files" },
                if pass { "<=" } else { ">" },
                bytes(*max)
            ),
            evidence: Vec::new(),
        });
    }
    if !rules.forbid.is_empty() {
        let mut hits: Vec<(&PathEntry, &str)> = inv
            .entries
            .iter()
            .filter(in_scope)
            .filter_map(|e| rules.forbid.first_match(&e.path).map(|g| (e, g)))
            .collect();
        hits.sort_by(|a, b| a.0.layer.cmp(&b.0.layer).then(a.0.path.cmp(&b.0.path)));
        let pass = hits.is_empty();
        let only_visible = if inv.has_hidden {
            ""
        } else {
            " (visible files only: this saved report lists no hidden files)"
        };
        let detail = if pass {
            let globs: Vec<String> = rules
                .forbid
                .texts
                .iter()
                .map(|g| format!("`{g}`"))
                .collect();
            format!("no path matches {}{only_visible}{scope}", globs.join(", "))
        } else {
            let mut d = format!(
                "{} {} {}: ",
                hits.len(),
                if hits.len() == 1 { "path" } else { "paths" },
                if hits.len() == 1 { "matches" } else { "match" }
            );
            let listed: Vec<String> = hits
                .iter()
                .take(LISTED)
                .map(|(e, g)| {
                    let fate = if e.visible {
                        "visible"
                    } else {
                        "hidden by a later layer"
                    };
                    format!("`{}` (layer {}, {fate}; `{g}`)", e.path, e.layer)
                })
                .collect();
            d.push_str(&listed.join(", "));
            if hits.len() > LISTED {
                d.push_str(&format!(", and {} more", hits.len() - LISTED));
            }
            d.push_str(only_visible);
            d.push_str(scope);
            d
        };
        out.push(RuleResult {
            rule: "forbid",
            outcome: outcome(pass),
            value: Some(hits.len() as f64),
            threshold: Some(0.0),
            detail,
            evidence: Vec::new(),
        });
    }
    out
}

fn outcome(pass: bool) -> Outcome {
    if pass {
        Outcome::Pass
    } else {
        Outcome::Fail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_with_or_without_the_leading_slash() {
        let g = PathGlob::new("/app/node_modules/**").unwrap();
        assert!(g.is_match("/app/node_modules/a/b.js"));
        assert!(!g.is_match("/app/src/a.js"));
        let g = PathGlob::new("app/*.pem").unwrap();
        assert!(g.is_match("/app/key.pem"));
        assert!(
            !g.is_match("/app/sub/key.pem"),
            "`*` stays in one component"
        );
        let l = GlobList::new(&["**/.git/**".to_string(), "**/id_rsa".to_string()]).unwrap();
        assert_eq!(l.first_match("/root/.ssh/id_rsa"), Some("**/id_rsa"));
        assert_eq!(l.first_match("/src/.git/config"), Some("**/.git/**"));
        assert_eq!(l.first_match("/id_rsa"), Some("**/id_rsa"));
        assert_eq!(l.first_match("/src/git/config"), None);
        assert!(GlobList::new(&["a/[b".to_string()]).is_err());
    }
}
