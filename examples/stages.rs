//! Times the decode stages of one gzip blob separately (inflate; + sha256; full decode), to
//! see where decode time goes: `cargo run --release --example stages -- BLOB`.

use std::io::Read;
use std::time::Instant;

use sha2::Digest as _;

fn main() -> std::io::Result<()> {
    let path = std::env::args().nth(1).unwrap_or_default();
    let blob = std::fs::read(&path)?;
    let mut buf = vec![0u8; 256 * 1024];

    let t = Instant::now();
    let mut d = flate2::bufread::MultiGzDecoder::new(&blob[..]);
    let mut n = 0usize;
    loop {
        let k = d.read(&mut buf)?;
        if k == 0 {
            break;
        }
        n += k;
    }
    println!("inflate only:        {:?} ({n} bytes)", t.elapsed());

    let t = Instant::now();
    let mut d = flate2::bufread::MultiGzDecoder::new(&blob[..]);
    let mut sha = sha2::Sha256::new();
    loop {
        let k = d.read(&mut buf)?;
        if k == 0 {
            break;
        }
        sha.update(&buf[..k]);
    }
    let _ = sha.finalize();
    println!("inflate + sha256:    {:?}", t.elapsed());

    let t = Instant::now();
    let _ = sha2::Sha256::digest(&blob);
    println!("sha256 of blob:      {:?}", t.elapsed());

    let t = Instant::now();
    let d = layersift::decode_layer(&blob[..], None, None, None).map_err(std::io::Error::other)?;
    println!(
        "full decode_layer:   {:?} ({} entries)",
        t.elapsed(),
        d.index.len()
    );
    Ok(())
}
