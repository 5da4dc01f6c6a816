//! Why an image could not be resolved: [`SourceError`], one precise variant per cause with
//! what it needs to say so (paths, digests, sizes, the names on offer), and the hint a user
//! can act on for each (`SourceError::hint`).

use std::path::{Path, PathBuf};

use super::{container, DaemonError, RegistryError, Transport};

/// Why an image could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("`{0}` is not an image reference")]
    BadReference(String),
    #[error("`{}` does not exist", .0.display())]
    NotFound(PathBuf),
    #[error("`{}` is neither an OCI layout, an OCI archive nor a docker archive{}", .0.display(), describe_content(.0))]
    UnknownFormat(PathBuf),
    #[error("`{}` is corrupt or truncated: the tar archive ends before its end-of-archive marker", .0.display())]
    Truncated(PathBuf),
    #[error("`{}` is a {kind}-compressed archive, which cannot be read in place", path.display())]
    Compressed { path: PathBuf, kind: &'static str },
    #[error("`{}` is corrupt or truncated: its {kind} stream or the tar inside breaks off", path.display())]
    CompressedCorrupt {
        path: PathBuf,
        kind: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("layer `{member}` was read in the one pass over a compressed archive and cannot be opened again{}", why.as_deref().map(|w| format!(": {w}")).unwrap_or_default())]
    Streamed { member: String, why: Option<String> },
    #[error("`{}` is {}, not {}", path.display(), actual.what(), given.what())]
    WrongTransport {
        path: PathBuf,
        given: Transport,
        actual: Transport,
    },
    #[error("unknown transport `{given}:`; did you mean `{suggestion}`?")]
    UnknownTransport { given: String, suggestion: String },
    #[error("the image is for `{actual}` only, not `{wanted}` (it is not a multi-platform index)")]
    PlatformMismatch { wanted: String, actual: String },
    #[error("cannot read `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{name}` is missing from the image")]
    Missing { name: String },
    #[error("the {what} is {size} bytes, more than the {limit} bytes allowed")]
    TooLarge {
        what: &'static str,
        size: u64,
        limit: u64,
    },
    #[error("the {what} is not valid JSON of the expected form")]
    Malformed {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("the {what} does not match its digest: expected `{expected}`, got `{actual}`")]
    DocDigestMismatch {
        what: &'static str,
        expected: String,
        actual: String,
    },
    #[error("`{0}` is not a sha256 digest")]
    BadDigest(String),
    #[error("unsupported media type `{0}`")]
    UnsupportedMediaType(String),
    #[error(
        "the manifest lists {layers} layer{} but the config's `rootfs.diff_ids` lists {diff_ids}",
        if *.layers == 1 { "" } else { "s" }
    )]
    LayerCountMismatch { layers: usize, diff_ids: usize },
    #[error("no image named `{wanted}`; the image holds: {}", list_or_none(.available))]
    RefNotFound {
        wanted: String,
        available: Vec<String>,
    },
    #[error("the image holds several images; choose one: {}", .0.join(", "))]
    AmbiguousRef(Vec<String>),
    #[error("no image for platform `{wanted}`; available: {}", list_or_none(.available))]
    PlatformNotFound {
        wanted: String,
        available: Vec<String>,
    },
    #[error("invalid platform `{0}` (expected os/arch[/variant], e.g. linux/arm64/v8)")]
    BadPlatform(String),
    #[error("the image has no layers")]
    NoLayers,
    #[error("the image has no layer {} (it has {layers})", .index + 1)]
    NoSuchLayer { index: usize, layers: usize },
    #[error("the `{0}` transport is not available in this build")]
    UnsupportedTransport(&'static str),
    #[error(transparent)]
    Registry(Box<RegistryError>),
    #[error(transparent)]
    Daemon(Box<DaemonError>),
    #[error("refusing blob path `{name}` outside the image directory")]
    UnsafeMemberPath { name: String },
    #[error("`{name}` links outside the {}", if *.archive { "archive" } else { "image directory" })]
    LinkOutside { name: String, archive: bool },
    #[error(
        "`{name}` is a chain of more than {} links (or a loop)",
        container::MAX_LINK_DEPTH
    )]
    LinkTooDeep { name: String },
    #[error("`manifest.json` lists no images")]
    EmptyManifestList,
    #[error("the image index lists no images")]
    EmptyIndex,
    #[error("image indexes nest too deeply")]
    IndexTooDeep { depth: u8 },
    #[error("cannot reach registry `{registry}`")]
    RegistryUnreachable { registry: String },
    #[error("a registry layer has no digest")]
    LayerWithoutDigest { locator: String },
}

/// `: it is …, starting with `…`` for a file that is no image, so the user sees what was
/// read, escaped and cut short.
fn describe_content(path: &Path) -> String {
    use std::io::Read as _;
    if path.is_dir() {
        return ": the directory has neither `index.json` nor `manifest.json`".to_string();
    }
    let mut head = [0u8; 512];
    let Ok(n) = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)) else {
        return String::new();
    };
    let head = &head[..n];
    let kind = match head {
        [] => return ": it is empty".to_string(),
        [0x1f, 0x8b, ..] => "gzip-compressed data",
        [0x28, 0xb5, 0x2f, 0xfd, ..] => "zstd-compressed data",
        [b'B', b'Z', b'h', ..] => "bzip2-compressed data",
        [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => "xz-compressed data",
        _ if head.len() > 262 && &head[257..262] == b"ustar" => "a tar archive with no image in it",
        _ if head.starts_with(b"Image       ") => "a layersift text report",
        _ if std::str::from_utf8(head).is_ok() => "text",
        _ => "binary data",
    };
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or(head);
    format!(
        ": it holds {kind}, starting `{}`",
        crate::excerpt::bytes(first_line, 24)
    )
}

