//! Did-you-mean: the known name nearest to a mistyped command, transport or image ref, for
//! errors that offer the right spelling instead of acting on the wrong one.

/// The candidate closest to `word` by edit distance (a swap of two neighbours counts as one
/// edit), if it is close enough to be a typo: one edit for names of up to four characters,
/// two for longer ones. An exact match is not a typo and gives `None`.
pub(crate) fn nearest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = if word.chars().count() <= 4 { 1 } else { 2 };
    candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(word, c), c))
        .filter(|&(d, c)| d <= limit && d < c.chars().count())
        .min_by_key(|&(d, _)| d)
        .filter(|&(d, _)| d > 0)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn close_names_are_typos_and_exact_or_far_ones_are_not() {
        let cmds = ["analyze", "check", "diff", "trend"];
        assert_eq!(nearest("analyz", cmds), Some("analyze"));
        assert_eq!(nearest("anlayze", cmds), Some("analyze"));
        assert_eq!(nearest("chekc", cmds), Some("check"));
        assert_eq!(nearest("check", cmds), None);
        assert_eq!(nearest("ubuntu", cmds), None);
        assert_eq!(nearest("oic", ["oci", "oci-archive"]), Some("oci"));
        assert_eq!(
            nearest("docker-archve", ["docker-archive", "oci"]),
            Some("docker-archive")
        );
        assert_eq!(
            nearest("pip-wast", ["base", "pip-waste", "apt-waste"]),
            Some("pip-waste")
        );
        // One letter is never "one edit away" from a one-letter name.
        assert_eq!(nearest("x", ["y"]), None);
    }
}
