//! The tar walk of one layer stream, plain, gzip or zstd (sniffed as layersift sniffs a
//! blob): an `Err`, or an index whose every path is normalised and inside the layer, that
//! survives the cache's serialisation, and whose secrets are redacted.
#![no_main]

use layersift::decode_layer;
use layersift::{normalize_path, LayerIndex};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(d) = decode_layer(data, None, None, None) else {
        return;
    };
    assert_eq!(d.compressed_size, data.len() as u64);
    for i in 0..d.index.len() {
        let p = d.index.path(i);
        assert_eq!(
            normalize_path(p).ok().flatten().as_deref(),
            Some(p),
            "path {p:?} is not normalised"
        );
    }
    let back = LayerIndex::from_bytes(&d.index.to_bytes()).expect("the index reads back");
    assert_eq!(back.len(), d.index.len());
    assert_eq!(back.content_bytes(), d.index.content_bytes());
    for s in &d.secrets {
        assert!(s.redacted.contains("[REDACTED]"), "{:?}", s.redacted);
    }
});
