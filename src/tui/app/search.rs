//! Search that jumps (`/`, then `n` / `N`): finds a path in the file tree by substring or
//! regex and moves the cursor to it, expanding the directories above it. Unlike the filter
//! (Ctrl+F), it hides nothing. The query is a regex when it is a valid one (plain text is
//! then a substring match), else it is matched as literal text. Matches are every tree node
//! whose full path matches, in display order, computed once per query and tree; `n` and `N`
//! go to the next and previous match after the cursor, wrapping around. Copying (`y`,
//! through OSC 52) lives here too: the other small action on the selected entry.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use regex::Regex;

use super::{App, Pane};
use crate::tui::tree::{SortOrder, TreeMode};

/// The search state: what is typed, and the matches of the tree it was run on.
#[derive(Debug, Default)]
pub struct Search {
    /// The query as typed.
    pub text: String,
    /// The query is being typed (the status bar shows the prompt).
    pub editing: bool,
    /// Matching node ids, in display order, for `key`'s tree.
    matches: Vec<u32>,
    /// Display-order rank of every node of that tree.
    rank: Vec<u32>,
    key: Option<(usize, TreeMode, SortOrder, String)>,
    /// The query changed while typing: jump once input is idle.
    pub(crate) dirty: bool,
    /// The tree cursor when `/` was pressed (Esc goes back there).
    origin: usize,
    /// 1-based index of the match under the cursor, and the match count.
    pub at: Option<(usize, usize)>,
}

impl Search {
    /// The matcher for a query: the regex it spells, or its literal text.
    pub(crate) fn matcher(text: &str) -> Option<Regex> {
        Regex::new(text)
            .or_else(|_| Regex::new(&regex::escape(text)))
            .ok()
    }

    /// The number of matches of the last search.
    pub fn count(&self) -> usize {
        self.matches.len()
    }
}

impl App {
    /// `/`: starts typing a search in the tree.
    pub(crate) fn start_search(&mut self) {
        self.focus = Pane::Tree;
        self.search.editing = true;
        self.search.text.clear();
        self.search.at = None;
        self.search.origin = self.tree_cursor;
    }

    /// A key while the search prompt is open.
    pub(crate) fn search_key(&mut self, k: KeyEvent) {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        match k.code {
            KeyCode::Esc => {
                self.search.editing = false;
                self.search.text.clear();
                self.search.at = None;
                self.search.dirty = false;
                self.tree_cursor = self.search.origin;
                self.scroll_tree();
            }
            KeyCode::Enter => {
                self.search.editing = false;
                if self.search.dirty && !self.tree_stale() {
                    self.search.dirty = false;
                    self.search_jump(true, true);
                }
            }
            KeyCode::Backspace => {
                self.search.text.pop();
                self.search.dirty = true;
            }
            KeyCode::Char(c) if !ctrl => {
                self.search.text.push(c);
                self.search.dirty = true;
            }
            _ => {}
        }
    }

    /// Deferred work of the search prompt (once per burst of typing): jump to the first
    /// match at or after where the search started.
    pub(crate) fn search_idle(&mut self) {
        // The tree asked for is still being built: search it once it is installed.
        if self.search.dirty && !self.tree_stale() {
            self.search.dirty = false;
            self.tree_cursor = self.search.origin;
            self.search_jump(true, true);
        }
    }

    /// `n` (forward) or `N` (back): the next match after the cursor.
    pub(crate) fn search_next(&mut self, forward: bool) {
        if self.search.text.is_empty() {
            self.content.message = Some("no search yet: press / to search".to_string());
            return;
        }
        self.search_jump(forward, false);
    }

    /// Recomputes the matches when the tree or the query changed.
    fn refresh_matches(&mut self) {
        let Some(t) = self.tree.as_ref() else {
            self.search.matches.clear();
            return;
        };
        let key = (t.layer, t.mode, t.sort_order(), self.search.text.clone());
        if self.search.key.as_ref() == Some(&key) {
            return;
        }
        let mut matches = Vec::new();
        let mut rank = vec![0u32; t.nodes.len()];
        if let Some(re) = Search::matcher(&self.search.text) {
            let mut n = 0u32;
            t.walk_paths(|id, path| {
                rank[id as usize] = n;
                n += 1;
                if re.is_match(path) {
                    matches.push(id);
                }
            });
        }
        self.search.matches = matches;
        self.search.rank = rank;
        self.search.key = Some(key);
    }

    /// Moves the cursor to the next (or previous) match from the cursor, the cursor's own
    /// entry included when `here`; expands its parents. Matches the view's filters hide
    /// are skipped.
    fn search_jump(&mut self, forward: bool, here: bool) {
        self.refresh_matches();
        let n = self.search.matches.len();
        if n == 0 {
            self.search.at = None;
            if !self.search.text.is_empty() && !self.search.editing {
                self.content.message = Some(format!(
                    "`{}` matches no path in this tree",
                    crate::sanitize::for_terminal(&self.search.text)
                ));
            }
            return;
        }
        let cur = self
            .selected_node()
            .map_or(0, |id| self.search.rank[id as usize]);
        let ranks: Vec<u32> = self
            .search
            .matches
            .iter()
            .map(|&id| self.search.rank[id as usize])
            .collect();
        // The first candidate, then the rest in the direction of travel, wrapping.
        let start = if forward {
            let p = ranks.partition_point(|&r| if here { r < cur } else { r <= cur });
            p % n
        } else {
            let p = ranks.partition_point(|&r| r < cur);
            (p + n - 1) % n
        };
        for step in 0..n {
            let i = if forward {
                (start + step) % n
            } else {
                (start + n - step) % n
            };
            let id = self.search.matches[i];
            if self.jump_to_node(id) {
                self.search.at = Some((i + 1, n));
                let wrapped = match (forward, here) {
                    (true, true) => ranks[i] < cur,
                    (true, false) => ranks[i] <= cur,
                    (false, _) => ranks[i] >= cur,
                };
                if wrapped {
                    self.content.message = Some(if forward {
                        "search wrapped to the top".to_string()
                    } else {
                        "search wrapped to the bottom".to_string()
                    });
                }
                return;
            }
        }
        self.search.at = None;
        self.content.message = Some("every match is hidden by the current filters".to_string());
    }

    /// `y`: copies the selected path (tree), the layer's digest (layers, details) or the
    /// finding's evidence path, through OSC 52 (the event loop writes it).
    pub(crate) fn copy_selected(&mut self) {
        let what = match self.focus {
            Pane::Tree => self
                .tree
                .as_ref()
                .zip(self.selected_node())
                .map(|(t, id)| t.path(id)),
            Pane::Findings => self.evidence.get(self.evidence_pos).cloned(),
            Pane::Layers | Pane::Details => self
                .analysis
                .layers
                .get(self.layer)
                .map(|l| l.digest.clone()),
        };
        match what {
            Some(s) => {
                self.content.message = Some(format!(
                    "copied `{}` to the clipboard (OSC 52)",
                    crate::sanitize::for_terminal(&s)
                ));
                self.clipboard = Some(s);
            }
            None => self.content.message = Some("nothing selected to copy".to_string()),
        }
    }
}

/// The OSC 52 sequence that sets the system clipboard to `text` (terminals, and tmux with
/// `set-clipboard on`, pass it on; it works over SSH since it is just output).
pub(crate) fn osc52(text: &str) -> String {
    use base64::Engine as _;
    format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn osc52_is_base64_of_the_text() {
        assert_eq!(
            super::osc52("/usr/bin/curl"),
            "\x1b]52;c;L3Vzci9iaW4vY3VybA==\x07"
        );
    }
}
