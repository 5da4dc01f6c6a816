//! Content access on the real corpus, checked against tools that share no code with
//! layersift: `cat` of every regular file of every layer of `edge` against GNU `tar -xO` of
//! that layer's blob, and `extract` of pip-waste's final filesystem against a replay of its
//! layers (whiteouts applied) written with Python's `tarfile`. Skips with a note when the
//! corpus, `tar` or `python3` is absent.

use std::path::{Path, PathBuf};
use std::process::Command;

use layersift::{cat, ContentError, EntryKind, OpenOptions, Scope};

use crate::util::{bin, corpus};

fn have(program: &str) -> bool {
    let ok = Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipping: `{program}` is not installed");
    }
    ok
}

fn blob_path(layout: &Path, digest: &str) -> PathBuf {
    layout
        .join("blobs/sha256")
        .join(digest.strip_prefix("sha256:").unwrap())
}

#[test]
fn cat_of_every_edge_file_equals_tar_xo() {
    use std::os::unix::ffi::OsStrExt as _;
    let Some(c) = corpus() else { return };
    if !have("tar") {
        return;
    }
    let layout = c.join("oci");
    let (image, a) = layersift::analyze_image(
        &format!("oci:{}:edge", layout.display()),
        &OpenOptions::default(),
        &layersift::NoProgress,
    )
    .unwrap();
    let mut checked = 0;
    for (l, layer) in image.layers.iter().enumerate() {
        let blob = blob_path(&layout, layer.digest.as_deref().unwrap());
        // The layer's member names as tar lists them, raw bytes.
        let list = Command::new("tar")
            .args(["--list", "--quoting-style=literal", "-f"])
            .arg(&blob)
            .output()
            .unwrap();
        assert!(list.status.success());
        let idx = &a.indexes[l];
        for raw in list.stdout.split(|&b| b == b'\n').filter(|n| !n.is_empty()) {
            let norm = layersift::normalize_path(raw).unwrap();
            let Some(norm) = norm else { continue };
            let hits: Vec<usize> = (0..idx.len())
                .filter(|&i| idx.path(i) == norm.as_slice())
                .collect();
            if hits.len() != 1 || idx.entries[hits[0]].kind != EntryKind::File {
                continue;
            }
            let want = Command::new("tar")
                .arg("-xO")
                .arg("-f")
                .arg(&blob)
                .arg("--")
                .arg(std::ffi::OsStr::from_bytes(raw))
                .output()
                .unwrap();
            assert!(
                want.status.success(),
                "tar -xO {}",
                String::from_utf8_lossy(raw)
            );
            let mut got = Vec::new();
            let n = cat(&image, &a, Scope::Layer(l), &norm, &mut got);
            match n {
                Ok(_) => {}
                // A path the layer ships under a directory that is a symlink in the
                // filesystem as of that layer resolves elsewhere; read it by entry then.
                Err(ContentError::NotFound { .. }) => {
                    let found = layersift::Located::of(&a, l, hits[0]).unwrap();
                    layersift::with_entry(&image, &found, |r| std::io::copy(r, &mut got)).unwrap();
                }
                Err(e) => panic!("{}: {e}", String::from_utf8_lossy(&norm)),
            }
            assert!(
                got == want.stdout,
                "layer {l} `{}`: {} bytes from cat, {} from tar",
                String::from_utf8_lossy(&norm),
                got.len(),
                want.stdout.len()
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} files compared");
}

/// Replays the layers with Python's `tarfile` (whiteouts and opaque markers applied, a
/// layer's markers before its own entries), walks the extracted directory, and prints every
/// difference in paths, kinds, modes (setuid/setgid dropped), sizes, sha256 and symlink
/// targets. Shares no code with layersift.
const REPLAY: &str = r#"
import hashlib, os, stat, sys, tarfile
out = sys.argv[1]
blobs = sys.argv[2:]
state = {}
def norm(name):
    parts = [p for p in name.split('/') if p not in ('', '.')]
    return '/'.join(parts)
def drop_under(p, keep_self):
    for k in list(state):
        if k.startswith(p + '/') or (not keep_self and k == p):
            del state[k]
for blob in blobs:
    with tarfile.open(blob, 'r:*') as tf:
        members = tf.getmembers()
        for m in members:
            n = norm(m.name)
            base = n.rsplit('/', 1)[-1]
            parent = n.rsplit('/', 1)[0] if '/' in n else ''
            if base == '.wh..wh..opq':
                for k in list(state):
                    if (parent == '' or k.startswith(parent + '/')) and k != parent:
                        del state[k]
            elif base.startswith('.wh.'):
                target = (parent + '/' if parent else '') + base[4:]
                drop_under(target, False)
        for m in members:
            n = norm(m.name)
            if not n or n.rsplit('/', 1)[-1].startswith('.wh.'):
                continue
            if m.isdir():
                if state.get(n, ('',))[0] != 'd':
                    drop_under(n, False)
                state[n] = ('d', m.mode & 0o1777)
                continue
            drop_under(n, False)
            if m.issym():
                state[n] = ('l', m.linkname)
            elif m.isfile() or m.islnk():
                data = tf.extractfile(m).read()
                state[n] = ('f', m.mode & 0o777, len(data), hashlib.sha256(data).hexdigest())
            # devices and fifos are not extracted
got = {}
for root, dirs, files in os.walk(out):
    for name in dirs + files:
        p = os.path.join(root, name)
        rel = os.path.relpath(p, out)
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            got[rel] = ('l', os.readlink(p))
        elif stat.S_ISDIR(st.st_mode):
            got[rel] = ('d', st.st_mode & 0o7777)
        else:
            with open(p, 'rb') as f:
                data = f.read()
            got[rel] = ('f', st.st_mode & 0o7777, len(data), hashlib.sha256(data).hexdigest())
bad = 0
for k in sorted(set(state) | set(got)):
    if state.get(k) != got.get(k):
        bad += 1
        if bad <= 20:
            print(f'{k!r}: replay {state.get(k)} extracted {got.get(k)}')
print(f'{len(state)} entries replayed, {len(got)} extracted, {bad} differ')
sys.exit(1 if bad else 0)
"#;

#[test]
fn extract_of_pip_waste_equals_a_tarfile_replay() {
    let Some(c) = corpus() else { return };
    if !have("python3") {
        return;
    }
    let layout = c.join("oci");
    let reference = format!("oci:{}:pip-waste", layout.display());
    let dir = tempfile::TempDir::new().unwrap();
    let out = dir.path().join("rootfs");
    bin()
        .args(["extract", &reference, "-o"])
        .arg(&out)
        .assert()
        .success();
    let (image, _) =
        layersift::analyze_image(&reference, &OpenOptions::default(), &layersift::NoProgress)
            .unwrap();
    let blobs: Vec<PathBuf> = image
        .layers
        .iter()
        .map(|l| blob_path(&layout, l.digest.as_deref().unwrap()))
        .collect();
    let r = Command::new("python3")
        .arg("-c")
        .arg(REPLAY)
        .arg(&out)
        .args(&blobs)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&r.stdout);
    assert!(
        r.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(report.contains(" 0 differ"), "{report}");
}
