//! Same-content rewrite suggestions (`chmod -R`, `chown -R`, `touch`): set modes and owners
//! in the step that creates the files.

use std::collections::{BTreeMap, BTreeSet};

use super::shell::{command, is_run, keyword, run_snippet};
use super::{Builder, Draft};
use crate::analysis::findings::Category;

/// Same-content rewrites (`chmod -R`, `chown -R`, `touch`): set modes where files are made.
pub(super) fn same_content(b: &mut Builder<'_>) {
    let mut by_hider: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, f) in b.free() {
        if f.category == Category::OverwrittenSame {
            if let Some(by) = f.hidden_by {
                by_hider.entry(by).or_default().push(i);
            }
        }
    }
    for (by, ids) in by_hider {
        let Some(hider) = b.layer(by) else { continue };
        let creators: BTreeSet<usize> = ids.iter().map(|&i| b.findings[i].layer).collect();
        let hcmd = command(hider).to_string();
        let metadata_only = is_run(hider)
            && ["chmod", "chown", "chgrp", "touch", "setfacl"]
                .iter()
                .any(|c| hcmd.contains(c));
        let mut lines = Vec::new();
        for &c in &creators {
            let Some(cl) = b.layer(c) else { continue };
            match keyword(cl) {
                "COPY" | "ADD" if metadata_only => {
                    let (flag, val) = if hcmd.contains("chown") {
                        ("--chown", owner_of(&hcmd))
                    } else {
                        ("--chmod", mode_of(&hcmd))
                    };
                    lines.push(format!("{} {flag}={val} {}", keyword(cl), cl.step.body()));
                }
                "RUN" if is_run(hider) => {
                    lines.push(run_snippet(&[command(cl).to_string(), hcmd.clone()]));
                }
                _ => lines.push(cl.step.instruction.clone()),
            }
        }
        let (rule, title) = if metadata_only {
            (
                "set-modes-in-creating-step",
                if creators
                    .iter()
                    .any(|&c| b.layer(c).is_some_and(|l| keyword(l) != "RUN"))
                {
                    format!(
                        "Use `COPY --chmod/--chown` instead of a separate `{}` layer",
                        crate::analysis::one_line(&hcmd, 40)
                    )
                } else {
                    "Change modes and owners in the step that creates the files, not in a later layer"
                        .to_string()
                },
            )
        } else {
            (
                "avoid-identical-rewrite",
                "Do not write files that an earlier layer already holds byte for byte".to_string(),
            )
        };
        let mut snippet = lines.join("\n");
        if metadata_only {
            snippet.push_str(&format!(
                "\n# and drop: {}",
                crate::analysis::one_line(&hider.step.instruction, 80)
            ));
        }
        b.push(Draft {
            rule,
            title,
            layer: by,
            instruction: None,
            snippet,
            findings: ids,
        });
    }
}

fn mode_of(cmd: &str) -> String {
    let mut words = cmd.split_whitespace().skip_while(|w| !w.ends_with("chmod"));
    words.next();
    words
        .find(|w| !w.starts_with('-'))
        .map_or("<mode>".to_string(), |m| {
            if m.chars().all(|c| c.is_ascii_digit()) {
                m.to_string()
            } else {
                format!("<octal mode for {m}>")
            }
        })
}

fn owner_of(cmd: &str) -> String {
    let mut words = cmd.split_whitespace().skip_while(|w| !w.ends_with("chown"));
    words.next();
    words
        .find(|w| !w.starts_with('-'))
        .map_or("<user>:<group>".to_string(), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_owners_from_commands() {
        assert_eq!(mode_of("chmod -R g+w /x"), "<octal mode for g+w>");
        assert_eq!(mode_of("chmod -R 755 /x"), "755");
        assert_eq!(owner_of("chown -R app:app /x"), "app:app");
    }
}
