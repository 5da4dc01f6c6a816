//! Build-context leaks: files a `COPY . .`-like instruction shipped from the build context
//! that the image does not need at run time (`.git`, a host `node_modules`, `__pycache__`,
//! `.pytest_cache`, coverage output, `.env`, `*.log`, the Dockerfile, test directories).
//! Each becomes a `.dockerignore` line (a build-context path, never an image path) with the
//! bytes and files it keeps out.

use std::collections::BTreeMap;

use super::{Cmd, Context, Instr};
use crate::index::{display_path, EntryKind, LayerIndex};

/// One `.dockerignore` line and what it keeps out of the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// The `.dockerignore` pattern (`.git`, `**/__pycache__`).
    pub pattern: String,
    /// Content bytes of the files it matches, over every layer that copied them.
    pub bytes: u64,
    pub files: usize,
    /// The lines of the instructions that copied them.
    pub lines: Vec<usize>,
}

/// The context path (relative to the build context) that image path `path` came from,
/// when `ins` copies from the build context and the path is under its destination.
pub(crate) fn context_path(ins: &Instr, path: &str) -> Option<String> {
    if !matches!(ins.keyword.as_str(), "COPY" | "ADD")
        || ins.flag("from").is_some()
        || ins.sources.len() != 1
        || !ins.heredocs.is_empty()
    {
        return None;
    }
    let src = &ins.sources[0];
    if src.contains("://") || src.contains('*') || src.contains('?') {
        return None;
    }
    let dest = ins.dest_abs.as_deref()?;
    let src = src.trim_start_matches("./");
    let src_dir = src.trim_end_matches('/');
    if path == dest {
        return (!src_dir.is_empty() && src_dir != ".").then(|| src_dir.to_string());
    }
    let rest = if dest == "/" {
        path.strip_prefix('/')?
    } else {
        path.strip_prefix(dest)?.strip_prefix('/')?
    };
    if src_dir.is_empty() || src_dir == "." {
        Some(rest.to_string())
    } else {
        Some(format!("{src_dir}/{rest}"))
    }
}

/// The `.dockerignore` pattern a context path falls under, if it is a known leak.
/// `keep` says which names a later `RUN` of the stage uses (those are not leaks).
fn pattern(rel: &str, dockerfile_name: &str, uses: &dyn Fn(&str) -> bool) -> Option<String> {
    let comps: Vec<&str> = rel.split('/').collect();
    let first = *comps.first()?;
    let name = *comps.last()?;
    let is_dir_part = comps.len() > 1;
    if first == ".git" && !uses("git") {
        return Some(".git".into());
    }
    if first == "node_modules" && is_dir_part {
        return Some("node_modules".into());
    }
    if comps[..comps.len() - 1].contains(&"__pycache__") {
        return Some("**/__pycache__".into());
    }
    if comps[..comps.len() - 1].contains(&".pytest_cache") {
        return Some("**/.pytest_cache".into());
    }
    if matches!(first, "coverage" | "htmlcov") && is_dir_part && !uses(first) {
        return Some(first.to_string());
    }
    if comps.len() == 1 && name == ".coverage" {
        return Some(".coverage".into());
    }
    if name == ".env" || name.starts_with(".env.") {
        return Some("**/.env*".into());
    }
    if name.ends_with(".log") {
        return Some("**/*.log".into());
    }
    if comps.len() == 1
        && (name == dockerfile_name || name == "Dockerfile" || name == "Containerfile")
    {
        return Some(name.to_string());
    }
    if comps.len() == 1 && name == ".dockerignore" {
        return Some(".dockerignore".into());
    }
    if matches!(first, "tests" | "test") && is_dir_part && !uses(first) {
        return Some(first.to_string());
    }
    None
}

