#!/usr/bin/env bash
# Times `layersift analyze` on one image as a plain docker archive and as the same archive
# compressed with gzip and zstd (read in one pass), in one run, and prints the medians and
# ratios. The image is the corpus' apt-waste (or IMAGE), exported with skopeo.
#   scripts/compressed-archive.sh [OCI-REF] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${1:-oci:${LAYERSIFT_CORPUS:-../shared/corpus}/oci:apt-waste}
runs=${2:-5}
bin=${LAYERSIFT_BIN:-target/release/layersift}
[ -x "$bin" ] || cargo build --release --locked >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
skopeo copy -q "$ref" "docker-archive:$tmp/image.tar:image:1"
gzip -6 -c "$tmp/image.tar" >"$tmp/image.tar.gz"
zstd -q -3 "$tmp/image.tar" -o "$tmp/image.tar.zst"
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
declare -A t
for f in image.tar image.tar.gz image.tar.zst; do
  t[$f]=$(for _ in $(seq "$runs"); do
    /usr/bin/time -f %e "$bin" analyze --no-cache "$tmp/$f" -f json -o /dev/null 2>&1 >/dev/null | tail -1
  done | median)
done
ls -l "$tmp"/image.tar* | awk '{print $5, $9}'
for f in image.tar image.tar.gz image.tar.zst; do
  echo "$f ${t[$f]} s ($(echo "${t[$f]} / ${t[image.tar]}" | bc -l | cut -c1-4)x the plain archive)"
done
