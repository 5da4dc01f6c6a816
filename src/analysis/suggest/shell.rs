//! Shell commands of build steps: a layer's step as a command, splitting a command on
//! `&&`, laying parts out as one `RUN`, and adding a flag after a verb.

use crate::analysis::LayerInfo;

/// A layer's step viewed as a command.
pub(super) fn keyword(l: &LayerInfo) -> &str {
    l.step.keyword()
}

pub(super) fn is_run(l: &LayerInfo) -> bool {
    keyword(l) == "RUN"
}

/// The shell command of a RUN step (without `RUN`); the whole instruction otherwise.
pub(super) fn command(l: &LayerInfo) -> &str {
    if is_run(l) {
        l.step.body()
    } else {
        &l.step.instruction
    }
}

/// `ADD rootfs.tar /`-style layers: a base image's root filesystem.
pub(super) fn is_base_rootfs(l: &LayerInfo) -> bool {
    keyword(l) == "ADD" && (l.step.body().ends_with(" in /") || l.step.body().ends_with(" /"))
}

pub(super) fn is_apt_command(cmd: &str) -> bool {
    cmd.contains("apt-get ")
        || cmd.contains("apt ")
        || cmd.contains("/var/lib/apt/lists")
        || cmd.contains("aptitude ")
}

/// Splits a shell command on `&&` into its parts, whitespace collapsed (`;` is left alone:
/// it also separates the clauses of `for` and `if`).
pub(super) fn parts(cmd: &str) -> Vec<String> {
    cmd.split("&&")
        .map(|p| {
            p.split_whitespace()
                .filter(|w| *w != "\\")
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|p| !p.is_empty())
        .collect()
}

/// `RUN a \ && b \ && c` laid out one part per line (each command split on `&&`).
pub(super) fn run_snippet(commands: &[String]) -> String {
    let all: Vec<String> = commands.iter().flat_map(|c| parts(c)).collect();
    run_lines(&all)
}

/// `RUN a \ && b \ && c`, one part per line.
pub(super) fn run_lines(all: &[String]) -> String {
    let mut s = String::from("RUN ");
    for (i, p) in all.iter().enumerate() {
        if i > 0 {
            s.push_str(" \\\n && ");
        }
        s.push_str(p);
    }
    s
}

/// Inserts `flag` after every occurrence of `verb` in `cmd` and the options that follow it
/// (`apt-get install -y x` → `apt-get install -y FLAG x`), unless `cmd` already has it.
pub(super) fn add_flag(cmd: &str, verb: &str, flag: &str) -> String {
    if cmd.contains(flag) {
        return cmd.to_string();
    }
    let mut out = String::with_capacity(cmd.len() + flag.len() + 1);
    let mut rest = cmd;
    while let Some(at) = rest.find(verb) {
        let after = at + verb.len();
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        // Keep the options that directly follow the verb before the flag.
        loop {
            let trimmed = rest.trim_start();
            let ws = rest.len() - trimmed.len();
            if ws > 0 && trimmed.starts_with('-') {
                let word = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
                out.push_str(&rest[..ws + word]);
                rest = &rest[ws + word..];
            } else {
                break;
            }
        }
        out.push(' ');
        out.push_str(flag);
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_joins_commands() {
        assert_eq!(
            parts("apt-get update && apt-get install -y \\\n curl && rm -rf /x"),
            ["apt-get update", "apt-get install -y curl", "rm -rf /x"]
        );
        assert_eq!(run_snippet(&["a".into(), "b".into()]), "RUN a \\\n && b");
        assert_eq!(
            add_flag("pip install x", "pip install", "--no-cache-dir"),
            "pip install --no-cache-dir x"
        );
        assert_eq!(
            add_flag(
                "apt-get install -y -q curl && apt-get install git",
                "apt-get install",
                "--no-install-recommends"
            ),
            "apt-get install -y -q --no-install-recommends curl && apt-get install --no-install-recommends git"
        );
        assert_eq!(
            add_flag("apk add", "apk add", "--no-cache"),
            "apk add --no-cache"
        );
    }
}
