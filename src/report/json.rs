//! The JSON report's wire types. They are separate from the analysis model so the model can
//! change freely; a change of a field's meaning here bumps [`SCHEMA_VERSION`]. Documented
//! field by field in `docs/json-report.md`. They deserialize too: `layersift diff` reads
//! saved reports back.

use serde::{Deserialize, Serialize};

use crate::analysis::{Analysis, Category, ImageInfo, Severity};

/// Version of the report's shape and meaning.
pub const SCHEMA_VERSION: u32 = 3;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub image: ImageInfo,
    pub summary: Summary,
    pub layers: Vec<Layer>,
    pub findings: Vec<crate::analysis::Finding>,
    pub suggestions: Vec<crate::analysis::Suggestion>,
    /// Best-practice findings (category `practice`: root user, no health check, shell-form
    /// `CMD`, `ADD` where `COPY` does, `.pyc` without `PYTHONDONTWRITEBYTECODE`, setuid and
    /// world-writable files), each with its fix in `detail`. Not counted in any waste total.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub practices: Vec<crate::analysis::Finding>,
    /// Every regular file visible in the final filesystem, sorted by path, as compact
    /// `[path, size, layer, content id]` rows. `layersift diff` reads them back for per-file
    /// and per-directory deltas. Sizes add up to `summary.visible_bytes`.
    #[serde(default)]
    pub files: Vec<FileRow>,
    /// Every non-directory entry shipped in a layer but hidden in the final filesystem, as
    /// `[path, size, layer, hiding layer]` rows, sorted by layer then path; `check` matches
    /// `forbid` globs against them. `None` in reports written before the field existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden_files: Option<Vec<HiddenRow>>,
    /// With a base (`--base`): which bottom layers are the base's, and the totals of the
    /// base's layers and of the image's own layers side by side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<BaseSplit>,
    /// Installed packages (dpkg, apk, rpm, pip, npm, go), largest first, with the bytes of
    /// the visible files each owns. Reports older than schema 2 have none.
    #[serde(default)]
    pub packages: Vec<crate::analysis::packages::Package>,
    /// What the package managers own and do not own, and what could not be read.
    #[serde(default)]
    pub package_summary: PackageSummary,
}

/// Package ownership over the whole image.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PackageSummary {
    pub package_count: usize,
    /// Visible bytes some package owns (the sum of `packages[].bytes`).
    pub owned_bytes: u64,
    /// Visible bytes no package owns: `owned_bytes + unowned_bytes = summary.visible_bytes`.
    pub unowned_bytes: u64,
    pub unowned_files: usize,
    /// Unowned bytes per top-level directory, largest first.
    pub unowned_by_dir: Vec<crate::analysis::packages::DirBytes>,
    /// Package databases with entries that could not be read (skipped, counted).
    pub skipped: Vec<crate::analysis::packages::Skipped>,
    /// Databases found but not read (rpm's Berkeley DB form), and similar notes.
    pub notes: Vec<String>,
}

/// One visible regular file: `[path, content bytes, 0-based layer that put it there,
/// content id]`. The content id is 16 hex digits of the file's content hash: equal ids mean
/// equal content (it identifies, it does not authenticate).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileRow(pub String, pub u64, pub usize, pub String);

/// One hidden entry: `[path, content bytes, layer that shipped it, layer that hid it]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HiddenRow(pub String, pub u64, pub usize, pub usize);

/// The hidden non-directory entries of an analysis, by layer then path.
pub fn hidden_files(a: &Analysis) -> Vec<HiddenRow> {
    hidden_refs(a)
        .into_iter()
        .map(|r| hidden_row(a, r))
        .collect()
}

