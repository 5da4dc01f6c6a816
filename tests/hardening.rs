//! Output safety against hostile images: names, commands and references carrying terminal
//! escape sequences or secrets reach no output raw, in any format; markdown keeps its shape
//! whatever a name holds. Each case builds its hostile image with the fixture builder and
//! runs the real binary.

use std::path::Path;

use layersift_fixture::{BuiltImage, Format, ImageBuilder};
use tempfile::TempDir;

use crate::util::{bin, write};

/// An AWS access key id (the documentation's example) planted in a file *name*.
const KEY: &str = "AKIAIOSFODNN7EXAMPLE";
/// The part of [`KEY`] that must never be printed.
const KEY_SECRET: &str = "IOSFODNN7EXAMPLE";

/// Escape sequences a hostile layer can carry: clear screen, retitle, colour, blink, a C1
/// CSI, a bidi override.
const CLEAR: &str = "\x1b[2J";
const TITLE: &str = "\x1b]0;pwned\x07";

/// An image whose every image-controlled string is hostile: apt lists removed by a later
/// layer (a suggestion quoting both commands), duplicate files with escape sequences in their
/// names, a file named like an AWS key, and markdown that would inject an image and break a
/// table.
fn hostile() -> BuiltImage {
    ImageBuilder::new()
        .layer(&format!("RUN apt-get update {TITLE}| x"), |l| {
            l.file("var/lib/apt/lists/deb_Packages", vec![b'p'; 6000])
                .file(format!("app/{CLEAR}clear"), vec![b'c'; 3000])
                .file(format!("app/{KEY}.txt"), vec![b'k'; 2000])
                // A secret inside a file with a hostile name: `check` lists it.
                .file(
                    format!("app/{TITLE}token.txt"),
                    b"token: ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\n".to_vec(),
                )
                .file(
                    "app/![x](http:\u{9b}1m/t.png)|<img src=x>`",
                    vec![b'i'; 500],
                )
        })
        .layer(
            "RUN rm -rf /var/lib/apt/lists/* ![x](http://t/p.png) \x1b[31m\u{202e}",
            |l| {
                l.whiteout("var/lib/apt/lists")
                    .file("app/dup\x1b[5m", vec![b'c'; 3000])
            },
        )
        .build()
        .unwrap()
}

fn plain() -> BuiltImage {
    ImageBuilder::new()
        .layer("COPY app /app", |l| l.file("app/bin", vec![b'b'; 4000]))
        .build()
        .unwrap()
}

/// The contract for every output: no control byte but newline and tab, no C1 control, no
/// bidi override, and the planted secret nowhere.
pub(crate) fn assert_safe(what: &str, out: &[u8]) {
    let text = String::from_utf8_lossy(out);
    for (i, c) in text.char_indices() {
        let bad = (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if bad {
            let before: String = text[..i].chars().rev().take(40).collect();
            let before: String = before.chars().rev().collect();
            panic!("{what}: raw {c:?} at byte {i}, after …{before:?}");
        }
    }
    assert!(
        !text.contains(KEY_SECRET),
        "{what}: secret printed:\n{text}"
    );
}

fn run(args: &[&str], dir: &std::path::Path) -> (Vec<u8>, Vec<u8>) {
    let out = bin().current_dir(dir).args(args).output().unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{args:?}"
    );
    (out.stdout, out.stderr)
}

#[test]
fn reports_escape_names_and_commands_and_redact_secret_names() {
    let dir = TempDir::new().unwrap();
    let r = write(&hostile(), Format::OciLayout, dir.path());
    for format in ["text", "markdown", "json"] {
        let (out, err) = run(&["analyze", &r, "--format", format], dir.path());
        assert_safe(&format!("analyze --format {format}"), &out);
        assert_safe(&format!("analyze --format {format} (stderr)"), &err);
        let text = String::from_utf8_lossy(&out);
        // Commands are still shown, escaped; JSON lists the files (with its own escapes).
        match format {
            "json" => assert!(text.contains("AKIA[REDACTED].txt"), "{text}"),
            "text" => assert!(text.contains("\\u{1b}]0;pwned\\u{7}"), "{text}"),
            _ => assert!(
                text.contains("\\\\u{1b}\\]0;pwned\\\\u{7}")
                    || text.contains("\\u{1b}]0;pwned\\u{7}"),
                "{text}"
            ),
        }
    }
}

