//! Compare mode (`layersift explore OLD NEW`, issue 16): aligned layers and the new tree
//! marked against the old one, rendered at 80×24 and 200×50, keys on the state alone, and
//! the real binary in tmux on two corpus images.

use layersift::json::Report;
use layersift::{ComparePane, CompareView};
use layersift_fixture::{Format, ImageBuilder};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::Terminal;

fn base(b: ImageBuilder) -> ImageBuilder {
    b.layer("ADD rootfs /", |l| {
        l.dir("etc")
            .file("etc/os-release", b"debian 12\n".to_vec())
            .dir("usr/bin")
            .file("usr/bin/tool", vec![1u8; 1000])
    })
}

fn report(b: ImageBuilder, name: &str) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let r = crate::util::write(&b.build().unwrap(), Format::OciLayout, dir.path());
    let mut a =
        layersift::analyze_reference(&r, &Default::default(), &layersift::NoProgress).unwrap();
    a.image.reference = name.to_string();
    Report::from_analysis(&a)
}

/// OLD: base + an app layer. NEW: the same base, the app layer rebuilt (a file grown, one
/// shrunk, one gone, one new) and one more layer.
fn view(w: u16, h: u16) -> CompareView {
    let old = report(
        base(ImageBuilder::new()).layer("COPY app /app", |l| {
            l.dir("app")
                .file("app/main.py", vec![b'a'; 2000])
                .file("app/big.dat", vec![b'b'; 9000])
                .file("app/old.txt", vec![b'o'; 300])
                .file("app/same.txt", vec![b's'; 50])
        }),
        "oci:old",
    );
    let new = report(
        base(ImageBuilder::new())
            .layer("COPY app /app", |l| {
                l.dir("app")
                    .file("app/main.py", vec![b'a'; 2600])
                    .file("app/big.dat", vec![b'b'; 4000])
                    .file("app/same.txt", vec![b's'; 50])
            })
            .layer("RUN pip install requests", |l| {
                l.dir("usr/lib/python3")
                    .file("usr/lib/python3/requests.py", vec![b'r'; 700])
            }),
        "oci:new",
    );
    let d = layersift::compare(&old, &new, usize::MAX);
    CompareView::new(d, &new.files, Rect::new(0, 0, w, h))
}

fn text(v: &CompareView) -> String {
    let mut t = Terminal::new(TestBackend::new(v.size.width, v.size.height)).unwrap();
    t.draw(|f| v.draw(f)).unwrap();
    t.backend().to_string()
}

fn press(v: &mut CompareView, code: KeyCode) {
    v.handle(&Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn selected(v: &CompareView) -> String {
    let t = &v.tree.tree;
    t.path(t.rows()[v.tree_cursor])
}

#[test]
fn layers_align_and_the_tree_marks_changes_with_deltas() {
    for (w, h) in [(80, 24), (200, 50)] {
        let v = view(w, h);
        let t = text(&v);
        assert!(t.contains("1 shared, 1 changed, 1 added, 0 removed"), "{t}");
        assert!(t.contains("grown") && t.contains("+600 B"), "{t}");
        assert!(t.contains("shrunk") && t.contains("-5.0 kB"), "{t}");
        assert!(t.contains("removed") && t.contains("old.txt"), "{t}");
        insta::assert_snapshot!(format!("compare_{w}x{h}"), t);
    }
}

#[test]
fn brackets_jump_between_changed_entries() {
    let mut v = view(120, 40);
    // Changed files in display order: /app/big.dat, main.py, old.txt, then requests.py.
    press(&mut v, KeyCode::Char(']'));
    assert_eq!(selected(&v), "/app/big.dat");
    press(&mut v, KeyCode::Char(']'));
    assert_eq!(selected(&v), "/app/main.py");
    press(&mut v, KeyCode::Char(']'));
    assert_eq!(selected(&v), "/app/old.txt");
    press(&mut v, KeyCode::Char(']'));
    assert_eq!(selected(&v), "/usr/lib/python3/requests.py");
    // Wraps around; `[` goes back.
    press(&mut v, KeyCode::Char(']'));
    assert_eq!(selected(&v), "/app/big.dat");
    press(&mut v, KeyCode::Char('['));
    assert_eq!(selected(&v), "/usr/lib/python3/requests.py");
    // A collapsed directory opens to show the change.
    press(&mut v, KeyCode::Home);
    press(&mut v, KeyCode::Char(' '));
    assert!(!text(&v).contains("main.py"));
    press(&mut v, KeyCode::Char(']'));
    assert_eq!(selected(&v), "/app/big.dat");
    assert!(text(&v).contains("main.py"));
}

#[test]
fn tab_moves_between_panes_and_q_quits() {
    let mut v = view(120, 40);
    assert_eq!(v.focus, ComparePane::Tree);
    press(&mut v, KeyCode::Tab);
    assert_eq!(v.focus, ComparePane::Layers);
    press(&mut v, KeyCode::Down);
    press(&mut v, KeyCode::Down);
    assert_eq!(v.layer, 2);
    press(&mut v, KeyCode::Down);
    assert_eq!(v.layer, 2);
    press(&mut v, KeyCode::Char('q'));
    assert!(v.quit);
}

/// The real binary: `explore oci:…:base oci:…:apt-waste` shows one shared and three
/// added layers, and `]` jumps to a changed entry.
#[test]
fn tmux_compare_mode_on_corpus_images() {
    let Some(corpus) = crate::util::corpus() else {
        return;
    };
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_layersift"));
    let oci = corpus.join("oci");
    let cmd = format!(
        "{} explore oci:{}:base oci:{}:apt-waste; echo EXIT=$?; sleep 20",
        bin.display(),
        oci.display(),
        oci.display()
    );
    if !crate::util::tmux_present() {
        return;
    }
    let t = crate::util::Tmux::start("compare", 120, 40, &cmd);
    let s = t.wait_for("Layers: 1 shared, 0 changed, 3 added, 0 removed", 60);
    assert!(s.contains("RUN apt-get update"), "{s}");
    assert!(s.contains("against"), "{s}");
    t.keys(&["]"]);
    // The first changed entry of the tree: an added file under /etc.
    t.wait_for(" added ", 60);
    t.keys(&["q"]);
    t.wait_for("EXIT=0", 60);
}

#[test]
fn compare_mode_refuses_one_image_options() {
    let out = crate::util::layersift_command()
        .args(["explore", "a.tar", "b.tar", "--base", "c.tar"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: `--base` and `--dockerfile` explore one image;"),
        "{err}"
    );
}
