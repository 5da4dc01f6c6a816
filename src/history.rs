//! Build-step attribution: pairs each layer with its config `history` entry (the entries
//! that are not `empty_layer`, in order) and renders the command in Dockerfile form,
//! whichever builder wrote it (docker, buildkit, buildah, kaniko). Below both the analysis
//! and the Dockerfile map, which aligns these steps with the Dockerfile's instructions.

use oci_spec::image::ImageConfiguration;

/// Collapses whitespace and cuts to `max` characters with an ellipsis (for titles that
/// quote a build step).
pub(crate) fn one_line(s: &str, max: usize) -> String {
    // Secrets are redacted before cutting: a cut secret no longer matches its rule.
    let s = crate::sanitize::redact(s);
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// The build step that produced a layer.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Step {
    /// The command as a Dockerfile instruction (`RUN apt-get update`, `COPY … /app/`).
    pub instruction: String,
    /// `created_by` exactly as the builder recorded it.
    pub created_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// With `--dockerfile`: the line that made the layer (`Dockerfile:12`), or the `FROM`
    /// line for a base-image layer (`Dockerfile:1 (base image)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Step {
    /// The Dockerfile keyword (`RUN`, `COPY`, `ADD`, …), upper-case.
    pub fn keyword(&self) -> &str {
        self.instruction
            .split_whitespace()
            .next()
            .unwrap_or_default()
    }

    /// The instruction without its keyword.
    pub fn body(&self) -> &str {
        let kw = self.keyword();
        self.instruction[kw.len()..].trim_start()
    }
}

/// One step per layer, in layer order. Layers the history does not cover get an empty step.
pub(crate) fn steps_for_layers(config: &ImageConfiguration, layers: usize) -> Vec<Step> {
    let mut steps: Vec<Step> = config
        .history()
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter(|h| !h.empty_layer().unwrap_or(false))
        .map(|h| {
            let created_by = h.created_by().clone().unwrap_or_default();
            Step {
                instruction: normalize_command(&created_by),
                created_by,
                created: h.created().clone(),
                comment: h.comment().clone(),
                source: None,
            }
        })
        .collect();
    steps.resize(layers.max(steps.len()), Step::default());
    steps.truncate(layers);
    steps
}

/// Rewrites a `created_by` string in the form a Dockerfile would have it.
///
/// - docker classic: `/bin/sh -c #(nop)  CMD ["sh"]`, `/bin/sh -c #(nop) COPY file:… in /`,
///   `/bin/sh -c apt-get update` (a RUN);
/// - buildkit: `RUN /bin/sh -c apt-get update # buildkit`, `COPY . /app # buildkit`;
/// - buildah: `/bin/sh -c apt-get update`, `/bin/sh -c #(nop) COPY dir:… in /app/ `;
/// - kaniko: `RUN apt-get update`, `COPY app/ /app/`.
pub(crate) fn normalize_command(created_by: &str) -> String {
    placeholder_sources(&dockerfile_form(created_by))
}

/// `COPY file:3a2b… in /dest` (classic docker, buildah) names a content hash, not a source
/// a Dockerfile can hold: it becomes `COPY <source> /dest`, a line a user can fill in.
fn placeholder_sources(instruction: &str) -> String {
    let kw = instruction.split_whitespace().next().unwrap_or_default();
    if !matches!(kw, "COPY" | "ADD") {
        return instruction.to_string();
    }
    let Some((head, dest)) = instruction.rsplit_once(" in ") else {
        return instruction.to_string();
    };
    let mut words: Vec<&str> = head.split_whitespace().collect();
    let Some(last) = words.pop() else {
        return instruction.to_string();
    };
    let placeholder = if last.starts_with("file:") {
        "<source>"
    } else if last.starts_with("dir:") {
        "<source-dir>/"
    } else if last.starts_with("multi:") {
        "<sources…>"
    } else {
        return instruction.to_string();
    };
    words.push(placeholder);
    words.push(dest.trim());
    words.join(" ")
}

