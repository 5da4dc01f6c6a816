//! Go: the build info the Go linker embeds in every binary (`go version -m` prints it):
//! the main module's path and version, the Go version and the dependency modules.
//!
//! It is found while the binary streams through the tar walk, without holding the binary:
//! ELF files are searched for the build-info magic (`\xff Go buildinf:`, in the
//! `.go.buildinfo` section) and the few kilobytes after it are kept. Go 1.18 and later
//! write the strings inline after the 32-byte header; older binaries hold pointers into
//! the data segment, which a streaming read cannot follow: they are not read.

use serde::{Deserialize, Serialize};

const MAGIC: &[u8] = b"\xff Go buildinf:";
/// The header and the inline strings after it: module lists of real binaries are a few KiB.
const KEEP: usize = 256 * 1024;

/// A Go binary's build info.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoBuildInfo {
    /// The main package's import path (`path` line).
    pub path: String,
    /// The main module and its version (`(devel)` for a local build).
    pub module: String,
    pub version: String,
    /// The Go toolchain (`go1.22.1`).
    pub go_version: String,
    /// Dependency modules, `(path, version)`, replacements applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deps: Vec<(String, String)>,
}

/// Streaming search for the build info in one file.
#[derive(Default)]
pub(crate) struct Scanner {
    /// `None` until the first bytes say whether this is an ELF file.
    elf: Option<bool>,
    /// The last bytes of the previous chunk, so a magic split across chunks is found.
    tail: Vec<u8>,
    /// From the magic on, once found.
    kept: Option<Vec<u8>>,
    finder: Option<memchr::memmem::Finder<'static>>,
}

impl Scanner {
    pub(crate) fn start(&mut self) {
        self.elf = None;
        self.tail.clear();
        self.kept = None;
    }

    pub(crate) fn feed(&mut self, chunk: &[u8]) {
        if self.elf.is_none() {
            // The first four bytes say, even when they come one chunk at a time.
            let seen = self.tail.len();
            let want = 4usize.saturating_sub(seen).min(chunk.len());
            self.tail.extend_from_slice(&chunk[..want]);
            if self.tail.len() < 4 {
                return;
            }
            self.elf = Some(self.tail.starts_with(b"\x7fELF"));
            self.tail.clear();
            if self.elf == Some(true) {
                // Nothing of the magic can be in the ELF header itself.
                return self.feed(&chunk[want..]);
            }
        }
        if self.elf != Some(true) {
            return;
        }
        if let Some(kept) = &mut self.kept {
            let room = KEEP.saturating_sub(kept.len());
            kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            return;
        }
        let finder = self
            .finder
            .get_or_insert_with(|| memchr::memmem::Finder::new(MAGIC));
        // A magic that starts in the bytes before this chunk.
        let t = self.tail.len();
        let mut joined = std::mem::take(&mut self.tail);
        joined.extend_from_slice(&chunk[..chunk.len().min(MAGIC.len())]);
        if let Some(i) = finder.find(&joined).filter(|&i| i < t) {
            let mut kept = joined[i..t].to_vec();
            kept.extend_from_slice(&chunk[..chunk.len().min(KEEP)]);
            self.kept = Some(kept);
            return;
        }
        if let Some(i) = finder.find(chunk) {
            let rest = &chunk[i..];
            self.kept = Some(rest[..rest.len().min(KEEP)].to_vec());
            return;
        }
        // Keep the last bytes seen (fewer than a magic) for the next chunk.
        let keep = MAGIC.len() - 1;
        if chunk.len() >= keep {
            joined.clear();
            joined.extend_from_slice(&chunk[chunk.len() - keep..]);
        } else {
            joined.truncate(t);
            joined.extend_from_slice(chunk);
            let cut = joined.len().saturating_sub(keep);
            joined.drain(..cut);
        }
        self.tail = joined;
    }

    /// The build info of the file that just ended, when it had one this can read.
    pub(crate) fn finish(&mut self) -> Option<GoBuildInfo> {
        let kept = self.kept.take()?;
        self.start();
        parse(&kept)
    }
}

