//! The terminal UI (`layersift IMAGE`, `layersift explore IMAGE`): a dive-style explorer of
//! layers, file trees, waste and suggestions. This module owns the terminal (raw mode,
//! alternate screen, mouse capture, and restoring all of it on quit, on error and on panic)
//! and the event loop; the analysis runs on a background thread that reports per-layer
//! progress, and file trees are built on a worker thread, so input never waits on
//! computation. State and key handling live in [`app`], pane geometry in [`layout`], drawing
//! (including `App::draw`) in [`ui`], and the file-tree
//! model, which does not depend on the terminal library, in [`tree`].

pub(crate) mod actions;
pub(crate) mod app;
pub(crate) mod compare;
pub(crate) mod image_config;
pub(crate) mod keymap;
pub(crate) mod layout;
pub(crate) mod settings;
pub(crate) mod theme;
pub(crate) mod tree;
pub(crate) mod ui;
pub(crate) mod viewer;

use std::io::{self, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::Context as _;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, KeyboardEnhancementFlags,
    PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, supports_keyboard_enhancement, EnterAlternateScreen,
    LeaveAlternateScreen,
};
use ratatui::layout::Rect;
use ratatui::Terminal;

pub use app::{App, Loading, Pane, ProgressMsg, KEYS};
pub use compare::{ComparePane, CompareView};
pub use keymap::{Action, Key, KeyMap};
pub(crate) use settings::load as load_settings;
pub use settings::{parse as parse_settings, Settings, SettingsError};
pub use theme::Theme;
pub use tree::{Change, FileTree, TreeMode, ViewOptions};
pub use ui::{draw_loading, strip_colors};

use crate::cli::SourceArgs;
use crate::decode::Progress;
use crate::Analysis;

/// How long the loop waits for input before looking at its channels again.
const TICK: Duration = Duration::from_millis(30);

/// How the UI ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// The user quit.
    Quit,
    /// Ctrl+C before the analysis was done: the shell's interrupt (exit code 130).
    Interrupted,
}

/// Opens the TUI on an image and runs it until the user quits.
pub(crate) fn run(
    image: &str,
    base: Option<(String, Vec<String>)>,
    source: &SourceArgs,
    settings: &Settings,
    dockerfile: Option<(crate::dockerfile::Dockerfile, usize)>,
) -> anyhow::Result<Ended> {
    let (tx, rx) = mpsc::channel::<Loaded>();
    let reference = image.to_string();
    let opts = source.open_options();
    thread::Builder::new()
        .name("analysis".into())
        .spawn(move || {
            let progress = ChannelProgress { tx: tx.clone() };
            let df = dockerfile.as_ref().map(|(d, s)| (d, *s));
            let r = crate::analyze_image_with(&reference, &opts, &progress, df);
            let _ = tx.send(Loaded::Done(Box::new(r)));
        })
        .context("cannot start the analysis thread")?;

    let mut guard = TerminalGuard::enter()?;
    let (image, mut analysis) = match loading(&mut guard.terminal, image, &rx)? {
        Ok(a) => a,
        Err(ended) => return Ok(ended),
    };
    if let Some((reference, ids)) = base {
        let own: Vec<String> = analysis.layers.iter().map(|l| l.diff_id.clone()).collect();
        let n = crate::base::match_prefix(&reference, &ids, &own)?;
        analysis.base = Some(crate::base::Base {
            reference,
            layer_count: n,
        });
    }
    explore(
        &mut guard.terminal,
        Arc::new(analysis),
        Arc::new(image),
        settings,
    )?;
    Ok(Ended::Quit)
}

enum Loaded {
    Progress(ProgressMsg),
    Done(Box<Result<(crate::source::Image, Analysis), crate::Error>>),
}

struct ChannelProgress {
    tx: Sender<Loaded>,
}

impl Progress for ChannelProgress {
    fn layer_started(&self, layer: usize, total: u64) {
        let _ = self
            .tx
            .send(Loaded::Progress(ProgressMsg::Started { layer, total }));
    }
    fn advanced(&self, layer: usize, read: u64) {
        let _ = self
            .tx
            .send(Loaded::Progress(ProgressMsg::Advanced { layer, read }));
    }
    fn layer_done(&self, layer: usize) {
        let _ = self.tx.send(Loaded::Progress(ProgressMsg::Done { layer }));
    }
}

type Term = Terminal<CrosstermBackend<Stdout>>;

/// `q` quits; Ctrl+C interrupts (in raw mode it arrives as a key, not as SIGINT).
fn is_quit(ev: &event::Event) -> Option<Ended> {
    use ratatui::crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers};
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => {
            if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
                Some(Ended::Interrupted)
            } else {
                (k.code == KeyCode::Char('q')).then_some(Ended::Quit)
            }
        }
        _ => None,
    }
}

/// Draws decode progress until the analysis is done; `Err(how)` if the user quit first.
fn loading(
    term: &mut Term,
    image: &str,
    rx: &Receiver<Loaded>,
) -> anyhow::Result<Result<(crate::source::Image, Analysis), Ended>> {
    let mut state = Loading::new(image);
    loop {
        loop {
            match rx.try_recv() {
                Ok(Loaded::Progress(m)) => state.update(m),
                Ok(Loaded::Done(r)) => return Ok(Ok((*r)?)),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    anyhow::bail!("the analysis thread stopped without a result")
                }
            }
        }
        check_panicked()?;
        term.draw(|f| {
            ui::draw_loading(&state, f);
            ui::honour_no_color(f);
        })?;
        if event::poll(TICK)? {
            if let Some(ended) = is_quit(&event::read()?) {
                return Ok(Err(ended));
            }
        }
    }
}

