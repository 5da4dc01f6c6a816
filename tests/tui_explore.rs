//! The explorer's newer modes (issue 16): the image config pane, search that jumps, copying
//! through OSC 52, the status bar's full path and wrapped commands: rendered screens at 80×24
//! and 200×50 (TestBackend, insta) and key handling on the state alone.

use std::sync::Arc;

use layersift::{Analysis, App, Pane};
use layersift_fixture::{Format, ImageBuilder};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::Terminal;
use serde_json::json;

const TOKEN: &str = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";

const LONG_RUN: &str = "/bin/sh -c apt-get update && apt-get install -y --no-install-recommends curl ca-certificates tzdata locales && rm -rf /var/lib/apt/lists/* && echo the-end-of-a-long-command";

/// Two layers and a config that sets every field the pane shows.
fn image() -> Analysis {
    let dir = tempfile::tempdir().unwrap();
    let img = ImageBuilder::new()
        .layer("ADD rootfs.tar /", |l| {
            l.dir("etc")
                .file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n".to_vec())
                .dir("usr")
                .dir("usr/bin")
                .file_mode("usr/bin/tool", vec![7u8; 4000], 0o755)
                .dir("usr/share")
                .dir("usr/share/doc")
                .dir("usr/share/doc/curl")
                .file("usr/share/doc/curl/copyright", vec![b'c'; 300])
        })
        .layer(LONG_RUN, |l| {
            l.dir("usr")
                .dir("usr/bin")
                .file_mode("usr/bin/curl", vec![9u8; 20_000], 0o755)
                .file_mode("usr/bin/curl-config", vec![8u8; 2_000], 0o755)
        })
        .env("PATH=/usr/local/bin:/usr/bin")
        .env(&format!("APP_TOKEN={TOKEN}"))
        .cmd(&["curl", "-fsS", "http://localhost:8080/health"])
        .config_field("Entrypoint", json!(["/usr/bin/tini", "--"]))
        .config_field("User", json!("app:app"))
        .config_field("WorkingDir", json!("/srv/app"))
        .config_field("ExposedPorts", json!({"8080/tcp": {}, "9090/tcp": {}}))
        .config_field("Volumes", json!({"/data": {}}))
        .config_field("StopSignal", json!("SIGTERM"))
        .config_field(
            "Labels",
            json!({"org.opencontainers.image.source": "https://example.invalid/app", "maintainer": "team\u{1b}[2J"}),
        )
        .config_field(
            "Healthcheck",
            json!({"Test": ["CMD", "curl", "-f", "http://localhost:8080/"], "Interval": 30_000_000_000_i64, "Retries": 3}),
        )
        .build()
        .unwrap();
    img.write(Format::OciLayout, dir.path()).unwrap();
    let r = format!("oci:{}", dir.path().display());
    let mut a =
        layersift::analyze_reference(&r, &Default::default(), &layersift::NoProgress).unwrap();
    a.image.reference = "oci:fixture".to_string();
    // Fixed digests in snapshots: the fixture's are stable, but say so where they show.
    a
}

