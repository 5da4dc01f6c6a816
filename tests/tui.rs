//! The terminal UI: rendered screens (ratatui's TestBackend, insta snapshots), key handling on
//! the state alone, and one end-to-end run of the real binary in tmux.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use layersift::{Analysis, Category, Suggestion};
use layersift::{App, Loading, Pane, ProgressMsg, TreeMode};
use layersift_fixture::{Format, ImageBuilder};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::Terminal;

/// Three layers: a root filesystem, an apt step whose lists a later layer removes, and a
/// cleanup layer that rewrites a binary with identical bytes and empties a directory.
fn image() -> Analysis {
    let dir = tempfile::tempdir().unwrap();
    let img = ImageBuilder::new()
        .layer("ADD rootfs.tar /", |l| {
            l.dir("etc")
                .file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n".to_vec())
                .file("etc/hosts", b"127.0.0.1 localhost\n".to_vec())
                .dir("home")
                .dir("home/app")
                .owner(1000, 1000)
                .file("home/app/notes.txt", vec![b'n'; 700])
                .owner(1000, 1000)
                .dir("usr")
                .dir("usr/bin")
                .file_mode("usr/bin/tool", vec![7u8; 4000], 0o755)
                .symlink("usr/bin/sh", "tool")
                .dir("var")
                .dir("var/cache")
                .dir("var/cache/apt")
                .file("var/cache/apt/pkgcache.bin", vec![3u8; 3000])
        })
        .layer(
            "/bin/sh -c apt-get update && apt-get install -y --no-install-recommends curl ca-certificates && echo installed",
            |l| {
                l.dir("var/lib")
                    .dir("var/lib/apt")
                    .dir("var/lib/apt/lists")
                    .file("var/lib/apt/lists/deb_Packages", vec![b'p'; 50_000])
                    .file_mode("usr/bin/curl", vec![9u8; 20_000], 0o755)
                    .hardlink("usr/bin/curl2", "usr/bin/curl")
                    .file("etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n".to_vec())
            },
        )
        .layer(
            "/bin/sh -c rm -rf /var/lib/apt/lists/* && chmod 0755 /usr/bin/tool",
            |l| {
                l.whiteout("var/lib/apt/lists/deb_Packages")
                    .file_mode("usr/bin/tool", vec![7u8; 4000], 0o755)
                    .opaque("home/app")
                    .file("home/app/new.txt", b"fresh\n".to_vec())
            },
        )
        .build()
        .unwrap();
    img.write(Format::OciLayout, dir.path()).unwrap();
    let r = format!("oci:{}", dir.path().display());
    let mut a =
        layersift::analyze_reference(&r, &Default::default(), &layersift::NoProgress).unwrap();
    a.image.reference = "oci:fixture".to_string();
    a
}

/// The fixture plus one suggestion, as the suggestions engine would make it.
fn with_suggestion() -> Analysis {
    let mut a = image();
    let f = a
        .findings
        .iter()
        .position(|f| f.category == Category::Removed && f.layer == 1)
        .expect("the apt lists removal finding");
    // Exactly one suggestion, written here, so the test does not follow the engine's wording.
    a.suggestions.clear();
    a.suggestions.push(Suggestion {
        rule: "merge-apt-steps".to_string(),
        title: "Clean apt lists in the step that downloads them".to_string(),
        layer: 1,
        layers: vec![1, 2],
        instruction: a.layers[1].step.instruction.clone(),
        snippet: "RUN apt-get update \\\n    && apt-get install -y --no-install-recommends curl \\\n    && rm -rf /var/lib/apt/lists/*".to_string(),
        saves_bytes: 50_000,
        saves_compressed_bytes: Some(1_000),
        findings: vec![f],
        evidence: vec!["/var/lib/apt/lists/deb_Packages".to_string()],
        source: None,
    });
    a
}

fn app(a: Analysis, w: u16, h: u16) -> App {
    let mut app = App::new(Arc::new(a), Rect::new(0, 0, w, h));
    app.sync();
    app
}

