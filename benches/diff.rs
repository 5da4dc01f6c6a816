//! Criterion benchmarks of `layersift diff` on the corpus' two largest images (apt-waste →
//! pip-waste, which share their first two layers): analysing the new image alone, the diff
//! with the old side from a saved report, the diff of two images (shared blobs decoded once),
//! and the diff of two saved reports. Skipped with a note when `../shared/corpus` is absent.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use layersift::compare;
use layersift::json::{to_json, Report};
use layersift::NoProgress;
use layersift::OpenOptions;

fn report_of(reference: &str) -> Report {
    let a = layersift::analyze_reference(reference, &OpenOptions::default(), &NoProgress)
        .expect("corpus image analyses");
    Report::from_analysis(&a)
}

fn diff(c: &mut Criterion) {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/oci");
    if !corpus.join("index.json").is_file() {
        eprintln!("skipping: corpus not found at {}", corpus.display());
        return;
    }
    let old_ref = format!("oci:{}:apt-waste", corpus.display());
    let new_ref = format!("oci:{}:pip-waste", corpus.display());
    let old_json = to_json(&report_of(&old_ref)).expect("report serializes");
    let new_json = to_json(&report_of(&new_ref)).expect("report serializes");
    let parse = |s: &str| serde_json::from_str::<Report>(s).expect("report parses");

    let mut g = c.benchmark_group("diff apt-waste → pip-waste");
    g.sample_size(10);
    g.bench_function("analyze new alone", |b| {
        b.iter(|| black_box(report_of(&new_ref)))
    });
    g.bench_function("diff, old side from a report", |b| {
        b.iter(|| {
            let old = parse(&old_json);
            let new = report_of(&new_ref);
            black_box(compare(&old, &new, 20))
        })
    });
    g.bench_function("diff, two images", |b| {
        b.iter(|| {
            let both = layersift::analyze_references(
                &[&old_ref, &new_ref],
                &OpenOptions::default(),
                &NoProgress,
            )
            .expect("corpus images analyse");
            let old = Report::from_analysis(&both[0]);
            let new = Report::from_analysis(&both[1]);
            black_box(compare(&old, &new, 20))
        })
    });
    g.bench_function("diff, two reports", |b| {
        b.iter(|| black_box(compare(&parse(&old_json), &parse(&new_json), 20)))
    });
    g.finish();
}

criterion_group!(benches, diff);
criterion_main!(benches);
