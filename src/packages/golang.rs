//! Go: the build info the Go linker embeds in every binary (`go version -m` prints it):
//! the main module's path and version, the Go version and the dependency modules.
//!
//! It is found while the binary streams through the tar walk, without holding the binary.
//! The ELF header and program headers at the start of the file are parsed with the `object`
//! crate; they give the file ranges of the writable `PT_LOAD` segments, where the linker puts
//! the `.go.buildinfo` section. The build-info magic (`\xff Go buildinf:`) is searched for
//! only there and only at 16-byte aligned offsets (the section's alignment), so a string
//! constant holding the same bytes in read-only data is never taken for it. The section
//! headers, which would name `.go.buildinfo`, sit at the end of the file: a streaming read
//! cannot wait for them, and the segments suffice. Go 1.18 and later write the strings inline
//! after the 32-byte header; older binaries hold pointers into the data segment, which a
//! streaming read cannot follow: they are not read.

use object::elf::{FileHeader32, FileHeader64, PF_W, PT_LOAD};
use object::read::elf::{FileHeader, ProgramHeader};
use object::Endianness;
use serde::{Deserialize, Serialize};

const MAGIC: &[u8] = b"\xff Go buildinf:";
/// The header and the inline strings after it: module lists of real binaries are a few KiB.
const KEEP: usize = 256 * 1024;
/// The linker aligns `.go.buildinfo` to 16 bytes.
const ALIGN: u64 = 16;
/// Program headers further into the file than this are not waited for.
const HEAD_MAX: usize = 64 * 1024;

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

/// Where the streaming search of one file stands.
#[derive(Default)]
enum State {
    /// Collecting the file's first bytes until the program headers are in.
    #[default]
    Head,
    /// Searching the writable segments' bytes for the magic.
    Search,
    /// Found: keeping the bytes from the magic on.
    Keep,
    /// Not an ELF file, no writable segment, or past the last one: nothing more to do.
    Done,
}

/// Streaming search for the build info in one file.
#[derive(Default)]
pub(crate) struct Scanner {
    state: State,
    /// The first bytes of the file, while in [`State::Head`].
    head: Vec<u8>,
    /// File ranges `[start, end)` of the writable `PT_LOAD` segments.
    writable: Vec<(u64, u64)>,
    /// File offset of the next byte fed.
    pos: u64,
    /// The last bytes of the previous chunk (fewer than a magic), so a magic split across
    /// chunks is found.
    tail: Vec<u8>,
    /// From the magic on, once found.
    kept: Vec<u8>,
    finder: Option<memchr::memmem::Finder<'static>>,
}

impl Scanner {
    pub(crate) fn start(&mut self) {
        self.state = State::Head;
        self.head.clear();
        self.writable.clear();
        self.pos = 0;
        self.tail.clear();
        self.kept.clear();
    }

    pub(crate) fn feed(&mut self, chunk: &[u8]) {
        match self.state {
            State::Done => {}
            State::Keep => {
                let room = KEEP.saturating_sub(self.kept.len());
                self.kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if self.kept.len() >= KEEP {
                    self.state = State::Done;
                }
            }
            State::Search => self.search(chunk),
            State::Head => {
                self.head.extend_from_slice(chunk);
                match program_headers(&self.head) {
                    Headers::Need(n) if n <= HEAD_MAX && self.head.len() < n => {}
                    Headers::Writable(ranges) if !ranges.is_empty() => {
                        self.writable = ranges;
                        self.state = State::Search;
                        let head = std::mem::take(&mut self.head);
                        self.search(&head);
                        self.head = head;
                        self.head.clear();
                    }
                    _ => self.state = State::Done,
                }
            }
        }
    }

    /// Looks for an aligned magic inside a writable segment in `chunk` (and across the
    /// boundary with the bytes before it).
    fn search(&mut self, chunk: &[u8]) {
        let start = self.pos;
        self.pos += chunk.len() as u64;
        let last_end = self.writable.iter().map(|r| r.1).max().unwrap_or(0);
        let first_start = self.writable.iter().map(|r| r.0).min().unwrap_or(0);
        if start >= last_end {
            self.state = State::Done;
            return;
        }
        if self.pos + (MAGIC.len() as u64) <= first_start {
            return; // not there yet; nothing of this chunk can start a magic there
        }
        let finder = self
            .finder
            .get_or_insert_with(|| memchr::memmem::Finder::new(MAGIC));
        // The previous chunk's last bytes joined with this chunk's first ones.
        let t = self.tail.len();
        let mut joined = std::mem::take(&mut self.tail);
        joined.extend_from_slice(&chunk[..chunk.len().min(MAGIC.len() - 1)]);
        let joined_start = start - t as u64;
        for i in finder.find_iter(&joined).filter(|&i| i < t) {
            if accepts(&self.writable, joined_start + i as u64) {
                self.kept = joined[i..t].to_vec();
                self.state = State::Keep;
                let rest = KEEP.saturating_sub(self.kept.len());
                self.kept.extend_from_slice(&chunk[..chunk.len().min(rest)]);
                return;
            }
        }
        for i in finder.find_iter(chunk) {
            if accepts(&self.writable, start + i as u64) {
                let rest = &chunk[i..];
                self.kept = rest[..rest.len().min(KEEP)].to_vec();
                self.state = State::Keep;
                return;
            }
        }
        // Keep the last bytes seen (fewer than a magic) for the next chunk.
        let keep = MAGIC.len() - 1;
        joined.truncate(t);
        joined.extend_from_slice(chunk);
        let cut = joined.len().saturating_sub(keep);
        joined.drain(..cut);
        self.tail = joined;
    }

