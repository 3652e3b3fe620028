#!/usr/bin/env python3
"""Builds testdata/bad/: malformed inputs, each made by cutting or corrupting a real file of
testdata/ (captures from pcap/, the HAR of har/, the Hoverfly and http-types samples), so that a
rerun gives the same bytes. Each case is one file plus a line of cases.tsv:

    FILE <TAB> EXTRA CONVERT ARGUMENTS <TAB> WHAT IS WRONG WITH IT

tests/bad_inputs.rs runs `wirecap convert FILE ARGS -o OUT` on every case and compares what it
says (exit status, stderr, lines written) with testdata/bad/expected.txt.

Run from anywhere: `python3 testdata/bad/make_bad.py` (Python 3.8+, standard library only).
Captures are edited at the TCP level where a case needs a different payload length: IP total
length, sequence and acknowledgement numbers of the later packets and both checksums are fixed
so that only the intended fault remains.
"""

import base64
import gzip
import json
import os
import random
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.dirname(HERE)
CASES = []


def src(path):
    with open(os.path.join(TESTDATA, path), "rb") as f:
        return f.read()


def case(name, data, why, args=""):
    """Writes testdata/bad/NAME and records it."""
    assert "\t" not in why and "\t" not in args
    path = os.path.join(HERE, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(path, "wb") as f:
        f.write(data)
    CASES.append((name, args, why))


# ---------------------------------------------------------------------------------------------
# Legacy pcap

def pcap_split(data):
    """(global header, [(record header, packet bytes)]) of a little-endian pcap."""
    assert data[:4] == b"\xd4\xc3\xb2\xa1", "little-endian microsecond pcap expected"
    off, records = 24, []
    while off < len(data):
        hdr = data[off:off + 16]
        caplen = struct.unpack("<I", hdr[8:12])[0]
        records.append((hdr, data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return data[:24], records


def pcap_join(header, records):
    out = bytearray(header)
    for hdr, pkt in records:
        hdr = bytearray(hdr)
        hdr[8:12] = struct.pack("<I", len(pkt))
        hdr[12:16] = struct.pack("<I", max(len(pkt), struct.unpack("<I", hdr[12:16])[0]))
        out += hdr + pkt
    return bytes(out)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def fix_ipv4_tcp(frame):
    """Recomputes the IPv4 total length and both checksums of an Ethernet/IPv4/TCP frame."""
    f = bytearray(frame)
    ip = 14
    ihl = (f[ip] & 0x0F) * 4
    f[ip + 2:ip + 4] = struct.pack("!H", len(f) - ip)
    f[ip + 10:ip + 12] = b"\0\0"
    f[ip + 10:ip + 12] = struct.pack("!H", checksum(bytes(f[ip:ip + ihl])))
    tcp = ip + ihl
    f[tcp + 16:tcp + 18] = b"\0\0"
    pseudo = bytes(f[ip + 12:ip + 20]) + struct.pack("!BBH", 0, 6, len(f) - tcp)
    f[tcp + 16:tcp + 18] = struct.pack("!H", checksum(pseudo + bytes(f[tcp:])))
    return bytes(f)


def tcp_parts(frame):
    """(headers up to the payload, payload, source port) of an Ethernet/IPv4/TCP frame."""
    ip = 14
    ihl = (frame[ip] & 0x0F) * 4
    tcp = ip + ihl
    off = (frame[tcp + 12] >> 4) * 4
    return frame[:tcp + off], frame[tcp + off:], struct.unpack("!H", frame[tcp:tcp + 2])[0]


def edit_payload(records, n, edit):
    """Replaces the TCP payload of packet n (1-based) by edit(payload) and shifts the sequence
    numbers of that direction, and the acknowledgements of the other, in the packets after it."""
    head, payload, sport = tcp_parts(records[n - 1][1])
    new = edit(payload)
    delta = len(new) - len(payload)
    out = []
    for i, (hdr, frame) in enumerate(records, 1):
        if i == n:
            frame = head + new
        elif i > n and delta:
            h, p, port = tcp_parts(frame)
            h = bytearray(h)
            tcp = 14 + (h[14] & 0x0F) * 4
            field = tcp + 4 if port == sport else tcp + 8
            value = struct.unpack("!I", h[field:field + 4])[0]
            h[field:field + 4] = struct.pack("!I", (value + delta) % (1 << 32))
            frame = bytes(h) + p
        else:
            out.append((hdr, frame))
            continue
        out.append((hdr, fix_ipv4_tcp(frame)))
    return out


def replace_once(old, new):
    def edit(payload):
        assert payload.count(old) == 1, (old, payload[:80])
        return payload.replace(old, new)
    return edit


def poke(records, n, at, value):
    """Overwrites bytes at offset `at` of packet n (1-based), checksums left as they are."""
    hdr, frame = records[n - 1]
    frame = bytearray(frame)
    frame[at:at + len(value)] = value
    records = list(records)
    records[n - 1] = (hdr, bytes(frame))
    return records


def make_pcap():
    keep = src("pcap/curl-keepalive.pcap")
    header, recs = pcap_split(keep)
    offsets, off = [], 24
    for hdr, pkt in recs:
        offsets.append(off)
        off += 16 + len(pkt)

    case("pcap/empty.pcap", b"", "zero bytes")
    case("pcap/magic-only.pcap", keep[:4], "the pcap magic and nothing else")
    case("pcap/global-header-cut.pcap", keep[:23], "global header cut one byte short (23 of 24)")
    case("pcap/record-header-cut.pcap", keep[:offsets[7] + 10],
         "7 whole records, then 10 of the 16 bytes of record 8's header")
    case("pcap/record-data-cut.pcap", keep[:offsets[5] + 16 + 100],
         "cut 100 bytes into packet 6 (the first response head)")
    case("pcap/caplen-huge.pcap",
         keep[:offsets[9] + 8] + struct.pack("<I", 0xFFFFFFF0) + keep[offsets[9] + 12:],
         "record 10 says it captured 4 GB")
    case("pcap/caplen-past-end.pcap",
         keep[:offsets[74] + 8] + struct.pack("<I", 70000) + keep[offsets[74] + 12:],
         "the last record says 70000 bytes; the file ends 66 bytes later")
    h = bytearray(header)
    h[16:20] = struct.pack("<I", 64)
    case("pcap/snaplen-smaller-than-records.pcap", bytes(h) + keep[24:],
         "snaplen 64 in the header, records up to 686 bytes")
    h = bytearray(header)
    h[16:20] = struct.pack("<I", 0)
    case("pcap/snaplen-zero.pcap", bytes(h) + keep[24:], "snaplen 0 in the header")
    origlen = bytearray(keep)
    origlen[offsets[3] + 12:offsets[3] + 16] = struct.pack("<I", 10)
    case("pcap/origlen-under-caplen.pcap", bytes(origlen),
         "record 4 captured 187 bytes of a 10-byte packet")
    h = bytearray(header)
    h[4:6] = struct.pack("<H", 9)
    case("pcap/version-9.pcap", bytes(h) + keep[24:], "major version 9 (only 2 exists)")
    h = bytearray(header)
    h[20:24] = struct.pack("<I", 12345)
    case("pcap/link-type-unknown.pcap", bytes(h) + keep[24:], "link type 12345")
    h = bytearray(header)
    h[20:24] = struct.pack("<I", 101)
    case("pcap/link-type-raw-on-ethernet.pcap", bytes(h) + keep[24:],
         "link type 101 (raw IP) over Ethernet frames")
    case("pcap/byte-order-swapped.pcap", b"\xa1\xb2\xc3\xd4" + keep[4:],
         "big-endian magic over a little-endian file")
    case("pcap/records-reversed.pcap", pcap_join(header, list(reversed(recs))),
         "the 75 records in reverse order")
    rng = random.Random(16)
    garbage = [(hdr, bytes(rng.randrange(256) for _ in pkt)) for hdr, pkt in recs[:20]]
    case("pcap/random-packet-bytes.pcap", pcap_join(header, garbage),
         "20 records of seeded random bytes")
    case("pcap/gzip-cut.pcap.gz", gzip.compress(keep, mtime=0)[:2000],
         "gzip of the capture cut at 2000 bytes")
    bad_crc = bytearray(gzip.compress(keep, mtime=0))
    bad_crc[-8] ^= 0xFF
    case("pcap/gzip-bad-crc.pcap.gz", bytes(bad_crc), "gzip of the capture with a wrong CRC32")

    # Link, IP and TCP headers (packet 4 is the first GET, packet 3 a bare ACK).
    case("ip/ethertype-unknown.pcap", pcap_join(header, poke(recs, 4, 12, b"\x12\x34")),
         "packet 4 has EtherType 0x1234")
    case("ip/ipv4-as-ipv6.pcap", pcap_join(header, poke(recs, 4, 12, b"\x86\xdd")),
         "packet 4 is IPv4 labelled IPv6")
    case("ip/ipv4-version-7.pcap", pcap_join(header, poke(recs, 4, 14, b"\x75")),
         "packet 4's IP version is 7")
    case("ip/ipv4-ihl-3.pcap", pcap_join(header, poke(recs, 4, 14, b"\x43")),
         "packet 4's IPv4 header length is 12 bytes")
    case("ip/ipv4-total-length-over-frame.pcap",
         pcap_join(header, poke(recs, 4, 16, b"\xff\xff")),
         "packet 4's IPv4 total length is 65535 in a 187-byte frame")
    case("ip/ipv4-total-length-under-header.pcap",
         pcap_join(header, poke(recs, 4, 16, b"\x00\x0a")),
         "packet 4's IPv4 total length is 10")
    case("ip/ipv4-fragment-never-completed.pcap",
         pcap_join(header, poke(recs, 4, 20, b"\x20\x00")),
         "packet 4 is a first fragment (more fragments) whose rest never comes")
    case("ip/ipv4-protocol-99.pcap", pcap_join(header, poke(recs, 4, 23, b"\x63")),
         "packet 4 carries IP protocol 99 instead of TCP")
    frame_cut = list(recs)
    frame_cut[3] = (frame_cut[3][0], frame_cut[3][1][:40])
    case("ip/frame-cut-in-tcp-header.pcap", pcap_join(header, frame_cut),
         "packet 4 captured 40 bytes only (snaplen inside the TCP header)")
    case("tcp/data-offset-2.pcap", pcap_join(header, poke(recs, 4, 46, b"\x20")),
         "packet 4's TCP header length is 8 bytes")
    case("tcp/data-offset-past-segment.pcap", pcap_join(header, poke(recs, 3, 46, b"\xf0")),
         "packet 3's TCP header length is 60 bytes in a 32-byte segment")
    seq = struct.unpack("!I", recs[9][1][38:42])[0]
    case("tcp/sequence-jump.pcap",
         pcap_join(header, poke(recs, 10, 38, struct.pack("!I", (seq + 100000) % (1 << 32)))),
         "packet 10 (the second GET) jumps 100000 bytes ahead in sequence")
    case("tcp/only-syns.pcap", pcap_join(header, recs[:2] * 40),
         "the SYN and SYN-ACK repeated 40 times, no data")

    # HTTP/1 inside a real capture (packet 6 is the first response head, 11-14 a chunked
    # response, 4 the first request).
    case("http/chunk-size-not-hex.pcap",
         pcap_join(header, edit_payload(recs, 12, replace_once(b"64\r\n", b"zz\r\n"))),
         "packet 12's chunk size is zz")
    case("http/chunk-size-overflow.pcap",
         pcap_join(header, edit_payload(recs, 12, replace_once(b"64\r\n", b"1" + b"0" * 20 + b"\r\n"))),
         "packet 12's chunk size is 1 followed by 20 zeros (hex)")
    case("http/chunk-size-past-stream.pcap",
         pcap_join(header, edit_payload(recs, 13, replace_once(b"12\r\n", b"fff\r\n"))),
         "packet 13's chunk announces 4095 bytes; the connection carries 640 more")
    case("http/content-length-not-a-number.pcap",
         pcap_join(header, edit_payload(recs, 6, replace_once(b"Content-Length: 118", b"Content-Length: 1x8"))),
         "packet 6 says Content-Length: 1x8")
    case("http/content-length-twice.pcap",
         pcap_join(header, edit_payload(recs, 6, replace_once(b"Content-Length: 118\r\n", b"Content-Length: 118\r\nContent-Length: 7\r\n"))),
         "packet 6 has Content-Length 118 and 7")
    case("http/content-length-u64-overflow.pcap",
         pcap_join(header, edit_payload(recs, 6, replace_once(b"Content-Length: 118", b"Content-Length: 99999999999999999999999"))),
         "packet 6's Content-Length does not fit 64 bits")
    flood = b"".join(b"X-Flood-%d: x\r\n" % i for i in range(3000))
    case("http/header-flood-request.pcap",
         pcap_join(header, edit_payload(recs, 4, replace_once(b"Accept: */*\r\n", b"Accept: */*\r\n" + flood))),
         "the first GET carries 3000 extra headers (about 50 KB)")
    case("http/header-value-60k.pcap",
         pcap_join(header, edit_payload(recs, 6, replace_once(b"Server: pyapi/1.0", b"Server: " + b"p" * 60000))),
         "packet 6's Server header is 60000 bytes long")
    case("http/status-code-not-digits.pcap",
         pcap_join(header, edit_payload(recs, 6, replace_once(b"HTTP/1.1 200 OK", b"HTTP/1.1 2x0 OK"))),
         "packet 6's status line is HTTP/1.1 2x0 OK")
    case("http/request-line-nul.pcap",
         pcap_join(header, edit_payload(recs, 4, replace_once(b"GET /py/items?page=1", b"G\0T /py/items?page=1"))),
         "the first request's method is G, NUL, T")
    case("http/response-not-http.pcap",
         pcap_join(header, edit_payload(recs, 6, lambda p: b"SSH-2.0-OpenSSH_9.2\r\n" + p[21:])),
         "packet 6 starts SSH-2.0-OpenSSH_9.2 instead of a status line")
    case("http/header-without-colon.pcap",
         pcap_join(header, edit_payload(recs, 6, replace_once(b"Server: pyapi/1.0", b"Server pyapi/1.0"))),
         "packet 6 has a header line with no colon")


# ---------------------------------------------------------------------------------------------
# pcapng

def ng_split(data):
    blocks, off = [], 0
    while off < len(data):
        length = struct.unpack("<I", data[off + 4:off + 8])[0]
        blocks.append(bytearray(data[off:off + length]))
        off += length
    return blocks


def ng_block(kind, body):
    length = 12 + len(body)
    return struct.pack("<II", kind, length) + body + struct.pack("<I", length)


def make_pcapng():
    ng = src("pcap/http10-any.pcapng")
    blocks = ng_split(ng)
    join = lambda bs: b"".join(bytes(b) for b in bs)
    assert struct.unpack("<I", blocks[1][:4])[0] == 1 and struct.unpack("<I", blocks[2][:4])[0] == 6
    shb, idb = blocks[0], blocks[1]
    case("pcapng/section-header-cut.pcapng", ng[:20], "20 bytes of the section header block")
    bad = bytearray(shb)
    bad[8:12] = b"\x01\x02\x03\x04"
    case("pcapng/byte-order-magic-wrong.pcapng", join([bad] + blocks[1:]),
         "section header with byte-order magic 0x04030201")
    bs = [b[:] for b in blocks]
    bs[3][4:8] = struct.pack("<I", len(bs[3]) + 1)
    case("pcapng/block-length-not-multiple-of-4.pcapng", join(bs),
         "block 4 says it is one byte longer, not a multiple of 4")
    bs = [b[:] for b in blocks]
    bs[3][-4:] = struct.pack("<I", 4)
    case("pcapng/block-trailer-mismatch.pcapng", join(bs),
         "block 4's trailing length says 4")
    bs = [b[:] for b in blocks]
    bs[3][4:8] = struct.pack("<I", 0xFFFFFFF0)
    case("pcapng/block-length-huge.pcapng", join(bs), "block 4 says it is 4 GB")
    bs = [b[:] for b in blocks]
    bs[3][4:8] = struct.pack("<I", 8)
    case("pcapng/block-length-under-minimum.pcapng", join(bs),
         "block 4 says it is 8 bytes (a block is at least 12)")
    bs = [b[:] for b in blocks]
    bs[5][8:12] = struct.pack("<I", 7)
    case("pcapng/unknown-interface.pcapng", join(bs),
         "packet block 5 names interface 7 of 1")
    case("pcapng/no-interface-block.pcapng", join([shb] + blocks[2:]),
         "no interface description block: packets on no interface")
    bs = [b[:] for b in blocks]
    bs[2][20:24] = struct.pack("<I", 5000)
    case("pcapng/packet-caplen-past-block.pcapng", join(bs),
         "packet block 3 says 5000 captured bytes in a 108-byte block")
    case("pcapng/file-cut-in-packet.pcapng", ng[:sum(len(b) for b in blocks[:6]) + 30],
         "cut 30 bytes into block 7")
    custom = ng_block(0x0BAD0BAD, b"\x00" * 16)
    case("pcapng/unknown-block-type.pcapng", join(blocks[:3]) + custom + join(blocks[3:]),
         "a block of unknown type 0x0bad0bad between packets (pcapng says skip it)")
    bad = bytearray(idb)
    bad[8:10] = struct.pack("<H", 12345)
    case("pcapng/interface-link-type-unknown.pcapng", join([shb, bad] + blocks[2:]),
         "the interface has link type 12345")
    # if_tsresol (option 9) 0x7f: 2^-127 seconds per unit; if_tsoffset (14) far in the future.
    opts_off = 16
    body = bytes(idb[8:opts_off])
    tsresol = struct.pack("<HH", 9, 1) + b"\x7f\0\0\0"
    end = struct.pack("<HH", 0, 0)
    case("pcapng/interface-tsresol-2-pow-127.pcapng",
         join([shb, ng_block(1, body + tsresol + end)] + blocks[2:]),
         "if_tsresol 2^-127 s per unit")
    tsoffset = struct.pack("<HHq", 14, 8, (1 << 63) - 1)
    case("pcapng/interface-tsoffset-huge.pcapng",
         join([shb, ng_block(1, body + tsoffset + end)] + blocks[2:]),
         "if_tsoffset 2^63-1 seconds")


# ---------------------------------------------------------------------------------------------
# JSON formats

def lines_of(path):
    return src(path).decode().splitlines()


def make_http_types():
    dump = lambda o: json.dumps(o, separators=(",", ":"))
    line = dump(json.loads(lines_of("http-types/py-recorder.jsonl")[0]))

    def variant(edit):
        o = json.loads(line)
        edit(o)
        return dump(o) + "\n"

    good = line + "\n"
    case("http-types/empty.jsonl", b"", "zero bytes")
    case("http-types/blank-lines-only.jsonl", "\n\n\n", "three empty lines")
    case("http-types/utf8-bom.jsonl", "\ufeff" + good + good, "a UTF-8 byte-order mark before line 1")
    case("http-types/utf16.jsonl", (good + good).encode("utf-16"), "UTF-16 with a byte-order mark")
    case("http-types/nul-in-line.jsonl", good + line[:40] + "\0" + line[40:] + "\n",
         "a NUL byte inside line 2, outside any string")
    case("http-types/status-fraction.jsonl",
         good + variant(lambda o: o["response"].__setitem__("statusCode", 200.5)),
         "line 2's statusCode is 200.5")
    case("http-types/status-1e400.jsonl",
         good + line.replace('"statusCode":200', '"statusCode":1e400') + "\n",
         "line 2's statusCode is 1e400")
    case("http-types/headers-as-pairs.jsonl",
         good + variant(lambda o: o["request"].__setitem__("headers", [["Accept", "*/*"]])),
         "line 2's request headers are a list of pairs")
    case("http-types/key-twice.jsonl",
         good + line.replace('"statusCode":200', '"statusCode":200,"statusCode":404') + "\n",
         "line 2 has statusCode twice")
    case("http-types/trailing-garbage.jsonl", good + line + " xyz\n", "line 2 ends with xyz")
    case("http-types/two-objects-one-line.jsonl", good + line + line + "\n",
         "line 2 holds two objects")
    case("http-types/nested-1000-deep.jsonl",
         good + line[:-1] + ',"meta":{"x":' + "[" * 1000 + "]" * 1000 + "}}\n",
         "line 2's meta nests arrays 1000 deep")
    case("http-types/lone-surrogate.jsonl",
         good + variant(lambda o: o["response"].__setitem__("body", "a\ud800b")),
         "line 2's body holds an unpaired UTF-16 surrogate")
    case("http-types/cr-separated.jsonl", line + "\r" + line + "\r",
         "two lines ended by bare carriage returns")
    case("http-types/request-a-string.jsonl",
         good + variant(lambda o: o.__setitem__("request", "GET /")), "line 2's request is a string")
    case("http-types/hoverfly-document-on-line-2.jsonl",
         good + dump(json.loads(src("hoverfly/sim-v5.3-labels.json"))) + "\n",
         "a Hoverfly simulation on line 2 of http-types")


def make_hoverfly():
    v5_text = src("hoverfly/sim-v5.3-labels.json").decode()
    v5 = json.loads(v5_text)
    v1 = json.loads(src("hoverfly/sim-v1-recordings-templates-delays.json"))
    v2 = json.loads(src("hoverfly/sim-v2-field-matchers.json"))
    recs = json.loads(src("hoverfly/legacy-records.json"))
    tmpl = json.loads(src("hoverfly/legacy-templates.json"))
    pretty = lambda o: json.dumps(o, indent=2) + "\n"

    def edited(doc, edit):
        d = json.loads(json.dumps(doc))
        edit(d)
        return pretty(d)

    pair = lambda d, i=0: d["data"]["pairs"][i]
    case("hoverfly/v5-cut-in-half.json", v5_text[:len(v5_text) // 2], "the v5.3 sample cut in half")
    case("hoverfly/v5-empty.json", b"", "zero bytes named .json")
    case("hoverfly/v5-trailing-garbage.json", v5_text + "}\n", "an extra } after the document")
    case("hoverfly/v5-pairs-object.json", edited(v5, lambda d: d["data"].__setitem__("pairs", {})),
         "data.pairs is an object")
    case("hoverfly/v5-request-null.json", edited(v5, lambda d: pair(d).__setitem__("request", None)),
         "pair 0's request is null")
    case("hoverfly/v5-status-negative.json",
         edited(v5, lambda d: pair(d)["response"].__setitem__("status", -1)), "pair 0's status is -1")
    case("hoverfly/v5-status-fraction.json",
         edited(v5, lambda d: pair(d)["response"].__setitem__("status", 200.5)),
         "pair 0's status is 200.5")
    case("hoverfly/v5-matcher-value-object.json",
         edited(v5, lambda d: pair(d)["request"]["path"][0].__setitem__("value", {"a": 1})),
         "pair 0's path matcher value is an object")
    case("hoverfly/v5-response-header-string.json",
         edited(v5, lambda d: pair(d)["response"].__setitem__("headers", {"Content-Type": "text/plain"})),
         "pair 0's response header value is a string, not a list")
    case("hoverfly/v5-nested-200-deep.json",
         v5_text.replace('"status": 200', '"x": ' + "[" * 200 + "]" * 200 + ', "status": 200', 1),
         "an array nested 200 deep inside pair 0's response")
    case("hoverfly/v5-utf8-bom.json", "\ufeff" + v5_text, "a UTF-8 byte-order mark first")
    case("hoverfly/v1-encoded-body-bad-padding.json",
         edited(v1, lambda d: pair(d)["response"].__setitem__("body", "eyJvcmRlcnMiOltdfQ=")),
         "v1 pair 0's base64 body lacks a padding byte")
    case("hoverfly/v1-encoded-body-url-alphabet.json",
         edited(v1, lambda d: pair(d)["response"].__setitem__("body", "-_-_")),
         "v1 pair 0's base64 body uses the URL-safe alphabet")
    case("hoverfly/v1-method-number.json",
         edited(v1, lambda d: pair(d)["request"].__setitem__("method", 7)),
         "v1 pair 0's method is a number")
    case("hoverfly/v2-query-matcher-string.json",
         edited(v2, lambda d: pair(d)["request"].__setitem__("query", "a=1")),
         "v2 pair 0's query is a string, not a field matcher")
    case("hoverfly/records-data-object.json",
         edited(recs, lambda d: d.__setitem__("data", {"pairs": d["data"]})),
         "an /api/records body whose data is an object", "--from hoverfly-v1-records")
    case("hoverfly/templates-encoded-body-bad.json",
         edited(tmpl, lambda d: (d["data"][0]["response"].__setitem__("encodedBody", True),
                                 d["data"][0]["response"].__setitem__("body", "%%%"))),
         "an /api/templates body with encodedBody and body %%%")


def make_har():
    har = json.loads(src("har/chromium-site.har"))
    # Three entries: the page, the base64 PNG and the query GET, so that each file stays small.
    har["log"]["entries"] = har["log"]["entries"][:3]
    text = json.dumps(har, indent=1) + "\n"
    pretty = lambda o: json.dumps(o, indent=1) + "\n"

    def edited(edit):
        d = json.loads(text)
        edit(d)
        return pretty(d)

    entry = lambda d, i: d["log"]["entries"][i]
    case("har/cut-in-half.har", text[:len(text) // 2], "the HAR cut in half")
    case("har/log-missing.har", pretty({"entries": har["log"]["entries"]}), "no log object")
    case("har/entries-object.har", edited(lambda d: d["log"].__setitem__("entries", {})),
         "log.entries is an object")
    case("har/status-string.har", edited(lambda d: entry(d, 2)["response"].__setitem__("status", "200")),
         "entry 2's status is the string 200")
    case("har/base64-invalid.har",
         edited(lambda d: entry(d, 1)["response"]["content"].__setitem__("text", "iVBOR%%%")),
         "entry 1's base64 content holds %")
    case("har/url-relative.har", edited(lambda d: entry(d, 2)["request"].__setitem__("url", "/api/items")),
         "entry 2's URL has no scheme or host")
    case("har/started-date-time-word.har",
         edited(lambda d: entry(d, 0).__setitem__("startedDateTime", "yesterday")),
         "entry 0's startedDateTime is yesterday")
    case("har/headers-object.har",
         edited(lambda d: entry(d, 0)["request"].__setitem__("headers", {"Accept": "*/*"})),
         "entry 0's request headers are an object")


def make_mixed():
    keep = src("pcap/curl-keepalive.pcap")
    jsonl = src("http-types/py-recorder.jsonl")
    case("mixed/pcap-named-json.json", keep, "a pcap capture with a .json name")
    case("mixed/hoverfly-named-pcap.pcap", src("hoverfly/sim-v5.3-labels.json"),
         "a Hoverfly simulation with a .pcap name")
    case("mixed/har-named-jsonl.jsonl", src("har/chromium-site.har"), "a HAR file with a .jsonl name")
    case("mixed/jsonl-read-as-hoverfly.jsonl", jsonl, "http-types read with --from hoverfly",
         "--from hoverfly")
    case("mixed/hoverfly-read-as-pcap.json", src("hoverfly/sim-v2-field-matchers.json"),
         "a Hoverfly simulation read with --from pcap", "--from pcap")
    case("mixed/pcap-then-jsonl.pcap", keep + jsonl, "a capture with http-types lines appended")
    case("mixed/two-pcaps-joined.pcap", keep + keep, "a capture appended to itself, header and all")
    case("mixed/pcapng-then-pcap.pcapng", src("pcap/http10-any.pcapng") + keep,
         "a pcapng capture with a legacy pcap appended")
    case("mixed/gzip-of-garbage.json.gz",
         gzip.compress(bytes(random.Random(7).randrange(256) for _ in range(500)), mtime=0),
         "gzip of 500 random bytes named .json.gz")


def main():
    for entry in os.listdir(HERE):
        path = os.path.join(HERE, entry)
        if os.path.isdir(path):
            shutil.rmtree(path)
    make_pcap()
    make_pcapng()
    make_http_types()
    make_hoverfly()
    make_har()
    make_mixed()
    with open(os.path.join(HERE, "cases.tsv"), "w") as f:
        f.write("# file\textra convert arguments\twhat is wrong (made by make_bad.py)\n")
        for name, args, why in CASES:
            f.write(f"{name}\t{args}\t{why}\n")
    print(f"{len(CASES)} cases")


if __name__ == "__main__":
    main()
