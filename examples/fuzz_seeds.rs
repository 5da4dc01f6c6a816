//! Writes the fuzz targets' seed inputs (`fuzz/seeds/TARGET/`) from the fixture builder's
//! output: layer blobs in each compression, OCI layouts and docker archives as the fuzz
//! crate's "parts" (see `fuzz/src/lib.rs`), saved reports, configs, trend files and
//! references. `scripts/fuzz.sh` runs it before fuzzing.
//!
//! Run: `cargo run --example fuzz_seeds -- fuzz/seeds`

use std::collections::HashMap;
use std::path::PathBuf;

use layersift::json::{to_json, Report};
use layersift::OpenOptions;
use layersift_fixture::{
    self as fixture, BuiltImage, Compression, Files, Format, ImageBuilder, LayerBuilder, LongNames,
};

/// Separates parts (the fuzz crate's `SEP`).
const SEP: &[u8] = b"\n\0--part--\0\n";

type R<T = ()> = Result<T, Box<dyn std::error::Error>>;

fn main() -> R {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/seeds".into()),
    );
    let images = images()?;
    let mut seeds: HashMap<&str, Vec<Vec<u8>>> = HashMap::new();

    for img in &images {
        for l in &img.layers {
            seeds.entry("layer").or_default().push(l.blob.clone());
        }
    }
    // Every compression of a layer holding every entry kind.
    for c in [Compression::None, Compression::Gzip, Compression::Zstd] {
        seeds
            .entry("layer")
            .or_default()
            .push(c.compress(&every_kind(LongNames::Pax).to_tar(fixture::DEFAULT_MTIME)?)?);
    }

    for img in &images {
        seeds
            .entry("oci_layout")
            .or_default()
            .push(oci_parts(&img.files(Format::OciLayout)?)?);
        for f in [Format::DockerArchive, Format::DockerArchiveOci] {
            seeds
                .entry("docker_archive")
                .or_default()
                .push(docker_parts(&img.files(f)?)?);
        }
    }
    let (a, b) = (&images[0], &images[1]);
    let multi = fixture::multi_arch_files(&[a, b], "latest", Format::OciLayout)?;
    seeds
        .entry("oci_layout")
        .or_default()
        .push(oci_parts(&multi)?);

    let dir = tempdir()?;
    let mut history = String::new();
    for (n, img) in images.iter().enumerate() {
        let p = dir.join(format!("img{n}"));
        img.write(Format::OciLayout, &p)?;
        let r = format!("oci:{}", p.display());
        let a = layersift::analyze_reference(&r, &OpenOptions::default(), &layersift::NoProgress)?;
        let report = Report::from_analysis(&a);
        seeds
            .entry("report")
            .or_default()
            .push(to_json(&report)?.into_bytes());
        let record = layersift::Record::at(&report, "2026-11-30T12:00:00Z".into());
        history.push_str(&serde_json::to_string(&record)?);
        history.push('\n');
        seeds
            .entry("trend")
            .or_default()
            .push(history.clone().into_bytes());
    }
    std::fs::remove_dir_all(&dir)?;

    for toml in [
        "[check]\nmin_efficiency = 0.95\nmax_hidden_bytes = \"20MB\"\nmax_hidden_ratio = 0.10\n\
         max_avoidable_bytes = \"50MB\"\nmax_size = \"1.5GB\"\nmax_compressed_size = \"500MiB\"\n\
         allow_secrets = false\n\n[check.growth]\nmax_content = \"10MB\"\nmax_compressed = \"5%\"\n\
         max_waste = \"1MB\"\n",
        "[check]\nmax_size = 2048\n",
    ] {
        seeds
            .entry("config")
            .or_default()
            .push([b"\x00", toml.as_bytes()].concat());
    }
    for dive in [
        "rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB\n  highestUserWastedPercent: 0.20\n",
        "rules:\n  # comment\n  lowestEfficiency: \"disabled\"\n  highestWastedBytes: disabled\n",
    ] {
        seeds
            .entry("config")
            .or_default()
            .push([b"\x01", dive.as_bytes()].concat());
    }

    for r in [
        "alpine",
        "docker.io/library/alpine:3.20",
        "127.0.0.1:5000/team/app@sha256:0000000000000000000000000000000000000000000000000000000000000000",
        "ghcr.io/org/app:v1.2.3-rc.1@sha512:00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "oci:/tmp/layout:latest",
        "oci-archive:image.tar:v1",
        "docker-archive:image.tar:name:tag",
        "docker://localhost/x",
        "podman:app",
        "docker-daemon:app:latest",
    ] {
        seeds
            .entry("reference")
            .or_default()
            .push(r.as_bytes().to_vec());
    }

    // Dockerfiles: stages built from stages, heredocs, continuations, an escape directive,
    // ARG/ENV substitution, every instruction the mapping reads.
    for d in [
        "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\nRUN rm -rf /var/lib/apt/lists/*\n",
        "ARG VERSION=1\nFROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /app ./cmd/app\n\nFROM debian:bookworm AS base\nENV PATH=/app:$PATH LANG=C.UTF-8\nFROM base\nCOPY --from=build --chmod=755 /app /usr/local/bin/app\nUSER app\nHEALTHCHECK --interval=30s CMD [\"app\", \"health\"]\nCMD app serve\n",
        "# syntax=docker/dockerfile:1\nFROM alpine\nRUN <<EOF\napk add --no-cache git\nrm -rf /tmp/*\nEOF\nCOPY <<CONF /etc/app.conf\nkey=${VERSION:-0}\nCONF\n",
        "# escape=`\nFROM mcr.microsoft.com/windows/nanoserver\nRUN echo one `\n    && echo two\nWORKDIR C:\\app\n",
        "FROM python:3.12-slim\nRUN pip install \\\n    requests \\\n    # a comment inside\n    flask\nRUN chmod -R g+w /usr/local\nHEALTHCHECK NONE\nENTRYPOINT [\"python\", \"-m\", \"app\"]\n",
        "FROM scratch\nADD rootfs.tar.gz /\nLABEL a=b c=\"d e\"\nEXPOSE 80/tcp\nVOLUME /data\nSTOPSIGNAL SIGTERM\nSHELL [\"/bin/sh\", \"-c\"]\nONBUILD RUN true\n",
    ] {
        seeds
            .entry("dockerfile")
            .or_default()
            .push(d.as_bytes().to_vec());
    }

    for (target, inputs) in seeds {
        let d = out.join(target);
        std::fs::create_dir_all(&d)?;
        for (i, input) in inputs.iter().enumerate() {
            std::fs::write(d.join(format!("fixture-{i:02}")), input)?;
        }
        println!("{}: {} seeds", d.display(), inputs.len());
    }
    Ok(())
}

