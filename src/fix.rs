//! `layersift fix`: turns the suggestions that can be made mechanically into a patch of the
//! Dockerfile and of `.dockerignore`, as a unified diff that `git apply` and `patch -p1`
//! accept. Each applied suggestion replaces the lines of the instructions it rewrites and is
//! headed by a comment with the bytes it saves; what cannot be patched safely stays a
//! suggestion and is listed, with the reason, in a comment at the top of the patch.
//!
//! The line diff comes from the `similar` crate (already in the tree through `insta`); the
//! hunks are cut by `unidiff`, so each suggestion keeps its own.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::analysis::Suggestion;
use crate::dockerfile::context::{leaks, Leak};
use crate::dockerfile::{Cmd, Context, Dockerfile, Instr};
use crate::units::human_bytes;
use crate::Analysis;

/// How `fix` rewrites package-manager caches.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `RUN --mount=type=cache` instead of disabling the cache.
    pub cache_mounts: bool,
}

/// Replace lines `from..=to` (1-based) with `lines` (empty: delete them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineEdit {
    pub from: usize,
    pub to: usize,
    pub lines: Vec<String>,
}

/// One applied suggestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    pub rule: String,
    pub title: String,
    /// `Dockerfile:12`: the first line it changes.
    pub source: String,
    pub saves_bytes: u64,
    pub edits: Vec<LineEdit>,
}

/// What `fix` will do.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub hunks: Vec<Hunk>,
    /// `.dockerignore` lines to add, with what each keeps out.
    pub ignore: Vec<Leak>,
    /// Suggestions left as they are, with why.
    pub left: Vec<(String, String)>,
}

impl Plan {
    /// Content bytes the patch is predicted to save: its hunks and its `.dockerignore` lines.
    pub fn saves_bytes(&self) -> u64 {
        self.hunks.iter().map(|h| h.saves_bytes).sum::<u64>()
            + self.ignore.iter().map(|l| l.bytes).sum::<u64>()
    }
}

/// The comment heading a hunk.
fn heading(rule: &str, saves: u64) -> String {
    format!("# layersift fix ({rule}): saves {}", human_bytes(saves))
}

/// `RUN a \` / ` && b` lines of a snippet.
fn snippet_lines(s: &str) -> Vec<String> {
    s.lines().map(str::to_string).collect()
}

/// Plans the patch for an analysis made with `--dockerfile`.
pub fn plan(a: &Analysis, opts: Options) -> Plan {
    let mut plan = Plan::default();
    let Some(ctx) = &a.dockerfile else {
        return plan;
    };
    let mut taken: Vec<(usize, usize)> = Vec::new();
    // The layers each merge hunk makes one: (hunk, layers).
    let mut merges: Vec<(usize, &[usize])> = Vec::new();
    let mut unpatched: Vec<(&Suggestion, String)> = Vec::new();
    for s in &a.suggestions {
        match edits_for(a, ctx, s, opts) {
            Ok(edits) => {
                let overlaps = edits
                    .iter()
                    .any(|e| taken.iter().any(|&(f, t)| e.from <= t && f <= e.to));
                if overlaps {
                    unpatched.push((
                        s,
                        "it changes lines another hunk of this patch already changes".into(),
                    ));
                    continue;
                }
                taken.extend(edits.iter().map(|e| (e.from, e.to)));
                let first = edits.iter().map(|e| e.from).min().unwrap_or(1);
                if s.rule == "merge-runs" {
                    merges.push((plan.hunks.len(), &s.layers));
                }
                plan.hunks.push(Hunk {
                    rule: s.rule.clone(),
                    title: s.title.clone(),
                    source: ctx.dockerfile.cite(first),
                    saves_bytes: s.saves_bytes,
                    edits,
                });
            }
            Err(why) => unpatched.push((s, why)),
        }
    }
    for (s, why) in unpatched {
        // A chmod/chown rewrite between layers a merge hunk makes one is gone with the
        // merge: its bytes are that hunk's too.
        let merged = merges.iter().find(|(_, layers)| {
            s.rule == "set-modes-in-creating-step" && s.layers.iter().all(|l| layers.contains(l))
        });
        match merged.and_then(|&(h, _)| plan.hunks.get_mut(h)) {
            Some(h) => {
                h.saves_bytes += s.saves_bytes;
                let head = heading(&h.rule, h.saves_bytes);
                for line in h.edits.iter_mut().flat_map(|e| e.lines.iter_mut()) {
                    if line.starts_with("# layersift fix (") {
                        line.clone_from(&head);
                    }
                }
                plan.left.push((
                    s.title.clone(),
                    format!(
                        "the merge at {} makes those layers one, so its bytes are counted there",
                        h.source
                    ),
                ));
            }
            None => plan.left.push((s.title.clone(), why)),
        }
    }
    plan.hunks
        .sort_by_key(|h| h.edits.iter().map(|e| e.from).min());
    plan.ignore = a
        .dockerfile
        .as_ref()
        .map_or_else(Vec::new, |ctx| leaks(ctx, &a.indexes));
    plan
}

