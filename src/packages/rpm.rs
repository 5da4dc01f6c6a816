//! rpm: `rpmdb.sqlite`, the database current Fedora, RHEL and UBI ship. Its `Packages`
//! table holds one rpm header blob per package; the header gives name, epoch, version,
//! release, requirements and the file list (directory names, base names, sizes). The
//! database is opened from memory with SQLite itself (`rusqlite`, bundled), never from disk.
//! The older Berkeley DB form (`Packages`) is named and skipped by the caller.

use super::PkgRecord;

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_REQUIRENAME: u32 = 1049;
const TAG_DIRINDEXES: u32 = 1116;
const TAG_BASENAMES: u32 = 1117;
const TAG_DIRNAMES: u32 = 1118;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// Reads every package of an in-memory `rpmdb.sqlite`. A header that cannot be read is
/// skipped and counted; a file that is not an SQLite database with a `Packages` table is
/// an error (its text says why).
pub(crate) fn parse_sqlite(data: &[u8]) -> Result<(Vec<PkgRecord>, u32), String> {
    if !data.starts_with(b"SQLite format 3\0") {
        return Err("not an SQLite database".into());
    }
    let blobs = read_blobs(data).map_err(|e| format!("unreadable SQLite database ({e})"))?;
    let mut out = Vec::new();
    let mut skipped = 0;
    for blob in blobs {
        match parse_header(&blob) {
            Some(p) => out.push(p),
            None => skipped += 1,
        }
    }
    Ok((out, skipped))
}

fn read_blobs(data: &[u8]) -> rusqlite::Result<Vec<Vec<u8>>> {
    let mut conn = rusqlite::Connection::open_in_memory()?;
    conn.deserialize_read_exact(rusqlite::MAIN_DB, data, data.len(), true)?;
    let mut stmt = conn.prepare("SELECT blob FROM Packages")?;
    let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
    // A row that does not read (a damaged page) ends the table: what came before is kept.
    Ok(rows.map_while(Result::ok).collect())
}

/// One tag of a header's index.
struct Tag<'a> {
    kind: u32,
    count: usize,
    data: &'a [u8],
}

/// Parses a header blob (`il`, `dl`, `il` index entries, then `dl` bytes of data).
pub(crate) fn parse_header(blob: &[u8]) -> Option<PkgRecord> {
    let be = |b: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    let il = usize::try_from(be(blob, 0)?).ok()?;
    let dl = usize::try_from(be(blob, 4)?).ok()?;
    let index_end = il.checked_mul(16)?.checked_add(8)?;
    let store = blob.get(index_end..index_end.checked_add(dl)?)?;
    let tag = |want: u32| -> Option<Tag<'_>> {
        (0..il).find_map(|i| {
            let at = 8 + i * 16;
            if be(blob, at)? != want {
                return None;
            }
            let kind = be(blob, at + 4)?;
            let offset = usize::try_from(be(blob, at + 8)?).ok()?;
            let count = usize::try_from(be(blob, at + 12)?).ok()?;
            Some(Tag {
                kind,
                count,
                data: store.get(offset..)?,
            })
        })
    };
    let string = |want: u32| -> Option<String> {
        let t = tag(want)?;
        if t.kind != TYPE_STRING && t.kind != TYPE_I18NSTRING {
            return None;
        }
        strings(t.data, 1).and_then(|mut v| v.pop())
    };
    let string_array = |want: u32| -> Option<Vec<String>> {
        let t = tag(want)?;
        (t.kind == TYPE_STRING_ARRAY).then_some(())?;
        strings(t.data, t.count)
    };
    let int32s = |want: u32| -> Option<Vec<u32>> {
        let t = tag(want)?;
        (t.kind == TYPE_INT32).then_some(())?;
        let bytes = t.data.get(..t.count.checked_mul(4)?)?;
        Some(
            bytes
                .chunks_exact(4)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        )
    };
    let name = string(TAG_NAME)?;
    let version = string(TAG_VERSION)?;
    let release = string(TAG_RELEASE).unwrap_or_default();
    let epoch = int32s(TAG_EPOCH).and_then(|v| v.first().copied());
    let mut full = match epoch {
        Some(e) if e > 0 => format!("{e}:{version}"),
        _ => version,
    };
    if !release.is_empty() {
        full = format!("{full}-{release}");
    }
    let mut files = Vec::new();
    if let Some(base) = string_array(TAG_BASENAMES) {
        let dirs = string_array(TAG_DIRNAMES)?;
        let idx = int32s(TAG_DIRINDEXES)?;
        if idx.len() != base.len() {
            return None;
        }
        for (b, i) in base.iter().zip(idx) {
            let d = dirs.get(usize::try_from(i).ok()?)?;
            files.push(format!("{d}{b}"));
        }
    }
    let mut depends: Vec<String> = string_array(TAG_REQUIRENAME)
        .unwrap_or_default()
        .into_iter()
        .filter(|r| !r.contains(['(', '/']) && !r.is_empty())
        .filter(|r| *r != name)
        .collect();
    depends.sort();
    depends.dedup();
    (!name.is_empty()).then_some(PkgRecord {
        name,
        version: full,
        depends,
        files,
    })
}

/// `count` NUL-terminated strings from the start of `data`.
fn strings(data: &[u8], count: usize) -> Option<Vec<String>> {
    let mut out = Vec::with_capacity(count.min(1 << 16));
    let mut rest = data;
    for _ in 0..count {
        let end = memchr::memchr(0, rest)?;
        out.push(String::from_utf8_lossy(&rest[..end]).into_owned());
        rest = &rest[end + 1..];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use layersift_fixture::packages::{rpm_header as package_header, rpm_sqlite_db as sqlite_db};

    #[test]
    fn header_round_trip() {
        let h = package_header(
            "bash",
            "5.2.26",
            "3.fc40",
            &["libc.so.6()(64bit)", "filesystem", "/bin/sh"],
            &["/usr/bin/bash", "/usr/bin/sh", "/etc/skel/.bashrc"],
        );
        let p = parse_header(&h).unwrap();
        assert_eq!(p.name, "bash");
        assert_eq!(p.version, "5.2.26-3.fc40");
        assert_eq!(p.depends, ["filesystem"]);
        assert_eq!(
            p.files,
            ["/usr/bin/bash", "/usr/bin/sh", "/etc/skel/.bashrc"]
        );
        for n in 0..h.len() {
            let _ = parse_header(&h[..n]);
        }
        let mut bad = h.clone();
        bad[8 + 8..8 + 12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(parse_header(&bad), None);
    }

    #[test]
    fn sqlite_round_trip_and_corruption() {
        let db = sqlite_db(&[
            package_header("a", "1", "1", &[], &["/a"]),
            b"\0\0\0\xff garbage".to_vec(),
        ])
        .unwrap();
        let (p, skipped) = parse_sqlite(&db).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(skipped, 1);
        assert!(parse_sqlite(b"not sqlite").is_err());
        let mut cut = db.clone();
        cut.truncate(db.len() / 2);
        let _ = parse_sqlite(&cut);
        let mut scrambled = db;
        for b in scrambled.iter_mut().skip(100).step_by(7) {
            *b ^= 0x5a;
        }
        let _ = parse_sqlite(&scrambled);
    }
}
