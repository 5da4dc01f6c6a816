//! Check configuration: the rules and thresholds of `layersift check`, read from a
//! `layersift.toml` (`[check]` table) or from dive's `.dive-ci`, plus the parsers for the
//! values users write there and on the command line (sizes such as `10MB`, `1.5GiB`, and
//! growth limits such as `10MB` or `5%`).
//!
//! Which file is read: `--config FILE` when given; else `layersift.toml` in the current
//! directory; else `.dive-ci`; else the defaults (only the no-secrets rule).

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config `{path}` is not valid TOML for layersift")]
    Toml {
        path: PathBuf,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("config `{path}` line {line}: {message}")]
    Dive {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("config `{path}`: `{key}` = `{value}`: {message}")]
    Value {
        path: PathBuf,
        key: String,
        value: String,
        message: String,
    },
}

impl ConfigError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ConfigError::Read { .. } => "check the path given to `--config`".to_string(),
            ConfigError::Toml { .. } | ConfigError::Value { .. } => {
                "see docs/check.md for the `[check]` keys and value forms (`10MB`, `5%`, 0.95)"
                    .to_string()
            }
            ConfigError::Dive { .. } => {
                "a `.dive-ci` holds `rules:` then `lowestEfficiency`, `highestWastedBytes`, \
                 `highestUserWastedPercent` (a value or `disabled`)"
                    .to_string()
            }
        })
    }
}

/// A limit on growth against a baseline: absolute bytes or a percentage of the baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Growth {
    Bytes(u64),
    Percent(f64),
}

impl Growth {
    /// Parses `10MB`, `1.5GiB`, `2048` (bytes) or `5%`.
    pub fn parse(s: &str) -> Result<Growth, String> {
        let t = s.trim();
        if let Some(p) = t.strip_suffix('%') {
            let v: f64 = p
                .trim()
                .parse()
                .map_err(|_| format!("`{s}` is not a percentage such as `5%`"))?;
            if !v.is_finite() || v < 0.0 {
                return Err(format!("`{s}`: a percentage must be 0 or more"));
            }
            return Ok(Growth::Percent(v));
        }
        parse_size(t).map(Growth::Bytes)
    }

    /// The most a value may grow from `baseline`, in bytes (fractional for percentages).
    pub fn allowed(self, baseline: u64) -> f64 {
        match self {
            Growth::Bytes(b) => b as f64,
            Growth::Percent(p) => baseline as f64 * p / 100.0,
        }
    }
}

impl std::fmt::Display for Growth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Growth::Bytes(b) => write!(f, "{}", crate::units::human_bytes(*b)),
            Growth::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// Parses a size: plain bytes (`2048`), decimal units (`10kB`, `10MB`, `1.5GB`, also `10M`)
/// or binary units (`10KiB`, `10MiB`, `1GiB`), case-insensitive, optional space before the
/// unit. Fractions round to the nearest byte.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad = || format!("`{s}` is not a size; expected e.g. `20MB`, `512KiB`, `1.5GB` or bytes");
    if num.is_empty() {
        return Err(bad());
    }
    let v: f64 = num.parse().map_err(|_| bad())?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "ki" | "kib" => 1024.0,
        "mi" | "mib" => 1024.0 * 1024.0,
        "gi" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "ti" | "tib" => 1024.0_f64.powi(4),
        _ => return Err(bad()),
    };
    let bytes = (v * mult).round();
    if !bytes.is_finite() || bytes > u64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes as u64)
}

/// Growth limits against a baseline report; each is off when `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GrowthLimits {
    /// Regular-file content bytes (`summary.content_bytes`).
    pub max_content: Option<Growth>,
    /// Sum of layer blob sizes (`summary.compressed_bytes`).
    pub max_compressed: Option<Growth>,
    /// Hidden + avoidable bytes (`summary.potential_savings_bytes`).
    pub max_waste: Option<Growth>,
}

impl GrowthLimits {
    pub fn any(&self) -> bool {
        self.max_content.is_some() || self.max_compressed.is_some() || self.max_waste.is_some()
    }
}

/// Where the rules came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Toml(PathBuf),
    DiveCi(PathBuf),
    Defaults,
}

