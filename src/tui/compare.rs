//! Compare mode (`layersift explore OLD NEW`, each an image or a saved report): the layers
//! of both images aligned (shared, changed, added, removed) over the new image's tree, each
//! entry marked added, removed, grown, shrunk or changed with its byte delta; `]` and `[`
//! jump between changed entries, `/` (then `n`/`N`) jumps to a path as in the one-image
//! view. State and keys here ([`CompareView::handle`] is the only mutation), drawing in
//! [`CompareView::draw`] (a read of the state).

use ratatui::crossterm::event::{Event, KeyEventKind};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph};
use ratatui::Frame;

use super::keymap::{Action, Key, KeyMap};
use super::tree::{printable, CompareTree, Compared};
use crate::analysis::runtime::RuntimeConfig;
use crate::diff::{Diff, LayerStatus};
use crate::units::human_bytes;

/// The two panes of compare mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComparePane {
    Layers,
    Tree,
}

/// The whole compare-mode state.
pub struct CompareView {
    pub diff: Diff,
    pub tree: CompareTree,
    pub size: Rect,
    pub focus: ComparePane,
    pub layer: usize,
    pub tree_cursor: usize,
    pub tree_offset: usize,
    pub keys: KeyMap,
    pub theme: super::theme::Theme,
    pub quit: bool,
    pub message: Option<String>,
    /// `/`: the query, and whether it is being typed.
    pub search: String,
    pub searching: bool,
    /// The tree cursor when `/` was pressed (Esc goes back there).
    search_origin: usize,
    /// Each side's run settings (absent for a report saved before reports carried them).
    pub new_runtime: Option<RuntimeConfig>,
    pub old_runtime: Option<RuntimeConfig>,
    /// `c`: the config pane is open, scrolled by this many lines.
    pub config: Option<u16>,
}

/// A signed byte delta for people: `+1.2 MB`, `-300 B`, `0 B`.
fn signed(d: i64) -> String {
    match d {
        0 => "0 B".to_string(),
        d if d > 0 => format!("+{}", human_bytes(d.unsigned_abs())),
        d => format!("-{}", human_bytes(d.unsigned_abs())),
    }
}

fn compared_color(c: Compared) -> Color {
    match c {
        Compared::Same => Color::Reset,
        Compared::Added | Compared::Grown => Color::Green,
        Compared::Removed | Compared::Shrunk => Color::Red,
        Compared::Changed => Color::Yellow,
    }
}

fn status_label(s: LayerStatus) -> (&'static str, Color) {
    match s {
        LayerStatus::Shared => ("shared", Color::DarkGray),
        LayerStatus::Changed => ("changed", Color::Yellow),
        LayerStatus::Added => ("added", Color::Green),
        LayerStatus::Removed => ("removed", Color::Red),
    }
}

impl CompareView {
    /// `diff` must hold every changed file (compare with no limit) and `new_files` the new
    /// image's visible files.
    pub fn new(diff: Diff, new_files: &[crate::report::json::FileRow], size: Rect) -> Self {
        let mut tree = CompareTree::build(new_files, &diff.files);
        tree.tree.apply(&Default::default());
        CompareView {
            diff,
            tree,
            size,
            focus: ComparePane::Tree,
            layer: 0,
            tree_cursor: 0,
            tree_offset: 0,
            keys: KeyMap::default(),
            theme: super::theme::Theme::default(),
            quit: false,
            message: None,
            search: String::new(),
            searching: false,
            search_origin: 0,
            new_runtime: None,
            old_runtime: None,
            config: None,
        }
    }

    fn areas(&self) -> [Rect; 3] {
        let [main, status] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(self.size);
        let lh = u16::try_from(self.diff.layers.len() + 3)
            .unwrap_or(u16::MAX)
            .min(main.height / 3)
            .max(4);
        let [layers, tree] =
            Layout::vertical([Constraint::Length(lh), Constraint::Min(0)]).areas(main);
        [layers, tree, status]
    }

    fn rows(&self) -> &[u32] {
        self.tree.tree.rows()
    }

