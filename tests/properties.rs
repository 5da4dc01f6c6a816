//! A property test over random fixture images whose names, commands and env hold escape
//! sequences, markdown, bidi overrides and planted secrets: every output format (text,
//! JSON, markdown, diff in each format, the trend table) has no control byte but newline
//! and tab, no planted secret in the clear, and visible + hidden = total.

use layersift::json::Report;
use layersift::{
    compare, render_diff, render_report as render, render_trend as render_table, Record,
    ReportFormat,
};
use layersift_fixture::{BuiltImage, Format, ImageBuilder};
use proptest::prelude::*;

use crate::util::{analyze, write};

/// Planted secrets, and the part of each that must never be printed.
const SECRETS: [(&str, &str); 3] = [
    ("AKIAIOSFODNN7EXAMPLE", "IOSFODNN7EXAMPLE"),
    (
        "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB",
        "0123456789abcdefghijklmnopqrstuvwxyzAB",
    ),
    ("xoxb-123456789012-abcdefghij", "123456789012-abcdefghij"),
];

/// A piece of an image-controlled string.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z0-9._-]{1,8}",
        1 => Just("\x1b[2J".to_string()),
        1 => Just("\x1b]0;title\x07".to_string()),
        1 => Just("\u{9b}31m".to_string()),
        1 => Just("\u{202e}".to_string()),
        1 => Just("\n".to_string()),
        1 => Just("\t".to_string()),
        1 => Just("\r".to_string()),
        1 => Just("\x7f".to_string()),
        1 => Just("|".to_string()),
        1 => Just("`".to_string()),
        1 => Just("<img src=x>".to_string()),
        1 => Just("![x](http://t/p.png)".to_string()),
        1 => Just("é日本".to_string()),
        // A secret stands between separators, as in `app/AKIA….txt`.
        2 => (0..SECRETS.len()).prop_map(|i| format!("-{}-", SECRETS[i].0)),
    ]
}

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 1..max).prop_map(|v| v.concat())
}

#[derive(Debug, Clone)]
struct LayerSpec {
    command: String,
    files: Vec<(String, u8)>,
    /// Remove this many files of the previous layer (whiteouts).
    remove: usize,
}

fn layer() -> impl Strategy<Value = LayerSpec> {
    (
        text(5),
        prop::collection::vec((text(4), 0u8..4), 1..5),
        0usize..3,
    )
        .prop_map(|(command, files, remove)| LayerSpec {
            command,
            files,
            remove,
        })
}

/// Content by kind: shared (duplicates), unique, a secret inside, a cache file's.
fn content(kind: u8, n: usize) -> Vec<u8> {
    match kind {
        0 => vec![b's'; 700],
        1 => format!("unique {n}\n").repeat(40).into_bytes(),
        2 => format!("token: {}\n", SECRETS[1].0).into_bytes(),
        _ => vec![b'c'; 300 + n],
    }
}

fn build(layers: &[LayerSpec], env: &str) -> BuiltImage {
    let mut b = ImageBuilder::new().env(&format!("APP_NOTE={env}"));
    let mut previous: Vec<String> = Vec::new();
    for (li, spec) in layers.iter().enumerate() {
        let names: Vec<String> = spec
            .files
            .iter()
            .enumerate()
            .map(|(i, (name, _))| format!("d{li}/{i}{name}"))
            .collect();
        let gone: Vec<String> = previous.iter().take(spec.remove).cloned().collect();
        let files = spec.files.clone();
        let listed = names.clone();
        b = b.layer(&format!("RUN {}", spec.command), move |mut l| {
            for p in &gone {
                l = l.whiteout(p);
            }
            for (i, ((_, kind), name)) in files.iter().zip(&listed).enumerate() {
                l = l.file(name, content(*kind, i));
            }
            l
        });
        previous = names;
    }
    b.build().unwrap()
}

fn assert_clean(what: &str, out: &str) {
    for c in out.chars() {
        let bad = (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        assert!(!bad, "{what}: raw {c:?} in:\n{out}");
    }
    for (whole, secret) in SECRETS {
        assert!(
            !out.contains(secret),
            "{what}: `{whole}` unredacted in:\n{out}"
        );
    }
}

fn plain() -> Report {
    let dir = tempfile::tempdir().unwrap();
    let img = ImageBuilder::new()
        .layer("COPY app /app", |l| l.file("app/bin", vec![b'b'; 900]))
        .build()
        .unwrap();
    Report::from_analysis(&analyze(&write(&img, Format::OciLayout, dir.path())).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_output_is_printable_redacted_and_adds_up(
        layers in prop::collection::vec(layer(), 1..4),
        env in text(3),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let img = build(&layers, &env);
        let a = analyze(&write(&img, Format::OciLayout, dir.path())).unwrap();
        let t = &a.totals;
        prop_assert_eq!(t.visible + t.hidden(), t.content);
        for f in [ReportFormat::Text, ReportFormat::Markdown, ReportFormat::Json, ReportFormat::Html] {
            assert_clean(&format!("{f:?} report"), &render(&a, f).unwrap());
        }
        let report = Report::from_analysis(&a);
        let s = &report.summary;
        prop_assert_eq!(s.visible_bytes + s.hidden_bytes, s.content_bytes);
        let old = plain();
        let d = compare(&old, &report, 20);
        for f in [ReportFormat::Text, ReportFormat::Markdown, ReportFormat::Json, ReportFormat::Html] {
            assert_clean(&format!("{f:?} diff"), &render_diff(&old, &report, &d, f).unwrap());
        }
        assert_clean("trend", &render_table(&[Record::from_report(&report)]));
    }
}
