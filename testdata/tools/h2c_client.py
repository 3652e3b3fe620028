#!/usr/bin/env python3
"""Cleartext HTTP/2 client with prior knowledge, on the h2 library (hyper-h2 + hpack), for
make_tls_captures.sh: curl 7.88.1 cannot reuse an h2c prior-knowledge connection (curl issue #10634,
"Error in the HTTP2 framing layer" from the second request on; fixed in curl 8.0).
  h2c_client.py HOST PORT REQUEST...    REQUEST = GET:/path | GZ:/path (GET with accept-encoding: gzip)
                                                  | POST:/path:FILE (content-type: application/json)
One connection; each request waits for the end of the previous response, so each is in its own
packets. Prints one line per response: status, path, body bytes as received."""
import socket, sys
import h2.config, h2.connection, h2.events

host, port, reqs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
sock = socket.create_connection((host, port), timeout=10)
conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
conn.initiate_connection()
sock.sendall(conn.data_to_send())

def pump(stream_id):
    status, body = None, b""
    while True:
        data = sock.recv(65536)
        if not data:
            sys.exit("connection closed early")
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == stream_id:
                status = dict(ev.headers)[":status"]
            elif isinstance(ev, h2.events.DataReceived) and ev.stream_id == stream_id:
                body += ev.data
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == stream_id:
                sock.sendall(conn.data_to_send())
                return status, body
        sock.sendall(conn.data_to_send())

for r in reqs:
    kind, path, *rest = r.split(":")
    sid = conn.get_next_available_stream_id()
    headers = [(":method", "POST" if kind == "POST" else "GET"), (":scheme", "http"),
               (":authority", f"{host}:{port}"), (":path", path),
               ("user-agent", "py-h2c-client/1.0 (h2 4)"), ("accept", "*/*")]
    if kind == "GZ":
        headers.append(("accept-encoding", "gzip"))
    if kind == "POST":
        body = open(rest[0], "rb").read()
        headers += [("content-type", "application/json"), ("content-length", str(len(body)))]
        conn.send_headers(sid, headers)
        conn.send_data(sid, body, end_stream=True)
    else:
        conn.send_headers(sid, headers, end_stream=True)
    sock.sendall(conn.data_to_send())
    status, body = pump(sid)
    print(status, path, len(body))
conn.close_connection()
sock.sendall(conn.data_to_send())
sock.close()
