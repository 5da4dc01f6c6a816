//! Bad input: every broken image gives `error: …` with a cause and exit code 2, never a
//! panic. Each case builds the exact breakage with the fixture builder.

use layersift_fixture::{self as fixture, Compression, Format, ImageBuilder};
use predicates::prelude::*;
use std::path::Path;

use tempfile::TempDir;

use crate::util::{assert_output_snapshot, bin};

fn small(c: Compression) -> fixture::BuiltImage {
    ImageBuilder::new()
        .compression(c)
        .layer("RUN one", |l| {
            l.file("a/one", vec![b'1'; 4000])
                .file("a/two", vec![b'2'; 4000])
        })
        .layer("RUN two", |l| l.file("b", vec![b'3'; 10]))
        .build()
        .unwrap()
}

/// Runs `analyze` and checks the error contract (exit 2, nothing on stdout, `error: …`
/// first, the cause named, a `hint:` line, no panic), then snapshots the whole of stderr as `bad_input_NAME`
/// with the temporary directory shown as `[TMP]`; returns stderr.
fn fails(name: &str, dir: &Path, reference: &str, needle: &str) -> String {
    let out = bin()
        .args(["analyze", reference])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::starts_with("error: "))
        .stderr(predicate::str::contains(needle))
        .stderr(predicate::str::contains("\nhint: "))
        .stderr(predicate::str::contains("panicked").not());
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert_output_snapshot(&format!("bad_input_{name}"), dir, &err);
    err
}

fn layout(img: &fixture::BuiltImage, dir: &TempDir) -> String {
    let p = dir.path().join("layout");
    img.write(Format::OciLayout, &p).unwrap();
    format!("oci:{}", p.display())
}

#[test]
fn truncated_gzip() {
    let mut img = small(Compression::Gzip);
    let n = img.layers[0].blob.len() / 2;
    img.layers[0].blob.truncate(n);
    let dir = TempDir::new().unwrap();
    let err = fails(
        "truncated_gzip",
        dir.path(),
        &layout(&img, &dir),
        "cannot decode layer 0",
    );
    assert!(err.contains("gzip stream is corrupt or truncated"), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn truncated_zstd() {
    let mut img = small(Compression::Zstd);
    let n = img.layers[0].blob.len() - 8;
    img.layers[0].blob.truncate(n);
    let dir = TempDir::new().unwrap();
    fails(
        "truncated_zstd",
        dir.path(),
        &layout(&img, &dir),
        "cannot decode layer 0",
    );
}

#[test]
fn corrupt_tar_inside_a_valid_blob() {
    let mut img = small(Compression::Gzip);
    // Scribble over the first header's checksum field, then reseal so digests match.
    for b in &mut img.layers[1].tar[148..156] {
        *b = b'x';
    }
    img.reseal().unwrap();
    let dir = TempDir::new().unwrap();
    fails(
        "corrupt_tar",
        dir.path(),
        &layout(&img, &dir),
        "tar stream is corrupt",
    );
}

#[test]
fn blob_digest_mismatch() {
    let mut img = small(Compression::None);
    // Change file content without changing sizes: the tar stays valid, the digest does not.
    let pos = img.layers[0]
        .blob
        .windows(4)
        .position(|w| w == b"1111")
        .unwrap();
    img.layers[0].blob[pos] = b'X';
    let dir = TempDir::new().unwrap();
    fails(
        "blob_digest_mismatch",
        dir.path(),
        &layout(&img, &dir),
        "blob digest mismatch",
    );
}

#[test]
fn diff_id_mismatch() {
    let mut img = small(Compression::Gzip);
    img.edit_config(|c| {
        c["rootfs"]["diff_ids"][1] = serde_json::json!(format!("sha256:{}", "ab".repeat(32)));
    })
    .unwrap();
    let dir = TempDir::new().unwrap();
    fails(
        "diff_id_mismatch",
        dir.path(),
        &layout(&img, &dir),
        "diff_id mismatch",
    );
}

#[test]
fn missing_blob() {
    let img = small(Compression::Gzip);
    let mut files = img.files(Format::OciLayout).unwrap();
    files
        .remove(&fixture::blob_path(&img.layers[1].digest))
        .unwrap();
    let dir = TempDir::new().unwrap();
    let p = dir.path().join("layout");
    files.write(Format::OciLayout, &p).unwrap();
    fails(
        "missing_blob",
        dir.path(),
        &format!("oci:{}", p.display()),
        "is missing from the image",
    );
}

#[test]
fn malformed_manifest_json() {
    let mut img = small(Compression::Gzip);
    img.manifest_override = Some(b"{\"schemaVersion\": 2, \"layers\": [".to_vec());
    let dir = TempDir::new().unwrap();
    fails(
        "malformed_manifest_json",
        dir.path(),
        &layout(&img, &dir),
        "manifest is not valid JSON",
    );
}

#[test]
fn huge_index_json() {
    let img = small(Compression::Gzip);
    let mut files = img.files(Format::OciLayout).unwrap();
    let mut huge = b"{\"schemaVersion\":2,\"manifests\":[],\"annotations\":{\"x\":\"".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 5 << 20));
    huge.extend_from_slice(b"\"}}");
    files.put("index.json", huge);
    let dir = TempDir::new().unwrap();
    let p = dir.path().join("layout");
    files.write(Format::OciLayout, &p).unwrap();
    fails(
        "huge_index_json",
        dir.path(),
        &format!("oci:{}", p.display()),
        "more than the 4194304 bytes allowed",
    );
}

