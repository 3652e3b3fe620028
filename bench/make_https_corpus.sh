#!/usr/bin/env bash
# Benchmark corpus (not a test): real HTTPS traffic on loopback, and the same request mix in
# cleartext, for bench/https.sh.
#
#   bench/make_https_corpus.sh [SIZE_MB]      (default 600; CORPUS_DIR default /work/corpus-https)
#
# Makes in $CORPUS_DIR, outside the repository:
#   https.pcap       TLS 1.3 and 1.2, HTTP/1.1 and HTTP/2 (ALPN), AES-128/256-GCM and ChaCha20-Poly1305
#   https.keys       its NSS key log (SSLKEYLOGFILE of every curl process in it)
#   cleartext.pcap   the same rounds of the same request mix over HTTP/1.1 and h2c
#   *.tcpdump.log, *.client.log, https.counts (tshark's count, if run with `count`)
# Server: nginx on 127.0.0.1 (a self-signed RSA + ECDSA certificate made by openssl here), static
#   files of ../shared/captures/corpus_tools/gen_www.py (2 KB..420 KB; gzip on for text, so
#   chunked + gzip responses), /api/ answering POST 201, PUT 200, DELETE 204, 304s, 404s.
#   Ports: $TLS_PORT TLS (h2 + http/1.1), $H1_PORT HTTP/1.1, $H2C_PORT h2c (prior knowledge).
# Clients, per round: one curl process per TLS variant below, each running $PER_CURL transfers
#   of bench/gen-https-mix.py's mix from a -K config on one connection (h2 variants with
#   --parallel: up to 8 streams in flight), plus $SHORT short connections (2 transfers each,
#   one TLS handshake each; rotating over the variants). The cleartext capture runs the same number of rounds: the h1
#   variants' configs with http:// URLs through curl, and the h2 variants' GETs and POSTs through
#   h2load over h2c (curl 7.88.1 cannot reuse a prior-knowledge connection, curl issue #10634;
#   h2load sends only GET and POST, so PUTs go as POSTs and DELETEs are left out there; the
#   short h2c connections are h2load too).
# Capture: tcpdump -i lo -s 0 -B 262144 (KiB) on the three ports; kernel drops are reported.
# Bounded: every curl has --max-time, every h2load a fixed -n and `timeout 300`, rounds stop at SIZE_MB, MAX_ROUNDS or
# MAX_SECONDS (default 1500) of wall time, whichever comes first.
# Needs root, nginx-light, tcpdump, curl, nghttp2-client (h2load), tshark (capinfos), openssl, python3.
#
#   bench/make_https_corpus.sh count     tshark's count of HTTP messages in https.pcap (slow)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
C=${CORPUS_DIR:-/work/corpus-https}
TLS_PORT=${TLS_PORT:-18543}
H1_PORT=${H1_PORT:-18580}
H2C_PORT=${H2C_PORT:-18581}
PER_CURL=${PER_CURL:-400}
SHORT=${SHORT:-20}
MAX_ROUNDS=${MAX_ROUNDS:-60}
MAX_SECONDS=${MAX_SECONDS:-1500}
ARG=${1:-600}

count() {  # requests and responses as tshark sees them, with the key log; one pass, minutes.
  # Out-of-order reassembly on: loopback captures have segments captured out of order.
  local f=$C/https.pcap
  tshark -r "$f" -o "tls.keylog_file:$C/https.keys" -o tcp.reassemble_out_of_order:TRUE -d "tcp.port==$TLS_PORT,tls" -Y 'http || http2' -T fields \
    -E occurrence=a -E aggregator=';' -e http.request.method -e http.response.code -e http2.headers.method -e http2.headers.status 2> /dev/null |
    awk -F'\t' -v sz="$(stat -c %s "$f")" -v pk="$(capinfos -c -M "$f" | awk '/Number of packets/ {print $NF}')" '
      function n(s,  a) { return s == "" ? 0 : split(s, a, ";") }
      { r1 += n($1); s1 += n($2); r2 += n($3); s2 += n($4) }
      END { printf "file=https.pcap bytes=%d packets=%d http1_requests=%d http1_responses=%d http2_requests=%d http2_responses=%d\n", sz, pk, r1, s1, r2, s2 }' | tee "$C/https.counts"
}
if [ "$ARG" = count ]; then count; exit 0; fi
SIZE_MB=$ARG
for b in nginx tcpdump curl h2load capinfos openssl python3; do
  command -v $b > /dev/null || { echo "missing $b (apt-get install -y nginx-light tcpdump curl nghttp2-client tshark)"; exit 1; }