    /// The build info of the file that just ended, when it had one this can read.
    pub(crate) fn finish(&mut self) -> Option<GoBuildInfo> {
        let found = matches!(self.state, State::Keep | State::Done) && !self.kept.is_empty();
        let info = if found { parse(&self.kept) } else { None };
        self.start();
        info
    }
}

/// Is a magic at file offset `at` where the linker puts `.go.buildinfo`?
fn accepts(writable: &[(u64, u64)], at: u64) -> bool {
    at % ALIGN == 0
        && writable
            .iter()
            .any(|&(s, e)| at >= s && at + MAGIC.len() as u64 <= e)
}

/// What the first bytes of a file say about its program headers.
enum Headers {
    /// Not (yet) readable: this many bytes are needed first.
    Need(usize),
    /// The file ranges of its writable `PT_LOAD` segments.
    Writable(Vec<(u64, u64)>),
    /// Not an ELF file `object` can read.
    NotElf,
}

fn program_headers(head: &[u8]) -> Headers {
    if head.len() < 5 {
        return Headers::Need(5);
    }
    if !head.starts_with(b"\x7fELF") {
        return Headers::NotElf;
    }
    match head[4] {
        1 => writable_segments::<FileHeader32<Endianness>>(head),
        2 => writable_segments::<FileHeader64<Endianness>>(head),
        _ => Headers::NotElf,
    }
}

fn writable_segments<H: FileHeader<Endian = Endianness>>(head: &[u8]) -> Headers {
    let header_size = std::mem::size_of::<H>();
    if head.len() < header_size {
        return Headers::Need(header_size);
    }
    let Ok(header) = H::parse(head) else {
        return Headers::NotElf;
    };
    let Ok(endian) = header.endian() else {
        return Headers::NotElf;
    };
    let table_end = usize::try_from(header.e_phoff(endian).into())
        .ok()
        .and_then(|off| {
            let size = usize::from(header.e_phentsize(endian));
            off.checked_add(size.checked_mul(usize::from(header.e_phnum(endian)))?)
        });
    match table_end {
        Some(end) if end > head.len() => return Headers::Need(end),
        None => return Headers::NotElf,
        Some(_) => {}
    }
    let Ok(segments) = header.program_headers(endian, head) else {
        return Headers::NotElf;
    };
    let ranges = segments
        .iter()
        .filter(|p| p.p_type(endian) == PT_LOAD && p.p_flags(endian) & PF_W != 0)
        .filter_map(|p| {
            let start: u64 = p.p_offset(endian).into();
            let end = start.checked_add(p.p_filesz(endian).into())?;
            Some((start, end))
        })
        .collect();
    Headers::Writable(ranges)
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
    let go_version = String::from_utf8_lossy(take_string(&mut rest)?).into_owned();
    let mut modinfo = take_string(&mut rest)?;
    // The module info is framed by 16-byte binary sentinels (cut before any text decoding:
    // they are not UTF-8).
    if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        modinfo = &modinfo[16..modinfo.len() - 16];
    }
    let modinfo = String::from_utf8_lossy(modinfo);
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
fn take_string<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
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
    Some(s)
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
    fn finds_it_in_the_writable_segment_across_chunk_boundaries() {
        let info = layersift_fixture::packages::go_build_info("go1.21.0", MODINFO);
        let decoy = layersift_fixture::packages::go_build_info(
            "go1.0",
            "mod\tdecoy.example/rodata\tv0.0.1\t\n",
        );
        let bin = layersift_fixture::packages::go_elf(&info, 5000, Some(&decoy));
        for chunk in [1, 5, 13, 64, 1003, 4096, 1 << 20] {
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
        // The magic alone, outside any ELF structure: not taken.
        let mut s = Scanner::default();
        let mut loose = b"\x7fELF".to_vec();
        loose.resize(1024, 0);
        loose.extend_from_slice(&info);
        s.feed(&loose);
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn a_magic_off_the_alignment_is_not_taken() {
        let info = layersift_fixture::packages::go_build_info("go1.21.0", MODINFO);
        let mut shifted = vec![0u8; 8];
        shifted.extend_from_slice(&info);
        let bin = layersift_fixture::packages::go_elf(&shifted, 100, None);
        let mut s = Scanner::default();
        s.feed(&bin);
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn program_headers_past_the_limit_or_truncated_are_not_read() {
        let info = layersift_fixture::packages::go_build_info("go1.21.0", MODINFO);
        let mut bin = layersift_fixture::packages::go_elf(&info, 100, None);
        // e_phoff far beyond the head limit.
        bin[32..40].copy_from_slice(&(1u64 << 40).to_le_bytes());
        let mut s = Scanner::default();
        s.feed(&bin);
        assert_eq!(s.finish(), None);
        // Every truncation of a real layout is handled without a panic.
        let bin = layersift_fixture::packages::go_elf(&info, 100, None);
        for n in 0..300 {
            let mut s = Scanner::default();
            s.feed(&bin[..n]);
            assert_eq!(s.finish(), None);
        }
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