impl Origin {
    /// The file's path, or `defaults`.
    pub fn name(&self) -> String {
        match self {
            Origin::Toml(p) | Origin::DiveCi(p) => p.display().to_string(),
            Origin::Defaults => "defaults".to_string(),
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Toml(p) | Origin::DiveCi(p) => write!(f, "`{}`", p.display()),
            Origin::Defaults => f.write_str("defaults"),
        }
    }
}

/// The rules of `layersift check`. A rule whose threshold is `None` is not evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckConfig {
    /// Lowest allowed efficiency (visible / content bytes), 0..=1.
    pub min_efficiency: Option<f64>,
    /// Most hidden bytes allowed (dive's `highestWastedBytes`).
    pub max_hidden_bytes: Option<u64>,
    /// Most hidden bytes allowed as a fraction of content bytes, 0..=1 (dive's
    /// `highestUserWastedPercent`).
    pub max_hidden_ratio: Option<f64>,
    /// Most avoidable bytes (caches, temp/log files, duplicates) allowed.
    pub max_avoidable_bytes: Option<u64>,
    /// Largest allowed image, in regular-file content bytes.
    pub max_size: Option<u64>,
    /// Largest allowed image, in compressed (blob) bytes.
    pub max_compressed_size: Option<u64>,
    /// When false (the default) any secret fails the check.
    pub allow_secrets: bool,
    pub growth: GrowthLimits,
    /// Path policies: forbidden globs, per-glob budgets, layer and file limits.
    pub paths: crate::policy::PathRules,
    /// Which layers the size, waste and path rules count (`scope = "own"`: not the base's).
    pub scope: Scope,
    /// Best-practice rules that fail the check when the image breaks them
    /// (`[check.practices]`, e.g. `root-user = true`), as `practice.root-user`.
    pub practices: Vec<&'static str>,
    pub origin: Origin,
}

/// Which layers a rule counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scope {
    /// Every layer of the image.
    #[default]
    Image,
    /// Only the layers above the base (`--base`, or a report analysed with one).
    Own,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            min_efficiency: None,
            max_hidden_bytes: None,
            max_hidden_ratio: None,
            max_avoidable_bytes: None,
            max_size: None,
            max_compressed_size: None,
            allow_secrets: false,
            growth: GrowthLimits::default(),
            paths: crate::policy::PathRules::default(),
            scope: Scope::Image,
            practices: Vec::new(),
            origin: Origin::Defaults,
        }
    }
}

