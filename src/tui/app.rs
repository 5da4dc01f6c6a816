//! TUI state and input handling: which pane has focus, the selected layer, tree mode,
//! filters, cursor and scroll positions, the help overlay. Only [`App::handle`] (and the
//! tree installer) mutate it; drawing (`ui.rs`, which owns `App::draw`) reads it, and pane
//! geometry comes from `layout.rs`. Nothing here touches a terminal,
//! so key handling is tested on the state alone. The `/` search and the OSC 52 copy are
//! [`search`], a part of this state with its own keys.

pub(crate) mod search;

use std::sync::Arc;

use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};
use regex::Regex;

use super::keymap::{Action, KeyMap};
use super::layout::{areas, Areas};
use super::tree::{Change, FileTree, SortOrder, TreeMode, ViewOptions};
use crate::analysis::{Analysis, Category};

/// The panes, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Layers,
    Tree,
    Findings,
    Details,
}

impl Pane {
    const ORDER: [Pane; 4] = [Pane::Layers, Pane::Tree, Pane::Findings, Pane::Details];

    pub(crate) fn next(self, back: bool) -> Pane {
        let i = Self::ORDER.iter().position(|&p| p == self).unwrap_or(0);
        let n = Self::ORDER.len();
        Self::ORDER[if back { (i + n - 1) % n } else { (i + 1) % n }]
    }
}

/// One row of the findings pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Suggestion(usize),
    Finding(usize),
    /// A best practice the image breaks (`Analysis::practices`).
    Practice(usize),
}

/// Every key binding, for the help overlay: (where, keys, what).
pub const KEYS: &[(&str, &str, &str)] = &[
    (
        "any",
        "Tab / Shift+Tab",
        "next / previous pane (mouse click also focuses)",
    ),
    ("any", "↑↓ j k", "move the selection"),
    ("any", "PgUp PgDn", "move by a page"),
    ("any", "Home End g G", "first / last row"),
    ("any", "Ctrl+L", "tree: the selected layer's changes"),
    (
        "layers",
        "Ctrl+A",
        "tree: all files as of the selected layer",
    ),
    (
        "any",
        "Ctrl+F",
        "regex filter, hides other rows (live; Enter keeps, Esc clears)",
    ),
    ("any", "Ctrl+O", "sort the tree by name / by size"),
    ("any", "w", "show only wasted entries (W) and secrets (!)"),
    (
        "tree",
        "p",
        "show only the files of the selected file's package (again: all)",
    ),
    ("tree", "Space Enter", "collapse / expand the directory"),
    ("tree", "Ctrl+Space", "collapse / expand all directories"),
    ("tree", "← h  → l", "collapse or go to parent / expand"),
    (
        "layers",
        "v",
        "mark a layer range: move, see it as one layer (again: off)",
    ),
    ("tree", "Ctrl+A or a", "show / hide added entries"),
    ("tree", "Ctrl+R or r", "show / hide removed entries"),
    ("tree", "Ctrl+M or m", "show / hide modified entries"),
    ("tree", "Ctrl+U or u", "show / hide unchanged entries"),
    ("tree", "Ctrl+B", "show / hide permissions and uid:gid"),
    (
        "findings",
        "↑↓",
        "select: details, jump the tree to the evidence",
    ),
    ("findings", "Enter", "jump to the next evidence path"),
    ("details", "↑↓", "scroll"),
    (
        "tree",
        "Enter v",
        "view the file (text with line numbers; hex for binaries)",
    ),
    ("tree", "d", "diff the file against the version it replaced"),
    (
        "tree",
        "x",
        "extract the file or directory here (asks first)",
    ),
    (
        "any",
        "/ n N",
        "search: jump to a path (text or regex); next / previous",
    ),
    (
        "any",
        "c",
        "image config: Entrypoint, Cmd, User, Env, labels, …",
    ),
    (
        "any",
        "y",
        "copy the selected path or layer digest (OSC 52)",
    ),
    ("viewer", "/ n N", "search; next / previous match"),
    ("viewer", "PgUp PgDn g G", "page; first / last line"),
    ("viewer", "s", "reveal / hide a secret the analysis found"),
    ("viewer", "Esc q", "close the viewer"),
    ("any", "?", "show / hide this help"),
    ("any", "q Ctrl+C", "quit"),
];

