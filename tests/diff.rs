//! `layersift diff`: exact deltas between two fixture images, an image against its saved
//! report, markdown for PR comments, and the corpus pairs that share layers.

use std::path::Path;

use layersift::json::Report;
use layersift::{Diff, LayerStatus};
use layersift_fixture::{BuiltImage, Format, ImageBuilder};

use crate::util::{bin, corpus, write};

fn base_layer(l: layersift_fixture::LayerBuilder) -> layersift_fixture::LayerBuilder {
    l.dir("bin")
        .file("bin/sh", vec![1u8; 1_000])
        .dir("lib")
        .file("lib/x", vec![2u8; 500])
        .file("lib/y", vec![3u8; 200])
}

/// OLD: base layer, then `var/cache/c` (300 B).
fn old_image() -> BuiltImage {
    ImageBuilder::new()
        .layer("ADD rootfs.tar /", base_layer)
        .layer("RUN apt-get update", |l| {
            l.dir("var/cache").file("var/cache/c", vec![4u8; 300])
        })
        .build()
        .unwrap()
}

/// NEW: the same base layer (shared), the same step with other content (changed: `c` grows
/// to 800 B), and a new step that adds `/app/main` (2000 B), grows `lib/x` to 600 B and
/// deletes `lib/y`.
fn new_image() -> BuiltImage {
    ImageBuilder::new()
        .layer("ADD rootfs.tar /", base_layer)
        .layer("RUN apt-get update", |l| {
            l.dir("var/cache").file("var/cache/c", vec![5u8; 800])
        })
        .layer("COPY app /app", |l| {
            l.dir("app")
                .file("app/main", vec![6u8; 2_000])
                .file("lib/x", vec![7u8; 600])
                .whiteout("lib/y")
        })
        .build()
        .unwrap()
}

struct Pair {
    _dir: tempfile::TempDir,
    old: String,
    new: String,
    old_report: String,
}

fn pair() -> Pair {
    let dir = tempfile::tempdir().unwrap();
    let (o, n) = (dir.path().join("old"), dir.path().join("new"));
    std::fs::create_dir_all(&o).unwrap();
    std::fs::create_dir_all(&n).unwrap();
    let old = write(&old_image(), Format::OciLayout, &o);
    let new = write(&new_image(), Format::OciLayout, &n);
    let old_report = dir.path().join("old.json");
    bin()
        .args(["analyze", &old, "-f", "json", "-o"])
        .arg(&old_report)
        .assert()
        .success();
    Pair {
        old,
        new,
        old_report: old_report.to_str().unwrap().to_string(),
        _dir: dir,
    }
}

