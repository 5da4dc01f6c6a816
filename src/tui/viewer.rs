//! The file viewer and the content keys of the TUI: Enter or `v` opens the selected file
//! (text with line numbers, `/` search with `n`/`N`, a hex view for binaries), `d` shows
//! the diff against the version the file replaced, `x` extracts the selected file or
//! directory into the current directory after a confirmation. A file the analysis found a
//! secret in is shown redacted until `s` reveals it.
//!
//! A file is read a chunk at a time, on a thread, only as far as the screen (or a search)
//! needs, and at most [`WINDOW`] bytes of it are held: a large file pages without being
//! read whole. The state here mutates only in key handlers; drawing reads it.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::analysis::{Analysis, Category};
use crate::content::extract::{extract, ExtractOptions};
use crate::content::filediff::{diff_replaced, is_binary};
use crate::content::lookup::{last_at, Located};
use crate::content::stream::EntryReader;
use crate::content::{redact_for_display, Scope};
use crate::index::display_path;
use crate::source::Image;

use super::tree::printable;

/// Most bytes of a file the viewer holds at once.
pub(crate) const WINDOW: usize = 4 << 20;
const CHUNK: usize = 64 << 10;
const HEX_ROW: usize = 16;

/// Where the viewer's bytes come from.
enum Source {
    /// A file streamed from its layer (re-opened to page back above the window).
    Entry {
        /// How to open the file again; `None` for a reader that cannot be re-opened.
        reopen: Option<(Arc<Image>, Located)>,
        reader: Option<Box<dyn Read + Send>>,
    },
    /// Text already in memory (a diff, a redacted file).
    Static,
}

/// An open file (or diff).
pub struct Viewer {
    pub title: String,
    source: Source,
    /// The file's bytes from offset `base` on, as far as read.
    data: Vec<u8>,
    base: u64,
    /// Line number (0-based) of the first line in `data`.
    base_line: usize,
    /// Start offsets (in `data`) of complete or partial lines.
    starts: Vec<usize>,
    eof: bool,
    pub binary: bool,
    /// First line (text) or row (hex) on screen, counted from the file's start.
    pub top: usize,
    /// Lines (or rows) the screen shows; set by the app from its size.
    pub height: usize,
    pub search: Option<String>,
    pub searching: bool,
    pub input: String,
    pub message: Option<String>,
    /// The analysis found a secret in this file: shown redacted unless revealed.
    pub secret: bool,
    pub revealed: bool,
    /// The unredacted bytes of a secret file while redacted text is shown.
    hidden: Option<Vec<u8>>,
    pub is_diff: bool,
    pub size: u64,
}

impl Viewer {
    fn new(title: String, source: Source, size: u64) -> Viewer {
        Viewer {
            title,
            source,
            data: Vec::new(),
            base: 0,
            base_line: 0,
            starts: vec![0],
            eof: false,
            binary: false,
            top: 0,
            height: 20,
            search: None,
            searching: false,
            input: String::new(),
            message: None,
            secret: false,
            revealed: false,
            hidden: None,
            is_diff: false,
            size,
        }
    }

    /// A viewer over text in memory.
    pub fn text(title: String, text: String) -> Viewer {
        let size = text.len() as u64;
        let mut v = Viewer::new(title, Source::Static, size);
        v.set_static(text.into_bytes());
        v
    }

    fn set_static(&mut self, bytes: Vec<u8>) {
        self.data = bytes;
        self.base = 0;
        self.base_line = 0;
        self.eof = true;
        self.index_lines_from(0);
    }

