#!/usr/bin/env python3
"""Upstream servers for the outbound HTTP tests (tests/serve/outbound.sh).

    upstream.py CERT KEY

Serves the same routes over plain HTTP and over TLS (CERT/KEY, made by the
test with openssl) on free loopback ports, and prints one line
"ports http=N https=M" once both listen. Routes:
    /hello           200 "hello from upstream", header x-upstream: yes
    /headers         200, the request's x-test header and Host echoed
    /echo            the request body back (Content-Length or chunked),
                     x-got-length: its size, x-got-trailers: name=value;...
    /stream?n=N      N KiB in 1 KiB chunks (chunked), with a trailer
                     x-checksum when &trailers=1
    /slow?ms=N       answers after N ms
    /hang            never answers (until the client goes); prints
                     "hang started"
    /stall           sends its head and one chunk, then nothing (until the
                     client goes)
    /redirect        302 to /hello
    /bigheaders      300 headers of 1 KiB each
    /reset           closes the connection abruptly (RST) after the request
    /count           how many requests were seen so far (this one excluded)
Ends when stdin closes (the test's end)."""
import http.server
import socket
import ssl
import struct
import sys
import threading
import urllib.parse

seen = 0
seen_lock = threading.Lock()
stop = threading.Event()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall per response

    def log_message(self, fmt, *args):
        pass

    def body(self):
        self.trailers = []
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while True:
                        line = self.rfile.readline()
                        if line in (b"\r\n", b"\n", b""):
                            return data
                        self.trailers.append(line.decode().strip().replace(": ", "="))
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        global seen
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        with seen_lock:
            count = seen
            seen += 1
        data = self.body()
        p = url.path
        if p == "/hello":
            self.reply(200, b"hello from upstream", [("x-upstream", "yes")])
        elif p == "/headers":
            text = "x-test=%s host=%s method=%s" % (
                self.headers.get("x-test"), self.headers.get("Host"), self.command)
            self.reply(200, text.encode(), [("x-upstream", "yes")])
        elif p == "/echo":
            self.reply(200, data, [("x-got-length", str(len(data))),
                                   ("x-got-trailers", ";".join(self.trailers) or "none"),
                                   ("x-got-test", self.headers.get("x-test", "none"))])
        elif p == "/stream":
            n = int(q.get("n", ["1"])[0])
            trailers = q.get("trailers", ["0"])[0] == "1"
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            if trailers:
                self.send_header("Trailer", "x-checksum")
            self.end_headers()
            for _ in range(n):
                self.wfile.write(b"400\r\n" + b"y" * 1024 + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n")
            if trailers:
                self.wfile.write(b"x-checksum: %d\r\n" % (n * 1024))
            self.wfile.write(b"\r\n")
        elif p == "/slow":
            stop.wait(int(q.get("ms", ["100"])[0]) / 1000)
            self.reply(200, b"slow answer")
        elif p == "/hang":
            # Until the client goes: a read returns when it closes.
            print("hang started", flush=True)
            self.connection.settimeout(None)
            try:
                self.connection.recv(1)
            except OSError:
                pass
            self.close_connection = True
        elif p == "/stall":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"5\r\nfirst\r\n")
            self.wfile.flush()
            self.connection.settimeout(None)
            try:
                self.connection.recv(1)
            except OSError:
                pass
            self.close_connection = True
        elif p == "/bigheaders":
            self.reply(200, b"big", [("x-big-%d" % i, "b" * 1024) for i in range(300)])
        elif p == "/redirect":
            self.reply(302, b"moved", [("Location", "/hello")])
        elif p == "/reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        elif p == "/count":
            self.reply(200, str(count).encode())
        else:
            self.reply(404, b"no such route")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many connections at once: none dropped


def main():
    cert, key = sys.argv[1], sys.argv[2]
    plain = Server(("127.0.0.1", 0), Handler)
    tls = Server(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
    for s in (plain, tls):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("ports http=%d https=%d" % (plain.server_address[1], tls.server_address[1]),
          flush=True)
    sys.stdin.read()
    stop.set()


if __name__ == "__main__":
    main()