/// The hidden non-directory entries of an analysis as (layer, entry) positions, by layer
/// then path: 8 bytes an entry, where a [`HiddenRow`] takes about 100.
fn hidden_refs(a: &Analysis) -> Vec<(u32, u32)> {
    use crate::index::{display_path, EntryKind};
    let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let mut refs = Vec::new();
    for (li, idx) in a.indexes.iter().enumerate() {
        let start = refs.len();
        for (i, e) in idx.entries.iter().enumerate() {
            if e.kind == EntryKind::Dir || e.kind.is_marker() {
                continue;
            }
            if a.merged.fate(li, i).hidden_by().is_some() {
                refs.push((at(li), at(i)));
            }
        }
        let path = |&(_, i): &(u32, u32)| display_path(idx.path(i as usize));
        refs[start..].sort_unstable_by(|x, y| path(x).cmp(&path(y)).then(x.cmp(y)));
    }
    refs
}

/// The row of a hidden entry.
fn hidden_row(a: &Analysis, (li, i): (u32, u32)) -> HiddenRow {
    use crate::index::{display_path, EntryKind};
    let (li, i) = (li as usize, i as usize);
    let (idx, e) = (&a.indexes[li], &a.indexes[li].entries[i]);
    HiddenRow(
        format!("/{}", display_path(idx.path(i))),
        if e.kind == EntryKind::File { e.size } else { 0 },
        li,
        a.merged.fate(li, i).hidden_by().unwrap_or_default() as usize,
    )
}

impl FileRow {
    /// Absolute path (`/usr/bin/curl`).
    pub fn path(&self) -> &str {
        &self.0
    }

    pub fn size(&self) -> u64 {
        self.1
    }

    pub fn layer(&self) -> usize {
        self.2
    }

    pub fn content_id(&self) -> &str {
        &self.3
    }
}

/// A visible regular file, by position: (layer, entry of its content, entry of the name
/// it is visible under). 12 bytes a file, where a [`FileRow`] takes about 150.
type FileRef = (u32, u32, u32);

/// The visible regular files of an analysis, sorted by path, as positions. Content that
/// stays visible only through a hard link of the same layer is listed under that link's
/// name.
fn visible_file_refs(a: &Analysis) -> Vec<FileRef> {
    use crate::index::{display_path, EntryKind};
    let visible = |li: usize, i: usize, e: &crate::index::Entry| {
        e.kind == EntryKind::File && a.merged.content_fate(li, i).is_visible()
    };
    // Counted first, so the list is allocated once at its size.
    let count = (a.indexes.iter().enumerate())
        .map(|(li, idx)| {
            (idx.entries.iter().enumerate())
                .filter(|&(i, e)| visible(li, i, e))
                .count()
        })
        .sum();
    let mut refs: Vec<FileRef> = Vec::with_capacity(count);
    for (li, idx) in a.indexes.iter().enumerate() {
        let mut links: Option<std::collections::HashMap<&[u8], Vec<usize>>> = None;
        for (i, e) in idx.entries.iter().enumerate() {
            if !visible(li, i, e) {
                continue;
            }
            let name = if a.merged.fate(li, i).is_visible() {
                i
            } else {
                // Visible only through a hard link: find that link's name.
                let links = links.get_or_insert_with(|| {
                    let mut m: std::collections::HashMap<&[u8], Vec<usize>> =
                        std::collections::HashMap::new();
                    for (j, l) in idx.entries.iter().enumerate() {
                        if l.kind == EntryKind::Hardlink {
                            m.entry(idx.link(j)).or_default().push(j);
                        }
                    }
                    m
                });
                links
                    .get(idx.path(i))
                    .and_then(|js| js.iter().find(|&&j| a.merged.fate(li, j).is_visible()))
                    .map_or(i, |&j| j)
            };
            let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
            refs.push((at(li), at(i), at(name)));
        }
    }
    let path = |r: &FileRef| display_path(a.indexes[r.0 as usize].path(r.2 as usize));
    // Unstable (no scratch copy), with ties in the order they were found.
    refs.sort_unstable_by(|x, y| path(x).cmp(&path(y)).then(x.cmp(y)));
    refs
}

/// The row of a visible file.
fn file_row(a: &Analysis, (li, i, name): FileRef) -> FileRow {
    let idx = &a.indexes[li as usize];
    let e = &idx.entries[i as usize];
    FileRow(
        format!("/{}", crate::index::display_path(idx.path(name as usize))),
        e.size,
        li as usize,
        format!("{:016x}", (e.hash() >> 64) as u64),
    )
}

