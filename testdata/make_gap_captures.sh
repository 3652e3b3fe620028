#!/usr/bin/env bash
# Remakes testdata/pcap/gap-in-body.pcap and pcap/tls/gap-h2c-over-frame-header.pcap (see
# testdata/README.md); the first from the shared corpus's real
# capture ../shared/captures/small.pcap (made by its make_corpus.sh): one whole keep-alive
# connection of it, with one segment of a response body taken out, as a lossy capture (a
# packet the capturing host dropped, never retransmitted) would have it. Needs editcap and
# tshark (Wireshark 4.0.17 here).
set -euo pipefail
cd "$(dirname "$0")"
SRC=${SRC:-../../shared/captures/small.pcap}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# Frames 700-787 of small.pcap are the connection 127.0.0.1:57494 -> 127.0.0.1:18081 from SYN to
# FIN: curl and the Python API server, 19 exchanges.
editcap -F pcap -r "$SRC" "$TMP/flow.pcap" 700-787
# Its 53rd packet (frame 752 of small.pcap) carries bytes 0..46080 of the 70,000-byte body
# answering GET /py/blob?size=70000; the head came in the packet before, the last 23,920 bytes
# in the packet after, which the client's ACK covers.
lost=$(tshark -r "$TMP/flow.pcap" -Y 'frame.number == 53' -T fields -e tcp.srcport -e tcp.len)
[ "$lost" = "$(printf '18081\t46080')" ] || { echo "packet 53 is not the body segment: $lost"; exit 1; }
editcap -F pcap "$TMP/flow.pcap" pcap/gap-in-body.pcap 53
chmod 644 pcap/gap-in-body.pcap
ls -l pcap/gap-in-body.pcap
# pcap/tls/gap-h2c-over-frame-header.pcap: cleartext HTTP/2 (pcap/tls/python-h2c-prior-knowledge.
# pcap) without its frame 16, the server's segment holding a whole DATA frame, header and all:
# the 5,913-byte gzipped body answering GET /data/items.json (stream 3), whose HEADERS came in
# frame 15. The gap takes a frame header, so the server's frames after it cannot be found.
lost=$(tshark -r pcap/tls/python-h2c-prior-knowledge.pcap -Y 'frame.number == 16' -T fields -e tcp.srcport -e tcp.len)
[ "$lost" = "$(printf '18444\t1231')" ] || { echo "frame 16 is not the DATA segment: $lost"; exit 1; }
editcap -F pcap pcap/tls/python-h2c-prior-knowledge.pcap pcap/tls/gap-h2c-over-frame-header.pcap 16
chmod 644 pcap/tls/gap-h2c-over-frame-header.pcap
ls -l pcap/tls/gap-h2c-over-frame-header.pcap
