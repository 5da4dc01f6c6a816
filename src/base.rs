//! Base and own layers: which bottom layers of an image are its base image (matched by
//! diff_id as a prefix of the image's layers), so reports, gates and the TUI can speak about
//! the layers the user's own Dockerfile added. The totals of each side, as reports carry
//! them, are [`crate::report::json::BaseSplit`]: this model imports no report.

use serde::{Deserialize, Serialize};

/// The base of an image: what it was named and how many bottom layers it accounts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Base {
    /// The `--base` argument (an image reference or a saved report).
    pub reference: String,
    /// The number of bottom layers that are the base's (a prefix of the image's layers).
    pub layer_count: usize,
}

/// Why a base does not fit an image.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BaseError {
    #[error(
        "base `{base}` is not a prefix of the image: layer {layer} differs \
         (image has diff_id `{image_diff_id}`, base has `{base_diff_id}`)"
    )]
    Differs {
        base: String,
        layer: usize,
        image_diff_id: String,
        base_diff_id: String,
    },
    #[error(
        "base `{base}` has {base_layers} layers but the image only {image_layers}: \
         layer {layer} of the base is not in the image"
    )]
    Longer {
        base: String,
        base_layers: usize,
        image_layers: usize,
        layer: usize,
    },
    #[error("base `{base}` has no layers with a diff_id to match")]
    Empty { base: String },
}

impl BaseError {
    pub(crate) fn hint(&self) -> Option<String> {
        Some(
            "`--base` names the image your Dockerfile starts `FROM`, at the same digest the \
             image was built on (or a JSON report of it); a rebuilt or updated base has \
             different layers"
                .to_string(),
        )
    }
}

/// Checks that `base_ids` are the first layers of `image_ids` (by diff_id) and returns how
/// many they are. The error names the first layer (0-based) that differs.
pub(crate) fn match_prefix(
    base: &str,
    base_ids: &[String],
    image_ids: &[String],
) -> Result<usize, BaseError> {
    if base_ids.is_empty() {
        return Err(BaseError::Empty {
            base: base.to_string(),
        });
    }
    for (i, b) in base_ids.iter().enumerate() {
        let Some(l) = image_ids.get(i) else {
            return Err(BaseError::Longer {
                base: base.to_string(),
                base_layers: base_ids.len(),
                image_layers: image_ids.len(),
                layer: i,
            });
        };
        if !same_diff_id(l, b) {
            return Err(BaseError::Differs {
                base: base.to_string(),
                layer: i,
                image_diff_id: l.clone(),
                base_diff_id: b.clone(),
            });
        }
    }
    Ok(base_ids.len())
}

/// Diff ids compare case-insensitively (hex digits), and an empty one never matches.
fn same_diff_id(a: &str, b: &str) -> bool {
    !a.is_empty() && a.eq_ignore_ascii_case(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn prefix_matches_and_names_the_first_difference() {
        let img = ids(&["sha256:a", "sha256:b", "sha256:c"]);
        assert_eq!(match_prefix("b", &ids(&["sha256:a"]), &img).unwrap(), 1);
        assert_eq!(
            match_prefix("b", &ids(&["sha256:A", "sha256:b"]), &img).unwrap(),
            2
        );
        let e = match_prefix("b", &ids(&["sha256:a", "sha256:x"]), &img).unwrap_err();
        assert!(matches!(e, BaseError::Differs { layer: 1, .. }), "{e}");
        assert!(e.to_string().contains("layer 1 differs"), "{e}");
        let e = match_prefix(
            "b",
            &ids(&["sha256:a", "sha256:b", "sha256:c", "sha256:d"]),
            &img,
        )
        .unwrap_err();
        assert!(matches!(e, BaseError::Longer { layer: 3, .. }), "{e}");
        assert!(matches!(
            match_prefix("b", &[], &img),
            Err(BaseError::Empty { .. })
        ));
        let e = match_prefix("b", &ids(&[""]), &ids(&[""])).unwrap_err();
        assert!(matches!(e, BaseError::Differs { layer: 0, .. }));
    }
}
