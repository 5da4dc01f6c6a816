//! The directories a `hardlink` command should cover so that every duplicate copy and its
//! kept copy are linked, in a handful of arguments however many copies there are.

use std::collections::BTreeSet;

/// Directories passed to `hardlink` at most.
pub(crate) const MAX_DIRS: usize = 4;

/// The parent directories of every (kept, copy) path, with nested ones folded into their
/// ancestors; when more than [`MAX_DIRS`] remain, the deepest directory holding them all.
pub(crate) fn dirs(links: &[(String, String)]) -> Vec<String> {
    let mut all: BTreeSet<&str> = BTreeSet::new();
    for (kept, copy) in links {
        all.insert(parent(kept));
        all.insert(parent(copy));
    }
    // Sorted order puts an ancestor right before its descendants.
    let mut outer: Vec<&str> = Vec::new();
    for d in all {
        if !outer.last().is_some_and(|o| is_within(d, o)) {
            outer.push(d);
        }
    }
    if outer.len() <= MAX_DIRS {
        return outer.into_iter().map(str::to_string).collect();
    }
    vec![common_ancestor(&outer)]
}

fn parent(p: &str) -> &str {
    match p.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &p[..i],
    }
}

fn is_within(d: &str, ancestor: &str) -> bool {
    ancestor == "/"
        || d == ancestor
        || d.strip_prefix(ancestor)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn common_ancestor(dirs: &[&str]) -> String {
    let mut common: Vec<&str> = match dirs.first() {
        Some(d) => d.split('/').filter(|c| !c.is_empty()).collect(),
        None => return "/".to_string(),
    };
    for d in &dirs[1..] {
        let parts: Vec<&str> = d.split('/').filter(|c| !c.is_empty()).collect();
        let same = common
            .iter()
            .zip(&parts)
            .take_while(|(a, b)| a == b)
            .count();
        common.truncate(same);
    }
    format!("/{}", common.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn folds_nested_directories_and_bounds_the_list() {
        let l = pairs(&[
            ("/app/a.bin", "/app/c/a.bin"),
            ("/app/x", "/app/d/e/x"),
            ("/srv/y", "/srv2/y"),
        ]);
        assert_eq!(dirs(&l), ["/app", "/srv", "/srv2"]);
        let many: Vec<(String, String)> = (0..50)
            .map(|i| ("/app/k".to_string(), format!("/app/static/d{i}/k")))
            .chain([("/opt/k".to_string(), "/opt/j/k".to_string())])
            .collect();
        assert_eq!(dirs(&many), ["/app", "/opt"]);
        let spread: Vec<(String, String)> = (0..10)
            .map(|i| ("/data/k".to_string(), format!("/data/s{i}/k")))
            .collect();
        assert_eq!(dirs(&spread), ["/data"]);
        let wide: Vec<(String, String)> = (0..10)
            .map(|i| (format!("/srv/a{i}/k"), format!("/srv/b{i}/k")))
            .collect();
        assert_eq!(dirs(&wide), ["/srv"]);
        let root = pairs(&[("/a", "/b/c"), ("/d/e", "/f/g"), ("/h/i", "/j/k")]);
        assert_eq!(dirs(&root), ["/"]);
    }
}