/// The visible regular files of an analysis, sorted by path. Content that stays visible only
/// through a hard link of the same layer is listed under that link's name.
pub fn visible_files(a: &Analysis) -> Vec<FileRow> {
    visible_file_refs(a)
        .into_iter()
        .map(|r| file_row(a, r))
        .collect()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

/// Byte accounting over the whole image. `visible_bytes + hidden_bytes == content_bytes`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub layer_count: usize,
    pub entry_count: usize,
    /// Regular-file content bytes over all layers (hard links counted once).
    pub content_bytes: u64,
    /// Content bytes visible in the final filesystem.
    pub visible_bytes: u64,
    /// Content bytes shipped but not visible: the three kinds below, added.
    pub hidden_bytes: u64,
    pub overwritten_same_bytes: u64,
    pub overwritten_changed_bytes: u64,
    pub removed_bytes: u64,
    /// visible_bytes / content_bytes; 1.0 when nothing is hidden.
    pub efficiency: f64,
    /// Sum of layer blob sizes (what a registry stores and a pull downloads).
    pub compressed_bytes: u64,
    /// Sum of uncompressed layer tar sizes.
    pub uncompressed_bytes: u64,
    /// hidden_bytes estimated in compressed bytes, from each layer's own ratio (a layer
    /// stored uncompressed: its gzip sample's). `null` when a layer has no estimate: stored
    /// uncompressed in a registry, where a sample would mean downloading it again.
    pub hidden_compressed_bytes: Option<u64>,
    /// Visible bytes not needed at run time: package caches, temp/log files, duplicates.
    pub avoidable_bytes: u64,
    /// avoidable_bytes estimated in compressed bytes, from each layer's own ratio (`null`
    /// as above).
    pub avoidable_compressed_bytes: Option<u64>,
    /// Visible bytes that are optional at lower severity (docs, toolchains); not in savings.
    pub optional_bytes: u64,
    /// hidden_bytes + avoidable_bytes.
    pub potential_savings_bytes: u64,
    /// hidden_compressed_bytes + avoidable_compressed_bytes (`null` when either is).
    pub potential_savings_compressed_bytes: Option<u64>,
    /// 1 − hidden_compressed_bytes / compressed_bytes (`null` when that estimate is).
    pub compressed_efficiency: Option<f64>,
    /// Number of secret findings (in any layer, hidden or not, ENV, history).
    pub secret_count: usize,
    /// Number of findings by severity.
    pub severity_counts: SeverityCounts,
    /// One row per category that has findings, in category order.
    pub categories: Vec<CategoryTotal>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SeverityCounts {
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CategoryTotal {
    pub category: Category,
    pub finding_count: usize,
    pub bytes: u64,
    /// `null` when a finding's layer has no compressed estimate.
    pub compressed_bytes: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Layer {
    /// 0-based position in the manifest (bottom layer first).
    pub index: usize,
    pub digest: String,
    pub diff_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub compression: crate::decode::Compression,
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    pub entry_count: usize,
    /// The build step in Dockerfile form (`RUN apt-get update`).
    pub instruction: String,
    /// The history's `created_by`, verbatim.
    pub created_by: String,
    pub content_bytes: u64,
    pub visible_bytes: u64,
    pub overwritten_same_bytes: u64,
    pub overwritten_changed_bytes: u64,
    pub removed_bytes: u64,
    /// Visible bytes of this layer that findings call avoidable (caches, temp, duplicates).
    pub avoidable_bytes: u64,
    /// Findings attributed to this layer.
    pub finding_count: usize,
    /// With `--dockerfile`: the line that made the layer, or the `FROM` line of a base layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// With `--dockerfile`: why no line of the Dockerfile accounts for this layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmapped: Option<String>,
    /// How this layer changed the installed packages.
    #[serde(default)]
    pub packages: crate::analysis::packages::LayerChanges,
}

impl Report {
    pub fn from_analysis(a: &Analysis) -> Report {
        let mut r = Report::from_analysis_without_files(a);
        r.files = visible_files(a);
        r
    }

    /// The report with an empty `files` list (see [`write`], which streams them); what
    /// needs only the totals (a trend record) takes this one.
    pub(crate) fn from_analysis_without_files(a: &Analysis) -> Report {
        let mut r = Report::without_rows(a);
        r.hidden_files = Some(hidden_files(a));
        r
    }

    /// The report with empty `files` and `hidden_files` lists, which [`write`] streams.
    fn without_rows(a: &Analysis) -> Report {
        let mut r = Report::without_base(a);
        r.base = a.base.as_ref().map(|b| BaseSplit::new(b, &r.layers));
        r
    }

    fn without_base(a: &Analysis) -> Report {
        let t = &a.totals;
        Report {
            base: None,
            hidden_files: Some(Vec::new()),
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: env!("CARGO_PKG_NAME").to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
            image: a.image.clone(),
            summary: Summary {
                layer_count: a.layers.len(),
                entry_count: a.layers.iter().map(|l| l.entries).sum(),
                content_bytes: t.content,
                visible_bytes: t.visible,
                hidden_bytes: t.hidden(),
                overwritten_same_bytes: t.overwritten_same,
                overwritten_changed_bytes: t.overwritten_changed,
                removed_bytes: t.removed,
                efficiency: a.efficiency(),
                compressed_bytes: a.compressed_size(),
                uncompressed_bytes: a.layers.iter().map(|l| l.uncompressed_size).sum(),
                hidden_compressed_bytes: a.hidden_compressed(),
                avoidable_bytes: a.avoidable_bytes(),
                avoidable_compressed_bytes: a.avoidable_compressed(),
                optional_bytes: a.optional_bytes(),
                potential_savings_bytes: a.potential_savings(),
                potential_savings_compressed_bytes: a.potential_savings_compressed(),
                compressed_efficiency: a.compressed_efficiency(),
                secret_count: a.secrets().count(),
                severity_counts: severity_counts(a),
                categories: categories(a),
            },
            findings: a.findings.clone(),
            suggestions: a.suggestions.clone(),
            practices: a.practices.clone(),
            files: Vec::new(),
            packages: a.packages.packages.clone(),
            package_summary: PackageSummary {
                package_count: a.packages.packages.len(),
                owned_bytes: a.packages.owned_bytes,
                unowned_bytes: a.packages.unowned_bytes,
                unowned_files: a.packages.unowned_files,
                unowned_by_dir: a.packages.unowned_by_dir.clone(),
                skipped: a.packages.skipped.clone(),
                notes: a.packages.notes.clone(),
            },
            layers: a
                .layers
                .iter()
                .enumerate()
                .map(|(index, l)| Layer {
                    index,
                    digest: l.digest.clone(),
                    diff_id: l.diff_id.clone(),
                    media_type: l.media_type.clone(),
                    compression: l.compression,
                    compressed_bytes: l.compressed_size,
                    uncompressed_bytes: l.uncompressed_size,
                    entry_count: l.entries,
                    instruction: l.step.instruction.clone(),
                    created_by: l.step.created_by.clone(),
                    content_bytes: l.bytes.content,
                    visible_bytes: l.bytes.visible,
                    overwritten_same_bytes: l.bytes.overwritten_same,
                    overwritten_changed_bytes: l.bytes.overwritten_changed,
                    removed_bytes: l.bytes.removed,
                    avoidable_bytes: l.avoidable,
                    finding_count: l.finding_count,
                    source: l.step.source.clone(),
                    unmapped: a
                        .dockerfile
                        .as_ref()
                        .and_then(|c| c.mapping.unmapped_reason(index))
                        .map(str::to_string),
                    packages: a
                        .packages
                        .layer_changes
                        .get(index)
                        .cloned()
                        .unwrap_or_default(),
                })
                .collect(),
        }
    }
}

fn severity_counts(a: &Analysis) -> SeverityCounts {
    let mut c = SeverityCounts::default();
    for f in &a.findings {
        match f.severity {
            Severity::High => c.high += 1,
            Severity::Medium => c.medium += 1,
            Severity::Low => c.low += 1,
            Severity::Info => c.info += 1,
        }
    }
    c
}

fn categories(a: &Analysis) -> Vec<CategoryTotal> {
    a.categories
        .iter()
        .map(|c| CategoryTotal {
            category: c.category,
            finding_count: c.finding_count,
            bytes: c.bytes,
            compressed_bytes: c.compressed_bytes,
        })
        .collect()
}

/// The report of an analysis as pretty-printed JSON with a trailing newline.
pub fn render(a: &Analysis) -> Result<String, serde_json::Error> {
    let mut out = Vec::new();
    write(a, &mut out)?;
    // serde_json writes UTF-8 only.
    Ok(String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// Writes the JSON report of `a` (the same bytes as [`render`]) without building it in
/// memory: everything but the `files` and `hidden_files` rows is serialized first (it is
/// small), then each row is written as it is made, from lists of 12- and 8-byte positions
/// sorted by path.
pub fn write(a: &Analysis, w: &mut impl std::io::Write) -> Result<(), serde_json::Error> {
    let text = to_json(&Report::without_rows(a))?;
    let io = serde_json::Error::io;
    // The empty lists of the top-level object (the only fields at this indentation with
    // these names); the rows go between their brackets. Should they not be found in this
    // order, the report is built whole instead.
    const FILES: &str = "\n  \"files\": []";
    const HIDDEN: &str = "\n  \"hidden_files\": []";
    let (Some(files), Some(hidden)) = (text.find(FILES), text.find(HIDDEN)) else {
        return w
            .write_all(to_json(&Report::from_analysis(a))?.as_bytes())
            .map_err(io);
    };
    if hidden < files + FILES.len() {
        return w
            .write_all(to_json(&Report::from_analysis(a))?.as_bytes())
            .map_err(io);
    }
    w.write_all(&text.as_bytes()[..files]).map_err(io)?;
    let refs = visible_file_refs(a);
    write_rows(w, "files", refs.into_iter().map(|r| file_row(a, r)))?;
    w.write_all(&text.as_bytes()[files + FILES.len()..hidden])
        .map_err(io)?;
    let refs = hidden_refs(a);
    write_rows(
        w,
        "hidden_files",
        refs.into_iter().map(|r| hidden_row(a, r)),
    )?;
    w.write_all(&text.as_bytes()[hidden + HIDDEN.len()..])
        .map_err(io)
}

/// Writes `"name": [rows]` of the top-level object as [`to_json`] lays it out, one row a
/// line, each escaped as every string of the report is.
fn write_rows<T: Serialize>(
    w: &mut impl std::io::Write,
    name: &str,
    rows: impl Iterator<Item = T>,
) -> Result<(), serde_json::Error> {
    let io = serde_json::Error::io;
    write!(w, "\n  \"{name}\": [").map_err(io)?;
    let mut empty = true;
    for row in rows {
        w.write_all(if empty { b"\n    " } else { b",\n    " })
            .map_err(io)?;
        empty = false;
        // The formatter as it is inside the array.
        let mut inside = RowsFormatter::default();
        inside.stack.push(true);
        row.serialize(&mut serde_json::Serializer::with_formatter(&mut *w, inside))?;
    }
    w.write_all(if empty { b"]" } else { b"\n  ]" }).map_err(io)
}

/// Pretty JSON with a trailing newline, except that an array inside an array (the `files`
/// rows) is written on one line, so a report with thousands of files stays small. Every
/// string passes through `sanitize::json_string` on its way out (secret rules, and
/// `\uXXXX` for what would act on a terminal), so a secret in a file name, a label or a
/// reference never reaches a JSON output.
pub fn to_json<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, RowsFormatter::default());
    value.serialize(&mut ser)?;
    out.push(b'\n');
    // serde_json writes UTF-8 only (so this takes the bytes as they are, with no copy).
    Ok(String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// serde_json's pretty layout (two-space indent), with nested arrays kept on one line.
#[derive(Default)]
struct RowsFormatter {
    indent: usize,
    /// One entry per open pretty container: true for an array.
    stack: Vec<bool>,
    /// Depth inside a one-line array (0 when not in one).
    compact: usize,
    has_value: bool,
    /// The string being written, unescaped, held until its end to be redacted whole.
    string: Option<String>,
}

impl RowsFormatter {
    fn newline<W: ?Sized + std::io::Write>(&self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..self.indent {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    fn open<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        array: bool,
        c: &[u8],
    ) -> std::io::Result<()> {
        if self.compact > 0 || (array && self.stack.last() == Some(&true)) {
            self.compact += 1;
        } else {
            self.stack.push(array);
            self.indent += 1;
            self.has_value = false;
        }
        w.write_all(c)
    }

    fn close<W: ?Sized + std::io::Write>(&mut self, w: &mut W, c: &[u8]) -> std::io::Result<()> {
        if self.compact > 0 {
            self.compact -= 1;
        } else {
            self.stack.pop();
            self.indent -= 1;
            if self.has_value {
                self.newline(w)?;
            }
        }
        self.has_value = true;
        w.write_all(c)
    }

    fn item<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        if self.compact > 0 {
            return w.write_all(if first { b"" } else { b"," });
        }
        w.write_all(if first { b"" } else { b"," })?;
        self.newline(w)
    }
}

impl serde_json::ser::Formatter for RowsFormatter {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, true, b"[")
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, false, b"{")
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(if self.compact > 0 { b":" } else { b": " })
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_string<W: ?Sized + std::io::Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.string = Some(String::new());
        Ok(())
    }
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        _w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        if let Some(s) = &mut self.string {
            s.push_str(fragment);
        }
        Ok(())
    }
    fn write_char_escape<W: ?Sized + std::io::Write>(
        &mut self,
        _w: &mut W,
        escape: serde_json::ser::CharEscape,
    ) -> std::io::Result<()> {
        use serde_json::ser::CharEscape as E;
        let c = match escape {
            E::Quote => '"',
            E::ReverseSolidus => '\\',
            E::Solidus => '/',
            E::Backspace => '\u{8}',
            E::FormFeed => '\u{c}',
            E::LineFeed => '\n',
            E::CarriageReturn => '\r',
            E::Tab => '\t',
            E::AsciiControl(b) => char::from(b),
        };
        if let Some(s) = &mut self.string {
            s.push(c);
        }
        Ok(())
    }
    fn end_string<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        let s = self.string.take().unwrap_or_default();
        w.write_all(crate::sanitize::json_string(&s).as_bytes())
    }
}

