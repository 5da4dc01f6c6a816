//! Python distributions: `*.dist-info` (`METADATA` for name and version, `RECORD` for the
//! files) and `*.egg-info` (`PKG-INFO`, `installed-files.txt`, or `top_level.txt` when no
//! file list is shipped, as Debian's `python3-*` packages do).

/// `Name:` and `Version:` of a METADATA / PKG-INFO file (email-header style; the headers
/// end at the first blank line).
pub(crate) fn parse_metadata(data: &[u8]) -> Option<(String, String)> {
    let text = String::from_utf8_lossy(data);
    let (mut name, mut version) = (None, None);
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Name:") {
            name.get_or_insert_with(|| v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("Version:") {
            version.get_or_insert_with(|| v.trim().to_string());
        }
    }
    let (name, version) = (name?, version?);
    (!name.is_empty() && !version.is_empty()).then_some((name, version))
}

/// `RECORD`: CSV rows `path,hash,size`, paths relative to the directory holding the
/// `.dist-info` (site-packages). Paths may be quoted and may climb (`../../bin/x`).
pub(crate) fn parse_record(meta_dir: &str, data: &[u8]) -> (Vec<String>, u32) {
    let base = meta_dir.rsplit_once('/').map_or("", |(d, _)| d);
    let mut out = Vec::new();
    let mut skipped = 0;
    for line in String::from_utf8_lossy(data).lines() {
        if line.trim().is_empty() {
            continue;
        }
        let path = if let Some(rest) = line.strip_prefix('"') {
            // A quoted field: `""` is a literal quote.
            let mut p = String::new();
            let mut chars = rest.chars().peekable();
            let mut closed = false;
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        p.push('"');
                    } else {
                        closed = true;
                        break;
                    }
                } else {
                    p.push(c);
                }
            }
            closed.then_some(p)
        } else {
            line.split(',').next().map(str::to_string)
        };
        match path
            .filter(|p| !p.is_empty())
            .and_then(|p| super::join_path(base, &p))
        {
            Some(p) => out.push(p),
            None => skipped += 1,
        }
    }
    (out, skipped)
}

/// `installed-files.txt`: paths relative to the `.egg-info` directory itself.
pub(crate) fn parse_installed_files(meta_dir: &str, data: &[u8]) -> (Vec<String>, u32) {
    let mut out = Vec::new();
    let mut skipped = 0;
    for line in String::from_utf8_lossy(data).lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match super::join_path(meta_dir, line) {
            Some(p) => out.push(p),
            None => skipped += 1,
        }
    }
    (out, skipped)
}

/// `top_level.txt`: importable names; each owns `NAME/` (a directory prefix, written with a
/// trailing `/`) and `NAME.py` beside the `.egg-info`.
pub(crate) fn parse_top_level(meta_dir: &str, data: &[u8]) -> (Vec<String>, u32) {
    let base = meta_dir.rsplit_once('/').map_or("", |(d, _)| d);
    let mut out = Vec::new();
    let mut skipped = 0;
    for line in String::from_utf8_lossy(data).lines() {
        let name = line.trim();
        if name.is_empty() {
            continue;
        }
        if name.contains("..") || name.starts_with('/') {
            skipped += 1;
            continue;
        }
        if let Some(p) = super::join_path(base, name) {
            out.push(format!("{p}/"));
            out.push(format!("{p}.py"));
        }
    }
    (out, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata() {
        let m = b"Metadata-Version: 2.1\nName: requests\nVersion: 2.32.3\n\nName: body\n";
        assert_eq!(
            parse_metadata(m),
            Some(("requests".into(), "2.32.3".into()))
        );
        assert_eq!(parse_metadata(b"Name: x\n"), None);
        assert_eq!(parse_metadata(b"\xff\xfe"), None);
    }

    #[test]
    fn record_paths_resolve_against_site_packages() {
        let r = b"requests/__init__.py,sha256=x,10\n\"odd,name.py\",,\n../../../bin/req,,\nrequests-2.dist-info/RECORD,,\n../../../../../../x,,\n";
        let (p, skipped) = parse_record("usr/lib/python3/site-packages/requests-2.dist-info", r);
        assert_eq!(
            p,
            [
                "/usr/lib/python3/site-packages/requests/__init__.py",
                "/usr/lib/python3/site-packages/odd,name.py",
                "/usr/bin/req",
                "/usr/lib/python3/site-packages/requests-2.dist-info/RECORD",
            ]
        );
        assert_eq!(skipped, 1);
    }

    #[test]
    fn egg_info_lists() {
        let (p, _) = parse_installed_files("lib/sp/a.egg-info", b"../a/__init__.py\nPKG-INFO\n");
        assert_eq!(p, ["/lib/sp/a/__init__.py", "/lib/sp/a.egg-info/PKG-INFO"]);
        let (p, s) = parse_top_level("lib/sp/a.egg-info", b"a\n../x\n");
        assert_eq!(p, ["/lib/sp/a/", "/lib/sp/a.py"]);
        assert_eq!(s, 1);
    }
}
