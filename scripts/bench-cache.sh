#!/usr/bin/env bash
# Cold and warm `layersift analyze` (through the layer cache) against the C-tools verify
# baseline, in one run, on the corpus's largest image as an OCI archive (gzip layers) and as
# a docker-archive (plain layers), and prints the ratios.
#
# The baseline is the least a tool that verifies an image must do, with the fastest C tools
# on every core: for each gzip blob `igzip -dc BLOB | openssl dgst -sha256` (the diff_id) and
# `openssl dgst -sha256 BLOB` (the blob digest); for a plain layer, `openssl dgst -sha256` of
# its tar (blob digest and diff_id at once). Cold runs start from an empty cache directory
# (and write it); warm runs read the cache the cold run left. The issue's targets: warm at
# most 0.25x the baseline, cold at most 1.05x.
#
# Every run passes `--base none`: the corpus images name a base on a local registry in their
# annotations, and looking it up (a registry request, refused when none listens there) is
# not the cache's work. BASELINE_BIN=path/to/another/layersift measures that build too, in the same run;
# BIN=path measures a given build instead of building this checkout.
#
# Needs: isal (igzip), openssl, skopeo, python3.
#   scripts/bench-cache.sh [CORPUS_DIR]      (RUNS=5 by default: best of RUNS)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-../shared/corpus}
runs=${RUNS:-5}
jobs=$(nproc)
for tool in igzip openssl skopeo python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (igzip: apt-get install isal)" >&2; exit 1; }
done
[ -f "$corpus/oci/index.json" ] || { echo "no corpus at $corpus" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=scripts/timing.sh
. scripts/timing.sh
pick_bins

ratio() { python3 -c "print(f'{float($1)/max(float($2),1e-9):.2f}')"; }
row() { printf '%-52s %7s s wall %7s s cpu\n' "$1" "$2" "$3"; }

# The largest image of the corpus layout, by compressed bytes.
ref=$(python3 - "$corpus/oci" <<'PY'
import json, sys
root = sys.argv[1]
best = None
for m in json.load(open(f"{root}/index.json"))["manifests"]:
    name = m.get("annotations", {}).get("org.opencontainers.image.ref.name")
    man = json.load(open(f"{root}/blobs/" + m["digest"].replace(":", "/")))
    size = sum(l["size"] for l in man["layers"])
    if name and (best is None or size > best[1]):
        best = (name, size)
print(best[0])
PY
)
skopeo copy -q "oci:$corpus/oci:$ref" "oci-archive:$work/$ref.oci.tar" >/dev/null
skopeo copy -q "oci:$corpus/oci:$ref" "docker-archive:$work/$ref.docker.tar:$ref:latest" >/dev/null
# The blobs as files, for the C tools (the same bytes the archives hold).
mkdir "$work/oci" "$work/docker"
tar -xf "$work/$ref.oci.tar" -C "$work/oci"
tar -xf "$work/$ref.docker.tar" -C "$work/docker"
gz_blobs=$(python3 - "$work/oci" <<'PY'
import json, sys
root = sys.argv[1]
idx = json.load(open(f"{root}/index.json"))
man = json.load(open(f"{root}/blobs/" + idx["manifests"][0]["digest"].replace(":", "/")))
print(" ".join(f"{root}/blobs/" + l["digest"].replace(":", "/") for l in man["layers"]))
PY
)
tars=$(python3 -c "
import json
m = json.load(open('$work/docker/manifest.json'))[0]
print(' '.join('$work/docker/' + l for l in m['Layers']))")

echo "# $(date -u +%FT%TZ) $jobs cores, $(git rev-parse --short HEAD 2>/dev/null), image \`$ref\`" \
  "($(( $(stat -c %s "$work/$ref.oci.tar") / 1000000 )) MB OCI archive," \
  "$(( $(stat -c %s "$work/$ref.docker.tar") / 1000000 )) MB docker-archive)"

# shellcheck disable=SC2016,SC2086
read -r base_gz base_gz_cpu < <(measure : bash -c '
  for b in "$@"; do echo "igzip -dc $b | openssl dgst -sha256"; echo "openssl dgst -sha256 $b"; done |
    xargs -P'"$jobs"' -I{} sh -c "{} >/dev/null"' _ $gz_blobs)
# shellcheck disable=SC2016,SC2086
read -r base_tar base_tar_cpu < <(measure : bash -c 'printf "%s\n" "$@" | xargs -P'"$jobs"' -n1 openssl dgst -sha256 >/dev/null' _ $tars)

for kind in oci docker; do
  case $kind in
    oci) image="oci-archive:$work/$ref.oci.tar"; base=$base_gz; base_cpu=$base_gz_cpu; what="OCI archive, gzip" ;;
    docker) image="docker-archive:$work/$ref.docker.tar"; base=$base_tar; base_cpu=$base_tar_cpu; what="docker-archive, plain" ;;
  esac
  echo "## $what"
  row "C-tools verify baseline ($jobs parallel)" "$base" "$base_cpu"
  for ls in "${bins[@]}"; do
    cache="$work/cache-$kind"
    run=("$ls" analyze --base none)
    read -r nocache nocache_cpu < <(measure : "${run[@]}" --no-cache "$image")
    read -r cold cold_cpu < <(measure "rm -rf '$cache'" "${run[@]}" --cache-dir "$cache" "$image")
    read -r warm warm_cpu < <(measure : "${run[@]}" --cache-dir "$cache" "$image")
    # The warm report is the cold one, byte for byte.
    "${run[@]}" -f json --no-cache "$image" >"$work/a.json"
    "${run[@]}" -f json --cache-dir "$cache" "$image" >"$work/b.json"
    cmp -s "$work/a.json" "$work/b.json" || { echo "warm report differs from cold" >&2; exit 1; }
    echo "### $ls"
    row "layersift analyze --no-cache" "$nocache" "$nocache_cpu"
    row "layersift analyze, cold (empty cache, writes it)" "$cold" "$cold_cpu"
    row "layersift analyze, warm" "$warm" "$warm_cpu"
    echo "ratio cold/baseline: wall $(ratio "$cold" "$base"), cpu $(ratio "$cold_cpu" "$base_cpu")  (target <= 1.05)"
    echo "ratio warm/baseline: wall $(ratio "$warm" "$base"), cpu $(ratio "$warm_cpu" "$base_cpu")  (target <= 0.25)"
    echo "ratio warm/cold: wall $(ratio "$warm" "$cold"), cpu $(ratio "$warm_cpu" "$cold_cpu")"
    layers=$(find "$cache/v1/layers/sha256" -type f | wc -l)
    bytes=$(du -sb "$cache/v1/layers" | cut -f1)
    entries=$(python3 -c "import json; print(json.load(open('$work/a.json'))['summary']['entry_count'])")
    echo "cache: $layers layer entries, $bytes bytes for $entries tar entries ($(( bytes / (entries > 0 ? entries : 1) )) bytes per entry)"
    rm -rf "$cache"
  done
done
