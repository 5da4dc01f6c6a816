//! Criterion benchmarks of content access on the corpus (`../shared/corpus`; skipped with a
//! note when absent): `cat` of the last regular file of pip-waste's largest layer in one pass
//! over that layer, the same through the analysed image (index lookup, then one stream), a
//! gzip-only pass over that blob as the floor, and `extract` of pip-waste's final filesystem.
//! `scripts/bench-content.sh` times the same against `tar` side by side.

use std::hint::black_box;
use std::io::Read as _;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use layersift::{cat, cat_member, extract, EntryKind, ExtractOptions, OpenOptions, Scope};

fn content(c: &mut Criterion) {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/oci");
    if !corpus.join("index.json").is_file() {
        eprintln!(
            "skipping the content benchmarks: no corpus at {}",
            corpus.display()
        );
        return;
    }
    let reference = format!("oci:{}:pip-waste", corpus.display());
    let (image, a) =
        layersift::analyze_image(&reference, &OpenOptions::default(), &layersift::NoProgress)
            .expect("pip-waste analyses");
    let n = (0..image.layers.len())
        .max_by_key(|&i| image.layers[i].size)
        .expect("layers");
    let idx = &a.indexes[n];
    let last = (0..idx.len())
        .rev()
        .find(|&i| idx.entries[i].kind == EntryKind::File)
        .expect("a file");
    let path = idx.path(last).to_vec();

    let mut g = c.benchmark_group("content");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(image.layers[n].size));
    g.bench_function("inflate the largest layer (floor)", |b| {
        b.iter(|| {
            let mut r = layersift::open_tar(&image, n).expect("opens");
            let mut buf = vec![0u8; 256 << 10];
            while r.read(&mut buf).expect("reads") > 0 {}
        })
    });
    g.bench_function("cat --layer: last file of the largest layer", |b| {
        b.iter(|| {
            cat_member(&image, n, black_box(&path), &mut std::io::sink())
                .expect("cat")
                .expect("found")
        })
    });
    g.bench_function("cat via the index: last file of the largest layer", |b| {
        b.iter(|| {
            cat(
                &image,
                &a,
                Scope::Layer(n),
                black_box(&path),
                &mut std::io::sink(),
            )
        })
    });
    g.throughput(Throughput::Bytes(a.totals.visible));
    g.bench_function("extract pip-waste", |b| {
        b.iter_batched(
            || tempfile::TempDir::new().expect("tempdir"),
            |dir| {
                let opts = ExtractOptions {
                    scope: Scope::Final,
                    patterns: Vec::new(),
                    force: false,
                    same_owner: false,
                };
                extract(&image, &a, &dir.path().join("out"), &opts).expect("extracts");
                dir
            },
            criterion::BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, content);
criterion_main!(benches);
