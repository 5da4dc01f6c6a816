//! Saved JSON reports (what `diff` and `check --baseline` read back): an `Err`, or a report
//! whose diff, check and trend outputs are safe to print.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = layersift::parse_report(text, "fuzz.json") {
        layersift_fuzz::report_contract(&r);
    }
});
