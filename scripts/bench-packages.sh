#!/usr/bin/env bash
# What reading packages costs: `layersift analyze` on the corpus images with package reading
# on and off (LAYERSIFT_NO_PACKAGES=1), alternating runs in one session, no cache, best of
# N wall times each, and the ratio. The issue's budget is 5%.
#   scripts/bench-packages.sh [CORPUS_DIR] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-../shared/corpus}
runs=${2:-7}
cargo build --release --quiet --bin layersift
ls=target/release/layersift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

wall() { /usr/bin/time -f '%e' -o "$work/t" "$@" >/dev/null 2>&1; cat "$work/t"; }

printf '%-12s %9s %9s %7s\n' image "on (s)" "off (s)" ratio
for img in base apt-waste pip-waste; do
  ref="oci:$corpus/oci:$img"
  on=() off=()
  for _ in $(seq "$runs"); do
    on+=("$(wall "$ls" analyze --no-cache --format json "$ref")")
    off+=("$(LAYERSIFT_NO_PACKAGES=1 wall "$ls" analyze --no-cache --format json "$ref")")
  done
  python3 - "$img" "${on[*]}" "${off[*]}" <<'PY'
import sys
img, on, off = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
a, b = min(on), min(off)
print(f"{img:<12} {a:9.3f} {b:9.3f} {a / b:7.3f}")
PY
done
