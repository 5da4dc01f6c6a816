//! The first half of the pipeline on images built for each rule: transports, compressions,
//! tar features, whiteout rules, platform and ref selection.

use layersift::EntryKind;
use layersift::Fate;
use layersift::{OpenOptions, Platform};
use layersift_fixture::{self as fixture, Compression, Format, ImageBuilder, LongNames};
use tempfile::TempDir;

use crate::util::{analyze, analyze_with, assert_accounting, bin, write};

/// An image exercising every merge rule, with byte counts that are easy to check by hand.
fn rules_image(c: Compression) -> fixture::BuiltImage {
    ImageBuilder::new()
        .compression(c)
        .layer("ADD rootfs /", |l| {
            l.dir("etc")
                .file("etc/os-release", vec![b'o'; 100])
                .dir("app")
                .file("app/a.bin", vec![1u8; 1000])
                .file("app/b.bin", vec![2u8; 2000])
                .dir("cache")
                .file("cache/x", vec![3u8; 300])
                .dir("cache/sub")
                .file("cache/sub/y", vec![4u8; 400])
                .file("was-file", vec![5u8; 50])
                .dir("was-dir")
                .file("was-dir/z", vec![6u8; 60])
        })
        .layer("RUN chmod -R g+w /app && echo v2 > /etc/os-release", |l| {
            l.file("app/a.bin", vec![1u8; 1000])
                .mode(0o664)
                .file("etc/os-release", vec![b'n'; 120])
        })
        .layer("RUN rm -rf /cache && swap", |l| {
            l.whiteout("cache")
                .dir("was-file")
                .file("was-file/inner", vec![7u8; 7])
                .file("was-dir", vec![8u8; 8])
        })
        .layer("RUN rm /app/b.bin", |l| l.whiteout("app/b.bin"))
        .build()
        .unwrap()
}

#[test]
fn whiteout_rules_add_up_to_the_byte() {
    let dir = TempDir::new().unwrap();
    let a = analyze(&write(
        &rules_image(Compression::Gzip),
        Format::OciLayout,
        dir.path(),
    ))
    .unwrap();
    assert_accounting(&a);
    let l0 = &a.layers[0].bytes;
    assert_eq!(l0.content, 100 + 1000 + 2000 + 300 + 400 + 50 + 60);
    assert_eq!(
        l0.overwritten_same, 1000,
        "chmod rewrote a.bin byte for byte"
    );
    assert_eq!(
        l0.overwritten_changed,
        100 + 50,
        "os-release changed; was-file became a dir"
    );
    assert_eq!(
        l0.removed,
        300 + 400 + 60 + 2000,
        "cache/, was-dir/z, app/b.bin deleted"
    );
    assert_eq!(l0.visible, 0);
    assert_eq!(a.layers[1].bytes.visible, 1120);
    assert_eq!(a.layers[2].bytes.visible, 15);
    assert_eq!(a.totals.content, 3910 + 1120 + 15);
    assert_eq!(a.totals.visible, 1135);
    // Which layer hid what.
    let idx = &a.indexes[0];
    let find = |p: &str| {
        (0..idx.len())
            .find(|&i| idx.path(i) == p.as_bytes())
            .unwrap()
    };
    assert_eq!(a.merged.fate(0, find("app/b.bin")), Fate::Removed { by: 3 });
    assert_eq!(
        a.merged.fate(0, find("cache/sub/y")),
        Fate::Removed { by: 2 }
    );
    assert_eq!(
        a.merged.fate(0, find("app/a.bin")),
        Fate::Overwritten { by: 1, same: true }
    );
    assert_eq!(a.merged.fate(0, find("was-dir/z")), Fate::Removed { by: 2 });
}

