//! What the fuzz targets share: the contracts they assert, and the "parts" input format
//! that lets a fuzzer reach past digest checks.
//!
//! The contract for every parser: no panic (libFuzzer reports one as a crash), and either a
//! clear `Err` or a value that keeps its promises. Text outputs must be safe to print (no
//! control byte but newline and tab), and the byte accounting must add up.
//!
//! Parts: an image's files as one input. Parts are separated by [`SEP`]; part 0 is
//! `index.json` (OCI layout) and `manifest.json` (docker archive); part N (1 to 9) is stored
//! as `blobs/sha256/<hex>`, `<hex>.json` and `pN`, where `<hex>` is its sha256. Before that,
//! every `@@N` in a part is replaced by part N's hex, so a mutated manifest still names its
//! config by the right digest (a part may only name later parts).

use std::sync::Arc;

use layersift::{ImageRef, MemContainer, OpenOptions, Transport};

/// Separates parts.
pub const SEP: &[u8] = b"\n\0--part--\0\n";

/// The files an input of parts stands for.
pub fn files_from_parts(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut parts: Vec<Vec<u8>> = split(data, SEP).into_iter().take(10).map(<[u8]>::to_vec).collect();
    let mut hexes = vec![String::new(); parts.len()];
    for i in (0..parts.len()).rev() {
        for (j, hex) in hexes.iter().enumerate().skip(i + 1) {
            parts[i] = replace(&parts[i], format!("@@{j}").as_bytes(), hex.as_bytes());
        }
        hexes[i] = layersift::sha256_digest(&parts[i])
            .trim_start_matches("sha256:")
            .to_string();
    }
    let mut files = Vec::new();
    for (i, (p, hex)) in parts.into_iter().zip(hexes).enumerate() {
        if i == 0 {
            files.push(("index.json".to_string(), p.clone()));
            files.push(("manifest.json".to_string(), p.clone()));
            files.push(("oci-layout".to_string(), br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()));
        } else {
            files.push((format!("blobs/sha256/{hex}"), p.clone()));
            files.push((format!("{hex}.json"), p.clone()));
            files.push((format!("p{i}"), p));
        }
    }
    files
}

fn split<'a>(data: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = find(rest, sep) {
        out.push(&rest[..i]);
        rest = &rest[i + sep.len()..];
    }
    out.push(rest);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn replace(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let parts = split(data, from);
    parts.join(to)
}

/// Asserts text is safe to print: no control character but newline and tab.
pub fn assert_printable(what: &str, text: &str) {
    if let Some(c) = text.chars().find(|&c| c.is_control() && c != '\n' && c != '\t') {
        panic!("{what} holds the raw control character {c:?}:\n{text}");
    }
}

/// An error as `print_error` shows it (the message and its causes, each escaped) holds no
/// raw control character.
pub fn assert_error_printable(what: &str, e: &dyn std::error::Error) {
    let mut msg = layersift::for_terminal_lines(&e.to_string()).into_owned();
    let mut cause = e.source();
    while let Some(c) = cause {
        msg.push_str(&layersift::for_terminal_lines(&c.to_string()));
        cause = c.source();
    }
    assert_printable(what, &msg);
}

/// Opens an image from fuzzed files with `transport`; when it opens, every layer it names
/// must be well formed, and decoding and analysing it must keep every output's promises.
pub fn image_contract(transport: Transport, data: &[u8]) {
    let c = Arc::new(MemContainer::new(files_from_parts(data)));
    let r = ImageRef {
        transport,
        location: "fuzz".to_string(),
        inner: None,
    };
    let Ok(image) = layersift::open_in(c, &r, &OpenOptions::default()) else {
        return;
    };
    for l in &image.layers {
        if let Some(d) = &l.digest {
            assert!(layersift::digest_hex(d).is_ok(), "bad layer digest {d:?} accepted");
        }
        if let Some(d) = &l.diff_id {
            assert!(layersift::digest_hex(d).is_ok(), "bad diff_id {d:?} accepted");
        }
        assert!(
            !l.locator.starts_with('/') && !l.locator.split('/').any(|c| c == ".."),
            "unsafe blob path {:?} accepted",
            l.locator
        );
    }
    let Ok(decoded) = layersift::decode_image(&image, &layersift::NoProgress) else {
        return;
    };
    let a = layersift::Analysis::new(&image, decoded);
    analysis_contract(&a);
}

/// Every output of an analysis keeps its promises.
pub fn analysis_contract(a: &layersift::Analysis) {
    use layersift::{render_report, ReportFormat as Format};
    let t = &a.totals;
    assert_eq!(t.visible + t.hidden(), t.content, "visible + hidden = total");
    for f in [Format::Text, Format::Markdown] {
        assert_printable("report", &render_report(a, f).expect("renders"));
    }
    let json = render_report(a, Format::Json).expect("renders");
    let back = layersift::parse_report(&json, "fuzz").expect("a report reads back");
    report_contract(&back);
}

/// Every output made from a (saved) report keeps its promises.
pub fn report_contract(r: &layersift::json::Report) {
    use layersift::render_diff as render;
    use layersift::ReportFormat as Format;
    let d = layersift::compare(r, r, 10);
    for f in [Format::Text, Format::Markdown] {
        assert_printable("diff", &render(r, r, &d, f).expect("renders"));
    }
    let _ = render(r, r, &d, Format::Json);
    let cfg = layersift::CheckConfig::default();
    let result = layersift::evaluate(&cfg, r, Some(r));
    assert_printable("check", &result.render());
    let record = layersift::Record::from_report(r);
    assert_printable("trend", &layersift::render_trend(&[record]));
}
