//! Size history across builds and releases. This module owns the history file (JSON Lines:
//! one [`Record`] per `analyze`/`check --history FILE` run, appended, never rewritten), reading
//! it back, and showing the series: a table with a bar chart for the terminal, and an SVG
//! line chart drawn with `plotters` (SVG backend only).

pub(crate) mod html;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::report::json::Report;
use crate::units::{delta, human_bytes, signed_bytes};

/// Why the history could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum TrendError {
    #[error("cannot append to history `{path}`")]
    Append {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read history `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("history `{path}` line {line} is not a layersift history record")]
    Parse {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot draw the chart to `{path}`: {message}")]
    Draw { path: PathBuf, message: String },
}

impl TrendError {
    pub fn hint(&self) -> Option<String> {
        match self {
            TrendError::Parse { .. } => Some(
                "history files are written by `layersift analyze --history FILE.jsonl`; \
                 each line is one JSON record"
                    .to_string(),
            ),
            _ => None,
        }
    }
}

/// One point of the history: an image's sizes at one time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// When the record was written, RFC 3339 UTC.
    pub time: String,
    pub reference: String,
    /// The manifest digest (or, without one, the config digest).
    #[serde(default)]
    pub digest: Option<String>,
    pub layer_count: usize,
    pub content_bytes: u64,
    pub compressed_bytes: u64,
    pub visible_bytes: u64,
    pub hidden_bytes: u64,
    pub avoidable_bytes: u64,
    /// hidden_bytes + avoidable_bytes.
    pub waste_bytes: u64,
    pub efficiency: f64,
    #[serde(default)]
    pub secret_count: usize,
}

impl Record {
    /// The record of a report, stamped with the current time.
    pub fn from_report(r: &Report) -> Record {
        Self::at(r, now_rfc3339())
    }

    /// The record of a report at a given time.
    pub fn at(r: &Report, time: String) -> Record {
        let s = &r.summary;
        Record {
            time,
            reference: r.image.reference.clone(),
            digest: r
                .image
                .manifest_digest
                .clone()
                .or_else(|| r.image.config_digest.clone()),
            layer_count: s.layer_count,
            content_bytes: s.content_bytes,
            compressed_bytes: s.compressed_bytes,
            visible_bytes: s.visible_bytes,
            hidden_bytes: s.hidden_bytes,
            avoidable_bytes: s.avoidable_bytes,
            waste_bytes: s.potential_savings_bytes,
            efficiency: s.efficiency,
            secret_count: s.secret_count,
        }
    }
}

/// Appends one record as one line (the file is created if missing).
pub(crate) fn append(path: &Path, record: &Record) -> Result<(), TrendError> {
    let err = |source| TrendError::Append {
        path: path.to_path_buf(),
        source,
    };
    let line = serde_json::to_string(record).map_err(|e| err(std::io::Error::other(e)))?;
    let mut line = crate::sanitize::redact(&line).into_owned();
    line.push('\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(err)?;
    f.write_all(line.as_bytes()).map_err(err)
}

/// Reads every record, in file order; blank lines and lines that are not records are
/// skipped (see `read_lenient` for which).
pub fn read(path: &Path) -> Result<Vec<Record>, TrendError> {
    read_lenient(path).map(|h| h.records)
}

/// A history file as read: the good records, and the lines that were not records.
#[derive(Debug)]
pub struct History {
    pub records: Vec<Record>,
    /// (1-based line number, why) of each line that was skipped.
    pub skipped: Vec<(usize, serde_json::Error)>,
}

impl History {
    /// `warning: skipped 2 lines …` for stderr, when lines were skipped.
    pub(crate) fn warning(&self, path: &Path) -> Option<String> {
        let (first, _) = self.skipped.first()?;
        let lines: Vec<String> = self
            .skipped
            .iter()
            .take(5)
            .map(|(l, _)| l.to_string())
            .collect();
        Some(format!(
            "warning: skipped {} of `{}` that {} not a layersift history record (line {}{}; first: line {first})",
            crate::units::plural(self.skipped.len(), "line", "lines"),
            path.display(),
            if self.skipped.len() == 1 { "is" } else { "are" },
            lines.join(", "),
            if self.skipped.len() > 5 { ", …" } else { "" },
        ))
    }
}

/// Reads a history file, skipping (and counting) lines that are not records, so one bad
/// line (a truncated write, a merge conflict) does not lose the whole series. A file
/// where no line is a record is an error in [`read`].
pub(crate) fn read_lenient(path: &Path) -> Result<History, TrendError> {
    let text = std::fs::read_to_string(path).map_err(|source| TrendError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_history(&text, path)
}

/// Parses a history file's text as `read_lenient` does; `path` is for messages.
pub fn parse_history(text: &str, path: &Path) -> Result<History, TrendError> {
    let mut h = History {
        records: Vec::new(),
        skipped: Vec::new(),
    };
    for (i, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(l) {
            Ok(r) => h.records.push(r),
            Err(e) => h.skipped.push((i + 1, e)),
        }
    }
    if h.records.is_empty() {
        if let Some((line, _)) = h.skipped.first() {
            let line = *line;
            let source = h.skipped.swap_remove(0).1;
            return Err(TrendError::Parse {
                path: path.to_path_buf(),
                line,
                source,
            });
        }
    }
    Ok(h)
}

/// The image a record's series belongs to: the reference without its tag or digest for
/// registry and local-store images (`docker://reg/app:1.2` → `docker://reg/app`), the
/// reference itself for files and layouts (their path stays the same from build to build).
pub(crate) fn series_key(reference: &str) -> String {
    let strip = |name: &str| -> String {
        let name = name.split('@').next().unwrap_or(name);
        match name.rfind(':') {
            Some(i) if !name[i..].contains('/') => name[..i].to_string(),
            _ => name.to_string(),
        }
    };
    for prefix in ["docker://", "podman:", "docker-daemon:"] {
        if let Some(rest) = reference.strip_prefix(prefix) {
            return format!("{prefix}{}", strip(rest));
        }
    }
    if reference.starts_with("oci:")
        || reference.starts_with("oci-archive:")
        || reference.starts_with("docker-archive:")
        || reference.starts_with('/')
        || reference.starts_with('.')
    {
        return reference.to_string();
    }
    strip(reference)
}

/// Records grouped by [`series_key`], each group in file order, groups in order of their
/// first record.
pub(crate) fn series(records: &[Record]) -> Vec<(String, Vec<Record>)> {
    let mut out: Vec<(String, Vec<Record>)> = Vec::new();
    for r in records {
        let key = series_key(&r.reference);
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(r.clone()),
            None => out.push((key, vec![r.clone()])),
        }
    }
    out
}