fn run_diff(old: &str, new: &str, format: &str) -> String {
    let out = bin()
        .args(["diff", old, new, "-f", format])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

fn diff_json(old: &str, new: &str) -> Diff {
    serde_json::from_str(&run_diff(old, new, "json")).unwrap()
}

#[test]
fn exact_deltas_between_fixtures() {
    let p = pair();
    let d = diff_json(&p.old, &p.new);
    // Content: old 1000+500+200+300 = 2000; new 1700 + 800 + 2600 = 5100.
    assert_eq!(d.totals.content_bytes.old, 2_000);
    assert_eq!(d.totals.content_bytes.new, 5_100);
    assert_eq!(d.totals.content_bytes.delta, 3_100);
    // Visible: old 2000; new 1000 (sh) + 800 (c) + 2000 (main) + 600 (x) = 4400.
    assert_eq!(d.totals.visible_bytes.new, 4_400);
    // Hidden: lib/x (500, replaced) and lib/y (200, removed).
    assert_eq!(d.totals.hidden_bytes.delta, 700);
    let old_img = old_image();
    let new_img = new_image();
    let blobs = |i: &BuiltImage| i.layers.iter().map(|l| l.size).sum::<u64>();
    assert_eq!(d.totals.compressed_bytes.old, blobs(&old_img));
    assert_eq!(d.totals.compressed_bytes.new, blobs(&new_img));

    let layers: Vec<(LayerStatus, Option<usize>, Option<usize>, &str)> = d
        .layers
        .iter()
        .map(|l| (l.status, l.old_index, l.new_index, l.instruction.as_str()))
        .collect();
    assert_eq!(
        layers,
        vec![
            (LayerStatus::Shared, Some(0), Some(0), "ADD rootfs.tar /"),
            (LayerStatus::Changed, Some(1), Some(1), "RUN apt-get update"),
            (LayerStatus::Added, None, Some(2), "COPY app /app"),
        ]
    );
    assert_eq!(d.layers[0].diff_id, old_img.layers[0].diff_id);
    assert_eq!(d.layers[1].content_bytes.delta, 500);
    assert_eq!(d.layers[2].content_bytes.new, 2_600);

    let f = &d.files;
    assert_eq!((f.added_count, f.added_bytes), (1, 2_000));
    assert_eq!(f.added[0].path, "/app/main");
    assert_eq!(f.added[0].layer, 2);
    assert_eq!((f.removed_count, f.removed_bytes), (1, 200));
    assert_eq!(f.removed[0].path, "/lib/y");
    assert_eq!((f.grown_count, f.grown_bytes), (2, 600));
    let grown: Vec<(&str, u64, u64)> = f
        .grown
        .iter()
        .map(|c| (c.path.as_str(), c.bytes.old, c.bytes.new))
        .collect();
    assert_eq!(
        grown,
        vec![("/var/cache/c", 300, 800), ("/lib/x", 500, 600)]
    );
    assert_eq!(f.shrunk_count, 0);
    assert_eq!(f.changed_count, 0);

    // /app +2000, /var/cache +500 (/var is all /var/cache), /lib +100 - 200 = -100.
    let dirs: Vec<(&str, i64)> = d
        .directories
        .iter()
        .map(|c| (c.path.as_str(), c.bytes.delta))
        .collect();
    assert_eq!(
        dirs,
        vec![("/app", 2_000), ("/var/cache", 500), ("/lib", -100)]
    );

    // The hidden-bytes findings of the new layer are new; nothing is gone.
    let rules: Vec<&str> = d.new_findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, vec!["hidden.overwritten-changed", "hidden.removed"]);
    assert_eq!(d.new_findings[0].bytes, 500);
    assert_eq!(d.new_findings[0].path.as_deref(), Some("/lib/x"));
    assert!(d.gone_findings.is_empty());
}

#[test]
fn image_vs_report_equals_image_vs_image() {
    let p = pair();
    for format in ["text", "json", "markdown"] {
        assert_eq!(
            run_diff(&p.old_report, &p.new, format),
            run_diff(&p.old, &p.new, format),
            "{format}"
        );
    }
    // And both sides from reports.
    let new_report = Path::new(&p.old_report).with_file_name("new.json");
    bin()
        .args(["analyze", &p.new, "-f", "json", "-o"])
        .arg(&new_report)
        .assert()
        .success();
    assert_eq!(
        run_diff(&p.old_report, new_report.to_str().unwrap(), "json"),
        run_diff(&p.old, &p.new, "json")
    );
}

#[test]
fn markdown_for_a_pr_comment() {
    let p = pair();
    let md = run_diff(&p.old, &p.new, "markdown");
    let dir = Path::new(&p.old_report)
        .parent()
        .unwrap()
        .display()
        .to_string();
    let pattern = regex::escape(&dir);
    insta::with_settings!({filters => vec![(pattern.as_str(), "[TMP]")]}, {
        insta::assert_snapshot!("diff_markdown", md);
    });
    let text = run_diff(&p.old, &p.new, "text");
    insta::with_settings!({filters => vec![(pattern.as_str(), "[TMP]")]}, {
        insta::assert_snapshot!("diff_text", text);
    });
}