#[test]
fn layer_count_disagrees_with_diff_ids() {
    let mut img = small(Compression::Gzip);
    img.edit_config(|c| {
        c["rootfs"]["diff_ids"].as_array_mut().unwrap().pop();
    })
    .unwrap();
    let dir = TempDir::new().unwrap();
    fails(
        "layer_count_vs_diff_ids",
        dir.path(),
        &layout(&img, &dir),
        "the manifest lists 2 layers but the config's `rootfs.diff_ids` lists 1",
    );
}

#[test]
fn parent_dir_and_absolute_names_are_refused() {
    for (snapshot, name, problem) in [
        ("parent_dir_name", "../etc/passwd", "escapes the layer root"),
        ("absolute_name", "/etc/shadow", "absolute path"),
    ] {
        let img = ImageBuilder::new()
            .layer("RUN evil", |l| {
                l.file("ok", vec![1u8]).file(name, b"pwned".to_vec())
            })
            .build()
            .unwrap();
        let dir = TempDir::new().unwrap();
        fails(snapshot, dir.path(), &layout(&img, &dir), problem);
    }
}

#[test]
fn hostile_hard_link_target_is_refused() {
    let img = ImageBuilder::new()
        .layer("RUN evil", |l| l.hardlink("x", "../../etc/passwd"))
        .build()
        .unwrap();
    let dir = TempDir::new().unwrap();
    fails(
        "hostile_hard_link",
        dir.path(),
        &layout(&img, &dir),
        "hard link `x` points to `../../etc/passwd`, an unsafe name",
    );
}

#[test]
fn unknown_media_type() {
    let img = ImageBuilder::new()
        .layer("RUN a", |l| {
            l.file("a", vec![1u8])
                .media_type("application/vnd.example.helm.chart.v1+tar")
        })
        .build()
        .unwrap();
    let dir = TempDir::new().unwrap();
    fails(
        "unknown_media_type",
        dir.path(),
        &layout(&img, &dir),
        "unsupported media type `application/vnd.example.helm.chart.v1+tar`",
    );
}

#[test]
fn not_an_image_and_missing_paths() {
    let dir = TempDir::new().unwrap();
    let junk = dir.path().join("junk.tar");
    std::fs::write(&junk, b"this is not a tar archive at all").unwrap();
    fails(
        "not_a_tar",
        dir.path(),
        &format!("oci-archive:{}", junk.display()),
        "error:",
    );
    fails(
        "missing_layout_dir",
        dir.path(),
        &format!("oci:{}", dir.path().join("nope").display()),
        "does not exist",
    );
    fails(
        "missing_path",
        dir.path(),
        "./no/such/image.tar",
        "does not exist",
    );
    // A typo in the file name: the hint names the file beside it.
    let err = fails(
        "mistyped_path",
        dir.path(),
        &format!("oci-archive:{}", dir.path().join("jukn.tar").display()),
        "does not exist",
    );
    assert!(err.contains("did you mean `"), "{err}");
}

