//! Runs after the `tests` binary (cargo runs test binaries in name order) and prints, in one
//! line outside libtest's capture, how many tests skipped themselves and why, so a fresh
//! clone without the corpus or the programs does not look fully tested.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

#[test]
fn skipped_tests_summary() {
    let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "skipped-{}.log",
        std::os::unix::process::parent_id()
    ));
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    let mut why: BTreeMap<&str, usize> = BTreeMap::new();
    for l in text.lines().filter(|l| !l.is_empty()) {
        *why.entry(l).or_default() += 1;
    }
    let n: usize = why.values().sum();
    let line = if n == 0 {
        "layersift tests: none skipped\n".to_string()
    } else {
        let reasons: Vec<String> = why.iter().map(|(w, k)| format!("{k} × {w}")).collect();
        format!(
            "layersift tests: {n} skipped ({}); CI installs what they need (.ci/run)\n",
            reasons.join("; ")
        )
    };
    // Straight to the terminal: libtest captures only the print macros.
    match std::fs::OpenOptions::new().write(true).open("/dev/stderr") {
        Ok(mut tty) => {
            let _ = tty.write_all(line.as_bytes());
        }
        Err(_) => eprint!("{line}"),
    }
}
