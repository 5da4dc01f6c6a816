//! The cached form of a [`DecodedLayer`]: everything decode gathers about a layer (sizes,
//! digests, compression, the secrets and package metadata found in its files, its
//! [`LayerIndex`]) as bytes, under
//! a fingerprint of the format and of the rules that made them. Decode alone writes and
//! reads this form; the cache stores it as opaque bytes.
//!
//! New rules or a new format give a new fingerprint, so entries made before are misses and
//! are rebuilt. Anything added to [`DecodedLayer`] must be written here and must feed
//! [`fingerprint`] with whatever decides its contents (the package parsers, for instance).

use std::io::Read;

use crate::index::LayerIndex;
use crate::packages::LayerPackages;
use crate::secrets::{rules_fingerprint, SecretHit};

use super::types::{Compression, DecodedLayer};

const MAGIC: &[u8; 8] = b"LSLAYER3";
/// Bump whenever decode's output for the same blob changes (what is indexed, how contents
/// are hashed, this encoding, how the gzip sample is taken): older entries then become
/// misses. 4: the index's 48-byte entries (index format 2). 5: the gzip sample ratio of an
/// uncompressed layer (`crate::sample`), so a warm run does not compress it again.
const FORMAT: u64 = 5;

/// The fingerprint of everything that decides an entry's contents besides the blob: this
/// format, the secret rule table and the package parsers.
pub(super) fn fingerprint() -> u64 {
    fingerprint_of(FORMAT)
}

fn fingerprint_of(format: u64) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(&format.to_le_bytes());
    h.update(&rules_fingerprint().to_le_bytes());
    h.update(&crate::packages::fingerprint().to_le_bytes());
    h.digest()
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Reads an entry's fields from a reader holding exactly `left` more bytes of it; every
/// length is checked against `left` before anything is allocated for it.
struct Fields<'r> {
    r: &'r mut dyn Read,
    left: u64,
}

impl Fields<'_> {
    fn bytes(&mut self, n: u64) -> Option<Vec<u8>> {
        self.left = self.left.checked_sub(n)?;
        let mut v = vec![0u8; usize::try_from(n).ok()?];
        self.r.read_exact(&mut v).ok()?;
        Some(v)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.left = self.left.checked_sub(N as u64)?;
        let mut a = [0u8; N];
        self.r.read_exact(&mut a).ok()?;
        Some(a)
    }

    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    fn str(&mut self) -> Option<String> {
        let len = u32::from_le_bytes(self.array()?);
        String::from_utf8(self.bytes(u64::from(len))?).ok()
    }
}

