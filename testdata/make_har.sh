#!/usr/bin/env bash
# Remakes the HAR fixtures (see testdata/README.md): headless Chromium loads a page from a real
# Python server (tools/har_site.py) on 127.0.0.1 and Playwright's recorder writes what the browser
# saw as HAR (tools/chromium_har.js), while tcpdump captures the same traffic on loopback, so the
# HAR can be checked against the capture. Needs root, tcpdump, Debian's chromium and the npm
# package playwright-core (`npm install playwright-core` in a scratch folder, then NODE_PATH).
set -euo pipefail
cd "$(dirname "$0")"
PORT=${PORT:-18182}
U="http://127.0.0.1:$PORT"
TMP=$(mktemp -d)
python3 tools/har_site.py "$PORT" & SRV=$!
CAP=
cleanup() { [ -n "$CAP" ] && kill -INT "$CAP" 2>/dev/null; kill "$SRV" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
for i in $(seq 50); do curl -s -o /dev/null --max-time 1 "$U/missing" && break; sleep 0.1; done

tcpdump -i lo -s 0 -U -w har/chromium-site.pcap "tcp port $PORT" 2> "$TMP/cap.log" & CAP=$!
for i in $(seq 100); do grep -qi "listening on" "$TMP/cap.log" && break; sleep 0.1; done
sleep 0.3
node tools/chromium_har.js "$U/" har/chromium-site.har
sleep 1; kill -INT "$CAP"; wait "$CAP" || true; CAP=
chmod 644 har/chromium-site.*
ls -l har/
