//! Test fixtures: a deterministic builder of tiny container images. This module
//! owns turning a short Rust description of layers ([`ImageBuilder`],
//! [`LayerBuilder`]) into layer tars, compressed blobs, an OCI config and
//! manifest ([`BuiltImage`]), and writing them as an OCI image layout, an OCI
//! archive, a classic `docker save` archive or a Docker 25+ archive (OCI layout
//! plus `manifest.json`). Tar headers are written by hand (through
//! [`tar::Header`]) so entry names are stored verbatim: hostile names such as
//! `../etc/passwd` or `/abs`, non-UTF-8 bytes, GNU or PAX long names and GNU
//! sparse files are all possible. The same description always yields the same
//! bytes. To build broken images, mutate the public fields of [`BuiltImage`] /
//! [`BuiltLayer`] or the [`Files`] of a format before writing them; see
//! [`BuiltImage`] for the rules.
//!
//! ```
//! use layersift::fixture::{Compression, Format, ImageBuilder};
//! # fn main() -> std::io::Result<()> {
//! let mut img = ImageBuilder::new()
//!     .layer("RUN apt-get update", |l| {
//!         l.dir("var/lib/apt/lists")
//!             .file("var/lib/apt/lists/Packages", vec![b'x'; 5000])
//!             .file_mode("usr/bin/tool", b"#!/bin/sh\n", 0o755)
//!     })
//!     .layer("RUN rm -rf /var/lib/apt/lists/*", |l| {
//!         l.whiteout("var/lib/apt/lists/Packages").compression(Compression::Zstd)
//!     })
//!     .empty_layer_step("ENV FOO=bar")
//!     .env("FOO=bar")
//!     .build()?;
//! img.layers[1].blob.truncate(10); // the blob no longer matches its digest
//! let dir = std::env::temp_dir().join("layersift-fixture-doc");
//! img.write(Format::OciLayout, &dir)?;
//! # std::fs::remove_dir_all(&dir)
//! # }
//! ```

use std::io::{self, Write};
use std::path::Path;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tar::{EntryType, GnuExtSparseHeader, Header};

/// Default mtime of entries and `created` time of config and history.
pub const DEFAULT_MTIME: u64 = 1_700_000_000;
pub const MT_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MT_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MT_OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const MT_OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub const MT_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const MT_DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// Compression of a layer blob.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    #[default]
    Gzip,
    Zstd,
    None,
}

impl Compression {
    /// The OCI layer media type for this compression.
    pub fn oci_media_type(self) -> &'static str {
        match self {
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
            Compression::None => MT_OCI_LAYER_TAR,
        }
    }

    /// The Docker schema 2 layer media type (zstd has none; the OCI one is used).
    pub fn docker_media_type(self) -> &'static str {
        match self {
            Compression::Gzip => "application/vnd.docker.image.rootfs.diff.tar.gzip",
            Compression::Zstd => self.oci_media_type(),
            Compression::None => "application/vnd.docker.image.rootfs.diff.tar",
        }
    }

    /// Compresses `data` deterministically (gzip: level 6, mtime 0; zstd: level 3).
    pub fn compress(self, data: &[u8]) -> io::Result<Vec<u8>> {
        match self {
            Compression::Gzip => {
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                enc.write_all(data)?;
                enc.finish()
            }
            Compression::Zstd => zstd::encode_all(data, 3),
            Compression::None => Ok(data.to_vec()),
        }
    }
}

/// On-disk form written by [`BuiltImage::write`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/`).
    OciLayout,
    /// A tar of the OCI image layout.
    OciArchive,
    /// Classic `docker save` tar: `manifest.json`, `<hex>.json`, `<id>/layer.tar`, `repositories`.
    DockerArchive,
    /// Docker 25+ `docker save` tar: OCI layout (uncompressed layers) plus `manifest.json`.
    DockerArchiveOci,
    /// `docker save` from the containerd image store (the default of fresh Docker 29+
    /// installs): the layers as pulled or built (compressed), `index.json` pointing at a
    /// nested image index, `manifest.json` but no `repositories`.
    DockerArchiveContainerd,
}

impl Format {
    /// All formats except [`Format::OciLayout`] are single tar files.
    pub fn is_archive(self) -> bool {
        self != Format::OciLayout
    }
}

/// How names and link targets longer than 100 bytes are encoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LongNames {
    /// GNU `././@LongLink` entries of type `L` / `K` (GNU headers).
    #[default]
    Gnu,
    /// PAX `x` extended headers with `path=` / `linkpath=` (ustar headers).
    Pax,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

#[derive(Clone, Debug)]
struct Entry {
    /// `None`: raw bytes in `data`.
    ty: Option<EntryType>,
    name: Vec<u8>,
    link: Vec<u8>,
    data: Vec<u8>,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: Option<u64>,
    dev: (u32, u32),
    sparse: Vec<(u64, u64)>,
    real_size: u64,
    pax: Vec<(String, Vec<u8>)>,
}

/// Entries of one layer, in insertion order. Names are written verbatim
/// (except that [`LayerBuilder::dir`] appends a `/`); modifiers such as
/// [`LayerBuilder::mode`] apply to the entry added last.
#[derive(Clone, Debug, Default)]
pub struct LayerBuilder {
    entries: Vec<Entry>,
    compression: Option<Compression>,
    media_type: Option<String>,
    long_names: LongNames,
    no_trailer: bool,
}

impl LayerBuilder {
    fn push(mut self, ty: EntryType, name: impl AsRef<[u8]>, link: &[u8], mode: u32) -> Self {
        self.entries.push(Entry {
            ty: Some(ty),
            name: name.as_ref().to_vec(),
            link: link.to_vec(),
            data: Vec::new(),
            mode,
            uid: 0,
            gid: 0,
            mtime: None,
            dev: (0, 0),
            sparse: Vec::new(),
            real_size: 0,
            pax: Vec::new(),
        });
        self
    }

    fn last(mut self, f: impl FnOnce(&mut Entry)) -> Self {
        if let Some(e) = self.entries.last_mut() {
            f(e);
        }
        self
    }

    /// Regular file, mode 0644.
    pub fn file(self, path: impl AsRef<[u8]>, data: impl Into<Vec<u8>>) -> Self {
        let data = data.into();
        self.push(EntryType::Regular, path, b"", 0o644)
            .last(|e| e.data = data)
    }

    pub fn file_mode(self, path: impl AsRef<[u8]>, data: impl Into<Vec<u8>>, mode: u32) -> Self {
        self.file(path, data).mode(mode)
    }

