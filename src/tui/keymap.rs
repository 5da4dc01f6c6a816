//! Key bindings: the actions the explorer knows (dive's names, then layersift's own), the
//! keys each is bound to by default, key names as dive writes them (`ctrl+a`, `pgup`,
//! `space`, comma-separated alternatives), and the map from a pressed key to the actions it
//! may mean. Which of those actions runs depends on the pane (Ctrl+A is "aggregated" in the
//! layers pane and "show added" in the tree), so the state decides; this module only
//! parses and looks up. No terminal, no files: the config loader (`settings`) feeds it.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where an action applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Any,
    /// Any pane but the tree (where its key usually means something else).
    NotTree,
    Layers,
    Tree,
    /// The tree, on a file (not a directory).
    TreeFile,
    Findings,
}

macro_rules! actions {
    ($($variant:ident $name:literal $scope:ident [$($key:literal),*] $what:literal;)*) => {
        /// Something a key can do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action { $($variant),* }

        impl Action {
            /// Every action, in the order a key's actions are tried.
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            /// The name in a config file's `keybinding:` section.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name),* }
            }

            pub(crate) fn scope(self) -> Scope {
                match self { $(Action::$variant => Scope::$scope),* }
            }

            /// The default keys, in dive's notation.
            pub fn default_keys(self) -> &'static [&'static str] {
                match self { $(Action::$variant => &[$($key),*]),* }
            }

            /// What it does, for the help.
            pub fn what(self) -> &'static str {
                match self { $(Action::$variant => $what),* }
            }
        }
    };
}

// Order matters where one key has several actions: the first that applies in the focused
// pane runs (so `compare-all` before `toggle-added-files` for Ctrl+A, `view-file` before
// `toggle-collapse-dir` for Enter).
actions! {
    Quit "quit" Any ["q"] "quit";
    ToggleView "toggle-view" Any ["tab"] "next pane";
    PreviousPane "previous-pane" Any ["shift+tab"] "previous pane";
    FilterFiles "filter-files" Any ["ctrl+f"] "regex filter: hide rows that do not match";
    Up "up" Any ["up", "k"] "move up";
    Down "down" Any ["down", "j"] "move down";
    PageUp "page-up" Any ["pgup"] "move up a page";
    PageDown "page-down" Any ["pgdn"] "move down a page";
    First "first" Any ["home", "g"] "first row";
    Last "last" Any ["end", "G"] "last row";
    CompareAll "compare-all" NotTree ["ctrl+a"] "tree: all files as of the selected layer";
    CompareLayer "compare-layer" Any ["ctrl+l"] "tree: the selected layer's changes";
    SelectRange "select-range" Layers ["v"] "mark a range of layers (again: clear)";
    ViewFile "view-file" TreeFile ["enter", "v"] "view the file";
    ToggleCollapseDir "toggle-collapse-dir" Tree ["space", "enter"] "collapse / expand the directory";
    ToggleCollapseAllDir "toggle-collapse-all-dir" Any ["ctrl+space"] "collapse / expand all";
    Left "left" Tree ["left", "h"] "collapse, or go to the parent";
    Right "right" Tree ["right", "l"] "expand";
    ToggleAddedFiles "toggle-added-files" Any ["ctrl+a"] "show / hide added entries";
    ToggleRemovedFiles "toggle-removed-files" Any ["ctrl+r"] "show / hide removed entries";
    ToggleModifiedFiles "toggle-modified-files" Any ["ctrl+m"] "show / hide modified entries";
    ToggleUnmodifiedFiles "toggle-unmodified-files" Any ["ctrl+u"] "show / hide unchanged entries";
    ToggleAddedTree "toggle-added" Tree ["a"] "show / hide added entries (tree)";
    ToggleRemovedTree "toggle-removed" Tree ["r"] "show / hide removed entries (tree)";
    ToggleModifiedTree "toggle-modified" Tree ["m"] "show / hide modified entries (tree)";
    ToggleUnmodifiedTree "toggle-unmodified" Tree ["u"] "show / hide unchanged entries (tree)";
    ToggleFiletreeAttributes "toggle-filetree-attributes" Any ["ctrl+b"] "show / hide permissions and uid:gid";
    ToggleSortOrder "toggle-sort-order" Any ["ctrl+o"] "sort by name / by size";
    WasteView "waste-view" Any ["w"] "show only wasted entries and secrets";
    PackageFilter "package-filter" Tree ["p"] "show only the selected file's package";
    DiffFile "diff-file" Tree ["d"] "diff the file against the version it replaced";
    Extract "extract" Tree ["x"] "extract the selected entry here";
    NextEvidence "next-evidence" Findings ["enter", "space"] "jump to the next evidence path";
    NextChange "next-change" Any ["]"] "compare: next changed entry";
    PreviousChange "previous-change" Any ["["] "compare: previous changed entry";
    Search "search" Any ["/"] "search paths (text or regex) and jump";
    SearchNext "search-next" Any ["n"] "next search match";
    SearchPrevious "search-previous" Any ["N"] "previous search match";
    ImageConfig "image-config" Any ["c"] "the image config";
    Copy "copy" Any ["y"] "copy the selected path or digest (OSC 52)";
    Help "help" Any ["?"] "show / hide the help";
}

