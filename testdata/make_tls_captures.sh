#!/usr/bin/env bash
# Remakes the real TLS and HTTP/2 captures under testdata/pcap/tls/ (see testdata/README.md,
# "TLS and HTTP/2 captures"). Real programs only, all on 127.0.0.1:
#   servers: nginx (tools/nginx-tls.conf.tmpl: TLS 1.2 + 1.3 with ALPN h2/http1.1 on $TLS_PORT,
#            cleartext h2 prior knowledge on $H2C_PORT, gzip on, static files from
#            tools/gen_tls_www.py, /upload proxied to tools/echo_server.py), and Hypercorn
#            (tools/h2c_app.py) on $UPG_PORT for `Upgrade: h2c`, which nginx does not take;
#   clients: curl (SSLKEYLOGFILE), Python ssl + http.client (tools/py_tls_client.py, SSLKEYLOGFILE
#            through ssl.create_default_context()), Python h2 for h2c prior knowledge (tools/h2c_client.py);
#   capture: tcpdump -i lo -s 0 -U, one port per case; editcap cuts and injects secrets.
# Each case is pcap/tls/<case>.pcap plus <case>.keys: the NSS key log lines of that capture only
# (its own SSLKEYLOGFILE). The certificates are made by openssl in a temp dir on every run, and TLS
# randoms and keys change with every run; bodies, paths and request order do not.
# Needs root, nginx-light, tcpdump, tshark (editcap, capinfos), curl, openssl and
# `pip install hypercorn` (brings h2). Then run ./tshark_tls_view.sh to record tshark's view of each case.
set -euo pipefail
cd "$(dirname "$0")"
TLS_PORT=${TLS_PORT:-18443}
H2C_PORT=${H2C_PORT:-18444}
ECHO_PORT=${ECHO_PORT:-18446}
UPG_PORT=${UPG_PORT:-18447}
OUT=pcap/tls
for b in nginx tcpdump editcap capinfos tshark curl openssl python3 hypercorn; do
  command -v $b > /dev/null || { echo "missing $b (apt-get install -y nginx-light tcpdump tshark curl; pip install hypercorn)"; exit 1; }
