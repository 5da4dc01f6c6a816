//! Best-practice findings on images built for them: root user, no health check, shell-form
//! `CMD`, `.pyc` without `PYTHONDONTWRITEBYTECODE`, setuid files outside the usual set,
//! world-writable paths outside `/tmp`, `ADD` where `COPY` does (from the Dockerfile); each
//! cited at its Dockerfile line when one is given, and each a `check` rule.

use std::path::Path;

use layersift::{Analysis, Dockerfile, Finding};
use layersift_fixture::{Format, ImageBuilder};
use serde_json::json;

use crate::util::{
    analyze, analyze_cli_with_dockerfile, analyze_dockerfile, bin, schema_errors, write,
};

/// An image that breaks every practice the files and config can show.
pub(crate) fn careless_image() -> layersift_fixture::BuiltImage {
    ImageBuilder::new()
        .layer("/bin/sh -c #(nop) ADD file:3a2b in / ", |l| {
            l.file_mode("usr/bin/passwd", vec![b'p'; 100], 0o4755)
                .dir("tmp")
                .mode(0o1777)
        })
        .layer("/bin/sh -c #(nop) ADD file:9c1d in /app/", |l| {
            l.file("app/main.py", "print('hi')\n")
                .file("app/__pycache__/main.cpython-311.pyc", vec![b'c'; 2_000])
                .file("app/lib.pyc", vec![b'c'; 1_000])
        })
        .layer(
            "/bin/sh -c chmod 4755 /usr/local/bin/helper && chmod 777 /srv/data",
            |l| {
                l.file_mode("usr/local/bin/helper", vec![b'h'; 300], 0o4755)
                    .dir("srv/data")
                    .mode(0o777)
                    .file_mode("tmp/scratch", "x", 0o666)
            },
        )
        .env("API_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789")
        .cmd(&["/bin/sh", "-c", "python /app/main.py"])
        .config_field("User", json!("root"))
        .docker_media_types()
        .build()
        .unwrap()
}

/// The same files, made with care: a user, a health check, exec form, no bytecode.
pub(crate) fn careful_image() -> layersift_fixture::BuiltImage {
    ImageBuilder::new()
        .layer("/bin/sh -c #(nop) ADD file:3a2b in / ", |l| {
            l.file_mode("usr/bin/passwd", vec![b'p'; 100], 0o4755)
                .dir("tmp")
                .mode(0o1777)
        })
        .layer("/bin/sh -c #(nop) COPY file:9c1d in /app/", |l| {
            l.file("app/main.py", "print('hi')\n")
                .file("app/lib.pyc", vec![b'c'; 1_000])
        })
        .env("PYTHONDONTWRITEBYTECODE=1")
        .cmd(&["python", "/app/main.py"])
        .config_field("User", json!("10001"))
        .config_field(
            "Healthcheck",
            json!({"Test": ["CMD", "python", "/app/main.py", "--check"]}),
        )
        .docker_media_types()
        .build()
        .unwrap()
}

fn rules(a: &Analysis) -> Vec<&str> {
    let mut r: Vec<&str> = a.practices.iter().map(|f| f.rule.as_str()).collect();
    r.sort_unstable();
    r
}

fn practice<'a>(a: &'a Analysis, rule: &str) -> &'a Finding {
    a.practices
        .iter()
        .find(|f| f.rule == rule)
        .unwrap_or_else(|| panic!("no {rule} in {:#?}", a.practices))
}

