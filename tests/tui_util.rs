//! Driving the terminal UI's state in tests, as the event loop does: an [`App`] on an
//! analysis at a terminal size, keys handled and then `sync`ed, and the screen drawn with
//! ratatui's `TestBackend` (for insta snapshots, or as text).

use std::sync::Arc;

use layersift::{Analysis, App};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::Terminal;

/// The explorer on `a` in a `w`×`h` terminal, synced as after its first frame.
pub(crate) fn app(a: Analysis, w: u16, h: u16) -> App {
    let mut app = App::new(Arc::new(a), Rect::new(0, 0, w, h));
    app.sync();
    app
}

/// The screen as drawn now.
pub(crate) fn screen(app: &App) -> TestBackend {
    let mut t = Terminal::new(TestBackend::new(app.size.width, app.size.height)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    t.backend().clone()
}

/// The screen as text.
pub(crate) fn text(app: &App) -> String {
    screen(app).to_string()
}

/// A key with modifiers.
pub(crate) fn press_mod(app: &mut App, code: KeyCode, m: KeyModifiers) {
    app.handle(&Event::Key(KeyEvent::new(code, m)));
    app.sync();
}

pub(crate) fn press(app: &mut App, code: KeyCode) {
    press_mod(app, code, KeyModifiers::NONE);
}

/// Ctrl and a letter.
pub(crate) fn ctrl(app: &mut App, c: char) {
    press_mod(app, KeyCode::Char(c), KeyModifiers::CONTROL);
}

/// Each character of `s`, one key at a time.
pub(crate) fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        press(app, KeyCode::Char(c));
    }
}
