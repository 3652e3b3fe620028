#!/usr/bin/env bash
# Remakes testdata/pcap/cut-by-reset.pcap (see testdata/README.md): real curl clients against
# tools/reset_server.py on 127.0.0.1, which resets one connection in the middle of a 1 MiB upload
# (after answering 413) and one in the middle of a download that announced 100,000 bytes.
# Captured by tcpdump on loopback. Needs root, tcpdump, curl, python3.
set -euo pipefail
cd "$(dirname "$0")"
PORT=${PORT:-18182}
U="http://127.0.0.1:$PORT"
TMP=$(mktemp -d)
python3 tools/reset_server.py "$PORT" & SRV=$!
CAP=
cleanup() { [ -n "$CAP" ] && kill -INT "$CAP" 2>/dev/null; kill "$SRV" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
sleep 0.5
tcpdump -i lo -s 0 -U -w pcap/cut-by-reset.pcap "tcp port $PORT" 2> "$TMP/cap.log" & CAP=$!
for i in $(seq 100); do grep -qi "listening on" "$TMP/cap.log" && break; sleep 0.1; done
sleep 0.3
head -c 1048576 /dev/zero | tr '\0' 'u' > "$TMP/upload.txt"
curl -s --max-time 10 -o /dev/null -H 'Content-Type: text/plain' -H 'Expect:' --data-binary @"$TMP/upload.txt" "$U/upload" || true
curl -s --max-time 10 -o /dev/null "$U/download" || true
curl -s --max-time 5 -o /dev/null "$U/quit" || true
sleep 1; kill -INT "$CAP"; wait "$CAP" || true; CAP=
chmod 644 pcap/cut-by-reset.pcap
ls -l pcap/cut-by-reset.pcap
