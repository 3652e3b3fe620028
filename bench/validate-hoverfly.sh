#!/usr/bin/env bash
# Benchmark: `wirecap validate` on a large Hoverfly simulation, where every repeated pair is a
# `duplicate-pair` finding: the cost of locating many findings in one big document. Not a test.
# The simulation is the Chromium HAR in testdata converted to Hoverfly, its pairs repeated to
# PAIRS (default 4000: about 7 MB); generated data goes to bench-data/ (gitignored).
#
# usage: bench/validate-hoverfly.sh [PAIRS [RUNS]]   (defaults 4000 and 3)
#        CURVE=1 bench/validate-hoverfly.sh          also 500, 1000 and 2000 pairs
# needs: cargo, python3, /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${1:-4000}
RUNS=${2:-3}
DATA=bench-data
mkdir -p "$DATA"

# BIN=path/to/wirecap measures that build instead of building this one.
[ -n "${BIN:-}" ] || { cargo build --release --quiet; BIN=$PWD/target/release/wirecap; }
BASE=$DATA/chromium-site.hoverfly.json
"$BIN" convert testdata/expected/chromium-site.capture.har --to hoverfly -o "$BASE" 2> /dev/null

make_sim() { # PAIRS FILE
  python3 - "$BASE" "$1" "$2" <<'PY'
import json, sys
base, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
doc = json.load(open(base))
pairs = doc["data"]["pairs"]
doc["data"]["pairs"] = [pairs[i % len(pairs)] for i in range(n)]
json.dump(doc, open(out, "w"), indent=2)
PY
}

# measure PAIRS: median user CPU of RUNS runs, and the findings printed.
measure() {
  local n=$1 file=$DATA/hoverfly-sim-$1.json users=()
  [ -s "$file" ] || make_sim "$n" "$file"
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f %U -o "$DATA/time.hoverfly" "$BIN" validate "$file" > "$DATA/out.hoverfly" 2> /dev/null < /dev/null || true
    users+=("$(cat "$DATA/time.hoverfly")")
  done
  local median
  median=$(printf '%s\n' "${users[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
  printf "| %6d | %9d | %8d | %6s | %s |\n" "$n" "$(stat -c %s "$file")" \
    "$(wc -l < "$DATA/out.hoverfly")" "$median" "${users[*]}"
}

echo "$(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); $RUNS runs each"
echo
echo "| pairs | bytes | output lines | user s (median) | user s (runs) |"
echo "|---|---|---|---|---|"
if [ "${CURVE:-}" = 1 ]; then
  for n in 500 1000 2000; do measure "$n"; done
fi
measure "$PAIRS"
