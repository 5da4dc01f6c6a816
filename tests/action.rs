//! The GitHub Action's scripts (`scripts/action/`), run as the runner runs them: bash with
//! GitHub's environment variables (`GITHUB_EVENT_PATH`, `GITHUB_REPOSITORY`,
//! `GITHUB_API_URL`, `GITHUB_TOKEN`, `GITHUB_STEP_SUMMARY`, `GITHUB_OUTPUT`), the real
//! binary on `PATH`, and a loopback HTTP server standing in for the GitHub REST API's
//! issue-comment endpoints. Skips with a note when bash, curl or jq is missing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use layersift_fixture::{Format, ImageBuilder};

use crate::util::{succeeded, write};

fn have(program: &str) -> bool {
    let ok = std::process::Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipping: `{program}` not found");
    }
    ok
}

/// One request the fake API saw: method, path with query, body.
type Seen = Arc<Mutex<Vec<(String, String, String)>>>;
/// Comments on the pull request: (id, body).
type Comments = Arc<Mutex<Vec<(u64, String)>>>;

/// Serves `GET /repos/o/r/issues/7/comments`, `POST` to it and
/// `PATCH /repos/o/r/issues/comments/ID` on 127.0.0.1; returns the base URL.
fn fake_api(seen: Seen, comments: Comments) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap_or("").to_string();
            let path = parts.next().unwrap_or("").to_string();
            let mut len = 0usize;
            let mut auth = String::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
                let lower = h.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("authorization:") {
                    auth = h.trim().to_string();
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            let body = String::from_utf8_lossy(&body).into_owned();
            seen.lock()
                .unwrap()
                .push((method.clone(), path.clone(), body.clone()));
            let (status, reply) = if auth != "Authorization: Bearer t0ken" {
                (
                    "401 Unauthorized",
                    r#"{"message":"Bad credentials"}"#.to_string(),
                )
            } else if method == "GET" && path.starts_with("/repos/o/r/issues/7/comments") {
                let list: Vec<serde_json::Value> = comments
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|(id, b)| serde_json::json!({"id": id, "body": b}))
                    .collect();
                ("200 OK", serde_json::Value::from(list).to_string())
            } else if method == "POST" && path == "/repos/o/r/issues/7/comments" {
                let b: serde_json::Value = serde_json::from_str(&body).unwrap();
                let mut c = comments.lock().unwrap();
                let id = 100 + c.len() as u64;
                c.push((id, b["body"].as_str().unwrap().to_string()));
                ("201 Created", format!(r#"{{"id":{id}}}"#))
            } else if let (true, Some(id)) = (
                method == "PATCH",
                path.strip_prefix("/repos/o/r/issues/comments/"),
            ) {
                let b: serde_json::Value = serde_json::from_str(&body).unwrap();
                let id: u64 = id.parse().unwrap();
                let mut c = comments.lock().unwrap();
                match c.iter_mut().find(|(i, _)| *i == id) {
                    Some(slot) => {
                        slot.1 = b["body"].as_str().unwrap().to_string();
                        ("200 OK", format!(r#"{{"id":{id}}}"#))
                    }
                    None => ("404 Not Found", "{}".to_string()),
                }
            } else {
                ("404 Not Found", "{}".to_string())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    format!("http://{addr}")
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts/action")
        .join(name)
}

/// `bash scripts/action/NAME` with the machine's settings cleared and the tests' `HOME`, as
/// the binary always runs in tests (`crate::util::layersift_command`).
fn bash(name: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new("bash");
    crate::util::clear_machine_env(&mut cmd)
        .env("HOME", crate::util::test_home())
        .arg(script(name));
    cmd
}

/// PATH with the layersift binary built for these tests first.
fn path_with_binary() -> String {
    let bin = assert_cmd::cargo::cargo_bin("layersift");
    let dir = bin.parent().unwrap().display().to_string();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}

struct Repo {
    dir: tempfile::TempDir,
    old: PathBuf,
    new: PathBuf,
    image: String,
}

/// Two reports, OLD (main) and NEW (the pull request: a layer more).
fn repo() -> Repo {
    let dir = tempfile::tempdir().unwrap();
    let old = ImageBuilder::new()
        .layer("ADD rootfs.tar /", |l| l.file("bin/sh", vec![b's'; 1000]))
        .build()
        .unwrap();
    let new = ImageBuilder::new()
        .layer("ADD rootfs.tar /", |l| l.file("bin/sh", vec![b's'; 1000]))
        .layer("COPY app /app", |l| l.file("app/main", vec![b'm'; 20_000]))
        .build()
        .unwrap();
    std::fs::create_dir(dir.path().join("o")).unwrap();
    std::fs::create_dir(dir.path().join("n")).unwrap();
    let o = write(&old, Format::OciLayout, &dir.path().join("o"));
    let image = write(&new, Format::OciLayout, &dir.path().join("n"));
    let (old_json, new_json) = (dir.path().join("old.json"), dir.path().join("new.json"));
    for (r, p) in [(&o, &old_json), (&image, &new_json)] {
        let out = crate::util::bin()
            .args(["analyze", r, "-f", "json", "-o"])
            .arg(p)
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    Repo {
        dir,
        old: old_json,
        new: new_json,
        image,
    }
}

fn event(dir: &Path, head_repo: &str) -> PathBuf {
    let p = dir.join(format!("event-{}.json", head_repo.replace('/', "-")));
    let e = serde_json::json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "head": { "ref": "feature", "repo": { "full_name": head_repo } },
            "base": { "ref": "main", "repo": { "full_name": "o/r" } }
        }
    });
    std::fs::write(&p, e.to_string()).unwrap();
    p
}

fn comment(r: &Repo, api: &str, event: &Path, baseline: Option<&Path>) -> (bool, String) {
    let out = bash("comment.sh")
        .current_dir(r.dir.path())
        .env_clear()
        .env("PATH", path_with_binary())
        .env("HOME", r.dir.path())
        .env("NO_COLOR", "1")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", event)
        .env("GITHUB_REPOSITORY", "o/r")
        .env("GITHUB_API_URL", api)
        .env("GITHUB_TOKEN", "t0ken")
        .env("GITHUB_STEP_SUMMARY", r.dir.path().join("summary.md"))
        .env("LAYERSIFT_REPORT", &r.new)
        .env(
            "LAYERSIFT_BASELINE",
            baseline.map(Path::as_os_str).unwrap_or_default(),
        )
        .env("LAYERSIFT_IMAGE", &r.image)
        .env("LAYERSIFT_MAX_CHARS", "60000")
        .output()
        .unwrap();
    crate::util::success_and_text(&out)
}

#[test]
fn the_comment_is_sticky_and_forks_get_the_summary_only() {
    if !(have("bash") && have("curl") && have("jq")) {
        return;
    }
    let r = repo();
    let seen: Seen = Arc::default();
    let comments: Comments = Arc::default();
    // Someone else's comment is already there.
    comments.lock().unwrap().push((1, "looks good".to_string()));
    let api = fake_api(Arc::clone(&seen), Arc::clone(&comments));
    let ev = event(r.dir.path(), "o/r");

    let (ok, log) = comment(&r, &api, &ev, Some(&r.old));
    assert!(ok, "{log}");
    assert!(log.contains("commented on pull request #7"), "{log}");
    {
        let c = comments.lock().unwrap();
        assert_eq!(c.len(), 2);
        assert!(
            c[1].1
                .starts_with("<!-- layersift:sticky -->\n### layersift: content +20.0 kB"),
            "{}",
            c[1].1
        );
    }
    // The next push updates the same comment.
    let (ok, log) = comment(&r, &api, &ev, Some(&r.old));
    assert!(ok, "{log}");
    assert!(
        log.contains("updated comment 101 on pull request #7"),
        "{log}"
    );
    assert_eq!(comments.lock().unwrap().len(), 2);
    let methods: Vec<String> = seen.lock().unwrap().iter().map(|s| s.0.clone()).collect();
    assert_eq!(methods, ["GET", "POST", "GET", "PATCH"]);

    // The first run, with no baseline yet: this image's report.
    let (ok, log) = comment(&r, &api, &ev, None);
    assert!(ok, "{log}");
    assert!(comments.lock().unwrap()[1]
        .1
        .contains("## layersift: `oci:"));

    // A fork: no API call at all, the summary still has the diff.
    let before = seen.lock().unwrap().len();
    let fork = event(r.dir.path(), "someone/r");
    let (ok, log) = comment(&r, &api, &fork, Some(&r.old));
    assert!(ok, "{log}");
    assert!(
        log.contains("pull request from the fork 'someone/r'"),
        "{log}"
    );
    assert_eq!(seen.lock().unwrap().len(), before);
    let summary = std::fs::read_to_string(r.dir.path().join("summary.md")).unwrap();
    assert_eq!(
        summary.matches("### layersift: content +20.0 kB").count(),
        3
    );
}

#[test]
fn the_gate_exits_with_checks_code_and_sets_the_outcome() {
    if !have("bash") {
        return;
    }
    let r = repo();
    let cfg = r.dir.path().join("rules.toml");
    std::fs::write(
        &cfg,
        "[check]\nmax_layers = 1\n[check.growth]\nmax_content = \"10%\"\n",
    )
    .unwrap();
    let output = r.dir.path().join("output");
    let run = || {
        bash("gate.sh")
            .current_dir(r.dir.path())
            .env("PATH", path_with_binary())
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", r.dir.path().join("summary.md"))
            .env("LAYERSIFT_REPORT", &r.new)
            .env("LAYERSIFT_BASELINE", &r.old)
            .env("LAYERSIFT_CONFIG", &cfg)
            .output()
            .unwrap()
    };
    let out = run();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::error title=layersift check%3A max-layers::2 > 1"),
        "{stdout}"
    );
    assert!(stdout.contains("FAIL  max-content-growth"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        "outcome=failed\n"
    );
    std::fs::write(&cfg, "[check]\nmax_layers = 2\n").unwrap();
    std::fs::remove_file(&output).unwrap();
    let out = run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        "outcome=passed\n"
    );
}

/// A stand-in for the `gh` CLI (GitHub is not reachable here): it logs its arguments and
/// answers `run list` with `$GH_RUN_ID` (nothing when unset), and `run download` by copying
/// `$GH_ARTIFACT` into `--dir` (failing when unset), as `gh` does.
fn fake_gh(dir: &Path) -> PathBuf {
    let bin = dir.join("gh-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let gh = bin.join("gh");
    std::fs::write(
        &gh,
        r#"#!/usr/bin/env bash
echo "$*" >> "$GH_LOG"
case "$1 $2" in
  "run list") [ -n "${GH_RUN_ID:-}" ] && echo "$GH_RUN_ID"; exit 0 ;;
  "run download")
    [ -n "${GH_ARTIFACT:-}" ] || { echo "no artifact" >&2; exit 1; }
    while [ $# -gt 0 ]; do [ "$1" = --dir ] && d=$2; shift; done
    mkdir -p "$d" && cp "$GH_ARTIFACT" "$d/report.json" ;;
esac
"#,
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// `baseline.sh` as a pull-request run calls it: the last successful run of this workflow
/// on the base branch, its artifact downloaded, the `report` output set; a notice and an
/// empty output when there is no run yet or it kept no artifact.
#[test]
fn baseline_finds_the_base_branchs_last_report() {
    if !have("bash") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = fake_gh(dir.path());
    let saved = dir.path().join("saved.json");
    std::fs::write(&saved, "{\"schema_version\": 3}").unwrap();
    let run = |run_id: Option<&str>, artifact: Option<&Path>| {
        let out_file = dir.path().join("github_output");
        let _ = std::fs::remove_file(&out_file);
        let log = dir.path().join("gh.log");
        let _ = std::fs::remove_file(&log);
        let mut cmd = bash("baseline.sh");
        cmd.env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("LAYERSIFT_OUT", dir.path().join("out"))
        .env("GITHUB_BASE_REF", "main")
        .env(
            "GITHUB_WORKFLOW_REF",
            "o/r/.github/workflows/image.yml@refs/pull/7/merge",
        )
        .env("GITHUB_REPOSITORY", "o/r")
        .env("LAYERSIFT_ARTIFACT", "layersift-report")
        .env("GITHUB_OUTPUT", &out_file)
        .env("GH_LOG", &log)
        .env_remove("GH_RUN_ID")
        .env_remove("GH_ARTIFACT");
        if let Some(id) = run_id {
            cmd.env("GH_RUN_ID", id);
        }
        if let Some(a) = artifact {
            cmd.env("GH_ARTIFACT", a);
        }
        let o = succeeded(cmd.output().unwrap());
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            std::fs::read_to_string(&out_file).unwrap_or_default(),
            std::fs::read_to_string(&log).unwrap_or_default(),
        )
    };

    // No successful run on main yet.
    let (stdout, output, log) = run(None, None);
    assert!(
        stdout.contains("::notice title=layersift::no successful run on 'main' yet"),
        "{stdout}"
    );
    assert_eq!(output, "report=\n");
    assert!(
        log.contains("run list --repo o/r --workflow image.yml --branch main --status success"),
        "{log}"
    );

    // Run 42 kept the report: it is downloaded and named.
    let (_, output, log) = run(Some("42"), Some(&saved));
    let report = dir.path().join("out/baseline/report.json");
    assert_eq!(output, format!("report={}\n", report.display()));
    assert_eq!(
        std::fs::read(&report).unwrap(),
        std::fs::read(&saved).unwrap()
    );
    assert!(
        log.contains("run download 42 --repo o/r --name layersift-report --dir"),
        "{log}"
    );

    // Run 43 kept no such artifact.
    let (stdout, output, _) = run(Some("43"), None);
    assert!(
        stdout.contains("run 43 on 'main' kept no 'layersift-report' artifact"),
        "{stdout}"
    );
    assert_eq!(output, "report=\n");
}

/// `install.sh`: `none` uses the layersift already on `PATH`; an unknown way is an error in
/// the form the runner shows.
#[test]
fn install_none_uses_the_binary_on_path_and_rejects_unknown_ways() {
    if !have("bash") {
        return;
    }
    let run = |how: &str| {
        bash("install.sh")
            .env("PATH", path_with_binary())
            .env("LAYERSIFT_INSTALL", how)
            .output()
            .unwrap()
    };
    let o = run("none");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("layersift "));
    let o = run("brew");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(
            "::error title=layersift::install must be source, crates or none, not 'brew'"
        ),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}