/// The interactive loop over a finished analysis.
fn explore(
    term: &mut Term,
    analysis: Arc<Analysis>,
    image: Arc<crate::source::Image>,
    settings: &Settings,
) -> anyhow::Result<()> {
    let size = term.size()?;
    let mut app = App::new(
        Arc::clone(&analysis),
        Rect::new(0, 0, size.width, size.height),
    );
    app.configure(settings);
    app.content.image = Some(image);
    let (req_tx, req_rx) = mpsc::channel::<(usize, TreeMode)>();
    let (tree_tx, tree_rx) = mpsc::channel::<FileTree>();
    thread::Builder::new()
        .name("tree".into())
        .spawn(move || tree_worker(&analysis, &req_rx, &tree_tx))
        .context("cannot start the tree thread")?;
    let mut asked = None;
    let mut dirty = true;
    loop {
        if let Some(k) = app.tree_request() {
            if asked != Some(k) {
                asked = Some(k);
                let _ = req_tx.send(k);
            }
        }
        loop {
            match tree_rx.try_recv() {
                Ok(t) => {
                    app.install_tree(t);
                    dirty = true;
                }
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    anyhow::bail!("the file-tree builder stopped unexpectedly")
                }
            }
        }
        check_panicked()?;
        if app.content.poll() {
            dirty = true;
        }
        if dirty {
            term.draw(|f| {
                app.draw(f);
                ui::honour_no_color(f);
            })?;
            dirty = false;
        }
        if let Some(text) = app.clipboard.take() {
            use std::io::Write as _;
            let mut out = io::stdout();
            let _ = out.write_all(app::search::osc52(&text).as_bytes());
            let _ = out.flush();
        }
        if app.quit {
            app.content.finish_running();
            return Ok(());
        }
        if event::poll(TICK)? {
            dirty = true;
            app.handle(&event::read()?);
            // Drain what is already queued (key repeat) before drawing again.
            while event::poll(Duration::ZERO)? {
                app.handle(&event::read()?);
                if app.quit {
                    app.content.finish_running();
                    return Ok(());
                }
            }
            app.idle();
        }
    }
}

/// Compare mode: opens the TUI on the difference of two analysed images (or reports) and
/// runs it until the user quits.
pub(crate) fn run_compare(
    diff: crate::diff::Diff,
    new_files: &[crate::report::json::FileRow],
    runtimes: [Option<crate::analysis::runtime::RuntimeConfig>; 2],
    settings: &Settings,
) -> anyhow::Result<Ended> {
    let mut guard = TerminalGuard::enter()?;
    let term = &mut guard.terminal;
    let size = term.size()?;
    let mut view = CompareView::new(diff, new_files, Rect::new(0, 0, size.width, size.height));
    view.keys = settings.keys.clone();
    view.theme = settings.theme.clone();
    let [old_runtime, new_runtime] = runtimes;
    view.old_runtime = old_runtime;
    view.new_runtime = new_runtime;
    let mut dirty = true;
    loop {
        check_panicked()?;
        if dirty {
            term.draw(|f| {
                view.draw(f);
                ui::honour_no_color(f);
            })?;
            dirty = false;
        }
        if view.quit {
            return Ok(Ended::Quit);
        }
        if event::poll(TICK)? {
            view.handle(&event::read()?);
            dirty = true;
        }
    }
}

/// Builds the trees the UI asks for, skipping requests that a newer one superseded.
fn tree_worker(a: &Analysis, rx: &Receiver<(usize, TreeMode)>, tx: &Sender<FileTree>) {
    while let Ok(mut k) = rx.recv() {
        while let Ok(newer) = rx.try_recv() {
            k = newer;
        }
        if tx.send(FileTree::build(a, k.0, k.1)).is_err() {
            return;
        }
    }
}

/// The terminal in TUI mode; dropping it (quit, error) restores the terminal, and a panic
/// hook does the same before the panic message prints.
struct TerminalGuard {
    terminal: Term,
}

impl TerminalGuard {
    fn enter() -> anyhow::Result<TerminalGuard> {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICKED.store(true, Ordering::SeqCst);
            restore();
            hook(info);
        }));
        enable_raw_mode().context("cannot put the terminal in raw mode")?;
        let mut out = io::stdout();
        if let Err(e) = execute!(out, EnterAlternateScreen, EnableMouseCapture) {
            restore();
            return Err(e).context("cannot set up the terminal");
        }
        // Where the terminal speaks the kitty keyboard protocol, Ctrl+M is not Enter and
        // Escape is not the start of Alt+key.
        if supports_keyboard_enhancement().unwrap_or(false)
            && execute!(
                out,
                PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
            )
            .is_ok()
        {
            ENHANCED_KEYS.store(true, Ordering::SeqCst);
        }
        match Terminal::new(CrosstermBackend::new(out)) {
            Ok(terminal) => Ok(TerminalGuard { terminal }),
            Err(e) => {
                restore();
                Err(e).context("cannot set up the terminal")
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = self.terminal.show_cursor();
        restore();
    }
}

/// Set by the panic hook: a thread panicked and the terminal is already restored, so the
/// loop must stop drawing.
static PANICKED: AtomicBool = AtomicBool::new(false);

fn check_panicked() -> anyhow::Result<()> {
    if PANICKED.load(Ordering::SeqCst) {
        anyhow::bail!("a background thread of the terminal UI panicked");
    }
    Ok(())
}

/// Whether keyboard enhancement flags were pushed (and must be popped on restore).
static ENHANCED_KEYS: AtomicBool = AtomicBool::new(false);

fn restore() {
    if ENHANCED_KEYS.swap(false, Ordering::SeqCst) {
        let _ = execute!(io::stdout(), PopKeyboardEnhancementFlags);
    }
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        ratatui::crossterm::cursor::Show
    );
}
