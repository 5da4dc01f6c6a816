//! Writes a large synthetic image with the fixture builder, for benchmarks and memory
//! measurements: `cargo run --release --example synth -- OUT FILES [docker|oci-archive]
//! [MEAN_FILE_BYTES]`. Files average about 3 KB unless MEAN_FILE_BYTES is given (sizes vary
//! from a fifteenth of it to twice it). Docker archives hold plain tars, as `docker save`
//! writes them; OCI archives hold gzip blobs. Three layers: a base of FILES small files, a layer rewriting a tenth of them, and a layer
//! deleting a directory, so every merge rule has work to do.

use layersift::fixture::{Compression, Format, ImageBuilder};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(out), Some(files)) = (
        args.get(1),
        args.get(2).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: synth OUT FILES [docker|oci-archive] [MEAN_FILE_BYTES]");
        std::process::exit(2);
    };
    let format = match args.get(3).map(String::as_str) {
        Some("oci-archive") => Format::OciArchive,
        _ => Format::DockerArchive,
    };
    let mean = args
        .get(4)
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(3200)
        .max(16);
    let compression = match format {
        Format::DockerArchive => Compression::None,
        _ => Compression::Gzip,
    };
    let body = |i: usize| -> Vec<u8> {
        let len = mean / 16 + (i * 7919) % (mean * 15 / 8);
        (0..len).map(|b| ((b * 31 + i * 17) % 251) as u8).collect()
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
