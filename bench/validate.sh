#!/usr/bin/env bash
# Benchmark: `wirecap validate` on a ~500 MB http-types JSONL file, side by side with Ajv
# (Node: one compiled validator, a loop over lines) and check-jsonschema (Python, on a slice,
# scaled). Not a test. Generated data goes to bench-data/ (gitignored).
#
# usage: bench/validate.sh [MEGABYTES]      (default 500)
#        CALLGRIND=1 bench/validate.sh 50   instructions per MB of the fast path (one thread,
#                                           valgrind's callgrind), robust on a shared machine;
#                                           nothing else runs
# needs: cargo, python3, node + npm (installs ajv, ajv-formats in a temp dir), pip
# (installs check-jsonschema in bench-data/venv), /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-500}
DATA=bench-data
FILE=$DATA/http-types-${MB}mb.jsonl
SLICE_LINES=${SLICE_LINES:-1500}
mkdir -p "$DATA"

cargo build --release --quiet
BIN=$PWD/target/release/wirecap
[ -s "$FILE" ] || { echo "generating $FILE ..." >&2; python3 bench/gen-http-types.py "$FILE" "$MB"; }
BYTES=$(stat -c %s "$FILE")
LINES=$(wc -l < "$FILE")
SCHEMA=$DATA/http-types-strict.schema.json
"$BIN" schema show http-types-strict > "$SCHEMA"
echo "data: $FILE, $LINES lines, $BYTES bytes; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "${CALLGRIND:-}" = 1 ]; then
  out=$DATA/callgrind.out
  valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" --threads 1 validate "$FILE" 2>&1 \
    | awk -v b="$BYTES" '/refs:/ { gsub(",", "", $NF); printf "instructions: %d, %.2f M per MB\n", $NF, $NF / (b / 1e6) / 1e6 }'
  echo "where they go: callgrind_annotate --inclusive=no $out | head -40"
  exit 0
fi

# run NAME CMD...: times CMD with /usr/bin/time -v, records wall s, cpu s, peak RSS KB.
declare -A WALL CPU RSS
run() {
  local name=$1; shift
  "$@" > /dev/null 2> "$DATA/time.$name" < /dev/null || true
  WALL[$name]=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$DATA/time.$name")
  CPU[$name]=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$DATA/time.$name")
  RSS[$name]=$(awk -F': ' '/Maximum resident/ {print $2}' "$DATA/time.$name")
}
T="/usr/bin/time -v"

run wirecap      $T "$BIN" validate "$FILE"
run wirecap_1t   $T "$BIN" --threads 1 validate "$FILE"
run wirecap_slow $T "$BIN" validate --no-fast-path "$FILE"
head -c $((BYTES / 5)) "$FILE" | head -n -1 > "$DATA/fifth.jsonl"
run wirecap_fifth $T "$BIN" validate "$DATA/fifth.jsonl"

# Ajv: one compiled validator, a loop over lines.
AJV_DIR=$DATA/ajv
if [ ! -d "$AJV_DIR/node_modules/ajv-formats" ]; then
  mkdir -p "$AJV_DIR" && (cd "$AJV_DIR" && npm init -y > /dev/null && npm install --silent ajv ajv-formats > /dev/null)
fi
cat > "$AJV_DIR/validate.js" <<'JS'
const fs = require("fs");
const { StringDecoder } = require("string_decoder");
const Ajv = require("ajv");
const addFormats = require("ajv-formats");
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(fs.readFileSync(process.argv[2], "utf8")));
const fd = fs.openSync(process.argv[3], "r");
const buf = Buffer.alloc(8 << 20);
const dec = new StringDecoder("utf8");
let rest = "", lines = 0, bad = 0;
const check = (l) => {
  if (!l) return;
  lines++;
  let v;
  try { v = JSON.parse(l); } catch { bad++; return; }
  if (!validate(v)) bad++;
};
for (;;) {
  const n = fs.readSync(fd, buf, 0, buf.length, null);
  if (n === 0) break;
  const parts = (rest + dec.write(buf.subarray(0, n))).split("\n");
  rest = parts.pop();
  for (const l of parts) check(l);
}
check(rest + dec.end());
console.log(JSON.stringify({ lines, bad }));
JS
run ajv $T node "$AJV_DIR/validate.js" "$SCHEMA" "$FILE"

# check-jsonschema validates whole JSON files: split a slice into one file per line.
VENV=$DATA/venv
[ -x "$VENV/bin/check-jsonschema" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install --quiet check-jsonschema; }
SLICE=$DATA/cjs-slice
rm -rf "$SLICE" && mkdir -p "$SLICE"
head -n "$SLICE_LINES" "$FILE" | split -l 1 -a 5 --additional-suffix=.json - "$SLICE/l"
SLICE_BYTES=$(cat "$SLICE"/*.json | wc -c)
run cjs $T "$VENV/bin/check-jsonschema" --schemafile "$SCHEMA" "$SLICE"/*.json

mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1e6 / s }'; }
lps()  { awk -v l="$1" -v s="$2" 'BEGIN { printf "%.0f", l / s }'; }
row() { # name bytes lines
  local n=$1 b=$2 l=$3
  printf "| %-34s | %8s | %8s | %10s | %9s | %9s | %8s |\n" "$4" "${WALL[$n]}" "${CPU[$n]}" \
    "$(lps "$l" "${WALL[$n]}")" "$(mbps "$b" "${WALL[$n]}")" "$(mbps "$b" "${CPU[$n]}")" "$((RSS[$n] / 1024))"
}
FIFTH_BYTES=$(stat -c %s "$DATA/fifth.jsonl"); FIFTH_LINES=$(wc -l < "$DATA/fifth.jsonl")
echo
echo "| tool | wall s | cpu s | lines/s | MB/s wall | MB/s cpu | peak RSS MB |"
echo "|---|---|---|---|---|---|---|"
row wirecap "$BYTES" "$LINES" "wirecap validate (all cores)"
row wirecap_1t "$BYTES" "$LINES" "wirecap validate --threads 1"
row wirecap_slow "$BYTES" "$LINES" "wirecap, fast path off (Value+schema)"
row wirecap_fifth "$FIFTH_BYTES" "$FIFTH_LINES" "wirecap on the first fifth"
row ajv "$BYTES" "$LINES" "Ajv 8 (node $(node --version))"
row cjs "$SLICE_BYTES" "$SLICE_LINES" "check-jsonschema ($SLICE_LINES-line slice)"
echo
awk -v w="${WALL[wirecap]}" -v a="${WALL[ajv]}" -v wc="${CPU[wirecap_1t]}" -v ac="${CPU[ajv]}" \
    -v cb="$SLICE_BYTES" -v cw="${WALL[cjs]}" -v b="$BYTES" 'BEGIN {
  printf "wirecap vs Ajv: %.1fx wall (all cores), %.1fx per core (cpu time, --threads 1)\n", a / w, ac / wc;
  printf "wirecap vs check-jsonschema: %.0fx wall (check-jsonschema scaled from its slice)\n", (b / (cb / cw)) / w }'
echo "peak RSS: whole file ${RSS[wirecap]} KB, first fifth ${RSS[wirecap_fifth]} KB (memory must not grow with the file)"
