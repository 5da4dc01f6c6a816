//! The user's Dockerfile: parsed (with the `parse-dockerfile` crate: continuations, comments,
//! parser directives, JSON and shell forms, heredocs, stages) into a small model with line
//! numbers, ARG/ENV substitution in BuildKit's form ([`subst`]), the stage chain that built
//! the image (`--target`, `FROM <stage>`), the map from image layers to the instructions
//! that made them ([`map`]) and the build-context files it copied that the image does not
//! need ([`context`]). The analysis reads this model; `layersift fix` ([`crate::fix`]) sits
//! above both and turns their suggestions into a patch.

pub(crate) mod context;
pub(crate) mod map;
pub(crate) mod subst;

use std::path::{Path, PathBuf};

use subst::{expand, key_values, Vars};

/// Why a Dockerfile cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DockerfileError {
    #[error("cannot read Dockerfile `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot parse Dockerfile `{}`", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: ParseError,
    },
    #[error("Dockerfile `{}` has no stage named `{target}` (stages: {available})", path.display())]
    Target {
        path: PathBuf,
        target: String,
        available: String,
    },
}

impl DockerfileError {
    pub fn hint(&self) -> Option<String> {
        match self {
            DockerfileError::Read { .. } => {
                Some("pass the Dockerfile the image was built from: `--dockerfile PATH`".into())
            }
            DockerfileError::Parse { .. } => Some(
                "layersift reads Dockerfiles as BuildKit does; check the line named above".into(),
            ),
            DockerfileError::Target { .. } => {
                Some("`--target` names a stage (`FROM … AS NAME`) of the Dockerfile".into())
            }
        }
    }
}

/// The parser's message, with the line it points at.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// A command of `RUN`, `CMD`, `ENTRYPOINT` or `HEALTHCHECK CMD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    /// Shell form, line continuations joined and comment lines dropped.
    Shell(String),
    /// Exec (JSON array) form.
    Exec(Vec<String>),
}

/// One instruction with where it is in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instr {
    /// Upper-case keyword (`RUN`, `COPY`, …).
    pub keyword: String,
    /// First and last line (1-based) the instruction spans, heredoc bodies included.
    pub line: usize,
    pub end_line: usize,
    /// `--name=value` flags, values expanded.
    pub flags: Vec<(String, String)>,
    /// `RUN`, `CMD`, `ENTRYPOINT`, `HEALTHCHECK CMD`.
    pub command: Option<Cmd>,
    /// Heredoc bodies (`RUN <<EOF`, `COPY <<EOF`).
    pub heredocs: Vec<String>,
    /// `COPY`/`ADD` sources, expanded, as written (build-context or stage paths, URLs).
    pub sources: Vec<String>,
    /// `COPY`/`ADD` destination, expanded, as written.
    pub dest: Option<String>,
    /// The destination made absolute against the stage's `WORKDIR`.
    pub dest_abs: Option<String>,
    /// The arguments of other instructions, expanded (`USER app`, `WORKDIR /srv`).
    pub args: String,
    /// `ENV` pairs, expanded.
    pub env: Vec<(String, String)>,
    /// `HEALTHCHECK NONE`.
    pub healthcheck_none: bool,
}

impl Instr {
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether this instruction can add a layer to the image.
    pub fn makes_layer(&self) -> bool {
        matches!(self.keyword.as_str(), "RUN" | "COPY" | "ADD" | "WORKDIR")
    }

    /// The shell command of a shell-form `RUN` (heredoc bodies appended).
    pub fn shell(&self) -> Option<&str> {
        match &self.command {
            Some(Cmd::Shell(s)) => Some(s),
            _ => None,
        }
    }
}

/// One stage: `FROM base [AS name]` and what follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub name: Option<String>,
    /// The base, expanded (`debian:bookworm`, `scratch`, or an earlier stage's name).
    pub base: String,
    pub from_line: usize,
    /// The earlier stage this one is built `FROM`, if any.
    pub parent: Option<usize>,
    pub instructions: Vec<Instr>,
}

