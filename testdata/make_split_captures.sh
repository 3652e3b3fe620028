#!/usr/bin/env bash
# Pieces of a real capture, for tests/capture_set.rs: what `tcpdump -C`/`-G` rotation leaves,
# made here with editcap from a committed capture (needs tshark's editcap).
#
#   testdata/make_split_captures.sh
#
# pcap/split/h2_0000N.pcapng: curl over TLS 1.3 and HTTP/2 (pcap/tls/curl-h2-tls13-aes256.pcap)
# cut every 8 packets into pcapng files; its key log goes into the first piece as a Decryption
# Secrets Block (editcap --inject-secrets), so only that piece holds the keys, while the
# connection runs through all four.
set -euo pipefail
cd "$(dirname "$0")/pcap"
mkdir -p split
rm -f split/h2_*.pcapng
editcap -F pcapng -c 8 tls/curl-h2-tls13-aes256.pcap split/h2.pcapng
first=$(ls split/h2_00000_*.pcapng)
editcap --inject-secrets tls,tls/curl-h2-tls13-aes256.keys "$first" split/with-keys.pcapng
mv split/with-keys.pcapng "$first"
# Stable names: editcap adds each piece's first timestamp.
for f in split/h2_*_*.pcapng; do mv "$f" "$(echo "$f" | sed -E 's/(h2_[0-9]{5})_[0-9]+\.pcapng/\1.pcapng/')"; done
ls -l split