impl DecodedLayer {
    /// This layer in its cached form.
    pub fn to_entry(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.index.encoded_len() + 200);
        // Writing to a Vec cannot fail.
        let _ = self.write_entry(&mut out);
        out
    }

    /// Writes [`DecodedLayer::to_entry`]'s form to `w`; the index goes straight from its
    /// vectors to `w`, so caching a layer holds no second copy of it.
    pub fn write_entry(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut out = Vec::with_capacity(200);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&fingerprint().to_le_bytes());
        out.push(match self.compression {
            Compression::Gzip => 1,
            Compression::Zstd => 2,
            Compression::None => 0,
        });
        out.extend_from_slice(&self.compressed_size.to_le_bytes());
        out.extend_from_slice(&self.uncompressed_size.to_le_bytes());
        put_str(&mut out, &self.digest);
        put_str(&mut out, &self.diff_id);
        out.extend_from_slice(&(self.secrets.len() as u32).to_le_bytes());
        for hit in &self.secrets {
            out.extend_from_slice(&(hit.entry as u64).to_le_bytes());
            out.extend_from_slice(&(hit.rule as u64).to_le_bytes());
            out.extend_from_slice(&(hit.line as u64).to_le_bytes());
            put_str(&mut out, &hit.redacted);
        }
        // Package metadata (JSON: nested lists of names and paths, small next to the index).
        let packages = serde_json::to_vec(&self.packages).unwrap_or_default();
        out.extend_from_slice(&(packages.len() as u64).to_le_bytes());
        out.extend_from_slice(&packages);
        match self.gzip_sample_ratio {
            Some(r) => {
                out.push(1);
                out.extend_from_slice(&r.to_bits().to_le_bytes());
            }
            None => out.push(0),
        }
        w.write_all(&out)?;
        self.index.write_to(w)
    }

    /// A layer back from its cached form; `None` when the entry was made under another
    /// fingerprint or does not parse (then it is rebuilt).
    pub fn from_entry(bytes: &[u8]) -> Option<DecodedLayer> {
        Self::read_entry(&mut &bytes[..], bytes.len() as u64)
    }

    /// [`DecodedLayer::from_entry`] from a reader holding exactly `len` bytes of the entry:
    /// the index is read straight into its vectors, so a cache hit holds no second copy.
    pub fn read_entry(r: &mut dyn Read, len: u64) -> Option<DecodedLayer> {
        let mut f = Fields { r, left: len };
        if f.array::<8>()? != *MAGIC || f.u64()? != fingerprint() {
            return None;
        }
        let [c] = f.array()?;
        let compression = match c {
            0 => Compression::None,
            1 => Compression::Gzip,
            2 => Compression::Zstd,
            _ => return None,
        };
        let compressed_size = f.u64()?;
        let uncompressed_size = f.u64()?;
        let digest = f.str()?;
        let diff_id = f.str()?;
        let count = u32::from_le_bytes(f.array()?);
        let mut secrets = Vec::new();
        for _ in 0..count {
            let (entry, rule, line) = (f.u64()?, f.u64()?, f.u64()?);
            secrets.push(SecretHit {
                entry: usize::try_from(entry).ok()?,
                rule: usize::try_from(rule).ok()?,
                line: usize::try_from(line).ok()?,
                redacted: f.str()?,
            });
        }
        let packages_len = f.u64()?;
        let packages: LayerPackages = serde_json::from_slice(&f.bytes(packages_len)?).ok()?;
        let gzip_sample_ratio = match f.array()? {
            [0] => None,
            [1] => {
                // A damaged ratio is a damaged entry (a miss), never a nonsense estimate.
                let r = f64::from_bits(f.u64()?);
                Some(Some(r).filter(|r| r.is_finite() && *r >= 0.0)?)
            }
            _ => return None,
        };
        let index = LayerIndex::read_from(f.r, f.left).ok()?;
        if secrets.iter().any(|h| h.entry >= index.len())
            || packages.files.iter().any(|f| f.entry >= index.len())
        {
            return None;
        }
        Some(DecodedLayer {
            index,
            compression,
            compressed_size,
            uncompressed_size,
            digest,
            diff_id,
            secrets,
            packages,
            gzip_sample_ratio,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{EntryKind, NewEntry};

    fn layer() -> DecodedLayer {
        let mut index = LayerIndex::new();
        index.push(NewEntry {
            path: b"etc/hosts",
            link: b"",
            kind: EntryKind::File,
            size: 12,
            hash: 99,
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: 1,
        });
        DecodedLayer {
            index,
            compression: Compression::Gzip,
            compressed_size: 100,
            uncompressed_size: 2048,
            digest: format!("sha256:{}", "a".repeat(64)),
            diff_id: format!("sha256:{}", "b".repeat(64)),
            secrets: vec![SecretHit {
                entry: 0,
                rule: 3,
                line: 2,
                redacted: "token=[REDACTED]".to_string(),
            }],
            packages: LayerPackages {
                files: vec![crate::packages::DbFile {
                    entry: 0,
                    content: crate::packages::DbContent::DpkgFiles {
                        package: "netbase".into(),
                        paths: vec!["/etc/hosts".into()],
                    },
                    skipped: 0,
                }],
            },
            gzip_sample_ratio: Some(0.37),
        }
    }

    #[test]
    fn entries_round_trip_and_other_fingerprints_or_damage_are_misses() {
        let d = layer();
        let bytes = d.to_entry();
        let back = DecodedLayer::from_entry(&bytes).unwrap();
        assert_eq!(back.index.entries, d.index.entries);
        assert_eq!(back.index.path(0), b"etc/hosts");
        assert_eq!(
            (
                back.compression,
                back.compressed_size,
                back.uncompressed_size
            ),
            (Compression::Gzip, 100, 2048)
        );
        assert_eq!((&back.digest, &back.diff_id), (&d.digest, &d.diff_id));
        assert_eq!(back.secrets, d.secrets);
        assert_eq!(back.packages, d.packages);
        assert_eq!(back.gzip_sample_ratio, Some(0.37));
        let unsampled = DecodedLayer {
            gzip_sample_ratio: None,
            ..layer()
        };
        let back = DecodedLayer::from_entry(&unsampled.to_entry()).unwrap();
        assert_eq!(back.gzip_sample_ratio, None);
        // A ratio that is not a ratio (damage under a matching checksum): a miss.
        let at = bytes.len() - d.index.to_bytes().len() - 8;
        for bad in [f64::NAN, f64::INFINITY, -1.0] {
            let mut damaged = bytes.clone();
            damaged[at..at + 8].copy_from_slice(&bad.to_bits().to_le_bytes());
            assert!(DecodedLayer::from_entry(&damaged).is_none(), "{bad}");
        }

        // Made under other rules (the fingerprint follows the magic): a miss.
        let mut other = bytes.clone();
        other[8] ^= 1;
        assert!(DecodedLayer::from_entry(&other).is_none());
        // Cut short, or an index that does not parse: a miss, never a panic.
        for n in [0, 9, 20, bytes.len() - 1] {
            assert!(DecodedLayer::from_entry(&bytes[..n]).is_none(), "{n}");
        }
        let mut garbage = bytes[..bytes.len() - d.index.to_bytes().len()].to_vec();
        garbage.extend_from_slice(&[0xff; 64]);
        assert!(DecodedLayer::from_entry(&garbage).is_none());
    }

    /// What format 3 (index format 1: 61-byte entries holding two name spans) wrote for
    /// [`layer`], byte for byte, as the release before the 48-byte entries did.
    fn format_3_entry(d: &DecodedLayer) -> Vec<u8> {
        let mut index = Vec::new();
        index.extend_from_slice(&1u32.to_le_bytes());
        index.extend_from_slice(&9u64.to_le_bytes());
        index.extend_from_slice(b"etc/hosts");
        index.extend_from_slice(&1u64.to_le_bytes());
        index.extend_from_slice(&99u128.to_le_bytes());
        index.extend_from_slice(&12u64.to_le_bytes());
        index.extend_from_slice(&1i64.to_le_bytes());
        for v in [0u32, 9, 0, 0, 0o644, 0, 0] {
            index.extend_from_slice(&v.to_le_bytes());
        }
        index.push(0);
        let mut old = format_4_entry(d);
        old.truncate(old.len() - d.index.to_bytes().len());
        old[8..16].copy_from_slice(&fingerprint_of(3).to_le_bytes());
        old.extend_from_slice(&index);
        old
    }

    /// What format 4 (before the gzip sample ratio) wrote for [`layer`], byte for byte:
    /// today's entry without the ratio's byte.
    fn format_4_entry(d: &DecodedLayer) -> Vec<u8> {
        let unsampled = DecodedLayer {
            gzip_sample_ratio: None,
            ..d.clone()
        };
        let mut old = unsampled.to_entry();
        let at = old.len() - d.index.to_bytes().len() - 1;
        assert_eq!(old.remove(at), 0);
        old[8..16].copy_from_slice(&fingerprint_of(4).to_le_bytes());
        old
    }

    #[test]
    fn an_entry_of_the_previous_format_is_a_miss_not_an_error() {
        let d = layer();
        for (format, old) in [(3, format_3_entry(&d)), (4, format_4_entry(&d))] {
            assert!(DecodedLayer::from_entry(&old).is_none(), "format {format}");
            // Even under today's fingerprint, the old form is refused, not misread.
            let mut relabelled = old.clone();
            relabelled[8..16].copy_from_slice(&fingerprint().to_le_bytes());
            assert!(
                DecodedLayer::from_entry(&relabelled).is_none(),
                "format {format}"
            );
        }
        // The same layer in today's form is read back.
        assert!(DecodedLayer::from_entry(&d.to_entry()).is_some());
    }
}