/// What to do about a path that does not exist: the nearest name beside it when it looks
/// mistyped, else the first directory along it that is missing too.
fn not_found_hint(path: &Path) -> String {
    let parent = match path.parent() {
        Some(p) if p.as_os_str().is_empty() => Path::new("."),
        Some(p) => p,
        None => return "check the path".to_string(),
    };
    if !parent.is_dir() {
        let mut missing = parent;
        while let Some(up) = missing.parent() {
            if up.as_os_str().is_empty() || up.is_dir() {
                break;
            }
            missing = up;
        }
        return format!(
            "`{}` does not exist either; check the path",
            missing.display()
        );
    }
    let wanted = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let siblings: Vec<String> = std::fs::read_dir(parent)
        .map(|d| {
            // A typo's neighbours, not a huge directory's every name.
            d.filter_map(Result::ok)
                .take(10_000)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    match wanted
        .as_deref()
        .and_then(|w| crate::typo::nearest(w, siblings.iter().map(String::as_str)))
    {
        Some(near) => format!("did you mean `{}`?", parent.join(near).display()),
        None => format!(
            "`{}` holds no file of that name; check the path",
            parent.display()
        ),
    }
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "(none)".to_string()
    } else {
        v.join(", ")
    }
}

/// The hint for bytes that do not hash to the digest that names them.
pub(crate) const TAMPERED: &str =
    "the image is corrupt or was tampered with; fetch it again from a trusted source";

impl SourceError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SourceError::Io {
            path: path.into(),
            source,
        }
    }

    /// A next step for the user, where one is obvious.
    pub fn hint(&self) -> Option<String> {
        match self {
            SourceError::RefNotFound { wanted, available } if !available.is_empty() => {
                match crate::typo::nearest(wanted, available.iter().map(String::as_str)) {
                    Some(near) => Some(format!("did you mean `{near}`?")),
                    None => Some(format!(
                        "replace `:{wanted}` with the name of one of the images listed above"
                    )),
                }
            }
            SourceError::AmbiguousRef(available) if !available.is_empty() => {
                Some(format!("append `:{}` to the reference", available[0]))
            }
            SourceError::WrongTransport { path, actual, .. } => Some(format!(
                "use `{}:{}`, or give the path alone: its kind is recognised",
                actual.prefix(),
                path.display()
            )),
            SourceError::UnknownTransport { given, .. } => Some(format!(
                "for a registry image named `{given}`, write `docker://{given}:…`"
            )),
            SourceError::PlatformMismatch { actual, .. } => {
                Some(format!("drop `--platform`, or pass `--platform {actual}`"))
            }
            SourceError::Truncated(_) | SourceError::CompressedCorrupt { .. } => {
                Some("write or download the archive again; it was cut short".to_string())
            }
            SourceError::Compressed { kind, .. } => Some(format!(
                "analyse it as it is (layersift reads {kind} archives in one pass), or decompress it first"
            )),
            SourceError::PlatformNotFound { available, .. } if !available.is_empty() => {
                Some(format!("pass `--platform {}`", available[0]))
            }
            SourceError::Registry(e) => e.hint(),
            SourceError::Daemon(e) => e.hint(),
            SourceError::UnsafeMemberPath { .. } => Some(
                "the image names a file outside itself; it may be crafted to escape, so it is not read"
                    .to_string(),
            ),
            SourceError::UnsupportedMediaType(_) => Some(
                "layersift reads container images (OCI or Docker schema 2 manifests, tar, \
                 gzip or zstd layers); this is another kind of artifact or an encrypted image"
                    .to_string(),
            ),
            SourceError::LinkOutside { .. } | SourceError::LinkTooDeep { .. } => Some(
                "an archive member links where no member is; the archive may be crafted, so it \
                 is not read"
                    .to_string(),
            ),
            SourceError::EmptyManifestList | SourceError::EmptyIndex => Some(
                "the image was saved without any image in it; save or copy it again".to_string(),
            ),
            SourceError::DocDigestMismatch { .. } => Some(TAMPERED.to_string()),
            SourceError::TooLarge { what, .. } => Some(format!(
                "image tools keep the {what} far below that limit; this one is damaged or \
                 crafted to exhaust memory, so it is not read: get the image again from where it \
                 was built"
            )),
            SourceError::LayerCountMismatch { .. } => Some(
                "the manifest and the config do not belong together: the image was damaged or \
                 put together by hand; build or copy it again"
                    .to_string(),
            ),
            SourceError::Malformed { what, .. } => Some(format!(
                "the {what} was cut short or edited by hand; save, copy or push the image again \
                 with the tool that made it"
            )),
            SourceError::Missing { .. } => Some(
                "the image was saved or copied without all of its files (an interrupted copy, \
                 a full disk?); save or copy it again"
                    .to_string(),
            ),
            SourceError::NotFound(path) => Some(not_found_hint(path)),
            SourceError::BadReference(_) | SourceError::UnknownFormat(_) => Some(
                "use a transport prefix: `oci:DIR[:REF]`, `oci-archive:PATH[:REF]`, \
                 `docker-archive:PATH`, `docker://NAME[:TAG]`, `podman:NAME`"
                    .to_string(),
            ),
            _ => None,
        }
    }
}
