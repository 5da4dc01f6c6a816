//! Local container engines (`podman:NAME`, `docker-daemon:NAME`): streams the image out of
//! `podman image save` / `docker save` into a private temporary file, then reads that
//! docker archive in place like `docker-archive:`. The file is deleted when the image is
//! dropped. Like every source's, its layers pass through the layer cache, so a second
//! analysis skips decoding (the save itself still runs: it is how the engine hands images
//! out).

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use super::{docker_archive, BlobStore, Image, ImageRef, LayerBlob, SourceError};
use super::{TarContainer, Transport};

/// Why an engine could not hand over an image.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("`{program}` is not installed or not on PATH")]
    MissingProgram {
        program: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("{program} has no image `{name}`")]
    NoSuchImage {
        program: &'static str,
        name: String,
        message: String,
    },
    #[error("`{program} image save {name}` failed: {message}")]
    SaveFailed {
        program: &'static str,
        name: String,
        message: String,
    },
    #[error("cannot store the saved image in `{}`", path.display())]
    Temp {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl DaemonError {
    pub fn hint(&self) -> Option<String> {
        match self {
            DaemonError::MissingProgram { program, .. } => Some(format!(
                "install {program}, or export the image with `skopeo copy` and use \
                 `docker-archive:PATH` or `oci:DIR`"
            )),
            DaemonError::NoSuchImage { program, .. } => Some(format!(
                "`{program} images` lists local images; `docker://NAME` reads from a registry"
            )),
            DaemonError::SaveFailed { program, .. } => Some(format!(
                "check that `{program} images` works (is the {program} service running?)"
            )),
            DaemonError::Temp { .. } => {
                Some("set TMPDIR to a directory with room for the image".to_string())
            }
        }
    }
}

impl From<DaemonError> for SourceError {
    fn from(e: DaemonError) -> Self {
        SourceError::Daemon(Box::new(e))
    }
}

/// A directory removed with everything in it when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> io::Result<TempDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!("layersift-{}-{nanos}", std::process::id()));
        fs::create_dir(&p)?;
        Ok(TempDir(p))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn save(program: &'static str, name: &str, dest: &Path) -> Result<(), DaemonError> {
    let mut args = vec!["image", "save"];
    if program == "podman" {
        args.extend(["--format", "docker-archive"]);
    }
    let mut child = Command::new(program)
        .args(&args)
        .arg(name)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| DaemonError::MissingProgram { program, source })?;
    let temp_err = |source| DaemonError::Temp {
        path: dest.to_path_buf(),
        source,
    };
    // Drain stderr on its own thread so a chatty engine cannot block on a full pipe.
    let stderr = child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = e.read_to_string(&mut s);
            s
        })
    });
    let copied = match child.stdout.take() {
        Some(mut out) => File::create(dest)
            .and_then(|mut f| io::copy(&mut out, &mut f))
            .map_err(temp_err),
        None => Ok(0),
    };
    let status = child.wait().map_err(temp_err)?;
    let message = stderr
        .and_then(|t| t.join().ok())
        .unwrap_or_default()
        .trim()
        .to_string();
    if !status.success() {
        let lower = message.to_lowercase();
        if lower.contains("not known")
            || lower.contains("no such image")
            || lower.contains("not found")
            // dockerd when the repository exists but not the tag.
            || lower.contains("reference does not exist")
        {
            return Err(DaemonError::NoSuchImage {
                program,
                name: name.to_string(),
                message,
            });
        }
        return Err(DaemonError::SaveFailed {
            program,
            name: name.to_string(),
            message: if message.is_empty() {
                format!("exit status {status}")
            } else {
                message
            },
        });
    }
    copied?;
    Ok(())
}

/// Opens an image held by podman or the docker daemon.
pub(crate) fn open(r: &ImageRef) -> Result<Image, SourceError> {
    let program = match r.transport {
        Transport::Podman => "podman",
        _ => "docker",
    };
    let dir = TempDir::new().map_err(|source| DaemonError::Temp {
        path: std::env::temp_dir(),
        source,
    })?;
    let tar = dir.0.join("image.tar");
    save(program, &r.location, &tar)?;
    let archive_ref = ImageRef {
        transport: Transport::DockerArchive,
        location: tar.to_string_lossy().into_owned(),
        inner: None,
    };
    let mut image = docker_archive::open(Arc::new(TarContainer::open(&tar)?), &archive_ref)?;
    image.reference = r.to_string();
    image.transport = r.transport;
    image.store = Arc::new(SavedStore {
        inner: image.store,
        _dir: dir,
    });
    Ok(image)
}

/// The saved archive's blobs; the archive goes when the store does.
struct SavedStore {
    inner: Arc<dyn BlobStore>,
    _dir: TempDir,
}

impl BlobStore for SavedStore {
    fn open(&self, layer: &LayerBlob) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        self.inner.open(layer)
    }
}
