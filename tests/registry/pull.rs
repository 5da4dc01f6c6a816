//! Pulling from a registry: images analyse like their OCI layout, multi-arch indexes honour
//! `--platform`, HTTPS by default and plain HTTP on request, and many layers prefetch
//! without stalling.

use std::process::{Command, Stdio};
use std::time::Duration;

use layersift_fixture::{noise, Format, ImageBuilder};
use serde_json::Value;

use super::harness::*;
use crate::util::{assert_live_snapshot, succeeded};

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
    // No image for that platform; the ones there are listed.
    assert_live_snapshot("registry_no_such_platform", &[], &r.stderr);
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
    // HTTPS was tried on that host; the hint: `--tls-verify=false`.
    assert_live_snapshot("registry_https_refused", &[], &r.stderr);
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

#[test]
fn many_layers_prefetch_without_stalling() {
    let Some((reg, home)) = registry(false) else {
        return;
    };
    // Twelve layers of 2 MB that gzip cannot shrink: more than run ahead of decode, and
    // each more than a download buffers before it waits for its reader.
    let mut b = ImageBuilder::new();
    for i in 0..12u64 {
        let noise = noise(2 << 20, i + 1);
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

/// Uploads a blob to the registry with curl (a monolithic upload: POST, then PUT).
fn curl_upload(reg: &Registry, repo: &str, digest: &str, bytes: &[u8], dir: &std::path::Path) {
    let file = dir.join(digest.replace(':', "_"));
    std::fs::write(&file, bytes).unwrap();
    let post = Command::new("curl")
        .args(["-sS", "-X", "POST", "-D", "-", "-o", "/dev/null"])
        .arg(format!("http://{}/v2/{repo}/blobs/uploads/", reg.host()))
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&post.stdout).to_string();
    let location = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("location")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no upload location: {head}"));
    let url = if location.starts_with('/') {
        format!("http://{}{location}", reg.host())
    } else {
        location
    };
    let sep = if url.contains('?') { '&' } else { '?' };
    succeeded(
        Command::new("curl")
            .args([
                "-sS",
                "-f",
                "-X",
                "PUT",
                "-H",
                "Content-Type: application/octet-stream",
            ])
            .arg("--data-binary")
            .arg(format!("@{}", file.display()))
            .arg(format!("{url}{sep}digest={digest}"))
            .output()
            .unwrap(),
    );
}

/// A registry blob stored uncompressed cannot be sampled without downloading it again, so
/// its compressed estimates are `null` in JSON and "no compressed estimate" for people,
/// never the content bytes repeated. The same image read from a layout is sampled.
#[test]
fn uncompressed_registry_layers_have_no_compressed_estimate() {
    if !have("curl") {
        crate::util::skip("`curl` not found (apt-get install curl)");
        return;
    }
    let Some((reg, home)) = registry(false) else {
        return;
    };
    let text: Vec<u8> = (0..400_000u32)
        .flat_map(|i| format!("line {} of a log\n", i % 97).into_bytes())
        .take(400_000)
        .collect();
    let img = ImageBuilder::new()
        .compression(layersift_fixture::Compression::None)
        .layer("RUN make", |l| l.dir("app").file("app/build.log", text))
        .layer("RUN rm /app/build.log", |l| l.whiteout("app/build.log"))
        .build()
        .unwrap();
    // skopeo gzips uncompressed layers on the way to a registry, so the blobs go up as
    // they are, over the registry API.
    let up = tempfile::tempdir().unwrap();
    for l in &img.layers {
        curl_upload(&reg, "plain", &l.digest, &l.blob, up.path());
    }
    curl_upload(&reg, "plain", &img.config_digest, &img.config, up.path());
    let manifest = up.path().join("manifest.json");
    std::fs::write(&manifest, img.manifest().unwrap()).unwrap();
    succeeded(
        Command::new("curl")
            .args(["-sS", "-f", "-X", "PUT", "-H"])
            .arg(format!("Content-Type: {}", img.manifest_media_type))
            .arg("--data-binary")
            .arg(format!("@{}", manifest.display()))
            .arg(format!("http://{}/v2/plain/manifests/1", reg.host()))
            .output()
            .unwrap(),
    );

    let remote = format!("docker://{}/plain:1", reg.host());
    let v = report(home.path(), &remote, &["--no-cache"]);
    let s = &v["summary"];
    assert_eq!(s["hidden_bytes"], 400_000, "{s}");
    for k in [
        "hidden_compressed_bytes",
        "potential_savings_compressed_bytes",
        "compressed_efficiency",
    ] {
        assert!(s[k].is_null(), "{k}: {s}");
    }
    let hidden = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["bytes"] == 400_000)
        .expect("a finding for the deleted log");
    assert!(hidden["compressed_bytes"].is_null(), "{hidden}");
    let mut cmd = layersift(home.path());
    cmd.args(["analyze", "--no-cache", &remote]);
    let r = run(cmd);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("(no compressed estimate: layers stored uncompressed)"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("400.0 kB compressed"), "{}", r.stdout);

    // The same image from a layout: the blob is sampled, the estimate is far below.
    let layout = up.path().join("layout");
    img.write(Format::OciLayout, &layout).unwrap();
    let v = report(home.path(), &format!("oci:{}", layout.display()), &[]);
    let est = v["summary"]["hidden_compressed_bytes"].as_u64().unwrap();
    assert!(est > 0 && est < 40_000, "estimate {est} of 400000");
}

/// Without `--base`, the base the manifest's annotations name is read from its registry,
/// pinned to the annotated digest, when the image's own layout does not hold it.
#[test]
fn annotated_base_is_read_from_its_registry() {
    let Some((reg, home)) = registry(false) else {
        return;
    };
    let rootfs =
        |l: layersift_fixture::LayerBuilder| l.dir("etc").file("etc/os-release", vec![b'o'; 100]);
    let base = ImageBuilder::new()
        .layer("ADD rootfs.tar /", rootfs)
        .build()
        .unwrap();
    let base_dir = home.path().join("base");
    base.write(Format::OciLayout, &base_dir).unwrap();
    reg.push(
        &format!("oci:{}:latest", base_dir.display()),
        "base:1",
        false,
    );
    let name = format!("{}/base:1", reg.host());
    let mut app = ImageBuilder::new()
        .layer("ADD rootfs.tar /", rootfs)
        .layer("RUN make", |l| {
            l.dir("app").file("app/bin", vec![b'a'; 5000])
        })
        .build()
        .unwrap();
    let mut m: Value = serde_json::from_slice(&app.manifest().unwrap()).unwrap();
    m["annotations"] = serde_json::json!({
        "org.opencontainers.image.base.name": name,
        "org.opencontainers.image.base.digest": base.manifest_digest().unwrap(),
    });
    app.manifest_override = Some(serde_json::to_vec(&m).unwrap());
    let app_dir = home.path().join("app");
    app.write(Format::OciLayout, &app_dir).unwrap();

    let v = report(
        home.path(),
        &format!("oci:{}:latest", app_dir.display()),
        &["--no-cache"],
    );
    assert_eq!(v["base"]["reference"], name.as_str(), "{}", v["base"]);
    assert_eq!(v["base"]["layer_count"], 1);
    assert_eq!(v["base"]["own"]["content_bytes"], 5000);
    let pinned = format!("GET /v2/base/manifests/{}", base.manifest_digest().unwrap());
    assert!(reg.log().contains(&pinned), "{}", reg.log());
}