fn screen(app: &App) -> TestBackend {
    let mut t = Terminal::new(TestBackend::new(app.size.width, app.size.height)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    t.backend().clone()
}

fn text(app: &App) -> String {
    screen(app).to_string()
}

fn press(app: &mut App, code: KeyCode) {
    press_mod(app, code, KeyModifiers::NONE);
}

fn ctrl(app: &mut App, c: char) {
    press_mod(app, KeyCode::Char(c), KeyModifiers::CONTROL);
}

fn press_mod(app: &mut App, code: KeyCode, m: KeyModifiers) {
    app.handle(&Event::Key(KeyEvent::new(code, m)));
    app.sync();
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        press(app, KeyCode::Char(c));
    }
}

#[test]
fn first_screen_shows_layers_tree_details_findings() {
    let a = app(image(), 140, 36);
    insta::assert_snapshot!("wide_first_screen", screen(&a));
}

#[test]
fn narrow_terminal_keeps_every_pane() {
    let mut a = app(image(), 80, 24);
    press(&mut a, KeyCode::Down);
    insta::assert_snapshot!("narrow_80x24_layer1", screen(&a));
}

#[test]
fn layer_view_shows_changes_and_colours_them() {
    let mut a = app(image(), 120, 32);
    press(&mut a, KeyCode::Down);
    press(&mut a, KeyCode::Down);
    press(&mut a, KeyCode::Tab);
    assert_eq!(a.focus, Pane::Tree);
    let s = screen(&a);
    insta::assert_snapshot!("layer2_changes", s);
    // The colours a user reads: removed red, modified yellow, added green.
    let buf = s.buffer();
    let colour_of = |needle: &str| {
        let area = buf.area;
        for y in 0..area.height {
            let line: String = (0..area.width).map(|x| buf[(x, y)].symbol()).collect();
            if let Some(byte) = line.find(needle) {
                let col = line[..byte].chars().count();
                return buf[(u16::try_from(col).unwrap(), y)].fg;
            }
        }
        panic!("{needle} not on screen")
    };
    assert_eq!(colour_of("deb_Packages"), Color::Red);
    assert_eq!(colour_of("tool"), Color::Yellow);
    assert_eq!(colour_of("new.txt"), Color::Green);
    assert_eq!(colour_of("notes.txt"), Color::Red);
}

#[test]
fn aggregated_view_and_change_filters() {
    let mut a = app(image(), 120, 32);
    press(&mut a, KeyCode::Down);
    ctrl(&mut a, 'a');
    assert_eq!(a.mode, TreeMode::Aggregated);
    insta::assert_snapshot!("layer1_aggregated", screen(&a));
    press(&mut a, KeyCode::Tab);
    ctrl(&mut a, 'u');
    ctrl(&mut a, 'm');
    let t = text(&a);
    assert!(t.contains("hiding modified, unchanged"), "{t}");
    assert!(t.contains("deb_Packages") && !t.contains("passwd"), "{t}");
    insta::assert_snapshot!("layer1_aggregated_added_only", t);
    ctrl(&mut a, 'l');
    assert_eq!(a.mode, TreeMode::Layer);
}

#[test]
fn regex_filter_is_live_and_esc_clears_it() {
    let mut a = app(image(), 120, 32);
    ctrl(&mut a, 'f');
    assert_eq!(a.focus, Pane::Tree);
    typed(&mut a, "bin/");
    insta::assert_snapshot!("filter_bin", screen(&a));
    // q while typing is text, not quit.
    typed(&mut a, "(q");
    assert!(!a.quit);
    assert!(text(&a).contains("invalid regex"));
    press(&mut a, KeyCode::Backspace);
    press(&mut a, KeyCode::Backspace);
    press(&mut a, KeyCode::Enter);
    assert!(!a.filter_editing);
    assert!(text(&a).contains("filter: bin/ "));
    ctrl(&mut a, 'f');
    press(&mut a, KeyCode::Esc);
    assert!(a.filter_text.is_empty() && a.view.regex.is_none());
    assert!(text(&a).contains("passwd"));
    // `/` is search (it jumps, it hides nothing), not the filter.
    press(&mut a, KeyCode::Char('/'));
    assert!(!a.filter_editing && a.search.editing);
}

