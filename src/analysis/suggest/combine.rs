//! Combining merge suggestions: two "merge these RUNs" suggestions that share a layer would
//! each print a merged RUN holding the same commands, so they become one suggestion over all
//! their layers. In the merged RUN, commands that only make what a later `rm` deletes
//! cancel out and are dropped (the `rm` stays: the path may come from an earlier layer).

use std::collections::BTreeSet;

use super::super::findings::Suggestion;
use super::super::LayerInfo;

/// The rule of suggestions that merge RUN steps.
const MERGE_RULE: &str = "merge-runs";
/// Evidence paths a combined suggestion keeps.
const MAX_EVIDENCE: usize = 10;

/// Joins `merge-runs` suggestions whose layers overlap (transitively) into one.
pub(crate) fn combine(out: Vec<Suggestion>, layers: &[LayerInfo]) -> Vec<Suggestion> {
    let (merges, mut rest): (Vec<Suggestion>, Vec<Suggestion>) =
        out.into_iter().partition(|s| s.rule == MERGE_RULE);
    let mut groups: Vec<Vec<Suggestion>> = Vec::new();
    for s in merges {
        let set: BTreeSet<usize> = s.layers.iter().copied().collect();
        let (overlapping, apart): (Vec<_>, Vec<_>) = groups
            .into_iter()
            .partition(|g| g.iter().any(|o| o.layers.iter().any(|l| set.contains(l))));
        groups = apart;
        let mut joined: Vec<Suggestion> = overlapping.into_iter().flatten().collect();
        joined.push(s);
        groups.push(joined);
    }
    for g in groups {
        rest.push(if g.len() == 1 {
            g.into_iter()
                .next()
                .map(|s| tidy(s, layers))
                .unwrap_or_else(empty)
        } else {
            join(g, layers)
        });
    }
    rest
}

fn empty() -> Suggestion {
    Suggestion {
        rule: String::new(),
        title: String::new(),
        layer: 0,
        layers: Vec::new(),
        instruction: String::new(),
        snippet: String::new(),
        saves_bytes: 0,
        saves_compressed_bytes: Some(0),
        findings: Vec::new(),
        evidence: Vec::new(),
        source: None,
    }
}

/// The RUN commands of `layers`, merged into one RUN with cancelling commands dropped.
fn merged_run(of: &BTreeSet<usize>, layers: &[LayerInfo]) -> Option<String> {
    let mut commands = Vec::new();
    for &i in of {
        let l = layers.get(i)?;
        if l.step.keyword() != "RUN" {
            return None;
        }
        commands.push(l.step.body().to_string());
    }
    let all: Vec<String> = commands
        .iter()
        .flat_map(|c| super::shell::parts(c))
        .collect();
    Some(super::shell::run_lines(&cancel_out(all)))
}

/// A single merge suggestion with its snippet's cancelling commands dropped.
fn tidy(mut s: Suggestion, layers: &[LayerInfo]) -> Suggestion {
    let set: BTreeSet<usize> = s.layers.iter().copied().collect();
    if let Some(run) = merged_run(&set, layers) {
        s.snippet = run;
    }
    s
}

