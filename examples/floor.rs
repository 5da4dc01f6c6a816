//! The least work any decoder held to this project's rules must do on a set of gzip or zstd
//! blobs: decompress each one and sha256 both the blob and the decompressed tar, nothing
//! else (no tar walk, no index). All layers at once, each split over three threads (blob hash,
//! decompression, tar hash), so the
//! machine's cores are all busy. `scripts/compare.sh` sets its wall time beside
//! `igzip -dc` and `layersift analyze`: no implementation on the same decompressor can beat
//! it. `cargo run --release --example floor -- BLOB...`

use std::io::Read;
use std::time::Instant;

use sha2::{Digest as _, Sha256};

fn required_work(blob: &[u8]) -> std::io::Result<u64> {
    std::thread::scope(|s| {
        let blob_sha = s.spawn(|| Sha256::digest(blob));
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let tar_sha = s.spawn(move || {
            let mut sha = Sha256::new();
            for chunk in rx {
                sha.update(&chunk);
            }
            sha.finalize()
        });
        let mut d: Box<dyn Read> = if blob.starts_with(&[0x1f, 0x8b]) {
            Box::new(flate2::bufread::MultiGzDecoder::new(blob))
        } else {
            Box::new(zstd::stream::read::Decoder::with_buffer(blob)?)
        };
        let mut n = 0u64;
        loop {
            let mut out = vec![0u8; 256 << 10];
            let k = d.read(&mut out)?;
            if k == 0 {
                break;
            }
            out.truncate(k);
            n += k as u64;
            if tx.send(out).is_err() {
                break;
            }
        }
        drop(tx);
        let joined = tar_sha.join().ok().zip(blob_sha.join().ok());
        std::hint::black_box(joined)
            .ok_or_else(|| std::io::Error::other("a hash thread panicked"))?;
        Ok(n)
    })
}

fn main() -> std::io::Result<()> {
    let blobs = std::env::args()
        .skip(1)
        .map(std::fs::read)
        .collect::<std::io::Result<Vec<_>>>()?;
    let t = Instant::now();
    // Every layer at once: the scheduler keeps all cores busy to the end.
    let total = std::thread::scope(|s| {
        let workers: Vec<_> = blobs
            .iter()
            .map(|b| s.spawn(move || required_work(b)))
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("panicked")))
            })
            .sum::<std::io::Result<u64>>()
    })?;
    println!(
        "{:.3} s for {} blobs, {total} bytes out",
        t.elapsed().as_secs_f64(),
        blobs.len()
    );
    Ok(())
}