/// The whole TUI state once the analysis is done.
pub struct App {
    pub analysis: Arc<Analysis>,
    pub size: Rect,
    pub focus: Pane,
    pub layer: usize,
    pub layer_offset: usize,
    pub mode: TreeMode,
    pub tree: Option<FileTree>,
    pub tree_cursor: usize,
    pub tree_offset: usize,
    pub view: ViewOptions,
    pub sort: SortOrder,
    pub collapse_all: bool,
    pub show_attributes: bool,
    pub filter_text: String,
    pub filter_editing: bool,
    pub filter_error: Option<String>,
    pub items: Vec<Item>,
    pub item: usize,
    pub item_offset: usize,
    pub details_scroll: u16,
    pub help: bool,
    pub help_scroll: u16,
    pub quit: bool,
    /// Evidence paths of the selected finding or suggestion, and the one shown.
    pub evidence: Vec<String>,
    pub evidence_pos: usize,
    jump_pending: bool,
    /// The filter text changed and the rows have not been recomputed yet.
    filter_dirty: bool,
    /// File contents: the viewer, extraction, and the image's blob store.
    pub content: super::viewer::Content,
    /// Owning package of each owned visible file by path, built when first needed.
    package_owners: std::cell::OnceCell<std::collections::HashMap<String, u32>>,
    /// The image config pane (`c`) is open, scrolled by this many lines.
    pub config_pane: bool,
    pub config_scroll: u16,
    /// Text `y` asked to copy, for the event loop to send as OSC 52 (then taken).
    pub clipboard: Option<String>,
    /// `/` search: the query, its matches, and whether it is being typed.
    pub search: search::Search,
    /// What each key does (dive's defaults, or a config file's `keybinding:`).
    pub keys: KeyMap,
    /// The colours (`theme:` in the config).
    pub theme: super::theme::Theme,
    /// `v` in the layers pane: the layer where a marked range starts (the selected layer
    /// is its other end).
    pub range_anchor: Option<usize>,
}

impl App {
    pub fn new(analysis: Arc<Analysis>, size: Rect) -> App {
        let mut items: Vec<Item> = (0..analysis.suggestions.len())
            .map(Item::Suggestion)
            .collect();
        let mut fs: Vec<usize> = (0..analysis.findings.len()).collect();
        fs.sort_by_key(|&i| {
            let f = &analysis.findings[i];
            (
                f.category != Category::Secret,
                std::cmp::Reverse(f.bytes),
                f.layer,
            )
        });
        items.extend(fs.into_iter().map(Item::Finding));
        items.extend((0..analysis.practices.len()).map(Item::Practice));
        App {
            analysis,
            size,
            focus: Pane::Layers,
            layer: 0,
            layer_offset: 0,
            mode: TreeMode::Layer,
            tree: None,
            tree_cursor: 0,
            tree_offset: 0,
            view: ViewOptions::default(),
            sort: SortOrder::Name,
            collapse_all: false,
            show_attributes: true,
            filter_text: String::new(),
            filter_editing: false,
            filter_error: None,
            items,
            item: 0,
            item_offset: 0,
            details_scroll: 0,
            help: false,
            help_scroll: 0,
            quit: false,
            evidence: Vec::new(),
            evidence_pos: 0,
            jump_pending: false,
            filter_dirty: false,
            content: super::viewer::Content::default(),
            package_owners: std::cell::OnceCell::new(),
            config_pane: false,
            config_scroll: 0,
            clipboard: None,
            search: search::Search::default(),
            keys: KeyMap::default(),
            theme: super::theme::Theme::default(),
            range_anchor: None,
        }
    }

