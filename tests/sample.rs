//! The sample image in `testdata/` (the one README.md runs) is made by the fixture builder
//! from the description below. This test rebuilds it and checks the committed file is
//! byte-identical; `LAYERSIFT_BLESS=1 cargo test sample` rewrites it.

use std::path::Path;

use layersift_fixture::{BuiltImage, Compression, Format, ImageBuilder};

/// A small Debian-style image with the classic mistakes: apt lists shipped then deleted in a
/// later layer, a `.deb` cache left behind, a pip cache, a `chmod -R` layer rewriting
/// identical files, three copies of one asset, a private key copied in and deleted, and a
/// token in `ENV`.
pub(crate) fn sample_image() -> BuiltImage {
    let lists = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|i| b"Package: libexample\nVersion: 1.0\n"[i % 33])
            .collect()
    };
    let blob = |seed: u8, n: usize| -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    };
    ImageBuilder::new()
        .name("layersift-sample")
        .ref_name("sample")
        .compression(Compression::Gzip)
        .layer("/bin/sh -c #(nop) ADD file:4c1ba3b0 in / ", |l| {
            l.dir("etc")
                .file("etc/os-release", b"ID=debian\nVERSION_ID=12\n".to_vec())
                .dir("usr/bin")
                .file_mode("usr/bin/app", blob(1, 40_000), 0o755)
                .dir("usr/share/doc/libexample")
                .file("usr/share/doc/libexample/changelog.gz", blob(2, 6_000))
                .dir("tmp")
        })
        .layer("/bin/sh -c apt-get update", |l| {
            l.dir("var/lib/apt/lists")
                .file(
                    "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages",
                    lists(60_000),
                )
                .file("var/lib/apt/lists/lock", Vec::new())
        })
        .layer("/bin/sh -c apt-get install -y python3-pip", |l| {
            l.dir("var/cache/apt/archives")
                .file("var/cache/apt/archives/python3-pip_23.0.1_all.deb", blob(3, 30_000))
                .file("var/cache/apt/pkgcache.bin", blob(4, 12_000))
                .dir("usr/lib/python3/dist-packages/pip")
                .file("usr/lib/python3/dist-packages/pip/__init__.py", b"__version__ = '23.0.1'\n".to_vec())
                .file("var/log/apt/term.log", b"Setting up python3-pip (23.0.1) ...\n".to_vec())
        })
        .layer("/bin/sh -c pip install requests", |l| {
            l.dir("root/.cache/pip/wheels")
                .file("root/.cache/pip/wheels/requests-2.31.0-py3-none-any.whl", blob(5, 20_000))
                .dir("usr/local/lib/python3.11/dist-packages/requests")
                .file("usr/local/lib/python3.11/dist-packages/requests/api.py", blob(6, 8_000))
                .file("usr/local/lib/python3.11/dist-packages/requests/models.py", blob(7, 9_000))
        })
        .layer("/bin/sh -c #(nop) COPY file:9f2a in /root/.ssh/id_rsa ", |l| {
            l.dir("root/.ssh").file_mode(
                "root/.ssh/id_rsa",
                b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQy\n-----END OPENSSH PRIVATE KEY-----\n".to_vec(),
                0o600,
            )
        })
        .layer("/bin/sh -c rm -rf /root/.ssh/id_rsa /var/lib/apt/lists/*", |l| {
            l.whiteout("root/.ssh/id_rsa")
                .whiteout("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages")
                .whiteout("var/lib/apt/lists/lock")
        })
        .layer("/bin/sh -c chmod -R g+w /usr/local/lib/python3.11/dist-packages", |l| {
            l.file_mode("usr/local/lib/python3.11/dist-packages/requests/api.py", blob(6, 8_000), 0o664)
                .file_mode("usr/local/lib/python3.11/dist-packages/requests/models.py", blob(7, 9_000), 0o664)
        })
        .layer("/bin/sh -c #(nop) COPY dir:77aa in /app/ ", |l| {
            l.dir("app/static")
                .file("app/main.py", b"print('hello')\n".to_vec())
                .file("app/static/logo.png", blob(8, 15_000))
                .file("app/static/logo-copy.png", blob(8, 15_000))
                .file("app/static/img/logo.png", blob(8, 15_000))
        })
        .empty_layer_step("/bin/sh -c #(nop) ENV APP_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB")
        .env("APP_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB")
        .cmd(&["python3", "/app/main.py"])
        .build()
        .expect("the sample image builds")
}

#[test]
fn committed_sample_matches_its_description() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sample.oci.tar");
    let fresh = sample_image()
        .files(Format::OciArchive)
        .unwrap()
        .to_tar()
        .unwrap();
    if std::env::var_os("LAYERSIFT_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read(&path).expect("testdata/sample.oci.tar exists");
    assert!(
        committed == fresh,
        "testdata/sample.oci.tar is stale: run LAYERSIFT_BLESS=1 cargo test sample"
    );
}

#[test]
fn sample_has_waste_in_it() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sample.oci.tar");
    let a = crate::util::analyze(path.to_str().unwrap()).unwrap();
    crate::util::assert_accounting(&a);
    // apt lists (60,000) + id_rsa removed; api.py + models.py (17,000) rewritten by chmod.
    assert_eq!(a.totals.overwritten_same, 17_000);
    assert!(a.totals.removed >= 60_000);
    assert!(a.efficiency() < 0.8);
}
