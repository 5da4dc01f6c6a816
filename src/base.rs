//! Base and own layers: which bottom layers of an image are its base image (matched by
//! diff_id as a prefix of the image's layers) and the totals of each side, so reports, gates
//! and the TUI can speak about the layers the user's own Dockerfile added.

use serde::{Deserialize, Serialize};

use crate::report::json::Layer;

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

/// Byte totals of a run of layers (the base's, or the user's own).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScopeTotals {
    pub layer_count: usize,
    /// Regular-file content bytes the layers ship.
    pub content_bytes: u64,
    /// Of those, visible in the final filesystem.
    pub visible_bytes: u64,
    /// Of those, hidden by a later layer (overwritten or removed).
    pub hidden_bytes: u64,
    /// Visible bytes these layers ship that findings call avoidable.
    pub avoidable_bytes: u64,
    /// Sum of the layers' blob sizes.
    pub compressed_bytes: u64,
    /// visible_bytes / content_bytes; 1.0 when the layers ship no content.
    pub efficiency: f64,
}

impl ScopeTotals {
    /// Totals of `layers` (report rows).
    pub fn of(layers: &[Layer]) -> ScopeTotals {
        let mut t = ScopeTotals {
            layer_count: layers.len(),
            ..ScopeTotals::default()
        };
        for l in layers {
            t.content_bytes += l.content_bytes;
            t.visible_bytes += l.visible_bytes;
            t.hidden_bytes +=
                l.overwritten_same_bytes + l.overwritten_changed_bytes + l.removed_bytes;
            t.avoidable_bytes += l.avoidable_bytes;
            t.compressed_bytes += l.compressed_bytes;
        }
        t.efficiency = if t.content_bytes == 0 {
            1.0
        } else {
            t.visible_bytes as f64 / t.content_bytes as f64
        };
        t
    }
}

impl ScopeTotals {
    /// Totals of layers `range` of an analysis.
    pub fn of_analysis(a: &crate::Analysis, range: std::ops::Range<usize>) -> ScopeTotals {
        let mut t = ScopeTotals {
            layer_count: range.len(),
            ..ScopeTotals::default()
        };
        for i in range {
            let Some(l) = a.layers.get(i) else { continue };
            t.content_bytes += l.bytes.content;
            t.visible_bytes += l.bytes.visible;
            t.hidden_bytes += l.bytes.hidden();
            t.avoidable_bytes += l.avoidable;
            t.compressed_bytes += l.compressed_size;
        }
        t.efficiency = if t.content_bytes == 0 {
            1.0
        } else {
            t.visible_bytes as f64 / t.content_bytes as f64
        };
        t
    }
}

/// The report's view of a base: what it is and the totals of both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseSplit {
    /// The base as given (`--base`).
    pub reference: String,
    /// Layers `0..layer_count` are the base's; the rest are the image's own.
    pub layer_count: usize,
    pub base: ScopeTotals,
    pub own: ScopeTotals,
}

impl BaseSplit {
    pub fn new(base: &Base, layers: &[Layer]) -> BaseSplit {
        let n = base.layer_count.min(layers.len());
        BaseSplit {
            reference: base.reference.clone(),
            layer_count: n,
            base: ScopeTotals::of(&layers[..n]),
            own: ScopeTotals::of(&layers[n..]),
        }
    }
}

impl BaseSplit {
    /// The split of an analysis whose base is known.
    pub fn of_analysis(a: &crate::Analysis) -> Option<BaseSplit> {
        let b = a.base.as_ref()?;
        let n = b.layer_count.min(a.layers.len());
        Some(BaseSplit {
            reference: b.reference.clone(),
            layer_count: n,
            base: ScopeTotals::of_analysis(a, 0..n),
            own: ScopeTotals::of_analysis(a, n..a.layers.len()),
        })
    }

    /// `layers 2-4`, `layer 2`, `no layers` for the own side; `first` is where it starts.
    pub fn layer_range(first: usize, count: usize) -> String {
        match count {
            0 => "no layers".to_string(),
            1 => format!("layer {first}"),
            n => format!("layers {first}-{}", first + n - 1),
        }
    }

    /// Two lines for people: the base's and the own layers' totals.
    pub fn lines(&self) -> [String; 2] {
        use crate::units::human_bytes;
        let side = |t: &ScopeTotals| {
            format!(
                "{} content, {} compressed, {} hidden, {} avoidable",
                human_bytes(t.content_bytes),
                human_bytes(t.compressed_bytes),
                human_bytes(t.hidden_bytes),
                human_bytes(t.avoidable_bytes)
            )
        };
        [
            format!(
                "{} ({}): {}",
                Self::layer_range(0, self.base.layer_count),
                self.reference,
                side(&self.base)
            ),
            format!(
                "{}: {}",
                Self::layer_range(self.layer_count, self.own.layer_count),
                side(&self.own)
            ),
        ]
    }
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
