#!/usr/bin/env bash
# Every fuzz target under libFuzzer for SECONDS each (default 10), two at a time: what CI runs
# so that a regression a fuzzer would find at once fails the build. Needs no cargo-fuzz: the
# targets are built with plain cargo and the flags cargo-fuzz gives them (coverage counters,
# comparisons traced, `--cfg fuzzing`, debug assertions), in the dev profile without debug
# info, which builds in about half the time of cargo-fuzz's release build; only libFuzzer's
# own C++ is optimised (at -O0 it took most of each execution). Seeds come from
# `seeds.sh` (without tshark) and `regressions/`; what the fuzzers add goes to a temporary
# folder. A crash, hang or blow-up fails the run, prints the input as base64, and leaves it in
# fuzz/artifacts/<target>/.
#   fuzz/smoke.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
SECS=${1:-10}; shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || mapfile -t TARGETS < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^wirecap-fuzz$')
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')

# --target keeps these flags off build scripts and proc macros, as cargo-fuzz does.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-sanitizer-coverage-stack-depth \
-Cllvm-args=-simplifycfg-branch-fold-threshold=0 --cfg fuzzing -Cdebug-assertions"
export CARGO_PROFILE_DEV_DEBUG=0
built=$(date +%s)
cargo build --quiet --locked --target "$TRIPLE" --target-dir target --bins \
  --config 'profile.dev.package.libfuzzer-sys.opt-level=3'
BIN=target/$TRIPLE/debug
echo "fuzz smoke: built ${#TARGETS[@]} targets in $(( $(date +%s) - built )) s"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
NO_FOLLOW=1 ./seeds.sh "$work/seeds" > /dev/null

run() {  # $1 = target; prints one line, returns libFuzzer's status
  local t=$1 log="$work/$1.log" dirs=("$work/corpus/$1" "$work/seeds/$1")
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
  [ -d "regressions/$t" ] && dirs+=("regressions/$t")
  local status=0
  "$BIN/$t" "${dirs[@]}" -max_total_time="$SECS" -seed=1 -rss_limit_mb=2048 -timeout=10 \
    -max_len=262144 -print_final_stats=1 -artifact_prefix="$work/artifacts/$t/" \
    > "$log" 2>&1 || status=$?
  local execs cov
  execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -o 'cov: [0-9]*' || true)
  if [ $status = 0 ]; then
    echo "fuzz smoke: $t: ok, ${execs:-?} executions in $SECS s, ${cov:-cov: ?}"
    return 0
  fi
  echo "fuzz smoke: $t: FAILED (libFuzzer exit $status)"
  grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -8
  mkdir -p "artifacts/$t"
  for f in "$work/artifacts/$t"/*; do
    [ -f "$f" ] || continue
    cp "$f" "artifacts/$t/"
    echo "input (fuzz/artifacts/$t/$(basename "$f"), base64):"
    head -c 65536 "$f" | base64 -w 0
    echo
  done
  return $status
}

failed=0
running=0
for t in "${TARGETS[@]}"; do
  if [ $running -ge 2 ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
  run "$t" &
  running=$((running + 1))
done
while [ $running -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
exit $failed
