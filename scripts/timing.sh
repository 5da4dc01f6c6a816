# Shared by the benchmark scripts (sourced): `measure SETUP CMD...` prints the best-of-$runs
# wall seconds of CMD and the CPU seconds (user + system) of that run; SETUP is evaluated,
# untimed, before each run; output of CMD is dropped. Needs $runs, $work, GNU time, python3.
measure() {
  local setup=$1 best= cpu=
  shift
  for _ in $(seq "$runs"); do
    eval "$setup"
    /usr/bin/time -f '%e %U %S' -o "$work/t" "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; return 1; }
    read -r e u s <"$work/t"
    if python3 -c "import sys; sys.exit(0 if float('$e') < float('${best:-1e9}') else 1)"; then
      best=$e
      cpu=$(python3 -c "print(round(float('$u') + float('$s'), 2))")
    fi
  done
  echo "$best $cpu"
}

# `pick_bins` copies the build to measure into $work/layersift ($BIN, else a release build of
# this checkout) and sets the array `bins`: that build, then $BASELINE_BIN when it is set, so
# both are measured in the same run. Needs $work.
pick_bins() {
  if [ -n "${BIN:-}" ]; then
    cp "$BIN" "$work/layersift"
  else
    cargo build --release --quiet --bin layersift
    cp target/release/layersift "$work/layersift"
  fi
  bins=("$work/layersift")
  if [ -n "${BASELINE_BIN:-}" ]; then bins+=("$BASELINE_BIN"); fi
}

# `tui_first_frame NAME READY AFTER CMD...` runs CMD (a TUI) under GNU time in a detached tmux
# session of $cols x $rows, as a user would run it, and prints "seconds-to-first-frame
# peak-MiB": the time until READY shows on the screen, then the peak RSS once it quit.
# AFTER is a command given the session name once READY shows: it walks the UI and quits it
# (`tmux send-keys -t "$1" q`); the last screen it left is kept in $work/NAME.screen.
tui_first_frame() {
  local name=$1 ready=$2 after=$3
  shift 3
  local s="tui-$name-$$" t0 t1
  tmux new-session -d -s "$s" -x "$cols" -y "$rows" \
    "/usr/bin/time -f %M -o $work/$name.rss $* ; sleep 30"
  t0=$(date +%s.%N)
  until tmux capture-pane -p -t "$s" | grep -q -- "$ready"; do
    sleep 0.02
    if (($(echo "$(date +%s.%N) - $t0 > 300" | bc))); then
      echo "timeout waiting for '$ready'" >&2
      tmux capture-pane -p -t "$s" >&2
      tmux kill-session -t "$s"
      return 1
    fi
  done
  t1=$(date +%s.%N)
  $after "$s" "$work/$name.screen"
  for _ in $(seq 1200); do [ -s "$work/$name.rss" ] && break; sleep 0.1; done
  tmux kill-session -t "$s" 2>/dev/null || true
  echo "$(echo "$t1 - $t0" | bc) $(($(cat "$work/$name.rss") / 1024))"
}