/// The instruction of a layer, or why there is none to patch.
fn instr(ctx: &Context, layer: usize) -> Result<&Instr, String> {
    let ins = ctx
        .mapping
        .instruction(&ctx.dockerfile, layer)
        .ok_or_else(|| format!("layer {layer} is not tied to a line of the Dockerfile"))?;
    if !ctx
        .dockerfile
        .chain(ctx.stage)
        .contains(&stage_of(ctx, layer))
    {
        return Err(format!("layer {layer} comes from another stage"));
    }
    Ok(ins)
}

fn stage_of(ctx: &Context, layer: usize) -> usize {
    match ctx.mapping.layers.get(layer) {
        Some(crate::dockerfile::map::LayerSource::Instruction { stage, .. }) => *stage,
        _ => usize::MAX,
    }
}

/// A shell-form RUN without heredocs: its command.
fn shell_run(ins: &Instr) -> Result<&str, String> {
    match (&ins.command, ins.keyword.as_str()) {
        (Some(Cmd::Shell(c)), "RUN") if ins.heredocs.is_empty() => Ok(c),
        _ => Err(format!(
            "line {} is not a shell-form RUN without heredocs",
            ins.line
        )),
    }
}

fn is_apt(cmd: &str) -> bool {
    cmd.contains("apt-get ") || cmd.contains("apt ") || cmd.contains("/var/lib/apt/lists")
}