#[test]
fn random_bytes_as_layers_never_panic() {
    // A layer blob of pseudo-random bytes under every media type.
    let junk = fixture::noise(8192, 0x2545_f491_4f6c_dd1d);
    for c in [Compression::Gzip, Compression::Zstd, Compression::None] {
        let mut img = small(c);
        img.layers[0].tar = junk.clone();
        img.reseal().unwrap();
        let dir = TempDir::new().unwrap();
        bin()
            .args(["analyze", &layout(&img, &dir)])
            .assert()
            .stderr(predicate::str::contains("panicked").not());
    }
}

#[test]
fn malformed_config_json() {
    let mut img = small(Compression::Gzip);
    img.config = b"{\"architecture\": \"amd64\", \"rootfs\": ".to_vec();
    img.config_digest = fixture::sha256_digest(&img.config);
    let dir = TempDir::new().unwrap();
    fails(
        "malformed_config_json",
        dir.path(),
        &layout(&img, &dir),
        "config is not valid JSON",
    );
}

#[test]
fn huge_config_is_refused_before_reading() {
    let img = small(Compression::Gzip);
    let mut manifest: serde_json::Value = serde_json::from_slice(&img.manifest().unwrap()).unwrap();
    manifest["config"]["size"] = serde_json::json!(100u64 << 20);
    let mut img = img;
    img.manifest_override = Some(serde_json::to_vec(&manifest).unwrap());
    let dir = TempDir::new().unwrap();
    fails(
        "huge_config",
        dir.path(),
        &layout(&img, &dir),
        "the config is 104857600 bytes, more than the 33554432 bytes allowed",
    );
}

#[test]
fn config_digest_mismatch() {
    let mut img = small(Compression::Gzip);
    img.config.extend_from_slice(b"  ");
    let dir = TempDir::new().unwrap();
    fails(
        "config_digest_mismatch",
        dir.path(),
        &layout(&img, &dir),
        "the config does not match its digest",
    );
}

/// An OCI layout whose index lists no image, and a docker archive whose `manifest.json`
/// lists none: each says so, with a hint.
#[test]
fn empty_index_and_empty_manifest_list() {
    let img = small(Compression::Gzip);
    let dir = TempDir::new().unwrap();
    let mut f = img.files(Format::OciLayout).unwrap();
    f.put(
        "index.json",
        br#"{"schemaVersion":2,"manifests":[]}"#.to_vec(),
    );
    let p = dir.path().join("empty-layout");
    f.write(Format::OciLayout, &p).unwrap();
    let err = fails(
        "empty_index",
        dir.path(),
        &format!("oci:{}", p.display()),
        "the image index lists no images",
    );
    assert!(err.contains("\nhint: "), "{err}");

    let mut f = img.files(Format::DockerArchive).unwrap();
    f.put("manifest.json", b"[]".to_vec());
    let p = dir.path().join("empty.tar");
    f.write(Format::DockerArchive, &p).unwrap();
    let err = fails(
        "empty_manifest_list",
        dir.path(),
        &format!("docker-archive:{}", p.display()),
        "`manifest.json` lists no images",
    );
    assert!(err.contains("\nhint: "), "{err}");
}

/// A docker archive unpacked in a directory whose `manifest.json` names a config outside
/// that directory: refused before anything is read.
#[test]
fn blob_path_outside_the_image_directory_is_refused() {
    let img = small(Compression::Gzip);
    let dir = TempDir::new().unwrap();
    let mut f = img.files(Format::DockerArchive).unwrap();
    let mut manifest: serde_json::Value =
        serde_json::from_slice(f.get("manifest.json").unwrap()).unwrap();
    manifest[0]["Config"] = serde_json::json!("../outside.json");
    f.put("manifest.json", serde_json::to_vec(&manifest).unwrap());
    let p = dir.path().join("unpacked");
    f.write_dir(&p).unwrap();
    std::fs::write(dir.path().join("outside.json"), &img.config).unwrap();
    let err = fails(
        "blob_path_outside",
        dir.path(),
        &format!("docker-archive:{}", p.display()),
        "refusing blob path `../outside.json` outside the image directory",
    );
    assert!(err.contains("\nhint: "), "{err}");
}
