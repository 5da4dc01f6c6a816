//! Valid but unusual inputs that used to be refused, and dubious ones that used to pass:
//! zstd skippable frames, a docker-archive config that does not match its `<sha256>.json`
//! name, `docker save`'s symlinked repeated layers, and unknown or foreign media types.
//! Each builds its image with the fixture builder.

use layersift_fixture::{
    self as fixture, BuiltImage, Compression, Format, ImageBuilder, LayerBuilder,
};
use predicates::prelude::*;
use tempfile::TempDir;

use crate::util::{analyze, bin, write};

/// `analyze REFERENCE` fails with exit code 2, without a panic, and its stderr holds each of
/// `needles`.
fn refused(reference: &str, needles: &[&str]) {
    let out = bin().args(["analyze", reference]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "no {needle:?} in {stderr}");
    }
}

fn two_layers(c: Compression) -> BuiltImage {
    ImageBuilder::new()
        .compression(c)
        .layer("RUN one", |l| {
            l.dir("a")
                .file("a/one", vec![b'1'; 4000])
                .file("a/two", vec![b'2'; 3000])
        })
        .layer("RUN two", |l| l.file("b", vec![b'3'; 10]))
        .build()
        .unwrap()
}

/// A zstd skippable frame holding `data`.
fn skippable(nibble: u8, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x50 | nibble, 0x2a, 0x4d, 0x18];
    f.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
    f.extend_from_slice(data);
    f
}

#[test]
fn zstd_skippable_frames_anywhere_are_accepted() {
    let mut img = two_layers(Compression::Zstd);
    for l in &mut img.layers {
        // skippable, frame (first half), skippable, frame (rest), skippable.
        let half = l.tar.len() / 2;
        let mut blob = skippable(0, b"seekable-format metadata");
        blob.extend(zstd::encode_all(&l.tar[..half], 3).unwrap());
        blob.extend(skippable(0xe, &[0u8; 100]));
        blob.extend(zstd::encode_all(&l.tar[half..], 3).unwrap());
        blob.extend(skippable(0xf, b""));
        l.digest = fixture::sha256_digest(&blob);
        l.size = blob.len() as u64;
        l.blob = blob;
    }
    let dir = TempDir::new().unwrap();
    let a = analyze(&write(&img, Format::OciLayout, dir.path())).unwrap();
    assert_eq!(a.totals.content, 7010);
    assert_eq!(a.layers[0].entries, 3);
    assert_eq!(a.layers[0].compression, layersift::Compression::Zstd);
}

#[test]
fn docker_archive_config_must_match_its_digest_name() {
    let mut img = two_layers(Compression::None);
    // The config's bytes change; its file keeps the old `<sha256>.json` name.
    img.config.extend_from_slice(b"\n ");
    let dir = TempDir::new().unwrap();
    for format in [Format::DockerArchive, Format::DockerArchiveOci] {
        let r = write(&img, format, dir.path());
        refused(
            &r,
            &[
                "the config does not match its digest",
                img.config_digest.as_str(),
            ],
        );
    }
    // Unchanged, the same archive is accepted and reports that digest.
    let img = two_layers(Compression::None);
    let r = write(&img, Format::DockerArchive, dir.path());
    let a = analyze(&r).unwrap();
    assert_eq!(
        a.image.config_digest.as_deref(),
        Some(img.config_digest.as_str())
    );
}

/// Two identical layers, as BuildKit makes for two `WORKDIR`s on existing directories.
fn repeated_layer() -> BuiltImage {
    ImageBuilder::new()
        .layer("COPY app /app", |l| {
            l.dir("app").file("app/bin", vec![b'b'; 5000])
        })
        .layer("WORKDIR /app", |l| l.dir("app"))
        .layer("WORKDIR /app", |l| l.dir("app"))
        .build()
        .unwrap()
}

/// The classic docker archive of `img`, with each member whose bytes repeat an earlier
/// member's written as `link(earlier, this)` instead (a symlink like `docker save` writes).
fn archive_with_links(
    img: &BuiltImage,
    link: impl Fn(&str, &str) -> (Vec<u8>, bool),
) -> (Vec<u8>, usize) {
    let files = img.files(Format::DockerArchive).unwrap();
    let mut tar = LayerBuilder::default();
    let mut dirs: Vec<String> = Vec::new();
    let mut seen: Vec<(&str, &[u8])> = Vec::new();
    let mut linked = 0;
    for (path, data) in &files.entries {
        if let Some((dir, _)) = path.split_once('/') {
            if !dirs.iter().any(|d| d == dir) {
                dirs.push(dir.to_string());
                tar = tar.dir(format!("{dir}/"));
            }
        }
        let earlier = path
            .ends_with("layer.tar")
            .then(|| seen.iter().find(|(_, d)| *d == data.as_slice()))
            .flatten();
        match earlier {
            Some((first, _)) => {
                let (target, hard) = link(first, path);
                tar = if hard {
                    tar.hardlink(path, target)
                } else {
                    tar.symlink(path, target)
                };
                linked += 1;
            }
            None => {
                seen.push((path, data));
                tar = tar.file(path, data.clone());
            }
        }
    }
    (tar.to_tar(fixture::DEFAULT_MTIME).unwrap(), linked)
}

/// `../e1/layer.tar` as seen from `e2/layer.tar`.
fn relative(first: &str) -> Vec<u8> {
    format!("../{first}").into_bytes()
}

