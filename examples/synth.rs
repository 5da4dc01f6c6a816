//! Writes a large synthetic image with the fixture builder, for benchmarks and memory
//! measurements: `cargo run --release --example synth -- OUT FILES
//! [docker|docker-containerd|oci-archive] [MEAN_FILE_BYTES]`. Files average about 3 KB
//! unless MEAN_FILE_BYTES is given (sizes vary from a fifteenth of it to twice it); their
//! bytes are pseudo-random words, which gzip shrinks about threefold, like text and code.
//! `docker` holds plain tars, as `docker save` writes them from the classic image store;
//! `docker-containerd` holds gzip blobs, as it writes them from the containerd image store
//! (the default of fresh Docker 29+ installs); OCI archives hold gzip blobs. Three layers:
//! a base of FILES files, a layer rewriting a tenth of them, and a layer deleting a
//! directory, so every merge rule has work to do.

use layersift_fixture::{Compression, Format, ImageBuilder, Noise};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(out), Some(files)) = (
        args.get(1),
        args.get(2).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!(
            "usage: synth OUT FILES [docker|docker-containerd|oci-archive] [MEAN_FILE_BYTES]"
        );
        std::process::exit(2);
    };
    let format = match args.get(3).map(String::as_str) {
        Some("oci-archive") => Format::OciArchive,
        Some("docker-containerd") => Format::DockerArchiveContainerd,
        _ => Format::DockerArchive,
    };
    let mean = args
        .get(4)
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(3200)
        .max(16);
    let compression = match args.get(3).map(String::as_str) {
        Some("docker") | None => Compression::None,
        _ => Compression::Gzip,
    };
    let body = |i: usize| -> Vec<u8> {
        let len = mean / 16 + (i * 7919) % (mean * 15 / 8);
        words(i as u64, len)
    };
    let path = |i: usize| format!("usr/lib/pkg{:03}/share/data/file-{i:07}.dat", i % 500);
    let img = ImageBuilder::new()
        .compression(compression)
        .layer("ADD rootfs.tar /", |mut l| {
            for i in 0..files {
                l = l.file(path(i), body(i));
            }
            l
        })
        .layer("RUN chmod -R g+w /usr/lib/pkg001", |mut l| {
            for i in (0..files).filter(|i| i % 10 == 0) {
                l = l.file(path(i), body(i)).mode(0o664);
            }
            l
        })
        .layer("RUN rm -rf /usr/lib/pkg002", |l| {
            l.whiteout("usr/lib/pkg002")
        })
        .build()?;
    img.write(format, out)
}

/// `len` bytes of words drawn from a fixed 64-word vocabulary by a xorshift generator
/// seeded with `seed`: deterministic, and about as compressible as source code.
fn words(seed: u64, len: usize) -> Vec<u8> {
    const VOCAB: [&str; 64] = [
        "the", "of", "and", "to", "in", "is", "for", "on", "return", "self", "let", "mut", "fn",
        "struct", "impl", "pub", "use", "match", "if", "else", "while", "loop", "break", "const",
        "static", "where", "type", "enum", "trait", "as", "ref", "move", "unsafe", "async",
        "await", "dyn", "crate", "super", "mod", "true", "false", "None", "Some", "Ok", "Err",
        "Vec", "String", "usize", "u8", "u32", "u64", "i64", "bool", "str", "len", "push", "iter",
        "map", "collect", "unwrap", "clone", "into", "from", "new",
    ];
    let mut rng = Noise::new(seed);
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        let x = rng.next_u64();
        out.extend_from_slice(VOCAB[(x % 64) as usize].as_bytes());
        out.push(if x >> 60 == 0 { b'\n' } else { b' ' });
    }
    out.truncate(len);
    out
}