/// The build-context leaks of an image analysed with `--dockerfile` (its Dockerfile context
/// and layer indexes), largest first.
pub(crate) fn leaks(ctx: &Context, indexes: &[LayerIndex]) -> Vec<Leak> {
    let df = &ctx.dockerfile;
    // Names the stage's RUN commands use: those files are needed by the build.
    let runs: Vec<String> = df
        .chain(ctx.stage)
        .iter()
        .flat_map(|&s| df.stages[s].instructions.iter())
        .filter_map(|i| match &i.command {
            Some(Cmd::Shell(c)) if i.keyword == "RUN" => Some(c.clone()),
            Some(Cmd::Exec(v)) if i.keyword == "RUN" => Some(v.join(" ")),
            _ => None,
        })
        .collect();
    let uses = |name: &str| {
        runs.iter()
            .any(|r| r.split_whitespace().any(|w| w.contains(name)))
    };
    let mut by: BTreeMap<String, Leak> = BTreeMap::new();
    for (li, idx) in indexes.iter().enumerate() {
        let Some(ins) = ctx.mapping.instruction(df, li) else {
            continue;
        };
        if ins.sources.len() != 1 || ins.flag("from").is_some() {
            continue;
        }
        for (i, e) in idx.entries.iter().enumerate() {
            if e.kind != EntryKind::File {
                continue;
            }
            let path = format!("/{}", display_path(idx.path(i)));
            let Some(rel) = context_path(ins, &path) else {
                continue;
            };
            let Some(p) = pattern(&rel, &df.name, &uses) else {
                continue;
            };
            let leak = by.entry(p.clone()).or_insert_with(|| Leak {
                pattern: p,
                bytes: 0,
                files: 0,
                lines: Vec::new(),
            });
            leak.bytes += e.size;
            leak.files += 1;
            if !leak.lines.contains(&ins.line) {
                leak.lines.push(ins.line);
            }
        }
    }
    let mut out: Vec<Leak> = by.into_values().collect();
    out.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.pattern.cmp(&b.pattern)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::Dockerfile;
    use std::path::Path;

    fn copy(line: &str) -> Instr {
        let df = Dockerfile::parse(
            Path::new("Dockerfile"),
            &format!("FROM x\nWORKDIR /srv\n{line}\n"),
            &[],
        )
        .unwrap();
        df.stages[0].instructions[1].clone()
    }

    #[test]
    fn image_paths_become_context_paths() {
        let all = copy("COPY . .");
        assert_eq!(
            context_path(&all, "/srv/.git/HEAD").as_deref(),
            Some(".git/HEAD")
        );
        assert_eq!(context_path(&all, "/etc/passwd"), None);
        let sub = copy("COPY app/ /opt/app/");
        assert_eq!(
            context_path(&sub, "/opt/app/a/b.pyc").as_deref(),
            Some("app/a/b.pyc")
        );
        let file = copy("COPY run.sh /usr/local/bin/run");
        assert_eq!(
            context_path(&file, "/usr/local/bin/run").as_deref(),
            Some("run.sh")
        );
        assert_eq!(
            context_path(&copy("COPY --from=build /out /opt/"), "/opt/x"),
            None
        );
        assert_eq!(context_path(&copy("COPY a b /opt/"), "/opt/x"), None);
    }

    #[test]
    fn leak_patterns() {
        let none = |_: &str| false;
        let p = |rel: &str| pattern(rel, "Dockerfile", &none);
        assert_eq!(p(".git/objects/ab/cd").as_deref(), Some(".git"));
        assert_eq!(
            p("node_modules/x/index.js").as_deref(),
            Some("node_modules")
        );
        assert_eq!(
            p("src/__pycache__/m.pyc").as_deref(),
            Some("**/__pycache__")
        );
        assert_eq!(p(".pytest_cache/v/x").as_deref(), Some("**/.pytest_cache"));
        assert_eq!(p("coverage/lcov.info").as_deref(), Some("coverage"));
        assert_eq!(p(".env").as_deref(), Some("**/.env*"));
        assert_eq!(p("logs/app.log").as_deref(), Some("**/*.log"));
        assert_eq!(p("Dockerfile").as_deref(), Some("Dockerfile"));
        assert_eq!(p("tests/test_x.py").as_deref(), Some("tests"));
        assert_eq!(p("src/main.py"), None);
        assert_eq!(p("docs/Dockerfile"), None);
        // A stage that runs the tests needs them.
        let uses = |n: &str| n == "tests";
        assert_eq!(pattern("tests/test_x.py", "Dockerfile", &uses), None);
    }
}
