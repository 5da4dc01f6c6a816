//! Suggestions for files removed or replaced by a later layer: delete them in the step that
//! makes them (merge the two RUNs), or keep them out of the build context.

use std::collections::BTreeMap;

use super::shell::{command, is_run, keyword, run_snippet};
use super::{Builder, Draft};
use crate::analysis::findings::Category;

/// Files removed or replaced by a later layer: remove them in the step that made them (or
/// merge the two RUNs), or keep them out of the build context / in a build stage.
pub(super) fn merge_runs(b: &mut Builder<'_>) {
    let mut pairs: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for (i, f) in b.free() {
        if matches!(f.category, Category::Removed | Category::OverwrittenChanged) {
            if let Some(by) = f.hidden_by {
                pairs.entry((f.layer, by)).or_default().push(i);
            }
        }
    }
    for ((made, by), ids) in pairs {
        let (Some(ml), Some(bl)) = (b.layer(made), b.layer(by)) else {
            continue;
        };
        let removed_only = ids
            .iter()
            .all(|&i| b.findings[i].category == Category::Removed);
        if is_run(ml) && is_run(bl) {
            let title = if removed_only {
                format!("Delete the files in the step that creates them (merge layer {made} and layer {by})")
            } else {
                format!(
                    "Merge layer {made} and layer {by} into one RUN so only the final files ship"
                )
            };
            b.push(Draft {
                rule: "merge-runs",
                title,
                layer: made,
                instruction: None,
                snippet: run_snippet(&[command(ml).to_string(), command(bl).to_string()]),
                findings: ids,
            });
        } else if matches!(keyword(ml), "COPY" | "ADD") && removed_only && made > 0 {
            let paths: Vec<String> = ids
                .iter()
                .flat_map(|&i| b.findings[i].paths.iter().take(5).cloned())
                .collect();
            let instruction = &ml.step.instruction;
            // Files a COPY took from a build stage are not in the build context.
            let lines = if instruction.contains("--from=") {
                format!(
                    "# they come from a build stage: delete them there, or copy only what the image needs\n{}",
                    paths.iter().map(|p| format!("#   {p}")).collect::<Vec<_>>().join("\n")
                )
            } else {
                format!(
                    "# .dockerignore (or COPY --from=build only what the image needs)\n{}",
                    paths
                        .iter()
                        .map(|p| context_path(instruction, p))
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            };
            b.push(Draft { rule: "exclude-from-context", title: format!("Keep files that layer {by} deletes out of the build context, or copy them from a build stage"), layer: made, instruction: None, snippet: format!(
                    "{lines}\n{instruction}"
                ), findings: ids });
        }
    }
}

/// The build-context path a `COPY`/`ADD` line shipped `image_path` from, as a `.dockerignore`
/// line: the source directory joined with the path below the destination (`COPY . /app/`
/// ships `/app/x` from `x`, `COPY src/ /app/` from `src/x`), the source itself for a file,
/// or the history's placeholder (`<source-dir>/x`). Several sources: a placeholder naming
/// the image path.
pub(super) fn context_path(instruction: &str, image_path: &str) -> String {
    let unknown = || format!("<context path of {image_path}>");
    let words: Vec<&str> = instruction
        .split_whitespace()
        .skip(1)
        .filter(|w| !w.starts_with("--"))
        .collect();
    let Some((dest, [src])) = words.split_last() else {
        return unknown();
    };
    let dest = dest.trim_end_matches('/');
    let src_name = src.trim_end_matches('/').rsplit('/').next().unwrap_or(src);
    if image_path == dest
        || (!src.ends_with('/') && *src != "." && {
            let below = image_path
                .strip_prefix(dest)
                .and_then(|r| r.strip_prefix('/'));
            below == Some(src_name)
        })
    {
        // A file, copied to the destination or into it under its own name.
        return (*src).to_string();
    }
    let Some(rel) = image_path
        .strip_prefix(dest)
        .and_then(|r| r.strip_prefix('/'))
    else {
        return unknown();
    };
    match src.trim_end_matches('/') {
        "." | "" => rel.to_string(),
        dir => format!("{}/{rel}", dir.trim_start_matches("./")),
    }
}

#[cfg(test)]
mod tests {
    use super::context_path;

    #[test]
    fn dockerignore_lines_are_build_context_paths() {
        assert_eq!(
            context_path("COPY . /app/", "/app/tests/data.bin"),
            "tests/data.bin"
        );
        assert_eq!(context_path("COPY . /app", "/app/x"), "x");
        assert_eq!(
            context_path("COPY src/ /srv/", "/srv/a/b.txt"),
            "src/a/b.txt"
        );
        assert_eq!(
            context_path("COPY --chown=1000 ./src /srv", "/srv/b"),
            "src/b"
        );
        assert_eq!(
            context_path("COPY app.sh /usr/local/bin/", "/usr/local/bin/app.sh"),
            "app.sh"
        );
        assert_eq!(
            context_path("COPY build/app.sh /usr/local/bin/app", "/usr/local/bin/app"),
            "build/app.sh"
        );
        assert_eq!(
            context_path("COPY <source-dir>/ /app/", "/app/x.log"),
            "<source-dir>/x.log"
        );
        assert_eq!(
            context_path("COPY <source> /opt/tool", "/opt/tool"),
            "<source>"
        );
        assert_eq!(
            context_path("COPY a b /opt/", "/opt/x"),
            "<context path of /opt/x>"
        );
        assert_eq!(
            context_path("COPY . /app/", "/elsewhere/x"),
            "<context path of /elsewhere/x>"
        );
    }
}