fn join(group: Vec<Suggestion>, layers: &[LayerInfo]) -> Suggestion {
    let set: BTreeSet<usize> = group
        .iter()
        .flat_map(|s| s.layers.iter().copied())
        .collect();
    let first = set.first().copied().unwrap_or(0);
    let names: Vec<String> = set.iter().map(ToString::to_string).collect();
    let list = match names.split_last() {
        Some((last, init)) if !init.is_empty() => format!("{} and {last}", init.join(", ")),
        _ => names.join(""),
    };
    let mut s = Suggestion {
        rule: MERGE_RULE.to_string(),
        title: format!("Merge layers {list} into one RUN so only the final files ship"),
        layer: first,
        layers: set.iter().copied().collect(),
        instruction: layers
            .get(first)
            .map(|l| l.step.instruction.clone())
            .unwrap_or_default(),
        snippet: String::new(),
        ..empty()
    };
    for g in &group {
        s.saves_bytes += g.saves_bytes;
        s.saves_compressed_bytes =
            crate::analysis::add_estimates(s.saves_compressed_bytes, g.saves_compressed_bytes);
        s.findings.extend(&g.findings);
        for p in &g.evidence {
            if s.evidence.len() < MAX_EVIDENCE && !s.evidence.contains(p) {
                s.evidence.push(p.clone());
            }
        }
    }
    s.findings.sort_unstable();
    s.snippet = merged_run(&set, layers).unwrap_or_else(|| {
        group
            .iter()
            .map(|g| g.snippet.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    });
    s
}

/// Words of one shell command, quotes removed (`echo x > "/a b"` → `echo`, `x`, `>`, `/a b`).
fn words(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in cmd.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn under(path: &str, root: &str) -> bool {
    let root = root.trim_end_matches('/');
    path == root || path.strip_prefix(root).is_some_and(|r| r.starts_with('/'))
}

/// What a command does to `root`: nothing, only makes things at or under it (the part
/// left once those are taken out, if any), or something else (reads it, say).
enum Effect {
    Untouched,
    OnlyMakes(Option<String>),
    Other,
}

fn effect(part: &str, root: &str) -> Effect {
    let w = words(part);
    let mentions = |s: &str| s.contains(root.trim_end_matches('/'));
    if !w.iter().any(|x| mentions(x)) {
        return Effect::Untouched;
    }
    let Some(verb) = w.first().map(String::as_str) else {
        return Effect::Untouched;
    };
    // `echo … > PATH` / `>> PATH`: makes PATH if nothing else in it names root.
    if let Some(at) = w.iter().position(|x| x == ">" || x == ">>") {
        let target_under = w.get(at + 1).is_some_and(|t| under(t, root));
        let others = w
            .iter()
            .enumerate()
            .any(|(i, x)| i != at + 1 && mentions(x));
        return if target_under && !others {
            Effect::OnlyMakes(None)
        } else {
            Effect::Other
        };
    }
    let args: Vec<&String> = w.iter().skip(1).filter(|a| !a.starts_with('-')).collect();
    match verb {
        // Keep the directories that are not under root.
        "mkdir" => {
            let kept: Vec<&String> = args.iter().copied().filter(|a| !under(a, root)).collect();
            if kept.len() == args.len() {
                return Effect::Other;
            }
            if kept.iter().any(|a| mentions(a)) {
                return Effect::Other;
            }
            let flags: Vec<&String> = w.iter().skip(1).filter(|a| a.starts_with('-')).collect();
            // `mkdir -p /opt/build` also makes `/opt`, which later commands may write into:
            // it stays made unless a kept directory makes it anyway.
            let parents = flags
                .iter()
                .any(|f| *f == "--parents" || (!f.starts_with("--") && f.contains('p')));
            let parent = root
                .trim_end_matches('/')
                .rsplit_once('/')
                .map(|(p, _)| p.to_string())
                .filter(|p| !p.is_empty());
            let mut kept: Vec<String> = kept.into_iter().cloned().collect();
            if let Some(p) = parent.filter(|p| parents && !kept.iter().any(|a| under(a, p))) {
                kept.push(p);
            }
            if kept.is_empty() {
                return Effect::OnlyMakes(None);
            }
            let mut rebuilt = vec!["mkdir".to_string()];
            rebuilt.extend(flags.into_iter().cloned());
            rebuilt.extend(kept.iter().map(|a| quote(a)));
            Effect::OnlyMakes(Some(rebuilt.join(" ")))
        }
        "touch" | "chmod" | "chown" => {
            let targets: Vec<&&String> = if verb == "touch" {
                args.iter().collect()
            } else {
                args.iter().skip(1).collect()
            };
            if !targets.is_empty() && targets.iter().all(|t| under(t, root)) {
                Effect::OnlyMakes(None)
            } else {
                Effect::Other
            }
        }
        // `ln [-s] SOURCE TARGET`: makes TARGET.
        "ln" if args.len() == 2 && under(args[1], root) && !mentions(args[0]) => {
            Effect::OnlyMakes(None)
        }
        "dd" => {
            let of = w.iter().find_map(|x| x.strip_prefix("of="));
            let other = w.iter().any(|x| !x.starts_with("of=") && mentions(x));
            if of.is_some_and(|o| under(o, root)) && !other {
                Effect::OnlyMakes(None)
            } else {
                Effect::Other
            }
        }
        _ => Effect::Other,
    }
}

fn quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Drops the commands that only make what a later `rm` of the same merged RUN deletes.
pub(crate) fn cancel_out(mut parts: Vec<String>) -> Vec<String> {
    let mut force = vec![false; parts.len()];
    let mut j = 0;
    while j < parts.len() {
        let w = words(&parts[j]);
        if w.first().map(String::as_str) == Some("rm") {
            let roots: Vec<String> = w
                .iter()
                .skip(1)
                .filter(|a| !a.starts_with('-') && a.starts_with('/') && !a.contains('*'))
                .cloned()
                .collect();
            for root in roots {
                // Walk back to the first command that does anything else with root.
                let mut i = j;
                let mut edits: Vec<(usize, Option<String>)> = Vec::new();
                while i > 0 {
                    i -= 1;
                    match effect(&parts[i], &root) {
                        Effect::Untouched => {}
                        Effect::OnlyMakes(left) => edits.push((i, left)),
                        Effect::Other => break,
                    }
                }
                // What made root is gone: an `rm` without `-f` would now fail on it.
                if !edits.is_empty() {
                    force[j] = true;
                }
                for (i, left) in edits {
                    parts[i] = left.unwrap_or_default();
                }
            }
        }
        j += 1;
    }
    for (p, f) in parts.iter_mut().zip(force) {
        let forced = words(p).iter().skip(1).any(|w| {
            w == "--force" || (w.starts_with('-') && !w.starts_with("--") && w.contains('f'))
        });
        if f && !forced {
            if let Some(rest) = p.strip_prefix("rm ") {
                *p = format!("rm -f {rest}");
            }
        }
    }
    parts.retain(|p| !p.is_empty());
    parts
}

#[cfg(test)]
mod tests {
    use super::cancel_out;

    fn v(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn commands_that_only_make_what_is_removed_later_are_dropped() {
        let got = cancel_out(v(&[
            "mkdir -p /data/dir/sub /data/keep",
            "echo one > /data/dir/a.txt",
            "echo keep > /data/keep/k.txt",
            "dd if=/dev/urandom of=/data/big.bin bs=1024 count=512 2>/dev/null",
            "ln /data/big.bin /data/big-hardlink.bin",
            "echo f > /data/was-file",
            "echo uni > \"/data/name with spaces.txt\"",
            "rm -rf /data/dir",
            "mkdir -p /data/dir",
            "rm /data/was-file",
            "rm /data/big-hardlink.bin",
            "chmod 600 /data/big.bin",
            "rm /data/big.bin",
        ]));
        assert_eq!(
            got,
            v(&[
                "mkdir -p /data/keep",
                "echo keep > /data/keep/k.txt",
                "echo uni > \"/data/name with spaces.txt\"",
                "rm -rf /data/dir",
                "mkdir -p /data/dir",
                // What they removed is no longer made: `-f`, or the rm would fail.
                "rm -f /data/was-file",
                "rm -f /data/big-hardlink.bin",
                "rm -f /data/big.bin",
            ])
        );
    }

    #[test]
    fn mkdir_p_keeps_the_parent_it_made() {
        // `/opt` is made by `mkdir -p` and written to later: dropping the whole mkdir would
        // make `echo built > /opt/app.txt` fail.
        let got = cancel_out(v(&[
            "mkdir -p /opt/build",
            "dd if=/dev/zero of=/opt/build/obj.o bs=1024 count=400",
            "echo built > /opt/app.txt",
            "rm -rf /opt/build",
        ]));
        assert_eq!(
            got,
            v(&[
                "mkdir -p /opt",
                "echo built > /opt/app.txt",
                "rm -rf /opt/build"
            ])
        );
        // Without -p, the parent existed already.
        let got = cancel_out(v(&["mkdir /tmp/x", "echo a > /tmp/x/a", "rm -rf /tmp/x"]));
        assert_eq!(got, v(&["rm -rf /tmp/x"]));
    }

    #[test]
    fn a_command_that_reads_the_path_stops_the_cancelling() {
        let parts = v(&[
            "echo x > /build/out",
            "cp /build/out /app/out",
            "rm -rf /build",
        ]);
        assert_eq!(cancel_out(parts.clone()), parts);
    }
}