    /// A viewer over a file of a layer, read through `reader` (an [`EntryReader`] in the
    /// app; any reader in tests).
    pub fn file(
        title: String,
        image: Arc<Image>,
        found: Located,
        reader: Box<dyn Read + Send>,
        secret: bool,
    ) -> Viewer {
        let size = found.size;
        let mut v = Viewer::new(
            title,
            Source::Entry {
                reopen: Some((image, found)),
                reader: Some(reader),
            },
            size,
        );
        v.fill_to(CHUNK);
        v.binary = is_binary(&v.data[..v.data.len().min(8192)]) && !v.data.is_empty();
        v.binary = v.binary || v.data[..v.data.len().min(8192)].contains(&0);
        if secret && !v.binary {
            // Secret files are small (the scanner reads files up to 256 KiB): hold it all.
            v.fill_to(crate::secrets::MAX_SCAN_BYTES as usize + 1);
            v.secret = true;
            let raw = std::mem::take(&mut v.data);
            let shown = redact_for_display(&String::from_utf8_lossy(&raw)).into_bytes();
            v.hidden = Some(raw);
            v.set_static(shown);
        }
        v
    }

    fn index_lines_from(&mut self, from: usize) {
        if from == 0 {
            self.starts = vec![0];
        }
        for (i, &b) in self.data[from..].iter().enumerate() {
            if b == b'\n' {
                self.starts.push(from + i + 1);
            }
        }
    }

