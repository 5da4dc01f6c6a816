#!/usr/bin/env bash
# Memory per file entry and the one-big-layer case, on the synthetic many-file image
# (examples/synth.rs: a base layer of FILES files, most of the image's bytes, a layer
# rewriting a tenth of them and a layer deleting a directory), as a plain docker-archive.
#
# 1. Peak RSS (`/usr/bin/time -v`) of `analyze --no-cache --format text|json` on a 1,000-file
#    image and on the FILES-file one; bytes per entry = the difference of the peaks over the
#    difference of the entry counts, so what every run costs (code, rules, buffers) cancels.
#    Then the same for the default run, through the layer cache: cold (an empty cache, which
#    it fills) and warm (the cache it filled), in text.
# 2. One big layer, cold (empty cache) and warm (cache filled), wall and CPU seconds, against
#    `openssl dgst -sha256` of that layer's tar: one sha256 stream, which no tool can split
#    over cores, so it is the floor of a warm run that verifies the blob. CPU/wall says how
#    many cores a run kept busy.
#
# BASELINE_BIN=path/to/another/layersift measures that build too, in the same run (e.g. the
# build of an earlier commit), so before and after are side by side; BIN=path measures that
# build instead of building this checkout.
#
#   scripts/bench-big-image.sh [FILES]    (default 227000; RUNS=3: best of RUNS)
# Needs: openssl, python3, GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-227000}
runs=${RUNS:-3}
for tool in openssl python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --example synth
# shellcheck source=scripts/timing.sh
. scripts/timing.sh
pick_bins
target/release/examples/synth "$work/small.tar" 1000 docker >/dev/null
target/release/examples/synth "$work/big.tar" "$files" docker >/dev/null

entries() {
  "${bins[0]}" analyze --no-cache -f json "docker-archive:$1" |
    python3 -c "import json,sys; print(json.load(sys.stdin)['summary']['entry_count'])"
}
small_n=$(entries "$work/small.tar")
big_n=$(entries "$work/big.tar")
# The largest layer's tar, for the sha256 floor.
mkdir "$work/x"
tar -xf "$work/big.tar" -C "$work/x"
layer=$(find "$work/x" -type f -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
layer_mb=$(( $(stat -c %s "$layer") / 1000000 ))
image_mb=$(( $(stat -c %s "$work/big.tar") / 1000000 ))

# Peak RSS in kB of a command (the lowest of RUNS runs).
peak() {
  local best=
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%M' -o "$work/m" "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; return 1; }
    local m
    m=$(cat "$work/m")
    if [ -z "$best" ] || [ "$m" -lt "$best" ]; then best=$m; fi
  done
  echo "$best"
}
# Best-of-RUNS wall seconds and that run's CPU seconds.
calc() { python3 -c "print($1)"; }

echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $(git rev-parse --short HEAD)," \
  "synthetic image: $files files, $big_n entries, ${image_mb} MB docker-archive, largest layer ${layer_mb} MB"
echo "## peak RSS, analyze --no-cache ($small_n-entry image vs $big_n-entry image; target < 120 B/entry)"
for bin in "${bins[@]}"; do
  for fmt in text json; do
    s=$(peak "$bin" analyze --no-cache -f "$fmt" "docker-archive:$work/small.tar")
    b=$(peak "$bin" analyze --no-cache -f "$fmt" "docker-archive:$work/big.tar")
    per=$(calc "round(($b - $s) * 1024 / ($big_n - $small_n))")
    printf '%-40s %-4s small %6d kB  big %7d kB  %4s B/entry\n' "$bin" "$fmt" "$s" "$b" "$per"
  done
done
echo "## peak RSS, analyze -f text through the layer cache (cold: empty cache; warm: filled)"
declare -A pk
for bin in "${bins[@]}"; do
  for img in small big; do
    # Each cold run needs an empty cache: the lowest of RUNS, one by one.
    cold=
    for _ in $(seq "$runs"); do
      rm -rf "$work/pc"
      c=$(runs=1 peak "$bin" analyze --cache-dir "$work/pc" -f text "docker-archive:$work/$img.tar")
      if [ -z "$cold" ] || [ "$c" -lt "$cold" ]; then cold=$c; fi
    done
    warm=$(peak "$bin" analyze --cache-dir "$work/pc" -f text "docker-archive:$work/$img.tar")
    rm -rf "$work/pc"
    pk[$img-cold]=$cold
    pk[$img-warm]=$warm
  done
  for when in cold warm; do
    s=${pk[small-$when]}
    b=${pk[big-$when]}
    per=$(calc "round(($b - $s) * 1024 / ($big_n - $small_n))")
    printf '%-40s %-4s small %6d kB  big %7d kB  %4s B/entry\n' "$bin" "$when" "$s" "$b" "$per"
  done
done

echo "## one big layer (${layer_mb} MB of ${image_mb} MB): wall / CPU seconds, best of $runs"
read -r floor floor_cpu < <(measure : openssl dgst -sha256 "$layer")
printf '%-52s %6s s wall %6s s cpu\n' "openssl dgst -sha256 of the largest layer (floor)" "$floor" "$floor_cpu"
for bin in "${bins[@]}"; do
  cache="$work/cache"
  read -r cold cold_cpu < <(measure "rm -rf '$cache'" "$bin" analyze --cache-dir "$cache" "docker-archive:$work/big.tar")
  read -r warm warm_cpu < <(measure : "$bin" analyze --cache-dir "$cache" "docker-archive:$work/big.tar")
  rm -rf "$cache"
  printf '%-52s %6s s wall %6s s cpu  (%s cores busy)\n' "$bin cold" "$cold" "$cold_cpu" "$(calc "round($cold_cpu / max($cold, 1e-9), 2)")"
  printf '%-52s %6s s wall %6s s cpu  (%s cores busy)\n' "$bin warm" "$warm" "$warm_cpu" "$(calc "round($warm_cpu / max($warm, 1e-9), 2)")"
  echo "  warm/floor: wall $(calc "round($warm / max($floor, 1e-9), 2)"), cold/floor: wall $(calc "round($cold / max($floor, 1e-9), 2)")"
done
