//! Docs and toolchain suggestions: exclude docs, or build in a separate stage.

use std::collections::BTreeMap;

use super::{Builder, Draft};
use crate::analysis::findings::Category;

/// Docs and toolchains: one suggestion each, when they weigh at least 1 MB.
pub(super) fn optional(b: &mut Builder<'_>, cat: Category) {
    let ids: Vec<usize> = b
        .free()
        .filter(|(_, f)| f.category == cat)
        .map(|(i, _)| i)
        .collect();
    let total: u64 = ids.iter().map(|&i| b.findings[i].bytes).sum();
    if total < 1_000_000 {
        return;
    }
    // Name the layer that ships the most of it.
    let mut per_layer: BTreeMap<usize, u64> = BTreeMap::new();
    for &i in &ids {
        *per_layer.entry(b.findings[i].layer).or_default() += b.findings[i].bytes;
    }
    let Some((&layer, _)) = per_layer
        .iter()
        .max_by_key(|(l, n)| (**n, std::cmp::Reverse(**l)))
    else {
        return;
    };
    let instruction = b.instruction(layer);
    let (rule, title, snippet) = if cat == Category::Docs {
        (
            "exclude-docs",
            "Keep docs, man pages and translations out of the image".to_string(),
            format!(
                "RUN printf '%s\\n' \\\n    'path-exclude /usr/share/doc/*' \\\n    'path-include /usr/share/doc/*/copyright' \\\n    'path-exclude /usr/share/man/*' \\\n    'path-exclude /usr/share/info/*' \\\n    'path-exclude /usr/share/locale/*' \\\n    > /etc/dpkg/dpkg.cfg.d/01-nodoc\n{instruction}"
            ),
        )
    } else {
        (
            "multi-stage",
            "Build in a separate stage and copy only the result into the runtime image".to_string(),
            format!(
                "FROM <build-image> AS build\n{instruction}\nRUN <build the application into /out>\n\nFROM <runtime-image>\nCOPY --from=build /out/ /app/"
            ),
        )
    };
    b.push(Draft {
        rule,
        title,
        layer,
        instruction: None,
        snippet,
        findings: ids,
    });
}