    /// Reads until `data` holds at least `want` bytes or the file ends.
    fn fill_to(&mut self, want: usize) {
        let Source::Entry {
            reader: Some(r), ..
        } = &mut self.source
        else {
            return;
        };
        let mut buf = vec![0u8; CHUNK];
        while self.data.len() < want && !self.eof {
            match r.read(&mut buf) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    let from = self.data.len();
                    self.data.extend_from_slice(&buf[..n]);
                    for (i, &b) in self.data[from..].iter().enumerate() {
                        if b == b'\n' {
                            self.starts.push(from + i + 1);
                        }
                    }
                }
                Err(e) => {
                    self.message = Some(format!("read failed: {e}"));
                    self.eof = true;
                }
            }
        }
    }

    /// Drops the first half of the window once it holds more than [`WINDOW`] bytes.
    fn slide(&mut self) {
        if self.data.len() <= WINDOW || matches!(self.source, Source::Static) {
            return;
        }
        let cut = if self.binary {
            (self.data.len() / 2) / HEX_ROW * HEX_ROW
        } else {
            // Cut at a line start in the middle.
            let k = self.starts.partition_point(|&s| s < self.data.len() / 2);
            match self.starts.get(k) {
                Some(&s) if s > 0 => s,
                _ => return,
            }
        };
        let dropped_lines = self.starts.partition_point(|&s| s < cut);
        self.data.drain(..cut);
        self.base += cut as u64;
        self.base_line += dropped_lines;
        self.starts = self.starts[dropped_lines..]
            .iter()
            .map(|s| s - cut)
            .collect();
        if self.starts.first() != Some(&0) {
            self.starts.insert(0, 0);
        }
    }

    /// Starts over from the file's first byte (to page back above the window).
    fn reopen(&mut self) {
        if let Source::Entry {
            reopen: Some((image, found)),
            reader,
        } = &mut self.source
        {
            *reader = Some(Box::new(EntryReader::spawn(image.clone(), found.clone())));
            self.data.clear();
            self.base = 0;
            self.base_line = 0;
            self.starts = vec![0];
            self.eof = false;
        }
    }

    /// Makes line (text) or row (hex) `n` and the screen below it available, if the file
    /// has them.
    fn ensure(&mut self, n: usize) {
        if self.binary {
            let need_from = (n * HEX_ROW) as u64;
            if need_from < self.base {
                self.reopen();
            }
            loop {
                let end = self.base + self.data.len() as u64;
                let want = ((n + self.height + 1) * HEX_ROW) as u64;
                if end >= want || self.eof {
                    break;
                }
                let more = self.data.len() + CHUNK;
                self.fill_to(more);
                if self.data.len() > WINDOW
                    && (n * HEX_ROW) as u64 > self.base + (WINDOW / 2) as u64
                {
                    self.slide();
                }
            }
        } else {
            if n < self.base_line {
                self.reopen();
            }
            loop {
                let have = self.base_line + self.starts.len();
                if have > n + self.height || self.eof {
                    break;
                }
                let more = self.data.len() + CHUNK;
                self.fill_to(more);
                if self.data.len() > WINDOW && n > self.base_line + self.starts.len() / 2 {
                    self.slide();
                }
            }
        }
    }

    /// Lines (or hex rows) known so far; exact once the file was read to its end.
    pub fn total(&self) -> usize {
        if self.binary {
            (self.base as usize + self.data.len()).div_ceil(HEX_ROW)
        } else {
            let mut n = self.base_line + self.starts.len();
            if self.starts.last() == Some(&self.data.len()) {
                n -= 1; // after a final newline there is no line
            }
            n
        }
    }

    /// Text of line `n` (from the file's start), if loaded.
    pub fn line(&self, n: usize) -> Option<&[u8]> {
        let k = n.checked_sub(self.base_line)?;
        let s = *self.starts.get(k)?;
        if s >= self.data.len() && k + 1 >= self.starts.len() {
            return None;
        }
        let e = self.starts.get(k + 1).map_or(self.data.len(), |&e| e - 1);
        Some(&self.data[s..e.max(s)])
    }

    fn hex_row(&self, r: usize) -> Option<(u64, &[u8])> {
        let off = (r * HEX_ROW) as u64;
        let s = off.checked_sub(self.base)? as usize;
        if s >= self.data.len() {
            return None;
        }
        Some((off, &self.data[s..(s + HEX_ROW).min(self.data.len())]))
    }

    pub fn scroll(&mut self, delta: isize) {
        let target = if delta < 0 {
            self.top.saturating_sub(delta.unsigned_abs())
        } else {
            self.top.saturating_add(delta.unsigned_abs())
        };
        self.ensure(target);
        let max = self.total().saturating_sub(self.height.min(self.total()));
        self.top = target.min(if self.eof { max } else { target });
    }

    fn end(&mut self) {
        while !self.eof {
            let t = self.total();
            self.ensure(t + self.height);
        }
        self.top = self.total().saturating_sub(self.height);
        self.ensure(self.top);
    }

    /// Moves to the next (or previous) line from the one on top that contains the search.
    pub fn find(&mut self, forward: bool) {
        self.find_from(if forward { self.top + 1 } else { self.top }, forward);
    }

    /// Searches from line `start` (inclusive) forward, or from the line before it backward.
    fn find_from(&mut self, start: usize, forward: bool) {
        let Some(q) = self.search.clone().filter(|q| !q.is_empty()) else {
            return;
        };
        if self.binary {
            self.message = Some("search works in text files".to_string());
            return;
        }
        let hit = |v: &Viewer, n: usize| v.line(n).is_some_and(|l| memfind(l, q.as_bytes()));
        if forward {
            let mut n = start;
            loop {
                self.ensure(n);
                if self.line(n).is_none() {
                    self.message = Some(format!("`{q}` not found below"));
                    return;
                }
                if hit(self, n) {
                    self.top = n;
                    self.message = None;
                    return;
                }
                n += 1;
            }
        } else {
            let mut n = start;
            while n > 0 {
                n -= 1;
                self.ensure(n);
                if hit(self, n) {
                    self.top = n;
                    self.message = None;
                    return;
                }
            }
            self.message = Some(format!("`{q}` not found above"));
        }
    }

    /// Toggles between the redacted and the real text of a secret file.
    fn toggle_reveal(&mut self) {
        if !self.secret {
            return;
        }
        if let Some(raw) = self.hidden.take() {
            let shown = std::mem::take(&mut self.data);
            self.set_static(raw);
            self.hidden = Some(shown);
            self.revealed = !self.revealed;
        }
    }

    /// Handles a key; returns false when the viewer closes.
    pub fn key(&mut self, k: KeyEvent) -> bool {
        if self.searching {
            match k.code {
                KeyCode::Esc => self.searching = false,
                KeyCode::Enter => {
                    self.searching = false;
                    self.search = Some(self.input.clone());
                    self.find_from(self.top, true);
                }
                KeyCode::Backspace => {
                    self.input.pop();
                }
                KeyCode::Char(c) => self.input.push(c),
                _ => {}
            }
            return true;
        }
        let page = self.height.max(1) as isize;
        match k.code {
            KeyCode::Esc | KeyCode::Char('q') => return false,
            KeyCode::Char('/') => {
                self.searching = true;
                self.input.clear();
            }
            KeyCode::Char('n') => self.find(true),
            KeyCode::Char('N') => self.find(false),
            KeyCode::Char('s') => self.toggle_reveal(),
            KeyCode::Down | KeyCode::Char('j') => self.scroll(1),
            KeyCode::Up | KeyCode::Char('k') => self.scroll(-1),
            KeyCode::PageDown | KeyCode::Char(' ') => self.scroll(page),
            KeyCode::PageUp | KeyCode::Char('b') => self.scroll(-page),
            KeyCode::Char('f') if k.modifiers.contains(KeyModifiers::CONTROL) => self.scroll(page),
            KeyCode::Home | KeyCode::Char('g') => {
                self.top = 0;
                self.ensure(0);
            }
            KeyCode::End | KeyCode::Char('G') => self.end(),
            _ => {}
        }
        true
    }

    /// Draws the viewer over `area`.
    pub fn draw(&self, f: &mut Frame, area: Rect) {
        f.render_widget(Clear, area);
        let what = if self.is_diff {
            "diff".to_string()
        } else if self.binary {
            format!("hex · {}", crate::units::human_bytes(self.size))
        } else {
            crate::units::human_bytes(self.size)
        };
        let secret = match (self.secret, self.revealed) {
            (true, false) => " · secret redacted (s: reveal)",
            (true, true) => " · SECRET REVEALED (s: hide)",
            _ => "",
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .title(format!(" {} · {what}{secret} ", printable(&self.title)));
        let inner = block.inner(area);
        f.render_widget(block, area);
        let rows = inner.height.saturating_sub(1) as usize;
        let mut lines: Vec<Line<'_>> = Vec::with_capacity(rows);
        let q = self.search.as_deref().unwrap_or("");
        if self.binary {
            for r in self.top..self.top + rows {
                let Some((off, bytes)) = self.hex_row(r) else {
                    break;
                };
                lines.push(Line::from(hex_line(off, bytes)));
            }
        } else {
            let width = (self.total().max(1)).to_string().len().max(4);
            for n in self.top..self.top + rows {
                let Some(l) = self.line(n) else {
                    break;
                };
                let text = String::from_utf8_lossy(l);
                let text = printable(&text).into_owned();
                let mut style = Style::default();
                if self.is_diff {
                    style = match text.as_bytes().first() {
                        Some(b'+') => Style::default().fg(Color::Green),
                        Some(b'-') => Style::default().fg(Color::Red),
                        Some(b'@') => Style::default().fg(Color::Cyan),
                        _ => style,
                    };
                }
                if !q.is_empty() && text.contains(q) {
                    style = style.add_modifier(Modifier::REVERSED);
                }
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("{:>width$} ", n + 1),
                        Style::default().fg(Color::DarkGray),
                    ),
                    Span::styled(text, style),
                ]));
            }
        }
        let body = Rect {
            height: inner.height.saturating_sub(1),
            ..inner
        };
        f.render_widget(Paragraph::new(lines), body);
        let status = if self.searching {
            format!("/{}", self.input)
        } else if let Some(m) = &self.message {
            m.clone()
        } else {
            let pos = if self.binary {
                format!("offset {:#x}", self.top * HEX_ROW)
            } else {
                format!("line {}", self.top + 1)
            };
            format!("{pos} · / search · n/N next/prev · PgUp/PgDn · g/G · Esc close")
        };
        let bar = Rect {
            y: inner.y + inner.height.saturating_sub(1),
            height: 1.min(inner.height),
            ..inner
        };
        f.render_widget(
            Paragraph::new(printable(&status).into_owned())
                .style(Style::default().add_modifier(Modifier::REVERSED)),
            bar,
        );
    }
}

