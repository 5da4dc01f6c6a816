//! Best practices wherever findings are shown: the TUI's findings pane (TestBackend), the
//! HTML report (in a real headless Chromium), and `--format github` annotations; each with
//! its severity, its fix and, with `--dockerfile`, its `Dockerfile:LINE`.

use std::path::Path;
use std::sync::Arc;

use layersift::{Analysis, App, Dockerfile, Pane};
use layersift_fixture::Format;
use ratatui::crossterm::event::KeyCode;
use ratatui::layout::Rect;
use serde_json::json;

use crate::html::Browser;
use crate::practices::{careless_image, DOCKERFILE};
use crate::tui_util::{press, text as screen};
use crate::util::{analyze_dockerfile, bin, succeeded, write};

/// The careless image on disk (an OCI layout under `dir`) and its Dockerfile beside it.
fn careless_on_disk(dir: &Path) -> (String, std::path::PathBuf) {
    let reference = write(&careless_image(), Format::OciLayout, &dir.join("img"));
    let df = dir.join("Dockerfile");
    std::fs::write(&df, DOCKERFILE).unwrap();
    (reference, df)
}

fn analysed(reference: &str) -> Analysis {
    let df = Dockerfile::parse(Path::new("Dockerfile"), DOCKERFILE, &[]).unwrap();
    let mut a = analyze_dockerfile(reference, &df, 0);
    a.image.reference = "oci:careless".to_string();
    a
}

#[test]
fn tui_findings_pane_lists_the_practices_with_fix_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, _) = careless_on_disk(dir.path());
    let a = analysed(&reference);
    let practices = a.practices.len();
    assert_eq!(practices, 7);
    let before = a.suggestions.len() + a.findings.len();
    let mut app = App::new(Arc::new(a), Rect::new(0, 0, 160, 50));
    app.sync();
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Findings);
    let s = screen(&app);
    assert!(
        s.contains(&format!("Practices {practices}")),
        "the pane's title counts them: {s}"
    );
    // The practices follow the suggestions and findings; select the root-user one.
    let root = app
        .analysis
        .practices
        .iter()
        .position(|f| f.rule == "practice.root-user")
        .unwrap();
    for _ in 0..before + root {
        press(&mut app, KeyCode::Down);
    }
    assert_eq!(app.item, before + root);
    let s = screen(&app);
    // The list row: severity, line, title; the details: rule, fix, where, the line.
    assert!(
        s.contains("!   medium  Dockerfile:5 The image runs as root (`USER root`)"),
        "{s}"
    );
    assert!(s.contains("Rule        practice.root-user (medium)"), "{s}");
    assert!(s.contains("Fix         end with `USER 10001`"), "{s}");
    assert!(s.contains("Layer       image config"), "{s}");
    assert!(s.contains("Dockerfile  Dockerfile:5"), "{s}");
    insta::assert_snapshot!("practice_root_user_selected", s);

    // A practice a layer's files show points the tree at its file.
    let ww = app
        .analysis
        .practices
        .iter()
        .position(|f| f.rule == "practice.world-writable")
        .unwrap();
    while app.item < before + ww {
        press(&mut app, KeyCode::Down);
    }
    while app.item > before + ww {
        press(&mut app, KeyCode::Up);
    }
    assert_eq!(app.layer, 2);
    let s = screen(&app);
    assert!(s.contains("Dockerfile  Dockerfile:4"), "{s}");
    assert!(s.contains("Fix         drop write for others"), "{s}");
    assert!(s.contains("/srv/data"), "{s}");
}