#[test]
fn collapse_one_and_all_and_sort_by_size() {
    let mut a = app(image(), 120, 32);
    press(&mut a, KeyCode::Tab);
    // Rows: etc, hosts, passwd, home, … ; collapse etc.
    press(&mut a, KeyCode::Char(' '));
    let t = text(&a);
    assert!(t.contains("├─⊕ etc") && !t.contains("passwd"), "{t}");
    ctrl(&mut a, ' ');
    insta::assert_snapshot!("collapsed_all", screen(&a));
    ctrl(&mut a, ' ');
    press(&mut a, KeyCode::Char(' '));
    ctrl(&mut a, 'o');
    insta::assert_snapshot!("sorted_by_size", screen(&a));
}

#[test]
fn waste_only_marks_and_keeps_wasted_entries() {
    let mut a = app(image(), 120, 32);
    press(&mut a, KeyCode::Char('w'));
    let t = text(&a);
    // Layer 0: tool (rewritten by layer 2) and notes.txt (hidden by layer 2's opaque dir).
    assert!(t.contains("W -rwxr-xr-x"), "{t}");
    assert!(t.contains("tool") && t.contains("notes.txt"), "{t}");
    assert!(!t.contains("hosts"), "{t}");
    insta::assert_snapshot!("waste_only_layer0", t);
}

#[test]
fn help_lists_every_key() {
    let mut a = app(image(), 120, 40);
    press(&mut a, KeyCode::Char('?'));
    assert!(a.help);
    let t = text(&a);
    for (_, keys, _) in layersift::KEYS {
        assert!(t.contains(keys), "help misses {keys}");
    }
    insta::assert_snapshot!("help", t);
    press(&mut a, KeyCode::Esc);
    assert!(!a.help);
}

#[test]
fn suggestion_shows_snippet_and_jumps_to_evidence() {
    let mut a = app(with_suggestion(), 140, 40);
    press(&mut a, KeyCode::Tab);
    press(&mut a, KeyCode::Tab);
    assert_eq!(a.focus, Pane::Findings);
    // Selecting the first item (the suggestion) jumps: layer 1, cursor on the evidence.
    press(&mut a, KeyCode::Up);
    assert_eq!(a.layer, 1);
    let t = a.tree.as_ref().unwrap();
    let id = a.selected_node().unwrap();
    assert_eq!(t.path(id), "/var/lib/apt/lists/deb_Packages");
    let s = text(&a);
    assert!(s.contains("Saves       50.0 kB"), "{s}");
    assert!(s.contains("&& rm -rf /var/lib/apt/lists/*"), "{s}");
    insta::assert_snapshot!("suggestion_selected", s);
}

#[test]
fn loading_screen_shows_per_layer_progress() {
    let mut l = Loading::new("oci:corpus:apt-waste");
    l.update(ProgressMsg::Started {
        layer: 0,
        total: 40_000_000,
    });
    l.update(ProgressMsg::Started {
        layer: 1,
        total: 1_000_000,
    });
    l.update(ProgressMsg::Advanced {
        layer: 0,
        read: 10_000_000,
    });
    l.update(ProgressMsg::Done { layer: 1 });
    let mut t = Terminal::new(TestBackend::new(80, 8)).unwrap();
    t.draw(|f| layersift::draw_loading(&l, f)).unwrap();
    insta::assert_snapshot!("loading", t.backend());
}

#[test]
fn tiny_terminals_do_not_panic() {
    for (w, h) in [(40, 12), (20, 6), (10, 3), (1, 1)] {
        let mut a = app(image(), w, h);
        let _ = text(&a);
        for code in [KeyCode::Tab, KeyCode::Down, KeyCode::PageDown, KeyCode::End] {
            press(&mut a, code);
            let _ = text(&a);
        }
        press(&mut a, KeyCode::Char('?'));
        let _ = text(&a);
    }
}

