#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) on its seed corpus (./seeds.sh first),
# with debug assertions, one job at a time, and prints executions and coverage per target.
# Crashes land in fuzz/artifacts/<target>/; each one found becomes a regression test.
#   fuzz/run.sh [SECONDS] [TARGET...]
# Needs cargo-fuzz (cargo install cargo-fuzz). On a stable toolchain there is no sanitizer
# (wirecap's library forbids unsafe code; what is looked for is panics, hangs and memory).
set -euo pipefail
cd "$(dirname "$0")"
SECS=${1:-60}; shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || mapfile -t TARGETS < <(cargo fuzz list)
[ -d corpus ] || ./seeds.sh > /dev/null
cargo fuzz build -O -a --sanitizer none > /dev/null 2>&1 || cargo fuzz build -O -a --sanitizer none
status=0
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus/$t"
  log=$(mktemp)
  if cargo fuzz run -O -a --sanitizer none "$t" "corpus/$t" -- -max_total_time="$SECS" -rss_limit_mb=2048 \
      -timeout=10 -max_len=262144 -print_final_stats=1 > "$log" 2>&1; then r=ok; else r=FAILED; status=1; fi
  execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -o 'cov: [0-9]*' || true)
  echo "$t: $r, ${execs:-?} executions in ${SECS} s, ${cov:-cov: ?}, corpus $(ls "corpus/$t" | wc -l)"
  [ $r = ok ] || grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -5
  rm -f "$log"
done
exit $status
