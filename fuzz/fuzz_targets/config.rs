//! `layersift.toml` and dive's `.dive-ci` (the first byte chooses): an `Err` with a message
//! safe to print, or limits that make sense (ratios within 0..=1, growth not negative).
#![no_main]

use std::path::Path;

use layersift::{parse_dive_ci, parse_toml, CheckConfig, Growth};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let parsed = if which % 2 == 0 {
        parse_toml(text, Path::new("layersift.toml"))
    } else {
        parse_dive_ci(text, Path::new(".dive-ci"))
    };
    match parsed {
        Ok(cfg) => limits_make_sense(&cfg),
        Err(e) => {
            layersift_fuzz::assert_error_printable("config error", &e);
        }
    }
});

fn limits_make_sense(cfg: &CheckConfig) {
    for r in [cfg.min_efficiency, cfg.max_hidden_ratio].into_iter().flatten() {
        assert!((0.0..=1.0).contains(&r), "ratio {r} accepted");
    }
    let g = &cfg.growth;
    for limit in [g.max_content, g.max_compressed, g.max_waste].into_iter().flatten() {
        if let Growth::Percent(p) = limit {
            assert!(p.is_finite() && p >= 0.0, "growth {p}% accepted");
        }
    }
}
