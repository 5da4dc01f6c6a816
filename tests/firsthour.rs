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
    run_in(Path::new("."), args)
}

/// [`run`] in the directory `dir` (where `check` looks for its config files).
fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = bin().current_dir(dir).args(args).output().unwrap();
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
    assert_eq!(v["schema_version"], 3);
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
    let prune = || {
        bin()
            .env("LAYERSIFT_CACHE_MAX_SIZE", "lots")
            .args(["cache", "prune", "--cache-dir"])
            .arg(cache.path())
            .output()
            .unwrap()
    };
    let stderr = String::from_utf8_lossy(&prune().stderr).into_owned();
    std::fs::create_dir_all(cache.path().join("v1")).unwrap();
    let out2 = prune();
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

/// An image with a deleted key, a token in ENV, a duplicate and a cache, for the gate and
/// the report.
fn leaky() -> fixture::BuiltImage {
    let key = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n".to_vec();
    let asset: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    ImageBuilder::new()
        .platform("linux", "amd64", None)
        .layer("COPY app /app", |l| {
            l.dir("app")
                .file("app/logo.bin", asset.clone())
                .dir("srv")
                .file("srv/static-logo-copy.bin", asset.clone())
        })
        .layer("COPY id_rsa /root/.ssh/id_rsa", |l| {
            l.dir("root/.ssh").file("root/.ssh/id_rsa", key.clone())
        })
        .layer("RUN rm /root/.ssh/id_rsa", |l| {
            l.whiteout("root/.ssh/id_rsa")
        })
        .env("APP_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB")
        .empty_layer_step("ENV APP_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB")
        .build()
        .unwrap()
}

