//! Content access on images built for each rule: `cat` (final and per-layer versions,
//! deleted and overwritten files, hard links, symlink chains, whiteout-hidden directories,
//! non-UTF-8 names, missing paths), `extract` (the merged filesystem, one layer, and one
//! fixture per attack) and `diff --file`.

use std::fs;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use layersift_fixture::{BuiltImage, Format, ImageBuilder};
use tempfile::TempDir;

use crate::util::{bin, success_stdout, write};

const KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n";

/// Layer 0 ships files, links and a directory; layer 1 overwrites, deletes and hides them.
fn content_image() -> BuiltImage {
    ImageBuilder::new()
        .layer("ADD rootfs /", |l| {
            l.dir("etc")
                .file("etc/os-release", "NAME=one\n")
                .file("etc/motd", "hello\n")
                .dir("root/.ssh")
                .file("root/.ssh/id_rsa", KEY)
                .dir("data")
                .file("data/a.txt", "alpha\n")
                .hardlink("data/a-link", "data/a.txt")
                .dir("usr/lib")
                .file("usr/lib/libz.so.1.2", vec![0u8, 1, 2, 3, 255])
                .symlink("usr/lib/libz.so.1", "libz.so.1.2")
                .symlink("usr/lib/libz.so", "/usr/lib/libz.so.1")
                .symlink("lib", "usr/lib")
                .file(b"caf\xe9.txt", "latin-1 name\n")
                .dir("var/cache")
                .file("var/cache/big", "cached\n")
                .fifo("run-fifo")
                .symlink("loop-a", "loop-b")
                .symlink("loop-b", "loop-a")
        })
        .layer("RUN update", |l| {
            l.file("etc/os-release", "NAME=two\n")
                .whiteout("root/.ssh/id_rsa")
                .whiteout("var/cache")
        })
        .build()
        .unwrap()
}

fn cat(reference: &str, args: &[&str]) -> assert_cmd::assert::Assert {
    bin().arg("cat").arg(reference).args(args).assert()
}

#[test]
fn cat_reads_final_and_per_layer_versions() {
    let dir = TempDir::new().unwrap();
    let r = write(&content_image(), Format::OciArchive, dir.path());
    cat(&r, &["/etc/os-release"]).success().stdout("NAME=two\n");
    cat(&r, &["etc/os-release", "--layer", "0"])
        .success()
        .stdout("NAME=one\n");
    // The deleted key is still shipped by layer 0, and readable.
    cat(&r, &["/root/.ssh/id_rsa", "--layer", "0"])
        .success()
        .stdout(KEY);
    let out = cat(&r, &["/root/.ssh/id_rsa"]).code(2).get_output().clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("was deleted in layer 1"), "{err}");
    assert!(err.contains("hint: pass `--layer N`"), "{err}");
    // A hard link gives its target's bytes.
    cat(&r, &["/data/a-link"]).success().stdout("alpha\n");
    // A chain of symlinks (absolute, relative, through a symlinked directory) is followed
    // inside the image.
    cat(&r, &["/lib/libz.so"])
        .success()
        .stdout(&[0u8, 1, 2, 3, 255][..]);
    // Non-UTF-8 names.
    bin()
        .arg("cat")
        .arg(&r)
        .arg(std::ffi::OsStr::from_bytes(b"/caf\xe9.txt"))
        .assert()
        .success()
        .stdout("latin-1 name\n");
    // A directory hidden by a whiteout: gone from the final filesystem, readable in its
    // layer.
    let out = cat(&r, &["/var/cache/big"]).code(2).get_output().clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("deleted in layer 1"));
    cat(&r, &["/var/cache/big", "--layer", "0"])
        .success()
        .stdout("cached\n");
}

