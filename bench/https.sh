#!/usr/bin/env bash
# Benchmark (not a test): wirecap on real HTTPS traffic (decrypting with an NSS key log) against
# the same request mix in cleartext, and against tshark, side by side.
#
#   bench/https.sh            WIRECAP=path/to/wirecap (default target/release/wirecap; not built here)
#                             CORPUS_DIR=... (default /work/corpus-https, made once by
#                             bench/make_https_corpus.sh: https.pcap, https.keys, cleartext.pcap)
#                             TSHARK_CLEARTEXT=1 also times tshark on cleartext.pcap (minutes more)
#
# With each file in the page cache, runs and times (/usr/bin/time -v: wall, CPU, peak RSS):
#   1. wirecap count   https.pcap --keylog https.keys
#   2. wirecap convert https.pcap --keylog https.keys -o OUT.jsonl
#   3. wirecap count   cleartext.pcap
#   4. wirecap convert cleartext.pcap -o OUT.jsonl
#   5. tshark -r https.pcap -o tls.keylog_file:https.keys -o tcp.reassemble_out_of_order:TRUE
#        -Y 'http || http2' -T fields
#        -e http.request.method -e http.request.uri -e http.response.code
#        -e http2.headers.method -e http2.headers.path -e http2.headers.status
# and prints MB/s of capture (MiB, as bench/capture.sh), the ratios tshark / wirecap convert and
# TLS / cleartext, and the request counts each tool reports. A wirecap run that fails (say, a
# build without --keylog) is reported with its exit code and first error line; the rest still runs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
C=${CORPUS_DIR:-/work/corpus-https}
W=${WIRECAP:-$ROOT/target/release/wirecap}
TLS_PORT=${TLS_PORT:-18543}
H2C_PORT=${H2C_PORT:-18581}
CAP=$C/https.pcap KEYS=$C/https.keys CLEAR=$C/cleartext.pcap
for f in "$CAP" "$KEYS" "$CLEAR"; do
  [ -f "$f" ] || { echo "missing $f: run bench/make_https_corpus.sh first"; exit 2; }
done
[ -x "$W" ] || echo "warning: $W is not an executable: the wirecap rows will fail (cargo build --release, or set WIRECAP)"
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT

mib() { echo "$(stat -c %s "$1") / 1048576" | bc -l; }
timed() {  # $1 = label; rest = command. Leaves $TMP/$1.{wall,rss,cpu,rc,stdout,stderr}
  local label=$1; shift
  local rc=0
  /usr/bin/time -v -o "$TMP/$label.time" "$@" > "$TMP/$label.stdout" 2> "$TMP/$label.stderr" || rc=$?
  echo "$rc" > "$TMP/$label.rc"
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$TMP/$label.time" > "$TMP/$label.wall"
  awk -F': ' '/Maximum resident set size/ { printf "%.0f\n", $2 / 1024 }' "$TMP/$label.time" > "$TMP/$label.rss"
  awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f\n", s }' "$TMP/$label.time" > "$TMP/$label.cpu"
}
row() {  # $1 = label, $2 = description, $3 = capture
  local rc wall
  rc=$(cat "$TMP/$1.rc"); wall=$(cat "$TMP/$1.wall")
  if [ "$rc" != 0 ]; then
    printf "%-44s FAILED (exit %s): %s\n" "$2" "$rc" "$(grep -v '^\s*$' "$TMP/$1.stderr" | head -1)"
    return
  fi
  printf "%-44s %8.2f s %8.1f MB/s %7s MB peak RSS %8s s CPU\n" "$2" "$wall" "$(echo "$(mib "$3") / $wall" | bc -l)" "$(cat "$TMP/$1.rss")" "$(cat "$TMP/$1.cpu")"
}
ratio() {  # $1 / $2 wall, both succeeded
  [ "$(cat "$TMP/$1.rc")" = 0 ] && [ "$(cat "$TMP/$2.rc")" = 0 ] || { echo "n/a"; return; }
  printf "%.2fx" "$(echo "$(cat "$TMP/$1.wall") / $(cat "$TMP/$2.wall")" | bc -l)"
}