/// The `&&` parts of a shell command, whitespace collapsed.
fn parts(cmd: &str) -> Vec<String> {
    cmd.split("&&")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

fn delete(ins: &Instr) -> LineEdit {
    LineEdit {
        from: ins.line,
        to: ins.end_line,
        lines: Vec::new(),
    }
}

fn replace(ins: &Instr, heading: String, body: &str) -> LineEdit {
    let mut lines = vec![heading];
    lines.extend(snippet_lines(body));
    LineEdit {
        from: ins.line,
        to: ins.end_line,
        lines,
    }
}

/// The line edits that apply one suggestion, or why it cannot be applied mechanically.
fn edits_for(
    a: &Analysis,
    ctx: &Context,
    s: &Suggestion,
    opts: Options,
) -> Result<Vec<LineEdit>, String> {
    let head = heading(&s.rule, s.saves_bytes);
    match s.rule.as_str() {
        "merge-apt-steps" => {
            let (lo, hi) = (
                *s.layers.first().unwrap_or(&s.layer),
                *s.layers.last().unwrap_or(&s.layer),
            );
            let covered: Vec<usize> = (lo..=hi)
                .filter(|&l| {
                    a.layers
                        .get(l)
                        .is_some_and(|l| l.step.keyword() == "RUN" && is_apt(l.step.body()))
                })
                .collect();
            let Some(&first) = covered.first() else {
                return Err("no apt RUN to rewrite".into());
            };
            let mut edits = Vec::new();
            for &l in &covered {
                let ins = instr(ctx, l)?;
                shell_run(ins)?;
                edits.push(if l == first {
                    replace(ins, head.clone(), &s.snippet)
                } else {
                    delete(ins)
                });
            }
            Ok(edits)
        }
        "pip-no-cache-dir" | "apk-no-cache" | "npm-cache-clean" | "yarn-cache-clean"
        | "dnf-clean-all" | "zypper-clean" | "delete-temp-files" => {
            let ins = instr(ctx, s.layer)?;
            let cmd = shell_run(ins)?;
            let mount = match s.rule.as_str() {
                "pip-no-cache-dir" => Some("/root/.cache/pip"),
                "npm-cache-clean" => Some("/root/.npm"),
                "yarn-cache-clean" => Some("/usr/local/share/.cache/yarn"),
                _ => None,
            };
            let body = match mount {
                Some(target) if opts.cache_mounts => {
                    format!("RUN --mount=type=cache,target={target} {}", cmd.trim())
                }
                _ => s.snippet.clone(),
            };
            Ok(vec![replace(ins, head, &body)])
        }
        "cache-mount" => {
            if !opts.cache_mounts {
                return Err(
                    "a cache mount changes how the image is built; ask for it with `--cache-mounts`"
                        .into(),
                );
            }
            let ins = instr(ctx, s.layer)?;
            shell_run(ins)?;
            Ok(vec![replace(ins, head, &s.snippet)])
        }
        "merge-runs" => {
            // One RUN for all the layers (several when merges were combined): the first
            // becomes the merged RUN, the others go.
            let runs: Vec<&Instr> = s
                .layers
                .iter()
                .map(|&l| instr(ctx, l))
                .collect::<Result<_, _>>()?;
            for r in &runs {
                shell_run(r)?;
            }
            let (Some(first), Some(last)) = (runs.first(), runs.last()) else {
                return Err("no layers".into());
            };
            let others = ctx.dockerfile.stages.iter().any(|st| {
                st.instructions.iter().any(|i| {
                    i.makes_layer()
                        && i.line > first.end_line
                        && i.end_line < last.line
                        && !runs.iter().any(|r| r.line == i.line)
                })
            });
            if others {
                return Err(format!(
                    "other instructions run between {} and {}; moving the later RUN could change what they see",
                    ctx.dockerfile.cite(first.line),
                    ctx.dockerfile.cite(last.line)
                ));
            }
            let mut edits = vec![replace(first, head, &s.snippet)];
            edits.extend(runs[1..].iter().map(|r| delete(r)));
            Ok(edits)
        }
        "npm-omit-dev" => {
            let ins = instr(ctx, s.layer)?;
            let cmd = shell_run(ins)?;
            let run = crate::analysis::package_findings::npm_omit_dev(cmd)?;
            Ok(vec![replace(ins, head, &run)])
        }
        "set-modes-in-creating-step" => chmod_to_copy(ctx, s, head),
        "secret-mount" => secret_to_mount(a, ctx, s, head),
        _ => Err("not a mechanical change; apply it by hand".into()),
    }
}

/// `COPY x /app` + `RUN chmod -R 755 /app` → `COPY --chmod=755 x /app`.
fn chmod_to_copy(ctx: &Context, s: &Suggestion, head: String) -> Result<Vec<LineEdit>, String> {
    let hider = instr(ctx, s.layer)?;
    let cmd = shell_run(hider)?;
    let ps = parts(cmd);
    let mut flag: Option<(String, String)> = None;
    let mut targets: Vec<(String, bool)> = Vec::new();
    for p in &ps {
        let words: Vec<&str> = p.split_whitespace().collect();
        let (tool, rest) = words.split_first().ok_or("an empty command")?;
        let name = match *tool {
            "chmod" => "chmod",
            "chown" => "chown",
            _ => {
                return Err(format!(
                    "{} does more than change modes",
                    ctx.dockerfile.cite(hider.line)
                ))
            }
        };
        let recursive = rest.iter().any(|w| *w == "-R" || *w == "--recursive");
        let mut args = rest.iter().filter(|w| !w.starts_with('-'));
        let value = args.next().ok_or("no mode")?.to_string();
        if name == "chmod" && !value.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!(
                "`{value}` is a symbolic mode; `COPY --chmod` takes an octal one"
            ));
        }
        if flag.as_ref().is_some_and(|(n, v)| n != name || *v != value) {
            return Err("several modes or owners in one step".into());
        }
        flag = Some((name.to_string(), value));
        for t in args {
            targets.push((crate::dockerfile::absolute("/", t), recursive));
        }
    }
    let (name, value) = flag.ok_or("no chmod or chown")?;
    let creators: Vec<usize> = s.layers.iter().copied().filter(|&l| l != s.layer).collect();
    let mut edits = Vec::new();
    let mut covered = vec![false; targets.len()];
    for (n, &c) in creators.iter().enumerate() {
        let ins = instr(ctx, c)?;
        if !matches!(ins.keyword.as_str(), "COPY" | "ADD") {
            return Err(format!(
                "{} is not a COPY or ADD",
                ctx.dockerfile.cite(ins.line)
            ));
        }
        if ins.flag(&name).is_some() {
            return Err(format!(
                "{} already sets --{name}",
                ctx.dockerfile.cite(ins.line)
            ));
        }
        let dest = ins.dest_abs.clone().unwrap_or_default();
        // The flag applies to everything the COPY writes: only when the chmod covered
        // exactly that (the destination, recursively, or the one file copied).
        let single_file =
            ins.sources.len() == 1 && !ins.dest.as_deref().unwrap_or("/").ends_with('/');
        let hit = targets
            .iter()
            .position(|(t, rec)| *t == dest && (*rec || single_file));
        let Some(hit) = hit else {
            return Err(format!(
                "the {name} does not cover exactly what {} copies; `COPY --{name}` would change other files",
                ctx.dockerfile.cite(ins.line)
            ));
        };
        covered[hit] = true;
        let first_line = ctx
            .dockerfile
            .lines(ins.line, ins.line)
            .concat()
            .trim_end_matches(['\n', '\r'])
            .to_string();
        let kw_at = first_line
            .to_ascii_uppercase()
            .find(&ins.keyword)
            .ok_or("keyword not found")?;
        let at = kw_at + ins.keyword.len();
        let mut lines = Vec::new();
        if n == 0 {
            lines.push(head.clone());
        }
        lines.push(format!(
            "{} --{name}={value}{}",
            &first_line[..at],
            &first_line[at..]
        ));
        lines.extend(
            ctx.dockerfile
                .lines(ins.line + 1, ins.end_line)
                .iter()
                .map(|l| l.trim_end_matches(['\n', '\r']).to_string()),
        );
        edits.push(LineEdit {
            from: ins.line,
            to: ins.end_line,
            lines,
        });
    }
    if covered.iter().any(|c| !c) {
        return Err(format!(
            "{} also changes files no COPY of this suggestion wrote",
            ctx.dockerfile.cite(hider.line)
        ));
    }
    edits.push(delete(hider));
    Ok(edits)
}

