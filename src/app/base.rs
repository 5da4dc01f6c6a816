//! Which bottom layers are the base's, for the commands: `--base` as given, else the base the
//! image's manifest annotations name (`org.opencontainers.image.base.digest` and
//! `base.name`), found where it can be read. Between the command line and [`crate::base`].

use std::io::Write as _;

use super::{base_diff_ids, resolve_base};
use crate::analysis::ImageInfo;
use crate::base::{match_prefix, Base};
use crate::cli::SourceArgs;
use crate::report::json::BaseSplit;
use crate::report::json::Report;
use crate::source::{ImageRef, Transport};

/// `--base none`: no base, and the manifest's base annotations are not followed.
pub(crate) const NO_BASE: &str = "none";

/// The base of an analysed image: `--base` when given (its errors are the user's), none for
/// `--base none`, else the annotated base when it can be read (a note on stderr when not).
pub(crate) fn choose(
    explicit: Option<&str>,
    info: &ImageInfo,
    ids: &[String],
    source: &SourceArgs,
) -> anyhow::Result<Option<Base>> {
    match explicit {
        Some(NO_BASE) => Ok(None),
        Some(b) => resolve_base(b, ids, source).map(Some),
        None => Ok(annotated(info, ids, source)),
    }
}

/// As [`choose`], for a report: one read from a file keeps the split it was saved with
/// unless `--base` says otherwise.
pub(crate) fn settle(
    report: &mut Report,
    explicit: Option<&str>,
    source: &SourceArgs,
) -> anyhow::Result<()> {
    if explicit.is_none() && report.base.is_some() {
        return Ok(());
    }
    let ids: Vec<String> = report.layers.iter().map(|l| l.diff_id.clone()).collect();
    report.base =
        choose(explicit, &report.image, &ids, source)?.map(|b| BaseSplit::new(&b, &report.layers));
    Ok(())
}

/// Where an annotated base may be read, most local first: the same OCI layout or archive
/// (it often holds the base too), then the registry the name points at, pinned to the
/// digest when the annotations give one.
fn candidates(info: &ImageInfo) -> Vec<String> {
    let mut out = Vec::new();
    let digest = info
        .base_digest
        .as_deref()
        .filter(|d| d.starts_with("sha256:"));
    if let (Some(d), Transport::Oci | Transport::OciArchive) = (digest, info.transport) {
        if let Ok(mut r) = ImageRef::parse(&info.reference) {
            r.inner = Some(d.to_string());
            out.push(r.to_string());
        }
    }
    if let Some(name) = info.base_name.as_deref().filter(|n| !n.is_empty()) {
        let name = name.strip_prefix("docker://").unwrap_or(name);
        out.push(match digest {
            Some(d) if !name.contains('@') => format!("docker://{}@{d}", without_tag(name)),
            _ => format!("docker://{name}"),
        });
    }
    out
}

/// `registry/repo:tag` → `registry/repo` (a `:` before the last `/` is a port).
fn without_tag(name: &str) -> &str {
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    match name[slash..].rfind(':') {
        Some(i) => &name[..slash + i],
        None => name,
    }
}

/// The base the annotations name, if one of [`candidates`] can be read and starts the image.
fn annotated(info: &ImageInfo, ids: &[String], source: &SourceArgs) -> Option<Base> {
    let tried = candidates(info);
    let shown = info
        .base_name
        .clone()
        .or_else(|| info.base_digest.clone())?;
    let mut last = String::new();
    for c in &tried {
        let found =
            base_diff_ids(c, source).and_then(|base_ids| Ok(match_prefix(c, &base_ids, ids)?));
        match found {
            Ok(n) => {
                return Some(Base {
                    reference: if info.base_name.is_some() {
                        shown
                    } else {
                        c.clone()
                    },
                    layer_count: n,
                })
            }
            Err(e) => last = format!("{e:#}"),
        }
    }
    let why = if tried.is_empty() {
        "it names no image that can be read".to_string()
    } else {
        last.lines().next().unwrap_or_default().to_string()
    };
    let _ = writeln!(
        std::io::stderr(),
        "note: the image's annotations name base `{}`, but it could not be used ({}); pass \
         `--base IMAGE|REPORT` for own-layer totals, or `--base none`",
        crate::sanitize::for_terminal(&shown),
        crate::sanitize::for_terminal(&why)
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_come_off_but_ports_stay() {
        assert_eq!(
            without_tag("docker.io/library/debian:12"),
            "docker.io/library/debian"
        );
        assert_eq!(without_tag("127.0.0.1:5000/base"), "127.0.0.1:5000/base");
        assert_eq!(without_tag("127.0.0.1:5000/base:v1"), "127.0.0.1:5000/base");
        assert_eq!(without_tag("alpine"), "alpine");
    }

    #[test]
    fn layout_first_then_the_registry_pinned_to_the_digest() {
        let dir = tempfile::tempdir().unwrap();
        let info = ImageInfo {
            reference: format!("oci:{}:app", dir.path().display()),
            transport: Transport::Oci,
            manifest_digest: None,
            config_digest: None,
            platform: crate::source::Platform::host(),
            base_name: Some("reg.example:5000/base:1".to_string()),
            base_digest: Some(format!("sha256:{}", "a".repeat(64))),
            healthcheck: None,
        };
        let c = candidates(&info);
        assert_eq!(
            c,
            [
                format!("oci:{}:sha256:{}", dir.path().display(), "a".repeat(64)),
                format!("docker://reg.example:5000/base@sha256:{}", "a".repeat(64)),
            ]
        );
        let none = ImageInfo {
            base_name: None,
            base_digest: None,
            ..info
        };
        assert!(candidates(&none).is_empty());
    }
}
