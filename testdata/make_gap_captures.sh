#!/usr/bin/env bash
# Remakes testdata/pcap/gap-in-body.pcap, pcap/tls/gap-h2c-over-frame-header.pcap and
# pcap/tls/gap-h2-tls13-over-frame-header.pcap (see testdata/README.md); the first from the shared corpus's real
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
# pcap/tls/gap-h2-tls13-over-frame-header.pcap (+ .keys): HTTPS HTTP/2 (pcap/tls/curl-h2-tls13-
# chacha.pcap, TLS 1.3 ChaCha20) without its frame 20, a 16,406-byte server segment in the
# middle of the 50,000-byte /large.bin (stream 3): a whole TLS record and the frame headers in
# it are lost. The frames after it, the rest of /large.bin and the answers to streams 5 and 7,
# are found again.
lost=$(tshark -r pcap/tls/curl-h2-tls13-chacha.pcap -Y 'frame.number == 20' -T fields -e tcp.srcport -e tcp.len)
[ "$lost" = "$(printf '18443\t16406')" ] || { echo "frame 20 is not the body segment: $lost"; exit 1; }
editcap -F pcap pcap/tls/curl-h2-tls13-chacha.pcap pcap/tls/gap-h2-tls13-over-frame-header.pcap 20
cp pcap/tls/curl-h2-tls13-chacha.keys pcap/tls/gap-h2-tls13-over-frame-header.keys
chmod 644 pcap/tls/gap-h2-tls13-over-frame-header.pcap pcap/tls/gap-h2-tls13-over-frame-header.keys
ls -l pcap/tls/gap-h2-tls13-over-frame-header.pcap
# pcap/tls/gap-h1-tls12-in-body.pcap (+ .keys): HTTPS with a lost segment in a body, from the
# HTTPS corpus bench/make_https_corpus.sh made (HTTPS_DIR; frame numbers are those of its run of
# 2026-12-03): connection 127.0.0.1:38336 (TLS 1.2 ECDHE-ECDSA-AES256-GCM-SHA384, curl to
# nginx), its first 47 frames, without its 27th, a 54,272-byte server segment in the middle of
# the 430,080-byte body answering GET /img/420k.bin. The segment starts and ends inside TLS
# records, so four whole records (65,536 bytes of plaintext) and the two cut ones are lost.
HTTPS_DIR=${HTTPS_DIR:-/work/corpus-https}
tshark -r "$HTTPS_DIR/https.pcap" -c 3000 -Y 'tcp.port == 38336' -F pcap -w "$TMP/https.pcap"
editcap -F pcap -r "$TMP/https.pcap" "$TMP/conn.pcap" 1-47
lost=$(tshark -r "$TMP/conn.pcap" -Y 'frame.number == 27' -T fields -e tcp.srcport -e tcp.len)
[ "$lost" = "$(printf '18543\t54272')" ] || { echo "frame 27 is not the body segment: $lost"; exit 1; }
editcap -F pcap "$TMP/conn.pcap" pcap/tls/gap-h1-tls12-in-body.pcap 27
random=$(tshark -r "$TMP/conn.pcap" -Y 'tls.handshake.type == 1' -T fields -e tls.handshake.random | tr -d :)
grep -i "^CLIENT_RANDOM $random " "$HTTPS_DIR/https.keys" > pcap/tls/gap-h1-tls12-in-body.keys
# The independent view: tshark's export of the body from the capture without the gap, and the
# SHA-256 of the bytes the gapped capture still holds (all but 163,582..229,118).
tshark -r "$TMP/conn.pcap" -o tls.keylog_file:pcap/tls/gap-h1-tls12-in-body.keys -q --export-objects "http,$TMP/obj"
python3 -c "import hashlib,sys; b=open(sys.argv[1],'rb').read(); print(len(b), hashlib.sha256(b[:163582]+b[229118:]).hexdigest())" "$TMP/obj/420k.bin"
chmod 644 pcap/tls/gap-h1-tls12-in-body.pcap pcap/tls/gap-h1-tls12-in-body.keys
ls -l pcap/tls/gap-h1-tls12-in-body.pcap