/// `COPY secret /p` … `RUN cmd` … `RUN rm /p` → `RUN --mount=type=secret,id=…,target=/p cmd`.
fn secret_to_mount(
    a: &Analysis,
    ctx: &Context,
    s: &Suggestion,
    head: String,
) -> Result<Vec<LineEdit>, String> {
    let f = s
        .findings
        .first()
        .and_then(|&i| a.findings.get(i))
        .ok_or("no finding")?;
    let path = f
        .paths
        .first()
        .ok_or("the secret is in the config or the history, not a file: pass it at run time")?;
    let copy = instr(ctx, f.layer)?;
    if copy.keyword != "COPY" || copy.dest_abs.as_deref() != Some(path.as_str()) {
        return Err(format!(
            "{} does not copy `{path}` alone",
            ctx.dockerfile.cite(copy.line)
        ));
    }
    let src = crate::dockerfile::context::context_path(copy, path)
        .ok_or("the secret's source is unknown")?;
    let by = f
        .hidden_by
        .ok_or("the secret is never removed; the command that needs it is unknown")?;
    let rm = instr(ctx, by)?;
    let rm_cmd = shell_run(rm)?;
    let keep: Vec<String> = parts(rm_cmd)
        .into_iter()
        .filter(|p| {
            let w: Vec<&str> = p.split_whitespace().collect();
            !(w.first() == Some(&"rm")
                && w.iter().skip(1).all(|x| x.starts_with('-') || *x == path))
        })
        .collect();
    let name = Path::new(path)
        .file_name()
        .map_or("secret".into(), |n| n.to_string_lossy().to_string());
    let id = crate::analysis::suggest::secret_id(&name);
    let mount = format!("--mount=type=secret,id={id},target={path},required=true");
    let mut edits = vec![LineEdit {
        from: copy.line,
        to: copy.end_line,
        lines: vec![head, format!("# build with: --secret id={id},src={src}")],
    }];
    // Every RUN between the COPY and the removal gets the mount.
    for st in &ctx.dockerfile.stages {
        for i in &st.instructions {
            if i.keyword == "RUN" && i.line > copy.end_line && i.end_line < rm.line {
                let first = ctx.dockerfile.lines(i.line, i.line).concat();
                let first = first.trim_end_matches(['\n', '\r']);
                let at = first
                    .to_ascii_uppercase()
                    .find("RUN")
                    .ok_or("RUN not found")?
                    + 3;
                let mut lines = vec![format!("{} {mount}{}", &first[..at], &first[at..])];
                lines.extend(
                    ctx.dockerfile
                        .lines(i.line + 1, i.end_line)
                        .iter()
                        .map(|l| l.trim_end_matches(['\n', '\r']).to_string()),
                );
                edits.push(LineEdit {
                    from: i.line,
                    to: i.end_line,
                    lines,
                });
            }
        }
    }
    if edits.len() == 1 {
        // No RUN between the COPY and the removal used it: it simply goes.
        edits[0].lines[1] = "# no step between the COPY and its removal used it: dropped".into();
    }
    edits.push(if keep.is_empty() {
        delete(rm)
    } else {
        LineEdit {
            from: rm.line,
            to: rm.end_line,
            lines: snippet_lines(&format!("RUN {}", keep.join(" \\\n && "))),
        }
    });
    Ok(edits)
}