#[test]
fn removed_layers_and_shrinking() {
    let dir = tempfile::tempdir().unwrap();
    let (o, n) = (dir.path().join("old"), dir.path().join("new"));
    std::fs::create_dir_all(&o).unwrap();
    std::fs::create_dir_all(&n).unwrap();
    // NEW drops OLD's cache step: one layer removed, its file gone.
    let old = write(&new_image(), Format::OciLayout, &o);
    let new = write(&old_image(), Format::OciLayout, &n);
    let d = diff_json(&old, &new);
    let statuses: Vec<LayerStatus> = d.layers.iter().map(|l| l.status).collect();
    assert_eq!(
        statuses,
        vec![
            LayerStatus::Shared,
            LayerStatus::Changed,
            LayerStatus::Removed
        ]
    );
    assert_eq!(d.layers[2].old_index, Some(2));
    assert_eq!(d.layers[2].content_bytes.delta, -2_600);
    assert_eq!(d.totals.content_bytes.delta, -3_100);
    assert_eq!(d.files.removed[0].path, "/app/main");
    assert_eq!(d.files.shrunk_count, 2);
    assert_eq!(d.files.added[0].path, "/lib/y");
    assert_eq!(d.gone_findings.len(), 2);
}

#[test]
fn bad_report_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{\"hello\": 1}").unwrap();
    let out = bin()
        .args(["diff", junk.to_str().unwrap(), junk.to_str().unwrap()])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("is not a layersift JSON report"), "{err}");
    assert!(err.contains("hint: "), "{err}");

    let future = dir.path().join("future.json");
    std::fs::write(&future, "{\"schema_version\": 99}").unwrap();
    let out = bin()
        .args(["diff", future.to_str().unwrap(), future.to_str().unwrap()])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("schema_version 99"), "{err}");
}

fn corpus_report(c: &Path, name: &str) -> Report {
    let out = bin()
        .args([
            "analyze",
            &format!("oci:{}:{name}", c.join("oci").display()),
            "-f",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_str(std::str::from_utf8(&out).unwrap()).unwrap()
}

#[test]
fn corpus_base_to_apt_waste() {
    let Some(c) = corpus() else { return };
    let base = corpus_report(&c, "base");
    let apt = corpus_report(&c, "apt-waste");
    let d = layersift::compare(&base, &apt, 20);
    let statuses: Vec<LayerStatus> = d.layers.iter().map(|l| l.status).collect();
    assert_eq!(
        statuses,
        vec![
            LayerStatus::Shared,
            LayerStatus::Added,
            LayerStatus::Added,
            LayerStatus::Added
        ]
    );
    assert_eq!(d.layers[1].instruction, "RUN apt-get update");
    assert_eq!(
        d.totals.content_bytes.delta,
        apt.summary.content_bytes as i64 - base.summary.content_bytes as i64
    );
    // Visible files account for the visible delta exactly.
    let f = &d.files;
    let net = f.added_bytes as i64 + f.grown_bytes as i64
        - f.removed_bytes as i64
        - f.shrunk_bytes as i64;
    assert_eq!(net, d.totals.visible_bytes.delta);
    // apt's binary caches stay visible; the lists were removed in layer 3.
    assert!(f
        .added
        .iter()
        .any(|c| c.path == "/var/cache/apt/pkgcache.bin"));
    assert!(d.directories.iter().any(|c| c.path == "/var/cache/apt"));
    assert!(!d
        .directories
        .iter()
        .any(|c| c.path.starts_with("/var/lib/apt/lists")));
    assert!(d
        .new_findings
        .iter()
        .any(|f| f.rule == "hidden.removed" && f.instruction == "RUN apt-get update"));
    assert!(d.gone_findings.is_empty());
}

/// Run settings that changed are listed in every format: text (escaped), markdown (a
/// table), JSON (`config`) and HTML; a secret in the new Env stays redacted.
#[test]
fn config_changes_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let token = format!("ghp_{}", "0123456789abcdefghijklmnopqrstuvwxyzAB");
    let old = ImageBuilder::new()
        .layer("ADD rootfs.tar /", base_layer)
        .cmd(&["bash"])
        .env("MODE=dev");
    let new = ImageBuilder::new()
        .layer("ADD rootfs.tar /", base_layer)
        .cmd(&["sh", "-c", "echo \u{1b}]0;owned\u{7} hi"])
        .env(&format!("APP_TOKEN={token}"))
        .config_field("User", serde_json::json!("app"));
    let old = write(
        &old.build().unwrap(),
        Format::OciLayout,
        &dir.path().join("o"),
    );
    let new = write(
        &new.build().unwrap(),
        Format::OciLayout,
        &dir.path().join("n"),
    );
    let d = diff_json(&old, &new);
    let fields: Vec<&str> = d.config.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["Cmd", "User", "Env"]);
    assert_eq!(d.config[0].old, "bash");
    assert_eq!(d.config[1].new, "app");
    assert_eq!(d.config[2].old, "MODE=dev");
    let text = run_diff(&old, &new, "text");
    assert!(text.contains("Config (old → new)"), "{text}");
    assert!(text.contains("  Cmd         bash → sh -c"), "{text}");
    assert!(text.contains("  User        (none) → app"), "{text}");
    assert!(!text.contains('\u{1b}'), "raw escape in text: {text:?}");
    let md = run_diff(&old, &new, "markdown");
    assert!(md.contains("**Config changes**"), "{md}");
    assert!(md.contains("| User | (none) | `app` |"), "{md}");
    let html = run_diff(&old, &new, "html");
    assert!(html.contains("<h2>Config changes <span class=\"count\">3</span></h2>"));
    for out in [&text, &md, &html, &run_diff(&old, &new, "json")] {
        assert!(!out.contains(&token), "secret in {out}");
        assert!(
            out.contains("APP_TOKEN=") && out.contains("[REDACTED]"),
            "{out}"
        );
    }
}