/// Byte totals of a run of layers (the base's, or the user's own).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScopeTotals {
    pub layer_count: usize,
    /// Regular-file content bytes the layers ship.
    pub content_bytes: u64,
    /// Of those, visible in the final filesystem.
    pub visible_bytes: u64,
    /// Of those, hidden by a later layer (overwritten or removed).
    pub hidden_bytes: u64,
    /// Visible bytes these layers ship that findings call avoidable.
    pub avoidable_bytes: u64,
    /// Sum of the layers' blob sizes.
    pub compressed_bytes: u64,
    /// visible_bytes / content_bytes; 1.0 when the layers ship no content.
    pub efficiency: f64,
}

impl ScopeTotals {
    /// Totals of `layers` (report rows).
    pub fn of(layers: &[Layer]) -> ScopeTotals {
        Self::sum(
            layers.len(),
            layers.iter().map(|l| {
                [
                    l.content_bytes,
                    l.visible_bytes,
                    l.overwritten_same_bytes + l.overwritten_changed_bytes + l.removed_bytes,
                    l.avoidable_bytes,
                    l.compressed_bytes,
                ]
            }),
        )
    }

    /// Totals of layers `range` of an analysis.
    pub fn of_analysis(a: &crate::Analysis, range: std::ops::Range<usize>) -> ScopeTotals {
        Self::sum(
            range.len(),
            a.layers
                .iter()
                .skip(range.start)
                .take(range.len())
                .map(|l| {
                    [
                        l.bytes.content,
                        l.bytes.visible,
                        l.bytes.hidden(),
                        l.avoidable,
                        l.compressed_size,
                    ]
                }),
        )
    }

