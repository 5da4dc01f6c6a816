//! Best-practice findings: what the image config and the final filesystem show about how the
//! image was built, that no layer diff shows (runs as root, no health check, shell-form
//! `CMD`, `ADD` where `COPY` does, `.pyc` files without `PYTHONDONTWRITEBYTECODE`, setuid
//! files outside the usual set, world-writable paths outside `/tmp`). Each is a finding of
//! category `practice` with a severity and a fix (in `detail`), and each rule id can be made
//! a gate in `check` (`[check.practices]`). They are kept apart from the waste findings, so
//! sizes and waste totals are untouched.

use oci_spec::image::ImageConfiguration;

use super::findings::{Category, FileSet, Finding, Severity};
use super::hidden::MAX_EVIDENCE;
use super::LayerInfo;
use crate::index::{display_path, EntryKind, LayerIndex};
use crate::merge::Merged;

/// The rule ids, as `check` names them.
pub(crate) const RULES: &[&str] = &[
    "practice.root-user",
    "practice.no-healthcheck",
    "practice.add-instead-of-copy",
    "practice.shell-form-cmd",
    "practice.pyc-without-dontwritebytecode",
    "practice.setuid",
    "practice.world-writable",
];

/// Whether a rule is about files some layer shipped (so `check` with `scope = "own"` counts
/// only the own layers' findings), rather than about the image config, which describes the
/// whole image (root user, health check, `CMD` form).
pub(crate) fn about_files(rule: &str) -> bool {
    matches!(
        rule,
        "practice.add-instead-of-copy"
            | "practice.pyc-without-dontwritebytecode"
            | "practice.setuid"
            | "practice.world-writable"
    )
}

/// setuid/setgid programs that distributions ship on purpose (by file name, in a bin or lib
/// directory): `passwd`, `su`, `mount`, … Anything else with the bit set is reported.
const USUAL_SETUID: &[&str] = &[
    "passwd",
    "su",
    "sudo",
    "sudoedit",
    "mount",
    "umount",
    "chsh",
    "chfn",
    "newgrp",
    "gpasswd",
    "chage",
    "expiry",
    "wall",
    "write",
    "bsd-write",
    "crontab",
    "at",
    "pkexec",
    "ping",
    "ping6",
    "fusermount",
    "fusermount3",
    "newuidmap",
    "newgidmap",
    "unix_chkpwd",
    "pam_extrausers_chkpwd",
    "pam_timestamp_check",
    "ssh-agent",
    "ssh-keysign",
    "dbus-daemon-launch-helper",
    "polkit-agent-helper-1",
    "dotlockfile",
    "utempter",
    "postdrop",
    "postqueue",
    "mount.nfs",
    "mount.cifs",
    "userhelper",
    "usernetctl",
    "staprun",
    "traceroute6.iputils",
    "dmcrypt-get-device",
    "ksu",
    "sg",
];

/// Directories a world-writable entry is expected under (or at).
const SHARED_WRITABLE: &[&str] = &["tmp", "var/tmp", "dev/shm", "run/lock", "var/lock"];

/// What the practices read besides the layers.
pub(crate) struct Inputs<'a> {
    pub config: &'a ImageConfiguration,
    pub healthcheck: Option<&'a crate::source::Healthcheck>,
    pub dockerfile: Option<&'a crate::dockerfile::Context>,
}

/// A finding about the image config (no layer shipped it): attributed to the last layer.
fn config_finding(
    rule: &str,
    severity: Severity,
    title: String,
    fix: String,
    layers: &[LayerInfo],
) -> Finding {
    let last = layers.len().saturating_sub(1);
    Finding {
        in_config: true,
        detail: Some(fix),
        ..Finding::shipped_by(
            Category::Practice,
            severity,
            rule.to_string(),
            title,
            layers,
            last,
            0,
        )
    }
}