    /// Applies what the config files set: keys, theme, and dive's `filetree`, `layer` and
    /// `diff` defaults.
    pub fn configure(&mut self, s: &super::settings::Settings) {
        self.keys = s.keys.clone();
        self.theme = s.theme.clone();
        self.collapse_all = s.collapse_all;
        if let Some(a) = s.show_attributes {
            self.show_attributes = a;
        }
        if s.aggregated {
            self.mode = TreeMode::Aggregated;
        }
        for &c in &s.hide {
            if self.view.shows(c) {
                self.view.toggle(c);
            }
        }
        // A tree built before (tests build one at once) starts over with these defaults.
        self.tree = None;
    }

    pub fn areas(&self) -> Areas {
        areas(self.size, self.analysis.layers.len())
    }

    /// The tree the state wants and does not have yet: (layer, mode).
    pub fn tree_request(&self) -> Option<(usize, TreeMode)> {
        let want = self.tree_key();
        match &self.tree {
            Some(t) if (t.layer, t.mode) == want => None,
            _ if self.analysis.layers.is_empty() => None,
            _ => Some(want),
        }
    }

    /// The tree the state shows: (last layer, mode); a marked range (`v`) is one mode.
    pub fn tree_key(&self) -> (usize, TreeMode) {
        match self.range_anchor {
            Some(a) => (
                a.max(self.layer),
                TreeMode::Range {
                    from: a.min(self.layer),
                },
            ),
            None => (self.layer, self.mode),
        }
    }

    /// Whether the tree on screen is not the one asked for (still building).
    pub fn tree_stale(&self) -> bool {
        self.tree_request().is_some()
    }

    /// Builds the wanted tree on this thread (tests; the UI builds on a worker), then does
    /// the deferred work of [`App::idle`].
    pub fn sync(&mut self) {
        if let Some((layer, mode)) = self.tree_request() {
            let t = FileTree::build(&self.analysis, layer, mode);
            self.install_tree(t);
        }
        self.idle();
    }

    /// Work deferred until no input is queued: re-filtering the tree after the filter text
    /// changed, once per burst of typing rather than once per key.
    pub fn idle(&mut self) {
        self.search_idle();
        if self.filter_dirty {
            self.filter_dirty = false;
            let keep = self.selected_node();
            self.reapply(|_| {});
            // A new filter whose matches leave out the selected entry starts at the top.
            if keep != self.selected_node() {
                self.tree_cursor = 0;
                self.scroll_tree();
            }
        }
    }

    /// Installs a tree built for (layer, mode); ignores trees nobody wants any more.
    pub fn install_tree(&mut self, mut t: FileTree) {
        if (t.layer, t.mode) != self.tree_key() {
            return;
        }
        let keep = self.selected_path();
        t.set_sort(self.sort);
        if self.collapse_all {
            t.set_all_collapsed(true);
        }
        if let Some(id) = keep.as_deref().and_then(|p| t.find(p)) {
            t.expand_to(id);
        }
        t.apply(&self.view);
        self.tree_cursor = keep
            .and_then(|p| t.find(&p))
            .and_then(|id| t.rows().iter().position(|&r| r == id))
            .unwrap_or(0);
        self.tree = Some(t);
        self.scroll_tree();
        if self.jump_pending {
            self.jump_pending = false;
            self.show_evidence();
        }
        // A search typed while this tree was being built runs now.
        self.search_idle();
    }

    /// The package that owns the file at `path` (visible in the final image), if any.
    pub fn package_of(&self, path: &str) -> Option<&crate::analysis::packages::Package> {
        let owners = self.package_owners.get_or_init(|| {
            self.analysis
                .packages
                .owners_by_path(&self.analysis.indexes)
        });
        let id = *owners.get(path)?;
        self.analysis.packages.packages.get(id as usize)
    }

