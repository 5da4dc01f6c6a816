//! `layersift check`: each rule passing and failing on a fixture image whose bytes we know,
//! config discovery (`layersift.toml`, `.dive-ci`), growth against a baseline, exit codes.

use std::path::Path;

use layersift::json::Report;
use layersift::{evaluate, Outcome};
use layersift::{CheckConfig, Growth};
use layersift_fixture::{BuiltImage, Format, ImageBuilder};

use crate::util::{analyze, bin, write};

/// Layer 0 ships `app/data` (10 000 B) and `app/keep` (4 000 B); layer 1 deletes
/// `app/data`. Content 14 000 B, visible 4 000 B, hidden 10 000 B, efficiency 0.286.
fn wasteful() -> BuiltImage {
    ImageBuilder::new()
        .layer("RUN make", |l| {
            l.dir("app")
                .file("app/data", vec![b'd'; 10_000])
                .file("app/keep", vec![b'k'; 4_000])
        })
        .layer("RUN rm /app/data", |l| l.whiteout("app/data"))
        .build()
        .unwrap()
}

fn compressed(img: &BuiltImage) -> u64 {
    img.layers.iter().map(|l| l.size).sum()
}

/// Runs `check` in `dir` (for config discovery) and returns (exit code, stdout, stderr).
fn run_check(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = bin()
        .current_dir(dir)
        .arg("check")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn with_config(toml: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let r = write(&wasteful(), Format::OciLayout, dir.path());
    std::fs::write(dir.path().join("layersift.toml"), toml).unwrap();
    (dir, r)
}

#[test]
fn defaults_check_only_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let r = write(&wasteful(), Format::OciLayout, dir.path());
    let (code, out, err) = run_check(dir.path(), &[&r]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "PASS  no-secrets  0 secrets found\n");
    assert!(err.contains("rules from defaults"), "{err}");
}

#[test]
fn min_efficiency_pass_and_fail() {
    let (dir, r) = with_config("[check]\nmin_efficiency = 0.28\n");
    let (code, out, _) = run_check(dir.path(), &[&r]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "PASS  min-efficiency  28.6% >= 28.0%\nPASS  no-secrets      0 secrets found\n"
    );

    let (dir, r) = with_config("[check]\nmin_efficiency = 0.29\n");
    let (code, out, _) = run_check(dir.path(), &[&r]);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "FAIL  min-efficiency  28.6% < 29.0%\nPASS  no-secrets      0 secrets found\n"
    );
}

#[test]
fn max_hidden_bytes_exact_threshold() {
    let (dir, r) = with_config("[check]\nmax_hidden_bytes = 10000\nallow_secrets = true\n");
    let (code, out, _) = run_check(dir.path(), &[&r]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "PASS  max-hidden-bytes  10.0 kB (10000 B) <= 10.0 kB (10000 B)\n"
    );

    let (dir, r) = with_config("[check]\nmax_hidden_bytes = \"9999B\"\nallow_secrets = true\n");
    let (code, out, _) = run_check(dir.path(), &[&r]);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "FAIL  max-hidden-bytes  10.0 kB (10000 B) > 10.0 kB (9999 B)\n"
    );
}

#[test]
fn max_size_exact_threshold() {
    let (dir, r) = with_config("[check]\nmax_size = \"14kB\"\nallow_secrets = true\n");
    let (code, out, _) = run_check(dir.path(), &[&r]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "PASS  max-size  14.0 kB (14000 B) <= 14.0 kB (14000 B)\n"
    );
    let (dir, r) = with_config("[check]\nmax_size = 13999\nallow_secrets = true\n");
    let (code, out, _) = run_check(dir.path(), &[&r]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("FAIL  max-size  14.0 kB (14000 B) > "),
        "{out}"
    );
}

#[test]
fn max_compressed_size_exact_threshold() {
    let c = compressed(&wasteful());
    let (dir, r) = with_config(&format!(
        "[check]\nmax_compressed_size = {c}\nallow_secrets = true\n"
    ));
    let (code, out, _) = run_check(dir.path(), &[&r]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, format!("PASS  max-compressed-size  {c} B <= {c} B\n"));
    let (dir, r) = with_config(&format!(
        "[check]\nmax_compressed_size = {}\nallow_secrets = true\n",
        c - 1
    ));
    let (code, out, _) = run_check(dir.path(), &[&r]);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        format!("FAIL  max-compressed-size  {c} B > {} B\n", c - 1)
    );
}

