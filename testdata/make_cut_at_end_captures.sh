#!/usr/bin/env bash
# Remakes the captures cut at their end (see testdata/README.md): real captures whose last
# packets are left off with editcap, as a capture stopped (or a ring file closed) in the
# middle of a body leaves them. Needs editcap and tshark (Wireshark 4.0.17 here).
#
#   pcap/cut-at-end.pcap: HTTP/1.1, from the shared corpus's small.pcap (SRC)
#   pcap/tls/cut-h2c-at-end.pcap: cleartext HTTP/2, from pcap/tls/python-h2c-prior-knowledge.pcap
#   pcap/tls/cut-h2-tls-at-end.pcap (+ .keys): HTTP/2 over TLS 1.3, from curl-h2-tls13-chacha
set -euo pipefail
cd "$(dirname "$0")/pcap"
SRC=${SRC:-../../../shared/captures/small.pcap}
check() { # file, frame, wanted "srcport<TAB>tcp.len"
    got=$(tshark -r "$1" -Y "frame.number == $2" -T fields -e tcp.srcport -e tcp.len 2>/dev/null)
    [ "$got" = "$3" ] || { echo "$1: frame $2 is not the one wanted: $got"; exit 1; }
}
# Frames 700-752 of small.pcap: the keep-alive connection 127.0.0.1:57494 -> :18081 of
# make_gap_captures.sh up to frame 752, which carries bytes 0..46080 of the 70,000-byte body
# answering GET /py/blob?size=70000 (frame 753, left off, has the other 23,920).
check "$SRC" 752 "$(printf '18081\t46080')"
editcap -F pcap -r "$SRC" cut-at-end.pcap 700-752
# python-h2c-prior-knowledge's frames 1-21: its third stream (POST /upload) has its 201
# response's HEADERS (content-length 167, frame 20) but not the DATA with END_STREAM
# (frame 22).
check tls/python-h2c-prior-knowledge.pcap 22 "$(printf '18444\t176')"
editcap -F pcap -r tls/python-h2c-prior-knowledge.pcap tls/cut-h2c-at-end.pcap 1-21
# curl-h2-tls13-chacha's frames 1-21: GET /large.bin (stream 3) has its response HEADERS and
# the first DATA frames of the 50,000 bytes (frames 19-20); frames 22-24 with the rest and
# END_STREAM are left off. Its key log is the original's.
check tls/curl-h2-tls13-chacha.pcap 24 "$(printf '18443\t897')"
editcap -F pcap -r tls/curl-h2-tls13-chacha.pcap tls/cut-h2-tls-at-end.pcap 1-21
cp tls/curl-h2-tls13-chacha.keys tls/cut-h2-tls-at-end.keys
chmod 644 cut-at-end.pcap tls/cut-h2c-at-end.pcap tls/cut-h2-tls-at-end.pcap tls/cut-h2-tls-at-end.keys
ls -l cut-at-end.pcap tls/cut-h2c-at-end.pcap tls/cut-h2-tls-at-end.pcap