    /// Directory, mode 0755; a trailing `/` is added if missing (as docker does).
    pub fn dir(self, path: impl AsRef<[u8]>) -> Self {
        let mut name = path.as_ref().to_vec();
        if !name.ends_with(b"/") {
            name.push(b'/');
        }
        self.push(EntryType::Directory, name, b"", 0o755)
    }

    pub fn symlink(self, path: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> Self {
        self.push(EntryType::Symlink, path, target.as_ref(), 0o777)
    }

    /// Hard link `path` to the earlier entry `target`.
    pub fn hardlink(self, path: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> Self {
        self.push(EntryType::Link, path, target.as_ref(), 0o644)
    }

    pub fn fifo(self, path: impl AsRef<[u8]>) -> Self {
        self.push(EntryType::Fifo, path, b"", 0o644)
    }

    pub fn char_device(self, path: impl AsRef<[u8]>, major: u32, minor: u32) -> Self {
        self.push(EntryType::Char, path, b"", 0o666)
            .last(|e| e.dev = (major, minor))
    }

    pub fn block_device(self, path: impl AsRef<[u8]>, major: u32, minor: u32) -> Self {
        self.push(EntryType::Block, path, b"", 0o660)
            .last(|e| e.dev = (major, minor))
    }

    /// Whiteout of `path`: an empty file `DIR/.wh.NAME`.
    pub fn whiteout(self, path: impl AsRef<[u8]>) -> Self {
        let path = path.as_ref();
        let path = path.strip_suffix(b"/").unwrap_or(path);
        let cut = path.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
        let name = [&path[..cut], b".wh.", &path[cut..]].concat();
        self.push(EntryType::Regular, name, b"", 0o644)
    }

    /// Opaque-directory marker `DIR/.wh..wh..opq`.
    pub fn opaque(self, dir: impl AsRef<[u8]>) -> Self {
        let dir = dir.as_ref();
        let dir = dir.strip_suffix(b"/").unwrap_or(dir);
        let name = [dir, b"/.wh..wh..opq"].concat();
        self.push(EntryType::Regular, name, b"", 0o644)
    }

    /// Old-GNU sparse file (type `S`) of `real_size` bytes whose data is the
    /// `(offset, bytes)` chunks; more than 4 chunks use extension blocks. All
    /// chunks but the last should be 512-byte multiples, as GNU tar writes them;
    /// a trailing hole gets GNU's terminating `(real_size, 0)` chunk.
    pub fn sparse(self, path: impl AsRef<[u8]>, real_size: u64, chunks: &[(u64, &[u8])]) -> Self {
        let data = chunks.iter().flat_map(|c| c.1.iter().copied()).collect();
        let mut map: Vec<_> = chunks.iter().map(|c| (c.0, c.1.len() as u64)).collect();
        if map.last().map_or(0, |c| c.0 + c.1) < real_size {
            map.push((real_size, 0));
        }
        self.push(EntryType::GNUSparse, path, b"", 0o644).last(|e| {
            e.data = data;
            e.sparse = map;
            e.real_size = real_size;
        })
    }

    /// Bytes appended to the layer tar verbatim: no header, padding or checks.
    /// Use e.g. a `tar::Header` with a bad checksum, or a header whose data is cut short.
    pub fn raw_bytes(self, bytes: impl Into<Vec<u8>>) -> Self {
        let bytes = bytes.into();
        self.push(EntryType::Regular, b"", b"", 0).last(|e| {
            e.ty = None;
            e.data = bytes;
        })
    }

    /// Sets the mode (permission bits) of the last entry.
    pub fn mode(self, mode: u32) -> Self {
        self.last(|e| e.mode = mode)
    }

    pub fn owner(self, uid: u64, gid: u64) -> Self {
        self.last(|e| {
            e.uid = uid;
            e.gid = gid;
        })
    }

    pub fn mtime(self, secs: u64) -> Self {
        self.last(|e| e.mtime = Some(secs))
    }

    /// Adds a PAX record (e.g. `SCHILY.xattr.user.x`) to the last entry.
    pub fn pax(self, key: &str, value: impl AsRef<[u8]>) -> Self {
        self.last(|e| e.pax.push((key.to_string(), value.as_ref().to_vec())))
    }

    /// Overrides the image-wide compression for this layer.
    pub fn compression(mut self, c: Compression) -> Self {
        self.compression = Some(c);
        self
    }

    /// Overrides the media type written in the manifest (the blob is unchanged).
    pub fn media_type(mut self, media_type: &str) -> Self {
        self.media_type = Some(media_type.to_string());
        self
    }

    pub fn long_names(mut self, form: LongNames) -> Self {
        self.long_names = form;
        self
    }

    /// Leaves out the two zero blocks that end a tar.
    pub fn no_trailer(mut self) -> Self {
        self.no_trailer = true;
        self
    }

    /// The uncompressed layer tar.
    pub fn to_tar(&self, default_mtime: u64) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        for e in &self.entries {
            write_entry(&mut out, e, self.long_names, default_mtime)?;
        }
        if !self.no_trailer {
            out.extend_from_slice(&[0; 1024]);
        }
        Ok(out)
    }
}

fn push_block(out: &mut Vec<u8>, header: &[u8], data: &[u8]) {
    out.extend_from_slice(header);
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

fn set_bytes(slot: &mut [u8], value: &[u8]) {
    let n = value.len().min(slot.len());
    slot[..n].copy_from_slice(&value[..n]);
}

fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let base = key.len() + value.len() + 3;
    let mut len = base + 1;
    while base + len.to_string().len() != len {
        len += 1;
    }
    [format!("{len} {key}=").as_bytes(), value, b"\n"].concat()
}

fn write_entry(out: &mut Vec<u8>, e: &Entry, form: LongNames, mtime: u64) -> io::Result<()> {
    let Some(ty) = e.ty else {
        out.extend_from_slice(&e.data);
        return Ok(());
    };
    let sparse = ty == EntryType::GNUSparse;
    let mut h = match form == LongNames::Pax && !sparse {
        true => Header::new_ustar(),
        false => Header::new_gnu(),
    };
    h.set_entry_type(ty);
    h.set_size(e.data.len() as u64);
    h.set_mode(e.mode);
    h.set_uid(e.uid);
    h.set_gid(e.gid);
    h.set_mtime(e.mtime.unwrap_or(mtime));
    if matches!(ty, EntryType::Char | EntryType::Block) {
        h.set_device_major(e.dev.0)?;
        h.set_device_minor(e.dev.1)?;
    }
    let mut pax = e.pax.clone();
    let mut gnu = Vec::new();
    for (value, ty, key) in [(&e.name, b'L', "path"), (&e.link, b'K', "linkpath")] {
        if value.len() <= 100 {
            continue;
        }
        if form == LongNames::Pax {
            pax.push((key.to_string(), value.clone()));
            continue;
        }
        let mut l = Header::new_gnu();
        set_bytes(&mut l.as_old_mut().name, b"././@LongLink");
        l.set_entry_type(EntryType::new(ty));
        l.set_mode(0o644);
        l.set_size(value.len() as u64 + 1);
        l.set_cksum();
        push_block(&mut gnu, l.as_bytes(), &[value.as_slice(), b"\0"].concat());
    }
    if !pax.is_empty() {
        let body: Vec<u8> = pax.iter().flat_map(|(k, v)| pax_record(k, v)).collect();
        let base = e.name.rsplit(|&b| b == b'/').find(|s| !s.is_empty());
        let mut x = Header::new_ustar();
        set_bytes(
            &mut x.as_old_mut().name,
            &[b"PaxHeaders.0/", base.unwrap_or(b"x")].concat(),
        );
        x.set_entry_type(EntryType::XHeader);
        x.set_mode(0o644);
        x.set_mtime(e.mtime.unwrap_or(mtime));
        x.set_size(body.len() as u64);
        x.set_cksum();
        push_block(out, x.as_bytes(), &body);
    }
    out.extend_from_slice(&gnu);
    set_bytes(&mut h.as_old_mut().name, &e.name);
    set_bytes(&mut h.as_old_mut().linkname, &e.link);
    let mut ext = Vec::new();
    if let (true, Some(g)) = (sparse, h.as_gnu_mut()) {
        g.set_real_size(e.real_size);
        for (slot, &(off, len)) in g.sparse.iter_mut().zip(&e.sparse) {
            slot.set_offset(off);
            slot.set_length(len);
        }
        g.set_is_extended(e.sparse.len() > 4);
        let rest: Vec<_> = e.sparse.iter().skip(4).collect();
        for (i, chunk) in rest.chunks(21).enumerate() {
            let mut b = GnuExtSparseHeader::new();
            for (slot, &&(off, len)) in b.sparse_mut().iter_mut().zip(chunk) {
                slot.set_offset(off);
                slot.set_length(len);
            }
            b.set_is_extended((i + 1) * 21 < rest.len());
            ext.extend_from_slice(b.as_bytes());
        }
    }
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
    push_block(out, &ext, &e.data);
    Ok(())
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Path of a blob in an OCI layout: `blobs/sha256/<hex>` for `sha256:<hex>`.
pub fn blob_path(digest: &str) -> String {
    format!("blobs/{}", digest.replacen(':', "/", 1))
}

fn hex_of(digest: &str) -> &str {
    digest.split_once(':').map_or(digest, |(_, h)| h)
}

/// `secs` since the epoch as RFC 3339 UTC (`2023-11-14T22:13:20Z`).
pub fn rfc3339(secs: u64) -> String {
    crate::trend::rfc3339_utc(secs)
}

enum Step {
    Layer(String, LayerBuilder),
    Empty(String),
}

/// Description of one image; [`ImageBuilder::build`] renders it.
pub struct ImageBuilder {
    steps: Vec<Step>,
    name: String,
    ref_name: String,
    platform: Platform,
    compression: Compression,
    mtime: u64,
    env: Vec<String>,
    cmd: Option<Vec<String>>,
    extra: Vec<(String, Value)>,
    docker_media_types: bool,
}

impl Default for ImageBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ImageBuilder {
    /// linux/amd64, gzip, name `layersift-fixture`, ref `latest`, mtime [`DEFAULT_MTIME`].
    pub fn new() -> Self {
        ImageBuilder {
            steps: Vec::new(),
            name: "layersift-fixture".to_string(),
            ref_name: "latest".to_string(),
            platform: Platform {
                os: "linux".to_string(),
                architecture: "amd64".to_string(),
                variant: None,
            },
            compression: Compression::Gzip,
            mtime: DEFAULT_MTIME,
            env: Vec::new(),
            cmd: None,
            extra: Vec::new(),
            docker_media_types: false,
        }
    }

    /// Adds a layer and its history entry (`created_by`).
    pub fn layer(mut self, created_by: &str, f: impl FnOnce(LayerBuilder) -> LayerBuilder) -> Self {
        let layer = f(LayerBuilder::default());
        self.steps.push(Step::Layer(created_by.to_string(), layer));
        self
    }

    /// Adds a history entry with `empty_layer: true` and no layer.
    pub fn empty_layer_step(mut self, created_by: &str) -> Self {
        self.steps.push(Step::Empty(created_by.to_string()));
        self
    }

    /// Appends `KEY=value` to `config.Env`.
    pub fn env(mut self, kv: &str) -> Self {
        self.env.push(kv.to_string());
        self
    }

    pub fn cmd(mut self, args: &[&str]) -> Self {
        self.cmd = Some(args.iter().map(|s| s.to_string()).collect());
        self
    }

    /// Sets any other field of the config's `config` object (`User`, `Labels`, ...).
    pub fn config_field(mut self, key: &str, value: Value) -> Self {
        self.extra.push((key.to_string(), value));
        self
    }

    pub fn platform(mut self, os: &str, architecture: &str, variant: Option<&str>) -> Self {
        self.platform = Platform {
            os: os.to_string(),
            architecture: architecture.to_string(),
            variant: variant.map(str::to_string),
        };
        self
    }

    /// Default compression of all layers.
    pub fn compression(mut self, c: Compression) -> Self {
        self.compression = c;
        self
    }

    /// Default entry mtime and the `created` time of config and history.
    pub fn mtime(mut self, secs: u64) -> Self {
        self.mtime = secs;
        self
    }

    /// Repository used in docker `RepoTags` (`NAME:REF`).
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// OCI `org.opencontainers.image.ref.name` and docker tag.
    pub fn ref_name(mut self, r: &str) -> Self {
        self.ref_name = r.to_string();
        self
    }

    /// Use Docker schema 2 media types for manifest, config and layers.
    pub fn docker_media_types(mut self) -> Self {
        self.docker_media_types = true;
        self
    }

    pub fn build(self) -> io::Result<BuiltImage> {
        let created = rfc3339(self.mtime);
        let mut layers = Vec::new();
        let mut history = Vec::new();
        for step in &self.steps {
            let (created_by, layer) = match step {
                Step::Empty(by) => {
                    let h = json!({"created": created, "created_by": by, "empty_layer": true});
                    history.push(h);
                    continue;
                }
                Step::Layer(by, layer) => (by, layer),
            };
            history.push(json!({"created": created, "created_by": created_by}));
            let compression = layer.compression.unwrap_or(self.compression);
            let media_type = layer.media_type.clone().unwrap_or_else(|| {
                match self.docker_media_types {
                    true => compression.docker_media_type(),
                    false => compression.oci_media_type(),
                }
                .to_string()
            });
            let mut built = BuiltLayer {
                created_by: created_by.clone(),
                tar: layer.to_tar(self.mtime)?,
                diff_id: String::new(),
                blob: Vec::new(),
                digest: String::new(),
                size: 0,
                media_type,
                compression,
            };
            built.seal()?;
            layers.push(built);
        }
        let mut inner = serde_json::Map::new();
        if !self.env.is_empty() {
            inner.insert("Env".into(), json!(self.env));
        }
        if let Some(cmd) = &self.cmd {
            inner.insert("Cmd".into(), json!(cmd));
        }
        for (k, v) in self.extra {
            inner.insert(k, v);
        }
        let mut config = json!({
            "created": created,
            "architecture": self.platform.architecture,
            "os": self.platform.os,
            "config": inner,
            "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| &l.diff_id).collect::<Vec<_>>()},
            "history": history,
        });
        if let (Some(v), Some(obj)) = (&self.platform.variant, config.as_object_mut()) {
            obj.insert("variant".into(), json!(v));
        }
        let (manifest_media_type, config_media_type) = match self.docker_media_types {
            true => (MT_DOCKER_MANIFEST, MT_DOCKER_CONFIG),
            false => (MT_OCI_MANIFEST, MT_OCI_CONFIG),
        };
        let config = serde_json::to_vec(&config)?;
        Ok(BuiltImage {
            name: self.name,
            ref_name: self.ref_name,
            platform: self.platform,
            layers,
            config_digest: sha256_digest(&config),
            config,
            config_media_type: config_media_type.to_string(),
            manifest_media_type: manifest_media_type.to_string(),
            manifest_override: None,
        })
    }
}

/// One rendered layer. OCI formats store `blob` at `blob_path(digest)` and
/// describe it with `digest`, `size`, `media_type`; docker formats store `tar`
/// (uncompressed) named after `diff_id`. None of these are recomputed on write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltLayer {
    pub created_by: String,
    /// Uncompressed layer tar.
    pub tar: Vec<u8>,
    /// `sha256:` of `tar` as built (also listed in the config's `rootfs.diff_ids`).
    pub diff_id: String,
    /// `tar` compressed with `compression`.
    pub blob: Vec<u8>,
    /// Digest and size written in the manifest.
    pub digest: String,
    pub size: u64,
    pub media_type: String,
    pub compression: Compression,
}

impl BuiltLayer {
    /// Recompresses `tar` into `blob` and recomputes `diff_id`, `digest`, `size`.
    pub fn seal(&mut self) -> io::Result<()> {
        self.blob = self.compression.compress(&self.tar)?;
        self.diff_id = sha256_digest(&self.tar);
        self.digest = sha256_digest(&self.blob);
        self.size = self.blob.len() as u64;
        Ok(())
    }
}

/// A rendered image. Writing uses these fields as they are, so a test corrupts
/// an image by mutating them first:
/// - `layers[i].blob` (truncate, flip a byte): the blob file keeps its manifest
///   name `digest`, so content and digest disagree. Docker formats: mutate `tar`.
/// - `layers[i].digest` / `size` / `media_type`: what the manifest claims.
/// - [`BuiltImage::edit_config`]: change config JSON (e.g. drop or alter a
///   `rootfs.diff_ids` entry); the config digest is refreshed.
/// - `config` directly: config bytes no longer match `config_digest`.
/// - `manifest_override`: manifest bytes written verbatim (OCI formats).
/// - `layers[i].tar` then [`BuiltImage::reseal`]: a consistent image around a
///   hand-edited tar.
///
/// For anything else (drop a blob, replace `index.json` or `manifest.json`),
/// take [`BuiltImage::files`], edit the [`Files`], and [`Files::write`] them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltImage {
    pub name: String,
    pub ref_name: String,
    pub platform: Platform,
    pub layers: Vec<BuiltLayer>,
    pub config: Vec<u8>,
    pub config_digest: String,
    pub config_media_type: String,
    pub manifest_media_type: String,
    pub manifest_override: Option<Vec<u8>>,
}