/// The best-practice findings of an image.
pub(crate) fn findings(
    inputs: &Inputs<'_>,
    indexes: &[LayerIndex],
    merged: &Merged,
    layers: &[LayerInfo],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let cfg = inputs.config.config().as_ref();
    let df = inputs.dockerfile;
    // The instructions of the stages that were built into the image, in order.
    let built: Vec<&crate::dockerfile::Instr> = df
        .map(|c| {
            c.dockerfile
                .chain(c.stage)
                .into_iter()
                .filter_map(|s| c.dockerfile.stages.get(s))
                .flat_map(|s| s.instructions.iter())
                .collect()
        })
        .unwrap_or_default();
    let last_of = |kw: &str| built.iter().rev().find(|i| i.keyword == kw).copied();
    let cite = |line: usize| df.map(|c| c.dockerfile.cite(line));
    let final_from = df.and_then(|c| c.dockerfile.stages.get(c.stage).map(|s| s.from_line));

    // Runs as root: no USER, or USER 0 / root.
    let user = cfg.and_then(|c| c.user().clone()).unwrap_or_default();
    let name = user.split(':').next().unwrap_or_default();
    if name.is_empty() || name == "0" || name == "root" {
        let said = if user.is_empty() {
            "no `USER`".to_string()
        } else {
            format!("`USER {user}`")
        };
        let mut f = config_finding(
            "practice.root-user",
            Severity::Medium,
            format!("The image runs as root ({said})"),
            "fix: end with `USER 10001` after making the user (`RUN useradd -u 10001 app`)"
                .to_string(),
            layers,
        );
        f.source = last_of("USER")
            .map(|i| i.line)
            .or(final_from)
            .and_then(cite);
        out.push(f);
    }

    // No HEALTHCHECK. The OCI config format has no field for one: buildah and `podman build`
    // drop a Dockerfile's HEALTHCHECK there unless they build with `--format docker` (BuildKit
    // keeps Docker's field even in an OCI config, so an image that has one shows it). Either
    // way the runtime runs no health check, so the finding stands; its text says why.
    let in_config = inputs
        .healthcheck
        .is_some_and(|h| h.test.first().is_some_and(|t| t != "NONE"));
    let oci = layers.iter().any(|l| {
        l.media_type
            .as_deref()
            .is_some_and(|t| t.starts_with("application/vnd.oci.image.layer."))
    });
    let declared = last_of("HEALTHCHECK").filter(|i| !i.healthcheck_none);
    let lost = match declared {
        // The Dockerfile's HEALTHCHECK did not reach the OCI config.
        Some(i) if oci && !in_config => Some(i.line),
        _ => None,
    };
    if let Some(line) = lost {
        let mut f = config_finding(
            "practice.no-healthcheck",
            Severity::Low,
            "The Dockerfile's `HEALTHCHECK` is not in the image: its config is in OCI format, \
             which cannot record one"
                .to_string(),
            "fix: build with `--format docker` (buildah, `podman build`) so the runtime runs \
             it, or rely on the orchestrator's probes"
                .to_string(),
            layers,
        );
        f.source = cite(line);
        out.push(f);
    } else if !in_config && (df.is_none() || declared.is_none()) {
        let (title, fix) = if oci {
            (
                "No `HEALTHCHECK`: the runtime cannot tell a hung container from a healthy one \
                 (this image is in OCI format, which cannot record one)",
                "fix: add `HEALTHCHECK CMD [\"/app/healthcheck\"]` and build with `--format \
                 docker` (buildah and podman drop it from OCI images), or use orchestrator probes",
            )
        } else {
            (
                "No `HEALTHCHECK`: the runtime cannot tell a hung container from a healthy one",
                "fix: add `HEALTHCHECK CMD [\"/app/healthcheck\"]`, or rely on the orchestrator's \
                 probes",
            )
        };
        let mut f = config_finding(
            "practice.no-healthcheck",
            Severity::Info,
            title.to_string(),
            fix.to_string(),
            layers,
        );
        f.source = final_from.and_then(cite);
        out.push(f);
    }

    // Shell-form ENTRYPOINT, or CMD with no ENTRYPOINT: PID 1 is `/bin/sh -c`, which does
    // not pass SIGTERM on to the program.
    let shell_form = |v: Option<&Vec<String>>| {
        v.is_some_and(|v| {
            v.len() >= 3 && matches!(v[0].as_str(), "/bin/sh" | "sh" | "/bin/bash") && v[1] == "-c"
        })
    };
    let entrypoint = cfg.and_then(|c| c.entrypoint().as_ref());
    let cmd = cfg.and_then(|c| c.cmd().as_ref());
    let which = if entrypoint.is_some_and(|e| !e.is_empty()) {
        shell_form(entrypoint).then_some("ENTRYPOINT")
    } else {
        shell_form(cmd).then_some("CMD")
    };
    if let Some(kw) = which {
        let mut f = config_finding(
            "practice.shell-form-cmd",
            Severity::Low,
            format!("Shell-form `{kw}`: `/bin/sh -c` runs as PID 1 and does not pass signals on"),
            format!("fix: write it in exec form, `{kw} [\"program\", \"arg\"]`"),
            layers,
        );
        f.source = last_of(kw).map(|i| i.line).and_then(cite);
        out.push(f);
    }

    // ADD where COPY does (local files ADD does not unpack) or a download without
    // `--checksum`: from the Dockerfile's lines when given, else from what the history shows
    // beyond doubt (see `practice_add`).
    let mut adds: Vec<(usize, Option<usize>, (String, String))> = Vec::new();
    if let Some(c) = df {
        for ins in built.iter().filter(|i| i.keyword == "ADD") {
            let Some(v) =
                super::practice_add::judge_line(&ins.sources, ins.flag("checksum").is_some())
            else {
                continue;
            };
            let layer = (0..layers.len()).find(|&l| {
                c.mapping
                    .instruction(&c.dockerfile, l)
                    .is_some_and(|i| i.line == ins.line)
            });
            adds.push((
                layer.unwrap_or(layers.len().saturating_sub(1)),
                Some(ins.line),
                v,
            ));
        }
    } else {
        for (l, (info, index)) in layers.iter().zip(indexes).enumerate() {
            if let Some(v) = super::practice_add::judge_history(&info.step, index) {
                adds.push((l, None, v));
            }
        }
    }
    for (layer, line, (title, fix)) in adds {
        let mut f = config_finding(
            "practice.add-instead-of-copy",
            Severity::Low,
            title,
            fix,
            layers,
        );
        f.in_config = false;
        f.layer = layer;
        f.instruction = layers
            .get(layer)
            .map(|l| l.step.instruction.clone())
            .unwrap_or_default();
        f.source = line.and_then(cite);
        out.push(f);
    }

    // Files: .pyc, setuid/setgid, world-writable (visible entries of the final filesystem).
    let mut pyc: Vec<FileSet> = (0..indexes.len()).map(|_| FileSet::new()).collect();
    let mut setuid: Vec<(usize, String)> = Vec::new();
    let mut writable: Vec<(usize, String)> = Vec::new();
    for (li, i) in merged.visible() {
        let e = &indexes[li].entries[i];
        let path = display_path(indexes[li].path(i)).to_string();
        let path = path.trim_start_matches('/').trim_end_matches('/');
        match e.kind {
            EntryKind::File | EntryKind::Hardlink => {
                if path.ends_with(".pyc") {
                    pyc[li].push(e.size, format!("/{path}"));
                }
                if e.mode() & 0o6000 != 0 && !usual_setuid(path) {
                    setuid.push((li, format!("/{path}")));
                }
            }
            _ => {}
        }
        if matches!(e.kind, EntryKind::File | EntryKind::Dir)
            && e.mode() & 0o002 != 0
            && !SHARED_WRITABLE
                .iter()
                .any(|d| path == *d || path.starts_with(&format!("{d}/")))
        {
            writable.push((li, format!("/{path}")));
        }
    }

    let env_set = |k: &str| {
        cfg.and_then(|c| c.env().as_ref()).is_some_and(|env| {
            env.iter().any(|kv| {
                kv.split_once('=')
                    .is_some_and(|(n, v)| n == k && !v.is_empty() && v != "0")
            })
        })
    };
    if !env_set("PYTHONDONTWRITEBYTECODE") {
        // One finding per layer that shipped them, so a gate scoped to the own layers counts
        // only theirs.
        for (layer, files) in pyc.into_iter().enumerate() {
            let count = files.files.len();
            if count == 0 {
                continue;
            }
            let bytes = files.bytes();
            let (path_count, paths) = files.evidence(MAX_EVIDENCE);
            let mut f = Finding::shipped_by(
                Category::Practice,
                Severity::Low,
                "practice.pyc-without-dontwritebytecode".to_string(),
                format!(
                    "{count} `.pyc` file{} shipped and `PYTHONDONTWRITEBYTECODE` is not set",
                    if count == 1 { "" } else { "s" }
                ),
                layers,
                layer,
                bytes,
            );
            f.path_count = path_count;
            f.paths = paths;
            f.detail = Some(
                "fix: `ENV PYTHONDONTWRITEBYTECODE=1` before the installs (and `pip install \
                 --no-compile`), so bytecode is written at run time if at all"
                    .to_string(),
            );
            out.push(f);
        }
    }

    for (rule, severity, list, what, fix) in [
        (
            "practice.setuid",
            Severity::Medium,
            setuid,
            "setuid/setgid file",
            "fix: clear the bit in the step that installs it (`chmod u-s,g-s PATH`), or remove \
             the program",
        ),
        (
            "practice.world-writable",
            Severity::Medium,
            writable,
            "world-writable path",
            "fix: drop write for others where it is made (`chmod o-w PATH`, or `COPY \
             --chmod=755`); shared scratch space belongs under /tmp",
        ),
    ] {
        if list.is_empty() {
            continue;
        }
        // One finding per layer that shipped them.
        let mut by_layer: std::collections::BTreeMap<usize, Vec<String>> = Default::default();
        for (l, p) in list {
            by_layer.entry(l).or_default().push(p);
        }
        for (layer, paths) in by_layer {
            let n = paths.len();
            let extra = if rule == "practice.setuid" {
                " outside the usual system set"
            } else {
                " outside /tmp"
            };
            let mut f = Finding::shipped_by(
                Category::Practice,
                severity,
                rule.to_string(),
                format!("{n} {what}{}{extra}", if n == 1 { "" } else { "s" }),
                layers,
                layer,
                0,
            );
            f.path_count = n;
            f.paths = paths.into_iter().take(MAX_EVIDENCE).collect();
            f.detail = Some(fix.to_string());
            out.push(f);
        }
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    // What a layer shipped cites the line that made the layer.
    for f in out
        .iter_mut()
        .filter(|f| !f.in_config && f.source.is_none())
    {
        f.source = layers.get(f.layer).and_then(|l| l.step.source.clone());
    }
    out
}

/// A setuid/setgid program distributions ship on purpose, by name, in a bin or lib directory.
fn usual_setuid(path: &str) -> bool {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let system_dir = [
        "bin",
        "sbin",
        "usr/bin",
        "usr/sbin",
        "usr/lib",
        "usr/libexec",
        "lib",
    ]
    .iter()
    .any(|d| dir == *d || dir.starts_with(&format!("{d}/")));
    system_dir && USUAL_SETUID.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::usual_setuid;

    #[test]
    fn usual_setuid_programs_by_name_in_system_dirs() {
        assert!(usual_setuid("usr/bin/passwd"));
        assert!(usual_setuid("usr/lib/openssh/ssh-keysign"));
        assert!(!usual_setuid("usr/local/bin/passwd"));
        assert!(!usual_setuid("usr/bin/backdoor"));
        assert!(!usual_setuid("app/su"));
    }
}
