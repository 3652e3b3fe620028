#!/usr/bin/env bash
# Benchmark: normalising http-types JSONL with `wirecap convert`, side by side with
# py-http-types 0.0.18 (read + write, the library HMT uses) on the same file.
# Not a test. Usage: bench/http-types.sh [SIZE_MB]   (default 500; makes bench-data/ once)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-500}
data=bench-data/http-types-${size_mb}mb.jsonl
mkdir -p bench-data
cargo build --release --quiet
if [ ! -f "$data" ]; then
  python3 - "$data" "$size_mb" <<'PY'
import sys
src = [l for l in open("testdata/http-types/py-recorder.jsonl", encoding="utf-8")]
target = int(sys.argv[2]) << 20
n = 0
with open(sys.argv[1], "w", encoding="utf-8") as out:
    written = 0
    while written < target:
        line = src[n % len(src)].replace('"/pets', '"/pets/%d' % n, 2)
        out.write(line)
        written += len(line.encode())
        n += 1
PY
fi
bytes=$(stat -c %s "$data")
lines=$(wc -l < "$data")
echo "input: $data, $((bytes >> 20)) MiB, $lines lines"

measure() { # name, command...
  local name=$1; shift
  local t0 t1 rss
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M' -o bench-data/.rss "$@" > /dev/null 2>/dev/null
  rss=$(tail -n1 bench-data/.rss)
  t1=$(date +%s.%N)
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); b=int(sys.argv[3]); print(f'{sys.argv[4]:<14} {s:7.2f} s  {b/s/1e6:8.1f} MB/s  {int(sys.argv[5])//1024:6d} MB peak RSS')" "$t0" "$t1" "$bytes" "$name" "$rss"
  echo "$t1 - $t0" | bc -l > "bench-data/.t-$name"
}

measure wirecap ./target/release/wirecap convert "$data" -o bench-data/out.jsonl -q
if [ -x .venv/bin/python ]; then
  measure py-http-types .venv/bin/python - "$data" <<'PY'
import sys
from http_types import HttpExchangeReader, HttpExchangeWriter
w = HttpExchangeWriter(sys.stdout)
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        w.write(HttpExchangeReader.from_json(line))
PY
  python3 -c "print(f'ratio: wirecap is {float(open(\"bench-data/.t-py-http-types\").read())/float(open(\"bench-data/.t-wirecap\").read()):.1f}x faster')"
fi
