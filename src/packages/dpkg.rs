//! dpkg: the `status` database (and distroless `status.d/` files, same format), and the
//! per-package file lists (`info/NAME.list`, `status.d/NAME.md5sums`).

use super::PkgRecord;

/// Reads a status file: RFC 822-style stanzas separated by blank lines. Only installed
/// packages are kept (`Status: … installed`; a stanza without `Status`, as distroless
/// writes them, counts as installed). A stanza without `Package` or `Version` is skipped
/// and counted, as is one that is not valid UTF-8.
pub(crate) fn parse_status(data: &[u8]) -> (Vec<PkgRecord>, u32) {
    let mut out = Vec::new();
    let mut skipped = 0;
    for stanza in stanzas(data) {
        let Ok(text) = std::str::from_utf8(stanza) else {
            skipped += 1;
            continue;
        };
        let mut name = None;
        let mut version = None;
        let mut installed = true;
        let mut depends = Vec::new();
        let mut field = "";
        for line in text.lines() {
            if line.starts_with([' ', '\t']) {
                if matches!(field, "Depends" | "Pre-Depends") {
                    depends.extend(dependency_names(line));
                }
                continue;
            }
            let Some((k, v)) = line.split_once(':') else {
                field = "";
                continue;
            };
            field = k;
            let v = v.trim();
            match k {
                "Package" => name = Some(v.to_string()),
                "Version" => version = Some(v.to_string()),
                "Status" => installed = v.split_whitespace().last() == Some("installed"),
                "Depends" | "Pre-Depends" => depends.extend(dependency_names(v)),
                _ => {}
            }
        }
        let (Some(name), Some(version)) = (name, version) else {
            skipped += 1;
            continue;
        };
        if name.is_empty() || version.is_empty() {
            skipped += 1;
            continue;
        }
        if !installed {
            continue;
        }
        depends.sort();
        depends.dedup();
        out.push(PkgRecord {
            name,
            version,
            depends,
            files: Vec::new(),
        });
    }
    (out, skipped)
}

/// Non-empty stanzas of a control file.
fn stanzas(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    std::iter::from_fn(move || loop {
        if rest.is_empty() {
            return None;
        }
        let (stanza, next) = match memchr::memmem::find(rest, b"\n\n") {
            Some(i) => (&rest[..i], &rest[i + 2..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        if stanza.iter().any(|b| !b.is_ascii_whitespace()) {
            return Some(stanza);
        }
    })
}

/// Package names of a `Depends` value: `a (>= 1), b | c, d:any` → `a`, `b`, `d`.
pub(crate) fn dependency_names(v: &str) -> impl Iterator<Item = String> + '_ {
    v.split(',').filter_map(|alt| {
        let first = alt.split('|').next()?.trim();
        let name = first
            .split(|c: char| c.is_whitespace() || c == '(' || c == '[' || c == '<')
            .next()?;
        let name = name.split(':').next()?;
        (!name.is_empty()).then(|| name.to_string())
    })
}

/// `info/NAME.list`: one absolute path a line (directories included; they own no bytes).
pub(crate) fn parse_list(data: &[u8]) -> (Vec<String>, u32) {
    let mut out = Vec::new();
    let mut skipped = 0;
    for line in data.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        match std::str::from_utf8(line) {
            Ok(p) if p.starts_with('/') && p != "/." => out.push(p.to_string()),
            Ok("/.") => {}
            _ => skipped += 1,
        }
    }
    (out, skipped)
}

/// `NAME.md5sums`: `HASH  relative/path` lines.
pub(crate) fn parse_md5sums(data: &[u8]) -> (Vec<String>, u32) {
    let mut out = Vec::new();
    let mut skipped = 0;
    for line in data.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let path = std::str::from_utf8(line)
            .ok()
            .and_then(|l| l.split_once("  "))
            .map(|(_, p)| p.trim_start_matches('/'));
        match path {
            Some(p) if !p.is_empty() => out.push(format!("/{p}")),
            _ => skipped += 1,
        }
    }
    (out, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Package: curl\nStatus: install ok installed\nVersion: 7.88.1-10\n\
Depends: libc6 (>= 2.34), libcurl4 (= 7.88.1-10) | libcurl-alt,\n zlib1g:any\nDescription: x\n multi\n\n\
Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n\
Package: noversion\nStatus: install ok installed\n\n\
Package: dash\nPre-Depends: libc6\nVersion: 0.5\n";

    #[test]
    fn status_keeps_installed_and_counts_bad_stanzas() {
        let (p, skipped) = parse_status(STATUS.as_bytes());
        assert_eq!(skipped, 1, "the stanza without a version");
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].name, "curl");
        assert_eq!(p[0].version, "7.88.1-10");
        assert_eq!(p[0].depends, ["libc6", "libcurl4", "zlib1g"]);
        assert_eq!(p[1].name, "dash");
        assert_eq!(p[1].depends, ["libc6"]);
    }

    #[test]
    fn hostile_input_never_panics() {
        for data in [
            &b""[..],
            b"\n\n\n",
            b"Package",
            b"\xff\xfe\n\nPackage: a\nVersion: 1",
        ] {
            let _ = parse_status(data);
            let _ = parse_list(data);
            let _ = parse_md5sums(data);
        }
        let (p, skipped) = parse_status(b"\xff\xfe\n\nPackage: a\nVersion: 1");
        assert_eq!((p.len(), skipped), (1, 1));
    }

    #[test]
    fn lists() {
        let (l, s) = parse_list(b"/.\n/bin\n/bin/bash\nrelative\n");
        assert_eq!(l, ["/bin", "/bin/bash"]);
        assert_eq!(s, 1);
        let (l, s) = parse_md5sums(b"abc  usr/bin/x\nbroken\n");
        assert_eq!(l, ["/usr/bin/x"]);
        assert_eq!(s, 1);
    }
}