/// One table per image (see [`series`]), each headed by the image's name when the file
/// holds more than one.
pub(crate) fn render_tables(records: &[Record]) -> String {
    let groups = series(records);
    if groups.len() <= 1 {
        return render_table(records);
    }
    let mut out = String::new();
    for (n, (key, recs)) in groups.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        out.push_str(&format!(
            "== {} ({})\n",
            crate::sanitize::for_terminal(key),
            crate::units::plural(recs.len(), "record", "records")
        ));
        out.push_str(&render_table(recs));
    }
    out
}

/// Width of the terminal bar chart, in cells.
const BAR_WIDTH: usize = 30;

/// A bar of `value / max` of [`BAR_WIDTH`] cells, in eighths.
fn bar(value: u64, max: u64) -> String {
    if max == 0 {
        return String::new();
    }
    const PARTS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let eighths = (value as f64 / max as f64 * (BAR_WIDTH * 8) as f64).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    if eighths % 8 > 0 {
        s.push(PARTS[eighths % 8]);
    }
    s
}

/// The series as a table, one row per record, with a bar of content size.
pub fn render_table(records: &[Record]) -> String {
    use crate::sanitize::for_terminal;
    let max = records.iter().map(|r| r.content_bytes).max().unwrap_or(0);
    // The file is anyone's to write: references and times are shown escaped.
    let references: Vec<_> = records.iter().map(|r| for_terminal(&r.reference)).collect();
    let refw = references
        .iter()
        .map(|r| r.chars().count())
        .chain(["reference".len()])
        .max()
        .unwrap_or(0)
        .min(40);
    let mut out = format!(
        "{:>3}  {:<20}  {:<refw$}  {:>9}  {:>9}  {:>10}  {:>9}  {:>6}  content\n",
        "#", "time", "reference", "content", "change", "compressed", "waste", "eff."
    );
    let mut prev: Option<u64> = None;
    for (i, r) in records.iter().enumerate() {
        let change = match prev {
            None => String::new(),
            Some(p) => signed_bytes(delta(p, r.content_bytes)),
        };
        let reference: String = if references[i].chars().count() > refw {
            let tail: String = references[i]
                .chars()
                .rev()
                .take(refw.saturating_sub(1))
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("…{tail}")
        } else {
            references[i].to_string()
        };
        out.push_str(&format!(
            "{:>3}  {:<20}  {:<refw$}  {:>9}  {:>9}  {:>10}  {:>9}  {:>6}  {}\n",
            i + 1,
            for_terminal(&r.time),
            reference,
            human_bytes(r.content_bytes),
            change,
            human_bytes(r.compressed_bytes),
            human_bytes(r.waste_bytes),
            format!("{:.1}%", r.efficiency * 100.0),
            bar(r.content_bytes, max)
        ));
        prev = Some(r.content_bytes);
    }
    if let (Some(first), Some(last)) = (records.first(), records.last()) {
        if records.len() > 1 {
            out.push_str(&format!(
                "\n{}: content {} → {} ({}), compressed {} → {} ({})\n",
                crate::units::plural(records.len(), "record", "records"),
                human_bytes(first.content_bytes),
                human_bytes(last.content_bytes),
                signed_bytes(delta(first.content_bytes, last.content_bytes)),
                human_bytes(first.compressed_bytes),
                human_bytes(last.compressed_bytes),
                signed_bytes(delta(first.compressed_bytes, last.compressed_bytes)),
            ));
        }
    }
    out
}

