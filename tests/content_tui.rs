//! The content keys of the terminal UI: the viewer (line numbers, search, hex view, secrets
//! redacted until revealed), the diff against the replaced version, extraction after a
//! confirmation, on the state and rendered with ratatui's TestBackend; and one run of the
//! real binary in tmux that opens a file, searches it and extracts it.

use std::path::Path;
use std::sync::Arc;

use layersift::{App, Pane};
use layersift_fixture::{Format, ImageBuilder};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::Terminal;

const KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n";

fn numbered(n: usize) -> String {
    (1..=n).map(|i| format!("line {i}\n")).collect()
}

fn fixture(dir: &Path) -> String {
    let img = ImageBuilder::new()
        .layer("ADD rootfs /", |l| {
            l.dir("app")
                .file("app/notes.txt", numbered(300))
                .file("app/tool.bin", vec![0u8, 1, 2, 0x41, 0x42, 0xff])
                .file("app/id_rsa", KEY)
        })
        .layer("RUN edit", |l| l.file("app/notes.txt", numbered(301)))
        .build()
        .unwrap();
    let layout = dir.join("layout");
    img.write(Format::OciLayout, &layout).unwrap();
    format!("oci:{}", layout.display())
}

fn app_for(reference: &str) -> App {
    let (image, a) =
        layersift::analyze_image(reference, &Default::default(), &layersift::NoProgress).unwrap();
    let mut app = App::new(Arc::new(a), Rect::new(0, 0, 100, 30));
    app.content.image = Some(Arc::new(image));
    app.sync();
    app
}

fn press(app: &mut App, code: KeyCode) {
    app.handle(&Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    app.sync();
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn text(app: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(app.size.width, app.size.height)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    t.backend().to_string()
}

/// Selects the tree row whose name is `name` (the tree is fully expanded).
fn select(app: &mut App, name: &str) {
    app.focus = Pane::Tree;
    press(app, KeyCode::Home);
    for _ in 0..50 {
        let t = app.tree.as_ref().expect("tree built");
        let id = app.selected_node().unwrap();
        if &*t.node(id).name == name {
            return;
        }
        press(app, KeyCode::Down);
    }
    panic!("no row `{name}`");
}

fn wait_tree(app: &mut App) {
    // The tree is built on demand on the state (the worker thread is the binary's).
    if let Some((layer, mode)) = app.tree_request() {
        app.install_tree(layersift::FileTree::build(&app.analysis, layer, mode));
        app.sync();
    }
}

#[test]
fn viewer_shows_numbered_lines_searches_and_closes() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_for(&fixture(dir.path()));
    wait_tree(&mut app);
    select(&mut app, "notes.txt");
    press(&mut app, KeyCode::Enter);
    let s = text(&app);
    assert!(s.contains("/app/notes.txt (layer 0)"), "{s}");
    assert!(s.contains("   1 line 1"), "{s}");
    assert!(s.contains("  20 line 20"), "{s}");
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "line 250");
    press(&mut app, KeyCode::Enter);
    let s = text(&app);
    assert!(s.contains(" 250 line 250"), "{s}");
    assert!(s.contains("line 250 · / search"), "{s}");
    press(&mut app, KeyCode::Char('N'));
    let s = text(&app);
    assert!(s.contains("`line 250` not found above"), "{s}");
    press(&mut app, KeyCode::Char('G'));
    assert!(text(&app).contains(" 300 line 300"));
    press(&mut app, KeyCode::Esc);
    assert!(!text(&app).contains("line 300"));
    // The help lists the new keys.
    press(&mut app, KeyCode::Char('?'));
    let s = text(&app);
    assert!(s.contains("view the file"), "{s}");
}

