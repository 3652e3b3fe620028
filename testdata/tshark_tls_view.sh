#!/usr/bin/env bash
# Records tshark's view of each TLS / HTTP/2 capture in pcap/tls/ (made by ./make_tls_captures.sh)
# in expected/tls/<case>.tshark.tsv, so tests can cross-check wirecap against tshark without
# needing tshark. One line per HTTP message (HTTP/1.x and HTTP/2) in frame order:
#
#   frame  tcp_stream  version  h2_stream  method  target  status  body_len  body_sha256
#
# (tab-separated; empty = absent; target is the request URI or :path; the body is the one tshark
# shows after TCP/TLS reassembly, de-chunking and content decoding, see tools/tshark_messages.py
# for which fields that is). Lines starting with `#` are comments: the tshark version and the
# options used. A case with no HTTP message has only the comment lines.
#
# Keys: `-o tls.keylog_file:pcap/tls/<case>.keys` when that file exists (none for no-keys and the
# cleartext cases; the -dsb.pcapng carries its own). Every <case>.partial.keys is viewed too, as
# expected/tls/<case>.partial.tshark.tsv. Cleartext HTTP/2 ports need decode-as (tshark's HTTP/2
# heuristics are off): the prior-knowledge port as http2, the upgrade port as http.
# Options: http.decompress_body, http.dechunk_body and the TCP/TLS reassembly ones are tshark's
# defaults (TRUE) and are given explicitly; tcp.reassemble_out_of_order is not (FALSE in 4.0, and
# then tshark loses the TLS records after a segment captured out of order, as loopback captures
# sometimes have). tshark 4.0 has no http2.decompress_body preference: it always decodes.
set -euo pipefail
cd "$(dirname "$0")"
H2C_PORT=${H2C_PORT:-18444}
UPG_PORT=${UPG_PORT:-18447}
TLS_PORT=${TLS_PORT:-18443}
mkdir -p expected/tls
VERSION=$(tshark --version 2> /dev/null | head -1)
echo "$VERSION"

view() {  # $1 = capture, $2 = output, $3 = key log or empty, $4 = reassemble out of order
  local opts=(-o http.decompress_body:TRUE -o http.dechunk_body:TRUE -o http.desegment_body:TRUE
    -o tcp.desegment_tcp_streams:TRUE -o "tcp.reassemble_out_of_order:${4:-TRUE}" -o tls.desegment_ssl_records:TRUE -o tls.desegment_ssl_application_data:TRUE
    -d "tcp.port==$TLS_PORT,tls" -d "tcp.port==$H2C_PORT,http2" -d "tcp.port==$UPG_PORT,http")
  [ -n "$3" ] && opts+=(-o "tls.keylog_file:$3")
  {
    echo "# $VERSION"
    echo "# tshark -r $1 ${opts[*]} -Y 'http || http2' -T json --no-duplicate-keys -x | tools/tshark_messages.py"
    echo "# frame	tcp_stream	version	h2_stream	method	target	status	body_len	body_sha256"
    tshark -r "$1" "${opts[@]}" -Y 'http || http2' -T json --no-duplicate-keys -x 2> /dev/null | python3 tools/tshark_messages.py
  } > "$2"
  echo "$(basename "$2"): $(grep -vc '^#' "$2") HTTP messages"
}

for f in pcap/tls/*.pcap pcap/tls/*.pcapng; do
  case=$(basename "$f"); case=${case%.*}
  keys=pcap/tls/$case.keys
  [ -f "$keys" ] || keys=
  view "$f" "expected/tls/$case.tshark.tsv" "$keys"
  # A capture with a gap: out-of-order reassembly waits for the lost bytes for ever, so tshark
  # shows nothing after them; in order (its default) it reads on at the next segment.
  case $case in gap-*) view "$f" "expected/tls/$case.in-order.tshark.tsv" "$keys" FALSE ;; esac
  if [ -f "pcap/tls/$case.partial.keys" ]; then
    view "$f" "expected/tls/$case.partial.tshark.tsv" "pcap/tls/$case.partial.keys"
  fi
done
