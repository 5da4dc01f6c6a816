#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets) for SECONDS seconds each (default 60), on the
# machine's stable toolchain, after writing fresh seeds from the fixture builder
# (examples/fuzz_seeds.rs). Needs cargo-fuzz: `cargo install --locked cargo-fuzz`.
#
#   scripts/fuzz.sh 1800                      # 30 minutes per target
#   FUZZ_TARGETS="layer report" scripts/fuzz.sh 60
#   FUZZ_SANITIZER=address scripts/fuzz.sh 60 # with AddressSanitizer (slower)
#   FUZZ_NICE=19 scripts/fuzz.sh 1800         # on a shared machine
#   FUZZ_DEV=1 scripts/fuzz.sh 8              # unoptimised build: builds in a fraction of the
#                                             # time, runs slower (what .ci/run does)
#
# Inputs that grow coverage are kept in fuzz/corpus/TARGET (not in git); a crash is written
# to fuzz/artifacts/TARGET/ and stops the run with exit 1. Each target's libFuzzer log, with
# its final executions and coverage, is in fuzz/logs/TARGET.log; a summary line per target
# is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
# The crate forbids unsafe code, so AddressSanitizer has little to find and costs about half
# the executions; libFuzzer still catches panics, timeouts and memory blow-ups without it.
sanitizer=${FUZZ_SANITIZER:-none}
nice=${FUZZ_NICE:-0}
# Build flags shared by `build` and `run` (a `run` with other flags would build again).
flags=(--sanitizer "$sanitizer")
if [ "${FUZZ_DEV:-0}" = 1 ]; then flags+=(--dev); fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "error: cargo-fuzz is not installed" >&2
  echo "hint: cargo install --locked cargo-fuzz" >&2
  exit 2
fi

targets=${FUZZ_TARGETS:-$(cargo fuzz list)}
# Seeds first, in the main build (before RUSTC_BOOTSTRAP, which would make cargo rebuild it).
cargo run --quiet --locked --example fuzz_seeds -- fuzz/seeds >/dev/null
# cargo-fuzz passes `-Z` flags (sanitizers, sancov options); this lets stable rustc take them.
export RUSTC_BOOTSTRAP=1
# All targets in one build (cargo-fuzz turns debug assertions on: overflows are found too).
if ! nice -n "$nice" cargo fuzz build "${flags[@]}" >fuzz/build.log 2>&1; then
  tail -30 fuzz/build.log >&2
  echo "error: the fuzz targets do not build; the whole log: fuzz/build.log" >&2
  exit 1
fi
mkdir -p fuzz/logs
summary=()
for t in $targets; do
  mkdir -p "fuzz/corpus/$t"
  echo "fuzzing $t for ${secs}s" >&2
  if ! nice -n "$nice" cargo fuzz run "${flags[@]}" "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
      -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len=262144 \
      -print_final_stats=1 >"fuzz/logs/$t.log" 2>&1; then
    echo "error: fuzz target \`$t\` failed; its log: fuzz/logs/$t.log" >&2
    grep -E 'panicked|ERROR|SUMMARY|artifact' "fuzz/logs/$t.log" | head -20 >&2
    exit 1
  fi
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "fuzz/logs/$t.log" | grep -oE '[0-9]+$' || echo '?')
  last=$(grep -E '^#[0-9]+' "fuzz/logs/$t.log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[^ ]+' || echo 'cov: ?')
  summary+=("$t: $runs executions, $last, no crash")
done
printf '%s\n' "${summary[@]}"
