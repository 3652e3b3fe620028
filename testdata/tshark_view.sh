#!/usr/bin/env bash
# Records tshark's view of each committed capture (request method and URI, response code,
# one HTTP message per line) in expected/<case>.tshark.tsv, so the cross-check test needs no
# tshark. Uses the same fields as the benchmark's tshark command.
# Two things to know when comparing with tshark: it mis-pairs pipelined requests (it reports
# all of pipelined-nano.pcap's requests but two of its five responses), and its reassembly of
# out-of-order segments is off by default (-o tcp.reassemble_out_of_order:TRUE turns it on;
# without it tshark loses what follows such a segment, TLS records included).
set -euo pipefail
cd "$(dirname "$0")"
tshark --version | head -1
for f in pcap/*.pcap pcap/*.pcapng; do
  case=$(basename "$f"); case=${case%.*}
  tshark -r "$f" -Y http -T fields -E occurrence=a -E aggregator=';' \
    -e http.request.method -e http.request.uri -e http.response.code > "expected/$case.tshark.tsv"
  echo "$case: $(wc -l < "expected/$case.tshark.tsv") HTTP messages"
done
