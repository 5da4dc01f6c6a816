//! Findings and suggestions: the model of "what is wasted, who shipped it, how to fix it".
//! Every finding names the layer that shipped the bytes; every suggestion names the layer
//! and instruction to rewrite and the findings it resolves.

use serde::{Deserialize, Serialize};

/// What kind of waste (or risk) a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Hidden: a later layer rewrote the path with byte-identical content.
    OverwrittenSame,
    /// Hidden: a later layer rewrote the path with different content.
    OverwrittenChanged,
    /// Hidden: a later layer deleted it (whiteout or opaque directory).
    Removed,
    /// Visible package-manager caches and indexes (apt lists, pip cache, …).
    PackageCache,
    /// Visible temporary and log files.
    TempLog,
    /// Visible byte-identical copies (all but one copy).
    Duplicate,
    /// Lower severity: docs, man pages, locales.
    Docs,
    /// Lower severity: compilers, headers, static libraries in a runtime image.
    Toolchain,
    /// A secret, in any layer (hidden or not), in ENV, or in the history.
    Secret,
    /// A container best practice the image config or files break (root user, no health
    /// check, setuid files, …); kept in `Analysis::practices`, apart from waste.
    Practice,
}

impl Category {
    pub fn is_hidden(self) -> bool {
        matches!(
            self,
            Category::OverwrittenSame | Category::OverwrittenChanged | Category::Removed
        )
    }

    /// Visible bytes the image does not need to run (counted in "avoidable").
    pub fn is_avoidable(self) -> bool {
        matches!(
            self,
            Category::PackageCache | Category::TempLog | Category::Duplicate
        )
    }

    /// Visible bytes that are optional (lower severity, reported apart from avoidable).
    pub fn is_optional(self) -> bool {
        matches!(self, Category::Docs | Category::Toolchain)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

/// One problem: bytes (or a secret) shipped by one layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub category: Category,
    pub severity: Severity,
    /// Stable rule id, e.g. `hidden.removed`, `cache.apt-lists`, `secret.private-key`.
    pub rule: String,
    /// One line for people.
    pub title: String,
    /// The layer that shipped the bytes (0-based). For secrets in the history, the last
    /// layer built before that instruction; for secrets in `ENV` (see `in_config`), the same,
    /// though no layer holds them.
    pub layer: usize,
    /// True for a secret in the image config (`ENV`): no layer shipped it, the config did.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_config: bool,
    /// That layer's build step in Dockerfile form (secrets redacted).
    pub instruction: String,
    /// The later layer that hid them, for hidden categories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden_by: Option<usize>,
    /// Content bytes involved (0 for secrets found outside files).
    pub bytes: u64,
    /// `bytes` estimated in compressed bytes from the layer's own compression ratio (its
    /// gzip sample's for a layer stored uncompressed); `null` when there is none.
    pub compressed_bytes: Option<u64>,
    /// Number of paths involved.
    pub path_count: usize,
    /// Evidence paths (the largest first, at most a few dozen).
    pub paths: Vec<String>,
    /// For secrets: where it was found and a redacted match; never the secret itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// With `--dockerfile`: the line that made the layer (`Dockerfile:12`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Severity {
    /// The lowercase name, as the JSON report spells it: `high`, `medium`, `low`, `info`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    /// Severity of wasted bytes by their amount: ≥ 10 MB high, ≥ 1 MB medium, else low.
    pub fn for_bytes(bytes: u64) -> Severity {
        if bytes >= 10_000_000 {
            Severity::High
        } else if bytes >= 1_000_000 {
            Severity::Medium
        } else {
            Severity::Low
        }
    }
}

/// Files of one layer that make up a finding: (size, display path), any order.
pub(crate) struct FileSet {
    pub files: Vec<(u64, String)>,
}

impl FileSet {
    pub(crate) fn new() -> Self {
        FileSet { files: Vec::new() }
    }

    pub(crate) fn push(&mut self, size: u64, path: String) {
        self.files.push((size, path));
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.0).sum()
    }

    /// The evidence: largest first, then by path, at most `max`.
    pub(crate) fn evidence(mut self, max: usize) -> (usize, Vec<String>) {
        self.files
            .sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let n = self.files.len();
        (n, self.files.into_iter().take(max).map(|f| f.1).collect())
    }
}

/// A concrete Dockerfile change that resolves one or more findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// Stable id, e.g. `merge-apt-steps`.
    pub rule: String,
    pub title: String,
    /// The layer whose instruction to rewrite (0-based).
    pub layer: usize,
    /// Every layer the rewrite replaces or changes, ascending (includes `layer`).
    pub layers: Vec<usize>,
    /// That layer's instruction, in Dockerfile form.
    pub instruction: String,
    /// What to write instead.
    pub snippet: String,
    /// Content bytes saved: the bytes of the findings it resolves, each counted once.
    pub saves_bytes: u64,
    /// The same, estimated in compressed bytes (`null` when a layer it touches is stored
    /// uncompressed and no gzip sample of it could be taken).
    pub saves_compressed_bytes: Option<u64>,
    /// Indexes into the analysis' findings that this suggestion resolves.
    pub findings: Vec<usize>,
    /// Evidence paths.
    pub evidence: Vec<String>,
    /// With `--dockerfile`: the line to change (`Dockerfile:12`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Finding {
    /// The `--dockerfile` citation split into file name and line (`Dockerfile:5` →
    /// `("Dockerfile", 5)`), for formats that place a result at a file and line.
    pub fn source_line(&self) -> Option<(&str, u64)> {
        let (file, line) = self.source.as_deref()?.rsplit_once(':')?;
        Some((file, line.parse().ok()?))
    }

    /// Where the finding was shipped, for people: `layer 3`, or `image config`.
    pub fn place(&self) -> String {
        if self.in_config {
            "image config".to_string()
        } else {
            format!("layer {}", self.layer)
        }
    }

    /// A finding about `bytes` content bytes shipped by layer `layer`, with that layer's
    /// instruction and compressed estimate filled in; evidence and details start empty.
    pub fn shipped_by(
        category: Category,
        severity: Severity,
        rule: String,
        title: String,
        layers: &[super::LayerInfo],
        layer: usize,
        bytes: u64,
    ) -> Finding {
        let info = layers.get(layer);
        Finding {
            category,
            severity,
            rule,
            title,
            layer,
            in_config: false,
            instruction: info.map(|l| l.step.instruction.clone()).unwrap_or_default(),
            hidden_by: None,
            bytes,
            compressed_bytes: info.map_or(Some(0), |l| l.compressed_estimate(bytes)),
            path_count: 0,
            paths: Vec::new(),
            detail: None,
            source: None,
        }
    }
}
