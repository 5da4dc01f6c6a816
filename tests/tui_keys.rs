//! The explorer's config files (issue 16): dive's `keybinding:` remaps change what keys do,
//! dive's `filetree` and `layer` defaults apply, layersift's own file adds a theme, and a
//! bad file is one clear error (file, line, key) before the screen opens — found where
//! dive looks for it.

use std::path::Path;
use std::sync::Arc;

use layersift::{App, Pane, Settings, TreeMode};
use layersift_fixture::{Format, ImageBuilder};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use ratatui::layout::Rect;
use ratatui::style::Color;

use crate::tui_util::{ctrl, press, screen};

fn reference(dir: &Path) -> String {
    let img = ImageBuilder::new()
        .layer("ADD rootfs /", |l| {
            l.dir("etc")
                .file("etc/passwd", b"root:x:0:0\n".to_vec())
                .dir("usr")
                .dir("usr/bin")
                .file("usr/bin/tool", vec![1u8; 500])
        })
        .layer("RUN apt-get install curl", |l| {
            l.dir("usr")
                .dir("usr/bin")
                .file("usr/bin/curl", vec![2u8; 900])
        })
        .build()
        .unwrap();
    crate::util::write(&img, Format::OciLayout, dir)
}

fn app_with(settings: &Settings, w: u16, h: u16) -> App {
    let dir = tempfile::tempdir().unwrap();
    let mut a = layersift::analyze_reference(
        &reference(dir.path()),
        &Default::default(),
        &layersift::NoProgress,
    )
    .unwrap();
    a.image.reference = "oci:fixture".to_string();
    let mut app = App::new(Arc::new(a), Rect::new(0, 0, w, h));
    app.configure(settings);
    app.sync();
    app
}

fn settings(yaml: &str) -> Settings {
    layersift::parse_settings(yaml, Path::new("config.yaml")).unwrap()
}

/// A dive config as dive users write it, with the three remaps the issue names.
const DIVE: &str = "\
log:
  enabled: true
  path: ./dive.log
keybinding:
  quit: ctrl+q
  toggle-view: ctrl+t
  filter-files: ctrl+g, ctrl+slash
  toggle-wrap-tree: ctrl+p
filetree:
  collapse-dir: false
  pane-width: 0.5
";

#[test]
fn dive_remaps_of_quit_toggle_view_and_filter_files_take_effect() {
    let mut a = app_with(&settings(DIVE), 120, 32);
    // The status bar names the user's keys.
    let status = screen(&a).to_string();
    let status = status.lines().last().unwrap().to_string();
    assert!(status.contains(" ctrl+g  filter "), "{status}");
    assert!(
        status.contains(" ctrl+t  pane ") && status.contains(" ctrl+q  quit "),
        "{status}"
    );
    // quit: ctrl+q replaces `q`.
    press(&mut a, KeyCode::Char('q'));
    assert!(!a.quit);
    // toggle-view: ctrl+t replaces Tab.
    press(&mut a, KeyCode::Tab);
    assert_eq!(a.focus, Pane::Layers);
    ctrl(&mut a, 't');
    assert_eq!(a.focus, Pane::Tree);
    // filter-files: ctrl+g (or ctrl+/) replaces ctrl+f.
    ctrl(&mut a, 'f');
    assert!(!a.filter_editing);
    ctrl(&mut a, 'g');
    assert!(a.filter_editing);
    press(&mut a, KeyCode::Esc);
    // Terminals send Ctrl+/ as Ctrl+7 (or as Ctrl+_): both open it.
    ctrl(&mut a, '7');
    assert!(a.filter_editing);
    press(&mut a, KeyCode::Esc);
    // Other keys keep their defaults.
    press(&mut a, KeyCode::Char('/'));
    assert!(a.search.editing);
    press(&mut a, KeyCode::Esc);
    ctrl(&mut a, 'q');
    assert!(a.quit);
}

#[test]
fn help_lists_the_remapped_keys() {
    for (w, h) in [(80, 24), (200, 50)] {
        let mut a = app_with(&settings(DIVE), w, h);
        press(&mut a, KeyCode::Char('?'));
        let t = screen(&a).to_string();
        assert!(t.contains("From your config"), "{t}");
        assert!(t.contains("ctrl+q") && t.contains("quit (quit)"), "{t}");
        insta::assert_snapshot!(format!("help_remapped_{w}x{h}"), t);
    }
}

