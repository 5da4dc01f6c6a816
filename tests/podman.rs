//! Local engines end to end: `podman:NAME` against a real podman with its own vfs storage
//! in a temp dir (skipped with a note when podman is missing), and `docker-daemon:NAME`
//! against a stand-in `docker` program that behaves like `docker image save`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt as _;
use serde_json::Value;

fn layersift(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("layersift").unwrap();
    cmd.env("HOME", home).env("NO_COLOR", "1");
    cmd
}

/// JSON report without the fields that name where the image was read from.
fn json_without_origin(stdout: &[u8]) -> Value {
    let mut v: Value = serde_json::from_slice(stdout).unwrap();
    let img = v["image"].as_object_mut().unwrap();
    img.remove("reference");
    img.remove("transport");
    v
}

fn expected_edge(home: &Path, corpus: &Path) -> Value {
    let out = layersift(home)
        .args(["analyze", "-f", "json"])
        .arg(format!(
            "docker-archive:{}",
            corpus.join("edge.docker.tar").display()
        ))
        .output()
        .unwrap();
    assert!(out.status.success());
    json_without_origin(&out.stdout)
}

#[test]
fn podman_image_analyses_like_its_archive_and_is_cached() {
    let Some(corpus) = crate::util::corpus() else {
        return;
    };
    if Command::new("podman").arg("--version").output().is_err() {
        eprintln!("skipping: `podman` not found (apt-get install podman)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("storage.conf");
    std::fs::write(
        &conf,
        format!(
            "[storage]\ndriver = \"vfs\"\ngraphroot = \"{0}/graph\"\nrunroot = \"{0}/run\"\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let podman = |args: &[&str]| {
        Command::new("podman")
            .env("CONTAINERS_STORAGE_CONF", &conf)
            .args(args)
            .output()
            .unwrap()
    };
    let info = podman(&["info"]);
    if !info.status.success() {
        eprintln!(
            "skipping: podman cannot run here: {}",
            String::from_utf8_lossy(&info.stderr).trim()
        );
        return;
    }
    let load = podman(&[
        "load",
        "-q",
        "-i",
        corpus.join("edge.docker.tar").to_str().unwrap(),
    ]);
    assert!(
        load.status.success(),
        "podman load: {}",
        String::from_utf8_lossy(&load.stderr)
    );

    let cache = dir.path().join("cache");
    let analyze = |image: &str| {
        layersift(dir.path())
            .env("CONTAINERS_STORAGE_CONF", &conf)
            .args(["analyze", "-f", "json", "--cache-dir"])
            .arg(&cache)
            .arg(image)
            .output()
            .unwrap()
    };
    let out = analyze("podman:corpus/edge");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["image"]["reference"], "podman:corpus/edge");
    assert_eq!(v["image"]["transport"], "podman");
    let expected = expected_edge(dir.path(), &corpus);
    assert_eq!(json_without_origin(&out.stdout), expected);
    // The decoded layers are cached; the next run reads them back identically.
    let cached = std::fs::read_dir(cache.join("v1/layers/sha256"))
        .unwrap()
        .count();
    assert_eq!(cached, 6);
    let again = analyze("podman:corpus/edge");
    assert_eq!(again.stdout, out.stdout);

    let missing = analyze("podman:no/such-image");
    assert_eq!(missing.status.code(), Some(2));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("podman has no image `no/such-image`"), "{err}");
    assert!(err.contains("hint: `podman images`"), "{err}");
}

fn fake_docker(bin: &Path, corpus: &Path) {
    let script = bin.join("docker");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n\
             if [ \"$1 $2 $3\" = \"image save corpus/edge\" ]; then exec cat '{}'; fi\n\
             echo \"Error response from daemon: No such image: $3\" >&2\nexit 1\n",
            corpus.join("edge.docker.tar").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn docker_daemon_streams_docker_save_and_explains_failures() {
    let Some(corpus) = crate::util::corpus() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    fake_docker(&bin, &corpus);
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let run = |image: &str, path: &str| {
        layersift(dir.path())
            .env("PATH", path)
            .env("TMPDIR", &tmp)
            .args(["analyze", "-f", "json", "--no-cache", image])
            .output()
            .unwrap()
    };

    let out = run("docker-daemon:corpus/edge", &path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        json_without_origin(&out.stdout),
        expected_edge(dir.path(), &corpus)
    );
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "the saved archive is removed"
    );

    let out = run("docker-daemon:nope", &path);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("docker has no image `nope`"), "{err}");

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = run("docker-daemon:corpus/edge", empty.to_str().unwrap());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: cannot open image `docker-daemon:corpus/edge`"),
        "{err}"
    );
    assert!(
        err.contains("`docker` is not installed or not on PATH"),
        "{err}"
    );
    assert!(err.contains("hint: install docker"), "{err}");
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
}