#[test]
fn every_format_and_compression_gives_the_same_totals() {
    let dir = TempDir::new().unwrap();
    let mut seen = Vec::new();
    for c in [Compression::Gzip, Compression::Zstd, Compression::None] {
        let img = rules_image(c);
        for f in [
            Format::OciLayout,
            Format::OciArchive,
            Format::DockerArchive,
            Format::DockerArchiveOci,
            Format::DockerArchiveContainerd,
        ] {
            let sub = dir.path().join(format!("{c:?}-{f:?}"));
            std::fs::create_dir_all(&sub).unwrap();
            let a = analyze(&write(&img, f, &sub)).unwrap();
            assert_accounting(&a);
            let diff_ids: Vec<String> = a.layers.iter().map(|l| l.diff_id.clone()).collect();
            let splits: Vec<_> = a.layers.iter().map(|l| l.bytes).collect();
            seen.push((format!("{c:?}/{f:?}"), diff_ids, splits, a.totals));
        }
    }
    for s in &seen[1..] {
        assert_eq!(s.1, seen[0].1, "{} diff_ids", s.0);
        assert_eq!(s.2, seen[0].2, "{} per-layer bytes", s.0);
        assert_eq!(s.3, seen[0].3, "{} totals", s.0);
    }
}

#[test]
fn opaque_directory_hides_lower_children_only() {
    let img = ImageBuilder::new()
        .layer("ADD base", |l| {
            l.dir("etc/conf.d")
                .file("etc/conf.d/a.conf", vec![b'a'; 10])
                .file("etc/conf.d/b.conf", vec![b'b'; 20])
                .file("etc/other", vec![b'o'; 5])
        })
        .layer("RUN reset conf.d", |l| {
            l.dir("etc/conf.d")
                .opaque("etc/conf.d")
                .file("etc/conf.d/c.conf", vec![b'c'; 3])
        })
        .build()
        .unwrap();
    let dir = TempDir::new().unwrap();
    let a = analyze(&write(&img, Format::OciArchive, dir.path())).unwrap();
    assert_accounting(&a);
    assert_eq!(a.layers[0].bytes.removed, 30);
    assert_eq!(a.layers[0].bytes.visible, 5);
    assert_eq!(a.layers[1].bytes.visible, 3);
    let opaque = a.indexes[1]
        .entries
        .iter()
        .position(|e| e.kind == EntryKind::Opaque)
        .unwrap();
    assert_eq!(a.indexes[1].path(opaque), b"etc/conf.d");
}

#[test]
fn hard_links_are_counted_once_and_keep_content_alive() {
    let img = ImageBuilder::new()
        .layer("RUN make", |l| {
            l.file("data/big.bin", vec![9u8; 4096])
                .hardlink("data/alias.bin", "data/big.bin")
        })
        .layer("RUN rm /data/big.bin", |l| l.whiteout("data/big.bin"))
        .build()
        .unwrap();
    let dir = TempDir::new().unwrap();
    let a = analyze(&write(&img, Format::OciLayout, dir.path())).unwrap();
    assert_accounting(&a);
    assert_eq!(a.totals.content, 4096, "a hard link adds no bytes");
    assert_eq!(
        a.totals.visible, 4096,
        "content survives under its other name"
    );
}

#[test]
fn long_and_non_utf8_names_survive_losslessly() {
    let long = format!("data/{}/{}.txt", "d".repeat(120), "f".repeat(90));
    let img = ImageBuilder::new()
        .layer("RUN names", |l| {
            l.file(long.as_bytes(), b"long".to_vec())
                .file(&b"data/caf\xe9"[..], b"latin1".to_vec())
                .file("data/ünïcødé файл.txt", b"u".to_vec())
                .symlink("data/link", long.as_bytes())
        })
        .layer("RUN pax", |l| {
            l.long_names(LongNames::Pax)
                .file(format!("pax/{}", "p".repeat(150)), b"pax".to_vec())
        })
        .build()
        .unwrap();
    let dir = TempDir::new().unwrap();
    let a = analyze(&write(&img, Format::OciLayout, dir.path())).unwrap();
    let paths: Vec<Vec<u8>> = (0..a.indexes[0].len())
        .map(|i| a.indexes[0].path(i).to_vec())
        .collect();
    assert!(paths.contains(&long.as_bytes().to_vec()));
    assert!(paths.contains(&b"data/caf\xe9".to_vec()));
    assert!(paths.contains(&"data/ünïcødé файл.txt".as_bytes().to_vec()));
    let link = paths.iter().position(|p| p == b"data/link").unwrap();
    assert_eq!(a.indexes[0].link(link), long.as_bytes());
    assert_eq!(
        a.indexes[1].path(0),
        format!("pax/{}", "p".repeat(150)).as_bytes()
    );
    assert_eq!(layersift::display_path(b"data/caf\xe9"), "data/caf\\xe9");
}

