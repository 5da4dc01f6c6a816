#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets) for SECONDS seconds each (default 60), on the
# machine's stable toolchain, after writing fresh seeds from the fixture builder
# (examples/fuzz_seeds.rs). Needs cargo-fuzz: `cargo install --locked cargo-fuzz`.
#
#   scripts/fuzz.sh 1800                      # 30 minutes per target
#   FUZZ_TARGETS="layer report" scripts/fuzz.sh 60
#   FUZZ_SANITIZER=address scripts/fuzz.sh 60 # with AddressSanitizer (slower)
#   FUZZ_NICE=19 scripts/fuzz.sh 1800         # on a shared machine
#
# Inputs that grow coverage are kept in fuzz/corpus/TARGET (not in git); a crash is written
# to fuzz/artifacts/TARGET/ and stops the run with exit 1. Each target's libFuzzer log, with
# its final executions and coverage, is in fuzz/logs/TARGET.log; a summary line per target
# is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
# cargo-fuzz passes `-Z` flags (sanitizers, sancov options); this lets stable rustc take them.
export RUSTC_BOOTSTRAP=1
# The crate forbids unsafe code, so AddressSanitizer has little to find and costs about half
# the executions; libFuzzer still catches panics, timeouts and memory blow-ups without it.
sanitizer=${FUZZ_SANITIZER:-none}
nice=${FUZZ_NICE:-0}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "error: cargo-fuzz is not installed" >&2
  echo "hint: cargo install --locked cargo-fuzz" >&2
  exit 2
fi

targets=${FUZZ_TARGETS:-$(cargo fuzz list)}
cargo run --quiet --locked --example fuzz_seeds -- fuzz/seeds >/dev/null
nice -n "$nice" cargo fuzz build --sanitizer "$sanitizer" $targets 2>&1 | grep -v '^ *Compiling' || true
mkdir -p fuzz/logs
summary=()
for t in $targets; do
  mkdir -p "fuzz/corpus/$t"
  echo "fuzzing $t for ${secs}s" >&2
  if ! nice -n "$nice" cargo fuzz run --sanitizer "$sanitizer" "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
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
