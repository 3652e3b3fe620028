#!/usr/bin/env python3
"""Turns `tshark -T json --no-duplicate-keys -x` output (stdin) into one TSV line per HTTP message
(HTTP/1.x and HTTP/2), for tshark_tls_view.sh. Columns (tab-separated, empty = absent):

  frame  tcp_stream  version  h2_stream  method  target  status  body_len  body_sha256

Where the body comes from (tshark 4.0, checked on these captures):
- HTTP/1.x: `http.file_data` of the message, which tshark fills after TCP reassembly, de-chunking
  and content decoding (http.dechunk_body and http.decompress_body are on by default). A message
  without `http.file_data` has an empty body.
- HTTP/2: tshark 4.0 has no body preferences; it always reassembles a stream's DATA frames and
  decodes gzip/deflate/br. In the frame that ends the stream (END_STREAM), a body that came in
  more than one DATA frame is `http2.body.fragments/http2.body.reassembled.data` (still
  content-encoded), and the decoded body is the `http2.data.data` inside the
  "Content-encoded entity body (gzip): N bytes -> M bytes" subtree of that DATA frame, present
  only when the stream had a content-encoding. So: the decoded subtree if there is one, else the
  reassembled data, else the concatenated `http2.data.data` of the stream's DATA frames (bodies
  of one frame). Trailers (HEADERS without pseudo-headers) and padding are not body.
A message's line is placed at the frame where tshark shows it: HTTP/1.x in the frame that
completes the message (tshark reassembles it there), HTTP/2 in the frame with its HEADERS, in order
of appearance within a frame. An HTTP/2 message whose stream never ends in the capture keeps the
bytes seen. HTTP/2 HEADERS whose HPACK block tshark decoded only in part still count (unknown
dynamic-table entries show as `<unknown>`; :method/:path/:status may then be empty)."""
import hashlib, json, sys

def as_list(v):
    return v if isinstance(v, list) else [v]

def find(o, key):
    """First value of key in a depth-first walk (dict order), or None."""
    if isinstance(o, dict):
        if key in o:
            return o[key]
        for v in o.values():
            r = find(v, key)
            if r is not None:
                return r
    elif isinstance(o, list):
        for v in o:
            r = find(v, key)
            if r is not None:
                return r
    return None

def raw_bytes(raw):
    """A `<field>_raw` value: [hex, offset, length, mask, type], or a list of those."""
    if isinstance(raw, list) and raw and isinstance(raw[0], list):
        raw = raw[0]
    return bytes.fromhex(raw[0]) if raw and raw[0] else b""

def first(v):
    v = v[0] if isinstance(v, list) else v
    return "" if v is None else str(v)

rows = []            # [frame, tcp_stream, version, h2_stream, method, target, status, body(bytes or None)]
open_h2 = {}         # (tcp_stream, h2 stream id) -> row of the message whose body is still coming
pending = {}         # same key -> list of DATA payloads of one-frame-at-a-time bodies

def h2_frame(frame, tcp, st):
    sid = int(first(st.get("http2.streamid", "0")))
    typ = int(first(st.get("http2.type", "-1")))
    flags = st.get("http2.flags_tree", {})
    end = first(flags.get("http2.flags.end_stream", "0")) == "1"
    key = (tcp, sid)
    if typ == 1:  # HEADERS
        method, path, status = find(st, "http2.headers.method"), find(st, "http2.headers.path"), find(st, "http2.headers.status")
        if method is None and status is None and key in open_h2:
            pass  # trailers of the open message (or a HEADERS tshark could not decode at all)
        else:
            row = [frame, tcp, "HTTP/2", str(sid), first(method), first(path), first(status), None]
            rows.append(row)
            open_h2[key] = row
            pending[key] = []
    elif typ == 0 and key in open_h2:  # DATA
        decoded = None
        for k, v in st.items():
            if k.startswith("Content-encoded entity body") and isinstance(v, dict) and "http2.data.data_raw" in v:
                decoded = raw_bytes(v["http2.data.data_raw"])
        frags = st.get("http2.body.fragments")
        if decoded is not None:
            open_h2[key][7] = decoded
        elif isinstance(frags, dict) and "http2.body.reassembled.data_raw" in frags:
            open_h2[key][7] = raw_bytes(frags["http2.body.reassembled.data_raw"])
        elif "http2.data.data_raw" in st:
            pending[key].append(raw_bytes(st["http2.data.data_raw"]))
    if end and key in open_h2:
        row = open_h2.pop(key)
        parts = pending.pop(key)
        if row[7] is None:
            row[7] = b"".join(parts)

def h1_message(frame, tcp, m):
    method, uri, code = find(m, "http.request.method"), find(m, "http.request.uri"), find(m, "http.response.code")
    if method is None and code is None:
        return
    version = find(m, "http.request.version") if method is not None else find(m, "http.response.version")
    body = raw_bytes(m["http.file_data_raw"]) if "http.file_data_raw" in m else b""
    rows.append([frame, tcp, first(version), "", first(method), first(uri), first(code), body])

for pkt in json.load(sys.stdin):
    L = pkt["_source"]["layers"]
    frame = first(L["frame"]["frame.number"])
    tcp = first(L.get("tcp", {}).get("tcp.stream", ""))
    for name, layer in L.items():
        if name == "http":
            for m in as_list(layer):
                if isinstance(m, dict):
                    h1_message(frame, tcp, m)
        elif name == "http2":
            for h in as_list(layer):
                for st in as_list(h.get("http2.stream", [])) if isinstance(h, dict) else []:
                    if isinstance(st, dict):
                        h2_frame(frame, tcp, st)

for key, row in open_h2.items():  # streams that never ended: the bytes seen so far
    if row[7] is None:
        row[7] = b"".join(pending.get(key, []))
out = sys.stdout
for r in rows:
    body = r[7] or b""
    out.write("\t".join(r[:7] + [str(len(body)), hashlib.sha256(body).hexdigest()]) + "\n")