    /// Shows only the files of the selected file's package, or everything again.
    pub(crate) fn toggle_package_filter(&mut self) {
        if self.view.package.take().is_none() {
            let Some(path) = self.selected_path() else {
                return;
            };
            let Some(name) = self.package_of(&path).map(|p| p.name.clone()) else {
                return;
            };
            let owners = self.package_owners.get().cloned().unwrap_or_default();
            let id = owners.get(&path).copied();
            let paths: std::collections::HashSet<String> = owners
                .into_iter()
                .filter(|(_, o)| Some(*o) == id)
                .map(|(p, _)| p)
                .collect();
            self.view.package = Some((name, std::sync::Arc::new(paths)));
        }
        self.reapply(|_| {});
    }

    pub fn selected_node(&self) -> Option<u32> {
        let t = self.tree.as_ref()?;
        t.rows().get(self.tree_cursor).copied()
    }

    fn selected_path(&self) -> Option<String> {
        let t = self.tree.as_ref()?;
        self.selected_node().map(|id| t.path(id))
    }

    /// Handles one terminal event.
    pub fn handle(&mut self, ev: &Event) {
        match ev {
            Event::Key(k) if k.kind != KeyEventKind::Release => self.key(*k),
            Event::Mouse(m) => self.mouse(*m),
            Event::Resize(w, h) => {
                self.size = Rect::new(0, 0, *w, *h);
                self.scroll_layers();
                self.scroll_tree();
                self.scroll_items();
            }
            _ => {}
        }
    }

    fn key(&mut self, k: KeyEvent) {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && k.code == KeyCode::Char('c') {
            self.quit = true;
            return;
        }
        if self.content.is_open() {
            self.content.key(&self.analysis, k);
            return;
        }
        self.content.message = None;
        if self.help {
            match k.code {
                KeyCode::Esc | KeyCode::Char('?' | 'q') => self.help = false,
                KeyCode::Down | KeyCode::Char('j') => {
                    self.help_scroll = self.help_scroll.saturating_add(1);
                }
                KeyCode::Up | KeyCode::Char('k') => {
                    self.help_scroll = self.help_scroll.saturating_sub(1);
                }
                _ => {}
            }
            return;
        }
        if self.config_pane {
            match k.code {
                KeyCode::Esc | KeyCode::Char('c' | 'q') => self.config_pane = false,
                KeyCode::Down | KeyCode::Char('j') => {
                    self.config_scroll = self.config_scroll.saturating_add(1);
                }
                KeyCode::Up | KeyCode::Char('k') => {
                    self.config_scroll = self.config_scroll.saturating_sub(1);
                }
                KeyCode::PageDown => self.config_scroll = self.config_scroll.saturating_add(10),
                KeyCode::PageUp => self.config_scroll = self.config_scroll.saturating_sub(10),
                KeyCode::Home | KeyCode::Char('g') => self.config_scroll = 0,
                _ => {}
            }
            return;
        }
        if self.search.editing {
            self.search_key(k);
            return;
        }
        if self.filter_editing {
            match k.code {
                KeyCode::Esc => {
                    self.filter_text.clear();
                    self.filter_editing = false;
                    self.set_filter();
                }
                KeyCode::Enter => self.filter_editing = false,
                KeyCode::Char('f') if ctrl => self.filter_editing = false,
                KeyCode::Backspace => {
                    self.filter_text.pop();
                    self.set_filter();
                }
                KeyCode::Char(c) if !ctrl => {
                    self.filter_text.push(c);
                    self.set_filter();
                }
                _ => {}
            }
            return;
        }
        let key = super::keymap::Key::of(k);
        let actions: Vec<Action> = self.keys.actions(key).collect();
        if let Some(a) = actions.into_iter().find(|&a| self.applies(a)) {
            self.perform(a);
        }
    }