#[test]
fn special_files_and_sparse_entries_are_indexed() {
    let img = ImageBuilder::new()
        .layer("RUN mknod", |l| {
            l.dir("dev")
                .char_device("dev/null", 1, 3)
                .block_device("dev/sda", 8, 0)
                .fifo("run/fifo")
                .sparse(
                    "var/sparse.img",
                    1 << 20,
                    &[(0, &[1u8; 512][..]), (65536, &[2u8; 10][..])],
                )
        })
        .build()
        .unwrap();
    let dir = TempDir::new().unwrap();
    let a = analyze(&write(&img, Format::OciLayout, dir.path())).unwrap();
    let idx = &a.indexes[0];
    let kind = |p: &str| {
        idx.entries[(0..idx.len())
            .find(|&i| idx.path(i) == p.as_bytes())
            .unwrap()]
        .kind
    };
    assert_eq!(kind("dev/null"), EntryKind::CharDevice);
    assert_eq!(kind("dev/sda"), EntryKind::BlockDevice);
    assert_eq!(kind("run/fifo"), EntryKind::Fifo);
    assert_eq!(kind("var/sparse.img"), EntryKind::File);
    assert_eq!(
        a.totals.content,
        1 << 20,
        "a sparse file counts its logical size"
    );
}

#[test]
fn media_type_lies_and_magic_bytes_win() {
    let img = ImageBuilder::new()
        .layer("RUN a", |l| {
            l.file("a", vec![1u8; 10])
                .compression(Compression::Zstd)
                .media_type("application/vnd.oci.image.layer.v1.tar+gzip")
        })
        .layer("RUN b", |l| {
            l.file("b", vec![1u8; 20])
                .compression(Compression::None)
                .media_type("application/vnd.oci.image.layer.v1.tar+zstd")
        })
        .build()
        .unwrap();
    let dir = TempDir::new().unwrap();
    let a = analyze(&write(&img, Format::OciLayout, dir.path())).unwrap();
    assert_eq!(a.layers[0].compression, layersift::Compression::Zstd);
    assert_eq!(a.layers[1].compression, layersift::Compression::None);
    assert_eq!(a.totals.content, 30);
}

#[test]
fn refs_select_images_and_missing_refs_are_listed() {
    let one = ImageBuilder::new()
        .layer("RUN one", |l| l.file("one", vec![1u8; 1]))
        .build()
        .unwrap();
    let two = ImageBuilder::new()
        .layer("RUN two", |l| l.file("two", vec![2u8; 2]))
        .build()
        .unwrap();
    let dir = TempDir::new().unwrap();
    let layout = dir.path().join("layout");
    fixture::write_index(&[(&one, "one"), (&two, "two")], Format::OciLayout, &layout).unwrap();
    let base = format!("oci:{}", layout.display());
    assert_eq!(analyze(&format!("{base}:two")).unwrap().totals.content, 2);
    assert_eq!(analyze(&format!("{base}:one")).unwrap().totals.content, 1);
    bin()
        .args(["analyze", &base])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("several images"))
        .stderr(predicates::str::contains("one, two"));
    bin()
        .args(["analyze", &format!("{base}:three")])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no image named `three`"))
        .stderr(predicates::str::contains("one, two"));

    // The same with several images in one docker archive.
    let tar = dir.path().join("multi.docker.tar");
    fixture::write_index(&[(&one, "one"), (&two, "two")], Format::DockerArchive, &tar).unwrap();
    let r = format!("docker-archive:{}", tar.display());
    bin().args(["analyze", &r]).assert().code(2);
    let named = format!("{r}:layersift-fixture:two");
    assert_eq!(analyze(&named).unwrap().totals.content, 2);
}