/// A size in TOML: a number of bytes or a string such as `"10MB"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SizeValue {
    Bytes(u64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlCheck {
    min_efficiency: Option<f64>,
    max_hidden_bytes: Option<SizeValue>,
    max_hidden_ratio: Option<f64>,
    max_avoidable_bytes: Option<SizeValue>,
    max_size: Option<SizeValue>,
    max_compressed_size: Option<SizeValue>,
    #[serde(default)]
    allow_secrets: bool,
    growth: Option<TomlGrowth>,
    scope: Option<String>,
    #[serde(default)]
    forbid: Vec<String>,
    /// Glob → most visible content bytes under it.
    #[serde(default)]
    budgets: std::collections::BTreeMap<String, SizeValue>,
    max_layers: Option<usize>,
    max_layer_size: Option<SizeValue>,
    max_files: Option<usize>,
    /// Best-practice rule (`root-user`, …) → whether it gates.
    #[serde(default)]
    practices: std::collections::BTreeMap<String, bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlGrowth {
    max_content: Option<SizeValue>,
    max_compressed: Option<SizeValue>,
    max_waste: Option<SizeValue>,
}

/// The file: other tables belong to other commands and are ignored here.
#[derive(Debug, Deserialize)]
struct TomlFile {
    check: Option<TomlCheck>,
}

impl CheckConfig {
    /// Reads `explicit` if given, else the default file of the current directory.
    pub fn discover(explicit: Option<&Path>) -> Result<CheckConfig, ConfigError> {
        Self::discover_in(explicit, Path::new("."))
    }

    /// Like [`CheckConfig::discover`], looking for default files in `dir`.
    pub fn discover_in(explicit: Option<&Path>, dir: &Path) -> Result<CheckConfig, ConfigError> {
        if let Some(p) = explicit {
            return Self::load(p);
        }
        let toml = dir.join("layersift.toml");
        let dive = dir.join(".dive-ci");
        // A `layersift.toml` with no `[check]` table (it may hold other settings) has no
        // rules to offer: a `.dive-ci` beside it is used rather than silently hidden.
        if toml.is_file() && (!dive.is_file() || has_check_table(&toml)) {
            return Self::load(&toml);
        }
        if dive.is_file() {
            return Self::load(&dive);
        }
        Ok(CheckConfig::default())
    }

    /// Reads a config file: dive's format for `.dive-ci`, `*.yml` and `*.yaml`, else TOML.
    pub fn load(path: &Path) -> Result<CheckConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name == ".dive-ci" || name.ends_with(".yml") || name.ends_with(".yaml") {
            parse_dive_ci(&text, path)
        } else {
            parse_toml(&text, path)
        }
    }
}

/// True when a TOML file has a `[check]` table (or cannot be read as TOML: loading it then
/// reports the error).
fn has_check_table(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .is_none_or(|t| t.contains_key("check"))
}

/// Parses a `layersift.toml`.
pub fn parse_toml(text: &str, path: &Path) -> Result<CheckConfig, ConfigError> {
    let file: TomlFile = toml::from_str(text).map_err(|e| ConfigError::Toml {
        path: path.to_path_buf(),
        source: Box::new(e),
    })?;
    let mut c = CheckConfig {
        origin: Origin::Toml(path.to_path_buf()),
        ..CheckConfig::default()
    };
    let Some(t) = file.check else {
        return Ok(c);
    };
    let value_err = |key: &str, value: String, message: String| ConfigError::Value {
        path: path.to_path_buf(),
        key: key.to_string(),
        value,
        message,
    };
    let size = |key: &str, v: Option<SizeValue>| -> Result<Option<u64>, ConfigError> {
        match v {
            None => Ok(None),
            Some(SizeValue::Bytes(b)) => Ok(Some(b)),
            Some(SizeValue::Text(s)) => parse_size(&s)
                .map(Some)
                .map_err(|m| value_err(key, s.clone(), m)),
        }
    };
    let growth = |key: &str, v: Option<SizeValue>| -> Result<Option<Growth>, ConfigError> {
        match v {
            None => Ok(None),
            Some(SizeValue::Bytes(b)) => Ok(Some(Growth::Bytes(b))),
            Some(SizeValue::Text(s)) => Growth::parse(&s)
                .map(Some)
                .map_err(|m| value_err(key, s.clone(), m)),
        }
    };
    let ratio = |key: &str, v: Option<f64>| -> Result<Option<f64>, ConfigError> {
        match v {
            Some(r) if !(0.0..=1.0).contains(&r) => Err(value_err(
                key,
                r.to_string(),
                "expected a ratio between 0 and 1".to_string(),
            )),
            v => Ok(v),
        }
    };
    c.min_efficiency = ratio("min_efficiency", t.min_efficiency)?;
    c.max_hidden_ratio = ratio("max_hidden_ratio", t.max_hidden_ratio)?;
    c.max_hidden_bytes = size("max_hidden_bytes", t.max_hidden_bytes)?;
    c.max_avoidable_bytes = size("max_avoidable_bytes", t.max_avoidable_bytes)?;
    c.max_size = size("max_size", t.max_size)?;
    c.max_compressed_size = size("max_compressed_size", t.max_compressed_size)?;
    c.allow_secrets = t.allow_secrets;
    c.scope = match t.scope.as_deref() {
        None | Some("image") => Scope::Image,
        Some("own") => Scope::Own,
        Some(other) => {
            return Err(value_err(
                "scope",
                other.to_string(),
                "expected `image` (every layer) or `own` (the layers above the base)".to_string(),
            ))
        }
    };
    c.paths.forbid = crate::policy::GlobList::new(&t.forbid)
        .map_err(|(glob, m)| value_err("forbid", glob, m))?;
    for (glob, v) in t.budgets {
        let key = format!("budgets.\"{glob}\"");
        let max = size(&key, Some(v))?.unwrap_or(0);
        let g =
            crate::policy::PathGlob::new(&glob).map_err(|m| value_err(&key, glob.clone(), m))?;
        c.paths.budgets.push((g, max));
    }
    c.paths.max_layers = t.max_layers;
    c.paths.max_layer_size = size("max_layer_size", t.max_layer_size)?;
    c.paths.max_files = t.max_files;
    for (name, on) in t.practices {
        let rules = crate::analysis::practices::RULES;
        let Some(rule) = rules
            .iter()
            .find(|r| **r == name || r.strip_prefix("practice.") == Some(name.as_str()))
        else {
            return Err(value_err(
                &format!("practices.{name}"),
                on.to_string(),
                format!(
                    "no such best-practice rule; expected one of {}",
                    rules
                        .iter()
                        .map(|r| r.trim_start_matches("practice."))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        if on && !c.practices.contains(rule) {
            c.practices.push(rule);
        }
    }
    if let Some(g) = t.growth {
        c.growth.max_content = growth("growth.max_content", g.max_content)?;
        c.growth.max_compressed = growth("growth.max_compressed", g.max_compressed)?;
        c.growth.max_waste = growth("growth.max_waste", g.max_waste)?;
    }
    Ok(c)
}

/// Parses dive's `.dive-ci`, as dive reads it: a `rules:` map of `lowestEfficiency`,
/// `highestWastedBytes` and `highestUserWastedPercent`, each a value or `disabled`. Keys
/// left out take dive's defaults (0.9, disabled, 0.1).
pub fn parse_dive_ci(text: &str, path: &Path) -> Result<CheckConfig, ConfigError> {
    let mut c = CheckConfig {
        min_efficiency: Some(0.9),
        max_hidden_ratio: Some(0.1),
        origin: Origin::DiveCi(path.to_path_buf()),
        ..CheckConfig::default()
    };
    let err = |line: usize, message: String| ConfigError::Dive {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut in_rules = false;
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = strip_comment(raw);
        if line.trim().is_empty() || line.trim() == "---" {
            continue;
        }
        let indented = line.starts_with(' ') || line.starts_with('\t');
        let Some((key, value)) = line.trim().split_once(':') else {
            return Err(err(
                line_no,
                format!("expected `key: value`, found `{}`", line.trim()),
            ));
        };
        let key = key.trim();
        let value = unquote(value.trim());
        if !indented {
            if key == "rules" && value.is_empty() {
                in_rules = true;
                continue;
            }
            return Err(err(
                line_no,
                format!("unknown key `{key}`; dive's CI config has only `rules:`"),
            ));
        }
        if !in_rules {
            return Err(err(line_no, format!("`{key}` must be under `rules:`")));
        }
        let disabled = value.eq_ignore_ascii_case("disabled");
        let ratio = |v: &str| -> Result<f64, ConfigError> {
            match v.parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
                _ => Err(err(
                    line_no,
                    format!("`{key}: {v}`: expected a ratio between 0 and 1, or `disabled`"),
                )),
            }
        };
        match key {
            "lowestEfficiency" => {
                c.min_efficiency = if disabled { None } else { Some(ratio(value)?) }
            }
            "highestUserWastedPercent" => {
                c.max_hidden_ratio = if disabled { None } else { Some(ratio(value)?) }
            }
            "highestWastedBytes" => {
                c.max_hidden_bytes = if disabled {
                    None
                } else {
                    Some(parse_size(value).map_err(|m| err(line_no, m))?)
                }
            }
            other => {
                return Err(err(
                    line_no,
                    format!(
                        "unknown rule `{other}`; dive knows `lowestEfficiency`, \
                         `highestWastedBytes`, `highestUserWastedPercent`"
                    ),
                ))
            }
        }
    }
    Ok(c)
}

fn strip_comment(line: &str) -> &str {
    let mut prev_space = true;
    let mut quote = None;
    for (i, ch) in line.char_indices() {
        match (ch, quote) {
            ('"' | '\'', None) => quote = Some(ch),
            (c, Some(q)) if c == q => quote = None,
            ('#', None) if prev_space => return &line[..i],
            _ => {}
        }
        prev_space = ch.is_whitespace();
    }
    line
}

fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2048"), Ok(2048));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_size("10 mb"), Ok(10_000_000));
        assert_eq!(parse_size("10MiB"), Ok(10 * 1024 * 1024));
        assert_eq!(parse_size("1.5GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("512KiB"), Ok(524_288));
        assert_eq!(parse_size("20kB"), Ok(20_000));
        assert_eq!(parse_size("7B"), Ok(7));
        assert!(parse_size("MB").is_err());
        assert!(parse_size("10XB").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("1.2.3MB").is_err());
    }

    #[test]
    fn growth() {
        assert_eq!(Growth::parse("5%"), Ok(Growth::Percent(5.0)));
        assert_eq!(Growth::parse("2.5 %"), Ok(Growth::Percent(2.5)));
        assert_eq!(Growth::parse("10MB"), Ok(Growth::Bytes(10_000_000)));
        assert!(Growth::parse("-5%").is_err());
        assert!(Growth::parse("x%").is_err());
        assert_eq!(Growth::Percent(5.0).allowed(1000), 50.0);
        assert_eq!(Growth::Bytes(7).allowed(1000), 7.0);
    }

    #[test]
    fn toml_config() {
        let text = r#"
[other]
anything = 1

[check]
min_efficiency = 0.95
max_hidden_bytes = "20MB"
max_avoidable_bytes = 1000
max_size = "1.5GB"
max_compressed_size = "500MiB"
allow_secrets = true

[check.growth]
max_content = "10MB"
max_compressed = "5%"
max_waste = 0
"#;
        let c = parse_toml(text, Path::new("layersift.toml")).unwrap();
        assert_eq!(c.min_efficiency, Some(0.95));
        assert_eq!(c.max_hidden_bytes, Some(20_000_000));
        assert_eq!(c.max_avoidable_bytes, Some(1000));
        assert_eq!(c.max_size, Some(1_500_000_000));
        assert_eq!(c.max_compressed_size, Some(500 * 1024 * 1024));
        assert!(c.allow_secrets);
        assert_eq!(c.growth.max_content, Some(Growth::Bytes(10_000_000)));
        assert_eq!(c.growth.max_compressed, Some(Growth::Percent(5.0)));
        assert_eq!(c.growth.max_waste, Some(Growth::Bytes(0)));
    }

    #[test]
    fn toml_errors() {
        let p = Path::new("layersift.toml");
        assert!(matches!(
            parse_toml("[check]\nmin_eficiency = 0.9\n", p),
            Err(ConfigError::Toml { .. })
        ));
        assert!(matches!(
            parse_toml("[check]\nmax_size = \"lots\"\n", p),
            Err(ConfigError::Value { .. })
        ));
        assert!(matches!(
            parse_toml("[check]\nmin_efficiency = 95\n", p),
            Err(ConfigError::Value { .. })
        ));
        let empty = parse_toml("", p).unwrap();
        assert_eq!(empty.min_efficiency, None);
        assert!(!empty.allow_secrets);
    }

    #[test]
    fn dive_ci() {
        let text = "rules:\n  # If the efficiency is measured below X%, mark as failed.\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB   # comment\n  highestUserWastedPercent: \"disabled\"\n";
        let c = parse_dive_ci(text, Path::new(".dive-ci")).unwrap();
        assert_eq!(c.min_efficiency, Some(0.95));
        assert_eq!(c.max_hidden_bytes, Some(20_000_000));
        assert_eq!(c.max_hidden_ratio, None);
        assert!(!c.allow_secrets);

        let defaults = parse_dive_ci("rules:\n", Path::new(".dive-ci")).unwrap();
        assert_eq!(defaults.min_efficiency, Some(0.9));
        assert_eq!(defaults.max_hidden_bytes, None);
        assert_eq!(defaults.max_hidden_ratio, Some(0.1));
    }

    #[test]
    fn dive_ci_errors() {
        let p = Path::new(".dive-ci");
        let e = parse_dive_ci("rules:\n  lowestEficiency: 0.9\n", p).unwrap_err();
        assert!(matches!(e, ConfigError::Dive { line: 2, .. }), "{e}");
        assert!(parse_dive_ci("rules:\n  lowestEfficiency: 95\n", p).is_err());
        assert!(parse_dive_ci("lowestEfficiency: 0.9\n", p).is_err());
        assert!(parse_dive_ci("rules:\n  highestWastedBytes: lots\n", p).is_err());
    }
}