#[test]
fn corpus_apt_waste_to_pip_waste_share_layers() {
    let Some(c) = corpus() else { return };
    let apt = corpus_report(&c, "apt-waste");
    let pip = corpus_report(&c, "pip-waste");
    let d = layersift::compare(&apt, &pip, 20);
    let shared: Vec<&str> = d
        .layers
        .iter()
        .filter(|l| l.status == LayerStatus::Shared)
        .map(|l| l.instruction.as_str())
        .collect();
    assert_eq!(shared.len(), 2, "base and `apt-get update` are shared");
    assert_eq!(shared[1], "RUN apt-get update");
    let count = |s| d.layers.iter().filter(|l| l.status == s).count();
    assert_eq!(count(LayerStatus::Removed), 2);
    assert_eq!(count(LayerStatus::Added), 6);
    // pip-waste never removes the apt lists: they come back as the largest growth.
    assert_eq!(d.directories[0].path, "/var/lib/apt/lists");
    assert_eq!(d.directories[0].bytes.old, 0);
    // The lists' removal by layer 3 of apt-waste is gone; the chmod -R rewrite is new.
    assert!(d
        .gone_findings
        .iter()
        .any(|f| f.rule == "hidden.removed" && f.bytes > 80_000_000));
    assert!(d
        .new_findings
        .iter()
        .any(|f| f.rule == "hidden.overwritten-same"));

    // The same diff through the binary, old side from a saved report.
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("apt.json");
    std::fs::write(&saved, layersift::json::to_json(&apt).unwrap()).unwrap();
    let pip_ref = format!("oci:{}:pip-waste", c.join("oci").display());
    let apt_ref = format!("oci:{}:apt-waste", c.join("oci").display());
    assert_eq!(
        run_diff(saved.to_str().unwrap(), &pip_ref, "json"),
        run_diff(&apt_ref, &pip_ref, "json")
    );
}

#[test]
fn shared_layers_decode_once_with_the_same_result() {
    let p = pair();
    let both = layersift::analyze_references(
        &[&p.old, &p.new],
        &layersift::OpenOptions::default(),
        &layersift::NoProgress,
    )
    .unwrap();
    assert_eq!(both.len(), 2);
    for (a, r) in both.iter().zip([&p.old, &p.new]) {
        let alone = crate::util::analyze(r).unwrap();
        assert_eq!(Report::from_analysis(a), Report::from_analysis(&alone));
    }
}