/// dive action names layersift accepts in a dive config and does not act on (dive's own
/// features that have no counterpart here), so a dive config still loads.
pub(crate) const IGNORED_DIVE_ACTIONS: &[&str] = &[
    "close-filter-files",
    "toggle-wrap-tree",
    "toggle-aggregated-changes",
    "extract-file",
];

/// One key press: a key and its modifiers, normalised so that what a terminal sends and
/// what a config names compare equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        let mut mods = mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        // The kitty keyboard protocol reports Shift+Tab as Tab with Shift.
        let code = match code {
            KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
            c => c,
        };
        let code = match code {
            // A character already says whether Shift was down (`G`), and Ctrl+letter
            // arrives in lower case.
            KeyCode::Char(c) => {
                mods.remove(KeyModifiers::SHIFT);
                if mods.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            c => c,
        };
        Key { code, mods }
    }

    /// The key of a terminal event.
    pub fn of(k: KeyEvent) -> Key {
        Key::new(k.code, k.modifiers)
    }
}

/// Parses one key as dive names it: `q`, `G`, `ctrl+a`, `ctrl+space`, `shift+tab`,
/// `alt+x`, `pgup`, `f5`. Case does not matter in names and modifiers (`CTRL+A`); a single
/// character is taken as written. Some keys reach a terminal program in two forms
/// (Ctrl+/ arrives as Ctrl+7 from many terminals), so this gives every form.
pub(crate) fn parse_key(s: &str) -> Result<Vec<Key>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("an empty key name".to_string());
    }
    // `+` alone, or a modifier and `+` (`ctrl++`), is the plus key.
    let (mods_part, name) = match s.rsplit_once('+') {
        Some((m, "")) if m.is_empty() || m.ends_with('+') => (m.trim_end_matches('+'), "+"),
        Some((m, n)) => (m, n),
        None => ("", s),
    };
    let mut mods = KeyModifiers::NONE;
    for m in mods_part.split('+').filter(|m| !m.is_empty()) {
        mods |= match m.to_ascii_lowercase().as_str() {
            "ctrl" | "control" | "c" => KeyModifiers::CONTROL,
            "alt" | "meta" | "m" => KeyModifiers::ALT,
            "shift" | "s" => KeyModifiers::SHIFT,
            other => return Err(format!("unknown modifier `{other}` (ctrl, alt or shift)")),
        };
    }
    let lower = name.to_ascii_lowercase();
    let single = |c: char| vec![Key::new(KeyCode::Char(c), mods)];
    let code = match lower.as_str() {
        "up" | "arrowup" => KeyCode::Up,
        "down" | "arrowdown" => KeyCode::Down,
        "left" | "arrowleft" => KeyCode::Left,
        "right" | "arrowright" => KeyCode::Right,
        "pgup" | "pageup" => KeyCode::PageUp,
        "pgdn" | "pgdown" | "pagedown" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "insert" | "ins" => KeyCode::Insert,
        "delete" | "del" => KeyCode::Delete,
        "backspace" | "backspace2" => KeyCode::Backspace,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "enter" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "space" => return Ok(single(' ')),
        "slash" => {
            let mut keys = single('/');
            if mods.contains(KeyModifiers::CONTROL) {
                keys.push(Key::new(KeyCode::Char('7'), mods));
                keys.push(Key::new(KeyCode::Char('_'), mods));
            }
            return Ok(keys);
        }
        "backslash" => return Ok(single('\\')),
        "comma" => return Ok(single(',')),
        "plus" => return Ok(single('+')),
        "minus" => return Ok(single('-')),
        f if f.len() >= 2 && f.starts_with('f') && f[1..].chars().all(|c| c.is_ascii_digit()) => {
            match f[1..].parse::<u8>() {
                Ok(n @ 1..=12) => KeyCode::F(n),
                _ => {
                    return Err(format!(
                        "unknown key `{name}` (function keys are f1 to f12)"
                    ))
                }
            }
        }
        _ => {
            let mut chars = name.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if !c.is_control() => {
                    let c = if mods.contains(KeyModifiers::SHIFT)
                        && !mods.contains(KeyModifiers::CONTROL)
                    {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    };
                    return Ok(single(c));
                }
                _ => return Err(format!("unknown key `{name}`")),
            }
        }
    };
    Ok(vec![Key::new(code, mods)])
}

/// Parses a comma-separated list of alternatives (`ctrl+f, ctrl+slash`).
pub(crate) fn parse_keys(s: &str) -> Result<Vec<Key>, String> {
    let mut out = Vec::new();
    // A lone `,` between commas would be ambiguous: dive writes it as `comma`.
    for part in s.split(',') {
        out.extend(parse_key(part)?);
    }
    Ok(out)
}

/// Which actions each key means: a user's bindings first, then the defaults of the
/// actions the user did not rebind.
#[derive(Debug, Clone)]
pub struct KeyMap {
    bindings: Vec<(Key, Action)>,
    /// (action, keys as written) the user set, for the help.
    pub remapped: Vec<(Action, String)>,
}