#[test]
fn docker_archive_follows_links_between_members() {
    let img = repeated_layer();
    let dir = TempDir::new().unwrap();
    let want = analyze(&write(&img, Format::DockerArchive, dir.path())).unwrap();

    // A symlink (docker save) and a hard link to the earlier member.
    for hard in [false, true] {
        let (bytes, linked) = archive_with_links(&img, |first, _| {
            if hard {
                (first.as_bytes().to_vec(), true)
            } else {
                (relative(first), false)
            }
        });
        assert_eq!(linked, 1, "the fixture repeats one layer");
        let p = dir.path().join(format!("linked-{hard}.tar"));
        std::fs::write(&p, bytes).unwrap();
        let a = analyze(&format!("docker-archive:{}", p.display())).unwrap();
        assert_eq!(a.layers.len(), 3);
        assert_eq!(a.layers[2].diff_id, want.layers[2].diff_id);
        assert_eq!(a.totals, want.totals);
    }

    // Unpacked into a directory, the symlink is followed too.
    let (bytes, _) = archive_with_links(&img, |first, _| (relative(first), false));
    let unpacked = dir.path().join("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    tar::Archive::new(bytes.as_slice())
        .unpack(&unpacked)
        .unwrap();
    let a = analyze(&format!("docker-archive:{}", unpacked.display())).unwrap();
    assert_eq!(a.totals, want.totals);
}

#[test]
fn links_leaving_the_archive_or_looping_are_refused() {
    let img = repeated_layer();
    let dir = TempDir::new().unwrap();
    type Link<'a> = &'a dyn Fn(&str, &str) -> (Vec<u8>, bool);
    let cases: [(&str, Link<'_>, &str); 3] = [
        (
            "outside",
            &|_, _| (b"../../../etc/passwd".to_vec(), false),
            "links outside the archive",
        ),
        (
            "absolute",
            &|_, _| (b"/etc/passwd".to_vec(), false),
            "links outside the archive",
        ),
        (
            "loop",
            &|_, this| {
                let name = this.rsplit('/').next().unwrap_or(this);
                (name.as_bytes().to_vec(), false)
            },
            "a chain of more than 8 links",
        ),
    ];
    for (name, link, needle) in cases {
        let (bytes, _) = archive_with_links(&img, link);
        let p = dir.path().join(format!("{name}.tar"));
        std::fs::write(&p, bytes).unwrap();
        refused(&format!("docker-archive:{}", p.display()), &[needle]);
    }

    // A directory whose member is a symlink to a file outside it.
    let outside = dir.path().join("secret.tar");
    std::fs::write(&outside, img.layers[2].tar.clone()).unwrap();
    let unpacked = dir.path().join("escape");
    img.files(Format::DockerArchive)
        .unwrap()
        .write_dir(&unpacked)
        .unwrap();
    let files = img.files(Format::DockerArchive).unwrap();
    let last = files
        .entries
        .iter()
        .rev()
        .find(|(p, _)| p.ends_with("layer.tar"))
        .unwrap();
    let member = unpacked.join(&last.0);
    std::fs::remove_file(&member).unwrap();
    std::os::unix::fs::symlink(&outside, &member).unwrap();
    refused(
        &format!("docker-archive:{}", unpacked.display()),
        &["links outside the image directory"],
    );
}

#[test]
fn unknown_manifest_media_type_is_refused() {
    let mut img = two_layers(Compression::Gzip);
    let mut m: serde_json::Value = serde_json::from_slice(&img.manifest().unwrap()).unwrap();
    m["mediaType"] = "application/vnd.example.not-an-image+json".into();
    img.manifest_override = Some(serde_json::to_vec(&m).unwrap());
    let dir = TempDir::new().unwrap();
    let r = write(&img, Format::OciLayout, dir.path());
    refused(
        &r,
        &[
            "unsupported media type `application/vnd.example.not-an-image+json`",
            "hint: layersift reads container images",
        ],
    );
}

#[test]
fn unknown_layer_media_type_is_refused() {
    let mut img = two_layers(Compression::Gzip);
    img.layers[1].media_type = "application/vnd.oci.image.layer.v1.tar+gzip+encrypted".into();
    let dir = TempDir::new().unwrap();
    let r = write(&img, Format::OciLayout, dir.path());
    refused(
        &r,
        &["unsupported media type `application/vnd.oci.image.layer.v1.tar+gzip+encrypted`"],
    );
}

#[test]
fn foreign_layers_are_skipped_and_reported() {
    let mut img = two_layers(Compression::Gzip);
    img.layers[0].media_type =
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip".into();
    let dir = TempDir::new().unwrap();
    let mut files = img.files(Format::OciLayout).unwrap();
    // Its blob is not in the image, as with a Windows base layer.
    files
        .remove(&fixture::blob_path(&img.layers[0].digest))
        .unwrap();
    let p = dir.path().join("layout");
    files.write(Format::OciLayout, &p).unwrap();
    let r = format!("oci:{}", p.display());
    let out = bin()
        .args(["analyze", &r])
        .assert()
        .success()
        .stderr(predicate::str::contains("warning: layer 0 (`sha256:"))
        .stderr(predicate::str::contains("is a foreign layer"))
        .stdout(predicate::str::contains(
            "(foreign layer: not in the image, skipped)",
        ));
    drop(out);
    let a = analyze(&r).unwrap();
    assert_eq!(a.totals.content, 10, "only the second layer's file counts");
    assert_eq!(a.layers[0].entries, 0);
}