#[test]
fn a_corrupt_layer_names_its_image() {
    let dir = tempfile::tempdir().unwrap();
    let (o, n) = (dir.path().join("old"), dir.path().join("new"));
    std::fs::create_dir_all(&o).unwrap();
    std::fs::create_dir_all(&n).unwrap();
    let old = write(&old_image(), Format::OciLayout, &o);
    let mut broken = new_image();
    broken.layers[2].blob[20] ^= 0xff;
    let new = write(&broken, Format::OciLayout, &n);
    let out = bin()
        .args(["diff", &old, &new])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with(&format!("error: cannot analyse `{new}`\n")),
        "{err}"
    );
    assert!(err.contains("cannot decode layer 2"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn report_files_add_up_to_visible_bytes() {
    // `a` is deleted but its content stays visible through the hard link `b`.
    let img = ImageBuilder::new()
        .layer("COPY . /", |l| {
            l.file("a", vec![1u8; 100])
                .hardlink("b", "a")
                .file("c", vec![2u8; 50])
                .file("empty", Vec::new())
        })
        .layer("RUN rm /a", |l| l.whiteout("a"))
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = write(&img, Format::OciLayout, dir.path());
    let rep = Report::from_analysis(&crate::util::analyze(&r).unwrap());
    let rows: Vec<(&str, u64, usize)> = rep
        .files
        .iter()
        .map(|f| (f.path(), f.size(), f.layer()))
        .collect();
    assert_eq!(rows, vec![("/b", 100, 0), ("/c", 50, 0), ("/empty", 0, 0)]);
    assert_eq!(rep.summary.visible_bytes, 150);

    let Some(c) = corpus() else { return };
    for name in ["edge", "pip-waste"] {
        let rep = corpus_report(&c, name);
        let sum: u64 = rep.files.iter().map(|f| f.size()).sum();
        assert_eq!(sum, rep.summary.visible_bytes, "{name}");
        assert!(rep.files.windows(2).all(|w| w[0].path() < w[1].path()));
    }
}

#[test]
fn an_edited_step_is_a_changed_layer() {
    let dir = tempfile::tempdir().unwrap();
    let (o, n) = (dir.path().join("old"), dir.path().join("new"));
    std::fs::create_dir_all(&o).unwrap();
    std::fs::create_dir_all(&n).unwrap();
    let old = ImageBuilder::new()
        .layer("ADD rootfs.tar /", base_layer)
        .layer("RUN apt-get install -y curl", |l| {
            l.dir("usr/bin").file("usr/bin/curl", vec![1u8; 300])
        })
        .build()
        .unwrap();
    let new = ImageBuilder::new()
        .layer("ADD rootfs.tar /", base_layer)
        .layer("RUN apt-get install -y curl wget", |l| {
            l.dir("usr/bin")
                .file("usr/bin/curl", vec![3u8; 300])
                .file("usr/bin/wget", vec![2u8; 400])
        })
        .build()
        .unwrap();
    let d = diff_json(
        &write(&old, Format::OciLayout, &o),
        &write(&new, Format::OciLayout, &n),
    );
    assert_eq!(d.layers.len(), 2);
    let l = &d.layers[1];
    assert_eq!(l.status, LayerStatus::Changed);
    assert_eq!(l.instruction, "RUN apt-get install -y curl wget");
    assert_eq!(
        l.old_instruction.as_deref(),
        Some("RUN apt-get install -y curl")
    );
    assert_eq!(l.content_bytes.delta, 400);
    assert_eq!(d.files.added[0].path, "/usr/bin/wget");
    // curl was rebuilt at the same size: changed, not grown.
    assert_eq!((d.files.changed_count, d.files.changed_bytes), (1, 300));
    assert_eq!(d.files.changed[0].path, "/usr/bin/curl");
    assert_eq!(d.files.grown_count, 0);
}