    pub(crate) fn selected_is_file(&self) -> bool {
        match (self.tree.as_ref(), self.selected_node()) {
            (Some(t), Some(id)) => !t.node(id).is_dir(),
            _ => false,
        }
    }

    /// `v` (view), `d` (diff) or `x` (extract) on the selected tree node.
    pub(crate) fn content_key(&mut self, c: char) {
        let (Some(t), Some(id)) = (self.tree.as_ref(), self.selected_node()) else {
            return;
        };
        let (path, layer) = (t.path(id), t.node(id).layer as usize);
        let height = usize::from(self.size.height.saturating_sub(3));
        match c {
            'v' => self.content.open(&self.analysis, layer, &path, height),
            'd' if !t.node(id).is_dir() => {
                self.content.diff(&self.analysis, layer, &path, height);
            }
            'x' => {
                let scope = match self.mode {
                    TreeMode::Layer => crate::content::Scope::Layer(self.layer),
                    TreeMode::Aggregated => crate::content::Scope::UpTo(self.layer),
                    // A range's files: as the filesystem stands after its last layer.
                    TreeMode::Range { .. } => crate::content::Scope::UpTo(self.tree_key().0),
                };
                self.content.ask_extract(&path, scope);
            }
            _ => {}
        }
    }

    pub(crate) fn page(&self) -> isize {
        let a = self.areas();
        let r = match self.focus {
            Pane::Layers => a.layers,
            Pane::Tree => a.tree,
            Pane::Findings => a.findings,
            Pane::Details => a.details,
        };
        isize::try_from(r.height.saturating_sub(3).max(1)).unwrap_or(1)
    }

    pub(crate) fn move_by(&mut self, delta: isize) {
        match self.focus {
            Pane::Layers => {
                let n = self.analysis.layers.len();
                let l = step(self.layer, delta, n);
                if l != self.layer {
                    self.layer = l;
                }
                self.scroll_layers();
            }
            Pane::Tree => {
                let n = self.tree.as_ref().map_or(0, |t| t.rows().len());
                self.tree_cursor = step(self.tree_cursor, delta, n);
                self.scroll_tree();
            }
            Pane::Findings => {
                let i = step(self.item, delta, self.items.len());
                if i != self.item || self.evidence.is_empty() {
                    self.item = i;
                    self.select_item();
                }
                self.scroll_items();
            }
            Pane::Details => {
                let d = i32::try_from(delta.clamp(-1000, 1000)).unwrap_or(0);
                let s = (i32::from(self.details_scroll) + d).clamp(0, 1000);
                self.details_scroll = u16::try_from(s).unwrap_or(0);
            }
        }
    }

    pub(crate) fn set_mode(&mut self, m: TreeMode) {
        self.mode = m;
    }

    pub(crate) fn toggle_change(&mut self, c: Change) {
        self.view.toggle(c);
        self.reapply(|_| {});
    }

    fn set_filter(&mut self) {
        if self.filter_text.is_empty() {
            self.view.regex = None;
            self.filter_error = None;
        } else {
            match Regex::new(&self.filter_text) {
                Ok(re) => {
                    self.view.regex = Some(re);
                    self.filter_error = None;
                }
                Err(_) => self.filter_error = Some("invalid regex".to_string()),
            }
        }
        self.filter_dirty = true;
    }

    /// Changes the tree with `f`, recomputes its rows and keeps the cursor on its node.
    pub(crate) fn reapply(&mut self, f: impl FnOnce(&mut FileTree)) {
        let keep = self.selected_node();
        let Some(t) = self.tree.as_mut() else { return };
        f(t);
        t.apply(&self.view);
        let rows = t.rows();
        self.tree_cursor = keep
            .and_then(|id| rows.iter().position(|&r| r == id))
            .unwrap_or(self.tree_cursor.min(rows.len().saturating_sub(1)));
        self.scroll_tree();
    }