#[test]
fn html_report_shows_the_practices_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, df) = careless_on_disk(dir.path());
    let html = dir.path().join("report.html");
    succeeded(
        bin()
            .args(["analyze", &reference, "--format", "html", "--dockerfile"])
            .arg(&df)
            .arg("-o")
            .arg(&html)
            .output()
            .unwrap(),
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<section id=\"practices\">"), "{page}");

    let Some(b) = Browser::start() else { return };
    b.open(&html);
    assert_eq!(b.console_errors(), Vec::<String>::new(), "console errors");
    let rows = "return [...document.querySelectorAll('#practices tr.practice')]
                .filter(r => !r.hidden)
                .map(r => [r.querySelector('.sev').textContent,
                           r.querySelector('.rule').textContent,
                           (r.querySelector('.detail') || {}).textContent || '',
                           r.lastElementChild.textContent]);";
    let all = b.eval(rows);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 7, "{all:?}");
    let row = |rule: &str| {
        all.iter()
            .find(|r| r[1].as_str().unwrap().starts_with(rule))
            .unwrap_or_else(|| panic!("no {rule} row in {all:?}"))
            .clone()
    };
    assert_eq!(
        row("practice.root-user"),
        json!([
            "medium",
            "practice.root-user · best practice · Dockerfile:5",
            "fix: end with `USER 10001` after making the user (`RUN useradd -u 10001 app`)",
            "config"
        ])
    );
    let ww = row("practice.world-writable");
    assert_eq!(ww[0], "medium");
    assert!(ww[1].as_str().unwrap().ends_with("Dockerfile:4"), "{ww}");
    assert!(ww[2].as_str().unwrap().starts_with("fix: "), "{ww}");
    assert_eq!(ww[3], "2");
    assert_eq!(row("practice.no-healthcheck")[0], "info");
    // The layer filter keeps the practices of that layer and those of the image config.
    b.click("[data-layer-select=\"1\"]");
    let shown = b.eval(rows);
    let mut rules: Vec<String> = shown
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r[1].as_str()
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        [
            "practice.add-instead-of-copy",
            "practice.no-healthcheck",
            "practice.pyc-without-dontwritebytecode",
            "practice.root-user",
            "practice.shell-form-cmd",
        ]
    );
}

#[test]
fn github_annotations_carry_the_practices_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, df) = careless_on_disk(dir.path());
    let out = bin()
        .args(["analyze", &reference, "--format", "github", "--dockerfile"])
        .arg(&df)
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let line = |rule: &str| {
        stdout
            .lines()
            .find(|l| l.contains(&format!("title=layersift%3A {rule} (")))
            .unwrap_or_else(|| panic!("no {rule} annotation in {stdout}"))
            .to_string()
    };
    assert_eq!(
        line("practice.root-user"),
        "::warning file=Dockerfile,line=5,title=layersift%3A practice.root-user (medium)::\
         The image runs as root (`USER root`) (image config); fix: end with `USER 10001` \
         after making the user (`RUN useradd -u 10001 app`) [Dockerfile:5]"
    );
    let ww = line("practice.world-writable");
    assert!(
        ww.starts_with("::warning file=Dockerfile,line=4,title=layersift%3A practice.world-writable (medium)::"),
        "{ww}"
    );
    assert!(ww.contains(", e.g. /srv/data; fix: drop write"), "{ww}");
    assert!(
        line("practice.no-healthcheck").starts_with("::notice file=Dockerfile,line=1,"),
        "{stdout}"
    );
    assert!(
        line("practice.shell-form-cmd").starts_with("::notice file=Dockerfile,line=6,"),
        "{stdout}"
    );
    // Without the Dockerfile: no file, the same severity and fix.
    let out = bin()
        .args(["analyze", &reference, "--format", "github"])
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains(
            "::warning title=layersift%3A practice.setuid (medium)::1 setuid/setgid file outside \
             the usual system set (layer 2: "
        ),
        "{stdout}"
    );
}

#[test]
fn sarif_and_gitlab_place_a_practice_at_its_dockerfile_line() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, df) = careless_on_disk(dir.path());
    let out = bin()
        .args(["analyze", &reference, "-f", "sarif", "--dockerfile"])
        .arg(&df)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let root = results
        .iter()
        .find(|r| r["ruleId"] == "practice.root-user")
        .unwrap();
    let loc = &root["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "Dockerfile");
    assert_eq!(loc["region"]["startLine"], 5);
    assert!(root["message"]["text"]
        .as_str()
        .unwrap()
        .ends_with("[Dockerfile:5]"));
    let out = bin()
        .args(["analyze", &reference, "-f", "gitlab", "--dockerfile"])
        .arg(&df)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ww = v
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["check_name"] == "practice.world-writable")
        .unwrap();
    assert_eq!(
        ww["location"],
        json!({"path": "Dockerfile", "lines": {"begin": 4}})
    );
}
