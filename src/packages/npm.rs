//! npm: `package.json` files. One directly inside `node_modules/NAME/` (or
//! `node_modules/@SCOPE/NAME/`) is an installed package that owns its directory; any other
//! is an application's manifest, read for its `devDependencies`.

use serde::{Deserialize, Serialize};

/// What a `package.json` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NpmManifest {
    /// Its directory (absolute).
    pub dir: String,
    pub name: String,
    pub version: String,
    /// True when it is an installed package (directly under `node_modules`).
    pub installed: bool,
    /// Names in `devDependencies` (an application's manifest only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dev_dependencies: Vec<String>,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    name: Option<serde_json::Value>,
    #[serde(default)]
    version: Option<serde_json::Value>,
    #[serde(default, rename = "devDependencies")]
    dev: Option<serde_json::Value>,
}

/// Whether `dir` is `…/node_modules/NAME` or `…/node_modules/@SCOPE/NAME`.
pub(crate) fn is_installed_dir(dir: &str) -> bool {
    let mut parts = dir.rsplit('/');
    let last = parts.next().unwrap_or_default();
    let up = parts.next().unwrap_or_default();
    if up == "node_modules" {
        return !last.starts_with('.') && !last.is_empty();
    }
    up.starts_with('@') && parts.next() == Some("node_modules")
}

/// Reads a `package.json` in `dir`. `None` when it is not a JSON object. Only installed
/// packages need a name and version; a nested `package.json` inside a package (some ship
/// them to mark module types) is not a package and is ignored.
pub(crate) fn parse(dir: &str, data: &[u8]) -> Option<NpmManifest> {
    let raw: Raw = serde_json::from_slice(data).ok()?;
    let text = |v: Option<serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => s,
        _ => String::new(),
    };
    let installed = is_installed_dir(dir);
    let under_modules = dir.contains("/node_modules/");
    let dev_dependencies = match raw.dev {
        Some(serde_json::Value::Object(m)) if !installed => m.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let m = NpmManifest {
        dir: dir.to_string(),
        name: text(raw.name),
        version: text(raw.version),
        installed,
        dev_dependencies,
    };
    if installed && (m.name.is_empty() || m.version.is_empty()) {
        return None;
    }
    if !installed && under_modules {
        return None; // a package's inner package.json: not a package, not an app
    }
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_and_app_manifests() {
        let m = parse(
            "/app/node_modules/left-pad",
            br#"{"name":"left-pad","version":"1.3.0"}"#,
        )
        .unwrap();
        assert!(m.installed);
        assert_eq!(m.version, "1.3.0");
        let m = parse(
            "/app/node_modules/@types/node",
            br#"{"name":"@types/node","version":"20.1.0","devDependencies":{"x":"1"}}"#,
        )
        .unwrap();
        assert!(m.installed);
        assert!(m.dev_dependencies.is_empty());
        let app = parse(
            "/app",
            br#"{"name":"app","devDependencies":{"jest":"^29","eslint":"8"}}"#,
        )
        .unwrap();
        assert!(!app.installed);
        assert_eq!(app.dev_dependencies, ["eslint", "jest"]);
        assert_eq!(parse("/app/node_modules/x", b"{\"name\":\"x\"}"), None);
        assert_eq!(
            parse("/app/node_modules/x/lib", b"{\"type\":\"module\"}"),
            None
        );
        assert_eq!(parse("/app", b"[1,2"), None);
        assert_eq!(parse("/app/node_modules/y", b"\xff"), None);
    }

    #[test]
    fn installed_dirs() {
        assert!(is_installed_dir("/a/node_modules/x"));
        assert!(is_installed_dir("/a/node_modules/@s/x"));
        assert!(!is_installed_dir("/a/node_modules/x/lib"));
        assert!(!is_installed_dir("/a/node_modules/.bin"));
        assert!(!is_installed_dir("/a"));
    }
}