    pub(crate) fn tree_left(&mut self) {
        let Some(id) = self.selected_node() else {
            return;
        };
        let Some(t) = self.tree.as_ref() else { return };
        if t.has_visible_children(id) && !t.is_collapsed(id) {
            self.reapply(|t| t.set_collapsed(id, true));
        } else {
            let parent = t.node(id).parent;
            if let Some(pos) = t.rows().iter().position(|&r| r == parent) {
                self.tree_cursor = pos;
                self.scroll_tree();
            }
        }
    }

    /// Points the layer selection and tree at the selected finding or suggestion.
    fn select_item(&mut self) {
        let a = Arc::clone(&self.analysis);
        let (layer, evidence) = match self.items.get(self.item) {
            Some(Item::Suggestion(i)) => {
                let s = &a.suggestions[*i];
                let layer = s
                    .findings
                    .first()
                    .and_then(|&f| a.findings.get(f))
                    .map_or(s.layer, |f| f.layer);
                let mut ev = s.evidence.clone();
                if ev.is_empty() {
                    for &f in &s.findings {
                        if let Some(f) = a.findings.get(f) {
                            ev.extend(f.paths.iter().cloned());
                        }
                    }
                }
                (layer, ev)
            }
            Some(Item::Finding(i)) => {
                let f = &a.findings[*i];
                (f.layer, f.paths.clone())
            }
            Some(Item::Practice(i)) => {
                let f = &a.practices[*i];
                (f.layer, f.paths.clone())
            }
            None => return,
        };
        self.details_scroll = 0;
        self.layer = layer.min(a.layers.len().saturating_sub(1));
        self.scroll_layers();
        self.evidence = evidence;
        self.evidence_pos = 0;
        if self.tree_stale() {
            self.jump_pending = true;
        } else {
            self.show_evidence();
        }
    }

    /// Moves the tree cursor to the current evidence path, expanding its parents.
    pub(crate) fn show_evidence(&mut self) {
        let Some(path) = self.evidence.get(self.evidence_pos).cloned() else {
            return;
        };
        let Some(id) = self.tree.as_ref().and_then(|t| t.find(&path)) else {
            return;
        };
        self.jump_to_node(id);
    }

    /// Moves the tree cursor to a node, expanding its parents, and shows it mid-pane with
    /// its neighbours around it; false if the view's filters hide it.
    pub(crate) fn jump_to_node(&mut self, id: u32) -> bool {
        let Some(t) = self.tree.as_mut() else {
            return false;
        };
        t.expand_to(id);
        t.apply(&self.view);
        let found = t.rows().iter().position(|&r| r == id);
        if let Some(pos) = found {
            self.tree_cursor = pos;
            let h = usize::from(self.areas().tree.height.saturating_sub(3)).max(1);
            self.tree_offset = pos.saturating_sub(h / 2);
        }
        self.scroll_tree();
        found.is_some()
    }

