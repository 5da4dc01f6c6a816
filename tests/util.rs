//! Shared helpers for the integration tests: the corpus location, running the real binary,
//! and analysing fixture images.

use std::path::{Path, PathBuf};

use layersift::Analysis;
use layersift::OpenOptions;
use layersift_fixture::{BuiltImage, Format};

/// Where the real-image corpus is: `$LAYERSIFT_CORPUS`, else `../shared/corpus`.
pub(crate) fn corpus_dir() -> PathBuf {
    std::env::var_os("LAYERSIFT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"))
}

/// The corpus, or `None` (with a note, counted in the run's skip summary) when absent.
pub(crate) fn corpus() -> Option<PathBuf> {
    let p = corpus_dir();
    if p.join("oci/index.json").is_file() {
        Some(p)
    } else {
        skip(&format!(
            "corpus not found at {} (set LAYERSIFT_CORPUS=DIR)",
            p.display()
        ));
        None
    }
}

/// Notes that a test is skipped and why: on stderr (shown with `--nocapture`), and in a
/// log that the `zz_skipped` test binary, which cargo runs after this one, sums up in one
/// line outside the capture. The log is named by the parent process (the `cargo test` that
/// runs both binaries), so one run never counts another's skips.
pub(crate) fn skip(why: &str) {
    use std::io::Write as _;
    eprintln!("skipping: {why}");
    let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "skipped-{}.log",
        std::os::unix::process::parent_id()
    ));
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    {
        let _ = writeln!(f, "{}", why.replace('\n', " "));
    }
}

/// What a developer's machine sets that would change a result: credentials
/// (`DOCKER_CONFIG`, `REGISTRY_AUTH_FILE`), runtime, config and cache directories (`XDG_*`),
/// and the cache's own settings. Every runner of the binary clears them, as fd's
/// `tests/testenv` does.
pub(crate) fn clear_machine_env(cmd: &mut std::process::Command) -> &mut std::process::Command {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("XDG_") {
            cmd.env_remove(key);
        }
    }
    for key in [
        "DOCKER_CONFIG",
        "REGISTRY_AUTH_FILE",
        "LAYERSIFT_CACHE_DIR",
        "LAYERSIFT_CACHE_MAX_SIZE",
    ] {
        cmd.env_remove(key);
    }
    cmd
}

/// The `HOME` the binary runs with in tests: a folder under cargo's target directory, never
/// the developer's, so their `~/.docker/config.json`, `~/.config/layersift/tui.yaml`,
/// `~/.dive.yaml` and `~/.cache/layersift` take no part (the cache it holds is the tests' own).
pub(crate) fn test_home() -> PathBuf {
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("home");
    std::fs::create_dir_all(&home).unwrap();
    home
}

/// The one way tests run the `layersift` binary: with `NO_COLOR` set, `HOME` at
/// [`test_home`] and the machine's settings cleared ([`clear_machine_env`]), so a
/// developer's credentials, runtime directories, config or cache never change a result. A
/// test sets what it needs on the returned command.
pub(crate) fn layersift_command() -> std::process::Command {
    use assert_cmd::cargo::CommandCargoExt as _;
    let mut cmd = std::process::Command::cargo_bin("layersift").unwrap();
    cmd.env("NO_COLOR", "1").env("HOME", test_home());
    clear_machine_env(&mut cmd);
    cmd
}

/// [`layersift_command`] with `HOME` at `home`, so credential and cache lookups start there.
pub(crate) fn layersift_at(home: &Path) -> std::process::Command {
    let mut cmd = layersift_command();
    cmd.env("HOME", home);
    cmd
}

/// [`layersift_command`] with assert_cmd's assertions.
pub(crate) fn bin() -> assert_cmd::Command {
    assert_cmd::Command::from_std(layersift_command())
}

/// Writes `img` in `format` under `dir` and returns the reference to analyse it.
pub(crate) fn write(img: &BuiltImage, format: Format, dir: &Path) -> String {
    let (path, prefix) = match format {
        Format::OciLayout => (dir.join("layout"), "oci"),
        Format::OciArchive => (dir.join("image.oci.tar"), "oci-archive"),
        Format::DockerArchive => (dir.join("image.docker.tar"), "docker-archive"),
        Format::DockerArchiveOci => (dir.join("image.docker25.tar"), "docker-archive"),
        Format::DockerArchiveContainerd => (dir.join("image.containerd.tar"), "docker-archive"),
    };
    img.write(format, &path).unwrap();
    format!("{prefix}:{}", path.display())
}

