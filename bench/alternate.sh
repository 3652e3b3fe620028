#!/usr/bin/env bash
# Benchmark (not a test): two or more wirecap builds converting the same capture, in turns.
#
#   bench/alternate.sh ROUNDS CAPTURE BINARY...     e.g. bench/alternate.sh 4 bench-data/large.pcap /tmp/old /tmp/new
#
# This machine's speed drifts by up to 40% between phases, so builds are compared in turns,
# never in blocks. Each run writes the JSONL to a new file, which is removed and synced away
# before the next run (dirty pages of earlier runs would otherwise slow the next one down).
# Prints one line per run and each build's mean wall time and CPU (user + system).
set -euo pipefail
ROUNDS=$1 CAPTURE=$2; shift 2
OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT
cat "$CAPTURE" > /dev/null
for _ in $(seq "$ROUNDS"); do
  for bin in "$@"; do
    rm -f "$OUT/out.jsonl"; sync; sleep 1
    /usr/bin/time -f "$bin %e s wall %U u %S s %M KB" "$bin" convert "$CAPTURE" -q -o "$OUT/out.jsonl" 2>&1 >/dev/null | grep ' wall '
  done
done | tee "$OUT/runs"
awk '{ cpu[$1] += $5 + $7; wall[$1] += $2; n[$1]++ }
     END { for (b in n) printf "%s: mean %.2f s wall, %.2f s CPU over %d runs\n", b, wall[b] / n[b], cpu[b] / n[b], n[b] }' "$OUT/runs"