    fn mouse(&mut self, m: MouseEvent) {
        let a = self.areas();
        let at = Position::new(m.column, m.row);
        let pane = [
            (a.layers, Pane::Layers),
            (a.tree, Pane::Tree),
            (a.findings, Pane::Findings),
            (a.details, Pane::Details),
        ]
        .into_iter()
        .find(|(r, _)| r.contains(at));
        let Some((rect, pane)) = pane else { return };
        if self.help {
            return;
        }
        match m.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let d = if m.kind == MouseEventKind::ScrollDown {
                    3
                } else {
                    -3
                };
                let old = self.focus;
                self.focus = pane;
                self.move_by(if pane == Pane::Layers { d / 3 } else { d });
                self.focus = old;
            }
            MouseEventKind::Down(MouseButton::Left) => {
                self.focus = pane;
                // Rows start below the border, and the header line in layers and tree.
                let header = u16::from(matches!(pane, Pane::Layers | Pane::Tree)) + 1;
                if m.row < rect.y + header {
                    return;
                }
                let row = usize::from(m.row - rect.y - header);
                match pane {
                    Pane::Layers => {
                        let target = self.layer_offset + row;
                        if target < self.analysis.layers.len() {
                            self.layer = target;
                        }
                    }
                    Pane::Tree => {
                        let target = self.tree_offset + row;
                        let n = self.tree.as_ref().map_or(0, |t| t.rows().len());
                        if target < n {
                            if target == self.tree_cursor {
                                if let Some(id) = self.selected_node() {
                                    self.reapply(|t| t.toggle_collapse(id));
                                }
                            } else {
                                self.tree_cursor = target;
                            }
                        }
                    }
                    Pane::Findings => {
                        let target = self.item_offset + row;
                        if target < self.items.len() {
                            self.item = target;
                            self.select_item();
                        }
                    }
                    Pane::Details => {}
                }
            }
            _ => {}
        }
    }

    fn scroll_layers(&mut self) {
        let h = usize::from(self.areas().layers.height.saturating_sub(3)).max(1);
        self.layer_offset = keep_visible(self.layer, self.layer_offset, h);
    }

    pub(crate) fn scroll_tree(&mut self) {
        let h = usize::from(self.areas().tree.height.saturating_sub(3)).max(1);
        let n = self.tree.as_ref().map_or(0, |t| t.rows().len());
        self.tree_cursor = self.tree_cursor.min(n.saturating_sub(1));
        self.tree_offset = keep_visible(self.tree_cursor, self.tree_offset, h);
        // Fill the pane: no empty rows below the last entry while earlier ones are hidden.
        self.tree_offset = self.tree_offset.min(n.saturating_sub(h));
    }

    fn scroll_items(&mut self) {
        let h = usize::from(self.areas().findings.height.saturating_sub(2)).max(1);
        self.item_offset = keep_visible(self.item, self.item_offset, h);
    }
}

/// Moves `cur` by `delta` within `0..n`.
fn step(cur: usize, delta: isize, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let max = n - 1;
    if delta < 0 {
        cur.saturating_sub(delta.unsigned_abs()).min(max)
    } else {
        cur.saturating_add(delta.unsigned_abs()).min(max)
    }
}

/// The scroll offset that keeps row `cur` inside a window of `h` rows.
fn keep_visible(cur: usize, offset: usize, h: usize) -> usize {
    if cur < offset {
        cur
    } else if cur >= offset + h {
        cur + 1 - h
    } else {
        offset
    }
}

/// Decode progress shown while the analysis runs.
#[derive(Debug, Clone, Default)]
pub struct Loading {
    pub reference: String,
    /// (compressed bytes read, blob size, done) per layer, as far as known.
    pub layers: Vec<(u64, u64, bool)>,
}

/// A progress message from the analysis thread.
#[derive(Debug, Clone, Copy)]
pub enum ProgressMsg {
    Started { layer: usize, total: u64 },
    Advanced { layer: usize, read: u64 },
    Done { layer: usize },
}

impl Loading {
    pub fn new(reference: &str) -> Loading {
        Loading {
            reference: reference.to_string(),
            layers: Vec::new(),
        }
    }

    pub fn update(&mut self, m: ProgressMsg) {
        let layer = match m {
            ProgressMsg::Started { layer, .. }
            | ProgressMsg::Advanced { layer, .. }
            | ProgressMsg::Done { layer } => layer,
        };
        if self.layers.len() <= layer {
            self.layers.resize(layer + 1, (0, 0, false));
        }
        let l = &mut self.layers[layer];
        match m {
            ProgressMsg::Started { total, .. } => l.1 = total,
            ProgressMsg::Advanced { read, .. } => l.0 = read,
            ProgressMsg::Done { .. } => {
                l.2 = true;
                l.0 = l.0.max(l.1);
            }
        }
    }
}
