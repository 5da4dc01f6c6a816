//! Criterion benchmarks of what reading packages costs, side by side with what it is part
//! of, in one run: decoding the corpus base layer (42 MB gzip, 6k files, the dpkg database)
//! with package capture on and off, and the ownership pass next to the whole analysis of
//! `apt-waste`. Skips with a note when `../shared/corpus` is absent.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use layersift::Analysis;
use layersift::LayerIndex;
use layersift::{decode_layer, NoProgress};
use layersift::{ImageRef, OpenOptions};

fn packages(c: &mut Criterion) {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/oci");
    if !corpus.join("index.json").is_file() {
        eprintln!("corpus not found: skipping the package benchmarks");
        return;
    }
    let open = |name: &str| {
        let r = ImageRef::parse(&format!("oci:{}:{name}", corpus.display())).expect("ref");
        layersift::open(&r, &OpenOptions::default()).expect("image opens")
    };

    let mut g = c.benchmark_group("packages: decode corpus base layer");
    g.sample_size(10);
    let base = open("base");
    let layer = &base.layers[0];
    for (name, off) in [("capture on", false), ("capture off", true)] {
        // The switch is read once per layer decode; the benchmark runs single-threaded.
        if off {
            std::env::set_var("LAYERSIFT_NO_PACKAGES", "1");
        } else {
            std::env::remove_var("LAYERSIFT_NO_PACKAGES");
        }
        g.bench_function(name, |b| {
            b.iter(|| {
                let blob = base.store.open(layer).expect("blob");
                decode_layer(
                    blob,
                    layer.digest.as_deref(),
                    layer.diff_id.as_deref(),
                    None,
                )
                .expect("decodes")
            })
        });
    }
    std::env::remove_var("LAYERSIFT_NO_PACKAGES");
    g.finish();

    let mut g = c.benchmark_group("packages: analysis of apt-waste");
    g.sample_size(10);
    let image = open("apt-waste");
    let decoded = layersift::decode_image(&image, &NoProgress).expect("decodes");
    let a = Analysis::new(&image, decoded.clone());
    g.bench_function("whole analysis (merge, findings, packages)", |b| {
        b.iter(|| Analysis::new(black_box(&image), decoded.clone()))
    });
    let found: Vec<_> = decoded.iter().map(|d| d.packages.clone()).collect();
    let indexes: &[LayerIndex] = &a.indexes;
    g.bench_function("package ownership alone", |b| {
        b.iter(|| layersift::analyze_packages(indexes, &a.merged, black_box(&found)))
    });
    g.finish();
}

criterion_group!(benches, packages);
criterion_main!(benches);
