//! The layer stage, between [`crate::source`] and [`crate::decode`]: takes every layer blob
//! an image lists, whatever transport holds it, and turns it into a [`DecodedLayer`], from
//! the layer cache when it holds this very blob, else by decoding it (and caching the
//! result). Layers run in parallel, largest first.
//!
//! A cached layer is keyed by its blob digest, or, for a classic docker-archive layer that
//! has none, by its diff_id (the digest of its tar, which such a plain blob is). It is
//! served only after the blob as read now hashed to the digest the entry was made from: one
//! sha256 pass over the compressed bytes instead of inflating and hashing the tar, and a
//! changed archive at the same path is never served a stale index. The one exception is a
//! registry, whose blobs are fetched by digest and checked on arrival: re-reading one would
//! mean downloading it, so its digest from the verified manifest is the key.
//!
//! Sources know nothing of decode and decode nothing of sources: this stage alone sees both.

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

use rayon::prelude::*;

use sha2::{Digest as _, Sha256};

use crate::cache::Cache;
use crate::decode::{decode_layer, DecodeError, DecodedLayer, LayerError, Progress};
use crate::digest::finish;
use crate::source::{Image, LayerBlob};

/// Decodes every layer of an image in parallel, through the layer cache the image was
/// opened with (none with `--no-cache`); the results are in manifest order.
///
/// Layers are taken largest first by a few workers, each taking the next layer as soon as
/// its last one is done, so the largest layer (the longest chain of work) never starts last.
/// Each layer runs its own short pipeline of threads, so more layers run at once than there
/// are cores: the spare threads fill the gaps a pipeline leaves and balance the end of the
/// run.
pub fn decode_image(
    image: &Image,
    progress: &dyn Progress,
) -> Result<Vec<DecodedLayer>, LayerError> {
    let order = image.decode_order();
    let known: Vec<(usize, u64)> = image.layers.iter().map(|l| l.size).enumerate().collect();
    progress.layers_known(&known);
    let slots: Vec<Mutex<Option<Result<Layer, DecodeError>>>> =
        image.layers.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let workers = decode_workers().min(order.len());
    let work = || {
        while !failed.load(Ordering::Relaxed) {
            let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) else {
                break;
            };
            let layer = &image.layers[i];
            progress.layer_started(i, layer.size);
            let r = layer_of(image, layer, progress, i);
            progress.layer_done(i);
            failed.fetch_or(r.is_err(), Ordering::Relaxed);
            if let Ok(mut slot) = slots[i].lock() {
                *slot = Some(r);
            }
        }
    };
    rayon::scope(|s| {
        for _ in 0..workers {
            s.spawn(|_| work());
        }
    });
    let mut results: Vec<Option<Result<Layer, DecodeError>>> = slots
        .into_iter()
        .map(|slot| slot.into_inner().ok().flatten())
        .collect();
    // Layers decoded now get their gzip sample and go into the cache once every layer is
    // decoded, not while the largest is still being indexed: their buffers then never add
    // to the run's peak memory.
    results
        .par_iter_mut()
        .zip(&image.layers)
        .for_each(|(r, layer)| {
            if let Some(Ok(Layer::Decoded(d))) = r {
                keep(image, layer, d);
            }
        });
    // The first failing layer in manifest order is the one reported.
    let mut decoded = Vec::with_capacity(results.len());
    for (i, r) in results.into_iter().enumerate() {
        let layer = &image.layers[i];
        match r {
            Some(Ok(Layer::Ready(d) | Layer::Decoded(d))) => decoded.push(d),
            Some(Err(source)) => {
                return Err(LayerError {
                    index: i,
                    name: layer_name(layer),
                    source,
                })
            }
            // Not decoded because another layer failed first.
            None => continue,
        }
    }
    Ok(decoded)
}