    /// Handles one terminal event.
    pub fn handle(&mut self, ev: &Event) {
        match ev {
            Event::Key(k) if k.kind != KeyEventKind::Release => {
                self.message = None;
                if k.code == ratatui::crossterm::event::KeyCode::Char('c')
                    && k.modifiers
                        .contains(ratatui::crossterm::event::KeyModifiers::CONTROL)
                {
                    self.quit = true;
                    return;
                }
                if self.searching {
                    self.search_key(*k);
                    return;
                }
                if let Some(scroll) = &mut self.config {
                    use ratatui::crossterm::event::KeyCode;
                    match k.code {
                        KeyCode::Esc | KeyCode::Char('c' | 'q') => self.config = None,
                        KeyCode::Down | KeyCode::Char('j') => *scroll = scroll.saturating_add(1),
                        KeyCode::Up | KeyCode::Char('k') => *scroll = scroll.saturating_sub(1),
                        KeyCode::PageDown => *scroll = scroll.saturating_add(10),
                        KeyCode::PageUp => *scroll = scroll.saturating_sub(10),
                        KeyCode::Home | KeyCode::Char('g') => *scroll = 0,
                        _ => {}
                    }
                    return;
                }
                let key = Key::of(*k);
                let actions: Vec<Action> = self.keys.actions(key).collect();
                for a in actions {
                    if self.perform(a) {
                        break;
                    }
                }
            }
            Event::Resize(w, h) => {
                self.size = Rect::new(0, 0, *w, *h);
                self.scroll();
            }
            _ => {}
        }
    }

