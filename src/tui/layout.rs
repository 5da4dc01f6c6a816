//! Pane geometry: where each pane sits for a terminal size. A pure function of the size
//! and the layer count, read by drawing (`ui.rs`) and by mouse handling in the state
//! (`app.rs`), so a click lands on the pane that is drawn there.

use ratatui::layout::{Constraint, Layout, Rect};

/// Where each pane sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub layers: Rect,
    pub tree: Rect,
    pub details: Rect,
    pub findings: Rect,
    pub status: Rect,
}

/// Pane geometry for a terminal size. Wide terminals get dive's layout (layers, details and
/// findings stacked on the left, the tree on the right); below 110 columns the layers span
/// the top and the tree gets the larger share of the rest.
pub(crate) fn areas(size: Rect, layers: usize) -> Areas {
    let [main, status] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(size);
    let layers_h = u16::try_from(layers + 3).unwrap_or(u16::MAX);
    if size.width >= 110 {
        let [left, tree] =
            Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)])
                .areas(main);
        let lh = layers_h.min(left.height * 2 / 5).max(4);
        let [l, rest] = Layout::vertical([Constraint::Length(lh), Constraint::Min(0)]).areas(left);
        let [details, findings] =
            Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(rest);
        Areas {
            layers: l,
            tree,
            details,
            findings,
            status,
        }
    } else {
        let lh = layers_h.min(main.height / 3).max(4);
        let [l, rest] = Layout::vertical([Constraint::Length(lh), Constraint::Min(0)]).areas(main);
        let [tree, side] =
            Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)])
                .areas(rest);
        let [details, findings] =
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(side);
        Areas {
            layers: l,
            tree,
            details,
            findings,
            status,
        }
    }
}