#[test]
fn dive_filetree_and_layer_defaults_apply() {
    let s = settings(
        "filetree:\n  collapse-dir: true\n  show-attributes: false\nlayer:\n  show-aggregated-changes: true\ndiff:\n  hide:\n    - unmodified\n",
    );
    let a = app_with(&s, 120, 32);
    assert_eq!(a.mode, TreeMode::Aggregated);
    assert!(a.collapse_all && !a.show_attributes);
    let t = screen(&a).to_string();
    assert!(t.contains("Aggregated up to layer 0"), "{t}");
    // Collapsed: the directories show, their files do not.
    assert!(t.contains("etc") && !t.contains("passwd"), "{t}");
    assert!(!t.contains("Permission"), "{t}");
}

#[test]
fn light_theme_recolours_the_screen() {
    let dark = screen(&app_with(&Settings::default(), 80, 24));
    let light = screen(&app_with(&settings("theme: light\n"), 80, 24));
    let colours =
        |b: &TestBackend| -> Vec<Color> { b.buffer().content.iter().map(|c| c.fg).collect() };
    // Same text, other colours: no yellow or cyan (unreadable on white) left.
    assert_eq!(dark.to_string(), light.to_string());
    assert!(colours(&dark).contains(&Color::Cyan));
    let l = colours(&light);
    assert!(!l.contains(&Color::Cyan) && !l.contains(&Color::Yellow));
    assert!(l.contains(&layersift::Theme::light().color("accent").unwrap()));
    // One role over the theme.
    let custom = screen(&app_with(
        &settings("theme: light\ncolors:\n  accent: magenta\n"),
        80,
        24,
    ));
    assert!(colours(&custom).contains(&Color::Magenta));
}

#[test]
fn a_bad_key_name_is_one_clear_error_before_the_screen_opens() {
    let dir = tempfile::tempdir().unwrap();
    let image = reference(dir.path());
    let config = dir.path().join("dive.yaml");
    std::fs::write(
        &config,
        "keybinding:\n  quit: ctrl+q\n  toggle-view: ctrl+tabb\n",
    )
    .unwrap();
    let out = crate::util::layersift_command()
        .args(["explore", &image, "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "error: `{}` line 3: `keybinding.toggle-view`: unknown key `tabb`\n",
            config.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("hint: keys are written as dive writes them"),
        "{err}"
    );
    // Nothing but the error: the terminal was never touched.
    assert!(out.stdout.is_empty());
}

#[test]
fn dive_config_is_found_where_dive_looks() {
    let dir = tempfile::tempdir().unwrap();
    let image = reference(dir.path());
    // $XDG_CONFIG_HOME/dive/*.yaml
    let xdg = dir.path().join("xdg");
    std::fs::create_dir_all(xdg.join("dive")).unwrap();
    std::fs::write(xdg.join("dive/config.yaml"), "keybinding:\n  quitt: q\n").unwrap();
    // `explore` with HOME at `home` (and XDG_CONFIG_HOME at `xdg`, if given): its stderr.
    let explore = |home: &std::path::Path, xdg: Option<&std::path::Path>| {
        let mut cmd = crate::util::layersift_at(home);
        if let Some(xdg) = xdg {
            cmd.env("XDG_CONFIG_HOME", xdg);
        }
        let out = cmd.args(["explore", &image]).output().unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = explore(dir.path(), Some(&xdg));
    assert!(
        err.contains("dive/config.yaml` line 2: `keybinding.quitt`: unknown action `quitt`"),
        "{err}"
    );
    assert!(err.contains("hint: did you mean `quit`?"), "{err}");
    // ~/.dive.yaml when there is no XDG one.
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join(".dive.yaml"),
        "layer:\n  show-aggregated-changes: perhaps\n",
    )
    .unwrap();
    let err = explore(&home, None);
    assert!(err.contains(".dive.yaml` line 2:"), "{err}");
    assert!(err.contains("expected true or false"), "{err}");
    // A good config passes on to the terminal check.
    std::fs::write(home.join(".dive.yaml"), DIVE).unwrap();
    let err = explore(&home, None);
    assert!(err.contains("needs a terminal"), "{err}");
    // layersift's own file: a bad theme names it.
    std::fs::create_dir_all(xdg.join("layersift")).unwrap();
    std::fs::remove_file(xdg.join("dive/config.yaml")).unwrap();
    std::fs::write(xdg.join("layersift/tui.yaml"), "theme: sepia\n").unwrap();
    let err = explore(&home, Some(&xdg));
    assert!(
        err.contains("layersift/tui.yaml` line 1: `theme`: unknown theme `sepia`"),
        "{err}"
    );
}
