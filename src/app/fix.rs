//! The `fix` command between the command line and [`crate::fix`]: it reads the
//! Dockerfile and the image, asks the library for the plan, and owns what goes to stdout
//! (the patch, or the dry-run listing) and stderr (the one-line summary).

use std::path::Path;
use std::process::ExitCode;

use crate::cli::{FixArgs, SourceArgs};
use crate::fix;
use crate::units::human_bytes;

/// `layersift fix IMAGE --dockerfile PATH [-o PATCH] [--dry-run] [--cache-mounts]`.
pub(super) fn run(args: &FixArgs, source: &SourceArgs) -> anyhow::Result<ExitCode> {
    if args.dockerfile.dockerfile.is_none() {
        anyhow::bail!(
            "`layersift fix` needs the Dockerfile the image was built from: `--dockerfile PATH`"
        );
    }
    let df = super::read_dockerfile(&args.dockerfile)?;
    let a = super::load_with(&args.image, source, df.as_ref())?;
    let Some(ctx) = &a.dockerfile else {
        anyhow::bail!("internal: the analysis lost its Dockerfile");
    };
    let plan = fix::plan(
        &a,
        fix::Options {
            cache_mounts: args.cache_mounts,
        },
    );
    if args.dry_run {
        super::emit(&fix::render_dry_run(&plan), None)?;
        return Ok(ExitCode::from(super::EXIT_OK));
    }
    let ignore_path = ctx
        .dockerfile
        .path
        .parent()
        .unwrap_or(Path::new(""))
        .join(".dockerignore");
    let ignore_old = match std::fs::read_to_string(&ignore_path) {
        Ok(s) => Some(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(
                anyhow::Error::new(e).context(format!("cannot read `{}`", ignore_path.display()))
            )
        }
    };
    let patch = fix::render_patch(&ctx.dockerfile, &plan, ignore_old.as_deref());
    super::emit(&patch, args.output.as_deref())?;
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!(
            "{}, {}, {} left as suggestions; predicted saving {}\n",
            crate::units::plural(plan.hunks.len(), "hunk", "hunks"),
            crate::units::plural(
                plan.ignore.len(),
                ".dockerignore line",
                ".dockerignore lines"
            ),
            plan.left.len(),
            human_bytes(plan.saves_bytes())
        )
        .as_bytes(),
    );
    Ok(ExitCode::from(super::EXIT_OK))
}
