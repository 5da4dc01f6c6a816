//! The content commands — `cat`, `extract` and `diff --file` — between the command line and
//! [`crate::content`]: they open the image, call the library, and own what goes to stdout
//! and stderr.

use std::io::Write as _;
use std::process::ExitCode;

use super::{emit, load_image, EXIT_OK};
use crate::cli::{CatArgs, DiffArgs, ExtractArgs, SourceArgs};
use crate::content::extract::{extract as run_extract, ExtractOptions};
use crate::content::filediff::{diff_file as run_diff, escape, Side};
use crate::content::{ContentError, Scope};
use crate::units::human_bytes;

/// `layersift cat IMAGE PATH [--layer N]`.
pub(super) fn cat(args: &CatArgs, source: &SourceArgs) -> anyhow::Result<ExitCode> {
    use std::os::unix::ffi::OsStrExt as _;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let path = args.path.as_bytes();
    // One layer's plain file: one pass over that layer, nothing else decoded.
    if let Some(n) = args.layer {
        // A source it cannot open in place (a compressed archive) takes the long way.
        let image = open_only(&args.image, source);
        if let Some(image) = image.ok().filter(|i| n < i.layers.len()) {
            match crate::content::cat_member(&image, n, path, &mut out) {
                Ok(Some(_)) => return Ok(ExitCode::from(EXIT_OK)),
                Ok(None) => {}
                Err(e) => return finish_cat(Err(e)),
            }
        }
    }
    let (image, a) = load_image(&args.image, source)?;
    let scope = args.layer.map_or(Scope::Final, Scope::Layer);
    finish_cat(crate::content::cat(&image, &a, scope, path, &mut out))
}

/// Resolves an image to its manifest, config and blob store, decoding nothing.
fn open_only(reference: &str, source: &SourceArgs) -> anyhow::Result<crate::source::Image> {
    let wrap = |source| crate::Error::Source {
        reference: reference.to_string(),
        source,
    };
    let r = crate::source::ImageRef::parse(reference).map_err(wrap)?;
    Ok(crate::source::open(&r, &source.open_options()).map_err(wrap)?)
}

fn finish_cat(r: Result<u64, ContentError>) -> anyhow::Result<ExitCode> {
    match r {
        Ok(_) => Ok(ExitCode::from(EXIT_OK)),
        // `layersift cat … | head` is a normal end.
        Err(ContentError::Write { source, .. })
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            Ok(ExitCode::from(EXIT_OK))
        }
        Err(e) => Err(e.into()),
    }
}

/// `layersift extract IMAGE [PATH|GLOB]... -o DIR [--layer N]`.
pub(super) fn extract(args: &ExtractArgs, source: &SourceArgs) -> anyhow::Result<ExitCode> {
    let (image, a) = load_image(&args.image, source)?;
    let opts = ExtractOptions {
        scope: args.layer.map_or(Scope::Final, Scope::Layer),
        patterns: args.paths.clone(),
        force: args.force,
        same_owner: args.same_owner,
    };
    let s = run_extract(&image, &a, &args.output, &opts)?;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "extracted {} files ({}), {} directories, {} symlinks, {} hard links into `{}`",
        s.files,
        human_bytes(s.bytes),
        s.dirs,
        s.symlinks,
        s.hardlinks,
        escape(&args.output.display().to_string()),
    );
    const SHOWN: usize = 10;
    for k in s.skipped.iter().take(SHOWN) {
        let _ = writeln!(err, "note: skipped `{}`: {}", escape(&k.path), k.reason);
    }
    if s.skipped.len() > SHOWN {
        let _ = writeln!(err, "note: … and {} more skipped", s.skipped.len() - SHOWN);
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// `layersift diff OLD NEW --file PATH` and `layersift diff IMAGE --file PATH --layers A B`.
pub(super) fn diff_file(args: &DiffArgs, source: &SourceArgs) -> anyhow::Result<ExitCode> {
    let Some(path) = &args.file else {
        anyhow::bail!("internal: diff_file without --file");
    };
    let out = match (&args.layers, &args.new) {
        (Some(ab), _) => {
            let (image, a) = load_image(&args.old, source)?;
            let (x, y) = (ab[0], ab[1]);
            let old = Side {
                image: &image,
                analysis: &a,
                scope: Scope::UpTo(x),
                label: format!("layer {x}"),
            };
            let new = Side {
                scope: Scope::UpTo(y),
                label: format!("layer {y}"),
                ..old
            };
            old.scope.check(&a)?;
            new.scope.check(&a)?;
            run_diff(&old, &new, path)?
        }
        (None, Some(new_ref)) => {
            let (oi, oa) = load_image(&args.old, source)?;
            let (ni, na) = load_image(new_ref, source)?;
            let old = Side {
                image: &oi,
                analysis: &oa,
                scope: Scope::Final,
                label: "old".to_string(),
            };
            let new = Side {
                image: &ni,
                analysis: &na,
                scope: Scope::Final,
                label: "new".to_string(),
            };
            run_diff(&old, &new, path)?
        }
        (None, None) => anyhow::bail!("`diff --file` needs two images, or one with `--layers A B`"),
    };
    if out.is_empty() {
        let _ = writeln!(
            std::io::stderr(),
            "`{}` is the same on both sides",
            escape(path)
        );
    }
    emit(&out, args.output.as_deref())?;
    Ok(ExitCode::from(EXIT_OK))
}
