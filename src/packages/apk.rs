//! apk (Alpine): `/lib/apk/db/installed`, one stanza per package of `X:value` lines:
//! `P` name, `V` version, `D` dependencies, `F` a directory, `R` a file in the last `F`.

use super::PkgRecord;

/// Reads the installed database. A stanza without `P` or `V` is skipped and counted.
pub(crate) fn parse_installed(data: &[u8]) -> (Vec<PkgRecord>, u32) {
    let mut out = Vec::new();
    let mut skipped = 0;
    let text = String::from_utf8_lossy(data);
    for stanza in text.split("\n\n") {
        if stanza.trim().is_empty() {
            continue;
        }
        let (mut name, mut version) = (None, None);
        let mut depends = Vec::new();
        let mut files = Vec::new();
        let mut dir = String::new();
        let mut bad = false;
        for line in stanza.lines() {
            let Some((k, v)) = line.split_once(':') else {
                if !line.is_empty() {
                    bad = true;
                }
                continue;
            };
            match k {
                "P" => name = Some(v.to_string()),
                "V" => version = Some(v.to_string()),
                "D" => depends.extend(
                    v.split_whitespace()
                        .filter(|d| !d.starts_with('!'))
                        .filter_map(|d| {
                            let n = d
                                .split(['=', '<', '>', '~'])
                                .next()
                                .unwrap_or_default()
                                .trim_start_matches("so:")
                                .trim_start_matches("cmd:");
                            (!n.is_empty() && !d.starts_with("so:") && !d.starts_with("cmd:"))
                                .then(|| n.to_string())
                        }),
                ),
                "F" => dir = v.trim_matches('/').to_string(),
                "R" => match super::join_path(&dir, v) {
                    Some(p) if !v.is_empty() && !v.contains('/') => files.push(p),
                    _ => bad = true,
                },
                _ => {}
            }
        }
        match (name, version) {
            (Some(name), Some(version)) if !name.is_empty() && !version.is_empty() => {
                if bad {
                    skipped += 1;
                }
                out.push(PkgRecord {
                    name,
                    version,
                    depends,
                    files,
                });
            }
            _ => skipped += 1,
        }
    }
    (out, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_packages_and_files() {
        let db = b"C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nF:lib\nR:ld-musl-x86_64.so.1\nR:libc.musl-x86_64.so.1\n\n\
P:busybox\nV:1.36.1-r5\nD:so:libc.musl-x86_64.so.1 musl>=1.2\nF:bin\nR:busybox\nF:etc\nR:securetty\n\nV:9\nF:x\n\nP:evil\nV:1\nF:usr\nR:../../etc/passwd\n";
        let (p, skipped) = parse_installed(db);
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].name, "musl");
        assert_eq!(
            p[0].files,
            ["/lib/ld-musl-x86_64.so.1", "/lib/libc.musl-x86_64.so.1"]
        );
        assert_eq!(p[1].version, "1.36.1-r5");
        assert_eq!(p[1].depends, ["musl"]);
        assert_eq!(p[1].files, ["/bin/busybox", "/etc/securetty"]);
        assert!(p[2].files.is_empty(), "a file name with a slash is refused");
        assert_eq!(skipped, 2, "the stanza without a name, and evil's bad file");
    }

    #[test]
    fn hostile_input_never_panics() {
        for data in [
            &b""[..],
            b"P:",
            b"\n\n\nR:x",
            b"\xff\xff:\xff",
            b"F:../..\nR:x",
        ] {
            let _ = parse_installed(data);
        }
    }
}
