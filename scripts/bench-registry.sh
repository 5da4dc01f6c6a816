#!/usr/bin/env bash
# Registry speed: analysing an image straight from a registry vs only downloading it.
#
# Starts Debian's docker-registry on 127.0.0.1 (a free port, temp storage), pushes a corpus
# image with skopeo, then times, best of N runs each:
#   download  `skopeo copy docker://127.0.0.1:PORT/IMG dir:TMP` (fetch + digest check + write)
#   analyse   `layersift analyze docker://127.0.0.1:PORT/IMG --no-cache` (fetch + full analysis)
#   cold      the same with an empty cache (fetch + analysis + writing blobs and indexes)
#   cached    the same analysis with a warm cache (no blob is downloaded)
# and prints analyse/download (the goal is <= 1.2) and the peak memory (max RSS) of the
# download and of the analysis, which streams every blob and never holds one whole.
#
# Usage: scripts/bench-registry.sh [IMAGE_REF_IN_CORPUS_OCI] [RUNS]   (default: pip-waste 3)
# Needs: docker-registry, skopeo (apt-get install docker-registry skopeo).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${1:-pip-waste}"
RUNS="${2:-3}"
CORPUS="${CORPUS:-../shared/corpus}"
BIN="${LAYERSIFT:-target/release/layersift}"

for p in docker-registry skopeo python3; do
  command -v "$p" >/dev/null || { echo "error: \`$p\` not found" >&2; exit 2; }
done
[ -f "$CORPUS/oci/index.json" ] || { echo "error: corpus not found at \`$CORPUS\`" >&2; exit 2; }
if [ -z "${LAYERSIFT:-}" ]; then
  cargo build --release --quiet
fi

WORK="$(mktemp -d)"
REG_PID=""
cleanup() {
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat >"$WORK/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $WORK/data
http:
  addr: 127.0.0.1:$PORT
EOF
docker-registry serve "$WORK/config.yml" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done

REF="127.0.0.1:$PORT/$IMAGE:bench"
skopeo copy --quiet --dest-tls-verify=false "oci:$CORPUS/oci:$IMAGE" "docker://$REF"

now() { date +%s.%N; }
# best_of CMD...: runs CMD $RUNS times, prints the fastest wall time in seconds.
best_of() {
  local best="" t0 t1 dt
  for _ in $(seq "$RUNS"); do
    rm -rf "$WORK/dir" "$WORK/cold"
    t0=$(now)
    "$@" >/dev/null
    t1=$(now)
    dt=$(python3 -c "print($t1 - $t0)")
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $dt < $best else 1)"; then best=$dt; fi
  done
  echo "$best"
}

# peak_rss CMD...: runs CMD once, prints its peak resident memory in MiB.
peak_rss() {
  rm -rf "$WORK/dir"
  python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)' "$@"
}

download=$(best_of skopeo copy --quiet --src-tls-verify=false "docker://$REF" "dir:$WORK/dir")
analyse=$(best_of "$BIN" analyze --no-cache -o /dev/null "docker://$REF")
cold=$(best_of "$BIN" analyze --cache-dir "$WORK/cold" -o /dev/null "docker://$REF")
"$BIN" analyze --cache-dir "$WORK/cache" -o /dev/null "docker://$REF"
cached=$(best_of "$BIN" analyze --cache-dir "$WORK/cache" -o /dev/null "docker://$REF")
download_rss=$(peak_rss skopeo copy --quiet --src-tls-verify=false "docker://$REF" "dir:$WORK/dir")
analyse_rss=$(peak_rss "$BIN" analyze --no-cache -o /dev/null "docker://$REF")
size=$(skopeo inspect --raw --tls-verify=false "docker://$REF" |
  python3 -c 'import json,sys; print(sum(l["size"] for l in json.load(sys.stdin)["layers"]))')

python3 - "$IMAGE" "$size" "$download" "$analyse" "$cold" "$cached" "$download_rss" "$analyse_rss" <<'EOF'
import sys
image, size = sys.argv[1], int(sys.argv[2])
download, analyse, cold, cached, download_rss, analyse_rss = map(float, sys.argv[3:])
mb = size / 1e6
print(f"image            {image} ({mb:.1f} MB of compressed layers, best of runs)")
print(f"skopeo copy      {download:6.2f} s  ({mb / download:6.1f} MB/s)")
print(f"layersift        {analyse:6.2f} s  ({mb / analyse:6.1f} MB/s)  ratio {analyse / download:.2f}x (goal <= 1.2x)")
print(f"  + cold cache   {cold:6.2f} s  ratio {cold / download:.2f}x")
print(f"layersift cached {cached:6.2f} s  (nothing downloaded)")
print(f"peak memory      skopeo copy {download_rss:.0f} MiB, layersift {analyse_rss:.0f} MiB")
print(f"cores {__import__('os').cpu_count()}, load average {open('/proc/loadavg').read().split()[0]}")
EOF