#[test]
fn dive_ci_is_read_as_is() {
    let dir = tempfile::tempdir().unwrap();
    let r = write(&wasteful(), Format::OciLayout, dir.path());
    std::fs::write(
        dir.path().join(".dive-ci"),
        "rules:\n  # If the efficiency is measured below X%, mark as failed.\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB\n  highestUserWastedPercent: 0.20\n",
    )
    .unwrap();
    let (code, out, err) = run_check(dir.path(), &[&r]);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "FAIL  min-efficiency    28.6% < 95.0%\n\
         PASS  max-hidden-bytes  10.0 kB (10000 B) <= 20.0 MB (20000000 B)\n\
         FAIL  max-hidden-ratio  71.4% > 20.0%\n\
         PASS  no-secrets        0 secrets found\n"
    );
    assert!(err.contains("2 of 4 rules failed"), "{err}");
    assert!(err.contains(".dive-ci"), "{err}");

    // `disabled` turns a rule off; layersift.toml wins over .dive-ci.
    std::fs::write(
        dir.path().join(".dive-ci"),
        "rules:\n  lowestEfficiency: disabled\n  highestWastedBytes: \"10kB\"\n  highestUserWastedPercent: disabled\n",
    )
    .unwrap();
    let (code, out, _) = run_check(dir.path(), &[&r]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "PASS  max-hidden-bytes  10.0 kB (10000 B) <= 10.0 kB (10000 B)\nPASS  no-secrets        0 secrets found\n"
    );
    std::fs::write(
        dir.path().join("layersift.toml"),
        "[check]\nmax_hidden_bytes = 1\n",
    )
    .unwrap();
    let (code, out, _) = run_check(dir.path(), &[&r]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("FAIL  max-hidden-bytes  10.0 kB (10000 B) > 1 B\n"),
        "{out}"
    );
}