    /// The totals of `layer_count` layers from each one's `[content, visible, hidden,
    /// avoidable, compressed]` bytes.
    fn sum(layer_count: usize, layers: impl Iterator<Item = [u64; 5]>) -> ScopeTotals {
        let mut t = ScopeTotals {
            layer_count,
            ..ScopeTotals::default()
        };
        for [content, visible, hidden, avoidable, compressed] in layers {
            t.content_bytes += content;
            t.visible_bytes += visible;
            t.hidden_bytes += hidden;
            t.avoidable_bytes += avoidable;
            t.compressed_bytes += compressed;
        }
        t.efficiency = if t.content_bytes == 0 {
            1.0
        } else {
            t.visible_bytes as f64 / t.content_bytes as f64
        };
        t
    }
}

/// The report's view of a base: what it is and the totals of both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseSplit {
    /// The base as given (`--base`).
    pub reference: String,
    /// Layers `0..layer_count` are the base's; the rest are the image's own.
    pub layer_count: usize,
    pub base: ScopeTotals,
    pub own: ScopeTotals,
}

impl BaseSplit {
    pub fn new(base: &crate::base::Base, layers: &[Layer]) -> BaseSplit {
        let n = base.layer_count.min(layers.len());
        BaseSplit {
            reference: base.reference.clone(),
            layer_count: n,
            base: ScopeTotals::of(&layers[..n]),
            own: ScopeTotals::of(&layers[n..]),
        }
    }
}

