//! `--history` and `layersift trend`: records appended by analyze and check and read back,
//! the terminal table, and the SVG chart holding the series.

use layersift::json::Report;
use layersift::{read_trend, Record};
use layersift_fixture::{Format, ImageBuilder};

use crate::util::{bin, write};

fn image(extra: usize) -> layersift_fixture::BuiltImage {
    ImageBuilder::new()
        .layer("COPY app /app", |l| {
            l.dir("app").file("app/bin", vec![1u8; 10_000 + extra])
        })
        .build()
        .unwrap()
}

#[test]
fn history_is_appended_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("sizes.jsonl");
    let mut reports = Vec::new();
    for (i, extra) in [0usize, 5_000].into_iter().enumerate() {
        let d = dir.path().join(format!("v{i}"));
        std::fs::create_dir_all(&d).unwrap();
        let r = write(&image(extra), Format::OciLayout, &d);
        let out = bin()
            .args(["analyze", &r, "-f", "json", "--history"])
            .arg(&history)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        reports.push(serde_json::from_slice::<Report>(&out).unwrap());
    }
    // check appends too (and its stdout stays the rule lines).
    let d = dir.path().join("v1");
    let r = format!("oci:{}", d.join("layout").display());
    bin()
        .current_dir(dir.path())
        .args(["check", &r, "--history"])
        .arg(&history)
        .assert()
        .success()
        .stdout("PASS  no-secrets  0 secrets found\n");

    let text = std::fs::read_to_string(&history).unwrap();
    assert_eq!(text.lines().count(), 3);
    let records = read_trend(&history).unwrap();
    assert_eq!(records.len(), 3);
    for (rec, rep) in records.iter().zip([&reports[0], &reports[1], &reports[1]]) {
        let want = Record::at(rep, rec.time.clone());
        assert_eq!(rec, &want);
        assert_eq!(rec.digest, rep.image.manifest_digest);
        assert!(
            rec.time.ends_with('Z') && rec.time.len() == 20,
            "{}",
            rec.time
        );
    }
    assert_eq!(records[0].content_bytes, 10_000);
    assert_eq!(records[1].content_bytes, 15_000);
}

fn fixed_history(dir: &std::path::Path) -> std::path::PathBuf {
    let p = dir.join("h.jsonl");
    let rec = |time: &str, content: u64, compressed: u64, waste: u64| {
        let r = Record {
            time: time.to_string(),
            reference: "registry.example/app:main".to_string(),
            digest: Some("sha256:00".to_string()),
            layer_count: 3,
            content_bytes: content,
            compressed_bytes: compressed,
            visible_bytes: content - waste,
            hidden_bytes: waste,
            avoidable_bytes: 0,
            waste_bytes: waste,
            efficiency: (content - waste) as f64 / content as f64,
            secret_count: 0,
        };
        serde_json::to_string(&r).unwrap()
    };
    let lines = [
        rec("2026-01-01T00:00:00Z", 100_000_000, 40_000_000, 0),
        rec("2026-02-01T00:00:00Z", 120_000_000, 45_000_000, 10_000_000),
        String::new(),
        rec("2026-03-01T00:00:00Z", 90_000_000, 35_000_000, 5_000_000),
    ];
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

#[test]
fn trend_table() {
    let dir = tempfile::tempdir().unwrap();
    let h = fixed_history(dir.path());
    let out = bin()
        .arg("trend")
        .arg(&h)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    insta::assert_snapshot!("trend_table", String::from_utf8(out).unwrap());
}

#[test]
fn trend_svg_holds_the_series() {
    let dir = tempfile::tempdir().unwrap();
    let h = fixed_history(dir.path());
    let svg = dir.path().join("trend.svg");
    bin()
        .arg("trend")
        .arg(&h)
        .arg("--svg")
        .arg(&svg)
        .assert()
        .success();
    let s = std::fs::read_to_string(&svg).unwrap();
    assert!(s.starts_with("<svg"), "{}", &s[..80.min(s.len())]);
    for name in layersift::SERIES {
        assert!(s.contains(&format!("\n{name}\n")), "legend names {name}");
    }
    assert!(s.contains("registry.example/app:main"));
    // One 3-point line per series, in its colour; content rises then falls (SVG y grows
    // downwards).
    let line = |colour: &str| -> Vec<(i64, i64)> {
        let start = s
            .find(&format!("stroke=\"{colour}\" stroke-width=\"2\" points=\""))
            .unwrap_or_else(|| panic!("no line in {colour}"));
        let rest = &s[start..];
        let pts = &rest[rest.find("points=\"").unwrap() + 8..];
        pts[..pts.find('"').unwrap()]
            .split_whitespace()
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect()
    };
    let content = line("#1F77B4");
    assert_eq!(content.len(), 3);
    assert!(content[0].0 < content[1].0 && content[1].0 < content[2].0);
    assert!(content[1].1 < content[0].1 && content[0].1 < content[2].1);
    assert_eq!(line("#2CA02C").len(), 3);
    let waste = line("#D62728");
    assert_eq!(waste.len(), 3);
    assert!(waste[1].1 < waste[2].1 && waste[2].1 < waste[0].1);
}

#[test]
fn bad_history_line_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("h.jsonl");
    std::fs::write(&h, "{\"time\": 1}\n").unwrap();
    let out = bin()
        .arg("trend")
        .arg(&h)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("error: history `"), "{err}");
    assert!(err.contains("line 1"), "{err}");
    assert!(err.contains("hint: "), "{err}");
    assert!(out.stdout.is_empty());
}
