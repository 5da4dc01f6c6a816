//! Secret suggestions: mount a secret for the one step that needs it instead of shipping it
//! in a layer, an `ENV` or a command line.

use super::{Builder, Draft};
use crate::analysis::findings::Category;

/// Secrets: mount them for the one step that needs them instead of shipping them.
pub(super) fn secrets(b: &mut Builder<'_>) {
    let secret_ids: Vec<usize> = b
        .free()
        .filter(|(_, f)| f.category == Category::Secret)
        .map(|(i, _)| i)
        .collect();
    for i in secret_ids {
        let f = &b.findings[i];
        let mut ids = vec![i];
        let (title, snippet, instruction);
        if let Some(path) = f.paths.first() {
            // A secret file: also resolves the hidden copies of that same file.
            ids.extend(
                b.free()
                    .filter(|(j, g)| {
                        *j != i
                            && g.category.is_hidden()
                            && g.layer == f.layer
                            && !g.paths.is_empty()
                            && g.paths.iter().all(|p| p == path)
                    })
                    .map(|(j, _)| j),
            );
            let name = path.rsplit('/').next().unwrap_or("secret");
            let id = secret_id(name);
            // Where the file is on the build machine: the COPY's source in the build context
            // when the layer's line names it, else a placeholder.
            let src = b
                .layer(f.layer)
                .filter(|l| {
                    matches!(super::shell::keyword(l), "COPY" | "ADD")
                        && !l.step.instruction.contains("--from=")
                })
                .map(|l| super::removed::context_path(&l.step.instruction, path))
                .filter(|c| !c.starts_with('<'))
                .map_or_else(|| format!("<path to {name}>"), |c| format!("./{c}"));
            title = format!("Mount `{path}` as a build secret instead of putting it in a layer");
            snippet = format!(
                "# build with: docker build --secret id={id},src={src} .\n\
                 RUN --mount=type=secret,id={id},target={path},required=true \\\n    \
                 <the command that needs it>"
            );
            instruction = None;
        } else {
            let var = f
                .detail
                .as_deref()
                .and_then(|d| d.strip_prefix("ENV "))
                .and_then(|d| d.split([' ', '=', ':']).next())
                .unwrap_or("TOKEN")
                .to_string();
            let id = secret_id(&var);
            title = if f.rule.ends_with("-env")
                || f.detail.as_deref().is_some_and(|d| d.starts_with("ENV "))
            {
                format!("Pass `{var}` as a build secret or at run time, not with ENV")
            } else {
                "Pass the credential as a build secret, not in the command line".to_string()
            };
            snippet = format!(
                "# build with: docker build --secret id={id},env={var} .\n\
                 RUN --mount=type=secret,id={id},env={var} \\\n    \
                 <the command that needs it>\n\
                 # and at run time: docker run -e {var} …"
            );
            // For ENV: the ENV instruction (redacted); for a command: the layer's own step.
            instruction = f
                .detail
                .as_deref()
                .filter(|d| d.starts_with("ENV "))
                .map(|d| d.split_once(": ").map_or(d, |(a, _)| a).to_string());
        }
        let layer = f.layer;
        b.push(Draft {
            rule: "secret-mount",
            title,
            layer,
            instruction,
            snippet,
            findings: ids,
        });
    }
}

/// The `id=` of a build secret for a file or variable: its name lower-cased, anything but
/// letters and digits as `_`, without leading dots (`.npmrc` → `npmrc`); `secret` when
/// nothing is left. The suggestion and `fix`'s patch use the same one.
pub(crate) fn secret_id(name: &str) -> String {
    let s: String = name
        .trim_start_matches('.')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "secret".to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_ids_from_names() {
        assert_eq!(secret_id("id_rsa"), "id_rsa");
        assert_eq!(secret_id(".npmrc"), "npmrc");
    }
}
