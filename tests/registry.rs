//! Registry source end to end: a real registry (Debian's `docker-registry`) on 127.0.0.1,
//! images pushed with skopeo, the real binary reading them back. Skips with a note when
//! `docker-registry`, `skopeo` or `htpasswd` is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt as _;
use layersift::fixture::{Format, ImageBuilder};
use serde_json::Value;
use tempfile::TempDir;

const USER: &str = "reguser";
const PASS: &str = "Sekr1t-pass";

pub fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

fn tools_present() -> bool {
    for p in ["docker-registry", "skopeo", "htpasswd"] {
        if !have(p) {
            crate::util::skip(&format!(
                "`{p}` not found (apt-get install docker-registry skopeo apache2-utils)"
            ));
            return false;
        }
    }
    true
}

/// A running registry (with htpasswd auth when asked) and a private home directory, or
/// `None` with a printed note when the programs are missing.
fn registry(auth: bool) -> Option<(Registry, tempfile::TempDir)> {
    if !tools_present() {
        return None;
    }
    Some((Registry::start(auth), tempfile::tempdir().unwrap()))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(ip: &str, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect((ip, port)).is_err() {
        assert!(Instant::now() < deadline, "registry did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `docker-registry` process serving from a temp dir; killed on drop.
struct Registry {
    ip: &'static str,
    dir: TempDir,
    port: u16,
    child: Option<Child>,
    auth: bool,
}

impl Registry {
    fn start(auth: bool) -> Registry {
        Registry::start_on("127.0.0.1", auth)
    }

    fn start_on(ip: &'static str, auth: bool) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n\
             http:\n  addr: {ip}:{port}\n",
            dir.path().join("data").display()
        );
        if auth {
            let out = Command::new("htpasswd")
                .args(["-Bbn", USER, PASS])
                .output()
                .unwrap();
            assert!(out.status.success());
            std::fs::write(dir.path().join("htpasswd"), out.stdout).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                dir.path().join("htpasswd").display()
            ));
        }
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let log = std::fs::File::create(dir.path().join("log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        wait_for_port(ip, port);
        Registry {
            ip,
            dir,
            port,
            child: Some(child),
            auth,
        }
    }

    fn host(&self) -> String {
        format!("{}:{}", self.ip, self.port)
    }

    /// Copies an image into the registry as `NAME:TAG` with skopeo.
    fn push(&self, src: &str, name: &str, all: bool) {
        let mut cmd = Command::new("skopeo");
        cmd.args(["copy", "--quiet", "--dest-tls-verify=false"]);
        if all {
            cmd.arg("--all");
        }
        if self.auth {
            cmd.arg(format!("--dest-creds={USER}:{PASS}"));
        }
        let out = cmd
            .arg(src)
            .arg(format!("docker://{}/{name}", self.host()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "skopeo copy failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.dir.path().join("log")).unwrap()).into_owned()
    }

    /// Blob downloads (`GET …/blobs/sha256:…`) the registry has logged so far.
    fn blob_gets(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| l.contains("\"GET /v2/") && l.contains("/blobs/sha256:"))
            .filter_map(|l| l.split("/blobs/").nth(1))
            .filter_map(|l| l.split(' ').next())
            .map(str::to_string)
            .collect()
    }

    /// The file holding a blob in the registry's storage.
    fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The binary with a clean credential environment rooted at `home`.
fn layersift(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("layersift").unwrap();
    cmd.env("HOME", home)
        .env("NO_COLOR", "1")
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("LAYERSIFT_CACHE_DIR");
    cmd
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(mut cmd: Command) -> Run {
    let out = cmd.output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stdout.contains(PASS) && !run.stderr.contains(PASS),
        "a password leaked into the output"
    );
    run
}

/// The JSON report of an image, minus the fields that name where it was read from.
fn report(home: &Path, image: &str, extra: &[&str]) -> Value {
    let mut cmd = layersift(home);
    cmd.args(["analyze", "-f", "json", image]).args(extra);
    let r = run(cmd);
    assert_eq!(r.code, 0, "analyze {image} failed: {}", r.stderr);
    let mut v: Value = serde_json::from_str(&r.stdout).unwrap();
    let img = v["image"].as_object_mut().unwrap();
    img.remove("reference");
    img.remove("transport");
    v
}

fn reference_of(home: &Path, image: &str) -> String {
    let mut cmd = layersift(home);
    cmd.args(["analyze", "-f", "json", "--no-cache", image]);
    let r = run(cmd);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    v["image"]["reference"].as_str().unwrap().to_string()
}

#[test]
fn registry_images_analyse_like_their_oci_layout() {
    let Some(corpus) = crate::util::corpus() else {
        return;
    };
    let Some((reg, home)) = registry(false) else {
        return;
    };
    let layout = corpus.join("oci");
    for name in ["edge", "apt-waste"] {
        reg.push(
            &format!("oci:{}:{name}", layout.display()),
            &format!("{name}:1"),
            false,
        );
        let local = report(
            home.path(),
            &format!("oci:{}:{name}", layout.display()),
            &[],
        );
        let remote = report(
            home.path(),
            &format!("docker://{}/{name}:1", reg.host()),
            &["--no-cache"],
        );
        assert_eq!(
            remote, local,
            "{name} differs between registry and OCI layout"
        );
    }
    // A bare NAME:TAG is a registry reference, reported in normalised form.
    assert_eq!(
        reference_of(home.path(), &format!("{}/edge:1", reg.host())),
        format!("docker://{}/edge:1", reg.host())
    );
    // Pinning by digest reads the same image.
    let digest = report(home.path(), &format!("oci:{}:edge", layout.display()), &[])["image"]
        ["manifest_digest"]
        .as_str()
        .unwrap()
        .to_string();
    let by_digest = report(
        home.path(),
        &format!("docker://{}/edge@{digest}", reg.host()),
        &["--no-cache"],
    );
    assert_eq!(by_digest["image"]["manifest_digest"], digest.as_str());
}

#[test]
fn multi_arch_index_honours_platform() {
    let Some(corpus) = crate::util::corpus() else {
        return;
    };
    let Some((reg, home)) = registry(false) else {
        return;
    };
    let layout = format!(
        "oci:{}:edge-multiarch",
        corpus.join("edge-multiarch").display()
    );
    reg.push(&layout, "multi:1", true);
    let remote = format!("docker://{}/multi:1", reg.host());
    for (platform, layers) in [("linux/arm64/v8", 5), ("linux/amd64", 6)] {
        let r = report(
            home.path(),
            &remote,
            &["--platform", platform, "--no-cache"],
        );
        assert_eq!(r["layers"].as_array().unwrap().len(), layers, "{platform}");
        let local = report(home.path(), &layout, &["--platform", platform]);
        assert_eq!(r, local, "{platform}");
    }
    let mut cmd = layersift(home.path());
    cmd.args([
        "analyze",
        "--no-cache",
        "--platform",
        "linux/s390x",
        &remote,
    ]);
    let r = run(cmd);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no image for platform `linux/s390x`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("linux/arm64/v8"), "{}", r.stderr);
}

/// Two images sharing a first layer, built deterministically.
fn fixture_pair(dir: &Path) -> (PathBuf, PathBuf, String) {
    let base = |b: ImageBuilder| {
        b.layer("ADD rootfs /", |l| {
            l.dir("etc")
                .file("etc/os-release", "ID=test\n")
                .file("usr/lib/big.bin", vec![7u8; 300_000])
                .file(
                    "root/.ssh/id_rsa",
                    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n\
                     -----END RSA PRIVATE KEY-----\n",
                )
        })
    };
    let a = base(ImageBuilder::new()).build().unwrap();
    let b = base(ImageBuilder::new())
        .layer("RUN echo hi > /hi", |l| l.file("hi", "hi\n"))
        .build()
        .unwrap();
    assert_eq!(a.layers[0].digest, b.layers[0].digest);
    let (pa, pb) = (dir.join("a"), dir.join("b"));
    a.write(Format::OciLayout, &pa).unwrap();
    b.write(Format::OciLayout, &pb).unwrap();
    (pa, pb, a.layers[0].digest.clone())
}

#[test]
fn cache_serves_second_runs_and_shared_layers_and_refetches_damage() {
    let Some((reg, home)) = registry(false) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let (a, b, shared) = fixture_pair(home.path());
    reg.push(&format!("oci:{}:latest", a.display()), "a:1", false);
    reg.push(&format!("oci:{}:latest", b.display()), "b:1", false);
    let cache_arg = ["--cache-dir", cache.path().to_str().unwrap()];
    let a_ref = format!("docker://{}/a:1", reg.host());
    let b_ref = format!("docker://{}/b:1", reg.host());

    let first = report(home.path(), &a_ref, &cache_arg);
    assert!(
        first.to_string().contains("root/.ssh/id_rsa"),
        "the key is found: {first}"
    );
    let gets = reg.blob_gets();
    assert_eq!(gets.len(), 2, "config and one layer: {gets:?}");

    // A second run downloads no blob at all (not even the config).
    let second = report(home.path(), &a_ref, &cache_arg);
    assert_eq!(second, first);
    assert_eq!(reg.blob_gets(), gets, "the second run hit the registry");

    // An image sharing the base layer downloads only its own config and layer.
    let before = reg.blob_gets().len();
    let rb = report(home.path(), &b_ref, &cache_arg);
    let new: Vec<String> = reg.blob_gets()[before..].to_vec();
    assert_eq!(new.len(), 2, "{new:?}");
    assert!(
        !new.contains(&shared),
        "the shared layer was downloaded again"
    );
    assert_eq!(
        rb,
        report(home.path(), &format!("oci:{}:latest", b.display()), &[])
    );

    // Damage the cached decode and blob of the shared layer: detected, fetched again.
    let hex = shared.trim_start_matches("sha256:");
    let v1 = cache.path().join("v1");
    for entry in [
        v1.join("layers/sha256").join(hex),
        v1.join("blobs/sha256").join(hex),
    ] {
        let mut bytes = std::fs::read(&entry).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x55;
        std::fs::write(&entry, bytes).unwrap();
    }
    let before = reg.blob_gets().len();
    let again = report(home.path(), &a_ref, &cache_arg);
    assert_eq!(again, first);
    assert_eq!(reg.blob_gets()[before..].to_vec(), vec![shared.clone()]);
    // … and the refetched entries are whole again.
    let third_before = reg.blob_gets().len();
    assert_eq!(report(home.path(), &a_ref, &cache_arg), first);
    assert_eq!(reg.blob_gets().len(), third_before);

    // --no-cache neither reads nor writes the cache.
    let empty = tempfile::tempdir().unwrap();
    let before = reg.blob_gets().len();
    report(
        home.path(),
        &a_ref,
        &["--no-cache", "--cache-dir", empty.path().to_str().unwrap()],
    );
    assert_eq!(reg.blob_gets().len(), before + 2);
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);
}

/// Bytes of every entry in a cache directory.
fn cache_bytes(cache: &Path) -> u64 {
    ["blobs/sha256", "layers/sha256"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(cache.join("v1").join(sub)).unwrap())
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

#[test]
fn cache_stays_under_its_limit_least_recently_used_first_and_can_be_pruned() {
    let Some((reg, home)) = registry(false) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let (a, b, shared) = fixture_pair(home.path());
    reg.push(&format!("oci:{}:latest", a.display()), "a:1", false);
    reg.push(&format!("oci:{}:latest", b.display()), "b:1", false);
    let dir = cache.path().to_str().unwrap();
    let a_ref = format!("docker://{}/a:1", reg.host());
    let b_ref = format!("docker://{}/b:1", reg.host());

    // Unlimited, both images fill the cache; note how much each takes.
    report(home.path(), &a_ref, &["--cache-dir", dir]);
    let after_a = cache_bytes(cache.path());
    report(home.path(), &b_ref, &["--cache-dir", dir]);
    let full = cache_bytes(cache.path());
    assert!(full > after_a && after_a > 0, "{after_a} {full}");

    // `cache info` reports what is there.
    let mut cmd = layersift(home.path());
    cmd.args(["cache", "--cache-dir", dir]);
    let r = run(cmd);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(dir), "{}", r.stdout);
    assert!(r.stdout.contains("blobs   4 "), "{}", r.stdout);
    assert!(r.stdout.contains("layers  2 decoded"), "{}", r.stdout);

    // A run with a limit below the total trims the least recently used entries: using `a`
    // again makes `b`'s own entries the oldest, so they go and `a`'s stay.
    let limit = (full - 1).to_string();
    let before = reg.blob_gets().len();
    report(
        home.path(),
        &a_ref,
        &["--cache-dir", dir, "--cache-max-size", &limit],
    );
    assert_eq!(reg.blob_gets().len(), before, "a was served from the cache");
    assert!(cache_bytes(cache.path()) < full);
    let before = reg.blob_gets().len();
    report(home.path(), &a_ref, &["--cache-dir", dir]);
    assert_eq!(reg.blob_gets().len(), before, "a's entries were kept");
    let hex = shared.trim_start_matches("sha256:");
    assert!(cache.path().join("v1/layers/sha256").join(hex).exists());

    // `cache prune --max-size` and `--all`.
    let mut cmd = layersift(home.path());
    cmd.args(["cache", "prune", "--max-size", "1", "--cache-dir", dir]);
    let r = run(cmd);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("removed "), "{}", r.stdout);
    assert_eq!(cache_bytes(cache.path()), 0);
    let mut cmd = layersift(home.path());
    cmd.args(["cache", "prune", "--all", "--cache-dir", dir]);
    assert_eq!(run(cmd).code, 0);
    let mut cmd = layersift(home.path());
    cmd.args(["cache", "prune", "--max-size", "lots", "--cache-dir", dir]);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not a size"), "{}", r.stderr);
}

fn write_helper(bin: &Path, name: &str, user: &str, pass: &str) {
    let script = bin.join(format!("docker-credential-{name}"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nread server\necho \"$server\" >> \"$(dirname \"$0\")/asked\"\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"{user}\",\"Secret\":\"{pass}\"}}' \"$server\"\n"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn basic_auth_from_every_credential_source() {
    if !tools_present() {
        return;
    }
    let reg = Registry::start(true);
    let images = tempfile::tempdir().unwrap();
    let (a, _, _) = fixture_pair(images.path());
    reg.push(&format!("oci:{}:latest", a.display()), "private/a:1", false);
    let image = format!("docker://{}/private/a:1", reg.host());
    let expected = report(
        Path::new("/nonexistent"),
        &format!("oci:{}:latest", a.display()),
        &[],
    );
    let host = reg.host();
    use base64::Engine as _;
    let auth =
        |u: &str, p: &str| base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
    let good = auth(USER, PASS);

    // Each case: how to set up HOME (and env), then whether it must succeed.
    let bin = tempfile::tempdir().unwrap();
    write_helper(bin.path(), "good", USER, PASS);
    write_helper(bin.path(), "bad", USER, "wrong");
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    type Setup<'a> = Box<dyn Fn(&Path, &mut Command) + 'a>;
    let cases: Vec<(&str, Setup<'_>, bool)> = vec![
        (
            "--creds",
            Box::new(|_, c: &mut Command| {
                c.arg(format!("--creds={USER}:{PASS}"));
            }),
            true,
        ),
        (
            "~/.docker/config.json auths",
            Box::new(|h: &Path, _: &mut Command| {
                std::fs::create_dir_all(h.join(".docker")).unwrap();
                std::fs::write(
                    h.join(".docker/config.json"),
                    format!(r#"{{"auths":{{"{host}":{{"auth":"{good}"}}}}}}"#),
                )
                .unwrap();
            }),
            true,
        ),
        (
            "DOCKER_CONFIG auths",
            Box::new(|h: &Path, c: &mut Command| {
                std::fs::create_dir_all(h.join("dc")).unwrap();
                std::fs::write(
                    h.join("dc/config.json"),
                    format!(r#"{{"auths":{{"http://{host}":{{"auth":"{good}"}}}}}}"#),
                )
                .unwrap();
                c.env("DOCKER_CONFIG", h.join("dc"));
            }),
            true,
        ),
        (
            "REGISTRY_AUTH_FILE",
            Box::new(|h: &Path, c: &mut Command| {
                std::fs::write(
                    h.join("auth.json"),
                    format!(r#"{{"auths":{{"{host}/private":{{"auth":"{good}"}}}}}}"#),
                )
                .unwrap();
                c.env("REGISTRY_AUTH_FILE", h.join("auth.json"));
            }),
            true,
        ),
        (
            "podman auth.json under XDG_RUNTIME_DIR",
            Box::new(|h: &Path, c: &mut Command| {
                std::fs::create_dir_all(h.join("run/containers")).unwrap();
                std::fs::write(
                    h.join("run/containers/auth.json"),
                    format!(r#"{{"auths":{{"{host}":{{"auth":"{good}"}}}}}}"#),
                )
                .unwrap();
                c.env("XDG_RUNTIME_DIR", h.join("run"));
            }),
            true,
        ),
        (
            "credHelpers",
            Box::new(|h: &Path, c: &mut Command| {
                std::fs::create_dir_all(h.join(".docker")).unwrap();
                std::fs::write(
                    h.join(".docker/config.json"),
                    format!(r#"{{"credHelpers":{{"{host}":"good"}},"credsStore":"bad"}}"#),
                )
                .unwrap();
                c.env("PATH", &path);
            }),
            true,
        ),
        (
            "credsStore",
            Box::new(|h: &Path, c: &mut Command| {
                std::fs::create_dir_all(h.join(".docker")).unwrap();
                std::fs::write(h.join(".docker/config.json"), r#"{"credsStore":"good"}"#).unwrap();
                c.env("PATH", &path);
            }),
            true,
        ),
        (
            "wrong --creds",
            Box::new(|_, c: &mut Command| {
                c.arg(format!("--creds={USER}:not-{PASS}"));
            }),
            false,
        ),
        (
            "wrong password from a helper",
            Box::new(|h: &Path, c: &mut Command| {
                std::fs::create_dir_all(h.join(".docker")).unwrap();
                std::fs::write(h.join(".docker/config.json"), r#"{"credsStore":"bad"}"#).unwrap();
                c.env("PATH", &path);
            }),
            false,
        ),
        ("no credentials", Box::new(|_, _: &mut Command| {}), false),
    ];
    for (name, setup, ok) in cases {
        let home = tempfile::tempdir().unwrap();
        let mut cmd = layersift(home.path());
        cmd.args(["analyze", "-f", "json", "--no-cache", &image]);
        setup(home.path(), &mut cmd);
        let r = run(cmd);
        if ok {
            assert_eq!(r.code, 0, "{name}: {}", r.stderr);
            let mut v: Value = serde_json::from_str(&r.stdout).unwrap();
            let img = v["image"].as_object_mut().unwrap();
            img.remove("reference");
            img.remove("transport");
            assert_eq!(v, expected, "{name}");
        } else {
            assert_eq!(r.code, 2, "{name}: {}", r.stderr);
            assert!(
                r.stderr
                    .contains(&format!("registry `{host}` refused access")),
                "{name}: {}",
                r.stderr
            );
            assert!(r.stderr.contains("hint: "), "{name}: {}", r.stderr);
        }
    }
    // A configured helper that is not installed is an error that names it.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".docker")).unwrap();
    std::fs::write(
        home.path().join(".docker/config.json"),
        r#"{"credsStore":"nosuch"}"#,
    )
    .unwrap();
    let mut cmd = layersift(home.path());
    cmd.args(["analyze", "--no-cache", &image])
        .env("PATH", &path);
    let r = run(cmd);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("cannot run the credential helper `docker-credential-nosuch`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("hint: install the credential helper"),
        "{}",
        r.stderr
    );

    assert!(
        std::fs::read_to_string(bin.path().join("asked"))
            .unwrap()
            .contains(&host),
        "helpers are asked about the registry"
    );
}

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
    assert!(
        r.stderr.contains(&format!(
            "`{}/a:nope` was not found in registry",
            reg.host()
        )),
        "{}",
        r.stderr
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
    assert!(
        r.stderr
            .contains(&format!("cannot reach registry `127.0.0.1:{port}`")),
        "{}",
        r.stderr
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
    assert!(
        r.stderr.contains(&format!("the manifest says `{layer}`")),
        "{}",
        r.stderr
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
    assert!(
        r.stderr.contains(&format!(
            "registry `{0}` has the manifest of `{0}/a:1` but not blob `{layer}`",
            reg.host()
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("hint: the registry lost part of this image"),
        "{}",
        r.stderr
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

/// What a [`proxy`] in front of the registry does to the traffic.
enum Fault {
    /// Answers the first `n` connections with `503 Service Unavailable`.
    FailFirst(usize),
    /// Drops the connection once `limit` bytes went to the client, once; then forwards.
    CutOnce(u64),
    /// Once `limit` bytes went to the client, calls `stop` (which stops the registry) and
    /// drops every connection from then on.
    Stop(u64, Box<dyn FnOnce() + Send>),
}

/// Starts a TCP proxy to `127.0.0.1:upstream` that injects `fault`; returns its port.
fn proxy(upstream: u16, fault: Fault) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (limit, fail_first, stays_down) = match &fault {
        Fault::FailFirst(n) => (u64::MAX, *n, false),
        Fault::CutOnce(l) => (*l, 0, false),
        Fault::Stop(l, _) => (*l, 0, true),
    };
    let on_cut = Arc::new(Mutex::new(match fault {
        Fault::Stop(_, f) => Some(f),
        _ => None,
    }));
    let sent = Arc::new(AtomicU64::new(0));
    let cut = Arc::new(AtomicBool::new(false));
    std::thread::spawn(move || {
        for (i, client) in listener.incoming().enumerate() {
            let Ok(mut client) = client else { continue };
            if i < fail_first {
                let mut buf = [0u8; 64 * 1024];
                let _ = client.read(&mut buf);
                let _ = client.write_all(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                let _ = client.shutdown(Shutdown::Both);
                continue;
            }
            if stays_down && cut.load(Ordering::SeqCst) {
                let _ = client.shutdown(Shutdown::Both);
                continue;
            }
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            let (mut c_read, mut s_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_read, &mut s_write);
                let _ = s_write.shutdown(Shutdown::Write);
            });
            let (sent, cut, on_cut) = (sent.clone(), cut.clone(), on_cut.clone());
            let (mut s_read, mut c_write) = (server, client);
            std::thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                loop {
                    let n = match s_read.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if (stays_down && cut.load(Ordering::SeqCst))
                        || c_write.write_all(&buf[..n]).is_err()
                    {
                        break;
                    }
                    let total = sent.fetch_add(n as u64, Ordering::SeqCst) + n as u64;
                    if total > limit && !cut.swap(true, Ordering::SeqCst) {
                        if let Some(f) = on_cut.lock().unwrap().take() {
                            f();
                        }
                        break;
                    }
                }
                let _ = c_write.shutdown(Shutdown::Both);
                let _ = s_read.shutdown(Shutdown::Both);
            });
        }
    });
    port
}

/// An image with one 6 MB layer that gzip cannot shrink, so a cut lands inside the blob.
fn noisy_image(dir: &Path) -> (PathBuf, String) {
    let mut noise = Vec::with_capacity(6 << 20);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while noise.len() < 6 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.extend_from_slice(&x.to_le_bytes());
    }
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
    assert!(
        r.stderr.starts_with("error: cannot decode layer 0"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("registry `127.0.0.1:"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("hint: the download failed; run the command again"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert_no_cached_layer(cache.path(), &layer);
}

#[test]
fn https_by_default_and_plain_http_with_tls_verify_false() {
    if !tools_present() {
        return;
    }
    // Any loopback address but `127.0.0.1` and `localhost` counts as a remote host.
    let reg = Registry::start_on("127.0.0.2", false);
    let home = tempfile::tempdir().unwrap();
    let (a, _, _) = fixture_pair(home.path());
    reg.push(&format!("oci:{}:latest", a.display()), "a:1", false);
    let image = format!("docker://{}/a:1", reg.host());

    let mut cmd = layersift(home.path());
    cmd.args(["analyze", "--no-cache", &image]);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("https://127.0.0.2:"), "{}", r.stderr);
    assert!(
        r.stderr.contains("pass `--tls-verify=false`"),
        "{}",
        r.stderr
    );
    assert!(
        reg.log().lines().all(|l| !l.contains("\"GET /v2/a/")),
        "nothing was fetched over plain HTTP"
    );

    let insecure = report(home.path(), &image, &["--no-cache", "--tls-verify=false"]);
    assert_eq!(
        insecure,
        report(home.path(), &format!("oci:{}:latest", a.display()), &[])
    );
}

/// Reads one HTTP request head (up to the blank line); `None` when the peer closed.
fn read_head(s: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

const TOKEN: &str = "tok-3f9a";

/// Who a [`token_front`] hands its token to.
#[derive(Clone, Copy)]
enum Grant<'a> {
    /// Anyone asking with `GET /token` (anonymous pulls, as on Docker Hub).
    Anyone,
    /// `GET /token` with these basic credentials.
    Basic(&'a str, &'a str),
    /// `POST /token` with `grant_type=refresh_token` and this refresh (identity) token, the
    /// OAuth2 way of the distribution token spec; nothing else.
    Refresh(&'a str),
}

/// One request to a [`token_front`]'s `/token`: its method, `Authorization` header and,
/// for a `POST`, its form fields (decoded).
#[derive(Clone, Debug)]
struct TokenRequest {
    method: String,
    authorization: String,
    form: Vec<(String, String)>,
}

impl TokenRequest {
    fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes an `application/x-www-form-urlencoded` body.
fn form_decode(body: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < b.len() => {
                    let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 2;
                }
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8(out).unwrap()
    };
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// A token-auth front for the registry, as Docker Hub, GHCR and ACR do it: `/v2/…` needs
/// `Authorization: Bearer TOKEN`, else answers 401 with a `Bearer realm=…/token` challenge;
/// `/token` hands the token out as `grant` says (a refused `POST` gets OAuth2's
/// `400 invalid_grant`). Returns the port and the requests sent to `/token`.
fn token_front(upstream: u16, grant: Grant<'_>) -> (u16, Arc<Mutex<Vec<TokenRequest>>>) {
    token_front_with(upstream, grant, Lapse::Never)
}

/// Which tokens a [`token_front_with`] stops taking for blobs once the first blob (the
/// config) has been served.
#[derive(Clone, Copy, PartialEq)]
enum Lapse {
    Never,
    /// The first token handed out, as when it expires during a long pull.
    First,
    /// Every token: a registry whose tokens do not grant the layers.
    All,
}

/// A [`token_front`] that numbers the tokens it hands out (`TOKEN-0`, `TOKEN-1`, …) and
/// answers `401 invalid_token` to blob requests carrying a token that has lapsed.
fn token_front_with(
    upstream: u16,
    grant: Grant<'_>,
    lapse: Lapse,
) -> (u16, Arc<Mutex<Vec<TokenRequest>>>) {
    use base64::Engine as _;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    // What a `GET /token` must carry (`None`: anything), or the refresh token a `POST`
    // must carry.
    let (want_get, want_refresh): (Option<Option<String>>, Option<String>) = match grant {
        Grant::Anyone => (Some(None), None),
        Grant::Basic(u, p) => (
            Some(Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            ))),
            None,
        ),
        Grant::Refresh(t) => (None, Some(t.to_string())),
    };
    let log = seen.clone();
    let issued = Arc::new(AtomicU64::new(0));
    let first_blobs = Arc::new(AtomicU64::new(0));
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let (want_get, want_refresh, log) =
                (want_get.clone(), want_refresh.clone(), log.clone());
            let (issued, first_blobs) = (issued.clone(), first_blobs.clone());
            std::thread::spawn(move || {
                while let Some(head) = read_head(&mut client) {
                    let method = head.split(' ').next().unwrap_or("").to_string();
                    let path = head.split(' ').nth(1).unwrap_or("").to_string();
                    let auth = header(&head, "authorization").unwrap_or("").to_string();
                    let reply = |c: &mut TcpStream, status: &str, extra: &str, body: &str| {
                        let _ = write!(
                            c,
                            "HTTP/1.1 {status}\r\n{extra}Content-Type: application/json\r\n\
                             Content-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                    };
                    if path.starts_with("/token") {
                        let len: usize = header(&head, "content-length")
                            .and_then(|l| l.parse().ok())
                            .unwrap_or(0);
                        let mut body = vec![0u8; len];
                        if client.read_exact(&mut body).is_err() {
                            return;
                        }
                        let form = if method == "POST" {
                            form_decode(&String::from_utf8_lossy(&body))
                        } else {
                            Vec::new()
                        };
                        let request = TokenRequest {
                            method: method.clone(),
                            authorization: auth.clone(),
                            form,
                        };
                        let granted = match (method.as_str(), &want_get, &want_refresh) {
                            ("GET", Some(want), _) => want.as_ref().is_none_or(|w| *w == auth),
                            ("POST", _, Some(refresh)) => {
                                request.field("grant_type") == Some("refresh_token")
                                    && request.field("refresh_token") == Some(refresh.as_str())
                            }
                            _ => false,
                        };
                        log.lock().unwrap().push(request);
                        let token = if granted {
                            format!("{TOKEN}-{}", issued.fetch_add(1, Ordering::SeqCst))
                        } else {
                            String::new()
                        };
                        if granted && method == "POST" {
                            let body = format!(
                                r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":300}}"#
                            );
                            reply(&mut client, "200 OK", "", &body);
                        } else if granted {
                            let body = format!(r#"{{"token":"{token}","expires_in":300}}"#);
                            reply(&mut client, "200 OK", "", &body);
                        } else if method == "POST" {
                            let body = r#"{"error":"invalid_grant","error_description":"unknown refresh token"}"#;
                            reply(&mut client, "400 Bad Request", "", body);
                        } else {
                            reply(&mut client, "401 Unauthorized", "", "{}");
                        }
                        continue;
                    }
                    let number = auth
                        .strip_prefix(&format!("Bearer {TOKEN}-"))
                        .and_then(|n| n.parse::<u64>().ok())
                        .filter(|n| *n < issued.load(Ordering::SeqCst));
                    let lapsed = match lapse {
                        Lapse::Never => false,
                        Lapse::First => number == Some(0),
                        Lapse::All => true,
                    } && path.contains("/blobs/")
                        && first_blobs.fetch_add(1, Ordering::SeqCst) >= 1;
                    if number.is_none() || lapsed {
                        let error = if lapsed {
                            ",error=\"invalid_token\""
                        } else {
                            ""
                        };
                        let challenge = format!(
                            "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",\
                             service=\"test\"{error}\r\n"
                        );
                        let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
                        reply(&mut client, "401 Unauthorized", &challenge, body);
                        continue;
                    }
                    // Forward this one request, asking the registry to close afterwards.
                    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                        return;
                    };
                    let head = head.replacen("\r\n", "\r\nConnection: close\r\n", 1);
                    let _ = server.write_all(head.as_bytes());
                    let _ = std::io::copy(&mut server, &mut client);
                    let _ = client.shutdown(Shutdown::Both);
                    return;
                }
            });
        }
    });
    (port, seen)
}

#[test]
fn bearer_tokens_anonymous_and_with_credentials() {
    let Some((reg, home)) = registry(false) else {
        return;
    };
    let (a, _, _) = fixture_pair(home.path());
    reg.push(&format!("oci:{}:latest", a.display()), "a:1", false);
    let expected = report(home.path(), &format!("oci:{}:latest", a.display()), &[]);

    // Anonymous: a token is fetched without credentials, then used.
    let (open, seen) = token_front(reg.port, Grant::Anyone);
    let image = format!("docker://127.0.0.1:{open}/a:1");
    assert_eq!(report(home.path(), &image, &["--no-cache"]), expected);
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty(), "no token was requested");
    assert!(
        seen.iter()
            .all(|r| r.method == "GET" && r.authorization.is_empty()),
        "{seen:?}"
    );

    // A token service that wants credentials gets them as basic auth.
    let (private, seen) = token_front(reg.port, Grant::Basic(USER, PASS));
    let image = format!("docker://127.0.0.1:{private}/a:1");
    let creds = format!("--creds={USER}:{PASS}");
    assert_eq!(
        report(home.path(), &image, &["--no-cache", creds.as_str()]),
        expected
    );
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .all(|r| r.authorization.starts_with("Basic ")));

    let mut cmd = layersift(home.path());
    cmd.args([
        "analyze",
        "--no-cache",
        &format!("--creds={USER}:wrong"),
        &image,
    ]);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("refused access"), "{}", r.stderr);
    assert!(r.stderr.contains("`--creds`"), "{}", r.stderr);
}

#[test]
fn many_layers_prefetch_without_stalling() {
    let Some((reg, home)) = registry(false) else {
        return;
    };
    // Twelve layers of 2 MB that gzip cannot shrink: more than run ahead of decode, and
    // each more than a download buffers before it waits for its reader.
    let mut b = ImageBuilder::new();
    for i in 0..12u64 {
        let mut x = 0x9e37_79b9_7f4a_7c15 ^ (i + 1);
        let mut noise = Vec::with_capacity(2 << 20);
        while noise.len() < 2 << 20 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            noise.extend_from_slice(&x.to_le_bytes());
        }
        b = b.layer(&format!("COPY part{i} /"), move |l| {
            l.file(format!("part{i}"), noise)
        });
    }
    let dir = home.path().join("many");
    b.build().unwrap().write(Format::OciLayout, &dir).unwrap();
    reg.push(&format!("oci:{}:latest", dir.display()), "many:1", false);
    let expected = report(home.path(), &format!("oci:{}:latest", dir.display()), &[]);

    // Two decode threads start at different points of the layer list, so decode asks for
    // layers whose downloads were not yet let run ahead; they must start at once.
    let mut cmd = layersift(home.path());
    cmd.env("RAYON_NUM_THREADS", "2")
        .args(["analyze", "-f", "json", "--no-cache"])
        .arg(format!("docker://{}/many:1", reg.host()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    let Ok(out) = rx.recv_timeout(Duration::from_secs(120)) else {
        let _ = Command::new("kill").arg(pid.to_string()).status();
        panic!("analysis stalled");
    };
    let out = out.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let img = v["image"].as_object_mut().unwrap();
    img.remove("reference");
    img.remove("transport");
    assert_eq!(v, expected);
    assert_eq!(reg.blob_gets().len(), 13, "config and each layer once");
}

/// The identity (refresh) token a [`Grant::Refresh`] front accepts, and one it does not.
const REFRESH: &str = "rt-8c1e-identity";
const WRONG_REFRESH: &str = "rt-0bad-expired";

/// Writes `DIR/auth.json` (podman's form) with `token` as the identity token for `host`.
fn identity_auth_file(dir: &Path, host: &str, token: &str) -> PathBuf {
    let file = dir.join("auth.json");
    std::fs::write(
        &file,
        format!(r#"{{"auths":{{"{host}":{{"identitytoken":"{token}"}}}}}}"#),
    )
    .unwrap();
    file
}

/// A registry behind a [`token_front_with`] that trades only [`REFRESH`] and lets tokens
/// lapse as `lapse` says, with the fixture image as `a:1`; its image reference, the
/// expected report, the recorded token requests, and the registry (kept running by the
/// caller).
fn identity_setup(
    home: &Path,
    lapse: Lapse,
) -> (
    Registry,
    String,
    Value,
    Arc<Mutex<Vec<TokenRequest>>>,
    String,
) {
    let reg = Registry::start(false);
    let (a, _, _) = fixture_pair(home);
    reg.push(&format!("oci:{}:latest", a.display()), "a:1", false);
    let expected = report(home, &format!("oci:{}:latest", a.display()), &[]);
    let (port, seen) = token_front_with(reg.port, Grant::Refresh(REFRESH), lapse);
    let host = format!("127.0.0.1:{port}");
    (reg, format!("docker://{host}/a:1"), expected, seen, host)
}

/// A directory with `docker-credential-NAME` helpers answering `<token>` and the given
/// identity token, and a `PATH` that finds them first.
fn token_helpers(helpers: &[(&str, &str)]) -> (TempDir, String) {
    let bin = tempfile::tempdir().unwrap();
    for (name, token) in helpers {
        write_helper(bin.path(), name, "<token>", token);
    }
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (bin, path)
}

fn assert_no_token_in(r: &Run, tokens: &[&str]) {
    for t in tokens {
        assert!(
            !r.stdout.contains(t) && !r.stderr.contains(t),
            "the identity token `{t}` leaked: {}",
            r.stderr
        );
    }
    assert!(
        !r.stderr.contains(TOKEN),
        "the access token leaked: {}",
        r.stderr
    );
}

fn without_source(stdout: &str) -> Value {
    let mut v: Value = serde_json::from_str(stdout).unwrap();
    let img = v["image"].as_object_mut().unwrap();
    img.remove("reference");
    img.remove("transport");
    v
}

#[test]
fn identity_token_from_a_credential_helper() {
    if !tools_present() {
        return;
    }
    let images = tempfile::tempdir().unwrap();
    let (_reg, image, expected, seen, host) = identity_setup(images.path(), Lapse::Never);
    let (bin, path) = token_helpers(&[("idtok", REFRESH)]);

    for (name, config) in [
        (
            "credHelpers",
            format!(r#"{{"credHelpers":{{"{host}":"idtok"}}}}"#),
        ),
        ("credsStore", r#"{"credsStore":"idtok"}"#.to_string()),
    ] {
        seen.lock().unwrap().clear();
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".docker")).unwrap();
        std::fs::write(home.path().join(".docker/config.json"), config).unwrap();
        let mut cmd = layersift(home.path());
        cmd.args(["analyze", "-f", "json", "--no-cache", &image])
            .env("PATH", &path);
        let r = run(cmd);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        assert_no_token_in(&r, &[REFRESH]);
        assert_eq!(without_source(&r.stdout), expected, "{name}");

        // The token service saw the OAuth2 refresh-token grant, and only that.
        let seen = seen.lock().unwrap().clone();
        assert!(!seen.is_empty(), "{name}: no token was requested");
        for req in &seen {
            assert_eq!(req.method, "POST", "{name}: {req:?}");
            assert_eq!(req.authorization, "", "{name}: {req:?}");
            assert_eq!(req.field("grant_type"), Some("refresh_token"));
            assert_eq!(req.field("refresh_token"), Some(REFRESH));
            assert_eq!(req.field("service"), Some("test"));
            assert_eq!(req.field("scope"), Some("repository:a:pull"));
            assert_eq!(req.field("client_id"), Some("layersift"));
        }
    }
    assert!(
        std::fs::read_to_string(bin.path().join("asked"))
            .unwrap()
            .contains(&host),
        "the helper was asked about the registry"
    );
}

#[test]
fn identity_token_from_config_identitytoken() {
    if !tools_present() {
        return;
    }
    let images = tempfile::tempdir().unwrap();
    let (_reg, image, expected, seen, host) = identity_setup(images.path(), Lapse::Never);
    use base64::Engine as _;
    // What `docker login` writes for an identity token: `auth` holds `USER:` only.
    let user_only =
        base64::engine::general_purpose::STANDARD.encode("00000000-0000-0000-0000-000000000000:");
    type Setup = Box<dyn Fn(&Path, &mut Command)>;
    let cases: Vec<(&str, Setup)> = vec![
        (
            "~/.docker/config.json",
            Box::new({
                let (host, user_only) = (host.clone(), user_only.clone());
                move |h: &Path, _: &mut Command| {
                    std::fs::create_dir_all(h.join(".docker")).unwrap();
                    std::fs::write(
                        h.join(".docker/config.json"),
                        format!(
                            r#"{{"auths":{{"{host}":{{"auth":"{user_only}","identitytoken":"{REFRESH}"}}}}}}"#
                        ),
                    )
                    .unwrap();
                }
            }),
        ),
        (
            "REGISTRY_AUTH_FILE",
            Box::new({
                let host = host.clone();
                move |h: &Path, c: &mut Command| {
                    c.env("REGISTRY_AUTH_FILE", identity_auth_file(h, &host, REFRESH));
                }
            }),
        ),
    ];
    for (name, setup) in cases {
        seen.lock().unwrap().clear();
        let home = tempfile::tempdir().unwrap();
        let mut cmd = layersift(home.path());
        cmd.args(["analyze", "-f", "json", "--no-cache", &image]);
        setup(home.path(), &mut cmd);
        let r = run(cmd);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        assert_no_token_in(&r, &[REFRESH]);
        assert_eq!(without_source(&r.stdout), expected, "{name}");
        let seen = seen.lock().unwrap().clone();
        assert!(
            seen.iter()
                .any(|r| r.method == "POST" && r.field("refresh_token") == Some(REFRESH)),
            "{name}: {seen:?}"
        );
    }
}

#[test]
fn wrong_identity_token_is_a_clear_error() {
    if !tools_present() {
        return;
    }
    let images = tempfile::tempdir().unwrap();
    let (_reg, image, _, seen, host) = identity_setup(images.path(), Lapse::Never);
    let (_bin, path) = token_helpers(&[("idbad", WRONG_REFRESH)]);

    // From a helper: the error names the registry and the helper.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".docker")).unwrap();
    std::fs::write(
        home.path().join(".docker/config.json"),
        r#"{"credsStore":"idbad"}"#,
    )
    .unwrap();
    let mut cmd = layersift(home.path());
    cmd.args(["analyze", "--no-cache", &image])
        .env("PATH", &path);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "the token service of registry `{host}` refused the identity token from \
             `docker-credential-idbad` (HTTP 400: `invalid_grant`)"
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("hint: the identity token has expired or was revoked; log in again"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert_no_token_in(&r, &[WRONG_REFRESH, REFRESH]);
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|r| r.field("refresh_token") == Some(WRONG_REFRESH)),
        "the wrong token was tried"
    );

    // From a config file: the error names the file.
    let home = tempfile::tempdir().unwrap();
    let file = identity_auth_file(home.path(), &host, WRONG_REFRESH);
    let mut cmd = layersift(home.path());
    cmd.args(["analyze", "--no-cache", &image])
        .env("REGISTRY_AUTH_FILE", &file);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "refused the identity token from `{}`",
            file.display()
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("hint: "), "{}", r.stderr);
    assert_no_token_in(&r, &[WRONG_REFRESH]);

    // A registry that asks for basic auth cannot take an identity token.
    let basic = Registry::start(true);
    let home = tempfile::tempdir().unwrap();
    let file = identity_auth_file(home.path(), &basic.host(), REFRESH);
    let mut cmd = layersift(home.path());
    cmd.args([
        "analyze",
        "--no-cache",
        &format!("docker://{}/a:1", basic.host()),
    ])
    .env("REGISTRY_AUTH_FILE", file);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "registry `{}` does not hand out bearer tokens (it asks for `Basic`)",
            basic.host()
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("hint: log in to"), "{}", r.stderr);
    assert_no_token_in(&r, &[REFRESH]);
}

#[test]
fn an_access_token_that_lapses_mid_pull_is_renewed() {
    let Some((reg, images)) = registry(false) else {
        return;
    };
    let (_, b, _) = fixture_pair(images.path());
    reg.push(&format!("oci:{}:latest", b.display()), "b:1", false);
    let expected = report(images.path(), &format!("oci:{}:latest", b.display()), &[]);

    // Anonymous bearer tokens: fetched again with a new challenge.
    let (port, seen) = token_front_with(reg.port, Grant::Anyone, Lapse::First);
    let image = format!("docker://127.0.0.1:{port}/b:1");
    assert_eq!(report(images.path(), &image, &["--no-cache"]), expected);
    let tokens = seen.lock().unwrap().len();
    assert!(
        tokens >= 2,
        "the lapsed token was not renewed ({tokens} token requests)"
    );

    // An access token traded for an identity token: the identity token is traded again.
    let home = tempfile::tempdir().unwrap();
    let (_reg, image, expected, seen, host) = identity_setup(home.path(), Lapse::First);
    let mut cmd = layersift(home.path());
    cmd.args(["analyze", "-f", "json", "--no-cache", &image])
        .env(
            "REGISTRY_AUTH_FILE",
            identity_auth_file(home.path(), &host, REFRESH),
        );
    let r = run(cmd);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(without_source(&r.stdout), expected);
    assert_no_token_in(&r, &[REFRESH]);
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(
        seen.iter()
            .all(|t| t.method == "POST" && t.field("refresh_token") == Some(REFRESH)),
        "{seen:?}"
    );
}

#[test]
fn a_token_refused_again_after_renewal_is_a_clear_401() {
    let Some((reg, images)) = registry(false) else {
        return;
    };
    let (_, b, _) = fixture_pair(images.path());
    reg.push(&format!("oci:{}:latest", b.display()), "b:1", false);
    // Tokens that never grant the layers: one renewal per download, then a clear error,
    // not a loop of token requests.
    let (port, seen) = token_front_with(reg.port, Grant::Anyone, Lapse::All);
    let image = format!("docker://127.0.0.1:{port}/b:1");
    let mut cmd = layersift(images.path());
    cmd.args(["analyze", "--no-cache", &image]);
    let r = run(cmd);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("registry `127.0.0.1:{port}` refused access")),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(TOKEN), "{}", r.stderr);
    let tokens = seen.lock().unwrap().len();
    // The first token, then at most one renewal for each of the two layers.
    assert!((2..=3).contains(&tokens), "{tokens} token requests");
}
