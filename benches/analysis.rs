//! Criterion benchmark of the analysis against decoding: how long `Analysis::new` (merge,
//! findings, duplicates, secrets in ENV/history, suggestions) takes on layers already decoded,
//! next to decoding those layers (which includes the secret scan of small text files). Uses
//! the corpus' `pip-waste` image when `../shared/corpus` is present, else a generated image.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use layersift::Analysis;
use layersift::{decode_image, Image, ImageRef, NoProgress, OpenOptions};
use layersift_fixture::{Format, ImageBuilder};

/// A generated image: a base of many small files, a cache-filling step, a removal and a
/// chmod rewrite, so every pass of the analysis has work.
fn generated(dir: &Path) -> Image {
    let img = ImageBuilder::new()
        .layer("ADD rootfs.tar /", |mut l| {
            for i in 0..20_000u32 {
                let body: Vec<u8> = (0..(i % 3000)).map(|b| (b * 7 + i) as u8).collect();
                l = l.file(format!("usr/share/pkg{}/f{i}.txt", i % 97), body);
            }
            l
        })
        .layer("RUN apt-get update", |mut l| {
            for i in 0..50 {
                l = l.file(format!("var/lib/apt/lists/list{i}"), vec![b'l'; 20_000]);
            }
            l
        })
        .layer("RUN rm -rf /var/lib/apt/lists/*", |mut l| {
            for i in 0..50 {
                l = l.whiteout(format!("var/lib/apt/lists/list{i}"));
            }
            l
        })
        .build()
        .expect("fixture builds");
    let layout = dir.join("layout");
    img.write(Format::OciLayout, &layout)
        .expect("fixture writes");
    let r = ImageRef::parse(&format!("oci:{}", layout.display())).expect("ref");
    layersift::open(&r, &OpenOptions::default()).expect("fixture opens")
}

fn analysis(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/oci");
    let (name, image) = if corpus.join("index.json").is_file() {
        let r = ImageRef::parse(&format!("oci:{}:pip-waste", corpus.display())).expect("ref");
        let image = layersift::open(&r, &OpenOptions::default()).expect("pip-waste opens");
        ("corpus pip-waste", image)
    } else {
        eprintln!("corpus not found: benchmarking a generated image");
        ("generated image", generated(tmp.path()))
    };
    let decoded = decode_image(&image, &NoProgress).expect("decodes");

    let mut g = c.benchmark_group("analysis");
    g.sample_size(10);
    g.bench_function(format!("decode {name}"), |b| {
        b.iter(|| decode_image(black_box(&image), &NoProgress).expect("decodes"))
    });
    g.bench_function(format!("analyse {name} (decoded)"), |b| {
        b.iter_batched(
            || decoded.clone(),
            |d| Analysis::new(black_box(&image), d),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, analysis);
criterion_main!(benches);
