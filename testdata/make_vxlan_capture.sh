#!/usr/bin/env bash
# Remakes testdata/pcap/vxlan.pcap (see testdata/README.md): real HTTP over a real VXLAN
# tunnel (RFC 7348, Linux's vxlan driver, VNI 42, UDP 4789). Two network namespaces joined by a
# veth pair, a vxlan device over it in each; tools/api_server.py in one, curl in the other;
# tcpdump on the underlay veth, so every TCP segment is inside Ethernet in VXLAN in UDP in IPv4.
# Needs root, iproute2 with vxlan, tcpdump, curl, python3.
set -euo pipefail
cd "$(dirname "$0")"
A=wirecap-vxa B=wirecap-vxb PORT=${PORT:-18183}
TMP=$(mktemp -d)
SRV= CAP=
cleanup() {
  [ -n "$CAP" ] && kill -INT "$CAP" 2> /dev/null
  [ -n "$SRV" ] && kill "$SRV" 2> /dev/null
  ip netns del $A 2> /dev/null || true; ip netns del $B 2> /dev/null || true; rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add $A; ip netns add $B
ip link add vxa-veth type veth peer name vxb-veth
ip link set vxa-veth netns $A; ip link set vxb-veth netns $B
for ns in $A $B; do ip -n $ns link set lo up; done
ip -n $A addr add 10.200.0.1/24 dev vxa-veth; ip -n $A link set vxa-veth up
ip -n $B addr add 10.200.0.2/24 dev vxb-veth; ip -n $B link set vxb-veth up
ip -n $A link add vx42 type vxlan id 42 remote 10.200.0.2 dstport 4789 dev vxa-veth
ip -n $B link add vx42 type vxlan id 42 remote 10.200.0.1 dstport 4789 dev vxb-veth
ip -n $A addr add 10.201.0.1/24 dev vx42; ip -n $A link set vx42 up
ip -n $B addr add 10.201.0.2/24 dev vx42; ip -n $B link set vx42 up
ip netns exec $B python3 tools/api_server.py "$PORT" 10.201.0.2 & SRV=$!
U="http://10.201.0.2:$PORT"
for i in $(seq 50); do ip netns exec $A curl -s -o /dev/null --max-time 1 "$U/py/text" && break; sleep 0.2; done
ip netns exec $A tcpdump -i vxa-veth -s 0 -U -w pcap/vxlan.pcap "udp port 4789" 2> "$TMP/cap.log" & CAP=$!
for i in $(seq 100); do grep -qi "listening on" "$TMP/cap.log" && break; sleep 0.1; done
sleep 0.3
ip netns exec $A curl -s --max-time 10 -o /dev/null "$U/py/items?page=1&n=2" -o /dev/null "$U/py/text" \
  --next -s -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary '{"name":"over vxlan"}' "$U/py/items"
sleep 1; kill -INT "$CAP"; wait "$CAP" || true; CAP=
chmod 644 pcap/vxlan.pcap
ls -l pcap/vxlan.pcap
