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
