//! The layer cache, for every local transport: a second analysis decodes nothing, a changed
//! archive is decoded again, a damaged entry is rebuilt, reports are byte-identical cold and
//! warm, local archives are cached by default, and an unusable cache directory is a warning.
//! (Registry, podman and docker runs through the cache are in `registry.rs`/`podman.rs`.)

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use layersift::{render_report, Cache, OpenOptions, Progress, ReportFormat};
use layersift_fixture::{BuiltImage, Format, ImageBuilder};
use tempfile::TempDir;

use crate::util::{bin, write};

/// Counts the layers served from the cache and the layers decoded.
#[derive(Default)]
struct Count {
    cached: AtomicUsize,
    done: AtomicUsize,
}

impl Progress for Count {
    fn layer_done(&self, _: usize) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }
    fn layer_cached(&self, _: usize) {
        self.cached.fetch_add(1, Ordering::Relaxed);
    }
}

/// One analysis through the cache in `cache`: its JSON and text reports, and (layers served
/// from the cache, layers decoded).
fn run(reference: &str, cache: Option<&Path>) -> (String, String, (usize, usize)) {
    let opts = OpenOptions {
        cache_dir: cache.map(Path::to_path_buf),
        ..Default::default()
    };
    let count = Count::default();
    let a = layersift::analyze_reference(reference, &opts, &count).unwrap();
    let cached = count.cached.load(Ordering::Relaxed);
    let decoded = count.done.load(Ordering::Relaxed) - cached;
    (
        render_report(&a, ReportFormat::Json).unwrap(),
        render_report(&a, ReportFormat::Text).unwrap(),
        (cached, decoded),
    )
}

/// Three layers with something in each for every part of a decoded entry: files, a
/// whiteout, a hard link, a secret in a deleted file.
fn image(version: u8) -> BuiltImage {
    ImageBuilder::new()
        .layer("ADD rootfs /", |l| {
            l.dir("etc")
                .file("etc/os-release", vec![b'o'; 100])
                .file("root/.ssh/id_rsa", {
                    let mut k = b"-----BEGIN OPENSSH PRIVATE KEY-----\n".to_vec();
                    k.extend_from_slice(b"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n");
                    k.extend_from_slice(b"-----END OPENSSH PRIVATE KEY-----\n");
                    k
                })
                .file("usr/bin/tool", vec![7u8; 3000])
        })
        .layer("RUN apt-get update", |l| {
            l.file("var/lib/apt/lists/main", vec![b'l'; 4000])
                .whiteout("root/.ssh/id_rsa")
        })
        .layer("COPY app /app", |l| {
            l.file("app/main", vec![version; 5000])
                .file("app/copy", vec![version; 5000])
        })
        .build()
        .unwrap()
}

#[test]
fn a_second_analysis_decodes_nothing_and_reports_the_same_bytes() {
    let img = image(1);
    for format in [
        Format::OciLayout,
        Format::OciArchive,
        Format::DockerArchive,
        Format::DockerArchiveOci,
        Format::DockerArchiveContainerd,
    ] {
        let dir = TempDir::new().unwrap();
        let cache = dir.path().join("cache");
        let reference = write(&img, format, dir.path());
        let (uncached_json, uncached_text, _) = run(&reference, None);
        let (cold_json, cold_text, cold) = run(&reference, Some(&cache));
        assert_eq!(
            cold,
            (0, 3),
            "{format:?}: the first run decodes every layer"
        );
        let (warm_json, warm_text, warm) = run(&reference, Some(&cache));
        assert_eq!(warm, (3, 0), "{format:?}: the second run decodes none");
        assert_eq!(warm_json, cold_json, "{format:?}");
        assert_eq!(warm_text, cold_text, "{format:?}");
        assert_eq!(cold_json, uncached_json, "{format:?}");
        assert_eq!(cold_text, uncached_text, "{format:?}");
        assert!(warm_json.contains("root/.ssh/id_rsa"), "the hidden key");
    }
}

#[test]
fn a_changed_archive_at_the_same_path_is_decoded_again() {
    let dir = TempDir::new().unwrap();
    let cache = dir.path().join("cache");
    // Rebuilt with a new last layer: its digests change, the two below it do not.
    for format in [Format::OciArchive, Format::DockerArchive] {
        let reference = write(&image(1), format, dir.path());
        run(&reference, Some(&cache));
        let reference = write(&image(2), format, dir.path());
        let (json, _, seen) = run(&reference, Some(&cache));
        assert_eq!(seen, (2, 1), "{format:?}: only the new layer is decoded");
        assert_eq!(json, run(&reference, None).0, "{format:?}");
    }

    // The same manifest over a blob whose bytes changed (same size): the cached decode is
    // not served; the blob is decoded and found not to match its digest.
    let img = image(1);
    let reference = write(&img, Format::OciLayout, dir.path());
    run(&reference, Some(&cache));
    let digest = &img.layers[2].digest;
    let blob = dir
        .path()
        .join("layout/blobs/sha256")
        .join(digest.trim_start_matches("sha256:"));
    let mut bytes = std::fs::read(&blob).unwrap();
    let at = bytes.len() - 30;
    bytes[at] ^= 0x5a;
    std::fs::write(&blob, bytes).unwrap();
    let opts = OpenOptions {
        cache_dir: Some(cache.clone()),
        ..Default::default()
    };
    let count = Count::default();
    let err = layersift::analyze_reference(&reference, &opts, &count).unwrap_err();
    let chain = format!("{:#}", anyhow::Error::from(err));
    assert!(
        chain.contains("blob digest mismatch") && chain.contains(digest.as_str()),
        "{chain}"
    );
}