/// The Dockerfile's text with the plan's edits applied.
pub(crate) fn apply(df: &Dockerfile, plan: &Plan) -> String {
    let mut edits: Vec<&LineEdit> = plan.hunks.iter().flat_map(|h| &h.edits).collect();
    edits.sort_by_key(|e| e.from);
    let mut out = String::with_capacity(df.text.len() + 256);
    let mut next = 0;
    for (n, line) in df.text.split_inclusive('\n').enumerate() {
        let ln = n + 1;
        if let Some(e) = edits.get(next).filter(|e| e.from == ln) {
            for l in &e.lines {
                out.push_str(l);
                out.push('\n');
            }
        }
        if edits.get(next).is_some_and(|e| ln >= e.from && ln <= e.to) {
            if edits.get(next).is_some_and(|e| ln == e.to) {
                next += 1;
            }
            continue;
        }
        out.push_str(line);
    }
    out
}

/// `.dockerignore` with the plan's lines added.
pub(crate) fn ignore_text(old: &str, plan: &Plan) -> Result<String, std::fmt::Error> {
    let present: Vec<&str> = old.lines().map(str::trim).collect();
    let mut out = old.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    let add: Vec<&Leak> = plan
        .ignore
        .iter()
        .filter(|l| !present.contains(&l.pattern.as_str()))
        .collect();
    if add.is_empty() {
        return Ok(out);
    }
    out.push_str("# layersift fix: build-context files the image does not need\n");
    for l in add {
        writeln!(
            out,
            "# saves {} ({} {})\n{}",
            human_bytes(l.bytes),
            l.files,
            if l.files == 1 { "file" } else { "files" },
            l.pattern
        )?;
        if l.pattern == "Dockerfile" || l.pattern == "Containerfile" {
            // The build still reads them; the image does not need them.
            if !present.contains(&".dockerignore") {
                out.push_str(".dockerignore\n");
            }
        }
    }
    Ok(out)
}

/// A unified diff of one file; `None` when nothing changed. `old` `None` creates it.
pub(crate) fn file_diff(path: &str, old: Option<&str>, new: &str) -> Option<String> {
    let before = old.unwrap_or("");
    if before == new {
        return None;
    }
    let mut out = format!("diff --git a/{path} b/{path}\n");
    let (from, to) = match old {
        Some(_) => (format!("a/{path}"), format!("b/{path}")),
        None => {
            out.push_str("new file mode 100644\n");
            ("/dev/null".to_string(), format!("b/{path}"))
        }
    };
    out.push_str(&crate::unidiff::unified(&from, &to, before, new));
    Some(out)
}