/// The plain image and the hostile one written as OCI layouts under `dir` (`a/`, `b/`):
/// their references, old then new.
fn plain_and_hostile(dir: &Path) -> (String, String) {
    let (a, b) = (dir.join("a"), dir.join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    (
        write(&plain(), Format::OciLayout, &a),
        write(&hostile(), Format::OciLayout, &b),
    )
}

#[test]
fn diff_trend_and_check_outputs_are_safe() {
    let dir = TempDir::new().unwrap();
    let (old, new) = plain_and_hostile(dir.path());
    let history = dir.path().join("h.jsonl");
    let h = history.to_str().unwrap();
    for format in ["text", "markdown", "json"] {
        let (out, err) = run(&["diff", &old, &new, "--format", format], dir.path());
        assert_safe(&format!("diff --format {format}"), &out);
        assert_safe(&format!("diff --format {format} (stderr)"), &err);
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("AKIA[REDACTED].txt"), "{format}:\n{text}");
    }
    for format in ["text", "json"] {
        let (out, err) = run(
            &["check", &new, "--format", format, "--history", h],
            dir.path(),
        );
        assert_safe(&format!("check --format {format}"), &out);
        assert_safe(&format!("check --format {format} (stderr)"), &err);
    }
    // A trend file is anyone's to write: a record with a hostile reference and time.
    let record = serde_json::json!({
        "time": format!("2026-01-01T00:00:00Z{CLEAR}"),
        "reference": format!("evil{TITLE}/{KEY}:1"),
        "layer_count": 1, "content_bytes": 10, "compressed_bytes": 5, "visible_bytes": 10,
        "hidden_bytes": 0, "avoidable_bytes": 0, "waste_bytes": 0, "efficiency": 1.0
    });
    let mut lines = std::fs::read_to_string(&history).unwrap();
    assert!(!lines.contains(KEY_SECRET), "history holds the secret");
    lines.push_str(&format!("{record}\n"));
    std::fs::write(&history, lines).unwrap();
    let (out, err) = run(&["trend", h], dir.path());
    assert_safe("trend", &out);
    assert_safe("trend (stderr)", &err);
    assert!(String::from_utf8_lossy(&out).contains("evil\\u{1b}]0;pwned\\u{7}"));
}

/// Every table row of a markdown output has as many cell separators as its header.
fn assert_tables_keep_shape(md: &str) {
    let cells = |line: &str| {
        let mut n = 0;
        let mut escaped = false;
        for c in line.chars() {
            if c == '|' && !escaped {
                n += 1;
            }
            escaped = c == '\\' && !escaped;
        }
        n
    };
    let mut header = None;
    for line in md.lines() {
        if line.starts_with('|') {
            let n = cells(line);
            let h = *header.get_or_insert(n);
            assert_eq!(n, h, "row breaks its table: {line}");
        } else {
            header = None;
        }
    }
}

/// `md` with every code span's content dropped (CommonMark: a run of N backquotes opens a
/// span that the next run of exactly N closes).
fn without_code_spans(md: &str) -> String {
    let b: Vec<char> = md.chars().collect();
    let run = |i: usize| b[i..].iter().take_while(|&&c| c == '`').count();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == '\\' && i + 1 < b.len() {
            out.push(b[i]);
            out.push(b[i + 1]);
            i += 2;
            continue;
        }
        if b[i] != '`' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let n = run(i);
        let mut j = i + n;
        let close = loop {
            if j >= b.len() {
                break None;
            }
            if b[j] == '`' {
                let m = run(j);
                if m == n {
                    break Some(j);
                }
                j += m;
            } else {
                j += 1;
            }
        };
        match close {
            Some(j) => i = j + n,
            None => {
                out.extend(&b[i..i + n]);
                i += n;
            }
        }
    }
    out
}

