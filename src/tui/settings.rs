//! The explorer's config files: dive's, where dive looks for it, so dive users' key remaps
//! work unchanged, and layersift's own, which takes the same keys plus layersift's actions
//! and a colour theme. Read before the screen opens; a bad file is one error naming the
//! file, the line and the key.
//!
//! Where: `--config FILE` alone when given; else the first of
//! `$XDG_CONFIG_HOME/dive/*.yaml` (by name; `~/.config` without `XDG_CONFIG_HOME`) and
//! `~/.dive.yaml`, then `$XDG_CONFIG_HOME/layersift/tui.yaml` over it.
//!
//! What (all optional; other sections of a dive file, such as `log:`, are ignored):
//!
//! ```yaml
//! keybinding:            # action: comma-separated keys, dive's names
//!   quit: ctrl+q
//!   toggle-view: tab, ctrl+t
//! filetree:
//!   collapse-dir: true
//!   show-attributes: false
//! layer:
//!   show-aggregated-changes: true
//! diff:
//!   hide: [unmodified]
//! theme: light           # layersift: dark (default) or light
//! colors:                # layersift: a colour per role, over the theme
//!   accent: "#0969da"
//! ```
//!
//! The YAML is read with `marked-yaml`, which keeps each value's line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use marked_yaml::Spanned;
use serde::Deserialize;

use super::keymap::{self, Action, Key, KeyMap};
use super::theme::Theme;
use super::tree::Change;