/// How many layers decode at once: twice the worker threads (see [`decode_image`]);
/// `LAYERSIFT_DECODE_JOBS` overrides it.
fn decode_workers() -> usize {
    std::env::var("LAYERSIFT_DECODE_JOBS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| 2 * rayon::current_num_threads())
}

/// A layer from [`layer_of`]: ready (served by the cache, or a foreign layer left empty), or
/// decoded now (still to be sampled and cached by [`keep`]).
enum Layer {
    Ready(DecodedLayer),
    Decoded(DecodedLayer),
}

/// Finishes a layer decoded now: its gzip sample (it reads the blob's first bytes again),
/// then its cache entry, written as it is encoded, so a warm run neither decodes nor
/// compresses.
fn keep(image: &Image, layer: &LayerBlob, d: &mut DecodedLayer) {
    d.gzip_sample_ratio = crate::sample::of_layer(image, layer, d);
    if let (Some(cache), Some(key)) = (&image.cache, cache_key(layer)) {
        cache.put_layer_with(key, |w| d.write_entry(w));
    }
}

/// The key a layer is cached under: its blob digest, else its diff_id.
fn cache_key(layer: &LayerBlob) -> Option<&str> {
    layer.digest.as_deref().or(layer.diff_id.as_deref())
}

/// One layer: from the cache when it holds this very blob, else decoded (to be cached).
fn layer_of(
    image: &Image,
    layer: &LayerBlob,
    progress: &dyn Progress,
    i: usize,
) -> Result<Layer, DecodeError> {
    if layer
        .media_type
        .as_deref()
        .is_some_and(crate::source::is_foreign_layer_media_type)
    {
        // A foreign layer's blob is not part of the image (it is fetched from elsewhere,
        // if at all): skipped, as an empty layer; reports say so.
        return Ok(Layer::Ready(DecodedLayer {
            index: crate::index::LayerIndex::new(),
            compression: crate::decode::Compression::None,
            compressed_size: layer.size,
            uncompressed_size: 0,
            digest: layer.digest.clone().unwrap_or_default(),
            diff_id: layer.diff_id.clone().unwrap_or_default(),
            secrets: Vec::new(),
            packages: Default::default(),
            gzip_sample_ratio: None,
        }));
    }
    let cached = match (&image.cache, cache_key(layer)) {
        (Some(cache), Some(key)) => Some((cache, key)),
        _ => None,
    };
    if let Some((cache, key)) = cached {
        if let Some(d) = from_cache(image, layer, cache, key, progress, i)? {
            progress.layer_cached(i);
            return Ok(Layer::Ready(d));
        }
    }
    let open = |e| DecodeError::Open(Box::new(e));
    let blob = image.store.open(layer).map_err(open)?;
    let d = decode_layer(
        blob,
        layer.digest.as_deref(),
        layer.diff_id.as_deref(),
        Some((progress, i)),
    )?;
    if layer.digest.is_some() && layer.size != d.compressed_size {
        return Err(DecodeError::SizeMismatch {
            expected: layer.size,
            actual: d.compressed_size,
        });
    }
    Ok(Layer::Decoded(d))
}

/// The cached decode of `layer`, once the blob as read now hashed to the digest it was made
/// from; `None` on a miss, a stale or unreadable entry (deleted, to be rebuilt), or a blob
/// that changed since.
fn from_cache(
    image: &Image,
    layer: &LayerBlob,
    cache: &Cache,
    key: &str,
    progress: &dyn Progress,
    i: usize,
) -> Result<Option<DecodedLayer>, DecodeError> {
    let Some(d) = cache.read_layer(key, DecodedLayer::read_entry) else {
        return Ok(None);
    };
    if !is_same_layer(layer, &d) {
        cache.remove_layer(key);
        return Ok(None);
    }
    if image.store.fetched_by_digest() {
        progress.advanced(i, d.compressed_size);
        return Ok(Some(d));
    }
    let blob = image
        .store
        .open(layer)
        .map_err(|e| DecodeError::Open(Box::new(e)))?;
    let (digest, size) = hash_blob(blob, progress, i).map_err(DecodeError::Read)?;
    Ok((digest == d.digest && size == d.compressed_size).then_some(d))
}

/// Bytes a blob is read in, for [`hash_blob`].
const HASH_CHUNK: usize = 1 << 20;

/// sha256 and size of a blob, reporting progress as it goes. A reader thread fills the next
/// chunks while this one hashes, so a warm run over one big layer keeps two cores busy
/// (reading from the page cache or a disk, and hashing) instead of doing both in turn.
fn hash_blob(
    blob: impl Read + Send,
    progress: &dyn Progress,
    i: usize,
) -> io::Result<(String, u64)> {
    std::thread::scope(|s| {
        // Three chunks in all: one being read, one queued, one being hashed. The channels
        // live in this closure, so returning from it (an error) stops the reader.
        let (full_tx, full_rx) = sync_channel::<io::Result<Vec<u8>>>(1);
        let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(3);
        s.spawn(move || read_chunks(blob, &empty_rx, &full_tx));
        let mut sha = Sha256::new();
        let (mut count, mut reported) = (0u64, 0u64);
        for _ in 0..3 {
            // Cannot fail: the reader holds the receiver until it has sent its last chunk.
            let _ = empty_tx.send(Vec::with_capacity(HASH_CHUNK));
        }
        // Ends when the reader has sent its last chunk (or an error) and dropped its sender;
        // an error returned here drops `empty_tx`, which stops the reader.
        for chunk in full_rx {
            let chunk = chunk?;
            sha.update(&chunk);
            count += chunk.len() as u64;
            if count - reported >= 4 << 20 {
                reported = count;
                progress.advanced(i, count);
            }
            let _ = empty_tx.send(chunk);
        }
        progress.advanced(i, count);
        Ok((finish(sha), count))
    })
}

/// The reader side of [`hash_blob`]: fills each empty chunk it is given and passes it on,
/// until the blob ends, a read fails (the error is passed on), or the hasher stops.
fn read_chunks(
    mut blob: impl Read,
    empty: &Receiver<Vec<u8>>,
    full: &SyncSender<io::Result<Vec<u8>>>,
) {
    while let Ok(mut chunk) = empty.recv() {
        chunk.resize(HASH_CHUNK, 0);
        let mut filled = 0;
        let mut failed = None;
        while filled < HASH_CHUNK {
            match blob.read(&mut chunk[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        chunk.truncate(filled);
        let last = filled < HASH_CHUNK;
        if filled > 0 && full.send(Ok(chunk)).is_err() {
            return;
        }
        if let Some(e) = failed {
            let _ = full.send(Err(e));
            return;
        }
        if last {
            return;
        }
    }
}

/// True when a cached decode is of this very layer: every digest and size the manifest
/// and config give must match what was measured when it was decoded.
fn is_same_layer(layer: &LayerBlob, d: &DecodedLayer) -> bool {
    layer.digest.as_ref().is_none_or(|x| *x == d.digest)
        && layer.diff_id.as_ref().is_none_or(|x| *x == d.diff_id)
        && (layer.digest.is_none() || layer.size == d.compressed_size)
        && (layer.digest.is_some() || layer.diff_id.is_some())
}

fn layer_name(layer: &LayerBlob) -> String {
    layer
        .digest
        .clone()
        .or_else(|| layer.diff_id.clone())
        .unwrap_or_else(|| layer.locator.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::NoProgress;
    use layersift_fixture::{noise, Format, ImageBuilder};

    fn open(img: &layersift_fixture::BuiltImage, path: &std::path::Path) -> Image {
        img.write(Format::OciLayout, path).unwrap();
        let r = crate::source::ImageRef::parse(&format!("oci:{}", path.display())).unwrap();
        crate::source::open(&r, &Default::default()).unwrap()
    }

    /// Layers are decoded largest first, but come back in manifest order, and a failure
    /// names the failing layer by its manifest position.
    #[test]
    fn results_keep_manifest_order_whatever_the_decode_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = ImageBuilder::new();
        for (i, n) in [10usize, 300_000, 1, 90_000].into_iter().enumerate() {
            b = b.layer(&format!("RUN make {i}"), |l| {
                l.file(format!("f{i}"), noise(n, i as u64 + 7))
            });
        }
        let img = b.build().unwrap();
        let image = open(&img, &dir.path().join("img"));
        assert_eq!(image.decode_order(), vec![1, 3, 0, 2]);
        let decoded = decode_image(&image, &NoProgress).unwrap();
        for (d, l) in decoded.iter().zip(&image.layers) {
            assert_eq!(Some(&d.digest), l.digest.as_ref());
            assert_eq!(d.compressed_size, l.size);
        }
        assert_eq!(decoded.len(), 4);

        // Damage the third layer (the smallest, decoded last): it is the one reported.
        let mut bad = img.clone();
        let n = bad.layers[2].blob.len() / 2;
        bad.layers[2].blob.truncate(n);
        let image = open(&bad, &dir.path().join("bad"));
        let err = decode_image(&image, &NoProgress).unwrap_err();
        assert_eq!(err.index, 2, "{err}");
    }

    /// Counts layers served from the cache and layers decoded.
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

    impl Count {
        /// (served from the cache, decoded).
        fn seen(&self) -> (usize, usize) {
            let cached = self.cached.load(Ordering::Relaxed);
            (cached, self.done.load(Ordering::Relaxed) - cached)
        }
    }

    /// A reader that hands out a few bytes at a time, then fails if told to.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        fail_at: Option<usize>,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.fail_at.is_some_and(|f| self.at >= f) {
                return Err(io::Error::other("disk gone"));
            }
            let n = buf.len().min(self.data.len() - self.at).min(70_001);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    /// The reader thread changes nothing: the digest and size are those of the bytes, for
    /// blobs shorter than a chunk, of exactly whole chunks and across chunk boundaries; a
    /// read error ends it with that error.
    #[test]
    fn hash_blob_reads_beside_the_hasher() {
        for len in [0, 1, HASH_CHUNK, 2 * HASH_CHUNK, 3 * HASH_CHUNK + 12_345] {
            let data = noise(len, len as u64);
            let blob = Trickle {
                data: data.clone(),
                at: 0,
                fail_at: None,
            };
            let (digest, size) = hash_blob(blob, &NoProgress, 0).unwrap();
            assert_eq!(size, len as u64);
            assert_eq!(digest, crate::digest::sha256_digest(&data), "{len} bytes");
        }
        let blob = Trickle {
            data: noise(5 * HASH_CHUNK, 1),
            at: 0,
            fail_at: Some(2 * HASH_CHUNK + 5),
        };
        let e = hash_blob(blob, &NoProgress, 0).unwrap_err();
        assert_eq!(e.to_string(), "disk gone");
    }

    fn cached_opts(dir: &std::path::Path) -> crate::source::OpenOptions {
        crate::source::OpenOptions {
            cache_dir: Some(dir.to_path_buf()),
            ..Default::default()
        }
    }

    /// A plain-tar layer without a blob digest (a classic docker archive) is cached under
    /// its diff_id, and served only after its tar hashed to it again; its gzip sample ratio
    /// is taken when it is decoded and comes back from the cache with it.
    #[test]
    fn classic_docker_archive_layers_are_keyed_by_diff_id() {
        let dir = tempfile::tempdir().unwrap();
        let img = ImageBuilder::new()
            .compression(layersift_fixture::Compression::None)
            .layer("ADD a /", |l| l.file("a", noise(5000, 1)))
            .layer("ADD b /", |l| l.file("b", noise(7000, 2)))
            .build()
            .unwrap();
        let path = dir.path().join("image.tar");
        img.write(Format::DockerArchive, &path).unwrap();
        let r =
            crate::source::ImageRef::parse(&format!("docker-archive:{}", path.display())).unwrap();
        let opts = cached_opts(&dir.path().join("cache"));
        let image = crate::source::open(&r, &opts).unwrap();
        assert!(image.layers.iter().all(|l| l.digest.is_none()));
        let count = Count::default();
        let cold = decode_image(&image, &count).unwrap();
        assert_eq!(count.seen(), (0, 2));
        let cache = image.cache.as_ref().unwrap();
        for l in &image.layers {
            assert!(cache.has_layer(l.diff_id.as_deref().unwrap()));
        }
        let count = Count::default();
        let warm = decode_image(&image, &count).unwrap();
        assert_eq!(count.seen(), (2, 0));
        for (c, w) in cold.iter().zip(&warm) {
            assert_eq!(c.index.entries, w.index.entries);
            assert_eq!((&c.digest, &c.diff_id), (&w.digest, &w.diff_id));
            assert!(c.gzip_sample_ratio.is_some_and(|r| r > 0.0));
            assert_eq!(c.gzip_sample_ratio, w.gzip_sample_ratio);
        }
    }

    /// An entry that reads back wrong (a stale format, or an index that does not parse,
    /// under a checksum that matches) is dropped and rebuilt by decoding the blob again.
    #[test]
    fn an_unreadable_entry_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let img = ImageBuilder::new()
            .layer("ADD a /", |l| l.file("a", noise(5000, 3)))
            .build()
            .unwrap();
        let opts = cached_opts(&dir.path().join("cache"));
        let path = dir.path().join("i.tar");
        img.write(Format::OciArchive, &path).unwrap();
        let r = crate::source::ImageRef::parse(&format!("oci-archive:{}", path.display())).unwrap();
        let image = crate::source::open(&r, &opts).unwrap();
        decode_image(&image, &NoProgress).unwrap();
        let cache = image.cache.as_ref().unwrap();
        let key = image.layers[0].digest.clone().unwrap();
        let mut entry = cache.get_layer(&key).unwrap();
        let n = entry.len();
        entry[n - 10..].fill(0xee);
        cache.put_layer(&key, &entry);
        assert!(cache.get_layer(&key).is_some(), "its checksum matches");

        let count = Count::default();
        decode_image(&image, &count).unwrap();
        assert_eq!(count.seen(), (0, 1), "decoded again");
        let count = Count::default();
        decode_image(&image, &count).unwrap();
        assert_eq!(count.seen(), (1, 0), "and cached whole");
    }
}
