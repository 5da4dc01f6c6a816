//! The Dockerfile parser (`--dockerfile`, `fix`): an `Err` whose message is safe to print,
//! or a file whose stages and lines keep their promises: every instruction's lines are in
//! the file and in order, a stage is built `FROM` an earlier stage only, the chain of stages
//! ends where it starts from and never loops, and the cited text is the file's.
#![no_main]

use std::path::Path;

use layersift::Dockerfile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let args = [("VERSION".to_string(), "1.0".to_string())];
    let df = match Dockerfile::parse(Path::new("Dockerfile"), text, &args) {
        Ok(df) => df,
        Err(e) => {
            layersift_fuzz::assert_error_printable("Dockerfile error", &e);
            return;
        }
    };
    assert_eq!(df.text, text, "the file is kept as read");
    // Lines as an editor counts them; a last line without a newline counts too.
    let lines = text.split_inclusive('\n').count().max(1);
    for (i, stage) in df.stages.iter().enumerate() {
        if let Some(p) = stage.parent {
            assert!(p < i, "stage {i} is built FROM stage {p}, not an earlier one");
        }
        assert!((1..=lines).contains(&stage.from_line), "FROM at line {}", stage.from_line);
        for ins in &stage.instructions {
            assert!(
                1 <= ins.line && ins.line <= ins.end_line && ins.end_line <= lines,
                "{} spans lines {}-{} of {lines}",
                ins.keyword,
                ins.line,
                ins.end_line
            );
            assert!(!df.lines(ins.line, ins.end_line).is_empty(), "no text for {}", ins.keyword);
        }
    }
    if let Ok(target) = df.target(None) {
        if !df.stages.is_empty() {
            let chain = df.chain(target);
            assert_eq!(chain.last(), Some(&target), "the chain ends at the target");
            let mut seen = chain.clone();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), chain.len(), "the chain of stages loops: {chain:?}");
        }
    }
});
