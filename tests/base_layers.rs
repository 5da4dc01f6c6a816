//! Base and own layers beyond `analyze --base`: `diff --base` (both sides split, own and
//! base moves side by side), the base the manifest's annotations name (layout first, then
//! the registry; a note when it cannot be read; `--base none`), `explore` following them in
//! tmux, and the TUI dimming the base's layers.

use std::path::Path;

use layersift::json::Report;
use layersift_fixture::{BuiltImage, Format, ImageBuilder};

use crate::ci::{app_image, base_image, rootfs, run, setup};
use crate::util::write;

/// App image v2: the same base, a larger `RUN make` (7,000 B) and no node_modules.
fn app_image_v2() -> BuiltImage {
    ImageBuilder::new()
        .layer("ADD rootfs.tar /", rootfs)
        .layer("RUN make", |l| {
            l.dir("app").file("app/bin", vec![b'A'; 7000])
        })
        .build()
        .unwrap()
}

#[test]
fn diff_with_base_moves_own_and_base_layers_side_by_side() {
    let s = setup();
    std::fs::create_dir(s.dir.path().join("c")).unwrap();
    let v2 = write(&app_image_v2(), Format::OciLayout, &s.dir.path().join("c"));
    let (code, out, err) = run(
        s.dir.path(),
        &["diff", &s.app, &v2, "--base", &s.base, "-f", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    let sc = &d["scopes"];
    assert_eq!(sc["own"]["layer_count"]["old"], 3, "{sc}");
    assert_eq!(sc["own"]["layer_count"]["new"], 1, "{sc}");
    assert_eq!(sc["own"]["content_bytes"]["old"], 10_050, "{sc}");
    assert_eq!(sc["own"]["content_bytes"]["new"], 7_000, "{sc}");
    assert_eq!(sc["own"]["content_bytes"]["delta"], -3_050, "{sc}");
    assert_eq!(sc["own"]["waste_bytes"]["old"], 50, "{sc}");
    assert_eq!(sc["base"]["content_bytes"]["delta"], 0, "{sc}");
    assert_eq!(sc["base"]["layer_count"]["new"], 1, "{sc}");

    let (code, text, _) = run(s.dir.path(), &["diff", &s.app, &v2, "--base", &s.base]);
    assert_eq!(code, 0);
    assert!(
        text.contains("\nOwn layers: 3 → 1 (above base `oci:"),
        "{text}"
    );
    let own = text
        .lines()
        .find(|l| l.starts_with("own content"))
        .expect("an own content row");
    assert!(own.contains("10.1 kB") && own.contains("7.0 kB"), "{own}");
    let (_, md, _) = run(
        s.dir.path(),
        &["diff", &s.app, &v2, "--base", &s.base, "-f", "markdown"],
    );
    assert!(md.contains("\n| own content | 10.1 kB | 7.0 kB | "), "{md}");
    assert!(md.contains("\nOwn layers: 3 → 1 (above base `oci:"), "{md}");

    // Reports analysed with `--base` carry their split: the diff shows it without `--base`.
    let save = |img: &str, name: &str| {
        let (code, json, err) = run(
            s.dir.path(),
            &["analyze", img, "--base", &s.base, "-f", "json"],
        );
        assert_eq!(code, 0, "{err}");
        let p = s.dir.path().join(name);
        std::fs::write(&p, json).unwrap();
        p.to_str().unwrap().to_string()
    };
    let (old_json, new_json) = (save(&s.app, "old.json"), save(&v2, "new.json"));
    let (code, out, err) = run(s.dir.path(), &["diff", &old_json, &new_json, "-f", "json"]);
    assert_eq!(code, 0, "{err}");
    let d2: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d2["scopes"]["own"], sc["own"]);

    // Without a base anywhere, no split is claimed.
    let (_, out, _) = run(s.dir.path(), &["diff", &s.app, &v2, "-f", "json"]);
    let d3: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(d3.get("scopes").is_none(), "{d3}");
}

#[test]
fn diff_base_must_start_the_new_image_and_may_miss_the_old() {
    let s = setup();
    std::fs::create_dir(s.dir.path().join("c")).unwrap();
    let v2 = write(&app_image_v2(), Format::OciLayout, &s.dir.path().join("c"));
    // The app as the base of the base: NEW does not start with it.
    let (code, out, err) = run(s.dir.path(), &["diff", &s.base, &v2, "--base", &s.app]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("is not a prefix of the image"), "{err}");
    // v2's two layers as the base: NEW starts with them, OLD (the app) does not.
    let (code, out, err) = run(
        s.dir.path(),
        &["diff", &s.app, &v2, "--base", &v2, "-f", "json"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("note: the old image does not start with the base (")
            && err.contains("layer 1 differs")
            && err.contains("the diff shows no own and base totals"),
        "{err}"
    );
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(d.get("scopes").is_none(), "{d}");
}

/// The app image with its manifest annotated as BuildKit does: the base's name and manifest
/// digest.
pub(crate) fn annotated_app(base: &BuiltImage, name: &str) -> BuiltImage {
    let mut app = app_image();
    let mut m: serde_json::Value = serde_json::from_slice(&app.manifest().unwrap()).unwrap();
    m["annotations"] = serde_json::json!({
        "org.opencontainers.image.base.name": name,
        "org.opencontainers.image.base.digest": base.manifest_digest().unwrap(),
    });
    app.manifest_override = Some(serde_json::to_vec(&m).unwrap());
    app
}

/// Writes the base image and an app whose annotations name it `name` into one OCI layout
/// under `dir` (as `skopeo copy` of both, or a buildx `--output` layout); returns the app's
/// reference, `oci:DIR/both:app`.
fn base_and_annotated_app(dir: &Path, name: &str) -> String {
    let base = base_image();
    let app = annotated_app(&base, name);
    let layout = dir.join("both");
    layersift_fixture::write_index(
        &[(&base, "base"), (&app, "app")],
        Format::OciLayout,
        &layout,
    )
    .unwrap();
    format!("oci:{}:app", layout.display())
}

#[test]
fn the_manifest_annotations_name_the_base_when_no_base_is_given() {
    let dir = tempfile::tempdir().unwrap();
    // The base in the same layout.
    let img = base_and_annotated_app(dir.path(), "registry.example/base:1");
    let (code, out, err) = run(dir.path(), &["analyze", &img, "-f", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("note:"), "{err}");
    let r: Report = serde_json::from_str(&out).unwrap();
    assert_eq!(
        r.image.base_name.as_deref(),
        Some("registry.example/base:1")
    );
    let split = r.base.expect("a base split from the annotations");
    assert_eq!(split.reference, "registry.example/base:1");
    assert_eq!((split.layer_count, split.own.content_bytes), (1, 10_050));
    let (code, out, _) = run(dir.path(), &["analyze", &img]);
    assert_eq!(code, 0);
    assert!(
        out.contains("\nBase        layer 0 (registry.example/base:1)"),
        "{out}"
    );
    // `scope = "own"` works without `--base`.
    std::fs::write(
        dir.path().join("layersift.toml"),
        "[check]\nscope = \"own\"\nmax_size = 10100\n",
    )
    .unwrap();
    let (code, out, err) = run(dir.path(), &["check", &img]);
    assert_eq!(code, 0, "{out}{err}");
    // `--base none` turns it off.
    let (code, out, err) = run(
        dir.path(),
        &["analyze", &img, "--base", "none", "-f", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let r: Report = serde_json::from_str(&out).unwrap();
    assert!(r.base.is_none());
}

#[test]
fn an_annotated_base_that_cannot_be_read_is_a_note_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let base = base_image();
    // Nothing listens on port 1: the registry fails at once; the layout lacks the base.
    let app = annotated_app(&base, "127.0.0.1:1/base:1");
    let img = write(&app, Format::OciLayout, dir.path());
    let (code, out, err) = run(dir.path(), &["analyze", &img, "-f", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("note: the image's annotations name base `127.0.0.1:1/base:1`, but it could not be used ("),
        "{err}"
    );
    assert!(err.contains("`--base none`"), "{err}");
    let r: Report = serde_json::from_str(&out).unwrap();
    assert!(r.base.is_none());
    let (code, _, err) = run(dir.path(), &["analyze", &img, "--base", "none"]);
    assert_eq!(code, 0);
    assert!(!err.contains("note:"), "{err}");
}

/// A registry that answers every request with 503 and counts the manifest requests (each
/// attempt also asks `/v2/` for an auth challenge first).
fn failing_registry() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let line = String::from_utf8_lossy(&buf[..n]);
            if line
                .lines()
                .next()
                .is_some_and(|l| l.contains("/manifests/"))
            {
                seen.fetch_add(1, Ordering::SeqCst);
            }
            let _ = s.write_all(
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (addr, count)
}

/// The annotated base is optional, so its lookup asks once: a failing registry costs one
/// request, not four with their backoff. A base the user names (`--base`) keeps the retries.
#[test]
fn an_annotated_base_is_looked_up_once_without_retries() {
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().unwrap();
    let (addr, count) = failing_registry();
    let app = annotated_app(&base_image(), &format!("{addr}/base:1"));
    let img = write(&app, Format::OciLayout, dir.path());
    let (code, _, err) = run(dir.path(), &["analyze", &img]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("but it could not be used ("), "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 1, "{err}");
    let explicit = format!("docker://{addr}/base:1");
    let (code, _, err) = run(dir.path(), &["analyze", &img, "--base", &explicit]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 1 + 4, "{err}");
}

/// buildah writes `base.name` and `base.digest` empty for an image built from scratch:
/// that names no base, and says nothing.
#[test]
fn empty_base_annotations_name_no_base() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_image();
    let mut m: serde_json::Value = serde_json::from_slice(&app.manifest().unwrap()).unwrap();
    m["annotations"] = serde_json::json!({
        "org.opencontainers.image.base.name": "",
        "org.opencontainers.image.base.digest": "",
    });
    app.manifest_override = Some(serde_json::to_vec(&m).unwrap());
    let img = write(&app, Format::OciLayout, dir.path());
    let (code, out, err) = run(dir.path(), &["analyze", &img, "-f", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("note:"), "{err}");
    let r: Report = serde_json::from_str(&out).unwrap();
    assert!(r.image.base_name.is_none() && r.image.base_digest.is_none());
    assert!(r.base.is_none());
}

/// `explore` follows the annotations too: the real binary in tmux shows the base's layer
/// apart from the own ones.
#[test]
fn explore_splits_the_annotated_base_in_tmux() {
    if !crate::util::tmux_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let img = base_and_annotated_app(dir.path(), "registry.example/base:1");
    let cmd = format!(
        "{} explore {img}; echo EXIT=$?; sleep 20",
        env!("CARGO_BIN_EXE_layersift"),
    );
    let t = crate::util::Tmux::start("ci-base", 120, 40, &cmd);
    t.wait_for("1 base, 3 own", 60);
    t.keys(&["q"]);
    t.wait_for("EXIT=0", 60);
}

/// The TUI dims the base's layers and counts them apart in the layers pane's title; the
/// own layers keep their normal style.
#[test]
fn tui_dims_the_base_layers() {
    use ratatui::backend::TestBackend;
    use ratatui::style::Modifier;
    let dir = tempfile::tempdir().unwrap();
    let img = write(&app_image(), Format::OciLayout, dir.path());
    let mut a = crate::util::analyze(&img).unwrap();
    a.base = Some(layersift::Base {
        reference: "base".to_string(),
        layer_count: 1,
    });
    let mut app = layersift::App::new(
        std::sync::Arc::new(a),
        ratatui::layout::Rect::new(0, 0, 120, 30),
    );
    app.sync();
    let mut t = ratatui::Terminal::new(TestBackend::new(120, 30)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    let buf = t.backend().buffer().clone();
    let row_of = |needle: &str| -> (u16, u16) {
        for y in 0..buf.area.height {
            let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
            if let Some(byte) = line.find(needle) {
                return (u16::try_from(line[..byte].chars().count()).unwrap(), y);
            }
        }
        panic!("`{needle}` not on screen:\n{}", t.backend());
    };
    row_of("1 base, 3 own");
    let dimmed = |needle: &str| {
        let (x, y) = row_of(needle);
        buf[(x, y)].modifier.contains(Modifier::DIM)
    };
    assert!(dimmed("ADD rootfs.tar"), "the base layer is not dimmed");
    assert!(!dimmed("RUN rm -rf /app/.git"), "an own layer is dimmed");
}

/// A base name from the manifest is the image's to choose: with escape sequences, a bidi
/// override and a secret in it, every report and the diff show it escaped and redacted, and
/// the note for an unreadable base does too.
#[test]
fn a_hostile_annotated_base_name_is_escaped_and_redacted_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let name = "reg.example/b\x1b[2Jase\u{202e}:AKIAIOSFODNN7EXAMPLE\x1b]0;pwned\x07";
    let img = base_and_annotated_app(dir.path(), name);
    for format in ["text", "json", "markdown", "html"] {
        let (code, out, err) = run(dir.path(), &["analyze", &img, "-f", format]);
        assert_eq!(code, 0, "{err}");
        crate::hardening::assert_safe(&format!("analyze -f {format}"), out.as_bytes());
        assert!(
            out.contains("reg.example/b"),
            "{format}: base not named:\n{out}"
        );
    }
    for format in ["text", "markdown", "html", "json"] {
        let (code, out, err) = run(dir.path(), &["diff", &img, &img, "-f", format]);
        assert_eq!(code, 0, "{err}");
        crate::hardening::assert_safe(&format!("diff -f {format}"), out.as_bytes());
    }
    // Unreadable (the layout lacks the base): the note is escaped too.
    let app = annotated_app(&base_image(), name);
    let alone = write(&app, Format::OciLayout, &dir.path().join("alone"));
    let (code, _, err) = run(dir.path(), &["analyze", &alone]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("note: the image's annotations name base"),
        "{err}"
    );
    crate::hardening::assert_safe("the note", err.as_bytes());
}