impl BuiltImage {
    /// Manifest bytes as written to OCI formats (or `manifest_override`).
    pub fn manifest(&self) -> io::Result<Vec<u8>> {
        self.manifest_for(false)
    }

    fn manifest_for(&self, uncompressed: bool) -> io::Result<Vec<u8>> {
        if let Some(m) = &self.manifest_override {
            return Ok(m.clone());
        }
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|l| match uncompressed {
                true => {
                    json!({"mediaType": MT_OCI_LAYER_TAR, "digest": l.diff_id, "size": l.tar.len()})
                }
                false => json!({"mediaType": l.media_type, "digest": l.digest, "size": l.size}),
            })
            .collect();
        let (mmt, cmt) = match uncompressed {
            true => (MT_OCI_MANIFEST, MT_OCI_CONFIG),
            false => (&*self.manifest_media_type, &*self.config_media_type),
        };
        Ok(serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": mmt,
            "config": {"mediaType": cmt, "digest": self.config_digest, "size": self.config.len()},
            "layers": layers,
        }))?)
    }

    /// Digest of [`BuiltImage::manifest`].
    pub fn manifest_digest(&self) -> io::Result<String> {
        Ok(sha256_digest(&self.manifest()?))
    }

    pub fn config_json(&self) -> io::Result<Value> {
        Ok(serde_json::from_slice(&self.config)?)
    }

    /// Edits the config JSON, reserializes it and refreshes `config_digest`.
    pub fn edit_config(&mut self, f: impl FnOnce(&mut Value)) -> io::Result<()> {
        let mut v = self.config_json()?;
        f(&mut v);
        self.config = serde_json::to_vec(&v)?;
        self.config_digest = sha256_digest(&self.config);
        Ok(())
    }

    /// Seals every layer and rewrites the config's `rootfs` to match.
    pub fn reseal(&mut self) -> io::Result<()> {
        for l in &mut self.layers {
            l.seal()?;
        }
        let ids: Vec<String> = self.layers.iter().map(|l| l.diff_id.clone()).collect();
        self.edit_config(|c| {
            if let Some(obj) = c.as_object_mut() {
                obj.insert("rootfs".into(), json!({"type": "layers", "diff_ids": ids}));
            }
        })
    }

    /// The files of `format` for this image under its own `ref_name`.
    pub fn files(&self, format: Format) -> io::Result<Files> {
        assemble(&[Top::One(self, &self.ref_name)], format)
    }

    /// Writes a directory (OciLayout) or a tar file (other formats) at `path`.
    pub fn write(&self, format: Format, path: impl AsRef<Path>) -> io::Result<()> {
        self.files(format)?.write(format, path)
    }
}