#[test]
fn platform_is_selected_from_an_index() {
    let amd = ImageBuilder::new()
        .platform("linux", "amd64", None)
        .layer("RUN amd", |l| l.file("arch", vec![0u8; 64]))
        .build()
        .unwrap();
    let arm = ImageBuilder::new()
        .platform("linux", "arm64", Some("v8"))
        .layer("RUN arm", |l| l.file("arch", vec![0u8; 8]))
        .build()
        .unwrap();
    let dir = TempDir::new().unwrap();
    let layout = dir.path().join("multi");
    fixture::write_multi_arch(&[&amd, &arm], "multi", Format::OciLayout, &layout).unwrap();
    let r = format!("oci:{}:multi", layout.display());
    let pick = |p: &str| {
        analyze_with(
            &r,
            &OpenOptions {
                platform: Platform::parse(p),
                ..OpenOptions::default()
            },
        )
    };
    assert_eq!(pick("linux/arm64").unwrap().totals.content, 8);
    assert_eq!(
        pick("linux/arm64/v8").unwrap().image.platform.to_string(),
        "linux/arm64/v8"
    );
    assert_eq!(pick("linux/amd64").unwrap().totals.content, 64);
    bin()
        .args(["analyze", &r, "--platform", "linux/s390x"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "no image for platform `linux/s390x`",
        ))
        .stderr(predicates::str::contains("linux/amd64, linux/arm64/v8"));
}

#[test]
fn bare_paths_are_sniffed() {
    let img = rules_image(Compression::Gzip);
    let dir = TempDir::new().unwrap();
    for (f, name) in [
        (Format::OciLayout, "layout"),
        (Format::OciArchive, "x.oci"),
        (Format::DockerArchive, "x.docker"),
    ] {
        let p = dir.path().join(name);
        img.write(f, &p).unwrap();
        let a = analyze(p.to_str().unwrap()).unwrap();
        assert_eq!(a.totals.content, 5045, "{name}");
    }
}

#[test]
fn history_steps_are_attributed_in_order() {
    let img = ImageBuilder::new()
        .layer("/bin/sh -c apt-get update", |l| l.file("a", vec![1u8; 1]))
        .empty_layer_step("/bin/sh -c #(nop)  ENV X=1")
        .layer("COPY app/ /app/ # buildkit", |l| l.file("b", vec![1u8; 1]))
        .build()
        .unwrap();
    let dir = TempDir::new().unwrap();
    let a = analyze(&write(&img, Format::OciLayout, dir.path())).unwrap();
    assert_eq!(a.layers[0].step.instruction, "RUN apt-get update");
    assert_eq!(a.layers[1].step.instruction, "COPY app/ /app/");
}

#[test]
fn json_report_totals_add_up() {
    let dir = TempDir::new().unwrap();
    let r = write(
        &rules_image(Compression::Zstd),
        Format::OciArchive,
        dir.path(),
    );
    let out = bin()
        .args(["analyze", "--format", "json", &r])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let s = &v["summary"];
    assert_eq!(v["schema_version"], 3);
    assert_eq!(s["content_bytes"], 5045);
    assert_eq!(s["visible_bytes"], 1135);
    assert_eq!(s["hidden_bytes"], 3910);
    assert_eq!(s["overwritten_same_bytes"], 1000);
    assert_eq!(s["overwritten_changed_bytes"], 150);
    assert_eq!(s["removed_bytes"], 2760);
    assert_eq!(v["layers"].as_array().unwrap().len(), 4);
    assert_eq!(v["layers"][3]["instruction"], "RUN rm /app/b.bin");
}
