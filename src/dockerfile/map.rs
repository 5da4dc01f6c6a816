//! Ties each image layer to the instruction of the built stage that made it.
//!
//! The layers' history steps (already in Dockerfile form, whichever builder wrote them:
//! BuildKit, classic docker, buildah, kaniko) are aligned in order with the layer-making
//! instructions (`RUN`, `COPY`, `ADD`, `WORKDIR`) of the built stage and the stages it is
//! built `FROM`. A `RUN` matches on its command (whitespace and line continuations aside; exec
//! form as a JSON array), `COPY`/`ADD` on their destination, `WORKDIR` on its directory. The
//! alignment keeps order and prefers the latest layers, so base-image layers that happen to
//! look alike stay the base's. Layers before the first match are the base image's (the
//! `FROM` line); every other layer without a match is reported as unmapped, with the reason,
//! never guessed.

use serde::{Deserialize, Serialize};

use super::{absolute, Cmd, Dockerfile, Instr};
use crate::history::Step;

/// Where a layer came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LayerSource {
    /// Made by the instruction on these lines.
    Instruction {
        line: usize,
        end_line: usize,
        /// Position of the stage and of the instruction within it.
        stage: usize,
        index: usize,
    },
    /// A layer of the base image named on this `FROM` line.
    Base { line: usize, image: String },
    /// No instruction matches; `reason` says why.
    Unmapped { reason: String },
}

/// The map from layers to Dockerfile lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// The file's name as citations use it (`Dockerfile`).
    pub file: String,
    /// The stage that was built.
    pub stage: usize,
    /// One entry per layer, in layer order.
    pub layers: Vec<LayerSource>,
    /// Lines of layer-making instructions that no layer matches (`RUN`, `COPY`, `ADD`).
    pub unmatched_lines: Vec<usize>,
}

impl Mapping {
    /// `Dockerfile:12` for a layer made by an instruction or shipped by the base image.
    pub fn cite(&self, layer: usize) -> Option<String> {
        match self.layers.get(layer)? {
            LayerSource::Instruction { line, .. } => Some(format!("{}:{line}", self.file)),
            LayerSource::Base { line, .. } => Some(format!("{}:{line}", self.file)),
            LayerSource::Unmapped { .. } => None,
        }
    }

    /// The instruction that made `layer`, when one did.
    pub fn instruction<'d>(&self, df: &'d Dockerfile, layer: usize) -> Option<&'d Instr> {
        match self.layers.get(layer)? {
            LayerSource::Instruction { stage, index, .. } => {
                df.stages.get(*stage)?.instructions.get(*index)
            }
            _ => None,
        }
    }

    /// Why `layer` is unmapped, when it is.
    pub fn unmapped_reason(&self, layer: usize) -> Option<&str> {
        match self.layers.get(layer)? {
            LayerSource::Unmapped { reason } => Some(reason),
            _ => None,
        }
    }

    /// Number of layers no instruction or base image accounts for.
    pub fn unmapped(&self) -> usize {
        self.layers
            .iter()
            .filter(|l| matches!(l, LayerSource::Unmapped { .. }))
            .count()
    }
}