#[test]
fn binaries_show_as_hex_and_secrets_stay_redacted_until_revealed() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_for(&fixture(dir.path()));
    wait_tree(&mut app);
    select(&mut app, "tool.bin");
    press(&mut app, KeyCode::Char('v'));
    let s = text(&app);
    assert!(s.contains("00000000  00 01 02 41 42 ff"), "{s}");
    assert!(s.contains("|...AB.|"), "{s}");
    press(&mut app, KeyCode::Esc);
    select(&mut app, "id_rsa");
    press(&mut app, KeyCode::Enter);
    let s = text(&app);
    assert!(s.contains("secret redacted (s: reveal)"), "{s}");
    assert!(s.contains("[REDACTED]"), "{s}");
    assert!(!s.contains("b3BlbnNzaC1rZXkt"), "{s}");
    press(&mut app, KeyCode::Char('s'));
    let s = text(&app);
    assert!(s.contains("b3BlbnNzaC1rZXkt"), "{s}");
    assert!(s.contains("SECRET REVEALED"), "{s}");
}

#[test]
fn d_diffs_against_the_replaced_version() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_for(&fixture(dir.path()));
    app.focus = Pane::Layers;
    press(&mut app, KeyCode::Down); // layer 1
    wait_tree(&mut app);
    select(&mut app, "notes.txt");
    press(&mut app, KeyCode::Char('d'));
    let s = text(&app);
    assert!(s.contains("--- layer 0 app/notes.txt"), "{s}");
    assert!(s.contains("+line 301"), "{s}");
}

/// `x` then `y` extracts on a thread: the key returns at once, the status bar says what
/// runs, and the outcome arrives through `poll` (the event loop calls it every tick).
#[test]
fn extraction_runs_beside_the_screen_and_reports_when_done() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut app = app_for(&fixture(dir.path()));
    wait_tree(&mut app);
    select(&mut app, "app");
    press(&mut app, KeyCode::Char('x'));
    app.content.confirm.as_mut().expect("asks first").target = out.path().to_path_buf();
    press(&mut app, KeyCode::Char('y'));
    assert!(app.content.confirm.is_none());
    let mut said = None;
    for _ in 0..2000 {
        app.content.poll();
        if let Some(m) = app.content.message.clone() {
            said = Some(m);
            break;
        }
        assert!(
            app.content.running.is_some(),
            "no outcome and nothing running"
        );
        let s = text(&app);
        assert!(s.contains("extracting `/app` into"), "{s}");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let said = said.expect("the extraction ended");
    assert!(said.starts_with("extracted 3 files"), "{said}");
    assert!(app.content.running.is_none());
    // As the selected layer (the first) has it, not as a later layer rewrote it.
    assert_eq!(
        std::fs::read_to_string(out.path().join("app/notes.txt")).unwrap(),
        numbered(300)
    );
    assert!(text(&app).contains("extracted 3 files"));
}

#[test]
fn tmux_opens_searches_and_extracts_a_file() {
    if !crate::util::tmux_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let reference = fixture(dir.path());
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_layersift"));
    let cmd = format!(
        "cd {} && NO_COLOR=1 {} explore {reference}; echo EXIT=$?; sleep 20",
        work.display(),
        bin.display()
    );
    let t = crate::util::Tmux::start("content", 120, 40, &cmd);
    t.wait_for("Layer 0 changes", 60);
    t.keys(&["Tab"]);
    // Filter the tree to the file, go to its row, open it.
    t.keys(&["C-f"]);
    t.wait_for("Path filter", 60);
    t.keys(&["-l", "notes"]);
    t.keys(&["Enter"]);
    t.wait_for("filter: notes", 60);
    t.keys(&["G"]);
    t.keys(&["Enter"]);
    let s = t.wait_for("/app/notes.txt (layer 0)", 60);
    assert!(s.contains("   1 line 1"), "{s}");
    t.keys(&["/"]);
    t.keys(&["-l", "line 123"]);
    t.keys(&["Enter"]);
    let s = t.wait_for("line 123 · / search", 60);
    assert!(s.contains(" 123 line 123"), "{s}");
    t.keys(&["q"]);
    // Back in the tree: extract the file, after confirming.
    t.keys(&["x"]);
    t.wait_for("Extract /app/notes.txt", 60);
    t.keys(&["y"]);
    t.wait_for("extracted 1 files", 60);
    t.keys(&["q"]);
    t.wait_for("EXIT=0", 60);
    assert_eq!(
        std::fs::read_to_string(work.join("app/notes.txt")).unwrap(),
        numbered(300)
    );
}
