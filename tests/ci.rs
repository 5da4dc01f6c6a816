//! CI-native checks: base and own layers (`--base`), path policies (`forbid`, budgets,
//! `max_layers`, `max_layer_size`, `max_files`), `scope = "own"`, the formats CI systems
//! read (JUnit parsed by an independent XML parser, SARIF validated against the official
//! SARIF 2.1.0 schema, GitLab Code Quality, GitHub workflow commands and job summary),
//! markdown that fits a PR comment, completions and the man page.

use std::path::Path;

use layersift::json::Report;
use layersift_fixture::{BuiltImage, Format, ImageBuilder, LayerBuilder};

use crate::util::{bin, corpus, write};

pub(crate) fn rootfs(l: LayerBuilder) -> LayerBuilder {
    l.dir("bin")
        .file("bin/sh", vec![b'b'; 1000])
        .dir("etc")
        .file("etc/os-release", vec![b'o'; 100])
}

/// The base: one layer of 1,100 B.
pub(crate) fn base_image() -> BuiltImage {
    ImageBuilder::new()
        .layer("ADD rootfs.tar /", rootfs)
        .build()
        .unwrap()
}

/// The base's layer, then three own layers: `RUN make` (5,050 B, with a `.git` directory),
/// `RUN rm -rf /app/.git` and `COPY node_modules` (5,000 B in two files).
pub(crate) fn app_image() -> BuiltImage {
    ImageBuilder::new()
        .layer("ADD rootfs.tar /", rootfs)
        .layer("RUN make", |l| {
            l.dir("app")
                .file("app/bin", vec![b'a'; 5000])
                .dir("app/.git")
                .file("app/.git/config", vec![b'g'; 50])
        })
        .layer("RUN rm -rf /app/.git", |l| l.whiteout("app/.git"))
        .layer("COPY node_modules /app/node_modules", |l| {
            l.dir("app/node_modules")
                .file("app/node_modules/a.js", vec![b'1'; 3000])
                .file("app/node_modules/b.js", vec![b'2'; 2000])
        })
        .build()
        .unwrap()
}

pub(crate) struct Setup {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) app: String,
    pub(crate) base: String,
}

pub(crate) fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("a")).unwrap();
    std::fs::create_dir(dir.path().join("b")).unwrap();
    let app = write(&app_image(), Format::OciLayout, &dir.path().join("a"));
    let base = write(&base_image(), Format::OciLayout, &dir.path().join("b"));
    Setup { dir, app, base }
}

