#!/usr/bin/env python3
"""HTTP/1.1 server that ends connections with a TCP reset in the middle of a body, as servers
do under limits: `POST /upload` reads the head and part of the body, answers 413 and resets;
`GET /download` announces a body and resets after part of it. For testdata/make_cut_captures.sh."""
import socket, struct, sys

def reset(conn):
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()

def head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    h, rest = data.split(b"\r\n\r\n", 1)
    return h.decode("latin-1"), rest

def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(8)
    while True:
        conn, _ = s.accept()
        h, got = head(conn)
        if h is None:
            conn.close()
            continue
        line = h.split("\r\n", 1)[0]
        if line.startswith("POST /upload"):
            while len(got) < 20000:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                got += chunk
            body = b'{"error":"too large"}'
            conn.sendall(b"HTTP/1.1 413 Content Too Large\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            reset(conn)
        elif line.startswith("GET /download"):
            part = b"".join(b"line %05d of a download cut short\n" % i for i in range(300))
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n" + part)
            reset(conn)
        elif line.startswith("GET /quit"):
            conn.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            conn.close()
            return
        else:
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            conn.close()

if __name__ == "__main__":
    serve(int(sys.argv[1]))