#[test]
fn check_lists_each_secret_under_its_rule_redacted() {
    let dir = TempDir::new().unwrap();
    let r = write(&leaky(), Format::OciLayout, dir.path());
    let (code, stdout, stderr) = run_in(dir.path(), &["check", &r]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.starts_with("FAIL  no-secrets  2 secrets found\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("      - private key in `/root/.ssh/id_rsa`"),
        "{stdout}"
    );
    assert!(stdout.contains("layer 1"), "{stdout}");
    assert!(
        stdout.contains("(image config: ENV APP_TOKEN: ghp_"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("0123456789abcdef"),
        "never the secret: {stdout}"
    );
    assert!(
        !stdout.contains("b3BlbnNzaC1rZXkt"),
        "never the key: {stdout}"
    );
    assert!(stderr.contains("failed: 1 of 1 rule failed"), "{stderr}");

    // A passing run says so in words that agree.
    let clean = TempDir::new().unwrap();
    let r = write(&small(), Format::OciLayout, clean.path());
    let (code, _, stderr) = run_in(clean.path(), &["check", &r]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.starts_with("passed: the 1 rule passed"), "{stderr}");
}

#[test]
fn a_layersift_toml_without_check_does_not_hide_a_dive_ci() {
    let dir = TempDir::new().unwrap();
    let r = write(&small(), Format::OciLayout, dir.path());
    std::fs::write(
        dir.path().join("layersift.toml"),
        "# other settings\n[tui]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join(".dive-ci"),
        "rules:\n  lowestEfficiency: 0.5\n",
    )
    .unwrap();
    let (_, stdout, stderr) = run_in(dir.path(), &["check", &r]);
    assert!(
        stdout.contains("min-efficiency") && stdout.contains("100.0% >= 50.0%"),
        "{stdout}"
    );
    assert!(stderr.contains(".dive-ci"), "{stderr}");
    // With a [check] table, layersift.toml wins as before.
    std::fs::write(
        dir.path().join("layersift.toml"),
        "[check]\nmax_hidden_bytes = 1\n",
    )
    .unwrap();
    let (_, stdout, _) = run_in(dir.path(), &["check", &r]);
    assert!(
        stdout.contains("max-hidden-bytes") && !stdout.contains("min-efficiency"),
        "{stdout}"
    );
}

#[test]
fn text_report_lines_are_whole_in_files_and_limit_and_all_list_more() {
    let dir = TempDir::new().unwrap();
    let long = format!(
        "RUN {}",
        "echo a-very-long-build-step-that-goes-on ".repeat(8)
    );
    let img = ImageBuilder::new()
        .layer(&long, |l| {
            l.dir("var/cache/apt/archives")
                .file("var/cache/apt/archives/a.deb", vec![1u8; 3000])
                .dir("tmp")
                .file("tmp/x", vec![2u8; 2000])
                .dir("var/log")
                .file("var/log/dpkg.log", vec![3u8; 1000])
        })
        .layer("RUN rm -rf /tmp/x", |l| l.whiteout("tmp/x"))
        .build()
        .unwrap();
    let r = write(&img, Format::OciLayout, dir.path());
    let file = dir.path().join("report.txt");
    let (code, _, stderr) = run(&["analyze", &r, "-o", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains(long.trim_end()),
        "the whole step is in the file:\n{text}"
    );
    assert!(!text.contains('…'), "{text}");

    let (_, one, _) = run(&["analyze", &r, "--limit", "1"]);
    assert!(one.contains("Top findings (1 of "), "{one}");
    assert!(
        one.contains("more: `--limit N` or `--all` lists them"),
        "{one}"
    );
    let (_, all, _) = run(&["analyze", &r, "--all"]);
    let n = all
        .lines()
        .find_map(|l| l.strip_prefix("Top findings ("))
        .unwrap()
        .to_string();
    let (shown, total) = n.trim_end_matches(')').split_once(" of ").unwrap();
    assert_eq!(shown, total, "{all}");
    assert!(!all.contains("more: `--limit N`"), "{all}");
}

#[test]
fn numbers_words_and_attribution_in_the_report() {
    let dir = TempDir::new().unwrap();
    let r = write(&leaky(), Format::OciLayout, dir.path());
    let (code, text, stderr) = run(&["analyze", &r, "--all"]);
    assert_eq!(code, 0, "{stderr}");
    // ENV makes no layer: the secret is the config's.
    let env_line = text.lines().find(|l| l.contains("ENV APP_TOKEN`")).unwrap();
    assert!(env_line.contains(" config "), "{env_line}");
    assert!(!env_line.contains("layer"), "{env_line}");
    // The duplicate is named, not only the kept copy.
    assert!(
        text.contains("`/srv/static-logo-copy.bin` is a byte-identical copy of `/app/logo.bin`"),
        "{text}"
    );
    // One convention: percent, decimal units, plurals that agree.
    assert!(text.contains("in 3 layers"), "{text}");
    assert!(
        !text.contains("1 layers") && !text.contains("(s)"),
        "{text}"
    );
    assert!(
        text.contains("% of the content is visible in the final image"),
        "{text}"
    );
    let json = dir.path().join("r.json");
    run(&["analyze", &r, "-o", json.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let env = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["title"].as_str().unwrap().contains("ENV APP_TOKEN"))
        .unwrap();
    assert_eq!(env["in_config"], true);
    // No layer counts it: the layers' counts add up to the findings outside the config.
    let in_layers = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["in_config"] != true)
        .count() as u64;
    let counted: u64 = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["finding_count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, in_layers);
}

#[test]
fn compressed_savings_of_an_uncompressed_docker_archive_are_estimated_not_repeated() {
    let dir = TempDir::new().unwrap();
    // Text compresses well: the gzip sample must say so.
    let lists: Vec<u8> = (0..200_000usize)
        .map(|i| b"Package: libexample\nVersion: 1.0\n"[i % 33])
        .collect();
    let img = ImageBuilder::new()
        .compression(Compression::None)
        .layer("RUN apt-get update", |l| {
            l.dir("var/lib/apt/lists")
                .file("var/lib/apt/lists/Packages", lists.clone())
        })
        .layer("RUN rm -rf /var/lib/apt/lists/*", |l| {
            l.whiteout("var/lib/apt/lists/Packages")
        })
        .build()
        .unwrap();
    let r = write(&img, Format::DockerArchive, dir.path());
    let json = dir.path().join("r.json");
    let (code, _, stderr) = run(&["analyze", &r, "-o", json.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let s = &v["summary"];
    let raw = s["potential_savings_bytes"].as_u64().unwrap();
    let est = s["potential_savings_compressed_bytes"].as_u64().unwrap();
    assert_eq!(raw, 200_000);
    assert!(est > 0 && est < raw / 10, "estimate {est} of {raw}");
    let (_, text, _) = run(&["analyze", &r]);
    assert!(text.contains("compressed)"), "{text}");
    assert!(!text.contains(&format!("~{}", "200 kB")), "{text}");
}

#[test]
fn merge_suggestions_on_the_same_layers_become_one_without_cancelling_commands() {
    let dir = TempDir::new().unwrap();
    let img = ImageBuilder::new()
        .layer(
            "RUN mkdir -p /data/dir /data/keep && echo one > /data/dir/a.txt && echo keep > /data/keep/k.txt && echo f > /data/was-file",
            |l| {
                l.dir("data/dir")
                    .dir("data/keep")
                    .file("data/dir/a.txt", vec![b'1'; 2000])
                    .file("data/keep/k.txt", b"keep\n".to_vec())
                    .file("data/was-file", vec![b'f'; 3000])
            },
        )
        .layer("RUN rm -rf /data/dir && mkdir -p /data/dir && echo fresh > /data/dir/new.txt", |l| {
            l.whiteout("data/dir/a.txt")
                .file("data/dir/new.txt", b"fresh\n".to_vec())
        })
        .layer("RUN rm /data/was-file", |l| l.whiteout("data/was-file"))
        .build()
        .unwrap();
    let r = write(&img, Format::OciLayout, dir.path());
    let (code, text, stderr) = run(&["analyze", &r, "--all"]);
    assert_eq!(code, 0, "{stderr}");
    let merges: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("into one RUN"))
        .collect();
    assert_eq!(merges.len(), 1, "{text}");
    assert!(merges[0].contains("Merge layers 0, 1 and 2"), "{text}");
    let snippet: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("     | "))
        .collect();
    let snippet = snippet.join("\n");
    assert!(!snippet.contains("echo one > /data/dir/a.txt"), "{snippet}");
    assert!(!snippet.contains("echo f > /data/was-file"), "{snippet}");
    assert!(
        snippet.starts_with("RUN mkdir -p /data/keep \\"),
        "{snippet}"
    );
    assert!(
        snippet.contains("echo keep > /data/keep/k.txt"),
        "{snippet}"
    );
    // The rm stays, with -f: the command that made the file is gone, and a plain rm of a
    // missing file fails the build (found rebuilding the corpus `edge` recipe with buildah).
    assert!(snippet.contains("rm -f /data/was-file"), "{snippet}");
}

fn history_line(reference: &str, content: u64) -> String {
    serde_json::json!({
        "time": "2026-01-01T00:00:00Z", "reference": reference, "digest": null,
        "layer_count": 1, "content_bytes": content, "compressed_bytes": content / 2,
        "visible_bytes": content, "hidden_bytes": 0, "avoidable_bytes": 0,
        "waste_bytes": 0, "efficiency": 1.0, "secret_count": 0
    })
    .to_string()
}

#[test]
fn trend_keys_series_by_image_skips_bad_lines_and_checks_the_svg_path_first() {
    let dir = TempDir::new().unwrap();
    let h = dir.path().join("h.jsonl");
    let lines = [
        history_line("docker://reg.example/app:1.0", 100_000_000),
        history_line("docker://reg.example/api:1.0", 5_000_000),
        "{\"time\": \"broken".to_string(),
        history_line("docker://reg.example/app:1.1", 110_000_000),
        "not json".to_string(),
    ];
    std::fs::write(&h, lines.join("\n") + "\n").unwrap();
    let (code, out, err) = run(&["trend", h.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning: skipped 2 lines"), "{err}");
    assert!(err.contains("line 3, 5"), "{err}");
    assert!(
        out.contains("== docker://reg.example/app (2 records)"),
        "{out}"
    );
    assert!(
        out.contains("== docker://reg.example/api (1 record)"),
        "{out}"
    );
    // app's second row changes against app's first, not against api.
    assert!(out.contains("+10.0 MB"), "{out}");

    let (code, out, err) = run(&[
        "trend",
        h.to_str().unwrap(),
        "--svg",
        "/nonexistent-dir/x.svg",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "nothing printed before the failure: {out}");
    assert!(err.contains("cannot draw the chart"), "{err}");
}

#[test]
fn diff_of_identical_images_says_identical() {
    let dir = TempDir::new().unwrap();
    let r = write(&small(), Format::OciLayout, dir.path());
    let (code, out, err) = run(&["diff", &r, &r]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("identical: the same 2 layers"), "{out}");
    assert!(out.lines().count() <= 4, "{out}");
    let (_, md, _) = run(&["diff", &r, &r, "-f", "markdown"]);
    assert!(md.contains("The images are identical"), "{md}");
}

#[test]
fn ctrl_c_while_loading_exits_130_in_a_real_terminal() {
    if !crate::util::tmux_present() {
        return;
    }
    // A "registry" that accepts connections and never answers: loading never ends.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let mut conns = Vec::new();
        for c in listener.incoming().take(8) {
            conns.push(c);
        }
        std::thread::sleep(std::time::Duration::from_secs(30));
    });
    let _ = held;
    let bin = Path::new(env!("CARGO_BIN_EXE_layersift"));
    let cmd = format!(
        "{} --no-cache 127.0.0.1:{port}/hangs:1; echo EXIT=$?; sleep 20",
        bin.display()
    );
    let t = crate::util::Tmux::start("ctrlc", 100, 30, &cmd);
    t.wait_for("opening the image", 30);
    t.keys(&["C-c"]);
    let s = t.wait_for("EXIT=", 30);
    assert!(s.contains("EXIT=130"), "{s}");
}

/// Everything of a JSON report but where the image came from.
fn report_body(path: &Path) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["image"]["reference"] = serde_json::Value::Null;
    v["image"]["transport"] = serde_json::Value::Null;
    v
}

#[test]
fn gzip_and_zstd_compressed_archives_read_in_one_pass_like_the_plain_ones() {
    use std::io::Write as _;
    let dir = TempDir::new().unwrap();
    let img = leaky();
    for (format, name) in [
        (Format::DockerArchive, "docker.tar"),
        (Format::DockerArchiveOci, "docker25.tar"),
        (Format::OciArchive, "oci.tar"),
    ] {
        let plain = dir.path().join(name);
        img.write(format, &plain).unwrap();
        let bytes = std::fs::read(&plain).unwrap();
        let gz = dir.path().join(format!("{name}.gz"));
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&bytes).unwrap();
        std::fs::write(&gz, e.finish().unwrap()).unwrap();
        let zst = dir.path().join(format!("{name}.zst"));
        std::fs::write(&zst, zstd::encode_all(bytes.as_slice(), 3).unwrap()).unwrap();

        let want = dir.path().join(format!("{name}.json"));
        let (code, _, err) = run(&[
            "analyze",
            plain.to_str().unwrap(),
            "-o",
            want.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        for packed in [&gz, &zst] {
            let got = dir.path().join("got.json");
            let (code, _, err) = run(&[
                "analyze",
                packed.to_str().unwrap(),
                "-o",
                got.to_str().unwrap(),
            ]);
            assert_eq!(code, 0, "{}: {err}", packed.display());
            assert_eq!(
                report_body(&got),
                report_body(&want),
                "{}",
                packed.display()
            );
        }
        // A cut stream is called what it is.
        let cut = dir.path().join(format!("cut-{name}.gz"));
        let whole = std::fs::read(&gz).unwrap();
        std::fs::write(&cut, &whole[..whole.len() * 2 / 3]).unwrap();
        let err = error(&["analyze", cut.to_str().unwrap()]);
        assert!(err.contains("is corrupt or truncated"), "{err}");
    }
}

/// Tab moves between the panes in the order the README gives, and Shift+Tab goes back.
#[test]
fn tab_order_is_the_one_the_readme_gives() {
    use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .unwrap()
        .replace('\n', " ");
    let said = readme
        .split("moves between the panes in the order ")
        .nth(1)
        .and_then(|s| s.split(" (Shift+Tab").next())
        .expect("the README names the tab order");
    let said: Vec<String> = said.split(" → ").map(|s| s.trim().to_string()).collect();

    let dir = TempDir::new().unwrap();
    let img = write(&leaky(), Format::OciLayout, dir.path());
    let a = crate::util::analyze(&img).unwrap();
    let mut app = layersift::App::new(
        std::sync::Arc::new(a),
        ratatui::layout::Rect::new(0, 0, 120, 40),
    );
    app.sync();
    let name = |p: layersift::Pane| match p {
        layersift::Pane::Layers => "layers",
        layersift::Pane::Tree => "file tree",
        layersift::Pane::Findings => "findings",
        layersift::Pane::Details => "details",
    };
    let mut seen = vec![name(app.focus).to_string()];
    for _ in 1..said.len() {
        app.handle(&Event::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)));
        seen.push(name(app.focus).to_string());
    }
    assert_eq!(seen, said);
    app.handle(&Event::Key(KeyEvent::new(
        KeyCode::BackTab,
        KeyModifiers::SHIFT,
    )));
    assert_eq!(name(app.focus), said[said.len() - 2]);
}