    /// Runs an action; false if it means nothing here.
    fn perform(&mut self, a: Action) -> bool {
        let page = isize::try_from(self.areas()[1].height.saturating_sub(3).max(1)).unwrap_or(1);
        match a {
            Action::Quit => self.quit = true,
            Action::ToggleView | Action::PreviousPane => {
                self.focus = match self.focus {
                    ComparePane::Layers => ComparePane::Tree,
                    ComparePane::Tree => ComparePane::Layers,
                };
            }
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-page),
            Action::PageDown => self.move_by(page),
            Action::First => self.move_by(isize::MIN / 2),
            Action::Last => self.move_by(isize::MAX / 2),
            Action::NextChange => self.jump_change(true),
            Action::PreviousChange => self.jump_change(false),
            Action::Search => {
                self.focus = ComparePane::Tree;
                self.searching = true;
                self.search.clear();
                self.search_origin = self.tree_cursor;
            }
            Action::SearchNext | Action::SearchPrevious if self.search.is_empty() => {
                self.message = Some("no search yet: press / to search".to_string());
            }
            Action::ImageConfig => self.config = Some(0),
            Action::SearchNext => self.jump_search(true, false),
            Action::SearchPrevious => self.jump_search(false, false),
            Action::ToggleCollapseDir if self.focus == ComparePane::Tree => {
                if let Some(&id) = self.rows().get(self.tree_cursor) {
                    self.tree.tree.toggle_collapse(id);
                    self.tree.tree.apply(&Default::default());
                    self.scroll();
                }
            }
            _ => return false,
        }
        true
    }

    fn move_by(&mut self, d: isize) {
        let (cur, n) = match self.focus {
            ComparePane::Layers => (self.layer, self.diff.layers.len()),
            ComparePane::Tree => (self.tree_cursor, self.rows().len()),
        };
        if n == 0 {
            return;
        }
        let next = if d < 0 {
            cur.saturating_sub(d.unsigned_abs())
        } else {
            cur.saturating_add(d.unsigned_abs()).min(n - 1)
        };
        match self.focus {
            ComparePane::Layers => self.layer = next,
            ComparePane::Tree => self.tree_cursor = next,
        }
        self.scroll();
    }

    /// A key while the search prompt is open: the cursor follows the first match as the
    /// query is typed; Enter keeps it, Esc goes back.
    fn search_key(&mut self, k: ratatui::crossterm::event::KeyEvent) {
        use ratatui::crossterm::event::{KeyCode, KeyModifiers};
        match k.code {
            KeyCode::Esc => {
                self.searching = false;
                self.search.clear();
                self.tree_cursor = self.search_origin;
                self.scroll();
                return;
            }
            KeyCode::Enter => {
                // Kept where typing left it; run once more so a miss is said after the
                // key that cleared the message.
                self.searching = false;
            }
            KeyCode::Backspace => {
                self.search.pop();
            }
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
                self.search.push(c);
            }
            _ => return,
        }
        self.tree_cursor = self.search_origin;
        if !self.search.is_empty() {
            self.jump_search(true, true);
        }
    }

    /// Jumps to the next (previous) path matching the search, the cursor's own entry
    /// included when `here`.
    fn jump_search(&mut self, forward: bool, here: bool) {
        let Some(re) = super::app::search::Search::matcher(&self.search) else {
            return;
        };
        let mut order = Vec::new();
        self.tree.tree.walk_paths(|id, path| {
            if id != 0 && re.is_match(path) {
                order.push(id);
            }
        });
        if order.is_empty() {
            self.message = Some(format!(
                "`{}` matches no path in this tree",
                printable(&self.search)
            ));
            return;
        }
        self.jump(&order, forward, here);
    }

    /// `]` / `[`: the next (previous) changed file in display order, expanding its
    /// directories, wrapping around.
    fn jump_change(&mut self, forward: bool) {
        let t = &self.tree.tree;
        let mut order: Vec<u32> = Vec::new();
        t.walk_paths(|id, _| {
            let n = t.node(id);
            if !n.is_dir() && self.tree.marks[id as usize].0 != Compared::Same {
                order.push(id);
            }
        });
        if order.is_empty() {
            self.message = Some("no changed entries".to_string());
            return;
        }
        self.jump(&order, forward, false);
    }

    /// Moves the tree cursor to the entry of `order` (node ids in display order) after
    /// (before) the cursor, wrapping around; `here` lets the cursor's own entry count.
    fn jump(&mut self, order: &[u32], forward: bool, here: bool) {
        let t = &self.tree.tree;
        let mut rank = vec![0usize; t.nodes.len()];
        let mut i = 0;
        t.walk_paths(|id, _| {
            rank[id as usize] = i;
            i += 1;
        });
        let cur = self
            .rows()
            .get(self.tree_cursor)
            .map_or(0, |&id| rank[id as usize]);
        let target = if forward {
            order
                .iter()
                .copied()
                .find(|&id| rank[id as usize] > cur || (here && rank[id as usize] == cur))
                .unwrap_or(order[0])
        } else {
            order
                .iter()
                .rev()
                .copied()
                .find(|&id| rank[id as usize] < cur)
                .unwrap_or(order[order.len() - 1])
        };
        self.focus = ComparePane::Tree;
        let t = &mut self.tree.tree;
        t.expand_to(target);
        t.apply(&Default::default());
        if let Some(pos) = t.rows().iter().position(|&r| r == target) {
            self.tree_cursor = pos;
        }
        self.scroll();
    }

    fn scroll(&mut self) {
        let h = usize::from(self.areas()[1].height.saturating_sub(3)).max(1);
        let n = self.rows().len();
        self.tree_cursor = self.tree_cursor.min(n.saturating_sub(1));
        if self.tree_cursor < self.tree_offset {
            self.tree_offset = self.tree_cursor;
        } else if self.tree_cursor >= self.tree_offset + h {
            self.tree_offset = self.tree_cursor + 1 - h;
        }
    }

    /// Draws the screen (reads the state only).
    pub fn draw(&self, f: &mut Frame) {
        let [lr, tr, sr] = self.areas();
        self.draw_layers(f, lr);
        self.draw_tree(f, tr);
        let d = &self.diff;
        let status = match &self.message {
            Some(m) => m.clone(),
            None if self.searching => format!(
                "/{}▏ (Enter keeps, Esc goes back)",
                printable(&self.search)
            ),
            None => format!(
                " {}{} → {} · content {} · files +{} -{} ~{} · ]/[ next/previous change · / search · c config · Tab pane · q quit",
                // The selected entry's full path first, as in the one-image view.
                match (self.focus, self.rows().get(self.tree_cursor)) {
                    (ComparePane::Tree, Some(&id)) => {
                        format!("{} · ", printable(&self.tree.tree.path(id)))
                    }
                    _ => String::new(),
                },
                printable(&d.old.reference),
                printable(&d.new.reference),
                signed(d.totals.content_bytes.delta),
                d.files.added_count,
                d.files.removed_count,
                d.files.grown_count + d.files.shrunk_count + d.files.changed_count,
            ),
        };
        f.render_widget(
            Paragraph::new(status).style(Style::new().add_modifier(Modifier::REVERSED)),
            sr,
        );
        if let Some(scroll) = self.config {
            super::image_config::draw_lines(
                super::image_config::compare_lines(
                    &d.new.reference,
                    &d.old.reference,
                    self.new_runtime.as_ref(),
                    self.old_runtime.as_ref(),
                ),
                scroll,
                f,
            );
        }
        self.theme.apply(f.buffer_mut());
    }

    fn block(&self, title: String, focused: bool) -> Block<'static> {
        let b = Block::new().borders(Borders::ALL).title(Span::styled(
            title,
            Style::new().add_modifier(Modifier::BOLD),
        ));
        if focused {
            b.border_type(BorderType::Thick)
                .border_style(Style::new().fg(Color::Cyan))
        } else {
            b.border_style(Style::new().fg(Color::DarkGray))
        }
    }

    fn draw_layers(&self, f: &mut Frame, r: Rect) {
        let count = |s| self.diff.layers.iter().filter(|l| l.status == s).count();
        let title = format!(
            " Layers: {} shared, {} changed, {} added, {} removed ",
            count(LayerStatus::Shared),
            count(LayerStatus::Changed),
            count(LayerStatus::Added),
            count(LayerStatus::Removed)
        );
        let focused = self.focus == ComparePane::Layers;
        let inner_h = usize::from(r.height.saturating_sub(3));
        let offset = self.layer.saturating_sub(inner_h.saturating_sub(1));
        let mut lines = vec![Line::styled(
            format!(
                "  {:<8} {:>3} {:>3} {:>10}  {}",
                "status", "old", "new", "Δ size", "command"
            ),
            Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        )];
        let idx = |i: Option<usize>| i.map_or("-".to_string(), |i| i.to_string());
        for (i, l) in self
            .diff
            .layers
            .iter()
            .enumerate()
            .skip(offset)
            .take(inner_h)
        {
            let (label, color) = status_label(l.status);
            let cmd = printable(&crate::analysis::one_line(&l.instruction, 300)).into_owned();
            let mut style = Style::new().fg(color);
            if i == self.layer && focused {
                style = style.add_modifier(Modifier::REVERSED);
            }
            lines.push(Line::styled(
                format!(
                    "{}{:<8} {:>3} {:>3} {:>10}  {cmd}",
                    if i == self.layer { '▶' } else { ' ' },
                    label,
                    idx(l.old_index),
                    idx(l.new_index),
                    signed(l.content_bytes.delta)
                ),
                style,
            ));
        }
        f.render_widget(Paragraph::new(lines).block(self.block(title, focused)), r);
    }

    fn draw_tree(&self, f: &mut Frame, r: Rect) {
        let t = &self.tree.tree;
        let focused = self.focus == ComparePane::Tree;
        let title = format!(
            " {} against {} ",
            printable(&self.diff.new.reference),
            printable(&self.diff.old.reference)
        );
        let h = usize::from(r.height.saturating_sub(3));
        let mut lines = vec![Line::styled(
            format!("{:>10} {:>10} {:<8} Filetree", "Size", "Δ", "vs old"),
            Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        )];
        for (row, &id) in t.rows().iter().enumerate().skip(self.tree_offset).take(h) {
            let n = t.node(id);
            let (c, d) = self.tree.marks[id as usize];
            let guides = t.guides(id);
            let fold = if n.is_dir() && t.is_collapsed(id) {
                "⊕ "
            } else {
                ""
            };
            let mut style = Style::new().fg(compared_color(c));
            if row == self.tree_cursor && focused {
                style = style.add_modifier(Modifier::REVERSED);
            }
            lines.push(Line::styled(
                format!(
                    "{:>10} {:>10} {:<8} {guides}{fold}{}",
                    human_bytes(n.size),
                    if c == Compared::Same {
                        String::new()
                    } else {
                        signed(d)
                    },
                    c.label(),
                    n.name
                ),
                style,
            ));
        }
        f.render_widget(Paragraph::new(lines).block(self.block(title, focused)), r);
    }
}