impl BaseSplit {
    /// The split of an analysis whose base is known.
    pub fn of_analysis(a: &crate::Analysis) -> Option<BaseSplit> {
        let b = a.base.as_ref()?;
        let n = b.layer_count.min(a.layers.len());
        Some(BaseSplit {
            reference: b.reference.clone(),
            layer_count: n,
            base: ScopeTotals::of_analysis(a, 0..n),
            own: ScopeTotals::of_analysis(a, n..a.layers.len()),
        })
    }

    /// `layers 2-4`, `layer 2`, `no layers` for the own side; `first` is where it starts.
    pub fn layer_range(first: usize, count: usize) -> String {
        match count {
            0 => "no layers".to_string(),
            1 => format!("layer {first}"),
            n => format!("layers {first}-{}", first + n - 1),
        }
    }

    /// Two lines for people: the base's and the own layers' totals.
    pub fn lines(&self) -> [String; 2] {
        use crate::units::human_bytes;
        let side = |t: &ScopeTotals| {
            format!(
                "{} content, {} compressed, {} hidden, {} avoidable",
                human_bytes(t.content_bytes),
                human_bytes(t.compressed_bytes),
                human_bytes(t.hidden_bytes),
                human_bytes(t.avoidable_bytes)
            )
        };
        [
            format!(
                "{} ({}): {}",
                Self::layer_range(0, self.base.layer_count),
                self.reference,
                side(&self.base)
            ),
            format!(
                "{}: {}",
                Self::layer_range(self.layer_count, self.own.layer_count),
                side(&self.own)
            ),
        ]
    }
}