/// Runs the binary in `dir` and returns (exit code, stdout, stderr).
pub(crate) fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = bin().current_dir(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn check_with(s: &Setup, toml: &str, extra: &[&str]) -> (i32, String, String) {
    std::fs::write(s.dir.path().join("layersift.toml"), toml).unwrap();
    let mut args = vec!["check", s.app.as_str()];
    args.extend_from_slice(extra);
    run(s.dir.path(), &args)
}

#[test]
fn base_splits_the_totals_in_every_report() {
    let s = setup();
    let (code, out, err) = run(
        s.dir.path(),
        &["analyze", &s.app, "--base", &s.base, "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let r: Report = serde_json::from_str(&out).unwrap();
    let split = r.base.expect("a base split");
    assert_eq!(split.layer_count, 1);
    assert_eq!(split.base.content_bytes, 1100);
    assert_eq!(split.own.layer_count, 3);
    assert_eq!(split.own.content_bytes, 10_050);
    assert_eq!(split.own.hidden_bytes, 50);
    assert_eq!(split.own.visible_bytes, 10_000);

    let (code, out, _) = run(s.dir.path(), &["analyze", &s.app, "--base", &s.base]);
    assert_eq!(code, 0);
    assert!(out.contains("\nBase        layer 0 (oci:"), "{out}");
    assert!(
        out.contains("\nOwn         layers 1-3: 10.1 kB content, "),
        "{out}"
    );
    let (_, md, _) = run(
        s.dir.path(),
        &["analyze", &s.app, "--base", &s.base, "-f", "markdown"],
    );
    assert!(
        md.contains("| Own layers | **layers 1-3: 10.1 kB content"),
        "{md}"
    );

    // A saved report stands in for the base image.
    let (_, base_json, _) = run(s.dir.path(), &["analyze", &s.base, "-f", "json"]);
    let saved = s.dir.path().join("base.json");
    std::fs::write(&saved, base_json).unwrap();
    let (code, out, err) = run(
        s.dir.path(),
        &[
            "analyze",
            &s.app,
            "--base",
            saved.to_str().unwrap(),
            "-f",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let r: Report = serde_json::from_str(&out).unwrap();
    assert_eq!(r.base.unwrap().layer_count, 1);
}

#[test]
fn a_base_that_is_not_a_prefix_names_the_first_layer_that_differs() {
    let s = setup();
    let other = ImageBuilder::new()
        .layer("ADD rootfs.tar /", |l| l.file("bin/sh", vec![b'x'; 10]))
        .build()
        .unwrap();
    std::fs::create_dir(s.dir.path().join("c")).unwrap();
    let other = write(&other, Format::OciLayout, &s.dir.path().join("c"));
    let (code, out, err) = run(s.dir.path(), &["analyze", &s.app, "--base", &other]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.starts_with(&format!(
            "error: base `{other}` is not a prefix of the image: layer 0 differs"
        )),
        "{err}"
    );
    assert!(err.contains("\nhint: `--base` names the image"), "{err}");

    // The image as its own base's base: the base is longer than the image.
    let (code, _, err) = run(s.dir.path(), &["check", &s.base, "--base", &s.app]);
    assert_eq!(code, 2);
    assert!(
        err.contains("has 4 layers but the image only 1: layer 1"),
        "{err}"
    );
}

#[test]
fn scope_own_counts_only_the_layers_above_the_base() {
    let s = setup();
    let toml = "[check]\nscope = \"own\"\nmax_size = 10050\nmax_layers = 3\n";
    let (code, out, err) = check_with(&s, toml, &["--base", &s.base]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out,
        "PASS  max-size    10.1 kB (10050 B) <= 10.1 kB (10050 B) [own layers 1-3]\n\
         PASS  max-layers  3 <= 3 [own layers 1-3]\n\
         PASS  no-secrets  0 secrets found\n"
    );
    // Without the scope every layer counts.
    let (code, out, _) = check_with(&s, "[check]\nmax_size = 10050\n", &["--base", &s.base]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("FAIL  max-size    11.2 kB (11150 B) > 10.1 kB (10050 B)\n"),
        "{out}"
    );
    // `scope = "own"` needs a base.
    let (code, _, err) = check_with(&s, toml, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("the image has no known base"), "{err}");
    assert!(err.contains("hint: "), "{err}");
}

#[test]
fn forbid_matches_hidden_files_and_names_their_layer() {
    let s = setup();
    let (code, out, _) = check_with(
        &s,
        "[check]\nforbid = [\"**/*.pem\", \"**/.git/**\"]\n",
        &[],
    );
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out.lines().next().unwrap(),
        "FAIL  forbid      1 path matches: `/app/.git/config` (layer 1, hidden by a later layer; `**/.git/**`)"
    );
    let (code, out, _) = check_with(&s, "[check]\nforbid = [\"**/*.pem\"]\n", &[]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("PASS  forbid      no path matches `**/*.pem`\n"),
        "{out}"
    );
    // A saved report lists the hidden files too; one from an older version does not, and
    // the rule says so.
    let (_, json, _) = run(s.dir.path(), &["analyze", &s.app, "-f", "json"]);
    let saved = s.dir.path().join("app.json");
    std::fs::write(&saved, &json).unwrap();
    std::fs::write(
        s.dir.path().join("layersift.toml"),
        "[check]\nforbid = [\"**/.git/**\"]\n",
    )
    .unwrap();
    let (code, out, _) = run(s.dir.path(), &["check", saved.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("FAIL  forbid      1 path matches: `/app/.git/config` (layer 1, hidden"),
        "{out}"
    );
    let mut old: serde_json::Value = serde_json::from_str(&json).unwrap();
    old.as_object_mut().unwrap().remove("hidden_files");
    std::fs::write(&saved, old.to_string()).unwrap();
    let (code, out, _) = run(s.dir.path(), &["check", saved.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        out.contains("(visible files only: this saved report lists no hidden files)"),
        "{out}"
    );
    // A bad glob is a config error.
    let (code, _, err) = check_with(&s, "[check]\nforbid = [\"a/[b\"]\n", &[]);
    assert_eq!(code, 2);
    assert!(err.contains("`forbid` = `a/[b`"), "{err}");
}

#[test]
fn budgets_layers_layer_size_and_files() {
    let s = setup();
    let (code, out, _) = check_with(
        &s,
        "[check]\nmax_layers = 4\nmax_layer_size = 5050\nmax_files = 5\nallow_secrets = true\n\n[check.budgets]\n\"/app/node_modules/**\" = \"5kB\"\n",
        &[],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out,
        "PASS  max-layers      4 <= 4\n\
         PASS  max-layer-size  5.0 kB (5050 B) (layer 1: `RUN make`) <= 5.0 kB (5050 B)\n\
         PASS  max-files       5 visible files <= 5\n\
         PASS  budget          `/app/node_modules/**`: 5.0 kB (5000 B) in 2 files <= 5.0 kB (5000 B)\n"
    );
    let (code, out, _) = check_with(
        &s,
        "[check]\nmax_layers = 3\nmax_layer_size = 5049\nmax_files = 4\nallow_secrets = true\n\n[check.budgets]\n\"app/node_modules/**\" = 4999\n",
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "FAIL  max-layers      4 > 3\n\
         FAIL  max-layer-size  5.0 kB (5050 B) (layer 1: `RUN make`) > 5.0 kB (5049 B)\n\
         FAIL  max-files       5 visible files > 4\n\
         FAIL  budget          `app/node_modules/**`: 5.0 kB (5000 B) in 2 files > 5.0 kB (4999 B)\n"
    );
}

fn failing_check(s: &Setup, format: &str) -> (i32, String, String) {
    check_with(
        s,
        "[check]\nmax_layers = 3\nmin_efficiency = 0.5\nforbid = [\"**/.git/**\"]\n[check.growth]\nmax_content = \"1%\"\n",
        &["--format", format],
    )
}

#[test]
fn junit_has_one_case_per_rule_and_parses_as_xml() {
    let s = setup();
    let (code, out, err) = failing_check(&s, "junit");
    assert_eq!(code, 1, "{err}");
    let doc = roxmltree::Document::parse(&out).unwrap();
    let suites = doc.root_element();
    assert_eq!(suites.tag_name().name(), "testsuites");
    let suite = suites
        .children()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert!(suite
        .attribute("name")
        .unwrap()
        .starts_with("layersift check oci:"));
    assert_eq!(suite.attribute("tests"), Some("5"));
    assert_eq!(suite.attribute("failures"), Some("2"));
    // quick-junit counts skipped cases as `disabled`.
    assert_eq!(suite.attribute("disabled"), Some("1"));
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let names: Vec<&str> = cases.iter().map(|c| c.attribute("name").unwrap()).collect();
    assert_eq!(
        names,
        [
            "min-efficiency",
            "max-layers",
            "forbid",
            "no-secrets",
            "max-content-growth"
        ]
    );
    let failure = cases[1]
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(
        failure.attribute("message"),
        Some("4 > 3: value 4, threshold 3")
    );
    assert!(cases[0].children().all(|n| !n.has_tag_name("failure")));
    assert!(cases[4].children().any(|n| n.has_tag_name("skipped")));
}

/// The SARIF 2.1.0 schema as Microsoft publishes it (npm `@microsoft/jest-sarif`,
/// `lib/schemas/sarif-2.1.0-rtm.5.json`, the schema of the final 2.1.0 format). One of its
/// patterns, `language` (of `run` and of `toolComponent`), is not a valid regular expression outside JavaScript (a stray
/// `]`), which the validator's own check of the schema rejects; it is replaced here, in
/// memory, by the pattern it means (a two-letter language, optionally `-` a two-letter
/// region). The file in `tests/data/` is unmodified.
fn sarif_validator() -> jsonschema::Validator {
    let mut schema: serde_json::Value =
        serde_json::from_str(include_str!("data/sarif-2.1.0-rtm.5.json")).unwrap();
    let broken = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    let mut fixed = 0;
    for def in schema["definitions"].as_object_mut().unwrap().values_mut() {
        if let Some(p) = def.pointer_mut("/properties/language/pattern") {
            if p == broken {
                *p = serde_json::json!("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
                fixed += 1;
            }
        }
    }
    assert_eq!(fixed, 2, "run.language and toolComponent.language");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn assert_valid_sarif(v: &jsonschema::Validator, doc: &serde_json::Value) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let s = setup();
    let v = sarif_validator();
    // A secret, hidden bytes and a failed rule, from `check`.
    let (code, out, err) = failing_check(&s, "sarif");
    assert_eq!(code, 1, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_valid_sarif(&v, &doc);
    assert_eq!(doc["version"], "2.1.0");
    let run0 = &doc["runs"][0];
    let results = run0["results"].as_array().unwrap();
    let hidden = results
        .iter()
        .find(|r| r["ruleId"] == "hidden.removed")
        .unwrap();
    let loc = &hidden["locations"][0];
    assert_eq!(
        loc["physicalLocation"]["artifactLocation"]["uri"],
        "app/.git/config"
    );
    assert_eq!(
        loc["physicalLocation"]["artifactLocation"]["uriBaseId"],
        "IMAGE_ROOT"
    );
    assert_eq!(loc["logicalLocations"][0]["name"], s.app.as_str());
    assert_eq!(loc["logicalLocations"][1]["name"], "layer 1");
    let rule = &run0["tool"]["driver"]["rules"][hidden["ruleIndex"].as_u64().unwrap() as usize];
    assert_eq!(rule["id"], "hidden.removed");
    assert!(
        rule["help"]["text"]
            .as_str()
            .unwrap()
            .contains("Suggestion: "),
        "{rule}"
    );
    assert!(results
        .iter()
        .any(|r| r["ruleId"] == "check/forbid" && r["level"] == "error"));

    // `analyze` on an image with a secret.
    let dir = tempfile::tempdir().unwrap();
    let img = ImageBuilder::new()
        .layer("COPY id_rsa /root/.ssh/id_rsa", |l| {
            l.file(
                "root/.ssh/id_rsa",
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n",
            )
        })
        .layer("RUN rm /root/.ssh/id_rsa", |l| l.whiteout("root/.ssh/id_rsa"))
        .build()
        .unwrap();
    let r = write(&img, Format::OciLayout, dir.path());
    let (code, out, _) = run(dir.path(), &["analyze", &r, "--format", "sarif"]);
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_valid_sarif(&v, &doc);
    let secret = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"].as_str().unwrap().starts_with("secret."))
        .unwrap();
    assert_eq!(secret["level"], "error");
    assert_eq!(
        secret["locations"][0]["logicalLocations"][1]["name"],
        "layer 0"
    );
    assert!(
        !out.contains("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"),
        "never the secret"
    );
}

#[test]
fn gitlab_code_quality_issues() {
    let s = setup();
    let (code, out, _) = failing_check(&s, "gitlab");
    assert_eq!(code, 1);
    let issues: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert!(!issues.is_empty());
    for i in &issues {
        for key in ["description", "check_name", "fingerprint", "severity"] {
            assert!(i[key].is_string(), "{key} in {i}");
        }
        assert_eq!(i["location"]["path"], "Dockerfile");
        assert!(i["location"]["lines"]["begin"].is_u64());
        assert!(["info", "minor", "major", "critical", "blocker"]
            .contains(&i["severity"].as_str().unwrap()));
    }
    let fps: std::collections::HashSet<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fps.len(), issues.len(), "fingerprints are unique");
    let forbid = issues
        .iter()
        .find(|i| i["check_name"] == "check/forbid")
        .unwrap();
    assert_eq!(forbid["severity"], "blocker");
    let removed = issues
        .iter()
        .find(|i| i["check_name"] == "hidden.removed")
        .unwrap();
    assert!(
        removed["description"]
            .as_str()
            .unwrap()
            .contains("layer 1: RUN make"),
        "{removed}"
    );
}

#[test]
fn github_workflow_commands_and_job_summary() {
    let s = setup();
    let summary = s.dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    std::fs::write(
        s.dir.path().join("layersift.toml"),
        "[check]\nmax_layers = 3\nforbid = [\"**/.git/**\"]\n",
    )
    .unwrap();
    let out = bin()
        .current_dir(s.dir.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["check", &s.app, "--format", "github"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("FAIL  max-layers  4 > 3\n"), "{stdout}");
    assert!(
        stdout.contains("::error title=layersift check%3A max-layers::4 > 3\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("::error title=layersift check%3A forbid::1 path matches"),
        "{stdout}"
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("earlier step\n## layersift check: failed `oci:"),
        "{md}"
    );
    assert!(md.contains("| :x: | `max-layers` | 4 \\> 3 |"), "{md}");
    assert!(md.contains("| :white_check_mark: | `no-secrets` |"), "{md}");

    // `analyze`: annotations on stdout, the markdown report in the summary.
    let out = bin()
        .current_dir(s.dir.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["analyze", &s.app, "--format", "github"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.lines().all(|l| l.starts_with("::")), "{stdout}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("## layersift: `oci:"), "{md}");
}

#[test]
fn workflow_command_escaping() {
    use layersift::{github_escape_data as escape_data, github_escape_property as escape_property};
    assert_eq!(escape_data("50% of a\nb\r"), "50%25 of a%0Ab%0D");
    assert_eq!(escape_property("a: b, c"), "a%3A b%2C c");
}

#[test]
fn many_duplicates_suggest_one_bounded_hardlink_command() {
    let dir = tempfile::tempdir().unwrap();
    let img = ImageBuilder::new()
        .layer("RUN ./build.sh", |mut l| {
            l = l.dir("app");
            for g in 0..30u8 {
                let body = vec![g; 70_000];
                l = l.file(format!("app/assets/{g}.bin"), body.clone());
                for copy in 0..3 {
                    l = l.file(format!("app/static/c{copy}/{g}.bin"), body.clone());
                }
            }
            l
        })
        .build()
        .unwrap();
    let r = write(&img, Format::OciLayout, dir.path());
    let (code, out, _) = run(dir.path(), &["analyze", &r, "-f", "json"]);
    assert_eq!(code, 0);
    let report: Report = serde_json::from_str(&out).unwrap();
    let s = report
        .suggestions
        .iter()
        .find(|s| s.rule == "link-duplicates")
        .unwrap();
    assert_eq!(
        s.snippet,
        "RUN ./build.sh \\\n && hardlink /app/assets /app/static/c0 /app/static/c1 /app/static/c2 \
         # util-linux: links byte-identical files"
    );
    assert_eq!(s.saves_bytes, 90 * 70_000);
    // Every copy is still listed in the JSON findings.
    let copies: usize = report
        .findings
        .iter()
        .filter(|f| f.rule == "duplicate.identical-files")
        .map(|f| f.path_count)
        .sum();
    assert_eq!(copies, 90);
}

/// The synthetic image of `examples/synth.rs`, built by the example binary.
fn synth(out: &Path, files: usize) -> Option<String> {
    let exe = std::env::current_exe().unwrap();
    let examples = exe.parent()?.parent()?.join("examples");
    let mut synth = examples.join("synth");
    if !synth.is_file() {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "--example", "synth"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .ok()?;
        if !status.success() {
            eprintln!("skipping: cannot build examples/synth");
            return None;
        }
        synth = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/debug/examples/synth");
    }
    let path = out.join("synth.oci.tar");
    let ok = std::process::Command::new(&synth)
        .arg(&path)
        .arg(files.to_string())
        .args(["oci-archive", "16"])
        .status()
        .unwrap()
        .success();
    assert!(ok, "synth failed");
    Some(format!("oci-archive:{}", path.display()))
}

#[test]
fn markdown_of_the_225k_file_image_fits_a_comment_with_summary_and_top_findings() {
    let dir = tempfile::tempdir().unwrap();
    let Some(r) = synth(dir.path(), 225_000) else {
        return;
    };
    let (code, md, err) = run(dir.path(), &["analyze", &r, "-f", "markdown"]);
    assert_eq!(code, 0, "{err}");
    assert!(md.chars().count() <= 60_000, "{} chars", md.chars().count());
    assert!(
        md.starts_with("## layersift: `oci-archive:"),
        "summary first"
    );
    assert!(md.contains("| Efficiency | **"), "{md}");
    assert!(md.contains("| Potential savings | **"), "{md}");
    assert!(md.contains("### Findings"), "{md}");
    assert!(
        md.contains("`hidden.overwritten-same`") || md.contains("`hidden.removed`"),
        "{md}"
    );
    // A tighter budget still keeps the summary, and says what it left out.
    let (code, md, _) = run(
        dir.path(),
        &["analyze", &r, "-f", "markdown", "--max-chars", "1500"],
    );
    assert_eq!(code, 0);
    assert!(md.chars().count() <= 1500, "{} chars", md.chars().count());
    assert!(md.contains("| Efficiency | **"), "{md}");
    assert!(
        md.contains("The full list is in the JSON report") || md.contains("The full report: "),
        "{md}"
    );
}

#[test]
fn completions_and_man_page() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, needle) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef layersift"),
        ("fish", "complete -c layersift"),
    ] {
        let (code, out, err) = run(dir.path(), &["completions", shell]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(needle), "{shell}: {out}");
        assert!(out.contains("analyze"), "{shell}");
    }
    let (code, out, _) = run(dir.path(), &["man"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with(".ie \\n(.g .ds Aq \\(aq") || out.contains(".TH layersift"),
        "{out}"
    );
    assert!(out.contains("analyze"));
    let (code, _, err) = run(dir.path(), &["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(err.contains("tcsh"), "{err}");
}

#[test]
fn corpus_apt_waste_own_layers_are_the_three_apt_steps() {
    let Some(c) = corpus() else { return };
    let layout = c.join("oci");
    let app = format!("oci:{}:apt-waste", layout.display());
    let base = format!("oci:{}:base", layout.display());
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(
        dir.path(),
        &["analyze", &app, "--base", &base, "-f", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let r: Report = serde_json::from_str(&out).unwrap();
    let split = r.base.unwrap();
    assert_eq!(split.own.layer_count, 3);
    let own: u64 = r.layers[split.layer_count..]
        .iter()
        .map(|l| l.content_bytes)
        .sum();
    assert_eq!(split.own.content_bytes, own);
    assert!(
        r.layers[split.layer_count..]
            .iter()
            .all(|l| l.instruction.contains("apt-get")
                || l.instruction.contains("/var/lib/apt/lists"))
    );

    std::fs::write(
        dir.path().join("layersift.toml"),
        format!("[check]\nscope = \"own\"\nmax_layers = 3\nmax_size = {own}\n"),
    )
    .unwrap();
    let (code, out, err) = run(dir.path(), &["check", &app, "--base", &base]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("PASS  max-layers  3 <= 3 [own layers 1-3]"),
        "{out}"
    );
}

#[test]
fn corpus_forbid_finds_the_deleted_key_of_pip_waste_in_layer_4() {
    let Some(c) = corpus() else { return };
    let app = format!("oci:{}:pip-waste", c.join("oci").display());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("layersift.toml"),
        "[check]\nforbid = [\"**/id_rsa\"]\nallow_secrets = true\n",
    )
    .unwrap();
    let (code, out, err) = run(dir.path(), &["check", &app]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        out,
        "FAIL  forbid  1 path matches: `/root/.ssh/id_rsa` (layer 4, hidden by a later layer; `**/id_rsa`)\n"
    );
}
