//! sha256 digests as images name blobs (`sha256:<64 hex>`): computing them, printing them,
//! and checking that a digest string is safe to use as a file name. Shared by the sources,
//! the cache and decode, so none of them needs another for it.

use sha2::Digest as _;

/// Lower-case hex of some bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// `sha256:<hex>` of some bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&sha2::Sha256::digest(bytes)))
}

/// `sha256:<hex>` of a finished hasher.
pub(crate) fn finish(sha: sha2::Sha256) -> String {
    format!("sha256:{}", hex(&sha.finalize()))
}

/// The hex part of a sha256 digest, when the digest is exactly `sha256:` and 64 lower-case
/// hex digits, so it can never name a path outside a blob directory.
pub(crate) fn sha256_hex(digest: &str) -> Option<&str> {
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then_some(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_sha256_digests_are_names() {
        let d = sha256_digest(b"");
        assert_eq!(
            d,
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(sha256_hex(&d), d.strip_prefix("sha256:"));
        assert_eq!(sha256_hex(&d.to_uppercase()), None);
        assert_eq!(sha256_hex("sha256:../../etc/passwd"), None);
        assert_eq!(sha256_hex(&format!("sha512:{}", "a".repeat(64))), None);
    }
}