#[test]
fn a_damaged_entry_under_the_right_digest_is_dropped_and_rebuilt() {
    let dir = TempDir::new().unwrap();
    let cache_dir = dir.path().join("cache");
    let img = image(1);
    let reference = write(&img, Format::OciArchive, dir.path());
    let (cold, _, _) = run(&reference, Some(&cache_dir));

    let cache = Cache::open(&cache_dir, None).unwrap();
    let key = &img.layers[0].digest;
    // An index that does not parse, stored with a checksum that matches it.
    let mut entry = cache.get_layer(key).unwrap();
    let n = entry.len();
    entry[n - 40..].fill(0xff);
    cache.put_layer(key, &entry);
    let (json, _, seen) = run(&reference, Some(&cache_dir));
    assert_eq!(seen, (2, 1), "the damaged layer is decoded again");
    assert_eq!(json, cold);
    // A torn write (the checksum no longer matches).
    let path = cache.layer_path(key).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let (json, _, seen) = run(&reference, Some(&cache_dir));
    assert_eq!(seen, (2, 1));
    assert_eq!(json, cold);
    // Both times the entry was written whole again.
    let (json, _, seen) = run(&reference, Some(&cache_dir));
    assert_eq!(seen, (3, 0));
    assert_eq!(json, cold);
}

/// The binary: local archives are cached by default (under `$XDG_CACHE_HOME/layersift`),
/// `LAYERSIFT_CACHE_DIR` and `--cache-dir` pick the folder, `--no-cache` bypasses it, and
/// the output is the same byte for byte every time.
#[test]
fn the_binary_caches_local_archives_by_default() {
    let dir = TempDir::new().unwrap();
    let img = image(1);
    let reference = write(&img, Format::DockerArchive, dir.path());
    let analyze = |envs: &[(&str, &Path)], args: &[&str]| {
        let mut cmd = bin();
        cmd.env_remove("LAYERSIFT_CACHE_DIR")
            .env("HOME", dir.path())
            .env("XDG_CACHE_HOME", dir.path().join("xdg"));
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = cmd
            .args(["analyze", "-f", "json"])
            .args(args)
            .arg(&reference)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let layers_in = |cache: &Path| {
        std::fs::read_dir(cache.join("v1/layers/sha256"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let first = analyze(&[], &[]);
    assert_eq!(layers_in(&dir.path().join("xdg/layersift")), 3);
    assert_eq!(analyze(&[], &[]), first);

    let env_dir = dir.path().join("env");
    assert_eq!(analyze(&[("LAYERSIFT_CACHE_DIR", &env_dir)], &[]), first);
    assert_eq!(layers_in(&env_dir), 3);

    let flag_dir = dir.path().join("flag");
    let flag = flag_dir.to_str().unwrap();
    assert_eq!(analyze(&[], &["--cache-dir", flag]), first);
    assert_eq!(layers_in(&flag_dir), 3);

    let unused = dir.path().join("unused");
    let unused_arg = unused.to_str().unwrap();
    assert_eq!(
        analyze(&[], &["--no-cache", "--cache-dir", unused_arg]),
        first
    );
    assert!(!unused.exists());
}

/// A cache directory that cannot be created, or whose entries cannot be written, is one
/// warning on stderr; the analysis succeeds with the same report.
#[test]
fn an_unusable_cache_directory_is_a_warning() {
    let dir = TempDir::new().unwrap();
    let img = image(1);
    let reference = write(&img, Format::OciArchive, dir.path());
    let analyze = |cache: &Path| {
        let out = bin()
            .args(["analyze", "-f", "json", "--cache-dir"])
            .arg(cache)
            .arg(&reference)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        (out.stdout, String::from_utf8(out.stderr).unwrap())
    };
    let (expected, _) = analyze(&dir.path().join("good"));

    // Not a directory at all.
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"").unwrap();
    let (out, err) = analyze(&file);
    assert_eq!(out, expected);
    assert!(
        err.starts_with("warning: cannot create the cache directory")
            && err.trim_end().ends_with("going on without the cache")
            && err.lines().count() == 1,
        "{err}"
    );

    // A hostile directory name (escape sequences) is printed escaped.
    let hostile = dir.path().join("cache\x1b]0;owned\x07\x1b[2J");
    std::fs::write(&hostile, b"").unwrap();
    let (out, err) = analyze(&hostile);
    assert_eq!(out, expected);
    assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err:?}");
    assert!(err.contains("cache\\u{1b}]0;owned"), "{err}");

    // A directory where entries cannot be written (a folder stands where each entry
    // goes): one warning, however many writes fail.
    let full = dir.path().join("full");
    analyze(&full);
    for l in &img.layers {
        let hex = l.digest.trim_start_matches("sha256:");
        let entry = full.join("v1/layers/sha256").join(hex);
        std::fs::remove_file(&entry).unwrap();
        std::fs::create_dir(&entry).unwrap();
    }
    let (out, err) = analyze(&full);
    assert_eq!(out, expected);
    assert!(
        err.starts_with("warning: cannot write to the cache directory") && err.lines().count() == 1,
        "{err}"
    );
}