#[cfg(test)]
mod rows_tests {
    use super::*;

    #[test]
    fn pretty_with_one_line_rows() {
        let v = serde_json::json!({"a": [1, 2], "files": [["/x", 1, 0], ["/y", 2, 1]], "e": [], "o": {}});
        let s = to_json(&v).unwrap();
        assert_eq!(
            s,
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"e\": [],\n  \"files\": [\n    [\"/x\",1,0],\n    [\"/y\",2,1]\n  ],\n  \"o\": {}\n}\n"
        );
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;
    use layersift_fixture::{Format, ImageBuilder};

    /// Writes `img` as an OCI layout named `name` under `dir` and analyses it.
    fn analyzed(
        img: &layersift_fixture::BuiltImage,
        dir: &std::path::Path,
        name: &str,
    ) -> crate::Analysis {
        let path = dir.join(name);
        img.write(Format::OciLayout, &path).unwrap();
        crate::analyze_reference(
            &format!("oci:{}", path.display()),
            &Default::default(),
            &crate::decode::NoProgress,
        )
        .unwrap()
    }

    /// The streamed report is the built one, byte for byte: rows in path order, a file seen
    /// only through its hard link listed under the link, names that are not UTF-8 escaped.
    #[test]
    fn streamed_report_is_the_built_one() {
        let dir = tempfile::tempdir().unwrap();
        let img = ImageBuilder::new()
            .layer("ADD / /", |l| {
                l.file("b/z", vec![1u8; 10])
                    .file("a/long-kept", vec![2u8; 20])
                    .hardlink("a/link", "a/long-kept")
                    .file(b"c/caf\xe9", vec![3u8; 3])
                    .file("a/\"quoted\"", vec![4u8; 4])
            })
            .layer("RUN rm /a/long-kept", |l| l.whiteout("a/long-kept"))
            .build()
            .unwrap();
        let a = analyzed(&img, dir.path(), "layout");
        let built = to_json(&Report::from_analysis(&a)).unwrap();
        assert_eq!(render(&a).unwrap(), built);
        assert!(built.contains("\"/a/link\""), "{built}");
        assert!(built.contains("caf\\\\xe9"), "{built}");
        // The fields around `files` (hidden rows after it, a base split) stay in place.
        assert!(
            built.contains("\n  \"hidden_files\": [\n    [\"/a/long-kept\""),
            "{built}"
        );
        let mut a = a;
        a.base = Some(crate::base::Base {
            reference: "base.json".to_string(),
            layer_count: 1,
        });
        let built = to_json(&Report::from_analysis(&a)).unwrap();
        assert!(built.contains("\n  \"base\": {"), "{built}");
        assert_eq!(render(&a).unwrap(), built);

        let empty = ImageBuilder::new()
            .layer("RUN mkdir /d", |l| l.dir("d"))
            .build()
            .unwrap();
        let a = analyzed(&empty, dir.path(), "empty");
        let built = to_json(&Report::from_analysis(&a)).unwrap();
        assert!(built.contains("\n  \"files\": [],\n"), "{built}");
        assert_eq!(render(&a).unwrap(), built);

        // Several hidden rows of one layer (overwritten, removed, under a removed
        // directory, a name that is not UTF-8) come out in path order; an image with files
        // and nothing hidden has an empty list.
        let many = ImageBuilder::new()
            .layer("ADD / /", |l| {
                l.file("z", vec![1u8; 5])
                    .file(b"m/\xff", vec![2u8; 6])
                    .file("m/a", vec![3u8; 7])
                    .file("a", vec![4u8; 8])
            })
            .layer("RUN cleanup", |l| {
                l.whiteout("z").whiteout("m").file("a", vec![5u8; 9])
            })
            .build()
            .unwrap();
        let kept = ImageBuilder::new()
            .layer("ADD / /", |l| l.file("only", vec![1u8; 5]))
            .build()
            .unwrap();
        for (name, img, hidden) in [("many", many, true), ("kept", kept, false)] {
            let a = analyzed(&img, dir.path(), name);
            let built = to_json(&Report::from_analysis(&a)).unwrap();
            assert_eq!(render(&a).unwrap(), built, "{name}");
            let rows = Report::from_analysis(&a).hidden_files.unwrap();
            if hidden {
                let paths: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
                assert_eq!(paths, ["/a", "/m/\\xff", "/m/a", "/z"], "{built}");
            } else {
                assert!(rows.is_empty());
                assert!(built.contains("\n  \"hidden_files\": [],\n"), "{built}");
            }
        }
    }
}