fn app(w: u16, h: u16) -> App {
    let mut app = App::new(Arc::new(image()), Rect::new(0, 0, w, h));
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

fn press_mod(app: &mut App, code: KeyCode, m: KeyModifiers) {
    app.handle(&Event::Key(KeyEvent::new(code, m)));
    app.sync();
}

fn press(app: &mut App, code: KeyCode) {
    press_mod(app, code, KeyModifiers::NONE);
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn selected_path(app: &App) -> String {
    let t = app.tree.as_ref().unwrap();
    t.path(app.selected_node().unwrap())
}

#[test]
fn config_pane_shows_what_the_image_runs() {
    for (w, h) in [(80, 24), (200, 50)] {
        let mut a = app(w, h);
        press(&mut a, KeyCode::Char('c'));
        assert!(a.config_pane);
        let t = text(&a);
        assert!(t.contains("Image config"), "{t}");
        assert!(t.contains("curl -fsS http://localhost:8080/health"), "{t}");
        assert!(t.contains("/usr/bin/tini --"), "{t}");
        assert!(t.contains("app:app") && t.contains("/srv/app"), "{t}");
        insta::assert_snapshot!(format!("config_pane_{w}x{h}"), t);
        // The rest of the pane by scrolling (the small screen cuts it).
        for _ in 0..12 {
            press(&mut a, KeyCode::Down);
        }
        let all = format!("{t}{}", text(&a));
        assert!(all.contains("8080/tcp, 9090/tcp"), "{all}");
        assert!(all.contains("SIGTERM") && all.contains("/data"), "{all}");
        assert!(
            all.contains("CMD curl -f http://localhost:8080/ · every 30s, 3 retries"),
            "{all}"
        );
        // Env: the token is redacted, the path is not; labels are escaped.
        assert!(all.contains("APP_TOKEN=ghp_[REDACTED]"), "{all}");
        assert!(!all.contains(TOKEN), "{all}");
        assert!(all.contains("PATH=/usr/local/bin:/usr/bin"), "{all}");
        assert!(all.contains("maintainer=team\\u{1b}[2J"), "{all}");
        // `q` closes the pane, it does not quit.
        press(&mut a, KeyCode::Char('q'));
        assert!(!a.config_pane && !a.quit);
        press(&mut a, KeyCode::Char('c'));
        press(&mut a, KeyCode::Esc);
        assert!(!a.config_pane);
    }
}

#[test]
fn config_pane_says_none_for_an_image_that_sets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let img = ImageBuilder::new()
        .layer("ADD x /", |l| l.file("x", b"x".to_vec()))
        .build()
        .unwrap();
    img.write(Format::OciLayout, dir.path()).unwrap();
    let r = format!("oci:{}", dir.path().display());
    let an = layersift::analyze_reference(&r, &Default::default(), &layersift::NoProgress).unwrap();
    let mut a = App::new(Arc::new(an), Rect::new(0, 0, 100, 40));
    a.sync();
    press(&mut a, KeyCode::Char('c'));
    let t = text(&a);
    assert!(t.contains("(none: runs as root)"), "{t}");
    assert!(t.contains("Healthcheck (none)"), "{t}");
    assert!(t.contains("unknown (give --base IMAGE)"), "{t}");
}

#[test]
fn search_jumps_expands_and_cycles_with_n() {
    let mut a = app(120, 32);
    // Layer 1 holds curl and curl-config; collapse everything first.
    press(&mut a, KeyCode::Down);
    press(&mut a, KeyCode::Tab);
    press_mod(&mut a, KeyCode::Char(' '), KeyModifiers::CONTROL);
    assert!(!text(&a).contains("curl-config"));
    press(&mut a, KeyCode::Char('/'));
    assert!(a.search.editing && a.focus == Pane::Tree);
    typed(&mut a, "curl");
    // The cursor is on the first match already, its directory expanded.
    assert_eq!(selected_path(&a), "/usr/bin/curl");
    let t = text(&a);
    assert!(
        t.contains("Search (text or regex)") && t.contains("1/2"),
        "{t}"
    );
    press(&mut a, KeyCode::Enter);
    assert!(!a.search.editing);
    press(&mut a, KeyCode::Char('n'));
    assert_eq!(selected_path(&a), "/usr/bin/curl-config");
    assert_eq!(a.search.at, Some((2, 2)));
    // Past the last match it wraps to the first and says so.
    press(&mut a, KeyCode::Char('n'));
    assert_eq!(selected_path(&a), "/usr/bin/curl");
    assert!(text(&a).contains("search wrapped to the top"));
    press(&mut a, KeyCode::Char('N'));
    assert_eq!(selected_path(&a), "/usr/bin/curl-config");
    // Nothing was hidden: search is not the filter.
    assert!(a.view.regex.is_none());
}

#[test]
fn a_search_typed_before_the_tree_is_built_runs_once_it_is() {
    let mut a = app(120, 32);
    // Layer 1's tree is asked for and not built yet (the UI builds trees on a thread).
    for k in [
        KeyCode::Down,
        KeyCode::Char('/'),
        KeyCode::Char('c'),
        KeyCode::Char('u'),
        KeyCode::Char('r'),
        KeyCode::Char('l'),
        KeyCode::Enter,
    ] {
        a.handle(&Event::Key(KeyEvent::new(k, KeyModifiers::NONE)));
        a.idle();
    }
    assert!(a.tree_stale());
    a.sync();
    assert_eq!(selected_path(&a), "/usr/bin/curl");
}

#[test]
fn search_takes_a_regex_or_literal_text_and_esc_goes_back() {
    let mut a = app(120, 32);
    press(&mut a, KeyCode::Tab);
    let start = selected_path(&a);
    press(&mut a, KeyCode::Char('/'));
    typed(&mut a, "doc/.*right$");
    assert_eq!(selected_path(&a), "/usr/share/doc/curl/copyright");
    // Esc puts the cursor back where the search started.
    press(&mut a, KeyCode::Esc);
    assert_eq!(selected_path(&a), start);
    assert!(!a.search.editing && a.search.text.is_empty());
    // Not a valid regex: matched as text (no path has it, so the cursor stays).
    press(&mut a, KeyCode::Char('/'));
    typed(&mut a, "bin/(t");
    assert_eq!(selected_path(&a), start);
    let t = text(&a);
    assert!(t.contains("no match"), "{t}");
    press(&mut a, KeyCode::Backspace);
    press(&mut a, KeyCode::Backspace);
    assert_eq!(selected_path(&a), "/usr/bin/tool");
    // `q` while typing is text.
    typed(&mut a, "q");
    assert!(!a.quit);
}

#[test]
fn search_screens_at_both_sizes() {
    for (w, h) in [(80, 24), (200, 50)] {
        let mut a = app(w, h);
        press(&mut a, KeyCode::Down);
        press(&mut a, KeyCode::Char('/'));
        typed(&mut a, "curl-c");
        insta::assert_snapshot!(format!("search_typing_{w}x{h}"), text(&a));
        press(&mut a, KeyCode::Enter);
        insta::assert_snapshot!(format!("search_kept_{w}x{h}"), text(&a));
    }
}

#[test]
fn n_without_a_search_says_how_to_start_one() {
    let mut a = app(120, 32);
    press(&mut a, KeyCode::Char('n'));
    assert!(text(&a).contains("press / to search"));
}

#[test]
fn y_copies_the_path_or_the_digest() {
    let mut a = app(120, 32);
    press(&mut a, KeyCode::Char('y'));
    let digest = a.analysis.layers[0].digest.clone();
    assert_eq!(a.clipboard.as_deref(), Some(digest.as_str()));
    assert!(text(&a).contains("copied `sha256:"));
    a.clipboard = None;
    press(&mut a, KeyCode::Tab);
    press(&mut a, KeyCode::Char('/'));
    typed(&mut a, "tool");
    press(&mut a, KeyCode::Enter);
    press(&mut a, KeyCode::Char('y'));
    assert_eq!(a.clipboard.as_deref(), Some("/usr/bin/tool"));
}

#[test]
fn status_bar_shows_the_full_path_of_a_cut_name() {
    let mut a = app(80, 24);
    press(&mut a, KeyCode::Tab);
    press(&mut a, KeyCode::Char('/'));
    typed(&mut a, "copyright");
    press(&mut a, KeyCode::Enter);
    let t = text(&a);
    let status = t.lines().last().unwrap();
    assert!(status.contains("/usr/share/doc/curl/copyright"), "{t}");
}

#[test]
fn long_commands_wrap_in_the_details_pane() {
    let mut a = app(80, 24);
    press(&mut a, KeyCode::Down);
    let t = text(&a);
    insta::assert_snapshot!("long_command_80x24", t);
    // The command wraps: it goes on below its first line, nothing cut with an ellipsis…
    let lines: Vec<&str> = t.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.contains("││RUN apt-get update"))
        .unwrap();
    assert!(lines[start + 1].contains("││install -y"), "{t}");
    assert!(t.contains("--no-install-recommends curl"), "{t}");
    // … and its end is reached by scrolling the details pane.
    press(&mut a, KeyCode::BackTab);
    assert_eq!(a.focus, Pane::Details);
    for _ in 0..4 {
        press(&mut a, KeyCode::Down);
    }
    let t = text(&a);
    assert!(t.contains("the-end-of-a-long-command"), "{t}");
}

