#!/usr/bin/env bash
# Content access against tar, on the same blobs, in one run; prints medians and ratios:
#  1. `layersift cat IMAGE PATH --layer N` of the last regular file of the image's largest
#     layer, against `tar -xzOf BLOB PATH`;
#  2. `layersift extract IMAGE -o DIR` (final filesystem, whiteouts applied), against
#     `tar -xf` of every layer blob in order into one directory (no whiteouts);
#  3. peak memory (max RSS) of `layersift cat` of a 1 GB file.
# Usage: scripts/bench-content.sh [IMAGE] [RUNS]   (IMAGE: a ref in ../shared/corpus/oci;
#        BIN=… to time a binary already built)
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${1:-pip-waste}
RUNS=${2:-5}
CORPUS=${CORPUS:-../shared/corpus}
[ -f "$CORPUS/oci/index.json" ] || { echo "corpus not found at $CORPUS" >&2; exit 1; }
# BIN=path/to/layersift uses that binary instead of building a release one.
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked -q
  BIN=$PWD/target/release/layersift
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

python3 - "$BIN" "$CORPUS/oci" "$IMAGE" "$RUNS" "$WORK" <<'PY'
import hashlib, json, os, resource, shutil, statistics, subprocess, sys, tarfile, time
bin_, layout, image, runs, work = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
blob = lambda d: os.path.join(layout, "blobs/sha256", d.split(":", 1)[1])
index = json.load(open(os.path.join(layout, "index.json")))
desc = next(m for m in index["manifests"]
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == image)
manifest = json.load(open(blob(desc["digest"])))
layers = [l["digest"] for l in manifest["layers"]]
ref = f"oci:{layout}:{image}"

def median(cmd, setup=None, **kw):
    times = []
    for _ in range(runs):
        if setup: setup()
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)
        times.append(time.perf_counter() - t)
    return statistics.median(times)

# 1. cat of the last regular file of the largest layer.
n = max(range(len(layers)), key=lambda i: os.path.getsize(blob(layers[i])))
with tarfile.open(blob(layers[n])) as tf:
    last = [m for m in tf.getmembers() if m.isfile()][-1]
print(f"cat: layer {n} ({os.path.getsize(blob(layers[n])) >> 20} MiB blob), last file "
      f"`{last.name}` ({last.size} bytes)")
ours = median([bin_, "cat", ref, "/" + last.name.lstrip("./"), "--layer", str(n)])
tars = median(["tar", "-xzOf", blob(layers[n]), last.name])
print(f"  layersift cat  {ours:.3f} s\n  tar -xzOf      {tars:.3f} s\n  ratio          {ours / tars:.2f}x")

# 2. extract of the whole image.
out = os.path.join(work, "out")
def clean():
    shutil.rmtree(out, ignore_errors=True)
ours = median([bin_, "extract", ref, "-o", out], setup=clean)
def tar_all():
    clean(); os.makedirs(out)
    for d in layers:
        subprocess.run(["tar", "-xf", blob(d), "-C", out], check=True)
times = []
for _ in range(runs):
    t = time.perf_counter(); tar_all(); times.append(time.perf_counter() - t)
tars = statistics.median(times)
clean()
print(f"extract {image} ({len(layers)} layers)\n  layersift extract  {ours:.3f} s\n"
      f"  tar -xf per layer  {tars:.3f} s\n  ratio              {ours / tars:.2f}x")

# 3. peak memory of cat on a 1 GB file (an uncompressed layer, made here).
big = os.path.join(work, "big")
os.makedirs(os.path.join(big, "blobs/sha256"))
size = 1 << 30
chunk = (bytes(range(256)) * 4096)  # 1 MiB
tarp = os.path.join(work, "layer.tar")
with open(tarp, "wb") as f:
    ti = tarfile.TarInfo("big.bin"); ti.size = size; ti.mode = 0o644
    f.write(ti.tobuf(format=tarfile.GNU_FORMAT))
    for _ in range(size // len(chunk)):
        f.write(chunk)
    f.write(b"\0" * 1024)
def put(path=None, data=None):
    h = hashlib.sha256()
    if path:
        with open(path, "rb") as f:
            for b in iter(lambda: f.read(1 << 20), b""):
                h.update(b)
        d = h.hexdigest(); shutil.move(path, os.path.join(big, "blobs/sha256", d))
        return "sha256:" + d, os.path.getsize(os.path.join(big, "blobs/sha256", d))
    d = hashlib.sha256(data).hexdigest()
    open(os.path.join(big, "blobs/sha256", d), "wb").write(data)
    return "sha256:" + d, len(data)
ld, ls = put(tarp)
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "rootfs": {"type": "layers", "diff_ids": [ld]}}).encode()
cd, cs = put(data=cfg)
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ls}]}).encode()
md, ms = put(data=man)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": md, "size": ms}]}, open(os.path.join(big, "index.json"), "w"))
open(os.path.join(big, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
for what, args in [("cat --layer 0", ["--layer", "0"]), ("cat (final)", [])]:
    r = subprocess.run(["python3", "-c",
        "import resource,subprocess,sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
        bin_, "cat", f"oci:{big}", "/big.bin", *args], check=True, capture_output=True, text=True)
    print(f"peak memory of {what} on a 1 GiB file: {int(r.stdout) / 1024:.1f} MiB")
PY
