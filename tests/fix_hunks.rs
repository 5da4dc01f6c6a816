//! `fix` keeps one hunk per suggestion when two rewritten lines are close: the context
//! shrinks (symmetric where it can be) instead of merging the hunks, and the patch applies
//! with `git apply --check` and with GNU `patch -p1 --dry-run`, without fuzz or offset.

use std::path::Path;
use std::process::Command;

use layersift_fixture::{Format, ImageBuilder};

use crate::util::{bin, skip, succeeded, write};

/// A pip install that leaves its cache and an apk add that leaves its index: two cache
/// suggestions, each rewriting its own RUN line.
fn two_caches() -> layersift_fixture::BuiltImage {
    ImageBuilder::new()
        .layer("/bin/sh -c #(nop) ADD file:3a2b in / ", |l| {
            l.file("etc/os-release", "ID=alpine\n")
        })
        .layer("RUN /bin/sh -c pip install flask # buildkit", |l| {
            l.file("root/.cache/pip/http-v2/a/b/wheel", vec![b'w'; 40_000])
                .file("usr/lib/python3/site-packages/flask/__init__.py", "x\n")
        })
        .layer("RUN /bin/sh -c apk add curl # buildkit", |l| {
            l.file("var/cache/apk/APKINDEX.abc.tar.gz", vec![b'i'; 30_000])
                .file("usr/bin/curl", vec![b'c'; 500])
        })
        .build()
        .unwrap()
}

fn run(dir: &Path, program: &str, args: &[&str], stdin: Option<&Path>) -> (bool, String) {
    let mut c = Command::new(program);
    c.current_dir(dir).args(args);
    if let Some(f) = stdin {
        c.stdin(std::fs::File::open(f).unwrap());
    }
    crate::util::success_and_text(&c.output().unwrap())
}

#[test]
fn nearby_suggestions_keep_their_own_hunks_and_the_patch_applies() {
    let tools = ["git", "patch"]
        .iter()
        .all(|p| Command::new(p).arg("--version").output().is_ok());
    if !tools {
        skip("fix_hunks: git or patch not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let reference = write(&two_caches(), Format::OciLayout, &dir.path().join("img"));
    // 1 to 4 lines apart: the lines between are ENV lines, which make no layer.
    for apart in 1..=4 {
        let work = dir.path().join(format!("apart{apart}"));
        std::fs::create_dir(&work).unwrap();
        let between: String = (1..apart).map(|i| format!("ENV STEP{i}={i}\n")).collect();
        let dockerfile = format!(
            "FROM alpine:3.20\nENV A=1\nENV B=2\nENV C=3\nRUN pip install flask\n{between}RUN apk add curl\nENV D=4\nENV E=5\nENV F=6\nCMD [\"flask\", \"run\"]\n"
        );
        std::fs::write(work.join("Dockerfile"), &dockerfile).unwrap();
        let (ok, msg) = run(&work, "git", &["init", "-q"], None);
        assert!(ok, "{msg}");
        succeeded(
            bin()
                .current_dir(&work)
                .args([
                    "fix",
                    &reference,
                    "--dockerfile",
                    "Dockerfile",
                    "-o",
                    "fix.patch",
                ])
                .output()
                .unwrap(),
        );
        let patch = std::fs::read_to_string(work.join("fix.patch")).unwrap();
        // Each hunk carries its own suggestion's heading, unless the lines touch.
        let hunks: Vec<&str> = patch.split("\n@@ ").skip(1).collect();
        let headed: Vec<usize> = hunks
            .iter()
            .map(|h| h.matches("+# layersift fix (").count())
            .collect();
        if apart == 1 {
            assert_eq!(headed, [2], "adjacent lines share one hunk:\n{patch}");
        } else {
            assert_eq!(headed, [1, 1], "{apart} lines apart:\n{patch}");
        }
        assert!(
            patch.contains("pip install --no-cache-dir flask"),
            "{patch}"
        );
        assert!(patch.contains("apk add --no-cache curl"), "{patch}");

        let (ok, msg) = run(&work, "git", &["apply", "--check", "fix.patch"], None);
        assert!(ok, "git apply, {apart} lines apart: {msg}\n{patch}");
        let (ok, msg) = run(
            &work,
            "patch",
            &["-p1", "--dry-run"],
            Some(&work.join("fix.patch")),
        );
        assert!(ok, "patch, {apart} lines apart: {msg}\n{patch}");
        assert!(
            !msg.contains("fuzz") && !msg.contains("offset"),
            "patch applied loosely, {apart} lines apart: {msg}\n{patch}"
        );
        // Applied for real, the file is what `fix` meant: both lines rewritten, the rest kept.
        let (ok, msg) = run(&work, "git", &["apply", "fix.patch"], None);
        assert!(ok, "{msg}");
        let patched = std::fs::read_to_string(work.join("Dockerfile")).unwrap();
        assert!(
            patched.contains("\nRUN pip install --no-cache-dir flask\n"),
            "{patched}"
        );
        assert!(
            patched.contains("\nRUN apk add --no-cache curl\n"),
            "{patched}"
        );
        assert!(
            patched.ends_with("ENV F=6\nCMD [\"flask\", \"run\"]\n"),
            "{patched}"
        );
        assert_eq!(patched.matches("ENV STEP").count(), apart - 1);
    }
}
