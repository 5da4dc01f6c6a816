//! The real corpus: every image in every format decodes, the byte accounting adds up, and the
//! formats of `edge` agree to the byte. Skips with a note when `../shared/corpus` is absent.

use layersift::{OpenOptions, Platform};

use crate::util::{analyze, analyze_with, assert_accounting, corpus};

#[test]
fn every_corpus_image_adds_up() {
    let Some(c) = corpus() else { return };
    for r in ["base", "apt-waste", "pip-waste", "edge"] {
        let a = analyze(&format!("oci:{}:{r}", c.join("oci").display())).unwrap();
        assert_accounting(&a);
        assert!(a.totals.content > 0, "{r}");
        for l in &a.layers {
            assert!(
                !l.step.instruction.is_empty(),
                "{r}: every layer has a build step"
            );
        }
    }
}

#[test]
fn edge_is_the_same_in_every_format() {
    let Some(c) = corpus() else { return };
    let refs = [
        format!("oci:{}:edge", c.join("oci").display()),
        format!("oci-archive:{}", c.join("edge.oci.tar").display()),
        format!("docker-archive:{}", c.join("edge.docker.tar").display()),
        format!("oci:{}", c.join("edge-zstd").display()),
        c.join("edge.oci.tar").display().to_string(),
        c.join("edge.docker.tar").display().to_string(),
    ];
    let all: Vec<_> = refs.iter().map(|r| analyze(r).unwrap()).collect();
    for (r, a) in refs.iter().zip(&all) {
        assert_accounting(a);
        assert_eq!(a.totals, all[0].totals, "{r}");
        let ids: Vec<_> = a.layers.iter().map(|l| &l.diff_id).collect();
        let first: Vec<_> = all[0].layers.iter().map(|l| &l.diff_id).collect();
        assert_eq!(ids, first, "{r}: layer order follows the manifest");
    }
    // What edge's recipe implies, byte for byte:
    //  layer 3 ships a.txt (4) and sub/b.txt (4), removed by layer 4's `rm -rf /data/dir`;
    //  big.bin (512 KiB, hard-linked) rewritten by layer 4's chmod with the same bytes;
    //  keep/k.txt (5) touched (same bytes); was-file (2) replaced by a directory;
    //  was-dir/x (2) removed with its directory; layer 4's big.bin removed by layer 5.
    let t = all[0].totals;
    assert_eq!(t.overwritten_same, 524_288 + 5);
    assert_eq!(t.overwritten_changed, 2);
    assert_eq!(t.removed, 4 + 4 + 2 + 524_288);
    assert_eq!(t.hidden(), 1_048_593);
    let zstd = &all[3];
    assert!(zstd
        .layers
        .iter()
        .all(|l| l.compression == layersift::Compression::Zstd));
}

#[test]
fn multiarch_selects_by_platform() {
    let Some(c) = corpus() else { return };
    let r = format!("oci:{}", c.join("edge-multiarch").display());
    let amd = analyze_with(
        &r,
        &OpenOptions {
            platform: Platform::parse("linux/amd64"),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let arm = analyze_with(
        &r,
        &OpenOptions {
            platform: Platform::parse("linux/arm64/v8"),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    assert_eq!(amd.layers.len(), 6);
    assert_eq!(arm.layers.len(), 5);
    assert_eq!(arm.image.platform.to_string(), "linux/arm64/v8");
    // Without the last `RUN rm /data/big.bin`, arm64 keeps big.bin visible.
    assert_eq!(amd.totals.hidden() - arm.totals.hidden(), 524_288);
}

#[test]
fn shared_base_layer_is_identical_across_images() {
    let Some(c) = corpus() else { return };
    let oci = c.join("oci");
    let base = analyze(&format!("oci:{}:base", oci.display())).unwrap();
    let apt = analyze(&format!("oci:{}:apt-waste", oci.display())).unwrap();
    assert_eq!(base.layers[0].diff_id, apt.layers[0].diff_id);
    assert_eq!(base.indexes[0].len(), apt.indexes[0].len());
    assert_eq!(base.layers[0].bytes.content, apt.layers[0].bytes.content);
}