/// What the config files set, over the defaults.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub keys: KeyMap,
    pub theme: Theme,
    /// `filetree.collapse-dir`: start with every directory collapsed.
    pub collapse_all: bool,
    /// `filetree.show-attributes` (default true).
    pub show_attributes: Option<bool>,
    /// `layer.show-aggregated-changes`: start in the aggregated view.
    pub aggregated: bool,
    /// `diff.hide`: change kinds hidden at start.
    pub hide: Vec<Change>,
    /// The files read, in order.
    pub files: Vec<PathBuf>,
}

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read the TUI config `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not valid YAML: {message}", path.display())]
    Yaml { path: PathBuf, message: String },
    #[error("`{}` line {line}: `{key}`: {message}", path.display())]
    Key {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
        hint: Option<String>,
    },
}

impl SettingsError {
    pub fn hint(&self) -> Option<String> {
        match self {
            SettingsError::Key { hint, .. } => hint.clone(),
            SettingsError::Yaml { .. } => {
                Some("the TUI config is YAML: `keybinding:` then `  action: key, key` lines".into())
            }
            SettingsError::Read { .. } => None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Raw {
    #[serde(default)]
    keybinding: Option<HashMap<Spanned<String>, Spanned<String>>>,
    #[serde(default)]
    filetree: Option<RawFileTree>,
    #[serde(default)]
    layer: Option<RawLayer>,
    #[serde(default)]
    diff: Option<RawDiff>,
    #[serde(default)]
    theme: Option<Spanned<String>>,
    #[serde(default)]
    colors: Option<HashMap<Spanned<String>, Spanned<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawFileTree {
    #[serde(default)]
    collapse_dir: Option<Spanned<bool>>,
    #[serde(default)]
    show_attributes: Option<Spanned<bool>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawLayer {
    #[serde(default)]
    show_aggregated_changes: Option<Spanned<bool>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawDiff {
    #[serde(default)]
    hide: Option<Vec<Spanned<String>>>,
}

fn line_of<T>(s: &Spanned<T>) -> usize {
    s.span().start().map_or(0, |m| m.line())
}

/// The config files to read when no `--config` is given, in order (missing ones skipped).
pub(crate) fn default_files() -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let config_home = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| home.as_ref().map(|h| h.join(".config")));
    let mut out = Vec::new();
    let mut dive: Vec<PathBuf> = config_home
        .as_ref()
        .and_then(|c| std::fs::read_dir(c.join("dive")).ok())
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml") && p.is_file())
        .collect();
    dive.sort();
    match dive.into_iter().next() {
        Some(p) => out.push(p),
        None => {
            if let Some(p) = home.map(|h| h.join(".dive.yaml")).filter(|p| p.is_file()) {
                out.push(p);
            }
        }
    }
    if let Some(p) = config_home
        .map(|c| c.join("layersift").join("tui.yaml"))
        .filter(|p| p.is_file())
    {
        out.push(p);
    }
    out
}

/// Reads `--config FILE` when given, else the default files.
pub(crate) fn load(explicit: Option<&Path>) -> Result<Settings, SettingsError> {
    let files = match explicit {
        Some(p) => vec![p.to_path_buf()],
        None => default_files(),
    };
    let mut s = Settings::default();
    let mut user: Vec<(Action, Vec<Key>, String)> = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: path.clone(),
            source,
        })?;
        apply(&text, path, &mut s, &mut user)?;
    }
    s.keys = KeyMap::with(&user);
    s.files = files;
    Ok(s)
}

/// Parses one file's text (for tests and `load`); `path` names it in errors.
pub fn parse(text: &str, path: &Path) -> Result<Settings, SettingsError> {
    let mut s = Settings::default();
    let mut user = Vec::new();
    apply(text, path, &mut s, &mut user)?;
    s.keys = KeyMap::with(&user);
    s.files = vec![path.to_path_buf()];
    Ok(s)
}

fn apply(
    text: &str,
    path: &Path,
    s: &mut Settings,
    user: &mut Vec<(Action, Vec<Key>, String)>,
) -> Result<(), SettingsError> {
    // An empty file (or one of comments only) is no settings, not an error.
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(());
    }
    let raw: Raw = marked_yaml::from_yaml(0, text).map_err(|e| yaml_error(e, path))?;
    let key_error =
        |line: usize, key: &str, message: String, hint: Option<String>| SettingsError::Key {
            path: path.to_path_buf(),
            line,
            key: key.to_string(),
            message,
            hint,
        };
    let mut bindings: Vec<_> = raw.keybinding.unwrap_or_default().into_iter().collect();
    bindings.sort_by_key(|(k, _)| line_of(k));
    for (name, keys) in bindings {
        let field = format!("keybinding.{}", name.as_str());
        let Some(action) = keymap::action_named(name.as_str()) else {
            if keymap::IGNORED_DIVE_ACTIONS.contains(&name.as_str()) {
                continue;
            }
            let names = Action::ALL.iter().map(|a| a.name());
            let hint = match crate::typo::nearest(name.as_str(), names) {
                Some(n) => format!("did you mean `{n}`? (`?` in the explorer lists the actions)"),
                None => "`?` in the explorer lists the actions; dive's names work too".to_string(),
            };
            return Err(key_error(
                line_of(&name),
                &field,
                format!("unknown action `{}`", name.as_str()),
                Some(hint),
            ));
        };
        let parsed = keymap::parse_keys(keys.as_str()).map_err(|m| {
            key_error(
                line_of(&keys),
                &field,
                m,
                Some(
                    "keys are written as dive writes them: `q`, `G`, `ctrl+a`, `shift+tab`, `pgup`, `space`, `f5`; alternatives separated by commas"
                        .to_string(),
                ),
            )
        })?;
        user.retain(|(a, _, _)| *a != action);
        user.push((action, parsed, keys.as_str().to_string()));
    }
    if let Some(f) = raw.filetree {
        if let Some(c) = f.collapse_dir {
            s.collapse_all = *c;
        }
        if let Some(a) = f.show_attributes {
            s.show_attributes = Some(*a);
        }
    }
    if let Some(a) = raw.layer.and_then(|l| l.show_aggregated_changes) {
        s.aggregated = *a;
    }
    if let Some(hide) = raw.diff.and_then(|d| d.hide) {
        s.hide.clear();
        for h in hide {
            let c = match h.as_str() {
                "added" => Change::Added,
                "removed" => Change::Removed,
                "modified" => Change::Modified,
                "unmodified" | "unchanged" => Change::Unchanged,
                other => {
                    return Err(key_error(
                        line_of(&h),
                        "diff.hide",
                        format!("unknown change kind `{other}`"),
                        Some("one of added, removed, modified, unmodified".to_string()),
                    ))
                }
            };
            s.hide.push(c);
        }
    }
    if let Some(name) = raw.theme {
        s.theme = Theme::named(name.as_str()).ok_or_else(|| {
            key_error(
                line_of(&name),
                "theme",
                format!("unknown theme `{}`", name.as_str()),
                Some("`dark` or `light`; `colors:` sets single roles".to_string()),
            )
        })?;
    }
    let mut colors: Vec<_> = raw.colors.unwrap_or_default().into_iter().collect();
    colors.sort_by_key(|(k, _)| line_of(k));
    for (role, color) in colors {
        s.theme.set(role.as_str(), color.as_str()).map_err(|m| {
            let roles: Vec<&str> = super::theme::ROLES.iter().map(|&(r, _)| r).collect();
            key_error(
                line_of(&color),
                &format!("colors.{}", role.as_str()),
                m,
                Some(format!("roles: {}", roles.join(", "))),
            )
        })?;
    }
    Ok(())
}

fn yaml_error(e: marked_yaml::FromYamlError, path: &Path) -> SettingsError {
    match e {
        marked_yaml::FromYamlError::ParseYaml(e) => SettingsError::Yaml {
            path: path.to_path_buf(),
            message: e.to_string(),
        },
        marked_yaml::FromYamlError::FromNode(e) => {
            let key = e.path().unwrap_or("?").to_string();
            let inner = e.into_inner();
            let line = inner.start_mark().map_or(0, |m| m.line());
            let message = match &inner {
                marked_yaml::spanned_serde::Error::NotBoolean(_) => {
                    "expected true or false".to_string()
                }
                other => other.to_string(),
            };
            SettingsError::Key {
                path: path.to_path_buf(),
                line,
                key,
                message,
                hint: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("dive.yaml")
    }

    #[test]
    fn reads_dive_sections_and_ignores_the_rest() {
        let s = parse(
            "log:\n  enabled: true\nkeybinding:\n  quit: ctrl+q\n  toggle-wrap-tree: ctrl+p\nfiletree:\n  collapse-dir: true\n  pane-width: 0.5\n  show-attributes: false\nlayer:\n  show-aggregated-changes: true\ndiff:\n  hide: [unmodified]\n",
            p(),
        )
        .unwrap();
        assert!(s.collapse_all && s.aggregated);
        assert_eq!(s.show_attributes, Some(false));
        assert_eq!(s.hide, vec![Change::Unchanged]);
        assert_eq!(s.keys.remapped.len(), 1);
    }

    #[test]
    fn bad_keys_name_the_line_and_the_key() {
        let e = parse("keybinding:\n  # mine\n  quit: ctrl+foo\n", p()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`dive.yaml` line 3: `keybinding.quit`: unknown key `foo`"
        );
        let e = parse("keybinding:\n  quitt: q\n", p()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`dive.yaml` line 2: `keybinding.quitt`: unknown action `quitt`"
        );
        assert!(e.hint().unwrap().contains("did you mean `quit`"));
        let e = parse("filetree:\n  collapse-dir: maybe\n", p()).unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        assert!(e.to_string().contains("collapse-dir"), "{e}");
        let e = parse("theme: solarized\n", p()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`dive.yaml` line 1: `theme`: unknown theme `solarized`"
        );
        let e = parse("keybinding: [\n", p()).unwrap_err();
        assert!(
            e.to_string().starts_with("`dive.yaml` is not valid YAML"),
            "{e}"
        );
    }

    #[test]
    fn empty_files_are_no_settings() {
        assert!(parse("", p()).unwrap().keys.remapped.is_empty());
        assert!(parse("# nothing\n\n", p()).is_ok());
    }

    #[test]
    fn theme_and_colours() {
        let s = parse("theme: light\ncolors:\n  accent: blue\n", p()).unwrap();
        assert_eq!(s.theme.color("accent"), Some(ratatui::style::Color::Blue));
        assert_eq!(s.theme.color("modified"), Theme::light().color("modified"));
        let e = parse("colors:\n  accent: nope\n", p()).unwrap_err();
        assert!(e.to_string().contains("line 2: `colors.accent`"), "{e}");
    }
}
