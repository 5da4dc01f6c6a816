//! Units for people: human byte sizes (`1.2 MB`), exact byte counts beside them, percents,
//! and signed deltas (`+1.2 MB`, `-300 kB`). Every renderer (reports, diff, check, trend,
//! TUI) formats numbers through here, so one number reads the same everywhere.

/// A compressed estimate for people: `~1.2 MB compressed`, or that there is none (a layer
/// stored uncompressed that could not be sampled), never the raw size repeated.
pub(crate) fn compressed_estimate(bytes: Option<u64>) -> String {
    match bytes {
        Some(b) => format!("~{} compressed", human_bytes(b)),
        None => "no compressed estimate".to_string(),
    }
}

/// Sizes for people: decimal units as `du --si` and dive print them (`1.2 MB`).
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = 0;
    while v >= 999.95 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if v >= 100.0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// A byte count for rule lines: exact below 1000 B, else human with the exact count
/// (`12.3 MB (12345678 B)`).
pub(crate) fn exact_bytes(n: u64) -> String {
    if n < 1000 {
        format!("{n} B")
    } else {
        format!("{} ({n} B)", human_bytes(n))
    }
}

/// `1 rule`, `3 rules`: a count with the word that agrees with it.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A ratio as people read it: `0.8941` → `89.4%` (the JSON keeps the ratio).
pub(crate) fn ratio_percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

/// A change of a ratio in percentage points: `-13.7 pp`, `0` for no change.
pub(crate) fn ratio_change(old: f64, new: f64) -> String {
    let d = (new - old) * 100.0;
    if d.abs() < 0.05 {
        "0".to_string()
    } else {
        format!("{d:+.1} pp")
    }
}

/// A percentage with one decimal.
pub(crate) fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "0.0%".to_string()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

/// `+1.2 MB`, `-300 kB`, `0 B`.
pub(crate) fn signed_bytes(delta: i64) -> String {
    let abs = delta.unsigned_abs();
    match delta.signum() {
        0 => "0 B".to_string(),
        -1 => format!("-{}", human_bytes(abs)),
        _ => format!("+{}", human_bytes(abs)),
    }
}

/// [`signed_bytes`] with the exact count beside it from 1000 B on: `-5 B`,
/// `+2.0 MB (+2000000 B)`.
pub(crate) fn signed_exact_bytes(delta: i64) -> String {
    let abs = delta.unsigned_abs();
    if abs < 1000 {
        signed_bytes(delta)
    } else {
        let sign = if delta < 0 { "-" } else { "+" };
        format!("{} ({sign}{abs} B)", signed_bytes(delta))
    }
}

/// The difference `new - old` of two byte counts, saturated to `i64`.
pub(crate) fn delta(old: u64, new: u64) -> i64 {
    let d = i128::from(new) - i128::from(old);
    i64::try_from(d).unwrap_or(if d < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1000), "1.0 kB");
        assert_eq!(human_bytes(300_000), "300 kB");
        assert_eq!(human_bytes(42_165_111), "42.2 MB");
        assert_eq!(human_bytes(999_999), "1.0 MB");
    }

    #[test]
    fn byte_formats() {
        assert_eq!(exact_bytes(999), "999 B");
        assert_eq!(exact_bytes(12_345_678), "12.3 MB (12345678 B)");
        assert_eq!(signed_exact_bytes(-5), "-5 B");
        assert_eq!(signed_exact_bytes(2_000_000), "+2.0 MB (+2000000 B)");
    }

    #[test]
    fn signed_deltas() {
        assert_eq!(signed_bytes(0), "0 B");
        assert_eq!(signed_bytes(-300_000), "-300 kB");
        assert_eq!(signed_bytes(1_234_567), "+1.2 MB");
        assert_eq!(delta(5, 3), -2);
        assert_eq!(delta(0, u64::MAX), i64::MAX);
    }
}
