//! Local engines end to end: `podman:NAME` against a real podman with its own vfs storage
//! in a temp dir, `docker-daemon:NAME` against a real dockerd started on its own socket and
//! data root (each skipped with a note when the engine is missing), and the failure paths of
//! `docker-daemon:` (no such image, no `docker` program) with a stand-in `docker` script.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use layersift_fixture::{Format, ImageBuilder};
use serde_json::Value;

use crate::util::assert_live_snapshot;
use crate::util::layersift_at as layersift;

/// The JSON report of a run that must have succeeded; its stderr when it did not.
fn succeeded(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
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
    succeeded(&out);
    json_without_origin(&out.stdout)
}

#[test]
fn podman_image_analyses_like_its_archive_and_is_cached() {
    let Some(corpus) = crate::util::corpus() else {
        return;
    };
    if Command::new("podman").arg("--version").output().is_err() {
        crate::util::skip("`podman` not found (apt-get install podman)");
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
        crate::util::skip(&format!(
            "podman cannot run here: {}",
            String::from_utf8_lossy(&info.stderr).trim()
        ));
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
    let v = succeeded(&out);
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
    // Podman has no such image; the hint: `podman images`.
    assert_live_snapshot(
        "podman_no_such_image",
        &[],
        &String::from_utf8_lossy(&missing.stderr),
    );
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
    succeeded(&out);
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
    assert_live_snapshot(
        "docker_daemon_no_such_image",
        &[(&dir.path().display().to_string(), "[TMP]")],
        &String::from_utf8_lossy(&out.stderr),
    );

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = run("docker-daemon:corpus/edge", empty.to_str().unwrap());
    assert_eq!(out.status.code(), Some(2));
    // `docker` is not installed; the hint: install it.
    assert_live_snapshot(
        "docker_daemon_no_docker",
        &[(&dir.path().display().to_string(), "[TMP]")],
        &String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
}

/// A dockerd of this test's own: data root, exec root and socket in a temp dir, vfs storage,
/// no networking, so it touches nothing of the machine's. Stopped (SIGTERM, which also stops
/// the containerd it started) when dropped.
struct Dockerd {
    child: Child,
    host: String,
}

impl Dockerd {
    /// Starts dockerd under `dir`, or says why it cannot run here.
    fn start(dir: &Path) -> Result<Dockerd, String> {
        let sock = dir.join("docker.sock");
        let log = std::fs::File::create(dir.join("dockerd.log")).map_err(|e| e.to_string())?;
        let child = Command::new("dockerd")
            .arg("--data-root")
            .arg(dir.join("root"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--pidfile")
            .arg(dir.join("dockerd.pid"))
            .arg("-H")
            .arg(format!("unix://{}", sock.display()))
            .args(["--storage-driver", "vfs", "--iptables=false"])
            .args(["--ip6tables=false", "--bridge=none"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("`dockerd` not found ({e}); apt-get install docker.io"))?;
        let mut d = Dockerd {
            child,
            host: format!("unix://{}", sock.display()),
        };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if let Ok(Some(status)) = d.child.try_wait() {
                return Err(format!("dockerd exited with {status}: {}", d.log_tail(dir)));
            }
            if d.docker(&["info"]).status.success() {
                return Ok(d);
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        Err(format!(
            "dockerd did not answer in 60 s: {}",
            d.log_tail(dir)
        ))
    }

    fn log_tail(&self, dir: &Path) -> String {
        let log = std::fs::read_to_string(dir.join("dockerd.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(5)..].join("\n")
    }

    fn docker(&self, args: &[&str]) -> std::process::Output {
        Command::new("docker")
            .env("DOCKER_HOST", &self.host)
            .args(args)
            .output()
            .unwrap()
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn docker_daemon_reads_a_real_dockerd_like_the_archive_it_was_loaded_from() {
    if Command::new("docker").arg("--version").output().is_err() {
        crate::util::skip("`docker` not found (apt-get install docker.io)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let engine = match Dockerd::start(dir.path()) {
        Ok(d) => d,
        Err(why) => {
            crate::util::skip(&format!("no dockerd here: {why}"));
            return;
        }
    };
    // An image of the project's own with every kind of hidden byte: overwritten, removed by
    // a whiteout, hidden by an opaque directory.
    let img = ImageBuilder::new()
        .name("layersift-test/daemon")
        .ref_name("v1")
        .layer("ADD rootfs /", |l| {
            l.dir("etc")
                .file("etc/os-release", vec![b'o'; 100])
                .dir("app")
                .file("app/a.bin", vec![1u8; 1000])
                .symlink("app/link", "a.bin")
                .hardlink("app/hard", "app/a.bin")
                .dir("var/cache/apt")
                .file("var/cache/apt/pkgcache.bin", vec![2u8; 4096])
        })
        .layer("RUN echo v2 > /etc/os-release", |l| {
            l.file("etc/os-release", vec![b'n'; 120])
        })
        .layer("RUN rm -rf /var/cache/apt && rebuild /app", |l| {
            l.whiteout("var/cache/apt")
                .opaque("app")
                .file("app/b.bin", vec![3u8; 500])
        })
        .build()
        .unwrap();
    let archive: PathBuf = dir.path().join("image.docker.tar");
    img.write(Format::DockerArchive, &archive).unwrap();
    let load = engine.docker(&["load", "-i", archive.to_str().unwrap()]);
    assert!(
        load.status.success(),
        "docker load: {}",
        String::from_utf8_lossy(&load.stderr)
    );
    assert!(
        String::from_utf8_lossy(&load.stdout).contains("layersift-test/daemon:v1"),
        "{}",
        String::from_utf8_lossy(&load.stdout)
    );

    let analyze = |image: &str| {
        layersift(dir.path())
            .env("DOCKER_HOST", &engine.host)
            .env("TMPDIR", dir.path())
            .args(["analyze", "-f", "json", "--no-cache", image])
            .output()
            .unwrap()
    };
    let from_archive = analyze(&format!("docker-archive:{}", archive.display()));
    succeeded(&from_archive);
    let out = analyze("docker-daemon:layersift-test/daemon:v1");
    let v = succeeded(&out);
    assert_eq!(v["image"]["transport"], "docker-daemon");
    assert_eq!(
        v["image"]["reference"],
        "docker-daemon:layersift-test/daemon:v1"
    );
    // docker save rebuilt each layer from its store byte for byte (the diff_ids verified),
    // so the analysis is the archive's own.
    assert_eq!(
        json_without_origin(&out.stdout),
        json_without_origin(&from_archive.stdout)
    );
    let s = &v["summary"];
    assert_eq!(s["layer_count"], 3);
    assert_eq!(
        s["content_bytes"],
        100 + 1000 + 4096 + 120 + 500,
        "hard link counted once"
    );
    assert_eq!(s["visible_bytes"], 120 + 500);
    assert_eq!(s["overwritten_changed_bytes"], 100);
    assert_eq!(
        s["removed_bytes"],
        4096 + 1000,
        "whiteout and opaque directory"
    );

    // Two identical layers (two `WORKDIR`s on an existing directory): `docker save` stores
    // the second `layer.tar` as a symlink to the first, which is followed.
    let repeated = ImageBuilder::new()
        .name("layersift-test/repeated")
        .ref_name("v1")
        .layer("COPY app /app", |l| {
            l.dir("app").file("app/bin", vec![7u8; 3000])
        })
        .layer("WORKDIR /app", |l| l.dir("app"))
        .layer("WORKDIR /app", |l| l.dir("app"))
        .build()
        .unwrap();
    let archive = dir.path().join("repeated.docker.tar");
    repeated.write(Format::DockerArchive, &archive).unwrap();
    assert!(engine
        .docker(&["load", "-i", archive.to_str().unwrap()])
        .status
        .success());
    let saved = dir.path().join("saved.tar");
    let save = engine.docker(&[
        "save",
        "-o",
        saved.to_str().unwrap(),
        "layersift-test/repeated:v1",
    ]);
    assert!(
        save.status.success(),
        "{}",
        String::from_utf8_lossy(&save.stderr)
    );
    let mut links = Vec::new();
    let mut tar = tar::Archive::new(std::fs::File::open(&saved).unwrap());
    for e in tar.entries().unwrap() {
        let e = e.unwrap();
        if e.header().entry_type().is_symlink() {
            links.push(String::from_utf8_lossy(&e.path_bytes()).into_owned());
        }
    }
    let out = analyze("docker-daemon:layersift-test/repeated:v1");
    let v = succeeded(&out);
    assert_eq!(
        v["summary"]["layer_count"], 3,
        "symlinked members: {links:?}"
    );
    assert_eq!(v["summary"]["content_bytes"], 3000);
    let out = analyze(&format!("docker-archive:{}", saved.display()));
    assert_eq!(succeeded(&out)["summary"]["layer_count"], 3);
    assert!(
        links.iter().any(|l| l.ends_with("layer.tar")),
        "this dockerd saved the repeated layer without a symlink, so the case is not exercised"
    );

    let missing = analyze("docker-daemon:layersift-test/daemon:v2");
    assert_eq!(missing.status.code(), Some(2));
    assert_live_snapshot(
        "dockerd_no_such_image",
        &[(&dir.path().display().to_string(), "[TMP]")],
        &String::from_utf8_lossy(&missing.stderr),
    );

    // The daemon gone: the engine's own words, and a hint to check the service.
    drop(engine);
    let down = layersift(dir.path())
        .env(
            "DOCKER_HOST",
            format!("unix://{}", dir.path().join("docker.sock").display()),
        )
        .args([
            "analyze",
            "--no-cache",
            "docker-daemon:layersift-test/daemon:v1",
        ])
        .output()
        .unwrap();
    assert_eq!(down.status.code(), Some(2));
    // The engine's own words, then the hint.
    assert_live_snapshot(
        "dockerd_down",
        &[(&dir.path().display().to_string(), "[TMP]")],
        &String::from_utf8_lossy(&down.stderr),
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("layersift-"))
        .collect();
    assert!(leftovers.is_empty(), "saved archives are removed");
}