/// Several images, each under its own ref, in one layout or archive.
pub fn index_files(images: &[(&BuiltImage, &str)], format: Format) -> io::Result<Files> {
    let tops: Vec<Top> = images.iter().map(|&(i, r)| Top::One(i, r)).collect();
    assemble(&tops, format)
}

pub fn write_index(
    images: &[(&BuiltImage, &str)],
    format: Format,
    path: impl AsRef<Path>,
) -> io::Result<()> {
    index_files(images, format)?.write(format, path)
}

/// One ref pointing at an image index with one manifest per image (platform).
/// Not for [`Format::DockerArchive`]. In [`Format::DockerArchiveOci`] every
/// image gets a `manifest.json` entry; only the first carries the RepoTag.
pub fn multi_arch_files(
    images: &[&BuiltImage],
    ref_name: &str,
    format: Format,
) -> io::Result<Files> {
    assemble(&[Top::Multi(images, ref_name)], format)
}

pub fn write_multi_arch(
    images: &[&BuiltImage],
    ref_name: &str,
    format: Format,
    path: impl AsRef<Path>,
) -> io::Result<()> {
    multi_arch_files(images, ref_name, format)?.write(format, path)
}

enum Top<'a> {
    One(&'a BuiltImage, &'a str),
    Multi(&'a [&'a BuiltImage], &'a str),
}