#[test]
fn each_practice_is_found_with_a_severity_and_a_fix() {
    let dir = tempfile::tempdir().unwrap();
    let a = analyze(&write(&careless_image(), Format::DockerArchive, dir.path())).unwrap();
    assert_eq!(
        rules(&a),
        [
            "practice.no-healthcheck",
            "practice.pyc-without-dontwritebytecode",
            "practice.root-user",
            "practice.setuid",
            "practice.shell-form-cmd",
            "practice.world-writable",
        ]
    );
    for f in &a.practices {
        assert!(
            f.detail.as_deref().is_some_and(|d| d.starts_with("fix: ")),
            "{f:?}"
        );
    }
    assert_eq!(
        practice(&a, "practice.no-healthcheck").severity,
        layersift::Severity::Info
    );
    assert_eq!(
        practice(&a, "practice.root-user").severity,
        layersift::Severity::Medium
    );
    // The usual set (passwd) and /tmp are not reported; the rest is, path by path.
    assert_eq!(
        practice(&a, "practice.setuid").paths,
        ["/usr/local/bin/helper"]
    );
    let ww = practice(&a, "practice.world-writable");
    assert_eq!(ww.paths, ["/srv/data"]);
    assert_eq!(ww.layer, 2);
    let pyc = practice(&a, "practice.pyc-without-dontwritebytecode");
    assert_eq!((pyc.path_count, pyc.bytes, pyc.layer), (2, 3_000, 1));
    // Waste totals are about bytes only: practices are not findings.
    assert!(a.findings.iter().all(|f| !f.rule.starts_with("practice.")));

    let a = analyze(&write(&careful_image(), Format::DockerArchive, dir.path())).unwrap();
    assert_eq!(rules(&a), Vec::<&str>::new(), "{:#?}", a.practices);
}

pub(crate) const DOCKERFILE: &str = "\
FROM debian:bookworm
ENV API_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789
ADD app/ /app/
RUN chmod 4755 /usr/local/bin/helper && chmod 777 /srv/data
USER root
CMD python /app/main.py
";

#[test]
fn with_the_dockerfile_each_cites_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let reference = write(&careless_image(), Format::DockerArchive, dir.path());
    let df = Dockerfile::parse(Path::new("Dockerfile"), DOCKERFILE, &[]).unwrap();
    let a = analyze_dockerfile(&reference, &df, 0);
    let src = |rule: &str| practice(&a, rule).source.clone().unwrap_or_default();
    assert_eq!(src("practice.root-user"), "Dockerfile:5");
    assert_eq!(src("practice.shell-form-cmd"), "Dockerfile:6");
    assert_eq!(src("practice.no-healthcheck"), "Dockerfile:1");
    assert_eq!(src("practice.world-writable"), "Dockerfile:4");
    let add = practice(&a, "practice.add-instead-of-copy");
    assert_eq!(add.source.as_deref(), Some("Dockerfile:3"));
    assert_eq!(add.layer, 1);
    assert!(add.title.contains("`ADD app/`"), "{}", add.title);
    // A secret in ENV cites the ENV line, not the layer before it.
    let secret = a
        .findings
        .iter()
        .find(|f| f.in_config && f.rule.starts_with("secret."))
        .unwrap();
    assert_eq!(secret.source.as_deref(), Some("Dockerfile:2"));
    let fix = a
        .suggestions
        .iter()
        .find(|s| s.instruction.starts_with("ENV API_TOKEN"))
        .unwrap();
    assert_eq!(fix.source.as_deref(), Some("Dockerfile:2"));

    // The CLI shows them, and the JSON report holds them within its schema.
    let (text, _) = analyze_cli_with_dockerfile(dir.path(), &reference, DOCKERFILE, &[]);
    assert!(text.contains("Best practices (7)"), "{text}");
    assert!(
        text.contains("MEDIUM  Dockerfile:5    The image runs as root (`USER root`)"),
        "{text}"
    );
    assert!(text.contains("config Dockerfile:2"), "{text}");
    let (json, _) =
        analyze_cli_with_dockerfile(dir.path(), &reference, DOCKERFILE, &["-f", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["practices"].as_array().unwrap().len(), 7);
    let errors = schema_errors(&v);
    assert!(errors.is_empty(), "{errors:?}");
    let out = bin()
        .args(["analyze", &reference, "-f", "markdown"])
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("### Best practices"), "{md}");
    assert!(md.contains("`practice.setuid`"), "{md}");
}