#[test]
fn image_without_layers_is_explorable() {
    let dir = tempfile::tempdir().unwrap();
    let img = ImageBuilder::new().build().unwrap();
    img.write(Format::OciLayout, dir.path()).unwrap();
    let r = format!("oci:{}", dir.path().display());
    let an = layersift::analyze_reference(&r, &Default::default(), &layersift::NoProgress).unwrap();
    let mut a = app(an, 100, 30);
    for code in [
        KeyCode::Down,
        KeyCode::Tab,
        KeyCode::Down,
        KeyCode::Tab,
        KeyCode::End,
    ] {
        press(&mut a, code);
    }
    ctrl(&mut a, 'a');
    assert!(text(&a).contains("this image has no layers"));
}

#[test]
fn keys_move_focus_layers_and_quit() {
    let mut a = app(image(), 120, 32);
    assert_eq!(a.focus, Pane::Layers);
    for p in [Pane::Tree, Pane::Findings, Pane::Details, Pane::Layers] {
        press(&mut a, KeyCode::Tab);
        assert_eq!(a.focus, p);
    }
    press(&mut a, KeyCode::BackTab);
    assert_eq!(a.focus, Pane::Details);
    press_mod(&mut a, KeyCode::Tab, KeyModifiers::SHIFT);
    assert_eq!(a.focus, Pane::Findings);
    press(&mut a, KeyCode::Tab);
    press(&mut a, KeyCode::Tab);
    press(&mut a, KeyCode::End);
    assert_eq!(a.layer, 2);
    press(&mut a, KeyCode::Char('j'));
    assert_eq!(a.layer, 2, "stays on the last layer");
    press(&mut a, KeyCode::Char('k'));
    assert_eq!(a.layer, 1);
    press(&mut a, KeyCode::Home);
    assert_eq!(a.layer, 0);
    press(&mut a, KeyCode::PageDown);
    assert_eq!(a.layer, 2);
    // Tree: End goes to the last row, h goes to the parent.
    press(&mut a, KeyCode::Tab);
    press(&mut a, KeyCode::End);
    let rows = a.tree.as_ref().unwrap().rows().len();
    assert_eq!(a.tree_cursor, rows - 1);
    press(&mut a, KeyCode::Char('h'));
    let t = a.tree.as_ref().unwrap();
    assert!(t.node(a.selected_node().unwrap()).is_dir());
    ctrl(&mut a, 'c');
    assert!(a.quit);
    let mut b = app(image(), 120, 32);
    press(&mut b, KeyCode::Char('q'));
    assert!(b.quit);
}

#[test]
fn ctrl_a_means_aggregated_in_layers_and_added_in_tree() {
    let mut a = app(image(), 120, 32);
    ctrl(&mut a, 'a');
    assert_eq!(a.mode, TreeMode::Aggregated);
    press(&mut a, KeyCode::Tab);
    ctrl(&mut a, 'a');
    assert_eq!(a.mode, TreeMode::Aggregated);
    assert!(!a.view.shows(layersift::Change::Added));
    // Terminals send Ctrl+M as Enter: plain letters do the same in the tree.
    press(&mut a, KeyCode::Char('m'));
    assert!(!a.view.shows(layersift::Change::Modified));
    press(&mut a, KeyCode::Char('a'));
    assert!(a.view.shows(layersift::Change::Added));
}

#[test]
fn mouse_click_focuses_and_selects_scroll_moves() {
    let mut a = app(image(), 120, 32);
    let areas = a.areas();
    // Click the third layer row (below the border and the header).
    let click = |x, y| {
        Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        })
    };
    a.handle(&click(areas.layers.x + 3, areas.layers.y + 4));
    a.sync();
    assert_eq!(a.layer, 2);
    // The tree has a border and a header line above its rows.
    a.handle(&click(areas.tree.x + 5, areas.tree.y + 4));
    assert_eq!(a.focus, Pane::Tree);
    assert_eq!(a.tree_cursor, 2);
    a.handle(&Event::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: areas.tree.x + 5,
        row: areas.tree.y + 3,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(
        a.tree_cursor,
        5.min(a.tree.as_ref().unwrap().rows().len() - 1)
    );
}