#[test]
fn explicit_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let r = write(&wasteful(), Format::OciLayout, dir.path());
    let cfg = dir.path().join("ci.yaml");
    std::fs::write(&cfg, "rules:\n  lowestEfficiency: 0.2\n").unwrap();
    let (code, out, _) = run_check(dir.path(), &[&r, "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 1);
    // Dive's default for the key left out applies (highestUserWastedPercent 0.1).
    assert_eq!(
        out,
        "PASS  min-efficiency    28.6% >= 20.0%\n\
         FAIL  max-hidden-ratio  71.4% > 10.0%\n\
         PASS  no-secrets        0 secrets found\n"
    );
}

#[test]
fn bad_config_is_an_error() {
    let (dir, r) = with_config("[check]\nmin_eficiency = 0.9\n");
    let (code, out, err) = run_check(dir.path(), &[&r]);
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert!(
        err.starts_with("error: config `./layersift.toml` is not valid TOML"),
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");

    let (dir, r) = with_config("[check]\nmax_size = \"big\"\n");
    let (code, _, err) = run_check(dir.path(), &[&r]);
    assert_eq!(code, 2);
    assert!(err.contains("`big` is not a size"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".dive-ci"),
        "rules:\n  lowestEfficiency: high\n",
    )
    .unwrap();
    let (code, _, err) = run_check(dir.path(), &["oci:/nonexistent"]);
    assert_eq!(code, 2);
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn growth_against_a_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let old = ImageBuilder::new()
        .layer("COPY app /app", |l| {
            l.dir("app").file("app/bin", vec![1u8; 100_000])
        })
        .build()
        .unwrap();
    let new = ImageBuilder::new()
        .layer("COPY app /app", |l| {
            l.dir("app").file("app/bin", vec![1u8; 100_000])
        })
        .layer("COPY assets /app/assets", |l| {
            l.dir("app/assets").file("app/assets/a", vec![2u8; 4_000])
        })
        .build()
        .unwrap();
    let old_dir = dir.path().join("old");
    let new_dir = dir.path().join("new");
    std::fs::create_dir_all(&old_dir).unwrap();
    std::fs::create_dir_all(&new_dir).unwrap();
    let old_ref = write(&old, Format::OciLayout, &old_dir);
    let new_ref = write(&new, Format::OciLayout, &new_dir);
    let baseline = dir.path().join("main.json");
    bin()
        .args(["analyze", &old_ref, "-f", "json", "-o"])
        .arg(&baseline)
        .assert()
        .success();
    let b = baseline.to_str().unwrap();

    // +4000 B of 100 000 B is 4%.
    let (code, out, _) = run_check(
        dir.path(),
        &[&new_ref, "--baseline", b, "--max-growth", "5%"],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out,
        "PASS  no-secrets          0 secrets found\nPASS  max-content-growth  +4.0 kB (+4000 B) [+4.00%] <= 5% of 100 kB (100000 B)\n"
    );
    // The baseline may be the image itself: the same lines.
    let (code, same, _) = run_check(
        dir.path(),
        &[&new_ref, "--baseline", &old_ref, "--max-growth", "5%"],
    );
    assert_eq!((code, same), (0, out));
    let (code, out, _) = run_check(
        dir.path(),
        &[&new_ref, "--baseline", b, "--max-growth", "3%"],
    );
    assert_eq!(code, 1);
    assert!(
        out.contains(
            "FAIL  max-content-growth  +4.0 kB (+4000 B) [+4.00%] > 3% of 100 kB (100000 B)\n"
        ),
        "{out}"
    );
    let (code, out, _) = run_check(
        dir.path(),
        &[&new_ref, "--baseline", b, "--max-growth", "3999"],
    );
    assert_eq!(code, 1);
    assert!(out.contains("> 4.0 kB (3999 B)\n"), "{out}");
    let (code, _, _) = run_check(
        dir.path(),
        &[&new_ref, "--baseline", b, "--max-growth", "4kB"],
    );
    assert_eq!(code, 0);

    // Compressed growth: exact blob sizes.
    let grown = compressed(&new) - compressed(&old);
    let (code, out, _) = run_check(
        dir.path(),
        &[
            &new_ref,
            "--baseline",
            b,
            "--max-compressed-growth",
            &format!("{grown}B"),
        ],
    );
    assert_eq!(code, 0, "{out}");
    let (code, _, _) = run_check(
        dir.path(),
        &[
            &new_ref,
            "--baseline",
            b,
            "--max-compressed-growth",
            &format!("{}", grown - 1),
        ],
    );
    assert_eq!(code, 1);

    // Limits from layersift.toml; no baseline given: SKIP, not FAIL.
    std::fs::write(
        dir.path().join("layersift.toml"),
        "[check.growth]\nmax_content = \"1kB\"\nmax_waste = \"0%\"\n",
    )
    .unwrap();
    let (code, out, _) = run_check(dir.path(), &[&new_ref]);
    assert_eq!(code, 0);
    assert!(
        out.contains("SKIP  max-content-growth  no baseline"),
        "{out}"
    );
    let (code, out, _) = run_check(dir.path(), &[&new_ref, "--baseline", b]);
    assert_eq!(code, 1);
    assert!(out.contains("FAIL  max-content-growth"), "{out}");
    assert!(
        out.contains("PASS  max-waste-growth    0 B [+0.00%] <= 0% of 0 B"),
        "{out}"
    );
    // The command line wins over the file.
    let (code, _, _) = run_check(
        dir.path(),
        &[&new_ref, "--baseline", b, "--max-growth", "10kB"],
    );
    assert_eq!(code, 0);
}

#[test]
fn growth_flag_needs_a_baseline() {
    let (code, _, err) = run_check(Path::new("."), &["x", "--max-growth", "5%"]);
    assert_eq!(code, 2);
    assert!(err.contains("--baseline"), "{err}");
    let (code, _, err) = run_check(
        Path::new("."),
        &["x", "--baseline", "y", "--max-growth", "5 parsecs"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("not a size"), "{err}");
}

/// A report of the fixture, to set numbers the analysis does not produce yet.
fn report() -> Report {
    let dir = tempfile::tempdir().unwrap();
    let r = write(&wasteful(), Format::OciLayout, dir.path());
    Report::from_analysis(&analyze(&r).unwrap())
}

#[test]
fn secrets_rule_from_report_numbers() {
    let mut rep = report();
    let cfg = CheckConfig::default();
    let res = evaluate(&cfg, &rep, None);
    assert!(res.passed());
    rep.summary.secret_count = 2;
    let res = evaluate(&cfg, &rep, None);
    assert_eq!(res.render(), "FAIL  no-secrets  2 secrets found\n");
    let allow = CheckConfig {
        allow_secrets: true,
        ..CheckConfig::default()
    };
    assert_eq!(evaluate(&allow, &rep, None).rules.len(), 0);
}

#[test]
fn avoidable_rule_from_report_numbers() {
    let mut rep = report();
    rep.summary.avoidable_bytes = 2_500_000;
    let cfg = CheckConfig {
        max_avoidable_bytes: Some(2_500_000),
        allow_secrets: true,
        ..CheckConfig::default()
    };
    let res = evaluate(&cfg, &rep, None);
    assert_eq!(
        res.render(),
        "PASS  max-avoidable-bytes  2.5 MB (2500000 B) <= 2.5 MB (2500000 B)\n"
    );
    rep.summary.avoidable_bytes += 1;
    let res = evaluate(&cfg, &rep, None);
    assert_eq!(res.rules[0].outcome, Outcome::Fail);
    assert_eq!(
        res.render(),
        "FAIL  max-avoidable-bytes  2.5 MB (2500001 B) > 2.5 MB (2500000 B)\n"
    );
}

#[test]
fn waste_growth_from_report_numbers() {
    let base = report();
    let mut rep = base.clone();
    rep.summary.potential_savings_bytes += 1_000;
    let mut cfg = CheckConfig {
        allow_secrets: true,
        ..CheckConfig::default()
    };
    cfg.growth.max_waste = Some(Growth::Percent(10.0));
    let res = evaluate(&cfg, &rep, Some(&base));
    assert_eq!(
        res.render(),
        "PASS  max-waste-growth  +1.0 kB (+1000 B) [+10.00%] <= 10% of 10.0 kB (10000 B)\n"
    );
    cfg.growth.max_waste = Some(Growth::Bytes(999));
    assert!(!evaluate(&cfg, &rep, Some(&base)).passed());
}

#[test]
fn check_reads_a_saved_report_and_saves_one() {
    let dir = tempfile::tempdir().unwrap();
    let r = write(&wasteful(), Format::OciLayout, dir.path());
    let saved = dir.path().join("saved.json");
    let (code, out1, _) = run_check(dir.path(), &[&r, "--save-report", saved.to_str().unwrap()]);
    assert_eq!(code, 0);
    let (code, out2, _) = run_check(dir.path(), &[saved.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(out1, out2);
    let rep: Report = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(rep.summary.hidden_bytes, 10_000);
    assert_eq!(rep.files.len(), 1);
    assert_eq!(rep.files[0].path(), "/app/keep");
    assert_eq!(rep.files[0].size(), 4_000);
}

#[test]
fn json_results() {
    let (dir, r) = with_config("[check]\nmin_efficiency = 0.5\nmax_hidden_bytes = 10000\n");
    let (code, out, _) = run_check(dir.path(), &[&r, "--format", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["passed"], false);
    assert_eq!(v["failed"], 1);
    assert_eq!(v["config"], "./layersift.toml");
    let rules = v["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 3);
    assert_eq!(rules[0]["rule"], "min-efficiency");
    assert_eq!(rules[0]["outcome"], "fail");
    assert_eq!(rules[0]["value"], 4_000.0 / 14_000.0);
    assert_eq!(rules[0]["threshold"], 0.5);
    assert_eq!(rules[1]["rule"], "max-hidden-bytes");
    assert_eq!(rules[1]["outcome"], "pass");
    assert_eq!(rules[1]["value"], 10_000.0);
    assert_eq!(rules[1]["threshold"], 10_000.0);
    assert_eq!(rules[1]["detail"], "10.0 kB (10000 B) <= 10.0 kB (10000 B)");
    assert_eq!(rules[2]["rule"], "no-secrets");
    assert_eq!(rules[2]["value"], 0.0);
}

#[test]
fn corpus_apt_waste_under_a_dive_ci() {
    let Some(c) = crate::util::corpus() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".dive-ci"),
        "rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB\n  highestUserWastedPercent: 0.20\n",
    )
    .unwrap();
    let r = format!("oci:{}:apt-waste", c.join("oci").display());
    let (code, out, _) = run_check(dir.path(), &[&r]);
    assert_eq!(code, 1);
    // The apt lists (87.3 MB) shipped in layer 1 and deleted in layer 3, and pkgcache.bin
    // rewritten by layer 2: 127 421 674 of 344 808 736 content bytes are hidden.
    assert_eq!(
        out,
        "FAIL  min-efficiency    63.0% < 95.0%\n\
         FAIL  max-hidden-bytes  127 MB (127421674 B) > 20.0 MB (20000000 B)\n\
         FAIL  max-hidden-ratio  37.0% > 20.0%\n\
         PASS  no-secrets        0 secrets found\n"
    );
}
