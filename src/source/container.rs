//! Named-file access to where an image is stored: a directory, or a tar archive read in
//! place (its member offsets are indexed once; members are then read with their own file
//! handle, so several layers can stream from one archive in parallel without extracting).
//! Links between members (`docker save` stores a repeated layer as
//! `e2/layer.tar -> ../e1/layer.tar`) are followed, only to other members and only
//! [`MAX_LINK_DEPTH`] deep; a directory's symlinks may not lead outside it.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::SourceError;

/// A read-only store of named files.
pub trait Container: Send + Sync {
    /// Where it is, for messages.
    fn describe(&self) -> &Path;
    fn has(&self, name: &str) -> bool;
    /// Opens a member as a stream with its size.
    fn open(&self, name: &str) -> Result<(Box<dyn Read + Send + '_>, u64), SourceError>;

    /// A member's size.
    fn size(&self, name: &str) -> Result<u64, SourceError> {
        Ok(self.open(name)?.1)
    }

    /// Reads a small member whole, refusing anything over `limit` bytes.
    fn read_small(
        &self,
        what: &'static str,
        name: &str,
        limit: u64,
    ) -> Result<Vec<u8>, SourceError> {
        let (r, size) = self.open(name)?;
        if size > limit {
            return Err(SourceError::TooLarge { what, size, limit });
        }
        let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        r.take(limit + 1)
            .read_to_end(&mut buf)
            .map_err(|e| SourceError::io(self.describe().join(name), e))?;
        Ok(buf)
    }
}

/// A directory (an OCI layout, or an unpacked docker archive).
pub(crate) struct DirContainer {
    root: PathBuf,
}

impl DirContainer {
    pub(crate) fn open(root: &Path) -> Result<Self, SourceError> {
        if !root.exists() {
            return Err(SourceError::NotFound(root.to_path_buf()));
        }
        Ok(DirContainer {
            root: root.to_path_buf(),
        })
    }

    fn member(&self, name: &str) -> Result<PathBuf, SourceError> {
        // Names come from manifests: keep them inside the directory.
        if name.starts_with('/') || name.split('/').any(|c| c == "..") {
            return Err(SourceError::UnsafeMemberPath {
                name: name.to_string(),
            });
        }
        Ok(self.root.join(name))
    }
}

impl Container for DirContainer {
    fn describe(&self) -> &Path {
        &self.root
    }

    fn has(&self, name: &str) -> bool {
        self.member(name).is_ok_and(|p| p.is_file())
    }

    fn open(&self, name: &str) -> Result<(Box<dyn Read + Send + '_>, u64), SourceError> {
        let path = self.member(name)?;
        let file = File::open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => SourceError::Missing {
                name: name.to_string(),
            },
            _ => SourceError::io(&path, e),
        })?;
        // A symlink inside the directory may lead to another member, never out of it.
        let inside = match (path.canonicalize(), self.root.canonicalize()) {
            (Ok(real), Ok(root)) => real.starts_with(root),
            _ => false,
        };
        if !inside {
            return Err(SourceError::LinkOutside {
                name: name.to_string(),
                archive: false,
            });
        }
        let size = file
            .metadata()
            .map_err(|e| SourceError::io(&path, e))?
            .len();
        Ok((Box::new(file), size))
    }
}

/// Named files held in memory: an image's files handed over whole (fuzzing, tests).
pub struct MemContainer {
    files: HashMap<String, Vec<u8>>,
}

impl MemContainer {
    pub fn new(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> Self {
        MemContainer {
            files: files.into_iter().collect(),
        }
    }
}

impl Container for MemContainer {
    fn describe(&self) -> &Path {
        Path::new("(memory)")
    }

    fn has(&self, name: &str) -> bool {
        self.files.contains_key(name)
    }

