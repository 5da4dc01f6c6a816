//! Criterion benchmarks of the TUI's per-keystroke work on a layer of 200k files: building a
//! file tree (runs on the tree worker when the layer or mode changes), applying filters
//! (runs on the UI thread for each filter keystroke and toggle), and drawing one frame
//! (only the rows on screen are formatted).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use layersift::App;
use layersift::{FileTree, TreeMode, ViewOptions};
use layersift_fixture::{Compression, Format, ImageBuilder};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;

const FILES: usize = 200_000;

fn analysis() -> layersift::Analysis {
    let img = ImageBuilder::new()
        .compression(Compression::None)
        .layer("ADD rootfs.tar /", |mut l| {
            for i in 0..FILES {
                l = l.file(
                    format!("usr/lib/pkg{:03}/share/data/file-{i:07}.dat", i % 500),
                    vec![(i % 251) as u8; i % 64],
                );
            }
            l
        })
        .layer("RUN rm -rf /usr/lib/pkg002", |l| {
            l.whiteout("usr/lib/pkg002")
        })
        .build()
        .expect("fixture builds");
    let dir = tempfile::tempdir().expect("temp dir");
    img.write(Format::OciLayout, dir.path()).expect("writes");
    let r = format!("oci:{}", dir.path().display());
    layersift::analyze_reference(&r, &Default::default(), &layersift::NoProgress).expect("analyses")
}

fn tree(c: &mut Criterion) {
    let a = Arc::new(analysis());
    let mut g = c.benchmark_group("tui 200k files");
    g.sample_size(10);
    g.bench_function("build layer tree", |b| {
        b.iter(|| FileTree::build(black_box(&a), 0, TreeMode::Layer))
    });
    g.bench_function("build aggregated tree", |b| {
        b.iter(|| FileTree::build(black_box(&a), 1, TreeMode::Aggregated))
    });
    let mut t = FileTree::build(&a, 0, TreeMode::Layer);
    g.bench_function("apply: no filter", |b| {
        b.iter(|| t.apply(black_box(&ViewOptions::default())))
    });
    let mut re = ViewOptions::default();
    re.regex = Some(regex::Regex::new("pkg01[0-9]/.*-00012").expect("regex"));
    g.bench_function("apply: regex filter", |b| {
        b.iter(|| t.apply(black_box(&re)))
    });
    let mut app = App::new(Arc::clone(&a), Rect::new(0, 0, 200, 50));
    app.sync();
    let mut term = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    g.bench_function("draw one 200x50 frame", |b| {
        b.iter(|| term.draw(|f| app.draw(f)).map(|_| ()).expect("draws"))
    });
    g.finish();
}

criterion_group!(benches, tree);
criterion_main!(benches);
