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
            b.push(Draft { rule: "exclude-from-context", title: format!("Keep files that layer {by} deletes out of the build context, or copy them from a build stage"), layer: made, instruction: None, snippet: format!(
                    "# .dockerignore (or COPY --from=build only what the image needs)\n{}\n{}",
                    paths
                        .iter()
                        .map(|p| p.trim_start_matches('/'))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    ml.step.instruction
                ), findings: ids });
        }
    }
}