/// Maps the layers (their history steps) to the instructions of `stage` and its parents.
pub(crate) fn map_layers(df: &Dockerfile, stage: usize, steps: &[Step]) -> Mapping {
    let chain = df.chain(stage);
    let candidates: Vec<(usize, usize, &Instr)> = chain
        .iter()
        .flat_map(|&s| {
            df.stages[s]
                .instructions
                .iter()
                .enumerate()
                .filter(|(_, i)| i.makes_layer())
                .map(move |(j, i)| (s, j, i))
        })
        .collect();
    let n = steps.len();
    let m = candidates.len();
    let matches = |i: usize, j: usize| step_matches(&steps[i], candidates[j].2);
    // Longest common subsequence over prefixes; traced back from the end so the latest
    // layers are matched first.
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in 1..=n {
        for j in 1..=m {
            lcs[i][j] = if matches(i - 1, j - 1) {
                lcs[i - 1][j - 1] + 1
            } else {
                lcs[i - 1][j].max(lcs[i][j - 1])
            };
        }
    }
    let mut pair: Vec<Option<usize>> = vec![None; n];
    let mut matched_cand = vec![false; m];
    let (mut i, mut j) = (n, m);
    while i > 0 && j > 0 {
        if matches(i - 1, j - 1) && lcs[i][j] == lcs[i - 1][j - 1] + 1 {
            pair[i - 1] = Some(j - 1);
            matched_cand[j - 1] = true;
            i -= 1;
            j -= 1;
        } else if lcs[i - 1][j] >= lcs[i][j - 1] {
            i -= 1;
        } else {
            j -= 1;
        }
    }

    let root = &df.stages[chain[0]];
    let first_layer = pair.iter().position(Option::is_some);
    let first_cand = matched_cand.iter().position(|&b| b);
    let real = |c: &Instr| c.keyword != "WORKDIR";
    // Layer-making instructions before the first matched one: the layers just before the
    // first match may be theirs (changed since the build) rather than the base image's.
    let changed_before = match first_cand {
        Some(fc) => candidates[..fc].iter().filter(|c| real(c.2)).count(),
        None => 0,
    };
    let any_real = candidates.iter().any(|c| real(c.2));
    let mut layers = Vec::with_capacity(n);
    for (li, p) in pair.iter().enumerate() {
        let src = match (p, first_layer) {
            (Some(c), _) => {
                let (s, idx, ins) = candidates[*c];
                LayerSource::Instruction {
                    line: ins.line,
                    end_line: ins.end_line,
                    stage: s,
                    index: idx,
                }
            }
            (None, Some(fl)) if li < fl => {
                if li + changed_before >= fl {
                    LayerSource::Unmapped {
                        reason: format!(
                            "before the first matched instruction ({}), and {} instruction(s) \
                             before it match no layer: the Dockerfile may have changed since the build",
                            df.cite(candidates[first_cand.unwrap_or(0)].2.line),
                            changed_before
                        ),
                    }
                } else if root.base.eq_ignore_ascii_case("scratch") {
                    LayerSource::Unmapped {
                        reason: "the stage is built FROM scratch, yet this layer comes before \
                                 every matched instruction"
                            .to_string(),
                    }
                } else {
                    LayerSource::Base {
                        line: root.from_line,
                        image: root.base.clone(),
                    }
                }
            }
            (None, None) if !any_real && !root.base.eq_ignore_ascii_case("scratch") => {
                LayerSource::Base {
                    line: root.from_line,
                    image: root.base.clone(),
                }
            }
            (None, None) => LayerSource::Unmapped {
                reason: format!(
                    "no instruction of {} matches any layer of this image: is it the \
                     Dockerfile the image was built from?",
                    df.name
                ),
            },
            (None, Some(_)) => LayerSource::Unmapped {
                reason: if steps[li].instruction.is_empty() {
                    "the image has no history entry for this layer".to_string()
                } else {
                    format!(
                        "no instruction matches `{}`: the Dockerfile may have changed since the build",
                        crate::history::one_line(&steps[li].instruction, 60)
                    )
                },
            },
        };
        layers.push(src);
    }
    Mapping {
        file: df.name.clone(),
        stage,
        layers,
        unmatched_lines: candidates
            .iter()
            .zip(&matched_cand)
            .filter(|(c, &m)| !m && real(c.2))
            .map(|(c, _)| c.2.line)
            .collect(),
    }
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Drops leading `--flag=value` words (`RUN --mount=…`), which builders record or not.
fn strip_flags(body: &str) -> &str {
    let mut rest = body.trim_start();
    while rest.starts_with("--") {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    rest
}

/// Whether a history step (in Dockerfile form) is this instruction's layer.
pub(crate) fn step_matches(step: &Step, ins: &Instr) -> bool {
    if step.keyword() != ins.keyword {
        return false;
    }
    let body = step.body();
    match ins.keyword.as_str() {
        "RUN" => {
            let body = strip_flags(body);
            match &ins.command {
                Some(Cmd::Exec(args)) => {
                    serde_json::from_str::<Vec<String>>(body).is_ok_and(|v| &v == args)
                }
                Some(Cmd::Shell(cmd)) => {
                    let (h, c) = (collapse(body), collapse(cmd));
                    h == c || (!ins.heredocs.is_empty() && !c.is_empty() && h.starts_with(&c))
                }
                None => false,
            }
        }
        "COPY" | "ADD" => {
            let Some(dest) = body.split_whitespace().last() else {
                return false;
            };
            let trim = |d: &str| {
                let t = d.trim_end_matches('/');
                if t.is_empty() {
                    "/".to_string()
                } else {
                    t.to_string()
                }
            };
            ins.dest.as_deref().is_some_and(|d| trim(d) == trim(dest))
                || ins.dest_abs.as_deref() == Some(absolute("/", dest).as_str())
        }
        "WORKDIR" => {
            ins.dest_abs.as_deref() == Some(absolute("/", body.trim()).as_str())
                || ins.args.trim() == body.trim()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::normalize_command;
    use std::path::Path;

    fn steps(created_by: &[&str]) -> Vec<Step> {
        created_by
            .iter()
            .map(|c| Step {
                instruction: normalize_command(c),
                created_by: (*c).to_string(),
                ..Step::default()
            })
            .collect()
    }

    fn lines(m: &Mapping) -> Vec<String> {
        m.layers
            .iter()
            .map(|l| match l {
                LayerSource::Instruction { line, .. } => line.to_string(),
                LayerSource::Base { line, .. } => format!("base@{line}"),
                LayerSource::Unmapped { .. } => "?".to_string(),
            })
            .collect()
    }

    const DF: &str = "FROM debian:bookworm\n\
                      WORKDIR /app\n\
                      RUN apt-get update \\\n    && apt-get install -y curl\n\
                      COPY --chown=app:app . .\n\
                      RUN [\"/bin/busybox\", \"--install\", \"-s\"]\n\
                      ENV A=b\n\
                      ADD https://example.org/x.tgz /opt/\n\
                      CMD [\"sh\"]\n";

    #[test]
    fn every_builder_form_maps_to_its_line() {
        let df = Dockerfile::parse(Path::new("Dockerfile"), DF, &[]).unwrap();
        // BuildKit.
        let bk = steps(&[
            "/bin/sh -c #(nop) ADD file:aa in / ",
            "WORKDIR /app # buildkit",
            "RUN /bin/sh -c apt-get update     && apt-get install -y curl # buildkit",
            "COPY --chown=app:app . . # buildkit",
            "RUN [\"/bin/busybox\", \"--install\", \"-s\"] # buildkit",
            "ADD https://example.org/x.tgz /opt/ # buildkit",
        ]);
        let m = map_layers(&df, 0, &bk);
        assert_eq!(lines(&m), ["base@1", "2", "3", "5", "6", "8"]);
        assert!(m.unmatched_lines.is_empty());
        // Classic docker and buildah: no WORKDIR layer, `file:`/`dir:` sources, exec form
        // behind `/bin/sh -c`.
        let classic = steps(&[
            "/bin/sh -c #(nop) ADD file:aa in / ",
            "/bin/sh -c apt-get update     && apt-get install -y curl",
            "/bin/sh -c #(nop) COPY dir:77ab in /app ",
            "/bin/sh -c [\"/bin/busybox\", \"--install\", \"-s\"]",
            "/bin/sh -c #(nop) ADD file:bb in /opt/ ",
        ]);
        let m = map_layers(&df, 0, &classic);
        assert_eq!(lines(&m), ["base@1", "3", "5", "6", "8"]);
        // kaniko.
        let kaniko = steps(&[
            "ADD file:aa in /",
            "RUN apt-get update     && apt-get install -y curl",
            "COPY . .",
            "RUN [\"/bin/busybox\", \"--install\", \"-s\"]",
            "ADD https://example.org/x.tgz /opt/",
        ]);
        assert_eq!(
            lines(&map_layers(&df, 0, &kaniko)),
            ["base@1", "3", "5", "6", "8"]
        );
    }

    #[test]
    fn changed_dockerfiles_say_so_per_layer() {
        let df = Dockerfile::parse(Path::new("Dockerfile"), DF, &[]).unwrap();
        let st = steps(&[
            "/bin/sh -c #(nop) ADD file:aa in / ",
            "/bin/sh -c apt-get update",
            "/bin/sh -c #(nop) COPY dir:77ab in /app ",
            "/bin/sh -c make",
            "/bin/sh -c #(nop) ADD file:bb in /opt/ ",
        ]);
        let m = map_layers(&df, 0, &st);
        assert_eq!(lines(&m), ["base@1", "?", "5", "?", "8"]);
        assert_eq!(m.unmatched_lines, [3, 6]);
        assert_eq!(m.unmapped(), 2);
        match &m.layers[3] {
            LayerSource::Unmapped { reason } => assert!(reason.contains("`RUN make`"), "{reason}"),
            other => panic!("{other:?}"),
        }
        // Nothing matches at all: every layer says so.
        let other = Dockerfile::parse(Path::new("Dockerfile"), "FROM x\nRUN true\n", &[]).unwrap();
        let m = map_layers(&other, 0, &st);
        assert_eq!(m.unmapped(), 5);
    }

    #[test]
    fn multi_stage_maps_the_target_and_its_parents() {
        let df = Dockerfile::parse(
            Path::new("Dockerfile"),
            "FROM golang AS build\nRUN go build -o /out/app\n\
             FROM debian AS base\nRUN useradd app\n\
             FROM base AS final\nCOPY --from=build /out/app /usr/local/bin/app\n\
             FROM base AS debug\nRUN apt-get install gdb\n",
            &[],
        )
        .unwrap();
        let st = steps(&[
            "/bin/sh -c #(nop) ADD file:aa in / ",
            "RUN /bin/sh -c useradd app # buildkit",
            "COPY /out/app /usr/local/bin/app # buildkit",
        ]);
        let target = df.target(Some("final")).unwrap();
        assert_eq!(lines(&map_layers(&df, target, &st)), ["base@3", "4", "6"]);
    }
}
