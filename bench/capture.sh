#!/usr/bin/env bash
# Benchmark (not a test): wirecap against tshark on the same real capture, side by side.
#
#   bench/capture.sh [medium|large|FILE]     (default: large)
#
# Makes the corpus once with ../shared/captures/make_corpus.sh into bench-data/ (gitignored;
# needs root, nginx, tcpdump, curl, ab, wrk, tshark), then runs, with the file in the page cache:
#   1. wirecap convert FILE -o OUT.jsonl      (the real job: capture to http-types JSONL)
#   2. wirecap count FILE                     (the same reading and parsing; no decoding, no writing)
#   3. tshark -r FILE -Y http -T fields -e http.request.method -e http.request.uri -e http.response.code
# and prints throughput (MB/s of capture), peak RSS (/usr/bin/time -v), the ratio, and where
# wirecap's time goes (read, reassembly, HTTP, decoding from --summary-json; the rest of 1 - 2
# is writing).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=$ROOT/bench-data
SHARED=${SHARED:-$ROOT/../shared}
WHAT=${1:-large}
if [ -f "$WHAT" ]; then FILE=$WHAT; else
  FILE=$DATA/$WHAT.pcap
  if [ ! -f "$FILE" ]; then
    mkdir -p "$DATA"
    # The corpus script's medium/large runs reuse files the small run makes.
    [ -f "$DATA/srv/py1.curl" ] || CORPUS_DIR=$DATA "$SHARED/captures/make_corpus.sh" small
    CORPUS_DIR=$DATA "$SHARED/captures/make_corpus.sh" "$WHAT"
  fi
fi
(cd "$ROOT" && cargo build --release --quiet)
W=$ROOT/target/release/wirecap
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
BYTES=$(stat -c %s "$FILE"); MB=$(echo "$BYTES / 1048576" | bc -l)
cat "$FILE" > /dev/null   # page cache, for every contender alike

timed() {  # $1 = label; rest = command; leaves wall seconds and RSS MB in $TMP/$1.{wall,rss}
  local label=$1; shift
  /usr/bin/time -v "$@" 2> "$TMP/$label.time" > "$TMP/$label.stdout"
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$TMP/$label.time" > "$TMP/$label.wall"
  awk -F': ' '/Maximum resident set size/ { printf "%.0f\n", $2 / 1024 }' "$TMP/$label.time" > "$TMP/$label.rss"
  awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f\n", s }' "$TMP/$label.time" > "$TMP/$label.cpu"
}

echo "capture: $FILE ($(printf %.0f "$MB") MB), $(nproc) cores, $(tshark --version 2>/dev/null | head -1)"
timed convert "$W" convert "$FILE" -q -o "$TMP/out.jsonl" --summary-json "$TMP/summary.json"
timed count "$W" count "$FILE"
timed tshark tshark -r "$FILE" -Y http -T fields -e http.request.method -e http.request.uri -e http.response.code

row() {  # label
  local wall rss; wall=$(cat "$TMP/$1.wall"); rss=$(cat "$TMP/$1.rss")
  printf "%-34s %8.2f s %9.1f MB/s %8s MB peak RSS %7s s CPU\n" "$2" "$wall" "$(echo "$MB / $wall" | bc -l)" "$rss" "$(cat "$TMP/$1.cpu")"
}
row convert "wirecap convert (to JSONL)"
row count "wirecap count (no decode, no write)"
row tshark "tshark -Y http -T fields"
printf "ratio (tshark wall / wirecap convert wall): %.1fx\n" "$(echo "$(cat "$TMP/tshark.wall") / $(cat "$TMP/convert.wall")" | bc -l)"
printf "output: %.0f MB of JSONL (%.2fx the capture)\n" "$(echo "$(stat -c %s "$TMP/out.jsonl") / 1048576" | bc -l)" "$(echo "$(stat -c %s "$TMP/out.jsonl") / $BYTES" | bc -l)"

python3 - "$TMP/summary.json" "$TMP/tshark.stdout" "$(cat "$TMP/convert.wall")" "$(cat "$TMP/count.wall")" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); c = s["capture"]; t = c["timings"]
conv, cnt = float(sys.argv[3]), float(sys.argv[4])
reqs = resps = 0
for line in open(sys.argv[2], errors="replace"):
    f = line.rstrip("\n").split("\t")
    if f[0]: reqs += 1
    if len(f) > 2 and f[2]: resps += 1
print(f"exchanges: wirecap {c['http']['exchanges']} ({c['http']['requests']} requests, {c['http']['responses']} final responses, "
      f"{c['http']['incomplete']} without response); tshark {reqs} request lines, {resps} response lines")
print("where wirecap's time goes (CPU ms; flow stages summed over threads):")
print(f"  read records + link/IP/TCP headers  {t['readMs']:9.0f}  (one thread)")
print(f"  TCP reassembly                      {t['reassemblyMs']:9.0f}")
print(f"  HTTP parsing and pairing            {t['httpMs']:9.0f}")
print(f"  content decoding (gzip/deflate/br)  {t['decodingMs']:9.0f}")
print(f"  flow stage, wall                    {t['flowsWallMs']:9.0f}")
w = s.get("writing", {})
print(f"  encoding JSONL lines                {w.get('encodeMs', 0):9.0f}")
print(f"  handing lines to the file           {w.get('writeMs', 0):9.0f}  (its own thread)")
print(f"  decoding + writing JSONL, wall      {(conv - cnt) * 1000:9.0f}  (convert - count)")
PY