#[test]
fn markdown_cannot_be_injected() {
    let dir = TempDir::new().unwrap();
    let (old, new) = plain_and_hostile(dir.path());
    for args in [
        vec!["analyze", new.as_str(), "--format", "markdown"],
        vec!["diff", old.as_str(), new.as_str(), "--format", "markdown"],
    ] {
        let (out, _) = run(&args, dir.path());
        let md = String::from_utf8(out).unwrap();
        assert_tables_keep_shape(&md);
        // Outside code spans (where everything is literal), no HTML and no live link.
        let live = without_code_spans(&md);
        assert!(!live.contains("<img"), "{live}");
        assert!(!live.contains("![x]"), "{live}");
        assert!(
            !live.contains("[x](") || live.contains("\\[x\\]("),
            "{live}"
        );
    }
}

/// Runs a failing command and checks its stderr against the contract; returns it.
fn error(args: &[&str], dir: &std::path::Path) -> String {
    let out = bin().current_dir(dir).args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    assert_safe(&format!("{args:?} stderr"), &out.stderr);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.starts_with("error: "), "{err}");
    err
}

#[test]
fn error_messages_escape_what_the_image_or_user_controls() {
    let dir = TempDir::new().unwrap();
    // An unsafe tar name.
    let img = ImageBuilder::new()
        .layer("RUN x", |l| l.file(format!("../{TITLE}x"), vec![b'x'; 10]))
        .build()
        .unwrap();
    let r = write(&img, Format::OciLayout, dir.path());
    let err = error(&["analyze", &r], dir.path());
    assert!(err.contains("\\u{1b}]0;pwned\\u{7}"), "{err}");

    // A missing path.
    let missing = format!("oci:{}/no{CLEAR}such", dir.path().display());
    let err = error(&["analyze", &missing], dir.path());
    assert!(err.contains("no\\u{1b}[2Jsuch"), "{err}");

    // A bad config value (the TOML file itself holds only an escape in a string).
    let cfg = dir.path().join("layersift.toml");
    std::fs::write(&cfg, "[check]\nmax_size = \"\\u001b[2J10MB\"\n").unwrap();
    let err = error(
        &["check", &r, "--config", cfg.to_str().unwrap()],
        dir.path(),
    );
    assert!(err.contains("\\u{1b}[2J10MB"), "{err}");
}

/// A file's diff shows its text, tabs and lines as they are, but none of the controls or
/// bidi overrides it holds reach the terminal (they go through the one escaping function).
#[test]
fn file_diffs_escape_what_the_file_holds() {
    let dir = TempDir::new().unwrap();
    let img = ImageBuilder::new()
        .layer("COPY motd /etc/motd", |l| {
            l.dir("etc").file("etc/motd", "hello\tworld\nsame\n")
        })
        .layer("RUN edit motd", |l| {
            l.dir("etc").file(
                "etc/motd",
                format!("hello\tworld{CLEAR}\n\u{202e}gnirts\n{TITLE}\nsame\n"),
            )
        })
        .build()
        .unwrap();
    let r = write(&img, Format::OciLayout, dir.path());
    let (out, err) = run(
        &["diff", &r, "--file", "/etc/motd", "--layers", "0", "1"],
        dir.path(),
    );
    assert_safe("diff --file stdout", &out);
    assert_safe("diff --file stderr", &err);
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("+hello\tworld\\u{1b}[2J\n"), "{text}");
    assert!(text.contains("+\\u{202e}gnirts\n"), "{text}");
    assert!(text.contains("-hello\tworld\n"), "{text}");
}
