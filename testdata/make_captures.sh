#!/usr/bin/env bash
# Remakes the real captures under testdata/pcap/ (see testdata/README.md): a real Python
# HTTP/1.1 server (tools/api_server.py) on 127.0.0.1, real clients (curl, a pipelining Python
# client), captured by tcpdump and dumpcap on loopback. Needs root, tcpdump, dumpcap, curl.
# Then run ./tshark_view.sh to record tshark's view of each capture for the cross-check test.
set -euo pipefail
cd "$(dirname "$0")"
PORT=${PORT:-18181}
U="http://127.0.0.1:$PORT"
TMP=$(mktemp -d)
python3 tools/api_server.py "$PORT" & SRV=$!
CAP=
cleanup() { [ -n "$CAP" ] && kill -INT "$CAP" 2>/dev/null; kill "$SRV" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
for i in $(seq 50); do curl -s -o /dev/null --max-time 1 "$U/py/text" && break; sleep 0.1; done

start() {  # $1 = tool command line writing the capture
  "$@" 2> "$TMP/cap.log" & CAP=$!
  for i in $(seq 100); do grep -qiE "listening on|capturing on" "$TMP/cap.log" && break; sleep 0.1; done
  sleep 0.3
}
stop() { sleep 1; kill -INT "$CAP"; wait "$CAP" || true; CAP=; }

# 1. keep-alive session: one curl process, one connection, mixed methods and bodies.
start tcpdump -i lo -s 0 -U -w pcap/curl-keepalive.pcap "tcp port $PORT"
head -c 700 /dev/zero | tr '\0' 'x' > "$TMP/body.txt"
curl -s --max-time 20 -o /dev/null \
  "$U/py/items?page=1&n=3" "$U/py/items?page=2&n=3" \
  -H 'Accept-Encoding: gzip' "$U/py/gz" "$U/py/gzchunk" \
  --next -s -o /dev/null -I "$U/py/items?page=1&n=3" \
  --next -s -o /dev/null -X OPTIONS "$U/py/items" \
  --next -s -o /dev/null "$U/py/redirect" "$U/py/text" "$U/nope" "$U/py/blob?size=300" \
  --next -s -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary '{"name":"a","tags":["x","y"]}' "$U/py/items" \
  --next -s -o /dev/null -X PUT -H 'Content-Type: application/json' --data-binary '{"name":"b"}' "$U/py/items/7" \
  --next -s -o /dev/null -X PATCH -H 'Content-Type: application/json' --data-binary '{"price":2}' "$U/py/items/7" \
  --next -s -o /dev/null -X DELETE "$U/py/items/7" \
  --next -s -o /dev/null -H 'Expect: 100-continue' -H 'Content-Type: text/plain' --data-binary @"$TMP/body.txt" "$U/py/items?continue=1" \
  --next -s -o /dev/null -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' --data-binary '{"chunked":"request body"}' "$U/py/items?chunked=1" \
  --next -s -o /dev/null "$U/py/close" > /dev/null
stop

# 2. the same server through dumpcap on the "any" pseudo-interface (pcapng, Linux cooked
#    link layer): HTTP/1.0 requests, one connection each.
start dumpcap -q -i any -s 0 -f "tcp port $PORT" -w pcap/http10-any.pcapng
for p in "/py/items?page=3&n=1" /py/text "/py/blob?size=64"; do
  curl -s -0 --max-time 5 -o /dev/null "$U$p"
done
curl -s -0 --max-time 5 -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary '{"v":1}' "$U/py/items"
stop

# 3. pipelining: five requests in one write, nanosecond timestamps.
start tcpdump -i lo -s 0 -U --time-stamp-precision=nano -w pcap/pipelined-nano.pcap "tcp port $PORT"
python3 tools/pipeline_client.py 127.0.0.1 "$PORT" > /dev/null
stop
chmod 644 pcap/*
ls -l pcap/
