//! Named-file access to where an image is stored: a directory, or a tar archive read in
//! place (its member offsets are indexed once; members are then read with their own file
//! handle, so several layers can stream from one archive in parallel without extracting).

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
pub struct DirContainer {
    root: PathBuf,
}

impl DirContainer {
    pub fn open(root: &Path) -> Result<Self, SourceError> {
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
        let size = file
            .metadata()
            .map_err(|e| SourceError::io(&path, e))?
            .len();
        Ok((Box::new(file), size))
    }
}

/// A tar archive (OCI archive or docker archive), read in place.
pub struct TarContainer {
    path: PathBuf,
    members: HashMap<String, (u64, u64)>,
    /// The archive ends without its end-of-archive marker: it was cut short.
    truncated: bool,
}

impl TarContainer {
    pub fn open(path: &Path) -> Result<Self, SourceError> {
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
        // Where the last member's data (padded to 512-byte blocks) ends.
        let mut end = 0u64;
        for entry in archive.entries_with_seek().map_err(|_| bad(false))? {
            let entry = entry.map_err(|_| bad(end > 0))?;
            let data_end = entry.raw_file_position() + entry.size().div_ceil(512) * 512;
            end = end.max(data_end);
            let kind = entry.header().entry_type();
            if !(kind.is_file() || kind.is_contiguous()) {
                continue;
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let name = name.trim_start_matches("./").to_string();
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
            // Every tar writer ends with two zero blocks; without them the archive was
            // cut at a member boundary.
            truncated: len < end + 1024,
        })
    }

    /// True when the archive ends without its end-of-archive marker (it was cut short).
    pub fn truncated(&self) -> bool {
        self.truncated
    }
}

impl Container for TarContainer {
    fn describe(&self) -> &Path {
        &self.path
    }

    fn has(&self, name: &str) -> bool {
        self.members.contains_key(name.trim_start_matches("./"))
    }

    fn open(&self, name: &str) -> Result<(Box<dyn Read + Send + '_>, u64), SourceError> {
        let &(offset, size) = self
            .members
            .get(name.trim_start_matches("./"))
            .ok_or_else(|| SourceError::Missing {
                name: name.to_string(),
            })?;
        let mut file = File::open(&self.path).map_err(|e| SourceError::io(&self.path, e))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| SourceError::io(&self.path, e))?;
        Ok((Box::new(file.take(size)), size))
    }
}