/// Reads build info from the bytes starting at its magic.
pub(crate) fn parse(data: &[u8]) -> Option<GoBuildInfo> {
    let header = data.get(..32)?;
    if !header.starts_with(MAGIC) {
        return None;
    }
    let flags = header[15];
    if flags & 2 == 0 {
        return None; // pre-1.18 pointer form
    }
    let mut rest = &data[32..];
    let go_version = take_string(&mut rest)?;
    let mut modinfo = take_string(&mut rest)?;
    // The module info is framed by 16-byte sentinels.
    if modinfo.len() >= 33 && modinfo.as_bytes().get(modinfo.len() - 17) == Some(&b'\n') {
        modinfo = modinfo.get(16..modinfo.len() - 16)?.to_string();
    }
    let mut info = GoBuildInfo {
        path: String::new(),
        module: String::new(),
        version: String::new(),
        go_version,
        deps: Vec::new(),
    };
    let mut last_dep: Option<usize> = None;
    for line in modinfo.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["path", p, ..] => info.path = (*p).to_string(),
            ["mod", m, v, ..] => {
                info.module = (*m).to_string();
                info.version = (*v).to_string();
                last_dep = None;
            }
            ["dep", m, v, ..] => {
                info.deps.push(((*m).to_string(), (*v).to_string()));
                last_dep = Some(info.deps.len() - 1);
            }
            ["=>", m, v, ..] => {
                if let Some(d) = last_dep.and_then(|i| info.deps.get_mut(i)) {
                    *d = ((*m).to_string(), (*v).to_string());
                }
            }
            _ => {}
        }
    }
    if info.module.is_empty() {
        info.module.clone_from(&info.path);
    }
    (!info.module.is_empty()).then_some(info)
}

/// A uvarint-length-prefixed string.
fn take_string(rest: &mut &[u8]) -> Option<String> {
    let mut len: u64 = 0;
    let mut shift = 0;
    let mut i = 0;
    loop {
        let b = *rest.get(i)?;
        i += 1;
        len |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 35 {
            return None;
        }
    }
    let len = usize::try_from(len).ok()?;
    let s = rest.get(i..i.checked_add(len)?)?;
    *rest = &rest[i + len..];
    Some(String::from_utf8_lossy(s).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODINFO: &str = "path\texample.com/hello\nmod\texample.com/hello\tv1.2.3\th1:x=\n\
dep\tgolang.org/x/text\tv0.3.0\th1:y=\n=>\tgolang.org/x/text\tv0.4.0\th1:z=\nbuild\t-compiler=gc\n";

    #[test]
    fn reads_inline_build_info() {
        let info = parse(&layersift_fixture::packages::go_build_info(
            "go1.22.1", MODINFO,
        ))
        .unwrap();
        assert_eq!(info.path, "example.com/hello");
        assert_eq!(info.module, "example.com/hello");
        assert_eq!(info.version, "v1.2.3");
        assert_eq!(info.go_version, "go1.22.1");
        assert_eq!(info.deps, [("golang.org/x/text".into(), "v0.4.0".into())]);
    }

    #[test]
    fn finds_it_across_chunk_boundaries() {
        let mut bin = b"\x7fELF".to_vec();
        bin.resize(1000, 7);
        bin.extend_from_slice(&layersift_fixture::packages::go_build_info(
            "go1.21.0", MODINFO,
        ));
        bin.resize(3000, 0);
        for chunk in [1, 5, 13, 64, 1003, 4096] {
            let mut s = Scanner::default();
            s.start();
            for c in bin.chunks(chunk) {
                s.feed(c);
            }
            let info = s.finish();
            assert_eq!(info.map(|i| i.version), Some("v1.2.3".into()), "{chunk}");
        }
        // Not an ELF file: not searched.
        let mut s = Scanner::default();
        s.feed(&bin[4..]);
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn hostile_input_never_panics() {
        let good = layersift_fixture::packages::go_build_info("go1", MODINFO);
        for n in 0..good.len() {
            let _ = parse(&good[..n]);
        }
        let mut bad = good.clone();
        bad[32] = 0xff;
        bad[33] = 0xff;
        let _ = parse(&bad);
        let mut old = good;
        old[15] = 0;
        assert_eq!(parse(&old), None);
    }
}