#[test]
fn practices_gate_check_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let careless = write(&careless_image(), Format::OciLayout, &dir.path().join("a"));
    let careful = write(&careful_image(), Format::OciArchive, dir.path());
    let cfg = dir.path().join("layersift.toml");
    std::fs::write(
        &cfg,
        "[check]\nallow_secrets = true\n[check.practices]\nroot-user = true\nsetuid = true\nno-healthcheck = false\n",
    )
    .unwrap();
    let out = bin()
        .args(["check", &careless, "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("FAIL  practice.root-user"), "{text}");
    assert!(text.contains("FAIL  practice.setuid"), "{text}");
    assert!(text.contains("/usr/local/bin/helper"), "{text}");
    assert!(!text.contains("practice.no-healthcheck"), "{text}");
    let out = bin()
        .args(["check", &careful, "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("PASS  practice.root-user"), "{text}");

    // A rule that does not exist is a clear error.
    std::fs::write(&cfg, "[check.practices]\nroot = true\n").unwrap();
    let out = bin()
        .args(["check", &careful, "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("practices.root"), "{err}");
    assert!(err.contains("root-user, no-healthcheck"), "{err}");
}

#[test]
fn ci_formats_carry_the_practices() {
    let dir = tempfile::tempdir().unwrap();
    let reference = write(&careless_image(), Format::OciLayout, dir.path());
    let out = bin()
        .args(["analyze", &reference, "-f", "sarif"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let setuid = results
        .iter()
        .find(|r| r["ruleId"] == "practice.setuid")
        .unwrap();
    assert_eq!(setuid["level"], "warning");
    assert_eq!(
        setuid["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "usr/local/bin/helper"
    );
    assert!(setuid["message"]["text"]
        .as_str()
        .unwrap()
        .contains("fix: clear the bit"));
    let out = bin()
        .args(["analyze", &reference, "-f", "gitlab"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let root = v
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["check_name"] == "practice.root-user")
        .unwrap();
    assert_eq!(root["categories"][0], "Security");
}

/// The base's one layer: a setuid helper, a world-writable directory and bytecode.
fn base_layer(l: layersift_fixture::LayerBuilder) -> layersift_fixture::LayerBuilder {
    l.file_mode("usr/local/bin/basehelper", vec![b'b'; 200], 0o4755)
        .dir("srv/shared")
        .mode(0o777)
        .file("usr/lib/python3/base.pyc", vec![b'c'; 500])
}

/// A rule's result line of `check`'s text output, its columns' padding collapsed.
fn line(text: &str, rule: &str) -> String {
    text.lines()
        .find(|l| l.split_whitespace().nth(1) == Some(rule))
        .unwrap_or_else(|| panic!("no {rule} line in {text}"))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Asserts each wanted line is the check's line for its rule (the line's second word), with
/// white space folded.
fn assert_rule_lines(text: &str, want: &[&str]) {
    for w in want {
        let rule = w.split_whitespace().nth(1).unwrap();
        assert_eq!(line(text, rule), *w);
    }
}

#[test]
fn scope_own_counts_file_practices_of_the_own_layers_only() {
    let dir = tempfile::tempdir().unwrap();
    let base = ImageBuilder::new()
        .layer("/bin/sh -c #(nop) ADD file:0b5e in / ", base_layer)
        .build()
        .unwrap();
    let app = ImageBuilder::new()
        .layer("/bin/sh -c #(nop) ADD file:0b5e in / ", base_layer)
        .layer("/bin/sh -c pip install app && chmod u+s /app/tool", |l| {
            l.file_mode("app/tool", vec![b't'; 100], 0o4755)
                .file("app/__pycache__/app.cpython-311.pyc", vec![b'c'; 700])
        })
        .build()
        .unwrap();
    let base = write(&base, Format::OciLayout, &dir.path().join("base"));
    let app = write(&app, Format::OciLayout, &dir.path().join("app"));
    let cfg = dir.path().join("layersift.toml");
    let rules = "[check.practices]\nroot-user = true\nsetuid = true\nworld-writable = true\n\
                 pyc-without-dontwritebytecode = true\n";
    let check = |toml: &str| {
        std::fs::write(&cfg, toml).unwrap();
        let out = bin()
            .args(["check", &app, "--base", &base, "--config"])
            .arg(&cfg)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8(out.stdout).unwrap()
    };
    // The whole image: the base's setuid helper, directory and bytecode count too.
    let text = check(&format!("[check]\nallow_secrets = true\n{rules}"));
    assert_rule_lines(
        &text,
        &[
            "FAIL practice.setuid 2 findings found",
            "FAIL practice.world-writable 1 finding found",
            "FAIL practice.pyc-without-dontwritebytecode 2 findings found",
        ],
    );
    // The own layer only: its setuid tool and bytecode; the base's directory passes. Running
    // as root is about the image config: it counts whatever the scope, and says no scope.
    let text = check(&format!(
        "[check]\nallow_secrets = true\nscope = \"own\"\n{rules}"
    ));
    assert_rule_lines(
        &text,
        &[
            "FAIL practice.setuid 1 finding found [own layer 1]",
            "PASS practice.world-writable 0 findings found [own layer 1]",
            "FAIL practice.pyc-without-dontwritebytecode 1 finding found [own layer 1]",
            "FAIL practice.root-user 1 finding found",
        ],
    );
    assert!(text.contains("/app/tool"), "{text}");
    assert!(!text.contains("basehelper"), "{text}");
}

/// The careful image as buildah writes it by default (`--format oci`): OCI media types and no
/// `Healthcheck` in the config, whatever the Dockerfile said.
fn careful_oci_image() -> layersift_fixture::BuiltImage {
    careful_no_healthcheck(ImageBuilder::new())
}

fn careful_no_healthcheck(b: ImageBuilder) -> layersift_fixture::BuiltImage {
    b.layer("/bin/sh -c #(nop) COPY file:9c1d in /app/", |l| {
        l.file("app/main.py", "print('hi')\n")
    })
    .cmd(&["python", "/app/main.py"])
    .config_field("User", json!("10001"))
    .build()
    .unwrap()
}

#[test]
fn no_healthcheck_on_an_oci_image_says_the_format_cannot_hold_one() {
    let dir = tempfile::tempdir().unwrap();
    let reference = write(&careful_oci_image(), Format::OciLayout, dir.path());
    let a = analyze(&reference).unwrap();
    assert_eq!(rules(&a), ["practice.no-healthcheck"]);
    let f = practice(&a, "practice.no-healthcheck");
    assert_eq!(f.severity, layersift::Severity::Info);
    assert!(
        f.title
            .ends_with("(this image is in OCI format, which cannot record one)"),
        "{}",
        f.title
    );
    assert!(
        f.detail
            .as_deref()
            .unwrap()
            .contains("build with `--format docker`"),
        "{f:?}"
    );

    // The Dockerfile has one, the OCI config lost it: the runtime runs none. Said at the
    // HEALTHCHECK line, one severity up.
    let text = "FROM scratch\nCOPY app/ /app/\nHEALTHCHECK CMD [\"python\", \"/app/main.py\", \"--check\"]\nUSER 10001\nCMD [\"python\", \"/app/main.py\"]\n";
    let df = Dockerfile::parse(Path::new("Dockerfile"), text, &[]).unwrap();
    let a = analyze_dockerfile(&reference, &df, 0);
    let f = practice(&a, "practice.no-healthcheck");
    assert_eq!(f.severity, layersift::Severity::Low);
    assert_eq!(f.source.as_deref(), Some("Dockerfile:3"));
    assert!(f.title.contains("is not in the image"), "{}", f.title);

    // A Docker-format image has the field: no OCI note, and a declared one is believed.
    let dir = tempfile::tempdir().unwrap();
    let docker = careful_no_healthcheck(ImageBuilder::new().docker_media_types());
    let reference = write(&docker, Format::OciLayout, dir.path());
    let a = analyze(&reference).unwrap();
    let f = practice(&a, "practice.no-healthcheck");
    assert!(!f.title.contains("OCI"), "{}", f.title);
}

#[test]
fn add_instead_of_copy_from_the_history_where_it_is_unambiguous() {
    let hash = "3f5e0c1d2b4a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let img = ImageBuilder::new()
        // Classic builder and buildah: the base's root filesystem, a file (plain? archive?
        // download? the history cannot tell), a directory, and buildah's URL form.
        .layer("/bin/sh -c #(nop) ADD file:0b5e in / ", |l| {
            l.file("etc/os-release", "ID=fixture\n")
        })
        .layer("/bin/sh -c #(nop) ADD file:9c1d in /opt/ ", |l| {
            l.file("opt/one.conf", "a=1\n")
        })
        .layer("/bin/sh -c #(nop) ADD dir:4f1e in /srv/ ", |l| {
            l.file("srv/index.html", "<p>hi</p>\n")
        })
        .layer(&format!("/bin/sh -c #(nop) ADD {hash} in /opt/tool "), |l| {
            l.file_mode("opt/tool", vec![b'T'; 50], 0o755)
        })
        // BuildKit: the lines as written.
        .layer("ADD app/ /app/ # buildkit", |l| l.file("app/main.py", "x\n"))
        .layer("ADD https://example.com/cli.tar.gz /usr/local/ # buildkit", |l| {
            l.file("usr/local/cli.tar.gz", vec![b'z'; 40])
        })
        .layer(
            "ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/pinned /usr/local/bin/pinned # buildkit",
            |l| l.file("usr/local/bin/pinned", vec![b'p'; 30]),
        )
        .layer("ADD vendor.tar.gz /opt/vendor/ # buildkit", |l| {
            l.file("opt/vendor/lib/a.py", "a\n").file("opt/vendor/lib/b.py", "b\n")
        })
        .layer("ADD config.json /etc/app/ # buildkit", |l| {
            l.file("etc/app/config.json", "{}\n")
        })
        // Named like a plain file, but the layer holds members: ADD unpacked an archive.
        .layer("ADD bundle.bin /opt/bundle/ # buildkit", |l| {
            l.file("opt/bundle/inner.txt", "in\n")
        })
        .config_field("User", json!("10001"))
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = analyze(&write(&img, Format::OciLayout, dir.path())).unwrap();
    let adds: Vec<(usize, &str)> = a
        .practices
        .iter()
        .filter(|f| f.rule == "practice.add-instead-of-copy")
        .map(|f| (f.layer, f.title.as_str()))
        .collect();
    assert_eq!(
        adds,
        [
            (
                2,
                "`ADD` copied a local directory into `/srv/` (history: `ADD dir:… in /srv/`): \
                 `COPY` does that without ADD's unpacking and URL rules"
            ),
            (
                3,
                "`ADD` downloaded a URL into `/opt/tool` at build time (buildah's history: a hash \
                 with no source kind); it is not pinned unless the line has `--checksum`"
            ),
            (
                4,
                "`ADD app/` copies local files: `COPY` does that without ADD's unpacking and URL \
                 rules"
            ),
            (
                5,
                "`ADD https://example.com/cli.tar.gz` downloads at build time without `--checksum`"
            ),
            (
                8,
                "`ADD config.json` copies local files: `COPY` does that without ADD's unpacking \
                 and URL rules"
            ),
        ],
        "{:#?}",
        a.practices
    );
    for f in a
        .practices
        .iter()
        .filter(|f| f.rule == "practice.add-instead-of-copy")
    {
        assert!(!f.in_config);
        assert!(f.detail.as_deref().unwrap().starts_with("fix: "), "{f:?}");
        assert_eq!(f.instruction, a.layers[f.layer].step.instruction);
    }
}
