#!/usr/bin/env bash
# Compare mode against the single-image TUI: time to the first frame and peak RSS of
# `layersift explore OLD NEW` beside `layersift explore OLD` and `layersift explore NEW`,
# each run in a detached tmux session as a user would run it (release build, --no-cache so
# every run decodes its layers). The issue's bar: compare mode costs less than exploring
# the two images one after the other (the sum of the two single runs).
#   scripts/tui-compare-mode.sh [OLD] [NEW] [COLSxROWS]
# Defaults: the corpus' oci:…:base and oci:…:apt-waste. Needs tmux, /usr/bin/time, bc.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${LAYERSIFT_CORPUS:-../shared/corpus}
old=${1:-oci:$(realpath "$corpus")/oci:base}
new=${2:-oci:$(realpath "$corpus")/oci:apt-waste}
size=${3:-200x50}
cols=${size%x*}
rows=${size#*x}
ls=$(realpath target/release/layersift)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=scripts/timing.sh
. scripts/timing.sh

# After the first frame: a second on screen, then quit.
quit() {
  sleep 1
  tmux send-keys -t "$1" q
}

# run NAME READY_TEXT ARGS...: `layersift explore --no-cache ARGS`
run() {
  local name=$1 ready=$2
  shift 2
  tui_first_frame "$name" "$ready" quit "$ls" explore --no-cache "$@"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, ${cols}x${rows}, $(git rev-parse --short HEAD)"
read -r ot om < <(run old "Layer 0 changes" "$old")
read -r nt nm < <(run new "Layer 0 changes" "$new")
read -r ct cm < <(run compare "Layers: " "$old" "$new")
printf '%-22s first frame %6.2f s   peak RSS %5d MiB\n' "explore OLD" "$ot" "$om" \
  "explore NEW" "$nt" "$nm" "explore OLD NEW" "$ct" "$cm"
echo "compare / (OLD + NEW): time $(echo "scale=2; $ct / ($ot + $nt)" | bc)   memory $(echo "scale=2; $cm / ($om + $nm)" | bc)"
echo "compare / NEW alone:   time $(echo "scale=2; $ct / $nt" | bc)   memory $(echo "scale=2; $cm / $nm" | bc)"
