//! Criterion benchmarks of the pipeline's first half: decode+index of one layer (a generated
//! layer of many small files, and the corpus' base layer when `../shared/corpus` is present),
//! and merge of many layers.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use layersift::decode_layer;
use layersift::merge;
use layersift::LayerIndex;
use layersift::{ImageRef, OpenOptions};
use layersift_fixture::{Compression, ImageBuilder};

/// A layer of `n` small files spread over directories, like a package install.
fn generated_layer(n: usize, c: Compression) -> Vec<u8> {
    let img = ImageBuilder::new()
        .compression(c)
        .layer("RUN install", |mut l| {
            for i in 0..n {
                let body: Vec<u8> = (0..(i % 4000) as u32)
                    .map(|b| (b * 7 + i as u32) as u8)
                    .collect();
                l = l.file(
                    format!("usr/share/pkg{}/dir{}/file{i}.txt", i % 97, i % 13),
                    body,
                );
            }
            l
        })
        .build()
        .expect("fixture builds");
    img.layers[0].blob.clone()
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode+index");
    g.sample_size(10);
    for comp in [Compression::Gzip, Compression::Zstd] {
        let blob = generated_layer(20_000, comp);
        g.throughput(Throughput::Bytes(blob.len() as u64));
        g.bench_function(format!("20k files, {comp:?}"), |b| {
            b.iter(|| decode_layer(black_box(&blob[..]), None, None, None).expect("decodes"))
        });
    }
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/oci");
    if corpus.join("index.json").is_file() {
        let r = ImageRef::parse(&format!("oci:{}:base", corpus.display())).expect("ref");
        let image = layersift::open(&r, &OpenOptions::default()).expect("base opens");
        let layer = &image.layers[0];
        g.throughput(Throughput::Bytes(layer.size));
        g.bench_function("corpus base layer (gzip, 42 MB)", |b| {
            b.iter(|| {
                let blob = image.store.open(layer).expect("blob");
                decode_layer(
                    blob,
                    layer.digest.as_deref(),
                    layer.diff_id.as_deref(),
                    None,
                )
                .expect("decodes")
            })
        });
    } else {
        eprintln!("corpus not found: skipping the corpus decode benchmark");
    }
    g.finish();
}

fn merging(c: &mut Criterion) {
    // Ten layers of 20k entries each, every other layer rewriting half the paths of the one
    // below and whiting out a directory.
    let layers: Vec<LayerIndex> = (0..10)
        .map(|l| {
            let blob = generated_layer(20_000, Compression::None);
            let mut d = decode_layer(&blob[..], None, None, None).expect("decodes");
            if l % 2 == 1 {
                d.index.entries.truncate(10_000);
            }
            d.index
        })
        .collect();
    let refs: Vec<&LayerIndex> = layers.iter().collect();
    let entries: usize = layers.iter().map(LayerIndex::len).sum();
    let mut g = c.benchmark_group("merge");
    g.throughput(Throughput::Elements(entries as u64));
    g.bench_function("10 layers, 150k entries", |b| {
        b.iter(|| merge(black_box(&refs)))
    });
    g.finish();
}

criterion_group!(benches, decode, merging);
criterion_main!(benches);
