//! Which bottom layers are the base's, for the commands: `--base` as given, else the base the
//! image's manifest annotations name (`org.opencontainers.image.base.digest` and
//! `base.name`), found where it can be read. Between the command line and [`crate::base`].

use std::io::Write as _;

use super::{base_diff_ids, base_diff_ids_with, resolve_base};
use crate::analysis::ImageInfo;
use crate::base::{match_prefix, Base};
use crate::cli::SourceArgs;
use crate::report::json::BaseSplit;
use crate::report::json::Report;
use crate::source::{ImageRef, OpenOptions, Transport};

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

/// Splits both sides of a diff at `base`. NEW must start with it (else the error names the
/// first layer that differs); OLD may have been built on an older base, and then keeps the
/// base of its saved report, if any, with a note saying so.
pub(crate) fn split_both(
    base: &str,
    old: &mut Report,
    new: &mut Report,
    source: &SourceArgs,
) -> anyhow::Result<()> {
    let ids = base_diff_ids(base, source)?;
    let n = match_prefix(base, &ids, &report_ids(new))?;
    let split = |count| Base {
        reference: base.to_string(),
        layer_count: count,
    };
    new.base = Some(BaseSplit::new(&split(n), &new.layers));
    match match_prefix(base, &ids, &report_ids(old)) {
        Ok(n) => old.base = Some(BaseSplit::new(&split(n), &old.layers)),
        Err(e) => {
            let kept = match &old.base {
                Some(b) => format!(
                    "its report's base `{}` is used",
                    crate::sanitize::for_terminal(&b.reference)
                ),
                None => "the diff shows no own and base totals".to_string(),
            };
            let _ = writeln!(
                std::io::stderr(),
                "note: the old image does not start with the base ({}); {kept}",
                crate::sanitize::for_terminal(&e.to_string())
            );
        }
    }
    Ok(())
}

/// A report's layer diff_ids, bottom first.
fn report_ids(r: &Report) -> Vec<String> {
    r.layers.iter().map(|l| l.diff_id.clone()).collect()
}

/// Where an annotated base may be read, most local first: the same OCI layout or archive
/// (it often holds the base too), then the registry the name points at, pinned to the
/// digest when the annotations give one.
fn candidates(info: &ImageInfo) -> Vec<String> {
    candidates_of(
        &info.reference,
        info.transport,
        info.base_name.as_deref(),
        info.base_digest.as_deref(),
    )
}

fn candidates_of(
    reference: &str,
    transport: Transport,
    base_name: Option<&str>,
    base_digest: Option<&str>,
) -> Vec<String> {
    let mut out = Vec::new();
    let digest = base_digest.filter(|d| d.starts_with("sha256:"));
    if let (Some(d), Transport::Oci | Transport::OciArchive) = (digest, transport) {
        if let Ok(mut r) = ImageRef::parse(reference) {
            r.inner = Some(d.to_string());
            out.push(r.to_string());
        }
    }
    if let Some(name) = base_name.filter(|n| !n.is_empty()) {
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
    annotated_from(
        candidates(info),
        info.base_name.as_deref(),
        info.base_digest.as_deref(),
        ids,
        source,
    )
}

/// For `explore`, before the analysis: the annotated base of an OCI layout image (its
/// manifest is a local read). Registry images are left out: a slow or hanging registry
/// would hold the screen back before the loading view (where Ctrl+C works) even opens;
/// docker archives carry no manifest annotations, and podman/docker stores would need a
/// full save first.
pub(crate) fn annotated_for_explore(
    image: &str,
    source: &SourceArgs,
) -> Option<(String, Vec<String>)> {
    let r = ImageRef::parse(image).ok()?;
    if r.transport != Transport::Oci {
        return None;
    }
    let img = crate::source::open(&r, &source.open_options()).ok()?;
    let name = img
        .annotations
        .get(crate::source::BASE_NAME_ANNOTATION)
        .map(String::as_str);
    let digest = img
        .annotations
        .get(crate::source::BASE_DIGEST_ANNOTATION)
        .map(String::as_str);
    let tried = candidates_of(&img.reference, img.transport, name, digest);
    let ids: Vec<String> = img
        .layers
        .iter()
        .map(|l| l.diff_id.clone().unwrap_or_default())
        .collect();
    let b = annotated_from(tried, name, digest, &ids, source)?;
    Some((b.reference, ids[..b.layer_count.min(ids.len())].to_vec()))
}

/// Tries each place `tried` names; a note on stderr when none gives a base that starts the
/// image (`ids`).
fn annotated_from(
    tried: Vec<String>,
    base_name: Option<&str>,
    base_digest: Option<&str>,
    ids: &[String],
    source: &SourceArgs,
) -> Option<Base> {
    let shown = base_name.or(base_digest)?.to_string();
    // The lookup is optional: a registry that refuses or fails is not waited for (the
    // retries' backoff cost seconds on every run of an offline machine).
    let opts = OpenOptions {
        registry_retries: Some(0),
        ..source.open_options()
    };
    let mut last = String::new();
    for c in &tried {
        let found =
            base_diff_ids_with(c, &opts).and_then(|base_ids| Ok(match_prefix(c, &base_ids, ids)?));
        match found {
            Ok(n) => {
                return Some(Base {
                    reference: if base_name.is_some() {
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
            runtime: None,
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
