//! The first hour of a new user (issue 21): each snag they met, run through the real binary.

use std::path::Path;

use layersift_fixture::{self as fixture, Compression, Format, ImageBuilder};
use tempfile::TempDir;

use crate::util::{bin, write};

fn sample() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/sample.oci.tar")
        .display()
        .to_string()
}

/// Runs the binary; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts the error contract (exit 2, `error: …` first, no panic) and returns stderr.
fn error(args: &[&str]) -> String {
    let (code, stdout, stderr) = run(args);
    assert_eq!(code, 2, "{args:?}: {stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn small() -> fixture::BuiltImage {
    ImageBuilder::new()
        .platform("linux", "amd64", None)
        .compression(Compression::Gzip)
        .layer("RUN one", |l| l.file("a", vec![b'1'; 4000]))
        .layer("RUN two", |l| l.file("b", vec![b'2'; 10]))
        .build()
        .unwrap()
}

#[test]
fn analyse_is_an_alias_and_near_commands_are_not_pulled() {
    let (code, stdout, stderr) = run(&["analyse", &sample()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("Image "), "{stdout}");

    for typo in ["analyz", "anaylze", "chekc", "difff"] {
        let (code, _, stderr) = run(&[typo, &sample()]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("did you mean `"), "{typo}: {stderr}");
        assert!(stderr.contains(&format!("docker://{typo}")), "{stderr}");
        let (code, _, stderr) = run(&[typo]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("did you mean"), "{stderr}");
        assert!(!stderr.contains("docker.io"), "{stderr}");
    }
}

#[test]
fn the_output_file_extension_picks_the_format() {
    let dir = TempDir::new().unwrap();
    let json = dir.path().join("r.json");
    let md = dir.path().join("r.md");
    let txt = dir.path().join("r.txt");
    for p in [&json, &md, &txt] {
        let (code, _, stderr) = run(&["analyze", &sample(), "-o", p.to_str().unwrap()]);
        assert_eq!(code, 0, "{stderr}");
    }
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).expect("r.json is JSON");
    assert_eq!(v["schema_version"], 1);
    let md_text = std::fs::read_to_string(&md).unwrap();
    assert!(
        md_text.starts_with('#') || md_text.contains("| "),
        "{md_text}"
    );
    assert!(std::fs::read_to_string(&txt).unwrap().starts_with("Image "));
    // `--format` still wins over the extension.
    let forced = dir.path().join("forced.json");
    run(&[
        "analyze",
        &sample(),
        "-f",
        "text",
        "-o",
        forced.to_str().unwrap(),
    ]);
    assert!(std::fs::read_to_string(&forced)
        .unwrap()
        .starts_with("Image "));

    // The saved JSON report is usable by `diff`; the diff's own `-o` follows the same rule.
    let d = dir.path().join("d.json");
    let (code, _, stderr) = run(&[
        "diff",
        json.to_str().unwrap(),
        &sample(),
        "-o",
        d.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_slice::<serde_json::Value>(&std::fs::read(&d).unwrap()).unwrap();

    // A text report read as a report: the error says what the file holds, briefly.
    let err = error(&["diff", txt.to_str().unwrap(), &sample()]);
    assert!(err.contains("a layersift text report"), "{err}");
    assert!(err.lines().count() < 8, "{err}");
}

#[test]
fn platform_on_a_single_platform_image_is_an_error_naming_its_platform() {
    let dir = TempDir::new().unwrap();
    let r = write(&small(), Format::OciLayout, dir.path());
    let err = error(&["analyze", &r, "--platform", "linux/arm64"]);
    assert!(
        err.contains("`linux/amd64` only, not `linux/arm64`"),
        "{err}"
    );
    assert!(err.contains("hint: drop `--platform`"), "{err}");
    let (code, _, stderr) = run(&["analyze", &r, "--platform", "linux/amd64"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn creds_need_a_colon() {
    let err = error(&["analyze", &sample(), "--creds", "foo"]);
    assert!(err.contains("expected USER:PASSWORD"), "{err}");
    let (code, _, stderr) = run(&["analyze", &sample(), "--creds", "foo:"]);
    assert_eq!(code, 0, "an empty password is allowed: {stderr}");
}

#[test]
fn trend_and_cache_list_only_their_own_options() {
    let (_, trend, _) = run(&["trend", "--help"]);
    let (_, cache, _) = run(&["cache", "--help"]);
    for opt in ["--platform", "--creds", "--tls-verify"] {
        assert!(!trend.contains(opt), "trend lists {opt}:\n{trend}");
        assert!(!cache.contains(opt), "cache lists {opt}:\n{cache}");
    }
    assert!(!trend.contains("--cache-dir"), "{trend}");
    assert!(cache.contains("--cache-dir"), "{cache}");
    let (_, analyze, _) = run(&["analyze", "--help"]);
    assert!(analyze.contains("--platform") && analyze.contains("--creds"));
}

#[test]
fn a_bad_cache_size_in_the_environment_does_not_stop_a_local_analysis() {
    let cache = TempDir::new().unwrap();
    let out = bin()
        .env("LAYERSIFT_CACHE_MAX_SIZE", "lots")
        .env("LAYERSIFT_CACHE_DIR", cache.path())
        .args(["analyze", &sample()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: LAYERSIFT_CACHE_MAX_SIZE"),
        "{stderr}"
    );
    assert!(!stderr.contains("--cache-max-size"), "{stderr}");

    // Pruning by a limit the user mistyped is refused, naming the variable.
    let out = bin()
        .env("LAYERSIFT_CACHE_MAX_SIZE", "lots")
        .args([
            "cache",
            "prune",
            "--cache-dir",
            cache.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    std::fs::create_dir_all(cache.path().join("v1")).unwrap();
    let out2 = bin()
        .env("LAYERSIFT_CACHE_MAX_SIZE", "lots")
        .args([
            "cache",
            "prune",
            "--cache-dir",
            cache.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr2 = String::from_utf8_lossy(&out2.stderr);
    assert_eq!(out2.status.code(), Some(2), "{stderr} / {stderr2}");
    assert!(
        stderr2.contains("LAYERSIFT_CACHE_MAX_SIZE: `lots` is not a size"),
        "{stderr2}"
    );
}

#[test]
fn errors_quote_a_short_escaped_excerpt_of_what_they_read() {
    let dir = TempDir::new().unwrap();
    let text = dir.path().join("notes.txt");
    let body: String = (0..200)
        .map(|i| format!("line {i} of my notes\n"))
        .collect();
    std::fs::write(&text, &body).unwrap();
    let err = error(&["analyze", text.to_str().unwrap()]);
    assert!(
        err.contains("it holds text, starting `line 0 of my notes`"),
        "{err}"
    );
    assert!(!err.contains("line 1 of"), "{err}");

    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, b"\x1b[2J\x00\x01\xff\xfe binary \x07 junk").unwrap();
    let err = error(&["analyze", junk.to_str().unwrap()]);
    assert!(err.contains("binary data"), "{err}");
    assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err:?}");
    assert!(err.contains("\\u{1b}[2J"), "{err}");
}

#[test]
fn a_transport_that_does_not_fit_says_what_the_file_is() {
    let dir = TempDir::new().unwrap();
    let img = small();
    let docker = dir.path().join("d.tar");
    img.write(Format::DockerArchive, &docker).unwrap();
    let oci = dir.path().join("o.tar");
    img.write(Format::OciArchive, &oci).unwrap();
    let layout = dir.path().join("layout");
    img.write(Format::OciLayout, &layout).unwrap();

    let err = error(&["analyze", &format!("oci-archive:{}", docker.display())]);
    assert!(
        err.contains("is a docker archive, not an OCI archive"),
        "{err}"
    );
    assert!(
        err.contains(&format!("hint: use `docker-archive:{}`", docker.display())),
        "{err}"
    );

    let err = error(&["analyze", &format!("oci:{}", oci.display())]);
    assert!(
        err.contains("is an OCI archive, not an OCI layout directory"),
        "{err}"
    );
    assert!(!err.contains("os error"), "{err}");
    assert!(err.contains("`oci-archive:"), "{err}");

    let err = error(&["analyze", &format!("oci-archive:{}", layout.display())]);
    assert!(
        err.contains("is an OCI layout directory, not an OCI archive"),
        "{err}"
    );

    let err = error(&["analyze", &format!("docker-archive:{}", oci.display())]);
    assert!(
        err.contains("is an OCI archive, not a docker archive"),
        "{err}"
    );

    // Typos of a transport.
    let err = error(&["analyze", &format!("docker-archve:{}", docker.display())]);
    assert!(err.contains("did you mean `docker-archive:`?"), "{err}");
    let err = error(&["analyze", &format!("oic:{}", layout.display())]);
    assert!(err.contains("did you mean `oci:`?"), "{err}");
}

#[test]
fn a_truncated_archive_is_called_truncated() {
    let dir = TempDir::new().unwrap();
    let full = dir.path().join("full.tar");
    small().write(Format::DockerArchive, &full).unwrap();
    let bytes = std::fs::read(&full).unwrap();
    // Cut inside a member's data, and cut at a member boundary (no end marker).
    let mid = dir.path().join("mid.tar");
    std::fs::write(&mid, &bytes[..bytes.len() / 2 + 100]).unwrap();
    let err = error(&["analyze", mid.to_str().unwrap()]);
    assert!(err.contains("is corrupt or truncated"), "{err}");
    assert!(!err.contains("neither an OCI layout"), "{err}");
    let boundary = dir.path().join("boundary.tar");
    std::fs::write(&boundary, &bytes[..1024]).unwrap();
    let err = error(&["analyze", &format!("docker-archive:{}", boundary.display())]);
    assert!(err.contains("is corrupt or truncated"), "{err}");
}

#[test]
fn ref_hints_name_the_nearest_ref_and_never_one_already_given() {
    let dir = TempDir::new().unwrap();
    let a = ImageBuilder::new()
        .ref_name("pip-waste")
        .layer("RUN a", |l| l.file("a", vec![1u8; 10]))
        .build()
        .unwrap();
    let b = ImageBuilder::new()
        .ref_name("apt-waste")
        .layer("RUN b", |l| l.file("b", vec![2u8; 10]))
        .build()
        .unwrap();
    let layout = dir.path().join("layout");
    fixture::write_index(
        &[(&a, "pip-waste"), (&b, "apt-waste")],
        Format::OciLayout,
        &layout,
    )
    .unwrap();
    let err = error(&["analyze", &format!("oci:{}:pip-wast", layout.display())]);
    assert!(err.contains("hint: did you mean `pip-waste`?"), "{err}");
    assert!(
        err.contains("pip-waste") && err.contains("apt-waste"),
        "{err}"
    );
    assert!(!err.contains("append"), "{err}");

    let tagged = ImageBuilder::new()
        .name("foo")
        .layer("RUN a", |l| l.file("a", vec![1u8; 10]))
        .build()
        .unwrap();
    let archive = dir.path().join("d.tar");
    tagged.write(Format::DockerArchive, &archive).unwrap();
    let err = error(&[
        "analyze",
        &format!("docker-archive:{}:zzz:qqq", archive.display()),
    ]);
    assert!(!err.contains("append"), "{err}");
    assert!(err.contains("replace `:zzz:qqq`"), "{err}");
}