echo "https.pcap $(printf %.0f "$(mib "$CAP")") MB ($(wc -l < "$KEYS") key log lines), cleartext.pcap $(printf %.0f "$(mib "$CLEAR")") MB;" \
  "$(nproc) cores; $("$W" --version 2> /dev/null || echo "wirecap: none"); $(tshark --version 2> /dev/null | head -1)"
cat "$CAP" > /dev/null; cat "$CLEAR" > /dev/null   # page cache, for every contender alike
timed tls_count "$W" count "$CAP" --keylog "$KEYS"
timed tls_convert "$W" convert "$CAP" --keylog "$KEYS" -o "$TMP/https.jsonl"
rm -f "$TMP/https.jsonl"
timed clear_count "$W" count "$CLEAR"
timed clear_convert "$W" convert "$CLEAR" -o "$TMP/cleartext.jsonl"
rm -f "$TMP/cleartext.jsonl"
TSHARK_FIELDS=(-Y 'http || http2' -T fields -E occurrence=a -E aggregator=';' -e http.request.method -e http.request.uri
  -e http.response.code -e http2.headers.method -e http2.headers.path -e http2.headers.status)
# tcp.reassemble_out_of_order: loopback captures have segments captured out of order (and real
# retransmissions); tshark 4.0's default (FALSE) then loses the TLS records after them (100 of
# the 31,720 responses of the corpus of 2026-12-02).
timed tshark tshark -r "$CAP" -o "tls.keylog_file:$KEYS" -o tcp.reassemble_out_of_order:TRUE -d "tcp.port==$TLS_PORT,tls" "${TSHARK_FIELDS[@]}"
if [ "${TSHARK_CLEARTEXT:-0}" = 1 ]; then
  timed tshark_clear tshark -r "$CLEAR" -o tcp.reassemble_out_of_order:TRUE -d "tcp.port==$H2C_PORT,http2" "${TSHARK_FIELDS[@]}"
fi

row tls_count "wirecap count https.pcap --keylog" "$CAP"
row tls_convert "wirecap convert https.pcap --keylog" "$CAP"
row clear_count "wirecap count cleartext.pcap" "$CLEAR"
row clear_convert "wirecap convert cleartext.pcap" "$CLEAR"
row tshark "tshark https.pcap (keylog, http || http2)" "$CAP"
[ -f "$TMP/tshark_clear.rc" ] && row tshark_clear "tshark cleartext.pcap (http || http2)" "$CLEAR"
echo "ratio tshark / wirecap convert (https): $(ratio tshark tls_convert)"
echo "ratio TLS / cleartext, wirecap convert: $(ratio tls_convert clear_convert) (the files differ in size: compare MB/s too)"
echo "ratio TLS / cleartext, wirecap count:   $(ratio tls_count clear_count)"
tally() {  # tshark fields output -> requests and responses, HTTP/1.x and HTTP/2
  awk -F'\t' 'function n(s,  a) { return s == "" ? 0 : split(s, a, ";") }
    { r1 += n($1); s1 += n($3); r2 += n($4); s2 += n($6) }
    END { printf "%d HTTP/1.x requests, %d responses; %d HTTP/2 requests, %d responses\n", r1, s1, r2, s2 }' "$1"
}
[ "$(cat "$TMP/tshark.rc")" = 0 ] && echo "tshark sees in https.pcap: $(tally "$TMP/tshark.stdout")"
[ -f "$TMP/tshark_clear.rc" ] && [ "$(cat "$TMP/tshark_clear.rc")" = 0 ] && echo "tshark sees in cleartext.pcap: $(tally "$TMP/tshark_clear.stdout")"
for l in tls_count clear_count; do
  [ "$(cat "$TMP/$l.rc")" = 0 ] && { echo "wirecap count ($l):"; sed 's/^/  /' "$TMP/$l.stdout"; }
done
exit 0