/// The real binary on a corpus image: `/` jumps to curl, `c` shows the Cmd, `y` reaches
/// tmux's clipboard through OSC 52.
#[test]
fn tmux_search_config_pane_and_copy() {
    let Some(corpus) = crate::util::corpus() else {
        return;
    };
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_layersift"));
    let cmd = format!(
        "{} explore oci:{}/oci:apt-waste; echo EXIT=$?; sleep 20",
        bin.display(),
        corpus.display()
    );
    if !crate::util::tmux_present() {
        return;
    }
    let t = crate::util::Tmux::start("explore", 120, 40, &cmd);
    // tmux passes OSC 52 to its own buffer with set-clipboard on.
    t.run(&["set-option", "-g", "set-clipboard", "on"]);
    t.wait_for("Layer 0 changes", 60);
    // Layer 2 installs curl; search the tree for it.
    t.keys(&["Down", "Down"]);
    t.wait_for("Layer 2 changes", 60);
    t.keys(&["Tab"]);
    t.keys(&["/"]);
    t.wait_for("Search (text or regex)", 60);
    t.keys(&["-l", "bin/curl"]);
    t.keys(&["Enter"]);
    let s = t.wait_for(" /usr/bin/curl ", 60);
    assert!(s.contains("/bin/curl 1/"), "{s}");
    t.keys(&["y"]);
    t.wait_for("copied `/usr/bin/curl`", 60);
    let buffer = t.run(&["show-buffer"]);
    assert_eq!(String::from_utf8_lossy(&buffer.stdout), "/usr/bin/curl");
    t.keys(&["c"]);
    // Waits for the line itself: a capture can fall between two writes of one frame.
    let s = t.wait_for("Cmd         curl --version", 60);
    assert!(s.contains("Image config"), "{s}");
    t.keys(&["c"]);
    t.keys(&["q"]);
    t.wait_for("EXIT=0", 60);
}