    fn open(&self, name: &str) -> Result<(Box<dyn Read + Send + '_>, u64), SourceError> {
        let data = self.files.get(name).ok_or_else(|| SourceError::Missing {
            name: name.to_string(),
        })?;
        Ok((Box::new(data.as_slice()), data.len() as u64))
    }
}

/// Links followed from one member name before giving up (a loop, or a hostile chain).
pub(super) const MAX_LINK_DEPTH: usize = 8;

/// A tar archive (OCI archive or docker archive), read in place.
pub(crate) struct TarContainer {
    path: PathBuf,
    members: HashMap<String, (u64, u64)>,
    /// Symbolic and hard links between members: name → the member name it points to
    /// (`None` when it points outside the archive).
    links: HashMap<String, Option<String>>,
    /// The archive ends without its end-of-archive marker: it was cut short.
    truncated: bool,
}

/// `a/./b/../c` → `a/c`; `None` if `..` climbs above the archive root.
fn normalize_member(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

/// Where a link member points, as a member name: a symlink's target is relative to the
/// link's directory (an absolute one leaves the archive); a hard link's names a member.
fn link_target(name: &str, target: &str, symlink: bool) -> Option<String> {
    if !symlink {
        return normalize_member(target);
    }
    if target.starts_with('/') {
        return None;
    }
    let dir = name.rsplit_once('/').map_or("", |(d, _)| d);
    normalize_member(&format!("{dir}/{target}"))
}

impl TarContainer {
    pub(crate) fn open(path: &Path) -> Result<Self, SourceError> {
        let file = File::open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => SourceError::NotFound(path.to_path_buf()),
            _ => SourceError::io(path, e),
        })?;
        let len = file.metadata().map_err(|e| SourceError::io(path, e))?.len();
        // The tar crate's errors quote header bytes; what the file holds is said instead
        // (an unreadable first header: no tar at all; a later one: a damaged archive).
        let bad = |read_any: bool| {
            if read_any {
                SourceError::Truncated(path.to_path_buf())
            } else {
                SourceError::UnknownFormat(path.to_path_buf())
            }
        };
        let mut archive = tar::Archive::new(std::io::BufReader::new(file));
        let mut members = HashMap::new();
        let mut links = HashMap::new();
        // Where the last member's data (padded to 512-byte blocks) ends.
        let mut end = 0u64;
        for entry in archive.entries_with_seek().map_err(|_| bad(false))? {
            let entry = entry.map_err(|_| bad(end > 0))?;
            let data_end = entry.raw_file_position() + entry.size().div_ceil(512) * 512;
            end = end.max(data_end);
            let kind = entry.header().entry_type();
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let name = name.trim_start_matches("./").to_string();
            if kind.is_symlink() || kind.is_hard_link() {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                links.insert(name.clone(), link_target(&name, &target, kind.is_symlink()));
                continue;
            }
            if !(kind.is_file() || kind.is_contiguous()) {
                continue;
            }
            members.insert(name, (entry.raw_file_position(), entry.size()));
        }
        if members.is_empty() {
            return Err(bad(false));
        }
        // A member whose data runs past the end of the file was cut short.
        if len < end {
            return Err(bad(true));
        }
        Ok(TarContainer {
            path: path.to_path_buf(),
            members,
            links,
            truncated: len < end + 1024,
        })
    }

    /// True when the archive ends without its end-of-archive marker (it was cut short).
    pub(crate) fn truncated(&self) -> bool {
        self.truncated
    }

    /// The offset and size of the member `name` names, following links between members.
    fn member(&self, name: &str) -> Result<(u64, u64), SourceError> {
        let missing = || SourceError::Missing {
            name: name.to_string(),
        };
        let mut at = name.trim_start_matches("./").to_string();
        for _ in 0..=MAX_LINK_DEPTH {
            if let Some(&m) = self.members.get(&at) {
                return Ok(m);
            }
            match self.links.get(&at) {
                Some(Some(next)) => at = next.clone(),
                Some(None) => {
                    return Err(SourceError::LinkOutside {
                        name: name.to_string(),
                        archive: true,
                    })
                }
                None => return Err(missing()),
            }
        }
        Err(SourceError::LinkTooDeep {
            name: name.to_string(),
        })
    }
}

impl Container for TarContainer {
    fn describe(&self) -> &Path {
        &self.path
    }

    fn has(&self, name: &str) -> bool {
        self.member(name).is_ok()
    }

    fn open(&self, name: &str) -> Result<(Box<dyn Read + Send + '_>, u64), SourceError> {
        let (offset, size) = self.member(name)?;
        let mut file = File::open(&self.path).map_err(|e| SourceError::io(&self.path, e))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| SourceError::io(&self.path, e))?;
        Ok((Box::new(file.take(size)), size))
    }
}