fn full_name(name: &str, r: &str) -> String {
    match name.split_once('/') {
        None => format!("docker.io/library/{name}:{r}"),
        Some((host, _)) if host.contains(['.', ':']) || host == "localhost" => {
            format!("{name}:{r}")
        }
        Some(_) => format!("docker.io/{name}:{r}"),
    }
}

/// Classic docker-archive files of `img`; returns its `Config` and `Layers` paths.
fn put_classic(f: &mut Files, img: &BuiltImage) -> io::Result<(String, Vec<String>)> {
    let (mut parent, mut layers) = (String::new(), Vec::new());
    for l in &img.layers {
        let chain = sha256_digest(format!("{parent}\n{}", l.diff_id).as_bytes());
        let id = hex_of(&chain).to_string();
        let mut v1 = json!({"id": id});
        if !parent.is_empty() {
            v1["parent"] = json!(parent);
        }
        f.put(format!("{id}/VERSION"), b"1.0".to_vec());
        f.put(format!("{id}/json"), serde_json::to_vec(&v1)?);
        f.put(format!("{id}/layer.tar"), l.tar.clone());
        layers.push(format!("{id}/layer.tar"));
        parent = id;
    }
    let config = format!("{}.json", hex_of(&img.config_digest));
    f.put(config.clone(), img.config.clone());
    Ok((config, layers))
}

/// OCI blobs of `img` (`uncompressed` layers for Docker 25+); returns its
/// `manifest.json` paths and its manifest descriptor.
fn put_oci(
    f: &mut Files,
    img: &BuiltImage,
    uncompressed: bool,
    with_platform: bool,
) -> io::Result<(String, Vec<String>, Value)> {
    let mut layers = Vec::new();
    for l in &img.layers {
        let (digest, bytes) = if uncompressed {
            (&l.diff_id, &l.tar)
        } else {
            (&l.digest, &l.blob)
        };
        f.put(blob_path(digest), bytes.clone());
        layers.push(blob_path(digest));
    }
    f.put(blob_path(&img.config_digest), img.config.clone());
    let manifest = img.manifest_for(uncompressed)?;
    let digest = sha256_digest(&manifest);
    let mt = if uncompressed {
        MT_OCI_MANIFEST
    } else {
        &img.manifest_media_type
    };
    let mut desc = json!({"mediaType": mt, "digest": digest, "size": manifest.len()});
    if with_platform {
        let p = &img.platform;
        desc["platform"] = json!({"architecture": p.architecture, "os": p.os});
        if let Some(v) = &p.variant {
            desc["platform"]["variant"] = json!(v);
        }
    }
    f.put(blob_path(&digest), manifest);
    Ok((blob_path(&img.config_digest), layers, desc))
}

fn assemble(tops: &[Top], format: Format) -> io::Result<Files> {
    let mut f = Files::default();
    let (mut index, mut docker_manifest, mut repos) = (vec![], vec![], serde_json::Map::new());
    let docker_oci = matches!(
        format,
        Format::DockerArchiveOci | Format::DockerArchiveContainerd
    );
    let containerd = format == Format::DockerArchiveContainerd;
    if format != Format::DockerArchive {
        f.put("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec());
    }
    for top in tops {
        let (images, r, multi) = match top {
            Top::One(i, r) => (std::slice::from_ref(i), *r, false),
            Top::Multi(is, r) => (*is, *r, true),
        };
        let mut descs = Vec::new();
        for (n, img) in images.iter().enumerate() {
            let (config, layers) = if format == Format::DockerArchive {
                if multi {
                    let msg = "multi-arch images do not fit a classic docker-archive";
                    return Err(io::Error::new(io::ErrorKind::Unsupported, msg));
                }
                put_classic(&mut f, img)?
            } else {
                let uncompressed = format == Format::DockerArchiveOci;
                let (config, layers, desc) =
                    put_oci(&mut f, img, uncompressed, multi || containerd)?;
                descs.push(desc);
                (config, layers)
            };
            let mut tags = Vec::new();
            if n == 0 {
                tags.push(format!("{}:{r}", img.name));
                let top_id = layers
                    .last()
                    .and_then(|p| p.trim_end_matches("/layer.tar").rsplit('/').next());
                repos.entry(img.name.clone()).or_insert_with(|| json!({}))[r] =
                    json!(top_id.unwrap_or(""));
            }
            docker_manifest.push(json!({"Config": config, "RepoTags": tags, "Layers": layers}));
        }
        let (Some(first), false) = (images.first(), format == Format::DockerArchive) else {
            continue;
        };
        let mut desc = match descs.pop() {
            Some(d) if !multi && !containerd => d,
            last => {
                descs.extend(last);
                let mt = MT_OCI_INDEX;
                let idx = json!({"schemaVersion": 2, "mediaType": mt, "manifests": descs});
                let idx = serde_json::to_vec(&idx)?;
                let digest = sha256_digest(&idx);
                let desc = json!({"mediaType": mt, "digest": digest, "size": idx.len()});
                f.put(blob_path(&digest), idx);
                desc
            }
        };
        desc["annotations"] = json!({REF_NAME_ANNOTATION: r});
        if docker_oci {
            desc["annotations"]["io.containerd.image.name"] = json!(full_name(&first.name, r));
        }
        index.push(desc);
    }
    if format != Format::DockerArchive {
        let index = json!({"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": index});
        f.put("index.json", serde_json::to_vec(&index)?);
    }
    if format == Format::DockerArchive || docker_oci {
        f.put("manifest.json", serde_json::to_vec(&docker_manifest)?);
    }
    if matches!(format, Format::DockerArchive | Format::DockerArchiveOci) {
        f.put("repositories", serde_json::to_vec(&repos)?);
    }
    Ok(f)
}

/// The files of one format, in write order (`path` relative, `/`-separated).
/// Edit them to corrupt a layout/archive, then [`Files::write`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Files {
    pub entries: Vec<(String, Vec<u8>)>,
}

