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

now() { date +%s.%N; }

# run NAME READY_TEXT ARGS...: prints "seconds-to-first-frame peak-MiB"
run() {
  local name=$1 ready=$2
  shift 2
  local s="tuicmpmode-$name-$$"
  tmux new-session -d -s "$s" -x "$cols" -y "$rows" \
    "/usr/bin/time -f %M -o $work/$name.rss $ls explore --no-cache $* ; sleep 30"
  local t0 t1
  t0=$(now)
  until tmux capture-pane -p -t "$s" | grep -q -- "$ready"; do
    sleep 0.02
    if (($(echo "$(now) - $t0 > 300" | bc))); then
      echo "timeout waiting for '$ready'" >&2
      tmux capture-pane -p -t "$s" >&2
      tmux kill-session -t "$s"
      return 1
    fi
  done
  t1=$(now)
  sleep 1
  tmux send-keys -t "$s" q
  for _ in $(seq 600); do [ -s "$work/$name.rss" ] && break; sleep 0.1; done
  tmux kill-session -t "$s" 2>/dev/null || true
  echo "$(echo "$t1 - $t0" | bc) $(($(cat "$work/$name.rss") / 1024))"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, ${cols}x${rows}, $(git rev-parse --short HEAD)"
read -r ot om < <(run old "Layer 0 changes" "$old")
read -r nt nm < <(run new "Layer 0 changes" "$new")
read -r ct cm < <(run compare "Layers: " "$old" "$new")
printf '%-22s first frame %6.2f s   peak RSS %5d MiB\n' "explore OLD" "$ot" "$om" \
  "explore NEW" "$nt" "$nm" "explore OLD NEW" "$ct" "$cm"
echo "compare / (OLD + NEW): time $(echo "scale=2; $ct / ($ot + $nt)" | bc)   memory $(echo "scale=2; $cm / ($om + $nm)" | bc)"
echo "compare / NEW alone:   time $(echo "scale=2; $ct / $nt" | bc)   memory $(echo "scale=2; $cm / $nm" | bc)"
