//! What each key action does to the state ([`App::perform`]), and in which pane it applies
//! ([`App::applies`]). Keys reach here through the key map (`keymap`), so a config file's
//! `keybinding:` section changes which key runs an action, never what it does.

use super::app::{App, Pane};
use super::keymap::{Action, Scope};
use super::tree::{Change, SortOrder, TreeMode};

impl App {
    /// Whether `a` means something in the focused pane (and on the selected entry).
    pub(crate) fn applies(&self, a: Action) -> bool {
        let here = match a.scope() {
            Scope::Any => true,
            Scope::NotTree => self.focus != Pane::Tree,
            Scope::Layers => self.focus == Pane::Layers,
            Scope::Tree => self.focus == Pane::Tree,
            Scope::TreeFile => self.focus == Pane::Tree && self.selected_is_file(),
            Scope::Findings => self.focus == Pane::Findings,
        };
        here && match a {
            Action::NextEvidence => !self.evidence.is_empty(),
            _ => true,
        }
    }

    /// Runs one action.
    pub(crate) fn perform(&mut self, a: Action) {
        match a {
            Action::Quit => self.quit = true,
            Action::Help => {
                self.help = true;
                self.help_scroll = 0;
            }
            Action::ToggleView => self.focus = self.focus.next(false),
            Action::PreviousPane => self.focus = self.focus.next(true),
            Action::FilterFiles => {
                self.filter_editing = true;
                self.focus = Pane::Tree;
            }
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-self.page()),
            Action::PageDown => self.move_by(self.page()),
            Action::First => self.move_by(isize::MIN / 2),
            Action::Last => self.move_by(isize::MAX / 2),
            Action::CompareAll => {
                self.range_anchor = None;
                self.set_mode(TreeMode::Aggregated);
            }
            Action::CompareLayer => {
                self.range_anchor = None;
                self.set_mode(TreeMode::Layer);
            }
            Action::ToggleAddedFiles | Action::ToggleAddedTree => {
                self.toggle_change(Change::Added);
            }
            Action::ToggleRemovedFiles | Action::ToggleRemovedTree => {
                self.toggle_change(Change::Removed);
            }
            Action::ToggleModifiedFiles | Action::ToggleModifiedTree => {
                self.toggle_change(Change::Modified);
            }
            Action::ToggleUnmodifiedFiles | Action::ToggleUnmodifiedTree => {
                self.toggle_change(Change::Unchanged);
            }
            Action::ToggleFiletreeAttributes => self.show_attributes = !self.show_attributes,
            Action::ToggleSortOrder => {
                self.sort = match self.sort {
                    SortOrder::Name => SortOrder::Size,
                    SortOrder::Size => SortOrder::Name,
                };
                let sort = self.sort;
                self.reapply(|t| t.set_sort(sort));
            }
            Action::ToggleCollapseAllDir => {
                self.collapse_all = !self.collapse_all;
                let c = self.collapse_all;
                self.reapply(|t| t.set_all_collapsed(c));
            }
            Action::ToggleCollapseDir => {
                if let Some(id) = self.selected_node() {
                    self.reapply(|t| t.toggle_collapse(id));
                }
            }
            Action::Left => self.tree_left(),
            Action::Right => {
                if let Some(id) = self.selected_node() {
                    self.reapply(|t| t.set_collapsed(id, false));
                }
            }
            Action::WasteView => {
                self.view.waste_only = !self.view.waste_only;
                self.reapply(|_| {});
            }
            Action::PackageFilter => self.toggle_package_filter(),
            Action::ViewFile => self.content_key('v'),
            Action::DiffFile => self.content_key('d'),
            Action::Extract => self.content_key('x'),
            Action::NextEvidence => {
                self.evidence_pos = (self.evidence_pos + 1) % self.evidence.len();
                self.show_evidence();
            }
            Action::Search => self.start_search(),
            Action::SearchNext => self.search_next(true),
            Action::SearchPrevious => self.search_next(false),
            Action::ImageConfig => {
                self.config_pane = true;
                self.config_scroll = 0;
            }
            Action::Copy => self.copy_selected(),
            Action::SelectRange => {
                self.range_anchor = match self.range_anchor {
                    None => Some(self.layer),
                    Some(_) => None,
                };
            }
            Action::NextChange | Action::PreviousChange => {}
        }
    }
}