#[test]
fn big_layer_renders_only_what_is_on_screen() {
    // 60k files in one layer: building, filtering and drawing stay cheap enough for a test.
    let dir = tempfile::tempdir().unwrap();
    let img = ImageBuilder::new()
        .layer("ADD many /", |mut l| {
            for d in 0..300 {
                for f in 0..200 {
                    l = l.file(format!("d{d:03}/f{f:03}"), vec![]);
                }
            }
            l
        })
        .build()
        .unwrap();
    img.write(Format::OciLayout, dir.path()).unwrap();
    let r = format!("oci:{}", dir.path().display());
    let an = layersift::analyze_reference(&r, &Default::default(), &layersift::NoProgress).unwrap();
    let mut a = app(an, 100, 30);
    press(&mut a, KeyCode::Tab);
    assert_eq!(a.tree.as_ref().unwrap().rows().len(), 60_300);
    press(&mut a, KeyCode::End);
    let t = text(&a);
    assert!(t.contains("└ f199"), "{t}");
    // Filtering from the bottom of a long tree starts at the first match, pane filled.
    ctrl(&mut a, 'f');
    typed(&mut a, "d00[0-3]/f00[0-2]");
    assert_eq!(a.tree_cursor, 0);
    let t = text(&a);
    assert!(
        t.contains("d000") && t.contains("f000") && t.contains("d001"),
        "{t}"
    );
    assert!(t.contains(" 1/16 "), "{t}");
}

#[test]
fn tmux_end_to_end_on_corpus_image() {
    let Some(corpus) = crate::util::corpus() else {
        return;
    };
    if !crate::util::tmux_present() {
        return;
    }
    let bin = Path::new(env!("CARGO_BIN_EXE_layersift"));
    let cmd = format!(
        "{} oci:{}/oci:apt-waste; echo EXIT=$?; sleep 20",
        bin.display(),
        corpus.display()
    );
    let t = crate::util::Tmux::start("e2e", 120, 40, &cmd);
    let s = t.wait_for("Layer 0 changes", 60);
    assert!(s.contains("RUN apt-get"), "{s}");
    t.keys(&["Down"]);
    t.wait_for("Layer 1 changes", 60);
    t.keys(&["C-a"]);
    let s = t.wait_for("Aggregated up to layer 1", 60);
    assert!(s.contains("▶ 1") && s.contains("tree: aggregated"), "{s}");
    t.keys(&["C-f"]);
    t.wait_for("Path filter", 60);
    t.keys(&["-l", "Packages"]);
    t.keys(&["Enter"]);
    let s = t.wait_for("filter: Packages", 60);
    assert!(s.contains("Packages"), "{s}");
    t.keys(&["?"]);
    t.wait_for("Keys · ↑↓ scroll", 60);
    // `?` again closes it (an Escape right before `q` would reach the app as Alt+q).
    t.keys(&["?"]);
    let s = t.wait_gone("Keys ·", 60);
    assert!(s.contains("Aggregated up to layer 1"), "{s}");
    t.keys(&["q"]);
    let s = t.wait_for("EXIT=0", 60);
    // The terminal is restored: the alternate screen is gone.
    assert!(!s.contains("Aggregated up to layer"), "{s}");
}

#[test]
fn no_color_keeps_emphasis_and_drops_colours() {
    let app = app(image(), 120, 40);
    let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
    t.draw(|f| {
        app.draw(f);
        layersift::strip_colors(f.buffer_mut());
    })
    .unwrap();
    let buf = t.backend().buffer();
    assert!(buf
        .content
        .iter()
        .all(|c| c.fg == ratatui::style::Color::Reset && c.bg == ratatui::style::Color::Reset));
    assert!(
        buf.content.iter().any(|c| c
            .modifier
            .intersects(ratatui::style::Modifier::REVERSED | ratatui::style::Modifier::BOLD)),
        "the selected row stays visible without colour"
    );
}
