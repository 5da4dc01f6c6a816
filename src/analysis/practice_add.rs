//! `practice.add-instead-of-copy`: an `ADD` that `COPY` would do (local files that `ADD` did
//! not unpack) or a download without `--checksum`. From the Dockerfile's `ADD` lines when it
//! is given; without it, from what each builder's history shows beyond doubt:
//!
//! - BuildKit and kaniko keep the line as written (`ADD app/ /app/ # buildkit`): a URL source
//!   without `--checksum`, a directory source, or a file the layer holds under its own name
//!   (so `ADD` copied it rather than unpacking it);
//! - the classic builder and buildah write `ADD dir:<hash> in /dest` for a local directory
//!   (never unpacked), and buildah `ADD <hash> in /dest`, with no source kind, for a URL.
//!
//! `ADD file:<hash> in /dest` (classic, buildah) is left alone: a plain file, a tar archive
//! `ADD` unpacked and (classic) a download all read the same there; `--dockerfile` tells.

use crate::history::Step;
use crate::index::{display_path, file_name, EntryKind, LayerIndex};

/// What a history entry or a Dockerfile line shows about one `ADD`: a title and a fix.
pub(super) type Verdict = (String, String);

fn is_url(s: &str) -> bool {
    s.contains("://") || s.starts_with("git@")
}

/// Named like a tar archive (which `ADD` unpacks, so `COPY` would not do).
fn archive_name(s: &str) -> bool {
    [
        ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst",
    ]
    .iter()
    .any(|x| s.ends_with(x))
}

fn local_files(sources: &[&str]) -> Verdict {
    (
        format!(
            "`ADD {}` copies local files: `COPY` does that without ADD's unpacking and URL rules",
            sources.join(" ")
        ),
        "fix: write `COPY` instead of `ADD` (keep `ADD` for local tar archives it should unpack)"
            .to_string(),
    )
}

const PIN: &str = "fix: pin it, `ADD --checksum=sha256:… URL DEST`, or fetch and verify it in a \
                   RUN of a build stage and `COPY --from` the result";

fn unpinned(sources: &[&str]) -> Verdict {
    (
        format!(
            "`ADD {}` downloads at build time without `--checksum`",
            sources.join(" ")
        ),
        PIN.to_string(),
    )
}

/// A Dockerfile `ADD` line's sources: local files that are no archive by name, or URLs
/// fetched without `--checksum`.
pub(super) fn judge_line(sources: &[String], checksum: bool) -> Option<Verdict> {
    let plain: Vec<&str> = sources
        .iter()
        .map(String::as_str)
        .filter(|s| !is_url(s) && !archive_name(s))
        .collect();
    let sources: Vec<&str> = sources.iter().map(String::as_str).collect();
    pick(&plain, &sources, checksum)
}

/// Local files first (the plainer fault), else URLs fetched without `--checksum`.
fn pick(plain: &[&str], sources: &[&str], checksum: bool) -> Option<Verdict> {
    let urls: Vec<&str> = sources
        .iter()
        .copied()
        .filter(|s| is_url(s) && !checksum)
        .collect();
    if !plain.is_empty() {
        Some(local_files(plain))
    } else if !urls.is_empty() {
        Some(unpinned(&urls))
    } else {
        None
    }
}

/// What a layer's history entry shows about its `ADD`, where it shows it beyond doubt.
pub(super) fn judge_history(step: &Step, index: &LayerIndex) -> Option<Verdict> {
    let created_by = step.created_by.trim();
    if let Some((_, rest)) = created_by.split_once("#(nop) ADD ") {
        // Classic builder, buildah: `ADD [--flags] KIND:HASH in DEST`.
        let (head, dest) = rest.rsplit_once(" in ")?;
        let dest = dest.trim();
        let summary = head.split_whitespace().rfind(|w| !w.starts_with("--"))?;
        if summary.starts_with("dir:") {
            return Some((
                format!(
                    "`ADD` copied a local directory into `{dest}` (history: `ADD dir:… in {dest}`): \
                     `COPY` does that without ADD's unpacking and URL rules"
                ),
                "fix: write `COPY` instead of `ADD` for it".to_string(),
            ));
        }
        if summary.len() == 64 && summary.bytes().all(|b| b.is_ascii_hexdigit()) {
            // buildah records no source kind for a URL.
            return Some((
                format!(
                    "`ADD` downloaded a URL into `{dest}` at build time (buildah's history: a \
                     hash with no source kind); it is not pinned unless the line has `--checksum`"
                ),
                PIN.to_string(),
            ));
        }
        return None;
    }
    if step.keyword() != "ADD" {
        return None;
    }
    // BuildKit, kaniko: the line as written.
    let body = step.body();
    if body.contains("<<") {
        return None;
    }
    let words: Vec<String> = if body.starts_with('[') {
        serde_json::from_str(body).ok()?
    } else {
        body.split_whitespace().map(str::to_string).collect()
    };
    let checksum = words.iter().any(|w| w.starts_with("--checksum"));
    let args: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| !w.starts_with("--"))
        .collect();
    let (_, sources) = args.split_last()?;
    if sources.is_empty() {
        return None;
    }
    // A local source the layer shows was copied as it is: a directory (`app/`, `.`), or a
    // file the layer holds under the source's own name. An archive ADD unpacked leaves its
    // members instead; a glob cannot be told.
    // Only the sources' own names are looked for, so a layer of 200,000 files costs no
    // set of 200,000 names.
    let names: std::collections::HashSet<&str> = sources
        .iter()
        .filter_map(|s| s.rsplit('/').next())
        .collect();
    let copied_names: std::collections::HashSet<&str> = index
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e.kind, EntryKind::File | EntryKind::Hardlink))
        .filter_map(|(i, _)| names.get(&*display_path(file_name(index.path(i)))).copied())
        .collect();
    let plain: Vec<&str> = sources
        .iter()
        .copied()
        .filter(|s| !is_url(s) && !archive_name(s) && !s.contains(['*', '?', '[']))
        .filter(|s| {
            s.ends_with('/')
                || matches!(*s, "." | "..")
                || s.rsplit('/')
                    .next()
                    .is_some_and(|n| copied_names.contains(n))
        })
        .collect();
    pick(&plain, sources, checksum)
}