impl Default for KeyMap {
    fn default() -> KeyMap {
        KeyMap::with(&[])
    }
}

impl KeyMap {
    /// The defaults, with `user`'s bindings in place of the defaults of the actions it names.
    pub fn with(user: &[(Action, Vec<Key>, String)]) -> KeyMap {
        let mut bindings = Vec::new();
        for (a, keys, _) in user {
            bindings.extend(keys.iter().map(|&k| (k, *a)));
        }
        for &a in Action::ALL {
            if user.iter().any(|(u, _, _)| *u == a) {
                continue;
            }
            for name in a.default_keys() {
                // The defaults are written in this file: a bad one is caught by a test.
                for k in parse_key(name).unwrap_or_default() {
                    bindings.push((k, a));
                }
            }
        }
        KeyMap {
            bindings,
            remapped: user.iter().map(|(a, _, s)| (*a, s.clone())).collect(),
        }
    }

    /// The actions a key may mean, most specific first.
    pub fn actions(&self, k: Key) -> impl Iterator<Item = Action> + '_ {
        self.bindings
            .iter()
            .filter(move |(b, _)| *b == k)
            .map(|(_, a)| *a)
    }
}

/// The action named `name` in a config file.
pub(crate) fn action_named(name: &str) -> Option<Action> {
    Action::ALL.iter().copied().find(|a| a.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> Key {
        Key::new(code, mods)
    }

    #[test]
    fn every_default_key_parses() {
        for a in Action::ALL {
            for k in a.default_keys() {
                assert!(parse_key(k).is_ok(), "{}: {k}", a.name());
            }
        }
    }

    #[test]
    fn dive_key_names_parse() {
        let ctrl = KeyModifiers::CONTROL;
        assert_eq!(
            parse_key("ctrl+a").unwrap(),
            vec![key(KeyCode::Char('a'), ctrl)]
        );
        assert_eq!(
            parse_key("CTRL+A").unwrap(),
            vec![key(KeyCode::Char('a'), ctrl)]
        );
        assert_eq!(
            parse_key("ctrl+space").unwrap(),
            vec![key(KeyCode::Char(' '), ctrl)]
        );
        assert_eq!(
            parse_key("pgdn").unwrap(),
            vec![key(KeyCode::PageDown, KeyModifiers::NONE)]
        );
        assert_eq!(
            parse_key("shift+tab").unwrap(),
            vec![key(KeyCode::BackTab, KeyModifiers::NONE)]
        );
        assert_eq!(
            parse_key("G").unwrap(),
            vec![key(KeyCode::Char('G'), KeyModifiers::NONE)]
        );
        assert_eq!(parse_key("shift+g").unwrap(), parse_key("G").unwrap());
        assert_eq!(
            parse_key("f5").unwrap(),
            vec![key(KeyCode::F(5), KeyModifiers::NONE)]
        );
        assert_eq!(parse_key("ctrl+slash").unwrap().len(), 3);
        assert_eq!(parse_keys("up, k").unwrap().len(), 2);
        assert!(parse_key("ctrl+foo")
            .unwrap_err()
            .contains("unknown key `foo`"));
        assert!(parse_key("hyper+a")
            .unwrap_err()
            .contains("unknown modifier"));
        assert!(parse_key("f13").is_err());
        assert!(parse_keys("q,").is_err());
    }

    #[test]
    fn terminal_events_match_config_names() {
        // What crossterm reports for Shift+G, Shift+Tab (kitty) and Ctrl+A.
        let ev = |c, m| Key::of(KeyEvent::new(c, m));
        assert_eq!(
            ev(KeyCode::Char('G'), KeyModifiers::SHIFT),
            parse_key("G").unwrap()[0]
        );
        assert_eq!(
            ev(KeyCode::Tab, KeyModifiers::SHIFT),
            parse_key("shift+tab").unwrap()[0]
        );
        assert_eq!(
            ev(KeyCode::BackTab, KeyModifiers::SHIFT),
            parse_key("shift+tab").unwrap()[0]
        );
        assert_eq!(
            ev(KeyCode::Char('a'), KeyModifiers::CONTROL),
            parse_key("ctrl+a").unwrap()[0]
        );
    }

    #[test]
    fn user_bindings_replace_the_defaults_of_their_action() {
        let q = parse_keys("ctrl+q").unwrap();
        let m = KeyMap::with(&[(Action::Quit, q.clone(), "ctrl+q".into())]);
        assert_eq!(m.actions(q[0]).collect::<Vec<_>>(), vec![Action::Quit]);
        let plain_q = parse_key("q").unwrap()[0];
        assert_eq!(m.actions(plain_q).count(), 0);
        // Ctrl+A keeps both of its meanings, in order.
        let ca = parse_key("ctrl+a").unwrap()[0];
        assert_eq!(
            m.actions(ca).collect::<Vec<_>>(),
            vec![Action::CompareAll, Action::ToggleAddedFiles]
        );
    }
}
