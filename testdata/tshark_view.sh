#!/usr/bin/env bash
# Records tshark's view of each committed capture (request method and URI, response code,
# one HTTP message per line) in expected/<case>.tshark.tsv, so the cross-check test needs no
# tshark. Uses the same fields as the benchmark's tshark command.
set -euo pipefail
cd "$(dirname "$0")"
tshark --version | head -1
for f in pcap/*.pcap pcap/*.pcapng; do
  case=$(basename "$f"); case=${case%.*}
  tshark -r "$f" -Y http -T fields -E occurrence=a -E aggregator=';' \
    -e http.request.method -e http.request.uri -e http.response.code > "expected/$case.tshark.tsv"
  echo "$case: $(wc -l < "expected/$case.tshark.tsv") HTTP messages"
done
