//! File diffs: one file between two images, or between the filesystems after two layers of
//! one image, or a file against the version it replaced. Text gets a unified diff (from the
//! `similar` crate); binary or very large files get a size and sha256 summary.
//!
//! The diff is for people: lines pass through the secret rules (secrets redacted) and
//! control characters are escaped before they reach a terminal.

use std::fmt::Write as _;

use sha2::{Digest as _, Sha256};

use crate::source::Image;
use crate::Analysis;

use super::lookup::{locate_file, Located, Scope};
use super::{read_limited, stream, ContentError};

/// Files above this size are summarised, not diffed line by line.
pub(crate) const MAX_DIFF_BYTES: u64 = 16 << 20;

/// One side of a file diff: a label and the file (or `None` when the side lacks it).
pub(crate) struct Side<'a> {
    pub image: &'a Image,
    pub analysis: &'a Analysis,
    pub scope: Scope,
    /// Shown in the `---`/`+++` header, e.g. `a/etc/os-release` or `layer 1`.
    pub label: String,
}

/// What one side holds at a path.
enum Version {
    Absent,
    Text(Vec<u8>),
    /// Binary or too large to diff: size and sha256.
    Summary {
        size: u64,
        sha256: String,
        binary: bool,
    },
}

fn load(side: &Side<'_>, path: &str) -> Result<Version, ContentError> {
    let found = match locate_file(side.analysis, side.scope, path.as_bytes()) {
        Ok(f) => f,
        Err(ContentError::NotFound { .. } | ContentError::Deleted { .. }) => {
            return Ok(Version::Absent)
        }
        Err(e) => return Err(e),
    };
    load_located(side.image, side.analysis, &found)
}

fn load_located(image: &Image, a: &Analysis, found: &Located) -> Result<Version, ContentError> {
    match read_limited(image, a, found, MAX_DIFF_BYTES)? {
        Some(bytes) if !is_binary(&bytes) => Ok(Version::Text(bytes)),
        Some(bytes) => Ok(Version::Summary {
            size: bytes.len() as u64,
            sha256: hex_sha256(&bytes),
            binary: true,
        }),
        None => {
            let mut sha = Sha256::new();
            let size = stream::with_entry(image, found, |r| {
                let mut buf = vec![0u8; 256 << 10];
                let mut n = 0u64;
                loop {
                    let k = r.read(&mut buf)?;
                    if k == 0 {
                        return Ok(n);
                    }
                    sha.update(&buf[..k]);
                    n += k as u64;
                }
            })?;
            Ok(Version::Summary {
                size,
                sha256: crate::digest::hex(&sha.finalize()),
                binary: false,
            })
        }
    }
}

/// Binary: a NUL in the first 8 KiB, or not UTF-8.
pub(crate) fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(8192)].contains(&0) || std::str::from_utf8(bytes).is_err()
}

fn hex_sha256(bytes: &[u8]) -> String {
    crate::digest::hex(&Sha256::digest(bytes))
}

/// The diff of `path` between two sides; empty when they hold the same bytes. Errors when
/// neither side has the file.
pub(crate) fn diff_file(
    old: &Side<'_>,
    new: &Side<'_>,
    path: &str,
) -> Result<String, ContentError> {
    let (a, b) = (load(old, path)?, load(new, path)?);
    if matches!((&a, &b), (Version::Absent, Version::Absent)) {
        // Let the new side say why (near matches, deleted, …).
        locate_file(new.analysis, new.scope, path.as_bytes())?;
    }
    let shown_path = path.trim_start_matches('/');
    Ok(render(
        &a,
        &b,
        &format!("{} {shown_path}", old.label),
        &format!("{} {shown_path}", new.label),
    ))
}

/// The diff of a file against the version it replaced: the entry `(layer, entry)` against
/// the same path in the filesystem after the layer below.
pub(crate) fn diff_replaced(
    image: &Image,
    a: &Analysis,
    layer: usize,
    entry: usize,
) -> Result<String, ContentError> {
    let path = super::shown(a.indexes[layer].path(entry));
    let new = load_located(image, a, &Located::of(a, layer, entry)?)?;
    let old = if layer == 0 {
        Version::Absent
    } else {
        load(
            &Side {
                image,
                analysis: a,
                scope: Scope::UpTo(layer - 1),
                label: String::new(),
            },
            &path,
        )?
    };
    Ok(render(
        &old,
        &new,
        &format!("layer {} {path}", layer.saturating_sub(1)),
        &format!("layer {layer} {path}"),
    ))
}

fn render(a: &Version, b: &Version, old_label: &str, new_label: &str) -> String {
    let text = |v: &Version| match v {
        Version::Absent => Some(String::new()),
        Version::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        Version::Summary { .. } => None,
    };
    let (old_label, new_label) = (escape(old_label), escape(new_label));
    match (text(a), text(b)) {
        (Some(x), Some(y)) => {
            if x == y && !matches!((a, b), (Version::Absent, _) | (_, Version::Absent)) {
                return String::new();
            }
            let old_h = if matches!(a, Version::Absent) {
                "/dev/null".to_string()
            } else {
                old_label
            };
            let new_h = if matches!(b, Version::Absent) {
                "/dev/null".to_string()
            } else {
                new_label
            };
            let (x, y) = (super::redact_for_display(&x), super::redact_for_display(&y));
            let diff = similar::TextDiff::from_lines(&x, &y);
            let mut out = String::new();
            let _ = write!(
                out,
                "{}",
                diff.unified_diff().context_radius(3).header(&old_h, &new_h)
            );
            escape_lines(&out)
        }
        _ => {
            let describe = |v: &Version| match v {
                Version::Absent => "absent".to_string(),
                Version::Text(t) => format!("{} bytes, sha256 {}", t.len(), hex_sha256(t)),
                Version::Summary { size, sha256, .. } => format!("{size} bytes, sha256 {sha256}"),
            };
            let same = match (a, b) {
                (Version::Summary { sha256: x, .. }, Version::Summary { sha256: y, .. }) => x == y,
                _ => false,
            };
            if same {
                return String::new();
            }
            let what = if [a, b]
                .iter()
                .any(|v| matches!(v, Version::Summary { binary: true, .. }))
            {
                "Binary files"
            } else {
                "Files (too large to diff)"
            };
            format!(
                "{what} {old_label} and {new_label} differ\n  old: {}\n  new: {}\n",
                describe(a),
                describe(b)
            )
        }
    }
}

/// A label or path from the image, for the terminal (one line; see [`crate::sanitize`]).
pub(crate) fn escape(s: &str) -> String {
    crate::sanitize::for_terminal(s).into_owned()
}

/// The diff's text: newlines and tabs kept, every other control character and bidi
/// override escaped, so a file cannot drive the terminal that shows its diff.
fn escape_lines(s: &str) -> String {
    crate::sanitize::for_terminal_text(s).into_owned()
}