fn memfind(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// `00000010  de ad be ef …  |....|`
pub(crate) fn hex_line(off: u64, bytes: &[u8]) -> String {
    let mut s = format!("{off:08x}  ");
    for i in 0..HEX_ROW {
        match bytes.get(i) {
            Some(b) => s.push_str(&format!("{b:02x} ")),
            None => s.push_str("   "),
        }
        if i == 7 {
            s.push(' ');
        }
    }
    s.push_str(" |");
    for &b in bytes {
        s.push(if b.is_ascii_graphic() || b == b' ' {
            b as char
        } else {
            '.'
        });
    }
    s.push('|');
    s
}

/// A pending extraction, waiting for the user to confirm.
pub struct Confirm {
    pub path: String,
    pub scope: Scope,
    pub target: PathBuf,
}

/// An extraction running on its own thread, so the screen stays live while a large
/// directory is written.
pub struct Running {
    /// What is being extracted, and where to, for the status bar.
    pub what: String,
    pub started: std::time::Instant,
    /// The elapsed seconds last drawn.
    shown: u64,
    /// The outcome's message, sent once when the thread ends.
    done: std::sync::mpsc::Receiver<String>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The content side of the TUI: the image's blob store, an open viewer, a pending
/// extraction, a running one, and the last message.
#[derive(Default)]
pub struct Content {
    pub image: Option<Arc<Image>>,
    pub viewer: Option<Viewer>,
    pub confirm: Option<Confirm>,
    pub running: Option<Running>,
    pub message: Option<String>,
}

impl Content {
    /// True when a viewer or a confirmation takes the keys.
    pub fn is_open(&self) -> bool {
        self.viewer.is_some() || self.confirm.is_some()
    }

    /// Handles a key while open.
    pub fn key(&mut self, a: &Arc<Analysis>, k: KeyEvent) {
        if let Some(c) = self.confirm.take() {
            if matches!(k.code, KeyCode::Char('y' | 'Y')) {
                self.start_extract(a, c);
            } else {
                self.message = Some("extraction cancelled".to_string());
            }
            return;
        }
        if let Some(v) = &mut self.viewer {
            if !v.key(k) {
                self.viewer = None;
            }
        }
    }

    /// Starts the confirmed extraction on its own thread; [`Content::poll`] collects its
    /// outcome.
    fn start_extract(&mut self, a: &Arc<Analysis>, c: Confirm) {
        let Some(image) = self.image.clone() else {
            self.message = Some("no image to extract from".to_string());
            return;
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let what = format!(
            "`{}` into {}",
            crate::sanitize::for_terminal(&c.path),
            crate::sanitize::for_terminal(&c.target.display().to_string())
        );
        let a = Arc::clone(a);
        let spawned = std::thread::Builder::new()
            .name("extract".into())
            .spawn(move || {
                let _ = tx.send(run_extract(&image, &a, &c));
            });
        match spawned {
            Ok(thread) => {
                self.running = Some(Running {
                    what,
                    started: std::time::Instant::now(),
                    shown: 0,
                    done: rx,
                    thread: Some(thread),
                });
            }
            Err(e) => self.message = Some(format!("extract failed: cannot start a thread: {e}")),
        }
    }

    /// Collects a finished extraction's message; true when the screen should be redrawn
    /// (an extraction ended, or one is still running and its elapsed seconds moved).
    pub fn poll(&mut self) -> bool {
        let Some(r) = &mut self.running else {
            return false;
        };
        match r.done.try_recv() {
            Ok(m) => {
                if let Some(t) = r.thread.take() {
                    let _ = t.join();
                }
                self.message = Some(m);
                self.running = None;
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => {
                let secs = r.started.elapsed().as_secs();
                if secs == r.shown {
                    return false;
                }
                r.shown = secs;
            }
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                self.message = Some("extract failed: the extraction thread stopped".to_string());
                self.running = None;
            }
        }
        true
    }

    /// Waits for a running extraction to end (when the user quits: a half-written
    /// directory would be worse than a short wait).
    pub fn finish_running(&mut self) {
        if let Some(mut r) = self.running.take() {
            if let Some(t) = r.thread.take() {
                let _ = t.join();
            }
        }
    }

    /// The status line while an extraction runs.
    pub fn running_status(&self) -> Option<String> {
        self.running
            .as_ref()
            .map(|r| format!("extracting {} … {}s", r.what, r.started.elapsed().as_secs()))
    }
}

/// Extracts what `c` names and says how it went, in one line.
fn run_extract(image: &Image, a: &Analysis, c: &Confirm) -> String {
    let opts = ExtractOptions {
        scope: c.scope,
        patterns: vec![c.path.clone()],
        force: false,
        same_owner: false,
    };
    match extract(image, a, &c.target, &opts) {
        Ok(s) => {
            let mut m = format!(
                "extracted {} files ({}), {} directories, {} symlinks into {}",
                s.files + s.hardlinks,
                crate::units::human_bytes(s.bytes),
                s.dirs,
                s.symlinks,
                c.target.display()
            );
            if !s.skipped.is_empty() {
                m.push_str(&format!("; skipped {}", s.skipped.len()));
            }
            m
        }
        Err(e) => {
            let mut m = format!("extract failed: {}", crate::content::chain(&e));
            if let Some(h) = e.hint() {
                m.push_str(&format!(" ({h})"));
            }
            m
        }
    }
}

impl Content {
    /// `v`/Enter on a file: opens it.
    pub fn open(&mut self, a: &Analysis, layer: usize, path: &str, height: usize) {
        match self.locate(a, layer, path) {
            Ok((image, found)) => {
                let secret = has_secret(a, found.layer, path);
                let title = format!("{path} (layer {})", found.layer);
                let reader = Box::new(EntryReader::spawn(image.clone(), found.clone()));
                let mut v = Viewer::file(title, image, found, reader, secret);
                v.height = height;
                self.viewer = Some(v);
            }
            Err(m) => self.message = Some(m),
        }
    }

    /// `d` on a file: the diff against the version it replaced.
    pub fn diff(&mut self, a: &Analysis, layer: usize, path: &str, height: usize) {
        let Some(image) = self.image.clone() else {
            self.message = Some("file contents are not available here".to_string());
            return;
        };
        let Some(entry) = entry_at(a, layer, path) else {
            self.message = Some(format!("`{path}` is not a file of layer {layer}"));
            return;
        };
        match diff_replaced(&image, a, layer, entry) {
            Ok(d) if d.is_empty() => {
                self.message = Some(format!("`{path}`: same content as the version it replaced"));
            }
            Ok(d) => {
                let mut v = Viewer::text(format!("{path}: layer {layer} vs before"), d);
                v.is_diff = true;
                v.height = height;
                self.viewer = Some(v);
            }
            Err(e) => self.message = Some(crate::content::chain(&e)),
        }
    }

    /// `x`: asks to confirm extracting `path` into the current directory.
    pub fn ask_extract(&mut self, path: &str, scope: Scope) {
        if let Some(r) = &self.running {
            self.message = Some(format!(
                "an extraction is still running ({}); wait for it to end",
                r.what
            ));
            return;
        }
        let target = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        self.confirm = Some(Confirm {
            path: path.to_string(),
            scope,
            target,
        });
    }

    fn locate(
        &self,
        a: &Analysis,
        layer: usize,
        path: &str,
    ) -> Result<(Arc<Image>, Located), String> {
        let image = self
            .image
            .clone()
            .ok_or_else(|| "file contents are not available here".to_string())?;
        let entry =
            entry_at(a, layer, path).ok_or_else(|| format!("`{path}` is not in layer {layer}"))?;
        let idx = &a.indexes[layer];
        let found = match idx.entries[entry].kind {
            crate::index::EntryKind::Symlink => {
                crate::content::lookup::locate_file(a, Scope::UpTo(layer), idx.path(entry))
            }
            _ => Located::of(a, layer, entry),
        }
        .map_err(|e| crate::content::chain(&e))?;
        Ok((image, found))
    }

    /// Draws the viewer, the confirmation, or the last message.
    pub fn draw(&self, f: &mut Frame, area: Rect) {
        let running = self.running_status();
        if let Some(v) = &self.viewer {
            v.draw(f, area);
        } else if let Some(m) = self.message.as_ref().or(running.as_ref()) {
            let bar = Rect {
                y: area.y + area.height.saturating_sub(1),
                height: 1.min(area.height),
                ..area
            };
            f.render_widget(Clear, bar);
            f.render_widget(
                Paragraph::new(printable(m).into_owned())
                    .style(Style::default().add_modifier(Modifier::REVERSED)),
                bar,
            );
        }
        if let Some(c) = &self.confirm {
            let w = area.width.saturating_sub(4).min(90);
            let r = Rect {
                x: area.x + (area.width - w) / 2,
                y: area.y + area.height / 2 - 2,
                width: w,
                height: 4.min(area.height),
            };
            f.render_widget(Clear, r);
            let dest = c.target.join(c.path.trim_start_matches('/'));
            let which = match c.scope {
                Scope::Layer(n) => format!("layer {n}'s version"),
                Scope::UpTo(n) => format!("as of layer {n}"),
                Scope::Final => "final version".to_string(),
            };
            let text = vec![
                Line::from(format!("Extract {} ({which}) to", printable(&c.path))),
                Line::from(format!(
                    "{} ?  y: yes · any other key: no",
                    printable(&dest.display().to_string())
                )),
            ];
            f.render_widget(
                Paragraph::new(text)
                    .block(Block::default().borders(Borders::ALL).title(" extract ")),
                r,
            );
        }
    }
}

/// The last non-marker entry of `layer` whose path shows as `path` (leading `/` optional).
pub(crate) fn entry_at(a: &Analysis, layer: usize, path: &str) -> Option<usize> {
    let idx = a.indexes.get(layer)?;
    let p = path.trim_start_matches('/');
    last_at(idx, p.as_bytes()).or_else(|| {
        (0..idx.len())
            .rev()
            .find(|&i| !idx.entries[i].kind.is_marker() && display_path(idx.path(i)) == p)
    })
}

/// Did the analysis find a secret in this file of this layer?
fn has_secret(a: &Analysis, layer: usize, path: &str) -> bool {
    let p = path.trim_start_matches('/');
    a.findings.iter().any(|f| {
        f.category == Category::Secret
            && f.layer == layer
            && f.paths.iter().any(|x| x.trim_start_matches('/') == p)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer_over(bytes: Vec<u8>) -> Viewer {
        let size = bytes.len() as u64;
        let mut v = Viewer::new("t".into(), Source::Static, size);
        v.source = Source::Entry {
            reopen: None,
            reader: Some(Box::new(std::io::Cursor::new(bytes))),
        };
        v.fill_to(CHUNK);
        v.binary = v.data[..v.data.len().min(8192)].contains(&0);
        v
    }

    #[test]
    fn a_large_file_pages_with_a_bounded_window() {
        let text: String = (0..1_000_000).map(|i| format!("line {i}\n")).collect();
        assert!(text.len() > 2 * WINDOW);
        let mut v = viewer_over(text.into_bytes());
        assert!(
            v.data.len() <= CHUNK,
            "only the first chunk is read on open"
        );
        v.height = 10;
        v.scroll(900_000);
        assert_eq!(v.line(900_000), Some(&b"line 900000"[..]));
        assert!(
            v.data.len() <= WINDOW + CHUNK,
            "window stays bounded: {}",
            v.data.len()
        );
        v.search = Some("line 999990".into());
        v.find(true);
        assert_eq!(v.top, 999_990);
        assert!(v.data.len() <= WINDOW + CHUNK);
    }

    #[test]
    fn hex_rows_show_offsets_bytes_and_ascii() {
        assert_eq!(
            hex_line(16, b"AB\0\xff"),
            "00000010  41 42 00 ff                                       |AB..|"
        );
        let v = viewer_over(vec![0u8, 1, 2]);
        assert!(v.binary);
        assert_eq!(v.total(), 1);
    }
}