/// A layer with one of every entry kind the walker handles.
fn every_kind(names: LongNames) -> LayerBuilder {
    let long = format!("deep/{}/file", "n".repeat(120));
    LayerBuilder::default()
        .long_names(names)
        .dir("etc")
        .file("etc/os-release", b"ID=fuzz\n".to_vec())
        .file(&long, vec![b'l'; 700])
        .hardlink("etc/hard", "etc/os-release")
        .symlink("etc/link", "os-release")
        .fifo("run/fifo")
        .char_device("dev/null", 1, 3)
        .block_device("dev/sda", 8, 0)
        .sparse(
            "var/sparse",
            1 << 20,
            &[(0, &[b'h'; 512]), (65536, b"tail")],
        )
        .whiteout("opt/gone")
        .opaque("srv")
        .file(".env", b"API_TOKEN=abcdef0123456789\n".to_vec())
        .pax("SCHILY.xattr.user.x", "y")
}

/// Small images that between them hold what the pipeline looks at: hidden, removed and
/// duplicate files, caches, secrets, every compression, docker media types.
fn images() -> R<Vec<BuiltImage>> {
    Ok(vec![
        ImageBuilder::new()
            .platform("linux", "amd64", None)
            .layer("RUN apt-get update", |l| {
                l.dir("var/lib/apt/lists")
                    .file("var/lib/apt/lists/deb_Packages", vec![b'p'; 3000])
                    .file("app/a", vec![b'a'; 500])
                    .file("app/b", vec![b'a'; 500])
            })
            .layer("RUN rm -rf /var/lib/apt/lists/* && chmod -R g+w /app", |l| {
                l.whiteout("var/lib/apt/lists")
                    .file("app/a", vec![b'a'; 500])
                    .file("root/.ssh/id_rsa", b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n".to_vec())
            })
            .env("AWS_SECRET_ACCESS_KEY=abcdefghijabcdefghijabcdefghijabcdefghij")
            .build()?,
        ImageBuilder::new()
            .platform("linux", "arm64", Some("v8"))
            .compression(Compression::Zstd)
            .layer("COPY . /srv", |_| every_kind(LongNames::Gnu))
            .build()?,
        ImageBuilder::new()
            .compression(Compression::None)
            .docker_media_types()
            .layer("ADD rootfs.tar /", |l| l.file("bin/sh", vec![b's'; 900]))
            .empty_layer_step("ENV A=b")
            .build()?,
    ])
}

/// An OCI layout's files as parts: `index.json`, then every blob in the order the documents
/// name them, each digest written as `@@N`.
fn oci_parts(files: &Files) -> R<Vec<u8>> {
    let blobs: Vec<(&str, &[u8])> = files
        .entries
        .iter()
        .filter_map(|(p, d)| Some((p.strip_prefix("blobs/sha256/")?, d.as_slice())))
        .collect();
    let index = files.get("index.json").ok_or("no index.json")?;
    let mut order: Vec<(&str, &[u8])> = Vec::new();
    let mut queue: Vec<&[u8]> = vec![index];
    let mut at = 0;
    while at < queue.len() {
        let doc = String::from_utf8_lossy(queue[at]).into_owned();
        for &(hex, data) in &blobs {
            if doc.contains(hex) && !order.iter().any(|(h, _)| *h == hex) {
                order.push((hex, data));
                queue.push(data);
            }
        }
        at += 1;
    }
    let mut parts: Vec<Vec<u8>> = std::iter::once(index)
        .chain(order.iter().map(|(_, d)| *d))
        .map(<[u8]>::to_vec)
        .collect();
    for part in &mut parts {
        for (n, (hex, _)) in order.iter().enumerate() {
            *part = replace(part, hex.as_bytes(), format!("@@{}", n + 1).as_bytes());
        }
    }
    Ok(parts.join(SEP))
}

/// A docker archive's files as parts: `manifest.json` with its config and layers renamed to
/// parts (`@@N.json`, `blobs/sha256/@@N` or `pN`), then those files.
fn docker_parts(files: &Files) -> R<Vec<u8>> {
    let manifest = files.get("manifest.json").ok_or("no manifest.json")?;
    let mut m: serde_json::Value = serde_json::from_slice(manifest)?;
    let entry = m
        .get_mut(0)
        .and_then(|e| e.as_object_mut())
        .ok_or("empty manifest.json")?;
    let mut parts: Vec<Vec<u8>> = vec![Vec::new()];
    let mut rename = |path: &str| -> R<String> {
        let data = files.get(path).ok_or("missing member")?;
        parts.push(data.to_vec());
        let n = parts.len() - 1;
        Ok(if path.ends_with(".json") {
            format!("@@{n}.json")
        } else if path.starts_with("blobs/sha256/") {
            format!("blobs/sha256/@@{n}")
        } else {
            format!("p{n}")
        })
    };
    let config = entry
        .get("Config")
        .and_then(|c| c.as_str())
        .ok_or("no Config")?
        .to_string();
    entry.insert("Config".into(), rename(&config)?.into());
    let layers: Vec<String> = entry
        .get("Layers")
        .and_then(|l| l.as_array())
        .ok_or("no Layers")?
        .iter()
        .filter_map(|l| l.as_str().map(str::to_string))
        .collect();
    let renamed = layers
        .iter()
        .map(|l| rename(l))
        .collect::<R<Vec<String>>>()?;
    entry.insert("Layers".into(), renamed.into());
    parts[0] = serde_json::to_vec(&m)?;
    // The config names each layer tar by its sha256 (`rootfs.diff_ids`): as a part too, so
    // a mutated layer still matches its diff_id.
    for n in 2..parts.len() {
        let hex = fixture::sha256_digest(&parts[n]);
        let hex = hex.trim_start_matches("sha256:").to_string();
        parts[1] = replace(&parts[1], hex.as_bytes(), format!("@@{n}").as_bytes());
    }
    Ok(parts.join(SEP))
}

fn replace(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out
}

fn tempdir() -> R<PathBuf> {
    let d = std::env::temp_dir().join(format!("layersift-fuzz-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}