done
TMP=$(mktemp -d); chmod 755 "$TMP"   # nginx's workers (nobody) read the files served from it
NGX='' ECHO='' UPG='' CAP=''
cleanup() {
  [ -n "${LOG:-}" ] && [ -f "$LOG" ] && [ -n "$CAP" ] && { echo "client log so far:"; cat "$LOG"; }
  [ -n "$CAP" ] && kill -INT "$CAP" 2> /dev/null
  for p in $NGX $ECHO $UPG; do kill "$p" 2> /dev/null || true; done
  for p in $CAP $NGX $ECHO $UPG; do wait "$p" 2> /dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

# --- servers ---------------------------------------------------------------------------------
python3 tools/gen_tls_www.py "$TMP/srv"
W=$TMP/srv/www B=$TMP/srv/bodies CA=$TMP/certs/ca.pem
mkdir -p "$TMP/certs" "$TMP/run"
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$TMP/certs/rsa.key" -out "$TMP/certs/rsa.crt" 2> /dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$TMP/certs/ecdsa.key" -out "$TMP/certs/ecdsa.crt" 2> /dev/null
cat "$TMP/certs/rsa.crt" "$TMP/certs/ecdsa.crt" > "$CA"
sed -e "s#@RUN@#$TMP/run#g" -e "s#@WWW@#$W#g" -e "s#@CERTS@#$TMP/certs#g" -e "s#@TLS@#$TLS_PORT#g" \
  -e "s#@H2C@#$H2C_PORT#g" -e "s#@ECHO@#$ECHO_PORT#g" tools/nginx-tls.conf.tmpl > "$TMP/nginx.conf"
python3 tools/echo_server.py "$ECHO_PORT" & ECHO=$!
nginx -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/run/error.log" & NGX=$!
(cd tools && WWW=$W exec hypercorn --bind "127.0.0.1:$UPG_PORT" h2c_app:app) > "$TMP/run/hypercorn.log" 2>&1 & UPG=$!
T=https://localhost:$TLS_PORT H2C=http://127.0.0.1:$H2C_PORT UPG_URL=http://127.0.0.1:$UPG_PORT
up=0
for _ in $(seq 100); do
  if curl -sf -o /dev/null --max-time 1 --cacert "$CA" "$T/hello.txt" && curl -sf -o /dev/null --max-time 1 --http2-prior-knowledge "$H2C/hello.txt" \
    && curl -sf -o /dev/null --max-time 1 "$UPG_URL/hello.txt" && curl -sf -o /dev/null --max-time 1 --cacert "$CA" "$T/upload"; then up=1; break; fi
  sleep 0.1
done
[ $up = 1 ] || { echo "servers did not start"; cat "$TMP/run/error.log" "$TMP/run/hypercorn.log"; exit 1; }

# --- capture helpers -------------------------------------------------------------------------
LOG=$TMP/clients.log
start() {  # $1 = case, $2 = port
  rm -f "$OUT/$1.pcap" "$OUT/$1.keys" "$TMP/$1.keys"
  tcpdump -i lo -s 0 -U -w "$OUT/$1.pcap" "tcp port $2" 2> "$TMP/cap.log" & CAP=$!
  for _ in $(seq 100); do grep -q "listening on" "$TMP/cap.log" && break; sleep 0.1; done
  grep -q "listening on" "$TMP/cap.log" || { echo "tcpdump did not start"; cat "$TMP/cap.log"; exit 1; }
  sleep 0.3
  echo "== $1" >> "$LOG"
}
stop() {  # $1 = case; keeps its key log beside the capture unless $2 = nokeys
  sleep 1; kill -INT "$CAP"; wait "$CAP" || true; CAP=
  if [ "${2:-}" != nokeys ] && [ -s "$TMP/$1.keys" ]; then cp "$TMP/$1.keys" "$OUT/$1.keys"; fi
}
# curl writes one line per transfer: status, HTTP version, new connections (0 = reused), URL
WO='%{http_code} HTTP/%{http_version} connects=%{num_connects} %{method} %{url_effective}\n'
N=(-o /dev/null)   # before each URL: curl pairs one -o with one URL
keys() { env SSLKEYLOGFILE="$TMP/$1.keys" "${@:2}"; }   # $1 = case, rest = client command

mkdir -p "$OUT"
rm -f "$OUT"/*.pcap "$OUT"/*.pcapng "$OUT"/*.keys

# --- cases -----------------------------------------------------------------------------------
# HTTP/1.1 over TLS 1.3, TLS_AES_128_GCM_SHA256, one keep-alive connection: 3 GETs (one gzip,
# chunked, decoded by --compressed) and a POST upload of a 3 KB JSON file.
c=curl-h1-tls13-aes128; start $c "$TLS_PORT"
O=(-sS --max-time 20 --cacert "$CA" --http1.1 --tls13-ciphers TLS_AES_128_GCM_SHA256 -w "$WO")
keys $c curl "${O[@]}" "${N[@]}" "$T/hello.txt" --next "${O[@]}" --compressed "${N[@]}" "$T/index.html" --next "${O[@]}" "${N[@]}" "$T/data/items.json" \
  --next "${O[@]}" -H 'Content-Type: application/json' --data-binary @"$B/upload.json" "${N[@]}" "$T/upload" >> "$LOG"
stop $c

# HTTP/1.1 over TLS 1.2, ECDHE-ECDSA-AES256-GCM-SHA384 (the ECDSA certificate), keep-alive:
# a page, a gzip stylesheet, a 404.
c=curl-h1-tls12-aes256; start $c "$TLS_PORT"
O=(-sS --max-time 20 --cacert "$CA" --http1.1 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES256-GCM-SHA384 -w "$WO")
keys $c curl "${O[@]}" "${N[@]}" "$T/index.html" --next "${O[@]}" --compressed "${N[@]}" "$T/style.css" --next "${O[@]}" "${N[@]}" "$T/missing.html" >> "$LOG"
stop $c

# HTTP/1.1 over TLS 1.2, ECDHE-RSA-CHACHA20-POLY1305: a gzip JSON and a small POST.
c=curl-h1-tls12-chacha; start $c "$TLS_PORT"
O=(-sS --max-time 20 --cacert "$CA" --http1.1 --tls-max 1.2 --ciphers ECDHE-RSA-CHACHA20-POLY1305 -w "$WO")
keys $c curl "${O[@]}" --compressed "${N[@]}" "$T/data/items.json" \
  --next "${O[@]}" -H 'Content-Type: application/json' --data-binary @"$B/small.json" "${N[@]}" "$T/upload" >> "$LOG"
stop $c

# HTTP/2 over TLS 1.3, TLS_CHACHA20_POLY1305_SHA256, one connection, four requests one after
# another: a tiny text, the 50,000-byte binary, a gzip page, a gzip JSON.
c=curl-h2-tls13-chacha; start $c "$TLS_PORT"
O=(-sS --max-time 20 --cacert "$CA" --http2 --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256 -w "$WO")
keys $c curl "${O[@]}" "${N[@]}" "$T/hello.txt" "${N[@]}" "$T/large.bin" --next "${O[@]}" --compressed "${N[@]}" "$T/index.html" "${N[@]}" "$T/data/items.json" >> "$LOG"
stop $c

# HTTP/2 over TLS 1.3, TLS_AES_256_GCM_SHA384, --parallel --parallel-max 4: four gzip GETs and a
# POST in flight on one connection (interleaved streams 1..9).
c=curl-h2-tls13-aes256; start $c "$TLS_PORT"
O=(-sS --max-time 20 --cacert "$CA" --http2 --tls13-ciphers TLS_AES_256_GCM_SHA384 -w "$WO")
# (curl 7.88 draws its parallel progress meter despite -s: stderr goes to a file, shown on failure)
keys $c curl --parallel --parallel-max 4 "${O[@]}" --compressed "${N[@]}" "$T/index.html" "${N[@]}" "$T/style.css" "${N[@]}" "$T/data/items.json" "${N[@]}" "$T/hello.txt" \
  --next "${O[@]}" -H 'Content-Type: application/json' --data-binary @"$B/upload.json" "${N[@]}" "$T/upload" >> "$LOG" 2> "$TMP/parallel.err" \
  || { cat "$TMP/parallel.err"; exit 1; }
stop $c

# HTTP/2 over TLS 1.2, ECDHE-RSA-AES128-GCM-SHA256: a text, a gzip stylesheet, a 404.
c=curl-h2-tls12-aes128; start $c "$TLS_PORT"
O=(-sS --max-time 20 --cacert "$CA" --http2 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256 -w "$WO")
keys $c curl "${O[@]}" "${N[@]}" "$T/hello.txt" --next "${O[@]}" --compressed "${N[@]}" "$T/style.css" --next "${O[@]}" "${N[@]}" "$T/missing.html" >> "$LOG"
stop $c

# Cleartext HTTP/2 with prior knowledge (nginx), one connection: a text, a gzip JSON, a 3 KB
# POST. The client is tools/h2c_client.py (Python h2): curl 7.88.1 cannot reuse a prior-knowledge
# connection (curl issue #10634, fixed in 8.0).
c=python-h2c-prior-knowledge; start $c "$H2C_PORT"
timeout 20 python3 tools/h2c_client.py 127.0.0.1 "$H2C_PORT" GET:/hello.txt GZ:/data/items.json POST:/upload:"$B/upload.json" >> "$LOG"
stop $c nokeys

# Cleartext HTTP/2 with prior knowledge from curl: three curl processes, so three connections
# of one request each (a text, a gzip JSON, a small POST), since curl 7.88.1 cannot reuse one.
c=curl-h2c-prior-knowledge; start $c "$H2C_PORT"
O=(-sS --max-time 20 --http2-prior-knowledge -w "$WO")
curl "${O[@]}" "${N[@]}" "$H2C/hello.txt" >> "$LOG"
curl "${O[@]}" --compressed "${N[@]}" "$H2C/data/items.json" >> "$LOG"
curl "${O[@]}" -H 'Content-Type: application/json' --data-binary @"$B/small.json" "${N[@]}" "$H2C/upload" >> "$LOG"
stop $c nokeys

# Cleartext HTTP/1.1 GET with `Upgrade: h2c` (Hypercorn answers 101 and the response comes on
# stream 1), then a GET and a POST as HTTP/2 streams 3 and 5 on the same connection.
c=curl-h2c-upgrade; start $c "$UPG_PORT"
O=(-sS --max-time 20 --http2 -w "$WO")
curl "${O[@]}" "${N[@]}" "$UPG_URL/hello.txt" "${N[@]}" "$UPG_URL/data/items.json" \
  --next "${O[@]}" -H 'Content-Type: application/json' --data-binary @"$B/small.json" "${N[@]}" "$UPG_URL/upload" >> "$LOG"
stop $c nokeys

# Python http.client over ssl (TLS 1.3, Python's default suite choice TLS_AES_256_GCM_SHA384,
# ALPN http/1.1), two GETs on one connection, the first gzip.
c=python-h1-tls13; start $c "$TLS_PORT"
keys $c python3 tools/py_tls_client.py keepalive localhost "$TLS_PORT" "$CA" >> "$LOG"
stop $c

# TLS 1.3 resumption: a full handshake (GET), then a second connection resuming its session with
# a PSK from the first one's NewSessionTicket (GET + POST). Both connections, both key sets.
# tls13-resumed.partial.keys has only the first connection's lines.
c=tls13-resumed; start $c "$TLS_PORT"
keys $c python3 tools/py_tls_client.py resume13 localhost "$TLS_PORT" "$CA" >> "$LOG"
stop $c
# TLS 1.2 resumption with a session ticket (abbreviated handshake, the first connection's master
# secret). OpenSSL logs a CLIENT_RANDOM line for the resumed connection too; the partial key log
# has only the first line, as if the client had logged only its full handshakes.
c=tls12-resumed; start $c "$TLS_PORT"
keys $c python3 tools/py_tls_client.py resume12 localhost "$TLS_PORT" "$CA" >> "$LOG"
stop $c
for c in tls13-resumed tls12-resumed; do   # drop every line of the second client random seen
  awk '$1 !~ /^#/ && NF == 3 && !($2 in seen) { seen[$2] = ++n } !($1 !~ /^#/ && NF == 3 && seen[$2] == 2)' \
    "$OUT/$c.keys" > "$OUT/$c.partial.keys"
done

# A TLS 1.3 connection (one GET) whose key log is thrown away: no .keys file at all.
c=no-keys; start $c "$TLS_PORT"
O=(-sS --max-time 20 --cacert "$CA" --http1.1 -w "$WO")
keys $c curl "${O[@]}" "${N[@]}" "$T/hello.txt" >> "$LOG"
stop $c nokeys

# The same request captured, with the key log of another, uncaptured run of the same command:
# wrong-keys.keys is well formed but matches no client random in wrong-keys.pcap.
c=wrong-keys; start $c "$TLS_PORT"
keys $c curl "${O[@]}" "${N[@]}" "$T/hello.txt" >> "$LOG"
stop $c nokeys
keys other curl "${O[@]}" "${N[@]}" "$T/hello.txt" >> "$LOG"
cp "$TMP/other.keys" "$OUT/wrong-keys.keys"

# Cut captures (editcap -r keeps the listed frames):
# cut-h2-tls-no-handshake: curl-h2-tls13-aes256 from the first frame with HTTP/2 in it, so the
#   ClientHello/ServerHello are gone (the full key log is beside it: it cannot be used).
first=$(tshark -r "$OUT/curl-h2-tls13-aes256.pcap" -o "tls.keylog_file:$OUT/curl-h2-tls13-aes256.keys" -Y http2 -T fields -e frame.number | head -1)
total=$(capinfos -c -M "$OUT/curl-h2-tls13-aes256.pcap" | awk '/Number of packets/ {print $NF}')
editcap -r "$OUT/curl-h2-tls13-aes256.pcap" "$OUT/cut-h2-tls-no-handshake.pcap" "$first-$total"
cp "$OUT/curl-h2-tls13-aes256.keys" "$OUT/cut-h2-tls-no-handshake.keys"
echo "== cut-h2-tls-no-handshake: frames $first-$total of curl-h2-tls13-aes256" >> "$LOG"
# cut-h2c-hpack-lost: four h2c requests one after another on one connection; the capture keeps
#   the frames from the second request's HEADERS on, so the connection preface, both SETTINGS and
#   the first request (which filled curl's HPACK dynamic table) are gone.
c=h2c-four-requests; start $c "$H2C_PORT"
timeout 20 python3 tools/h2c_client.py 127.0.0.1 "$H2C_PORT" GET:/hello.txt GZ:/style.css GZ:/data/items.json GET:/index.html >> "$LOG"
stop $c nokeys
second=$(tshark -r "$OUT/$c.pcap" -d "tcp.port==$H2C_PORT,http2" -Y 'http2.type == 1 && tcp.dstport == '"$H2C_PORT" -T fields -e frame.number | sed -n 2p)
total=$(capinfos -c -M "$OUT/$c.pcap" | awk '/Number of packets/ {print $NF}')
editcap -r "$OUT/$c.pcap" "$OUT/cut-h2c-hpack-lost.pcap" "$second-$total"
rm "$OUT/$c.pcap"
echo "== cut-h2c-hpack-lost: frames $second-$total of the four-request h2c capture" >> "$LOG"

# Decryption secrets block: curl-h2-tls13-aes256's traffic with its key log inside the pcapng.
editcap --inject-secrets "tls,$OUT/curl-h2-tls13-aes256.keys" "$OUT/curl-h2-tls13-aes256.pcap" "$OUT/curl-h2-tls13-aes256-dsb.pcapng"

chmod 644 "$OUT"/*
cat "$LOG"
for f in "$OUT"/*.pcap "$OUT"/*.pcapng; do
  printf '%-40s %7d bytes %4d packets\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(capinfos -c -M "$f" | awk '/Number of packets/ {print $NF}')"
done
du -sh "$OUT"