#[test]
fn cat_errors_are_clear() {
    let dir = TempDir::new().unwrap();
    let r = write(&content_image(), Format::OciLayout, dir.path());
    let stderr = |args: &[&str]| {
        let out = cat(&r, args).code(2).get_output().clone();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = stderr(&["/etc/os-releas"]);
    assert!(
        e.starts_with("error: `etc/os-releas` is not in the final filesystem"),
        "{e}"
    );
    assert!(e.contains("did you mean `etc/os-release`"), "{e}");
    let e = stderr(&["/etc"]);
    assert!(e.contains("`etc` is a directory"), "{e}");
    let e = stderr(&["/run-fifo"]);
    assert!(e.contains("is a fifo, not a regular file"), "{e}");
    let e = stderr(&["/loop-a"]);
    assert!(e.contains("too many levels of symbolic links"), "{e}");
    let e = stderr(&["/etc/motd", "--layer", "1"]);
    assert!(e.contains("`etc/motd` is not in layer 1"), "{e}");
    assert!(e.contains("it is in layer 0"), "{e}");
    let e = stderr(&["/etc/motd", "--layer", "7"]);
    assert!(e.contains("there is no layer 7"), "{e}");
}

/// Every path under `root` with what it is: `f <mode> <content>`, `d <mode>`, `l <target>`.
fn listing(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let m = fs::symlink_metadata(&p).unwrap();
            let mode = m.permissions().mode() & 0o7777;
            if m.file_type().is_symlink() {
                out.push(format!(
                    "l {rel} -> {}",
                    fs::read_link(&p).unwrap().display()
                ));
            } else if m.is_dir() {
                out.push(format!("d {rel} {mode:o}"));
                stack.push(p);
            } else {
                let c = fs::read(&p).unwrap();
                out.push(format!("f {rel} {mode:o} {}", String::from_utf8_lossy(&c)));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn extract_writes_the_merged_filesystem() {
    let dir = TempDir::new().unwrap();
    let r = write(&content_image(), Format::DockerArchive, dir.path());
    let out = dir.path().join("out");
    let a = bin()
        .args(["extract", &r, "-o"])
        .arg(&out)
        .assert()
        .success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("note: skipped `run-fifo`: fifo"), "{err}");
    let l = listing(&out);
    assert!(
        l.contains(&"f etc/os-release 644 NAME=two\n".to_string()),
        "{l:#?}"
    );
    assert!(l.contains(&"l lib -> usr/lib".to_string()), "{l:#?}");
    assert!(l.contains(&"l usr/lib/libz.so -> /usr/lib/libz.so.1".to_string()));
    assert!(
        !l.iter().any(|p| p.contains("id_rsa")),
        "deleted files stay deleted"
    );
    assert!(!l.iter().any(|p| p.contains("var/cache")), "{l:#?}");
    assert!(!l.iter().any(|p| p.contains("run-fifo")));
    // The hard link is a link to the extracted file.
    let meta = |p: &str| fs::metadata(out.join(p)).unwrap();
    use std::os::unix::fs::MetadataExt as _;
    assert_eq!(meta("data/a-link").ino(), meta("data/a.txt").ino());
    assert!(out
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9.txt"))
        .is_file());

    // A second run refuses to overwrite, and writes nothing.
    let again = bin().args(["extract", &r, "-o"]).arg(&out).assert().code(2);
    let err = String::from_utf8_lossy(&again.get_output().stderr).into_owned();
    assert!(err.contains("already exists"), "{err}");
    assert!(err.contains("hint: pass `--force`"), "{err}");
    // With --force it replaces them.
    fs::write(out.join("etc/os-release"), "changed").unwrap();
    bin()
        .args(["extract", &r, "--force", "-o"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        fs::read_to_string(out.join("etc/os-release")).unwrap(),
        "NAME=two\n"
    );
}

/// A compressed archive (`docker save | gzip`, a `.tar.zst`) is read again from its start
/// for content: `cat` and `extract` give what they give on the plain archive.
#[test]
fn cat_and_extract_read_compressed_archives_again() {
    use std::io::Write as _;
    let dir = TempDir::new().unwrap();
    let plain = dir.path().join("image.tar");
    content_image()
        .write(Format::DockerArchive, &plain)
        .unwrap();
    let bytes = fs::read(&plain).unwrap();
    let gz = dir.path().join("image.tar.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&bytes).unwrap();
    fs::write(&gz, e.finish().unwrap()).unwrap();
    let zst = dir.path().join("image.tar.zst");
    fs::write(&zst, zstd::encode_all(bytes.as_slice(), 3).unwrap()).unwrap();
    let want = dir.path().join("want");
    bin()
        .args(["extract", plain.to_str().unwrap(), "-o"])
        .arg(&want)
        .assert()
        .success();
    for (n, packed) in [&gz, &zst].into_iter().enumerate() {
        let r = packed.to_str().unwrap();
        cat(r, &["/etc/os-release"]).success().stdout("NAME=two\n");
        cat(r, &["/etc/os-release", "--layer", "0"])
            .success()
            .stdout("NAME=one\n");
        cat(r, &["/lib/libz.so"])
            .success()
            .stdout(&[0u8, 1, 2, 3, 255][..]);
        let got = dir.path().join(format!("got-{n}"));
        bin()
            .args(["extract", r, "-o"])
            .arg(&got)
            .assert()
            .success();
        assert_eq!(listing(&got), listing(&want), "{r}");
    }
}

#[test]
fn extract_one_layer_and_selected_paths() {
    let dir = TempDir::new().unwrap();
    let r = write(&content_image(), Format::OciLayout, dir.path());
    let out = dir.path().join("l0");
    bin()
        .args([
            "extract",
            &r,
            "/root",
            "etc/*-release",
            "--layer",
            "0",
            "-o",
        ])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        listing(&out),
        [
            "d etc 755",
            "d root 755",
            "d root/.ssh 755",
            "f etc/os-release 644 NAME=one\n",
            &format!("f root/.ssh/id_rsa 644 {KEY}"),
        ]
    );
    let e = bin()
        .args(["extract", &r, "/nope", "-o"])
        .arg(dir.path().join("x"))
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&e.get_output().stderr)
        .contains("nothing in the final filesystem matches `/nope`"));
}

#[test]
fn extract_drops_setuid_and_keeps_modes() {
    let dir = TempDir::new().unwrap();
    let img = ImageBuilder::new()
        .layer("ADD /", |l| {
            l.dir("bin")
                .mode(0o755)
                .file_mode("bin/su", "su", 0o4755)
                .file_mode("bin/wall", "wall", 0o2755)
                .file_mode("bin/ro", "ro", 0o400)
                .dir("locked")
                .mode(0o500)
                .file("locked/inside", "x")
                .dir("tmp")
                .mode(0o1777)
        })
        .build()
        .unwrap();
    let r = write(&img, Format::OciLayout, dir.path());
    let out = dir.path().join("out");
    bin()
        .args(["extract", &r, "-o"])
        .arg(&out)
        .assert()
        .success();
    let mode = |p: &str| {
        fs::symlink_metadata(out.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode("bin/su"), 0o755);
    assert_eq!(mode("bin/wall"), 0o755);
    assert_eq!(mode("bin/ro"), 0o400);
    assert_eq!(
        mode("locked"),
        0o500,
        "a read-only directory is filled, then locked"
    );
    assert_eq!(fs::read_to_string(out.join("locked/inside")).unwrap(), "x");
    assert_eq!(mode("tmp"), 0o1777);
    // Let the temp dir be cleaned up.
    fs::set_permissions(out.join("locked"), fs::Permissions::from_mode(0o700)).unwrap();
}

/// Runs `extract` into `target/out` of a fresh dir with a `victim` directory beside it;
/// returns the dir, stderr, and whether it succeeded.
fn attack(img: &BuiltImage, extra: &[&str]) -> (TempDir, String, bool) {
    let dir = TempDir::new().unwrap();
    let r = write(img, Format::OciLayout, dir.path());
    fs::create_dir(dir.path().join("victim")).unwrap();
    fs::write(dir.path().join("victim/passwd"), "original").unwrap();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    let a = bin()
        .args(["extract", &r])
        .args(extra)
        .arg("-o")
        .arg(&out)
        .assert();
    let o = a.get_output();
    let ok = o.status.success();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    (dir, err, ok)
}

fn victim_untouched(dir: &TempDir) {
    let v = dir.path().join("victim");
    assert_eq!(fs::read_to_string(v.join("passwd")).unwrap(), "original");
    assert_eq!(
        fs::read_dir(&v).unwrap().count(),
        1,
        "nothing new beside the victim"
    );
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for n in names {
        assert!(
            ["victim", "out", "layout"].contains(&n.as_str()),
            "stray `{n}` outside the target"
        );
    }
}

#[test]
fn attack_symlink_then_file_through_it_in_one_layer() {
    // The classic: `a -> ../victim` (and an absolute one), then `a/passwd`.
    let img = ImageBuilder::new()
        .layer("ADD /", |l| {
            l.symlink("a", "../victim")
                .file("a/passwd", "pwned")
                .symlink("b", "/tmp")
                .file("b/evil", "pwned")
        })
        .build()
        .unwrap();
    for extra in [&[][..], &["--layer", "0"][..]] {
        let (dir, err, ok) = attack(&img, extra);
        assert!(ok, "{err}");
        victim_untouched(&dir);
        assert!(!Path::new("/tmp/evil").exists());
        // The file landed in a real directory inside the target; the link was refused.
        let out = dir.path().join("out");
        assert!(fs::symlink_metadata(out.join("a")).unwrap().is_dir());
        assert_eq!(fs::read_to_string(out.join("a/passwd")).unwrap(), "pwned");
        assert!(
            err.contains("note: skipped `a`: a directory is in its place"),
            "{err}"
        );
    }
}

#[test]
fn attack_symlink_from_an_earlier_layer() {
    let img = ImageBuilder::new()
        .layer("ADD /", |l| l.symlink("etc", "../victim"))
        .layer("RUN echo", |l| l.file("etc/passwd", "pwned"))
        .build()
        .unwrap();
    let (dir, err, ok) = attack(&img, &[]);
    assert!(ok, "{err}");
    victim_untouched(&dir);
    // And a symlink already in the target (from an earlier extraction) is not followed.
    let (dir, err, ok) = {
        let dir = TempDir::new().unwrap();
        let r = write(&img, Format::OciLayout, dir.path());
        fs::create_dir(dir.path().join("victim")).unwrap();
        fs::write(dir.path().join("victim/passwd"), "original").unwrap();
        let out = dir.path().join("out");
        fs::create_dir(&out).unwrap();
        std::os::unix::fs::symlink("../victim", out.join("etc")).unwrap();
        let a = bin()
            .args(["extract", &r, "--layer", "1", "--force", "-o"])
            .arg(&out)
            .assert();
        let o = a.get_output();
        (
            dir,
            String::from_utf8_lossy(&o.stderr).into_owned(),
            o.status.success(),
        )
    };
    assert!(ok, "{err}");
    victim_untouched(&dir);
    assert!(
        err.contains("`etc` is a symlink; nothing is written through one"),
        "{err}"
    );
}

#[test]
fn attack_dot_dot_and_absolute_names_are_refused() {
    for name in ["../victim/passwd", "/victim-abs", "x/../../victim/passwd"] {
        let img = ImageBuilder::new()
            .layer("ADD /", |l| l.file("ok", "ok").file(name, "pwned"))
            .build()
            .unwrap();
        let (dir, err, ok) = attack(&img, &[]);
        assert!(!ok, "{name}");
        assert!(err.contains("unsafe name"), "{name}: {err}");
        victim_untouched(&dir);
        assert_eq!(fs::read_dir(dir.path().join("out")).unwrap().count(), 0);
    }
}

#[test]
fn attack_hardlink_in_target_is_not_written_through() {
    // A file in the target that is a hard link to a file outside: `--force` unlinks it
    // rather than writing into the shared inode.
    let img = ImageBuilder::new()
        .layer("ADD /", |l| l.file("passwd", "pwned"))
        .build()
        .unwrap();
    let dir = TempDir::new().unwrap();
    let r = write(&img, Format::OciLayout, dir.path());
    fs::create_dir(dir.path().join("victim")).unwrap();
    fs::write(dir.path().join("victim/passwd"), "original").unwrap();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::hard_link(dir.path().join("victim/passwd"), out.join("passwd")).unwrap();
    bin()
        .args(["extract", &r, "--force", "-o"])
        .arg(&out)
        .assert()
        .success();
    victim_untouched(&dir);
    assert_eq!(fs::read_to_string(out.join("passwd")).unwrap(), "pwned");
}

#[test]
fn attack_devices_and_fifos_are_skipped() {
    let img = ImageBuilder::new()
        .layer("ADD /", |l| {
            l.dir("dev")
                .char_device("dev/null", 1, 3)
                .block_device("dev/sda", 8, 0)
                .fifo("dev/initctl")
                .file("ok", "ok")
        })
        .build()
        .unwrap();
    let (dir, err, ok) = attack(&img, &[]);
    assert!(ok, "{err}");
    victim_untouched(&dir);
    let out = dir.path().join("out");
    assert_eq!(fs::read_dir(out.join("dev")).unwrap().count(), 0);
    assert!(
        err.contains("note: skipped `dev/null`: device node"),
        "{err}"
    );
    assert!(
        err.contains("note: skipped `dev/sda`: device node"),
        "{err}"
    );
    assert!(err.contains("note: skipped `dev/initctl`: fifo"), "{err}");
}

#[test]
fn diff_file_between_images_and_layers() {
    let dir = TempDir::new().unwrap();
    let one = write(&content_image(), Format::OciLayout, dir.path());
    let other = ImageBuilder::new()
        .layer("ADD /", |l| {
            l.dir("etc")
                .file("etc/os-release", "NAME=three\nID=x\n")
                .file("bin.dat", vec![0u8, 9, 9])
        })
        .build()
        .unwrap();
    let d2 = TempDir::new().unwrap();
    let two = write(&other, Format::OciArchive, d2.path());
    bin()
        .args(["diff", &one, &two, "--file", "/etc/os-release"])
        .assert()
        .success()
        .stdout("--- old etc/os-release\n+++ new etc/os-release\n@@ -1 +1,2 @@\n-NAME=two\n+NAME=three\n+ID=x\n");
    bin()
        .args(["diff", &one, "--file", "etc/os-release", "--layers", "0", "1"])
        .assert()
        .success()
        .stdout("--- layer 0 etc/os-release\n+++ layer 1 etc/os-release\n@@ -1 +1 @@\n-NAME=one\n+NAME=two\n");
    let out = success_stdout(bin().args(["diff", &one, &two, "--file", "/usr/lib/libz.so.1.2"]));
    assert!(out.starts_with("Binary files old usr/lib/libz.so.1.2 and new usr/lib/libz.so.1.2 differ\n  old: 5 bytes, sha256 "), "{out}");
    assert!(out.ends_with("  new: absent\n"), "{out}");
    // The deleted key, diffed between layers, is redacted.
    let out = success_stdout(bin().args([
        "diff",
        &one,
        "--file",
        "/root/.ssh/id_rsa",
        "--layers",
        "0",
        "1",
    ]));
    assert!(out.contains("+++ /dev/null"), "{out}");
    assert!(!out.contains("djEAAAAABG5vbmUAAAAEbm9uZQ"), "{out}");
    bin()
        .args(["diff", &one, "--file", "/nope", "--layers", "0", "1"])
        .assert()
        .code(2);
}
