"""Loopback HTTP servers for the WASI 0.3 suite's `servers` key (see
/work/shared/wasi-testsuite-p3/README.md), used by run-suite.

Each server has `endpoints`, matched by method and request target (path
with query, as sent): a fixed `response` (`status`, `body`, or `chunks`
sent with chunked framing and then `trailers`), or a `mode`:
  echo-body     the request body back (200);
  echo-headers  each request header as `x-echo-NAME` (values of a repeated
                header joined with ", "), each request trailer as
                `x-trailer-NAME`, and `x-request-method`/`x-request-path`.
Unmatched requests get 404. A server of `kind: closed` is a loopback port
with nothing listening (connections are refused).
"""
import http.server
import socket
import socketserver
import threading


def read_body(h):
    """The request body and its trailers (a list of (name, value))."""
    te = (h.headers.get("Transfer-Encoding") or "").lower()
    if "chunked" in te:
        body, trailers = b"", []
        while True:
            line = h.rfile.readline(65537)
            if not line:
                break
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:
                    t = h.rfile.readline(65537)
                    if t in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = t.decode("latin-1").partition(":")
                    trailers.append((name.strip().lower(), value.strip()))
                break
            body += h.rfile.read(size)
            h.rfile.readline(3)
        return body, trailers
    n = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(n) if n else b"", []


def make_handler(endpoints):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self):
            body, trailers = read_body(self)
            ep = next((e for e in endpoints if e.get("method", "GET") == self.command
                       and e.get("path") == self.path), None)
            if ep is None:
                return self.send_fixed(404, b"no such endpoint", [], None)
            mode = ep.get("mode")
            if mode == "echo-body":
                return self.send_fixed(200, body, [], None)
            if mode == "echo-headers":
                joined = {}
                for name in self.headers.keys():
                    low = name.lower()
                    if low not in joined:
                        joined[low] = ", ".join(self.headers.get_all(name))
                extra = [("x-echo-" + k, v) for k, v in joined.items()]
                tjoined = {}
                for k, v in trailers:
                    tjoined[k] = tjoined[k] + ", " + v if k in tjoined else v
                extra += [("x-trailer-" + k, v) for k, v in tjoined.items()]
                extra += [("x-request-method", self.command), ("x-request-path", self.path)]
                return self.send_fixed(200, b"", extra, None)
            r = ep.get("response", {})
            status = r.get("status", 200)
            if "chunks" in r:
                return self.send_fixed(status, None, [], r)
            return self.send_fixed(status, r.get("body", "").encode(), [], None)

        def send_fixed(self, status, body, headers, chunked):
            self.send_response_only(status)
            for k, v in headers:
                self.send_header(k, v)
            if chunked is None:
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
            else:
                self.send_header("Transfer-Encoding", "chunked")
                trailers = chunked.get("trailers", {})
                if trailers:
                    self.send_header("Trailer", ", ".join(trailers))
                self.end_headers()
                out = b""
                for c in chunked["chunks"]:
                    c = c.encode()
                    out += b"%x\r\n%s\r\n" % (len(c), c)
                out += b"0\r\n"
                for k, v in trailers.items():
                    out += ("%s: %s\r\n" % (k, v)).encode()
                out += b"\r\n"
                self.wfile.write(out)
            self.wfile.flush()

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = answer

    return Handler


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


class Upstreams:
    """Starts the servers of a test; env() gives HTTP_SERVER_NAME=host:port."""

    def __init__(self, specs):
        self.servers, self.addrs = [], {}
        for spec in specs:
            name = spec["name"]
            if spec.get("kind") == "closed":
                s = socket.socket()
                s.bind(("127.0.0.1", 0))
                self.addrs[name] = "127.0.0.1:%d" % s.getsockname()[1]
                s.close()  # nothing listens there now
                continue
            srv = Server(("127.0.0.1", 0), make_handler(spec.get("endpoints", [])))
            threading.Thread(target=srv.serve_forever, daemon=True).start()
            self.servers.append(srv)
            self.addrs[name] = "127.0.0.1:%d" % srv.server_address[1]

    def env(self):
        return {"HTTP_SERVER_" + n.upper().replace("-", "_"): a for n, a in self.addrs.items()}

    def close(self):
        for srv in self.servers:
            srv.shutdown()
            srv.server_close()
