#!/usr/bin/env bash
# Seed corpora for the fuzz targets, from the project's test data, in fuzz/corpus/<target>/
# (not committed), or in DIR/<target>/. The http1, http2 and tls targets take a connection's
# two directions split by a 0xfe byte (see src/lib.rs); their seeds are the TCP streams of
# committed captures, which tshark's `follow` gives (skipped without tshark, or with
# NO_FOLLOW=1), and the committed ones in seeds/.
#   fuzz/seeds.sh [DIR]
set -euo pipefail
C=$(realpath -m "${1:-$(dirname "$0")/corpus}")
cd "$(dirname "$0")"
T=../testdata
mkdir -p $C/{pcap,tcp_segments,http1,http2,tls,http_types,hoverfly,har,validate}
cp $T/pcap/*.pcap* $T/pcap/tls/*.pcap* $T/har/*.pcap $C/pcap/ 2> /dev/null || true
cp $T/http-types/* $T/pasted/* $C/http_types/ 2> /dev/null || true
find $T/invalid -type f -name '*.jsonl' -exec cp {} $C/http_types/ \;
cp $T/hoverfly/* $C/hoverfly/ 2> /dev/null || true
cp $T/har/*.har $C/har/
cp $C/http_types/* $C/hoverfly/* $C/har/* $C/validate/
head -c 64 /dev/urandom > $C/tcp_segments/random
# One stream pair per connection: client bytes, 0xfe, server bytes.
follow() {  # $1 = capture, $2 = target, $3 = extra tshark options
  [ -z "${NO_FOLLOW:-}" ] && command -v tshark > /dev/null || return 0
  local n
  n=$(tshark -r "$1" $3 -T fields -e tcp.stream 2> /dev/null | sort -un | tail -1)
  for s in $(seq 0 "${n:-0}"); do
    tshark -r "$1" $3 -q -z "follow,tcp,raw,$s" 2> /dev/null | python3 -c '
import sys
c, s, on = b"", b"", False
for line in sys.stdin:
    if line.startswith("====="):
        on = not on if c or s or on else True
        continue
    if not on or not line.strip() or ":" in line[:12]:
        continue
    if line.startswith("\t"):
        s += bytes.fromhex(line.strip())
    else:
        c += bytes.fromhex(line.strip())
sys.stdout.buffer.write(c + b"\xfe" + s)' > "$C/$2/$(basename "$1" | tr . _)-$s"
  done
}
for f in $T/pcap/*.pcap; do follow "$f" http1 ""; done
for f in $T/pcap/tls/curl-h2c-*.pcap $T/pcap/tls/python-h2c-*.pcap; do follow "$f" http2 ""; done
for f in $T/pcap/tls/curl-h*-tls*.pcap $T/pcap/tls/python-h1-tls13.pcap; do follow "$f" tls ""; done
for d in seeds/*/; do cp "$d"* "$C/$(basename "$d")/"; done
ls $C | while read -r d; do echo "$d: $(ls $C/$d | wc -l) seeds"; done
