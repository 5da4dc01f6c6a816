//! Faults: unknown tags, unreachable hosts, tampered blobs, server errors, dropped and cut
//! downloads, all clear errors that cache nothing bad.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use layersift_fixture::{noise, Format, ImageBuilder};

use super::harness::*;
use crate::util::assert_live_snapshot;

#[test]
fn unknown_tag_unreachable_host_and_tampered_blob_are_clear_errors() {
    let Some((reg, home)) = registry(false) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let (a, _, layer) = fixture_pair(home.path());
    reg.push(&format!("oci:{}:latest", a.display()), "a:1", false);

    let mut cmd = layersift(home.path());
    cmd.args(["analyze", "--no-cache", &format!("{}/a:nope", reg.host())]);
    let r = run(cmd);
    assert_eq!(r.code, 2);
    // Names the reference that was not found.
    assert_live_snapshot(
        "registry_unknown_tag",
        &[(&reg.host(), "[REGISTRY]")],
        &r.stderr,
    );

    let port = free_port();
    let mut cmd = layersift(home.path());
    cmd.args([
        "analyze",
        "--no-cache",
        &format!("docker://127.0.0.1:{port}/a:1"),
    ]);
    let r = run(cmd);
    assert_eq!(r.code, 2);
    // Cannot reach the registry of that port.
    assert_live_snapshot(
        "registry_unreachable",
        &[(&format!("127.0.0.1:{port}"), "[NO_REGISTRY]")],
        &r.stderr,
    );

    // Flip one byte of the layer in the registry's storage (same size).
    let blob = reg.blob_file(&layer);
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 20;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    let mut cmd = layersift(home.path());
    cmd.args([
        "analyze",
        "--cache-dir",
        cache.path().to_str().unwrap(),
        &format!("docker://{}/a:1", reg.host()),
    ]);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // The blob's digest differs from the one the manifest says (`[LAYER]`).
    assert_live_snapshot(
        "registry_tampered_blob",
        &[
            (&reg.host(), "[REGISTRY]"),
            (&layer, "[LAYER]"),
            (cache.path().to_str().unwrap(), "[CACHE]"),
        ],
        &r.stderr,
    );
    assert_no_cached_layer(cache.path(), &layer);

    // A blob the registry lost.
    std::fs::remove_file(&blob).unwrap();
    let mut cmd = layersift(home.path());
    cmd.args([
        "analyze",
        "--no-cache",
        &format!("docker://{}/a:1", reg.host()),
    ]);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // The registry has the manifest but not the blob `[LAYER]`; the hint says it lost it.
    assert_live_snapshot(
        "registry_lost_blob",
        &[(&reg.host(), "[REGISTRY]"), (&layer, "[LAYER]")],
        &r.stderr,
    );
}

fn assert_no_cached_layer(cache: &Path, digest: &str) {
    let hex = digest.trim_start_matches("sha256:");
    let v1 = cache.join("v1");
    assert!(!v1.join("blobs/sha256").join(hex).exists(), "blob cached");
    assert!(!v1.join("layers/sha256").join(hex).exists(), "layer cached");
    assert_eq!(
        std::fs::read_dir(v1.join("tmp")).unwrap().count(),
        0,
        "temporary files left behind"
    );
}

/// An image with one 6 MB layer that gzip cannot shrink, so a cut lands inside the blob.
fn noisy_image(dir: &Path) -> (PathBuf, String) {
    let noise = noise(6 << 20, 1);
    let img = ImageBuilder::new()
        .layer("COPY noise /", |l| l.file("noise", noise))
        .build()
        .unwrap();
    let path = dir.join("noisy");
    img.write(Format::OciLayout, &path).unwrap();
    (path, img.layers[0].digest.clone())
}

#[test]
fn retries_server_errors_and_resumes_dropped_downloads() {
    let Some((reg, home)) = registry(false) else {
        return;
    };
    let (dir, layer) = noisy_image(home.path());
    reg.push(&format!("oci:{}:latest", dir.display()), "big:1", false);
    let expected = report(home.path(), &format!("oci:{}:latest", dir.display()), &[]);

    let flaky = proxy(reg.port, Fault::FailFirst(2));
    let r = report(
        home.path(),
        &format!("docker://127.0.0.1:{flaky}/big:1"),
        &["--no-cache"],
    );
    assert_eq!(r, expected);

    let before = reg.blob_gets().len();
    let cut = proxy(reg.port, Fault::CutOnce(2 << 20));
    let r = report(
        home.path(),
        &format!("docker://127.0.0.1:{cut}/big:1"),
        &["--no-cache"],
    );
    assert_eq!(r, expected);
    let gets: Vec<String> = reg.blob_gets()[before..].to_vec();
    assert_eq!(
        gets.iter().filter(|g| **g == layer).count(),
        2,
        "the layer download resumed once: {gets:?}"
    );
    // The second request asked only for the missing range: `… 206 BYTES` with fewer bytes
    // than the blob holds.
    let size = std::fs::metadata(reg.blob_file(&layer)).unwrap().len();
    let log = reg.log();
    let last = log
        .lines()
        .rfind(|l| l.contains("\"GET /v2/") && l.contains(&format!("/blobs/{layer} ")))
        .unwrap();
    let (status, bytes) = last
        .rsplit("HTTP/1.1\" ")
        .next()
        .and_then(|rest| {
            let mut it = rest.split(' ');
            Some((it.next()?.to_string(), it.next()?.parse::<u64>().ok()?))
        })
        .unwrap();
    assert_eq!(status, "206", "{last}");
    assert!(bytes > 0 && bytes < size, "{last}");
}

#[test]
fn registry_stopped_mid_download_is_a_clear_error_and_caches_nothing() {
    let Some((reg, home)) = registry(false) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let (dir, layer) = noisy_image(home.path());
    reg.push(&format!("oci:{}:latest", dir.display()), "big:1", false);

    let pid = reg.child.as_ref().unwrap().id();
    let port = proxy(
        reg.port,
        Fault::Stop(
            1 << 20,
            Box::new(move || {
                let _ = Command::new("kill").arg(pid.to_string()).status();
            }),
        ),
    );
    let mut cmd = layersift(home.path());
    cmd.args([
        "analyze",
        "--cache-dir",
        cache.path().to_str().unwrap(),
        &format!("docker://127.0.0.1:{port}/big:1"),
    ])
    .stdout(Stdio::piped());
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    // Layer 0 could not be decoded, from the registry's cut download; the hint: run again.
    assert_live_snapshot(
        "registry_cut_download",
        &[
            (&format!("127.0.0.1:{port}"), "[REGISTRY]"),
            (&layer, "[LAYER]"),
            (cache.path().to_str().unwrap(), "[CACHE]"),
        ],
        &r.stderr,
    );
    assert_no_cached_layer(cache.path(), &layer);
}
