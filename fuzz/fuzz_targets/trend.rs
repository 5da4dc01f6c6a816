//! Trend history files (JSON lines anyone can write): an `Err`, or records whose table is
//! safe to print.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(h) = layersift::parse_history(text, Path::new("fuzz.jsonl")) {
        let records = h.records;
        layersift_fuzz::assert_printable("trend", &layersift::render_trend(&records));
    }
});