/// The series names in the SVG legend, in drawing order.
pub const SERIES: [&str; 3] = ["content", "compressed", "waste"];

/// Draws content, compressed and waste sizes (MB) per record as an SVG line chart.
pub(crate) fn render_svg(records: &[Record], path: &Path) -> Result<(), TrendError> {
    use plotters::prelude::*;

    let err = |e: &dyn std::fmt::Display| TrendError::Draw {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mb = |b: u64| b as f64 / 1e6;
    let series: [(&str, Vec<f64>, RGBColor); 3] = [
        (
            SERIES[0],
            records.iter().map(|r| mb(r.content_bytes)).collect(),
            RGBColor(0x1f, 0x77, 0xb4),
        ),
        (
            SERIES[1],
            records.iter().map(|r| mb(r.compressed_bytes)).collect(),
            RGBColor(0x2c, 0xa0, 0x2c),
        ),
        (
            SERIES[2],
            records.iter().map(|r| mb(r.waste_bytes)).collect(),
            RGBColor(0xd6, 0x27, 0x28),
        ),
    ];
    let ymax = series
        .iter()
        .flat_map(|s| s.1.iter().copied())
        .fold(0.0_f64, f64::max)
        .max(0.001)
        * 1.1;
    let n = records.len().max(1);
    let title = match records.last() {
        Some(r) => format!("layersift size history: {}", r.reference),
        None => "layersift size history".to_string(),
    };

    let root = SVGBackend::new(path, (900, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(1usize..n.max(2), 0.0..ymax)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("record")
        .y_desc("MB")
        .max_light_lines(1)
        .x_labels(n.clamp(2, 20))
        .x_label_formatter(&|x| format!("{x}"))
        .draw()
        .map_err(|e| err(&e))?;
    for (name, values, color) in series {
        let points: Vec<(usize, f64)> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (i + 1, *v))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, color.filled())),
            )
            .map_err(|e| err(&e))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

/// The current time as RFC 3339 UTC (`2026-11-23T07:47:50Z`).
pub(crate) fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339_utc(secs)
}

/// Seconds since the Unix epoch as RFC 3339 UTC.
pub(crate) fn rfc3339_utc(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (proleptic Gregorian, eras of 400 years).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(4_107_542_399), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn bars() {
        assert_eq!(bar(0, 10), "");
        assert_eq!(bar(10, 10).chars().count(), BAR_WIDTH);
        assert_eq!(bar(5, 10), "█".repeat(15));
        assert_eq!(bar(1, 240), "▏");
    }
}