done

mkdir -p "$C/srv/run" "$C/srv/certs" "$C/srv/mix"
chmod 755 "$C" "$C/srv"
NGX='' TD=''
cleanup() {
  for p in $TD $NGX; do kill "$p" 2> /dev/null || true; done
  for p in $TD $NGX; do wait "$p" 2> /dev/null || true; done
}
trap cleanup EXIT

# --- server --------------------------------------------------------------------------------------
python3 "$SHARED/captures/corpus_tools/gen_www.py" "$C/srv/www"
S=$C/srv CA=$C/srv/certs/ca.pem
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$S/certs/rsa.key" -out "$S/certs/rsa.crt" 2> /dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$S/certs/ecdsa.key" -out "$S/certs/ecdsa.crt" 2> /dev/null
cat "$S/certs/rsa.crt" "$S/certs/ecdsa.crt" > "$CA"
cat > "$S/nginx.conf" <<EOF
worker_processes 1;
pid $S/run/nginx.pid;
error_log $S/run/error.log warn;
daemon off;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  keepalive_timeout 65;
  keepalive_requests 100000;
  if_modified_since before;
  client_body_temp_path $S/run/body; proxy_temp_path $S/run/proxy; fastcgi_temp_path $S/run/fcgi;
  uwsgi_temp_path $S/run/uwsgi; scgi_temp_path $S/run/scgi;
  gzip on; gzip_min_length 256; gzip_comp_level 1; gzip_vary on;
  gzip_types text/plain text/css application/javascript application/json;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_ciphers HIGH:!aNULL:!MD5;
  ssl_certificate $S/certs/rsa.crt;   ssl_certificate_key $S/certs/rsa.key;
  ssl_certificate $S/certs/ecdsa.crt; ssl_certificate_key $S/certs/ecdsa.key;
  ssl_session_cache shared:TLS:4m;
  server {
    listen 127.0.0.1:$TLS_PORT ssl http2;
    listen 127.0.0.1:$H1_PORT;
    listen 127.0.0.1:$H2C_PORT http2;
    server_name localhost;
    root $S/www;
    location /api/ {
      default_type application/json;
      if (\$request_method = POST)   { return 201 '{"id":12345,"status":"created","links":{"self":"/api/items/12345"}}'; }
      if (\$request_method = DELETE) { return 204; }
      if (\$request_method = PUT)    { return 200 '{"id":12345,"status":"updated"}'; }
      try_files /data/items-4k.json =404;
    }
  }
}
EOF
nginx -p "$S" -c "$S/nginx.conf" -e "$S/run/error.log" & NGX=$!
T=https://localhost:$TLS_PORT H1=http://127.0.0.1:$H1_PORT H2C=http://127.0.0.1:$H2C_PORT
up=0
for i in $(seq 100); do
  if curl -sf -o /dev/null --max-time 1 --cacert "$CA" "$T/index.html" && curl -sf -o /dev/null --max-time 1 "$H1/index.html" \
    && curl -sf -o /dev/null --max-time 1 --http2-prior-knowledge "$H2C/index.html"; then up=1; break; fi
  sleep 0.1
done
[ $up = 1 ] || { echo "nginx did not start"; cat "$S/run/error.log"; exit 1; }