/// Where the patch names the files: the Dockerfile's path as given when it is relative and
/// stays inside the current directory, else its file name (apply it in its directory).
fn patch_paths(df_path: &Path) -> (String, String) {
    let inside = df_path.is_relative()
        && !df_path
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir));
    let rel: PathBuf = if inside {
        df_path
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect()
    } else {
        PathBuf::from(df_path.file_name().unwrap_or_default())
    };
    let ignore = rel.parent().unwrap_or(Path::new("")).join(".dockerignore");
    (
        rel.to_string_lossy().into_owned(),
        ignore.to_string_lossy().into_owned(),
    )
}

/// The whole patch: a comment listing what stays a suggestion, then the file diffs.
pub(crate) fn render_patch(
    df: &Dockerfile,
    plan: &Plan,
    ignore_old: Option<&str>,
) -> Result<String, std::fmt::Error> {
    let (df_name, ignore_name) = patch_paths(&df.path);
    let mut out = String::new();
    writeln!(
        out,
        "layersift fix: {} and {}, predicted to save {}",
        crate::units::plural(plan.hunks.len(), "hunk", "hunks"),
        crate::units::plural(
            plan.ignore.len(),
            ".dockerignore line",
            ".dockerignore lines"
        ),
        human_bytes(plan.saves_bytes())
    )?;
    for h in &plan.hunks {
        writeln!(
            out,
            "  {}: {} (saves {})",
            h.source,
            h.title,
            human_bytes(h.saves_bytes)
        )?;
    }
    if !plan.left.is_empty() {
        writeln!(out, "Not patched (still suggestions):")?;
        for (title, why) in &plan.left {
            writeln!(out, "  - {title}: {why}")?;
        }
    }
    out.push('\n');
    if let Some(d) = file_diff(&df_name, Some(&df.text), &apply(df, plan)) {
        out.push_str(&d);
    }
    if !plan.ignore.is_empty() {
        let new = ignore_text(ignore_old.unwrap_or(""), plan)?;
        if let Some(d) = file_diff(&ignore_name, ignore_old, &new) {
            out.push_str(&d);
        }
    }
    Ok(out)
}

/// The `--dry-run` listing.
pub(crate) fn render_dry_run(plan: &Plan) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    for (n, h) in plan.hunks.iter().enumerate() {
        writeln!(
            out,
            "hunk {}  {:<16} {:>9}  {}  {}",
            n + 1,
            h.source,
            human_bytes(h.saves_bytes),
            h.rule,
            h.title
        )?;
    }
    for l in &plan.ignore {
        writeln!(
            out,
            ".dockerignore  {:<20} {:>9}  {} files",
            l.pattern,
            human_bytes(l.bytes),
            l.files
        )?;
    }
    for (title, why) in &plan.left {
        writeln!(out, "not patched  {title}: {why}")?;
    }
    writeln!(out, "predicted saving: {}", human_bytes(plan.saves_bytes()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_stays_small_so_hunks_stay_apart() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "A\nb\nc\nd\ne\nf\ng\nH\n";
        let d = file_diff("Dockerfile", Some(old), new).unwrap();
        assert_eq!(d.matches("@@ -").count(), 2, "{d}");
        assert!(d.starts_with(
            "diff --git a/Dockerfile b/Dockerfile\n--- a/Dockerfile\n+++ b/Dockerfile\n"
        ));
        let created = file_diff(".dockerignore", None, ".git\n").unwrap();
        assert!(
            created.contains(
                "new file mode 100644\n--- /dev/null\n+++ b/.dockerignore\n@@ -0,0 +1 @@\n+.git\n"
            ),
            "{created}"
        );
    }

    #[test]
    fn patch_paths_are_relative() {
        assert_eq!(
            patch_paths(Path::new("./app/Dockerfile")),
            (
                "app/Dockerfile".to_string(),
                "app/.dockerignore".to_string()
            )
        );
        assert_eq!(
            patch_paths(Path::new("/abs/Containerfile")),
            ("Containerfile".to_string(), ".dockerignore".to_string())
        );
    }
}