impl Files {
    /// Replaces the file at `path`, or appends it.
    pub fn put(&mut self, path: impl Into<String>, data: Vec<u8>) {
        let path = path.into();
        match self.entries.iter_mut().find(|(p, _)| *p == path) {
            Some(slot) => slot.1 = data,
            None => self.entries.push((path, data)),
        }
    }

    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, d)| d.as_slice())
    }

    pub fn get_mut(&mut self, path: &str) -> Option<&mut Vec<u8>> {
        self.entries
            .iter_mut()
            .find(|(p, _)| p == path)
            .map(|(_, d)| d)
    }

    pub fn remove(&mut self, path: &str) -> Option<Vec<u8>> {
        let i = self.entries.iter().position(|(p, _)| p == path)?;
        Some(self.entries.remove(i).1)
    }

    /// Writes the files under `dir` (created if missing).
    pub fn write_dir(&self, dir: impl AsRef<Path>) -> io::Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)?;
        for (path, data) in &self.entries {
            let dest = dir.join(path);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(dest, data)?;
        }
        Ok(())
    }

    /// A tar of the files with their parent directories, like `docker save` writes.
    pub fn to_tar(&self) -> io::Result<Vec<u8>> {
        let mut layer = LayerBuilder::default();
        let mut dirs: Vec<&str> = Vec::new();
        for (path, data) in &self.entries {
            for (i, _) in path.match_indices('/') {
                if !dirs.contains(&&path[..=i]) {
                    dirs.push(&path[..=i]);
                    layer = layer.dir(&path[..=i]);
                }
            }
            layer = layer.file(path, data.clone());
        }
        layer.to_tar(DEFAULT_MTIME)
    }

    /// A directory for [`Format::OciLayout`], a tar file for the others.
    pub fn write(&self, format: Format, path: impl AsRef<Path>) -> io::Result<()> {
        match format.is_archive() {
            true => std::fs::write(path, self.to_tar()?),
            false => self.write_dir(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    type R = Result<(), Box<dyn std::error::Error>>;

    fn sample() -> ImageBuilder {
        ImageBuilder::new()
            .layer("RUN apt-get update", |l| {
                l.dir("var/lib/apt/lists")
                    .file("var/lib/apt/lists/deb_Packages", vec![b'x'; 5000])
                    .file_mode("usr/bin/tool", b"#!/bin/sh\n", 0o755)
                    .owner(1000, 1000)
            })
            .layer("RUN rm -rf /var/lib/apt/lists/*", |l| {
                l.whiteout("var/lib/apt/lists/deb_Packages")
                    .compression(Compression::Zstd)
            })
            .empty_layer_step("ENV FOO=bar")
            .layer("RUN x", |l| {
                l.opaque("etc/conf.d")
                    .symlink("a", "b")
                    .hardlink("c", "a")
                    .fifo("p")
                    .char_device("dev/null", 1, 3)
                    .file(b"data/caf\xe9", "x")
                    .file("with space/\u{fc}n\u{ef}", "u")
                    .compression(Compression::None)
            })
            .env("FOO=bar")
            .cmd(&["/bin/sh"])
            .platform("linux", "arm64", Some("v8"))
    }

    fn decompress(blob: &[u8]) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        let mut out = Vec::new();
        match blob {
            [0x1f, 0x8b, ..] => {
                flate2::read::GzDecoder::new(blob).read_to_end(&mut out)?;
            }
            [0x28, 0xb5, 0x2f, 0xfd, ..] => out = zstd::decode_all(blob)?,
            _ => out = blob.to_vec(),
        }
        Ok(out)
    }

    /// Entries of a tar: (path bytes, type, link name bytes, content).
    type Listing = Vec<(Vec<u8>, EntryType, Vec<u8>, Vec<u8>)>;

    fn list(tar_bytes: &[u8]) -> Result<Listing, Box<dyn std::error::Error>> {
        let mut out = Vec::new();
        for e in tar::Archive::new(tar_bytes).entries()? {
            let mut e = e?;
            let mut data = Vec::new();
            e.read_to_end(&mut data)?;
            let link = e.link_name_bytes().map(|l| l.to_vec()).unwrap_or_default();
            out.push((e.path_bytes().to_vec(), e.header().entry_type(), link, data));
        }
        Ok(out)
    }

    fn untar(tar_bytes: &[u8]) -> Result<Files, Box<dyn std::error::Error>> {
        let mut f = Files::default();
        for (path, ty, _, data) in list(tar_bytes)? {
            if ty == EntryType::Regular {
                f.put(String::from_utf8(path)?, data);
            }
        }
        Ok(f)
    }

    fn json_at(f: &Files, path: &str) -> Result<Value, Box<dyn std::error::Error>> {
        let bytes = f.get(path).ok_or(format!("missing {path}"))?;
        Ok(serde_json::from_slice(bytes)?)
    }

    /// Follows a descriptor and checks that the blob's sha256 and size match it.
    fn blob<'a>(f: &'a Files, desc: &Value) -> Result<&'a [u8], Box<dyn std::error::Error>> {
        let digest = desc["digest"].as_str().ok_or("no digest")?;
        let bytes = f.get(&blob_path(digest)).ok_or("missing blob")?;
        assert_eq!(sha256_digest(bytes), digest);
        assert_eq!(desc["size"].as_u64(), Some(bytes.len() as u64));
        Ok(bytes)
    }

    /// Checks an image manifest: digests, sizes, diff_ids; returns the config.
    fn check_manifest(f: &Files, desc: &Value) -> Result<Value, Box<dyn std::error::Error>> {
        let manifest: Value = serde_json::from_slice(blob(f, desc)?)?;
        let config: Value = serde_json::from_slice(blob(f, &manifest["config"])?)?;
        let layers = manifest["layers"].as_array().ok_or("no layers")?;
        let diff_ids = config["rootfs"]["diff_ids"]
            .as_array()
            .ok_or("no diff_ids")?;
        assert_eq!(layers.len(), diff_ids.len());
        for (layer, diff_id) in layers.iter().zip(diff_ids) {
            let tar = decompress(blob(f, layer)?)?;
            assert_eq!(Some(sha256_digest(&tar).as_str()), diff_id.as_str());
        }
        Ok(config)
    }

    fn check_oci(f: &Files, ref_name: &str) -> R {
        assert!(f.get("oci-layout").is_some());
        let index = json_at(f, "index.json")?;
        let desc = &index["manifests"][0];
        assert_eq!(desc["annotations"][REF_NAME_ANNOTATION], ref_name);
        let config = check_manifest(f, desc)?;
        assert_eq!(config["architecture"], "arm64");
        assert_eq!(config["variant"], "v8");
        assert_eq!(config["config"]["Env"][0], "FOO=bar");
        assert_eq!(config["history"].as_array().map(Vec::len), Some(4));
        assert_eq!(config["history"][2]["empty_layer"], true);
        assert_eq!(config["created"], "2023-11-14T22:13:20Z");
        Ok(())
    }

    #[test]
    fn deterministic() -> R {
        let (a, b) = (sample().build()?, sample().build()?);
        assert_eq!(a, b);
        for format in [
            Format::OciLayout,
            Format::OciArchive,
            Format::DockerArchive,
            Format::DockerArchiveOci,
            Format::DockerArchiveContainerd,
        ] {
            assert_eq!(a.files(format)?.to_tar()?, b.files(format)?.to_tar()?);
        }
        Ok(())
    }

    #[test]
    fn oci_layout_and_archive_parse_back() -> R {
        let img = sample().ref_name("v1").build()?;
        let dir = tempfile::tempdir()?;
        img.write(Format::OciLayout, dir.path().join("layout"))?;
        let mut on_disk = Files::default();
        for (path, _) in &img.files(Format::OciLayout)?.entries {
            on_disk.put(
                path.clone(),
                std::fs::read(dir.path().join("layout").join(path))?,
            );
        }
        check_oci(&on_disk, "v1")?;
        let archive = dir.path().join("img.tar");
        img.write(Format::OciArchive, &archive)?;
        check_oci(&untar(&std::fs::read(&archive)?)?, "v1")?;
        Ok(())
    }

    #[test]
    fn compression_magic_and_media_types() -> R {
        let img = sample().build()?;
        let l = &img.layers;
        assert_eq!(&l[0].blob[..2], &[0x1f, 0x8b]);
        assert_eq!(&l[1].blob[..4], &[0x28, 0xb5, 0x2f, 0xfd]);
        assert_eq!(l[2].blob, l[2].tar);
        assert_eq!(
            l[0].media_type,
            "application/vnd.oci.image.layer.v1.tar+gzip"
        );
        assert_eq!(
            l[1].media_type,
            "application/vnd.oci.image.layer.v1.tar+zstd"
        );
        assert_eq!(l[2].media_type, MT_OCI_LAYER_TAR);
        let lying = ImageBuilder::new()
            .layer("x", |l| {
                l.file("f", "x").media_type("application/x-unknown")
            })
            .docker_media_types()
            .layer("y", |l| l.file("g", "y"))
            .build()?;
        assert_eq!(lying.layers[0].media_type, "application/x-unknown");
        assert_eq!(&lying.layers[0].blob[..2], &[0x1f, 0x8b]);
        assert_eq!(
            lying.layers[1].media_type,
            "application/vnd.docker.image.rootfs.diff.tar.gzip"
        );
        assert_eq!(lying.manifest_media_type, MT_DOCKER_MANIFEST);
        Ok(())
    }

    #[test]
    fn docker_archive_classic() -> R {
        let img = sample().name("demo").build()?;
        let f = untar(&img.files(Format::DockerArchive)?.to_tar()?)?;
        assert!(f.get("index.json").is_none());
        let manifest = json_at(&f, "manifest.json")?;
        assert_eq!(manifest[0]["RepoTags"][0], "demo:latest");
        let config_path = manifest[0]["Config"].as_str().ok_or("no Config")?;
        let config_bytes = f.get(config_path).ok_or("no config")?;
        assert_eq!(
            format!("{}.json", hex_of(&sha256_digest(config_bytes))),
            config_path
        );
        let config: Value = serde_json::from_slice(config_bytes)?;
        let layers = manifest[0]["Layers"].as_array().ok_or("no Layers")?;
        assert_eq!(layers.len(), 3);
        for (i, path) in layers.iter().enumerate() {
            let path = path.as_str().ok_or("bad layer")?;
            assert!(path.ends_with("/layer.tar"));
            let tar = f.get(path).ok_or("missing layer")?;
            assert_eq!(config["rootfs"]["diff_ids"][i], sha256_digest(tar));
        }
        let top = layers[2]
            .as_str()
            .and_then(|p| p.split('/').next())
            .ok_or("id")?;
        assert_eq!(json_at(&f, "repositories")?["demo"]["latest"], top);
        Ok(())
    }

    #[test]
    fn docker_archive_oci() -> R {
        let img = sample().name("demo").build()?;
        let f = untar(&img.files(Format::DockerArchiveOci)?.to_tar()?)?;
        let index = json_at(&f, "index.json")?;
        let desc = &index["manifests"][0];
        assert_eq!(
            desc["annotations"]["io.containerd.image.name"],
            "docker.io/library/demo:latest"
        );
        check_manifest(&f, desc)?;
        let manifest = json_at(&f, "manifest.json")?;
        assert_eq!(manifest[0]["RepoTags"][0], "demo:latest");
        for (i, path) in manifest[0]["Layers"]
            .as_array()
            .ok_or("no Layers")?
            .iter()
            .enumerate()
        {
            let path = path.as_str().ok_or("bad layer")?;
            let tar = f.get(path).ok_or("missing layer")?;
            assert_eq!(path, blob_path(&img.layers[i].diff_id));
            assert_eq!(tar, img.layers[i].tar.as_slice());
        }
        let config_path = manifest[0]["Config"].as_str().ok_or("no Config")?;
        assert_eq!(config_path, blob_path(&img.config_digest));
        Ok(())
    }

    #[test]
    fn docker_archive_from_containerd_keeps_compressed_layers_under_a_nested_index() -> R {
        let img = sample()
            .name("demo")
            .compression(Compression::Gzip)
            .build()?;
        let f = untar(&img.files(Format::DockerArchiveContainerd)?.to_tar()?)?;
        let top = &json_at(&f, "index.json")?["manifests"][0];
        assert_eq!(top["mediaType"], MT_OCI_INDEX);
        assert_eq!(
            top["annotations"]["io.containerd.image.name"],
            "docker.io/library/demo:latest"
        );
        let nested: Value = serde_json::from_slice(blob(&f, top)?)?;
        assert_eq!(nested["manifests"][0]["platform"]["os"], "linux");
        check_manifest(&f, &nested["manifests"][0])?;
        assert!(f.get("repositories").is_none());
        let manifest = json_at(&f, "manifest.json")?;
        assert_eq!(manifest[0]["RepoTags"][0], "demo:latest");
        let layers = manifest[0]["Layers"].as_array().ok_or("no Layers")?;
        for (i, path) in layers.iter().enumerate() {
            let path = path.as_str().ok_or("bad layer")?;
            assert_eq!(path, blob_path(&img.layers[i].digest));
            assert_eq!(
                f.get(path).ok_or("missing layer")?,
                img.layers[i].blob.as_slice()
            );
        }
        assert!(img.layers.iter().any(|l| l.blob.starts_with(&[0x1f, 0x8b])));
        Ok(())
    }

    #[test]
    fn several_refs_and_multi_arch() -> R {
        let amd = ImageBuilder::new()
            .layer("a", |l| l.file("a", "amd"))
            .build()?;
        let arm = ImageBuilder::new()
            .platform("linux", "arm", Some("v7"))
            .layer("a", |l| l.file("a", "arm"))
            .build()?;
        let f = index_files(&[(&amd, "one"), (&arm, "two")], Format::OciLayout)?;
        let index = json_at(&f, "index.json")?;
        assert_eq!(
            index["manifests"][1]["annotations"][REF_NAME_ANNOTATION],
            "two"
        );
        check_manifest(&f, &index["manifests"][0])?;
        check_manifest(&f, &index["manifests"][1])?;
        let f = index_files(&[(&amd, "one"), (&arm, "two")], Format::DockerArchive)?;
        assert_eq!(
            json_at(&f, "manifest.json")?[1]["RepoTags"][0],
            "layersift-fixture:two"
        );

        let f = multi_arch_files(&[&amd, &arm], "multi", Format::OciLayout)?;
        let top = &json_at(&f, "index.json")?["manifests"][0];
        assert_eq!(top["mediaType"], MT_OCI_INDEX);
        let nested: Value = serde_json::from_slice(blob(&f, top)?)?;
        assert_eq!(nested["manifests"][1]["platform"]["variant"], "v7");
        check_manifest(&f, &nested["manifests"][0])?;
        check_manifest(&f, &nested["manifests"][1])?;
        assert!(multi_arch_files(&[&amd, &arm], "m", Format::DockerArchive).is_err());
        Ok(())
    }

    #[test]
    fn entries_round_trip_through_tar_crate() -> R {
        let long = format!("{}/file.txt", "d".repeat(120));
        let target = format!("{}/target", "t".repeat(110));
        for form in [LongNames::Gnu, LongNames::Pax] {
            let img = ImageBuilder::new()
                .layer("x", |l| {
                    l.file(&long, "long")
                        .symlink("s", &target)
                        .hardlink(format!("{long}.hl"), &long)
                        .file(b"caf\xe9", "latin1")
                        .file("sp ace/\u{1f600}", "")
                        .block_device("dev/sda", 8, 0)
                        .file("x", "xa")
                        .pax("SCHILY.xattr.user.k", "v")
                        .long_names(form)
                })
                .build()?;
            let entries = list(&img.layers[0].tar)?;
            assert_eq!(entries[0].0, long.as_bytes());
            assert_eq!(entries[0].3, b"long");
            assert_eq!(
                (entries[1].1, entries[1].2.as_slice()),
                (EntryType::Symlink, target.as_bytes())
            );
            assert_eq!(entries[2].2, long.as_bytes());
            assert_eq!(entries[3].0, b"caf\xe9");
            assert_eq!(entries[4].0, "sp ace/\u{1f600}".as_bytes());
            assert_eq!(entries[5].1, EntryType::Block);
            assert_eq!(entries[6].3, b"xa");
        }
        Ok(())
    }

    #[test]
    fn hostile_whiteout_and_sparse_entries() -> R {
        let block = [b'a'; 512];
        let chunks: Vec<(u64, &[u8])> = (0..6).map(|i| (i * 2048, &block[..])).collect();
        let img = ImageBuilder::new()
            .layer("x", |l| {
                l.file("../etc/passwd", "root")
                    .file("/abs/path", "abs")
                    .whiteout("var/cache/apt")
                    .opaque("etc/")
                    .dir("d")
                    .sparse("big", 16_384, &chunks)
            })
            .build()?;
        let entries = list(&img.layers[0].tar)?;
        let names: Vec<&[u8]> = entries.iter().map(|e| e.0.as_slice()).collect();
        assert_eq!(
            names,
            [
                &b"../etc/passwd"[..],
                b"/abs/path",
                b"var/cache/.wh.apt",
                b"etc/.wh..wh..opq",
                b"d/",
                b"big"
            ]
        );
        let big = &entries[5].3;
        assert_eq!(big.len(), 16_384);
        assert_eq!(
            (big[10 * 1024], big[10 * 1024 + 512], big[16_383]),
            (b'a', 0, 0)
        );
        let cut = ImageBuilder::new()
            .layer("x", |l| l.file("a", vec![1; 2000]).no_trailer())
            .build()?;
        assert_eq!(cut.layers[0].tar.len(), 512 + 2048);
        Ok(())
    }

    #[test]
    fn corruption_hooks() -> R {
        let mut img = sample().build()?;
        img.layers[0].blob[20] ^= 0xff;
        let f = img.files(Format::OciLayout)?;
        let stored = f.get(&blob_path(&img.layers[0].digest)).ok_or("blob")?;
        assert_ne!(sha256_digest(stored), img.layers[0].digest);

        let mut img = sample().build()?;
        img.edit_config(|c| {
            if let Some(ids) = c["rootfs"]["diff_ids"].as_array_mut() {
                ids.pop();
            }
        })?;
        let f = img.files(Format::OciLayout)?;
        let manifest: Value = serde_json::from_slice(&img.manifest()?)?;
        let config: Value = serde_json::from_slice(blob(&f, &manifest["config"])?)?;
        assert_eq!(
            config["rootfs"]["diff_ids"].as_array().map(Vec::len),
            Some(2)
        );

        let mut img = sample().build()?;
        img.layers[0].tar.truncate(700);
        img.reseal()?;
        check_manifest(
            &img.files(Format::OciLayout)?,
            &json!({
                "digest": img.manifest_digest()?, "size": img.manifest()?.len()
            }),
        )?;
        let mut f = img.files(Format::OciArchive)?;
        assert!(f.remove(&blob_path(&img.layers[1].digest)).is_some());
        assert!(untar(&f.to_tar()?)?
            .get(&blob_path(&img.layers[1].digest))
            .is_none());
        Ok(())
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(DEFAULT_MTIME), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
