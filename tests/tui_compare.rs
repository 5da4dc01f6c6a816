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

use crate::util::succeeded;

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

#[test]
fn slash_searches_the_new_tree_and_n_goes_on() {
    let mut v = view(120, 40);
    press(&mut v, KeyCode::Char('/'));
    assert!(v.searching);
    for c in "\\.py$".chars() {
        press(&mut v, KeyCode::Char(c));
    }
    // The cursor follows the first match while typing.
    assert_eq!(selected(&v), "/app/main.py");
    assert!(text(&v).contains("/\\.py$▏"));
    press(&mut v, KeyCode::Enter);
    assert!(!v.searching);
    press(&mut v, KeyCode::Char('n'));
    assert_eq!(selected(&v), "/usr/lib/python3/requests.py");
    press(&mut v, KeyCode::Char('n'));
    assert_eq!(selected(&v), "/app/main.py", "wraps around");
    press(&mut v, KeyCode::Char('N'));
    assert_eq!(selected(&v), "/usr/lib/python3/requests.py");
    // Esc while typing goes back to where the search started.
    press(&mut v, KeyCode::Char('/'));
    for c in "same".chars() {
        press(&mut v, KeyCode::Char(c));
    }
    assert_eq!(selected(&v), "/app/same.txt");
    press(&mut v, KeyCode::Esc);
    assert_eq!(selected(&v), "/usr/lib/python3/requests.py");
    // No match: said, cursor kept.
    press(&mut v, KeyCode::Char('/'));
    for c in "nothing-here".chars() {
        press(&mut v, KeyCode::Char(c));
    }
    press(&mut v, KeyCode::Enter);
    assert_eq!(selected(&v), "/usr/lib/python3/requests.py");
    assert!(text(&v).contains("`nothing-here` matches no path in this tree"));
}

#[test]
fn config_pane_marks_what_changed_since_the_old_image() {
    let dir = tempfile::tempdir().unwrap();
    let side = |cmd: &[&str], env: &str, name: &str| {
        let b = base(ImageBuilder::new()).cmd(cmd).env(env);
        let r = crate::util::write(
            &b.build().unwrap(),
            Format::OciLayout,
            &dir.path().join(name),
        );
        let mut a =
            layersift::analyze_reference(&r, &Default::default(), &layersift::NoProgress).unwrap();
        a.image.reference = format!("oci:{name}");
        Report::from_analysis(&a)
    };
    let token = format!("ghp_{}", "0123456789abcdefghijklmnopqrstuvwxyzAB");
    let old = side(&["bash"], "MODE=dev", "old");
    let new = side(&["curl", "--version"], &format!("APP_TOKEN={token}"), "new");
    let d = layersift::compare(&old, &new, usize::MAX);
    for (w, h) in [(80, 24), (200, 50)] {
        let mut v = CompareView::new(d.clone(), &new.files, Rect::new(0, 0, w, h));
        v.old_runtime = old.image.runtime.clone();
        v.new_runtime = new.image.runtime.clone();
        press(&mut v, KeyCode::Char('c'));
        let t = text(&v);
        assert!(t.contains("Changed     Cmd, Env"), "{t}");
        assert!(t.contains("Cmd        ≠curl --version"), "{t}");
        assert!(t.contains("  was       bash"), "{t}");
        insta::assert_snapshot!(format!("compare_config_{w}x{h}"), t);
        for _ in 0..10 {
            press(&mut v, KeyCode::Down);
        }
        let all = format!("{t}{}", text(&v));
        assert!(all.contains("APP_TOKEN=ghp_[REDACTED]"), "{all}");
        assert!(!all.contains(&token), "{all}");
        // `q` closes the pane; it does not quit.
        press(&mut v, KeyCode::Char('q'));
        assert!(v.config.is_none() && !v.quit);
    }
    // A side without the config (a report saved before it was kept) says so.
    let mut v = CompareView::new(d, &new.files, Rect::new(0, 0, 120, 40));
    press(&mut v, KeyCode::Char('c'));
    assert!(text(&v).contains("report saved before reports carried the image config"));
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
    t.wait_for("Layers: 1 shared, 0 changed, 3 added, 0 removed", 60);
    // The frame may be captured half-written: wait for each part.
    t.wait_for("RUN apt-get update", 60);
    t.wait_for("against", 60);
    t.keys(&["]"]);
    // The first changed entry of the tree: an added file under /etc.
    t.wait_for(" added ", 60);
    // `/` jumps to curl (the status bar names the selected entry's path).
    t.keys(&["/"]);
    t.keys(&["-l", "bin/curl"]);
    t.keys(&["Enter"]);
    t.wait_for(" /usr/bin/curl · ", 60);
    config_shows_the_new_cmd_then_quit(&t);
}

/// base → apt-waste: `c` shows the Cmd that changed and what it was; `c` closes, `q` quits.
fn config_shows_the_new_cmd_then_quit(t: &crate::util::Tmux) {
    t.keys(&["c"]);
    let s = t.wait_for("Cmd        ≠curl --version", 60);
    assert!(s.contains("  was       bash"), "{s}");
    t.keys(&["c"]);
    t.keys(&["q"]);
    t.wait_for("EXIT=0", 60);
}

/// Compare mode with a saved report as the old side: the report gives the layers, the
/// files and the config, as an image would.
#[test]
fn tmux_compare_mode_with_a_saved_report() {
    let Some(corpus) = crate::util::corpus() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let oci = corpus.join("oci");
    let saved = dir.path().join("base.json");
    succeeded(
        crate::util::layersift_command()
            .args([
                "analyze",
                &format!("oci:{}:base", oci.display()),
                "-f",
                "json",
                "-o",
            ])
            .arg(&saved)
            .output()
            .unwrap(),
    );
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_layersift"));
    let cmd = format!(
        "{} explore {} oci:{}:apt-waste; echo EXIT=$?; sleep 20",
        bin.display(),
        saved.display(),
        oci.display()
    );
    if !crate::util::tmux_present() {
        return;
    }
    let t = crate::util::Tmux::start("compare-saved", 120, 40, &cmd);
    t.wait_for("Layers: 1 shared, 0 changed, 3 added, 0 removed", 60);
    config_shows_the_new_cmd_then_quit(&t);
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