/// A parsed Dockerfile.
#[derive(Debug, Clone)]
pub struct Dockerfile {
    /// How citations name it: the file name (`Dockerfile`, `Containerfile`).
    pub name: String,
    pub path: PathBuf,
    pub text: String,
    pub escape: char,
    pub stages: Vec<Stage>,
}

impl Dockerfile {
    /// Reads and parses a Dockerfile, with the build's `--build-arg` values.
    pub fn read(
        path: &Path,
        build_args: &[(String, String)],
    ) -> Result<Dockerfile, DockerfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| DockerfileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Dockerfile::parse(path, &text, build_args)
    }

    /// Parses Dockerfile text; `path` names it in citations and errors.
    pub fn parse(
        path: &Path,
        text: &str,
        build_args: &[(String, String)],
    ) -> Result<Dockerfile, DockerfileError> {
        // The parser drops a leading byte-order mark and gives its spans in the text after
        // it: every span is read in that text (a BOM holds no newline, so line numbers and
        // the kept `text` agree with it).
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        let parsed = parse_dockerfile::parse(body).map_err(|e| DockerfileError::Parse {
            path: path.to_path_buf(),
            source: ParseError(e.to_string()),
        })?;
        let escape = parsed
            .parser_directives
            .escape
            .as_ref()
            .map_or('\\', |d| d.value.value);
        let lines = LineIndex::new(body);
        let overrides: Vars = build_args.iter().cloned().collect();
        let mut global = Vars::new();
        let mut stages: Vec<Stage> = Vec::new();
        // Per stage: variables in scope and the working directory.
        let mut vars = Vars::new();
        let mut workdir = String::from("/");
        let mut stage_state: Vec<(Vars, String)> = Vec::new();
        for ins in &parsed.instructions {
            use parse_dockerfile::Instruction as I;
            let (start, end) = spans(ins);
            let mut out = Instr {
                keyword: String::new(),
                line: lines.line(start),
                end_line: lines.line(end.saturating_sub(1).max(start)),
                flags: Vec::new(),
                command: None,
                heredocs: Vec::new(),
                sources: Vec::new(),
                dest: None,
                dest_abs: None,
                args: String::new(),
                env: Vec::new(),
                healthcheck_none: false,
            };
            match ins {
                I::From(f) => {
                    // FROM sees global ARGs only.
                    let base = expand(&f.image.value, &global, escape);
                    let name = f
                        .as_
                        .as_ref()
                        .map(|(_, n)| expand(&n.value, &global, escape));
                    let parent = stages.iter().position(|s| {
                        s.name
                            .as_deref()
                            .is_some_and(|n| n.eq_ignore_ascii_case(&base))
                    });
                    if !stages.is_empty() {
                        // The state a stage ended with, for stages built `FROM` it.
                        stage_state.push((vars.clone(), workdir.clone()));
                    }
                    (vars, workdir) = match parent {
                        Some(p) => stage_state.get(p).cloned().unwrap_or_default(),
                        None => (Vars::new(), "/".to_string()),
                    };
                    stages.push(Stage {
                        name,
                        base,
                        from_line: out.line,
                        parent,
                        instructions: Vec::new(),
                    });
                    continue;
                }
                I::Arg(a) => {
                    out.keyword = "ARG".into();
                    out.args = a.arguments.value.to_string();
                    let in_stage = !stages.is_empty();
                    for w in subst::split_words(&a.arguments.value, escape) {
                        let (name, default) = match w.split_once('=') {
                            Some((n, d)) => {
                                let scope = if in_stage { &vars } else { &global };
                                (n.to_string(), Some(expand(d, scope, escape)))
                            }
                            None => (w.clone(), None),
                        };
                        let value = overrides
                            .get(&name)
                            .cloned()
                            .or(default)
                            .or_else(|| global.get(&name).cloned());
                        if let Some(v) = value {
                            if in_stage {
                                vars.insert(name, v);
                            } else {
                                global.insert(name, v);
                            }
                        }
                    }
                    if !in_stage {
                        continue;
                    }
                }
                I::Run(r) => {
                    out.keyword = "RUN".into();
                    out.flags = flags(&r.options, &vars, escape);
                    out.heredocs = r.here_docs.iter().map(|h| h.value.to_string()).collect();
                    out.command = Some(command(&r.arguments, escape));
                }
                I::Cmd(c) => {
                    out.keyword = "CMD".into();
                    out.command = Some(command(&c.arguments, escape));
                }
                I::Entrypoint(e) => {
                    out.keyword = "ENTRYPOINT".into();
                    out.command = Some(command(&e.arguments, escape));
                }
                I::Copy(c) => {
                    out.keyword = "COPY".into();
                    out.flags = flags(&c.options, &vars, escape);
                    (out.sources, out.heredocs) = sources(&c.src, &vars, escape);
                    out.dest = Some(expand(&c.dest.value, &vars, escape));
                }
                I::Add(c) => {
                    out.keyword = "ADD".into();
                    out.flags = flags(&c.options, &vars, escape);
                    (out.sources, out.heredocs) = sources(&c.src, &vars, escape);
                    out.dest = Some(expand(&c.dest.value, &vars, escape));
                }
                I::Env(e) => {
                    out.keyword = "ENV".into();
                    out.env = key_values(&e.arguments.value, &vars, escape);
                    for (k, v) in &out.env {
                        vars.insert(k.clone(), v.clone());
                    }
                    out.args = e.arguments.value.to_string();
                }
                I::Workdir(w) => {
                    out.keyword = "WORKDIR".into();
                    out.args = expand(&w.arguments.value, &vars, escape);
                    workdir = absolute(&workdir, &out.args);
                    out.dest_abs = Some(workdir.clone());
                }
                I::User(u) => {
                    out.keyword = "USER".into();
                    out.args = expand(&u.arguments.value, &vars, escape);
                }
                I::Healthcheck(h) => {
                    out.keyword = "HEALTHCHECK".into();
                    out.flags = flags(&h.options, &vars, escape);
                    match &h.arguments {
                        parse_dockerfile::HealthcheckArguments::Cmd { arguments, .. } => {
                            out.command = Some(command(arguments, escape));
                        }
                        _ => out.healthcheck_none = true,
                    }
                }
                other => {
                    out.keyword = keyword_of(body, other);
                    out.args = body[start..end]
                        .get(out.keyword.len()..)
                        .unwrap_or_default()
                        .trim()
                        .to_string();
                }
            }
            if let Some(d) = &out.dest {
                out.dest_abs = Some(absolute(&workdir, d));
            }
            if !out.heredocs.is_empty() {
                // A heredoc's span ends with its body: the delimiter is the next line.
                out.end_line = lines.line(end).max(out.end_line);
            }
            if let Some(stage) = stages.last_mut() {
                stage.instructions.push(out);
            }
        }
        Ok(Dockerfile {
            name: path
                .file_name()
                .map_or_else(|| "Dockerfile".to_string(), |n| n.to_string_lossy().into()),
            path: path.to_path_buf(),
            text: text.to_string(),
            escape,
            stages,
        })
    }

    /// The stage that was built: `--target`, else the last.
    pub fn target(&self, target: Option<&str>) -> Result<usize, DockerfileError> {
        match target {
            None => Ok(self.stages.len().saturating_sub(1)),
            Some(t) => self
                .stages
                .iter()
                .position(|s| s.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(t)))
                .ok_or_else(|| DockerfileError::Target {
                    path: self.path.clone(),
                    target: t.to_string(),
                    available: self
                        .stages
                        .iter()
                        .enumerate()
                        .map(|(i, s)| s.name.clone().unwrap_or_else(|| i.to_string()))
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
        }
    }

    /// The stages whose instructions are in the image, outermost base first (`FROM build`
    /// chains), ending with `stage`.
    pub fn chain(&self, stage: usize) -> Vec<usize> {
        let mut out = vec![stage];
        let mut at = stage;
        while let Some(p) = self.stages.get(at).and_then(|s| s.parent) {
            if out.contains(&p) {
                break;
            }
            out.push(p);
            at = p;
        }
        out.reverse();
        out
    }

    /// A stage by name or index (for `COPY --from=`).
    pub fn stage_named(&self, name: &str) -> Option<usize> {
        self.stages
            .iter()
            .position(|s| {
                s.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .or_else(|| {
                name.parse::<usize>()
                    .ok()
                    .filter(|&i| i < self.stages.len())
            })
    }

    /// `Dockerfile:12`.
    pub fn cite(&self, line: usize) -> String {
        format!("{}:{line}", self.name)
    }

    /// The text of lines `from..=to` (1-based), each with its newline.
    pub fn lines(&self, from: usize, to: usize) -> Vec<&str> {
        self.text
            .split_inclusive('\n')
            .skip(from.saturating_sub(1))
            .take(to + 1 - from.min(to + 1))
            .collect()
    }
}

/// A Dockerfile tied to an analysed image: the file, the stage that was built, and the
/// line behind each layer.
#[derive(Debug, Clone)]
pub struct Context {
    pub dockerfile: Dockerfile,
    pub stage: usize,
    pub mapping: map::Mapping,
}

impl Context {
    /// Maps the layers and rewrites their steps: a mapped layer's step becomes the real
    /// instruction (secrets redacted) and cites its line; a base layer cites the `FROM` line.
    pub fn new(df: &Dockerfile, stage: usize, steps: &mut [crate::history::Step]) -> Context {
        let mapping = map::map_layers(df, stage, steps);
        for (i, step) in steps.iter_mut().enumerate() {
            match &mapping.layers[i] {
                map::LayerSource::Instruction { line, .. } => {
                    if let Some(text) = mapping
                        .instruction(df, i)
                        .and_then(|ins| df.instruction_text(ins))
                    {
                        step.instruction = crate::secrets::redact(&text);
                    }
                    step.source = Some(df.cite(*line));
                }
                map::LayerSource::Base { line, image } => {
                    step.source = Some(format!("{} (base image `{image}`)", df.cite(*line)));
                }
                map::LayerSource::Unmapped { .. } => {}
            }
        }
        Context {
            dockerfile: df.clone(),
            stage,
            mapping,
        }
    }

    /// The line of the last `ENV` in the built stages that sets
    /// `name`: where a secret in the image config was written.
    pub(crate) fn env_line(&self, name: &str) -> Option<usize> {
        self.dockerfile
            .chain(self.stage)
            .into_iter()
            .filter_map(|s| self.dockerfile.stages.get(s))
            .flat_map(|s| s.instructions.iter())
            .filter(|i| i.keyword == "ENV" && i.env.iter().any(|(k, _)| k == name))
            .map(|i| i.line)
            .max()
    }
}

impl Dockerfile {
    /// An instruction as one line (continuations joined, comments dropped, whitespace
    /// collapsed); `None` for heredocs, which do not fit on one line.
    pub fn instruction_text(&self, ins: &Instr) -> Option<String> {
        if !ins.heredocs.is_empty() {
            return None;
        }
        let raw: String = self.lines(ins.line, ins.end_line).concat();
        let joined = join_continuations(raw.trim_end(), self.escape);
        Some(joined.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

/// `path` made absolute against `workdir`, without a trailing slash (except `/`).
pub(crate) fn absolute(workdir: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{}/{}", workdir.trim_end_matches('/'), path)
    };
    let mut parts: Vec<&str> = Vec::new();
    for c in joined.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Byte offsets of line starts, to turn spans into 1-based lines.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex(starts)
    }

    fn line(&self, offset: usize) -> usize {
        match self.0.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}

fn flags(
    options: &[parse_dockerfile::Flag<'_>],
    vars: &Vars,
    escape: char,
) -> Vec<(String, String)> {
    options
        .iter()
        .map(|f| {
            (
                f.name.value.to_string(),
                f.value
                    .as_ref()
                    .map(|v| expand(&v.value, vars, escape))
                    .unwrap_or_default(),
            )
        })
        .collect()
}

fn sources(
    src: &[parse_dockerfile::Source<'_>],
    vars: &Vars,
    escape: char,
) -> (Vec<String>, Vec<String>) {
    let (mut paths, mut docs) = (Vec::new(), Vec::new());
    for s in src {
        match s {
            parse_dockerfile::Source::Path(p) => paths.push(expand(&p.value, vars, escape)),
            parse_dockerfile::Source::HereDoc(h) => docs.push(h.value.to_string()),
            _ => {}
        }
    }
    (paths, docs)
}

fn command(c: &parse_dockerfile::Command<'_>, escape: char) -> Cmd {
    match c {
        parse_dockerfile::Command::Exec(e) => {
            Cmd::Exec(e.value.iter().map(|s| s.value.to_string()).collect())
        }
        parse_dockerfile::Command::Shell(s) => Cmd::Shell(join_continuations(s.value, escape)),
        _ => Cmd::Shell(String::new()),
    }
}

/// Joins `escape`-newline continuations as the builder does (the escape and the newline
/// go; nothing is inserted) and drops comment lines inside the continued instruction.
pub(crate) fn join_continuations(raw: &str, escape: char) -> String {
    let mut out = String::with_capacity(raw.len());
    for (i, line) in raw.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if i > 0 && line.trim_start().starts_with('#') {
            continue;
        }
        let t = line.trim_end();
        match t.strip_suffix(escape) {
            Some(body) => out.push_str(body),
            None => {
                out.push_str(line);
            }
        }
    }
    out
}

/// The instruction's byte range: from its keyword to the end of its last part.
fn spans(ins: &parse_dockerfile::Instruction<'_>) -> (usize, usize) {
    use parse_dockerfile::Instruction as I;
    let mut r: Vec<std::ops::Range<usize>> = Vec::new();
    let cmd = |c: &parse_dockerfile::Command<'_>| match c {
        parse_dockerfile::Command::Exec(e) => e.span.clone(),
        parse_dockerfile::Command::Shell(s) => s.span.clone(),
        _ => 0..0,
    };
    let src = |s: &parse_dockerfile::Source<'_>| match s {
        parse_dockerfile::Source::Path(p) => p.span.clone(),
        parse_dockerfile::Source::HereDoc(h) => h.span.clone(),
        _ => 0..0,
    };
    match ins {
        I::Add(i) => {
            r.push(i.add.span.clone());
            r.extend(i.options.iter().map(|f| f.span()));
            r.extend(i.src.iter().map(src));
            r.push(i.dest.span.clone());
        }
        I::Copy(i) => {
            r.push(i.copy.span.clone());
            r.extend(i.options.iter().map(|f| f.span()));
            r.extend(i.src.iter().map(src));
            r.push(i.dest.span.clone());
        }
        I::Arg(i) => r.extend([i.arg.span.clone(), i.arguments.span.clone()]),
        I::Cmd(i) => r.extend([i.cmd.span.clone(), cmd(&i.arguments)]),
        I::Entrypoint(i) => r.extend([i.entrypoint.span.clone(), cmd(&i.arguments)]),
        I::Env(i) => r.extend([i.env.span.clone(), i.arguments.span.clone()]),
        I::Expose(i) => {
            r.push(i.expose.span.clone());
            r.extend(i.arguments.iter().map(|a| a.span.clone()));
        }
        I::From(i) => {
            r.extend([i.from.span.clone(), i.image.span.clone()]);
            if let Some((k, n)) = &i.as_ {
                r.extend([k.span.clone(), n.span.clone()]);
            }
        }
        I::Healthcheck(i) => {
            r.push(i.healthcheck.span.clone());
            r.extend(i.options.iter().map(|f| f.span()));
            match &i.arguments {
                parse_dockerfile::HealthcheckArguments::Cmd {
                    cmd: k, arguments, ..
                } => {
                    r.extend([k.span.clone(), cmd(arguments)]);
                }
                parse_dockerfile::HealthcheckArguments::None { none, .. } => {
                    r.push(none.span.clone());
                }
                _ => {}
            }
        }
        I::Label(i) => r.extend([i.label.span.clone(), i.arguments.span.clone()]),
        I::Maintainer(i) => r.extend([i.maintainer.span.clone(), i.name.span.clone()]),
        I::Onbuild(i) => {
            r.push(i.onbuild.span.clone());
            let (_, e) = spans(&i.instruction);
            r.push(e.saturating_sub(1)..e);
        }
        I::Run(i) => {
            r.push(i.run.span.clone());
            r.extend(i.options.iter().map(|f| f.span()));
            r.push(cmd(&i.arguments));
            r.extend(i.here_docs.iter().map(|h| h.span.clone()));
        }
        I::Shell(i) => {
            r.push(i.shell.span.clone());
            r.extend(i.arguments.iter().map(|a| a.span.clone()));
        }
        I::Stopsignal(i) => r.extend([i.stopsignal.span.clone(), i.arguments.span.clone()]),
        I::User(i) => r.extend([i.user.span.clone(), i.arguments.span.clone()]),
        I::Volume(i) => {
            r.push(i.volume.span.clone());
            match &i.arguments {
                parse_dockerfile::JsonOrStringArray::Json(j) => r.push(j.span.clone()),
                parse_dockerfile::JsonOrStringArray::String(s) => {
                    r.extend(s.iter().map(|a| a.span.clone()));
                }
            }
        }
        I::Workdir(i) => r.extend([i.workdir.span.clone(), i.arguments.span.clone()]),
        _ => {}
    }
    let start = r.iter().map(|s| s.start).min().unwrap_or(0);
    let end = r.iter().map(|s| s.end).max().unwrap_or(start);
    (start, end)
}

fn keyword_of(text: &str, ins: &parse_dockerfile::Instruction<'_>) -> String {
    let (start, end) = spans(ins);
    text[start..end]
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Dockerfile {
        Dockerfile::parse(Path::new("Dockerfile"), text, &[]).unwrap()
    }

    /// Found by the `dockerfile` fuzz target: with a byte-order mark first, the parser's
    /// spans are 3 bytes short of the text, which cut a multi-byte character (a panic)
    /// and could name the wrong line. They are read in the text after the mark now.
    #[test]
    fn byte_order_mark_first() {
        let df = parse("\u{feff}ARG VERSION=1\nFROM g\nVOLUME \u{432}\u{7db}at\nRUN make\n");
        let s = &df.stages[0];
        assert_eq!(s.from_line, 2);
        let kw: Vec<(&str, usize)> = s
            .instructions
            .iter()
            .map(|i| (i.keyword.as_str(), i.line))
            .collect();
        assert_eq!(kw, [("VOLUME", 3), ("RUN", 4)]);
        assert_eq!(s.instructions[0].args, "\u{432}\u{7db}at");
    }

    #[test]
    fn continuations_comments_heredocs_and_lines() {
        let df = parse(
            "# syntax=docker/dockerfile:1\n\
             FROM debian:bookworm\n\
             # a comment\n\
             RUN apt-get update \\\n\
             # inside\n    && apt-get install -y curl\n\
             RUN <<EOF\n\
             set -e\n\
             echo hi > /x\n\
             EOF\n\
             CMD [\"curl\", \"--version\"]\n",
        );
        let s = &df.stages[0];
        assert_eq!(s.base, "debian:bookworm");
        assert_eq!(s.from_line, 2);
        let run = &s.instructions[0];
        assert_eq!((run.line, run.end_line), (4, 6));
        assert_eq!(
            run.shell()
                .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ")),
            Some("apt-get update && apt-get install -y curl".to_string())
        );
        let here = &s.instructions[1];
        assert_eq!((here.line, here.end_line), (7, 10));
        assert_eq!(here.heredocs, ["set -e\necho hi > /x\n"]);
        assert_eq!(
            s.instructions[2].command,
            Some(Cmd::Exec(vec!["curl".into(), "--version".into()]))
        );
    }

    #[test]
    fn escape_directive_and_substitution() {
        let df = parse(
            "# escape=`\n\
             ARG BASE=alpine:3.20\n\
             FROM $BASE\n\
             ARG APP=/srv/app\n\
             ENV DATA=${APP}/data\n\
             WORKDIR $APP\n\
             COPY --chown=app:app src/ ./src\n\
             COPY conf.d/ $DATA/\n\
             RUN echo a `\n  && echo b\n",
        );
        assert_eq!(df.escape, '`');
        let s = &df.stages[0];
        assert_eq!(s.base, "alpine:3.20");
        let copy = &s.instructions[3];
        assert_eq!(copy.flag("chown"), Some("app:app"));
        assert_eq!(copy.sources, ["src/"]);
        assert_eq!(copy.dest_abs.as_deref(), Some("/srv/app/src"));
        assert_eq!(s.instructions[4].dest_abs.as_deref(), Some("/srv/app/data"));
        assert_eq!(s.instructions[5].shell(), Some("echo a   && echo b"));
    }

    #[test]
    fn build_args_override_defaults() {
        let df = Dockerfile::parse(
            Path::new("Containerfile"),
            "ARG V=1\nFROM x:$V\nARG DEST=/a\nCOPY f $DEST\n",
            &[("V".into(), "2".into()), ("DEST".into(), "/b".into())],
        )
        .unwrap();
        assert_eq!(df.stages[0].base, "x:2");
        assert_eq!(df.stages[0].instructions[1].dest.as_deref(), Some("/b"));
        assert_eq!(df.cite(4), "Containerfile:4");
    }

    #[test]
    fn stages_targets_and_chains() {
        let df = parse(
            "FROM golang:1.22 AS build\nRUN go build -o /out/app\n\
             FROM debian AS base\nRUN useradd app\n\
             FROM base AS final\nCOPY --from=build /out/app /usr/local/bin/app\n\
             FROM scratch AS other\n",
        );
        assert_eq!(df.target(None).unwrap(), 3);
        assert_eq!(df.target(Some("final")).unwrap(), 2);
        assert_eq!(df.chain(2), [1, 2]);
        assert_eq!(df.stage_named("build"), Some(0));
        let err = df.target(Some("nope")).unwrap_err().to_string();
        assert!(err.contains("build, base, final, other"), "{err}");
        let copy = &df.stages[2].instructions[0];
        assert_eq!(copy.flag("from"), Some("build"));
    }

    #[test]
    fn bad_input_is_an_error() {
        let err = Dockerfile::parse(Path::new("Dockerfile"), "RUN echo\n", &[]).unwrap_err();
        assert!(matches!(err, DockerfileError::Parse { .. }));
        assert!(Dockerfile::parse(Path::new("Dockerfile"), "", &[]).is_err());
    }

    #[test]
    fn absolute_paths() {
        assert_eq!(absolute("/", "."), "/");
        assert_eq!(absolute("/app", "./"), "/app");
        assert_eq!(absolute("/app", "src/"), "/app/src");
        assert_eq!(absolute("/app", "/etc/x"), "/etc/x");
        assert_eq!(absolute("/app/sub", "../x"), "/app/x");
    }
}