pub(crate) fn analyze(reference: &str) -> Result<Analysis, layersift::Error> {
    layersift::analyze_reference(reference, &OpenOptions::default(), &layersift::NoProgress)
}

pub(crate) fn analyze_with(
    reference: &str,
    opts: &OpenOptions,
) -> Result<Analysis, layersift::Error> {
    layersift::analyze_reference(reference, opts, &layersift::NoProgress)
}

/// Analyses `reference` with the Dockerfile `df`, whose stage `stage` built it.
pub(crate) fn analyze_dockerfile(
    reference: &str,
    df: &layersift::Dockerfile,
    stage: usize,
) -> Analysis {
    layersift::analyze_reference_with(
        reference,
        &OpenOptions::default(),
        &layersift::NoProgress,
        Some((df, stage)),
    )
    .unwrap()
}

/// What `docs/report.schema.json` finds wrong with a JSON report (empty when it is valid).
pub(crate) fn schema_errors(report: &serde_json::Value) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator
        .iter_errors(report)
        .map(|e| e.to_string())
        .collect()
}

/// Writes `dockerfile` as `DIR/Dockerfile` and runs `layersift analyze REFERENCE
/// --dockerfile DIR/Dockerfile ARGS…`, which must succeed; returns its stdout and stderr.
pub(crate) fn analyze_cli_with_dockerfile(
    dir: &Path,
    reference: &str,
    dockerfile: &str,
    args: &[&str],
) -> (String, String) {
    let path = dir.join("Dockerfile");
    std::fs::write(&path, dockerfile).unwrap();
    let out = succeeded(
        bin()
            .args(["analyze", reference])
            .args(args)
            .arg("--dockerfile")
            .arg(&path)
            .output()
            .unwrap(),
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The stdout of `cmd`, which must succeed (assert_cmd shows its output if not), as text.
pub(crate) fn success_stdout(cmd: &mut assert_cmd::Command) -> String {
    String::from_utf8(cmd.assert().success().get_output().stdout.clone()).unwrap()
}

/// Whether a command succeeded, and its stdout then stderr as text (for a script whose
/// messages go to either).
pub(crate) fn success_and_text(out: &std::process::Output) -> (bool, String) {
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `out` of a command that must have succeeded; if it failed, the test fails with its stderr.
pub(crate) fn succeeded(out: std::process::Output) -> std::process::Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Asserts the image-wide accounting adds up: every byte counted once.
pub(crate) fn assert_accounting(a: &Analysis) {
    let t = &a.totals;
    assert_eq!(
        t.visible + t.hidden(),
        t.content,
        "visible + hidden = total"
    );
    let per_layer: u64 = a.layers.iter().map(|l| l.bytes.content).sum();
    assert_eq!(per_layer, t.content, "layers add up to the total");
    let from_index: u64 = a.indexes.iter().map(|i| i.content_bytes()).sum();
    assert_eq!(from_index, t.content, "index content = accounted content");
    let hidden_findings: u64 = a
        .findings
        .iter()
        .filter(|f| f.category.is_hidden())
        .map(|f| f.bytes)
        .sum();
    assert_eq!(
        hidden_findings,
        t.hidden(),
        "hidden findings cover hidden bytes once"
    );
}

/// Snapshots a whole output (an error's `error:`, `Caused by:` and `hint:` lines) under
/// `name`, with the temp directory `dir` written as `[TMP]`, so a test checks every line a
/// user reads rather than a substring.
pub(crate) fn assert_output_snapshot(name: &str, dir: &Path, output: &str) {
    let pattern = regex::escape(&dir.display().to_string());
    insta::with_settings!({filters => vec![(pattern.as_str(), "[TMP]")]}, {
        insta::assert_snapshot!(name, output);
    });
}

/// Snapshots a whole output of a run against live servers (a registry on a loopback port,
/// a token service, podman, dockerd) under `name`. What changes from run to run is written
/// as a placeholder: first each literal of `known` as its given name (a temp directory as
/// `[TMP]`, the digest a test expects as `[LAYER]`), then loopback ports
/// (`127.0.0.1:[PORT]`), other digests (`sha256:[DIGEST]`) and other temp paths
/// (`[TMPPATH]`). Placeholders keep the output's shape, so the snapshot still shows every
/// line a user reads, and that the error names what the test expects where it says `[LAYER]`.
pub(crate) fn assert_live_snapshot(name: &str, known: &[(&str, &str)], output: &str) {
    let mut filters: Vec<(String, &str)> = known
        .iter()
        .map(|(literal, tag)| (regex::escape(literal), *tag))
        .collect();
    filters.extend([
        (
            r"\b(127\.0\.0\.\d+|localhost):\d+\b".to_string(),
            "$1:[PORT]",
        ),
        (r"\bsha256:[0-9a-f]{64}\b".to_string(), "sha256:[DIGEST]"),
        (r"/tmp/\.tmp[0-9A-Za-z]+".to_string(), "[TMPPATH]"),
    ]);
    let filters: Vec<(&str, &str)> = filters.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    insta::with_settings!({filters => filters}, {
        insta::assert_snapshot!(name, output);
    });
}

/// True when tmux can run; otherwise prints the skip note and returns false.
pub(crate) fn tmux_present() -> bool {
    let ok = std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip("tmux not installed (apt-get install tmux)");
    }
    ok
}

/// The real binary in a real terminal: a detached tmux session running a shell command at a
/// given size, on a tmux server of its own (its own socket, no `.tmux.conf`), so neither a
/// developer's tmux nor their settings take part. The session runs with a fresh, empty
/// `HOME` and `XDG_CONFIG_HOME` and the machine's settings cleared ([`clear_machine_env`]):
/// a developer's `~/.dive.yaml`, `~/.config/layersift/tui.yaml`, credentials or cache never
/// change what a test sees. The server is killed however the test ends.
pub(crate) struct Tmux {
    session: String,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts `cmd` (run by the shell) in a `width`×`height` session; `tag` names it.
    pub(crate) fn start(tag: &str, width: u16, height: u16, cmd: &str) -> Tmux {
        let dir = tempfile::Builder::new()
            .prefix(&format!("layersift-{tag}-"))
            .tempdir()
            .unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".config")).unwrap();
        let t = Tmux {
            session: tag.to_string(),
            socket: dir.path().join("tmux.sock"),
            _dir: dir,
        };
        let (w, h) = (width.to_string(), height.to_string());
        let mut new = t.command();
        clear_machine_env(&mut new)
            .env_remove("TMUX")
            .env_remove("NO_COLOR")
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .args(["-f", "/dev/null", "new-session", "-d", "-s", tag])
            .args(["-x", &w, "-y", &h, cmd]);
        let out = new.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        t
    }

    fn command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new("tmux");
        cmd.arg("-S").arg(&self.socket);
        cmd
    }

    /// Runs a tmux command on this session's server (`show-buffer`, `set-option …`).
    pub(crate) fn run(&self, args: &[&str]) -> std::process::Output {
        self.command().args(args).output().unwrap()
    }

    /// The visible screen, as text.
    pub(crate) fn screen(&self) -> String {
        String::from_utf8_lossy(
            &self
                .run(&["capture-pane", "-p", "-t", &self.session])
                .stdout,
        )
        .into_owned()
    }

    /// Waits up to `secs` for `needle` on the screen and returns the screen; fails the test
    /// with the screen when it never shows.
    pub(crate) fn wait_for(&self, needle: &str, secs: u64) -> String {
        self.wait_until(needle, true, secs)
    }

    /// Waits up to `secs` for `needle` to leave the screen and returns the screen.
    pub(crate) fn wait_gone(&self, needle: &str, secs: u64) -> String {
        self.wait_until(needle, false, secs)
    }

    fn wait_until(&self, needle: &str, shown: bool, secs: u64) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let s = self.screen();
            if s.contains(needle) == shown {
                return s;
            }
            let what = if shown { "appeared" } else { "went away" };
            assert!(
                std::time::Instant::now() < deadline,
                "`{needle}` never {what}; screen:\n{s}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Sends keys as `tmux send-keys` takes them (`q`, `C-c`, `Enter`, `-l` then text).
    pub(crate) fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.session.as_str()];
        args.extend_from_slice(keys);
        self.run(&args);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}