/// apt's three steps (update, install, clean) on a base layer.
fn apt_steps() -> Analysis {
    let dir = tempfile::tempdir().unwrap();
    let img = ImageBuilder::new()
        .layer("ADD rootfs /", |l| {
            l.dir("etc").file("etc/os-release", b"debian\n".to_vec())
        })
        .layer("/bin/sh -c apt-get update", |l| {
            l.dir("var/lib/apt/lists")
                .file("var/lib/apt/lists/deb_Packages", vec![1u8; 50_000])
        })
        .layer("/bin/sh -c apt-get install -y curl", |l| {
            l.dir("usr/bin")
                .file_mode("usr/bin/curl", vec![2u8; 8_000], 0o755)
        })
        .layer("/bin/sh -c rm -rf /var/lib/apt/lists/*", |l| {
            l.whiteout("var/lib/apt/lists/deb_Packages")
        })
        .build()
        .unwrap();
    img.write(Format::OciLayout, dir.path()).unwrap();
    let r = format!("oci:{}", dir.path().display());
    let mut a =
        layersift::analyze_reference(&r, &Default::default(), &layersift::NoProgress).unwrap();
    a.image.reference = "oci:fixture".to_string();
    a
}

#[test]
fn v_marks_a_layer_range_and_shows_it_as_one_layer() {
    for (w, h) in [(80, 24), (200, 50)] {
        let mut a = App::new(Arc::new(apt_steps()), Rect::new(0, 0, w, h));
        a.sync();
        press(&mut a, KeyCode::Down);
        press(&mut a, KeyCode::Char('v'));
        press(&mut a, KeyCode::Down);
        press(&mut a, KeyCode::Down);
        assert_eq!(a.tree_key(), (3, layersift::TreeMode::Range { from: 1 }));
        let t = text(&a);
        assert!(t.contains("Layers 1–3 as one layer"), "{t}");
        assert!(t.contains("range as one layer"), "{t}");
        // The lists come and go inside the range: the merged step never ships them.
        assert!(t.contains("curl") && !t.contains("deb_Packages"), "{t}");
        assert!(t.contains("ship 50.0 kB (1 file)"), "{t}");
        insta::assert_snapshot!(format!("range_1_3_{w}x{h}"), t);
        // Moving above the anchor turns the range around.
        press(&mut a, KeyCode::Up);
        press(&mut a, KeyCode::Up);
        press(&mut a, KeyCode::Up);
        assert_eq!(a.tree_key(), (1, layersift::TreeMode::Range { from: 0 }));
        // `v` again leaves the range; Ctrl+L does too.
        press(&mut a, KeyCode::Char('v'));
        assert_eq!(a.tree_key(), (0, layersift::TreeMode::Layer));
        press(&mut a, KeyCode::Char('v'));
        press_mod(&mut a, KeyCode::Char('l'), KeyModifiers::CONTROL);
        assert!(a.range_anchor.is_none());
    }
}

#[test]
fn v_in_the_tree_still_opens_the_viewer_not_a_range() {
    let mut a = app(120, 32);
    press(&mut a, KeyCode::Tab);
    press(&mut a, KeyCode::Char('/'));
    typed(&mut a, "passwd");
    press(&mut a, KeyCode::Enter);
    press(&mut a, KeyCode::Char('v'));
    assert!(a.range_anchor.is_none());
    // No image store in this test: the viewer says so rather than opening.
    assert!(
        a.content.is_open() || a.content.message.is_some(),
        "v did nothing in the tree"
    );
}