fn dockerfile_form(created_by: &str) -> String {
    let mut s = created_by.trim();
    if let Some(rest) = s.strip_suffix("# buildkit") {
        s = rest.trim_end();
    }
    // `|1 ARG=x /bin/sh -c …`: docker prefixes build args to RUN (buildkit does it after
    // `RUN `, handled below).
    s = strip_build_args(s);
    let shell_prefixes = [
        "/bin/sh -c ",
        "/bin/bash -c ",
        "sh -c ",
        "bash -c ",
        "/bin/sh -o pipefail -c ",
        "/bin/bash -o pipefail -c ",
        "/bin/ash -eo pipefail -c ",
    ];
    if let Some(rest) = s.strip_prefix("RUN ") {
        let rest = strip_build_args(rest.trim_start());
        for p in shell_prefixes {
            if let Some(cmd) = rest.strip_prefix(p) {
                return format!("RUN {}", cmd.trim());
            }
        }
        return format!("RUN {rest}");
    }
    for p in shell_prefixes {
        if let Some(cmd) = s.strip_prefix(p) {
            let cmd = cmd.trim();
            if let Some(nop) = cmd.strip_prefix("#(nop)") {
                return nop.trim().to_string();
            }
            return format!("RUN {cmd}");
        }
    }
    if s.is_empty() {
        return String::new();
    }
    let first = s.split_whitespace().next().unwrap_or_default();
    let known = [
        "ADD",
        "COPY",
        "RUN",
        "ENV",
        "CMD",
        "ENTRYPOINT",
        "WORKDIR",
        "USER",
        "LABEL",
        "EXPOSE",
        "VOLUME",
        "ARG",
        "SHELL",
        "HEALTHCHECK",
        "STOPSIGNAL",
        "ONBUILD",
        "MAINTAINER",
    ];
    if known.contains(&first) {
        s.to_string()
    } else {
        format!("RUN {s}")
    }
}

/// Drops a `|N K1=v1 … KN=vN ` build-argument prefix (values are single words as builders
/// record them).
fn strip_build_args(s: &str) -> &str {
    let Some(rest) = s.strip_prefix('|') else {
        return s;
    };
    let count_end = rest.find(' ').unwrap_or(rest.len());
    let Ok(n) = rest[..count_end].parse::<usize>() else {
        return s;
    };
    let mut tail = rest[count_end..].trim_start();
    for _ in 0..n {
        tail = tail.split_once(' ').map_or("", |(_, t)| t.trim_start());
    }
    tail
}

#[cfg(test)]
mod tests {
    use super::normalize_command as n;

    #[test]
    fn builder_forms() {
        assert_eq!(n("/bin/sh -c apt-get update"), "RUN apt-get update");
        assert_eq!(n("/bin/sh -c #(nop)  CMD [\"sh\"]"), "CMD [\"sh\"]");
        assert_eq!(
            n("/bin/sh -c #(nop) COPY file:abc in /app "),
            "COPY <source> /app"
        );
        assert_eq!(
            n("/bin/sh -c #(nop) COPY --chmod=755 file:c24ccc in /usr/local/bin/app "),
            "COPY --chmod=755 <source> /usr/local/bin/app"
        );
        assert_eq!(
            n("/bin/sh -c #(nop) ADD multi:9f in /opt/ "),
            "ADD <sources…> /opt/"
        );
        assert_eq!(n("COPY app/ /srv/in /x # buildkit"), "COPY app/ /srv/in /x");
        assert_eq!(
            n("RUN /bin/sh -c apt-get update # buildkit"),
            "RUN apt-get update"
        );
        assert_eq!(n("COPY . /app # buildkit"), "COPY . /app");
        assert_eq!(n("|1 V=2 /bin/sh -c make"), "RUN make");
        assert_eq!(n("RUN apt-get install -y x"), "RUN apt-get install -y x");
        assert_eq!(n("ADD rootfs.tar /"), "ADD rootfs.tar /");
        assert_eq!(n(""), "");
    }

    #[test]
    fn more_builder_forms() {
        // buildkit with build args, exec form, WORKDIR, COPY --from and heredoc-free RUN.
        assert_eq!(
            n("RUN |2 VERSION=1.2 TARGET=x86 /bin/sh -c make install # buildkit"),
            "RUN make install"
        );
        assert_eq!(
            n("RUN [\"make\", \"all\"] # buildkit"),
            "RUN [\"make\", \"all\"]"
        );
        assert_eq!(n("WORKDIR /app # buildkit"), "WORKDIR /app");
        assert_eq!(
            n("COPY --from=build /out/app /usr/local/bin/app # buildkit"),
            "COPY --from=build /out/app /usr/local/bin/app"
        );
        // docker classic, SHELL with pipefail, and buildah's COPY of a directory.
        assert_eq!(
            n("/bin/bash -o pipefail -c curl -sSL x | sh"),
            "RUN curl -sSL x | sh"
        );
        assert_eq!(
            n("/bin/sh -c #(nop) COPY dir:fa47a9f2 in /app/ "),
            "COPY <source-dir>/ /app/"
        );
        assert_eq!(n("/bin/sh -c #(nop) WORKDIR /srv"), "WORKDIR /srv");
        // kaniko and buildah exec forms.
        assert_eq!(
            n("RUN [\"/bin/busybox\", \"--install\", \"-s\"]"),
            "RUN [\"/bin/busybox\", \"--install\", \"-s\"]"
        );
        assert_eq!(n("USER app"), "USER app");
        // Commands recorded bare (some builders) are RUNs.
        assert_eq!(n("apk add --no-cache curl"), "RUN apk add --no-cache curl");
    }
}