# --- client variants: name | protocol | curl option lines (for every block of its -K config) -----
VARIANTS=(
  "h1-tls13-aes128|h1|http1.1|tls13-ciphers = \"TLS_AES_128_GCM_SHA256\""
  "h1-tls12-chacha|h1|http1.1|tls-max = \"1.2\"|ciphers = \"ECDHE-RSA-CHACHA20-POLY1305\""
  "h1-tls12-aes256|h1|http1.1|tls-max = \"1.2\"|ciphers = \"ECDHE-ECDSA-AES256-GCM-SHA384\""
  "h2-tls13-chacha|h2|http2|tls13-ciphers = \"TLS_CHACHA20_POLY1305_SHA256\""
  "h2-tls13-aes256|h2|http2|tls13-ciphers = \"TLS_AES_256_GCM_SHA384\""
  "h2-tls12-aes128|h2|http2|tls-max = \"1.2\"|ciphers = \"ECDHE-RSA-AES128-GCM-SHA256\""
)
seed=1
for v in "${VARIANTS[@]}"; do
  IFS='|' read -r name proto opts <<< "$v"
  IFS='|' read -ra lines <<< "$opts"
  python3 "$ROOT/bench/gen-https-mix.py" "$T" "$S/bodies" "$PER_CURL" "$seed" "$S/mix/$name" "${lines[@]}" "cacert = \"$CA\""
  # the cleartext twin: same seed, same transfers
  python3 "$ROOT/bench/gen-https-mix.py" "$([ "$proto" = h1 ] && echo "$H1" || echo "$H2C")" "$S/bodies" "$PER_CURL" "$seed" "$S/mix/$name.clear" http1.1
  seed=$((seed + 1))
done

# --- capture -------------------------------------------------------------------------------------
size_mb() { echo $(( $(stat -c %s "$1") / 1048576 )); }
start_capture() {  # $1 = name
  rm -f "$C/$1.pcap"
  tcpdump -i lo -s 0 -B 262144 -w "$C/$1.pcap" "tcp and (port $TLS_PORT or port $H1_PORT or port $H2C_PORT)" 2> "$C/$1.tcpdump.log" & TD=$!
  for i in $(seq 100); do grep -q "listening on" "$C/$1.tcpdump.log" 2> /dev/null && { sleep 0.3; return 0; }; sleep 0.1; done
  echo "tcpdump did not start"; cat "$C/$1.tcpdump.log"; exit 1
}
stop_capture() {  # $1 = name
  sleep 1; kill -INT "$TD"; wait "$TD" || true; TD=
  grep -E "captured|received|dropped" "$C/$1.tcpdump.log" | sed "s/^/[$1] tcpdump: /"
  if grep -qE "^[1-9][0-9]* packets dropped by kernel" "$C/$1.tcpdump.log"; then echo "[$1] WARNING: kernel drops: capture has holes"; fi
}

tls_round() {  # $1 = round; appends client lines to https.client.log
  local L=$C/https.client.log v name proto opts
  for v in "${VARIANTS[@]}"; do
    IFS='|' read -r name proto opts <<< "$v"
    if [ "$proto" = h2 ]; then par=(--parallel --parallel-max 8); else par=(); fi
    SSLKEYLOGFILE=$C/https.keys curl -s "${par[@]}" --max-time 300 -K "$S/mix/$name.curl" >> "$L" 2> /dev/null || echo "curl $name rc=$?" >> "$L"
  done
  for i in $(seq "$SHORT"); do  # short connections: one handshake for two transfers, rotating over the variants
    IFS='|' read -r name proto opts <<< "${VARIANTS[$(( (i + $1) % ${#VARIANTS[@]} ))]}"
    case $name in
      *tls13-aes128) o=(--tls13-ciphers TLS_AES_128_GCM_SHA256) ;; *tls13-aes256) o=(--tls13-ciphers TLS_AES_256_GCM_SHA384) ;;
      *tls13-chacha) o=(--tls13-ciphers TLS_CHACHA20_POLY1305_SHA256) ;; *tls12-chacha) o=(--tls-max 1.2 --ciphers ECDHE-RSA-CHACHA20-POLY1305) ;;
      *tls12-aes256) o=(--tls-max 1.2 --ciphers ECDHE-ECDSA-AES256-GCM-SHA384) ;; *tls12-aes128) o=(--tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256) ;;
    esac
    if [ "$proto" = h2 ]; then o+=(--http2); else o+=(--http1.1); fi
    SSLKEYLOGFILE=$C/https.keys curl -s --max-time 20 --cacert "$CA" "${o[@]}" -w '%{http_code} %{http_version}\n' \
      --compressed -o /dev/null "$T/index.html" -o /dev/null "$T/data/items-16k.json" >> "$L" 2> /dev/null || echo "curl short rc=$?" >> "$L"
  done
}
clear_round() {
  local L=$C/cleartext.client.log v name proto opts
  for v in "${VARIANTS[@]}"; do
    IFS='|' read -r name proto opts <<< "$v"
    local m=$S/mix/$name.clear.h2load
    if [ "$proto" = h1 ]; then
      curl -s --max-time 300 -K "$S/mix/$name.clear.curl" >> "$L" 2> /dev/null || echo "curl $name rc=$?" >> "$L"
      continue
    fi
    # h2c: one connection per h2load run, 8 streams in flight, the URI lists in order
    local kind hdr
    for kind in plain gz ims; do
      [ -s "$m.$kind" ] || continue
      case $kind in
        plain) hdr=() ;; gz) hdr=(-H 'accept-encoding: gzip') ;;
        ims) hdr=(-H 'accept-encoding: gzip' -H 'if-modified-since: Sun, 01 Jan 2034 00:00:00 GMT') ;;
      esac
      timeout 300 h2load -c 1 -m 8 "${hdr[@]}" -n "$(wc -l < "$m.$kind")" -i "$m.$kind" >> "$L" 2>&1 || echo "h2load $name $kind rc=$?" >> "$L"
    done
    while read -r body n; do
      timeout 300 h2load -c 1 -m 8 -n "$n" -d "$body" -H 'content-type: application/json' "$H2C/api/items" >> "$L" 2>&1 || echo "h2load $name post rc=$?" >> "$L"
    done < "$m.posts"
  done
  for i in $(seq "$SHORT"); do  # the same short connections, h1 or h2c as in tls_round
    IFS='|' read -r name proto opts <<< "${VARIANTS[$(( (i + $1) % ${#VARIANTS[@]} ))]}"
    if [ "$proto" = h1 ]; then
      curl -s --max-time 20 --http1.1 -w '%{http_code} %{http_version}\n' --compressed \
        -o /dev/null "$H1/index.html" -o /dev/null "$H1/data/items-16k.json" >> "$L" 2> /dev/null || echo "curl short rc=$?" >> "$L"
    else
      timeout 20 h2load -c 1 -n 2 -H 'accept-encoding: gzip' "$H2C/index.html" "$H2C/data/items-16k.json" >> "$L" 2>&1 || echo "h2load short rc=$?" >> "$L"
    fi
  done
}

rm -f "$C/https.keys" "$C/https.client.log" "$C/cleartext.client.log"
start_capture https
round=0 t0=$SECONDS
while [ "$(size_mb "$C/https.pcap")" -lt "$SIZE_MB" ] && [ $round -lt "$MAX_ROUNDS" ] && [ $((SECONDS - t0)) -lt "$MAX_SECONDS" ]; do
  round=$((round + 1))
  tls_round $round
  echo "[https] round $round: $(size_mb "$C/https.pcap") MB after $((SECONDS - t0)) s"
done
stop_capture https
echo "[https] rounds=$round size=$(size_mb "$C/https.pcap") MB in $((SECONDS - t0)) s; client transfers=$(grep -cE '^[0-9]{3} ' "$C/https.client.log")" \
  "(status 000 = failed: $(grep -c '^000 ' "$C/https.client.log" || true)); curl errors: $(grep -c 'rc=' "$C/https.client.log" || true);" \
  "key log lines=$(wc -l < "$C/https.keys")"

start_capture cleartext
t1=$SECONDS
for r in $(seq "$round"); do clear_round "$r"; done
stop_capture cleartext
echo "[cleartext] rounds=$round size=$(size_mb "$C/cleartext.pcap") MB in $((SECONDS - t1)) s; curl transfers=$(grep -cE '^[0-9]{3} ' "$C/cleartext.client.log")," \
  "h2load requests done=$(awk '/^requests:/ {s += $6} END {print s + 0}' "$C/cleartext.client.log")"
for f in https cleartext; do
  echo "$f.pcap: $(stat -c %s "$C/$f.pcap") bytes, $(capinfos -c -M "$C/$f.pcap" | awk '/Number of packets/ {print $NF}') packets"
done
