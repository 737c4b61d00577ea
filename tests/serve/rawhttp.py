#!/usr/bin/env python3
"""Raw HTTP/1.1 over a socket, for the tests of `whirl serve` that curl
cannot express (malformed heads, uploads left unfinished).

  rawhttp.py send PORT REQUEST [WAIT]
      Sends REQUEST (Python string escapes: \\r\\n, \\x01), reads until the
      server closes or WAIT seconds (default 30) pass, and prints one line:
      "<first status line> | <number of status lines> | closed|open".
  rawhttp.py head PORT REQUEST
      As send, but prints the whole response head, one line per line.
  rawhttp.py hold PORT LOG MARKER HEAD REST OTHER
      Sends HEAD on connection 1 (a request whose body is not all there),
      waits until MARKER appears in the server's LOG (the guest has
      started), sends OTHER on connection 2 and prints its answer as `send`
      does plus " | retry-after" if it had Retry-After; then sends REST on
      connection 1 and prints that answer the same way.
"""
import socket
import sys
import time


def unescape(s):
    return s.encode("latin-1").decode("unicode_escape").encode("latin-1")


def read_all(sock, wait):
    """Reads until the peer closes or `wait` seconds pass."""
    sock.settimeout(wait)
    data, closed = b"", False
    deadline = time.monotonic() + wait
    try:
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                closed = True
                break
            data += chunk
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    return data, closed


def answer(sock, wait):
    data, closed = read_all(sock, wait)
    lines = data.split(b"\r\n")
    status = [l for l in lines if l.startswith(b"HTTP/1.")]
    first = status[0].decode("latin-1") if status else "(none)"
    retry = any(l.lower().startswith(b"retry-after:") for l in lines)
    return "%s | %d | %s%s" % (first, len(status), "closed" if closed else "open",
                                " | retry-after" if retry else "")


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=30)


def main(argv):
    if len(argv) >= 3 and argv[0] == "send":
        port, request = int(argv[1]), unescape(argv[2])
        wait = float(argv[3]) if len(argv) > 3 else 30.0
        with connect(port) as s:
            s.sendall(request)
            print(answer(s, wait))
        return 0
    if len(argv) == 3 and argv[0] == "head":
        with connect(int(argv[1])) as s:
            s.sendall(unescape(argv[2]))
            data, _ = read_all(s, 30.0)
        print(data.split(b"\r\n\r\n")[0].decode("latin-1").replace("\r\n", "\n"))
        return 0
    if len(argv) == 7 and argv[0] == "hold":
        port, log, marker = int(argv[1]), argv[2], argv[3]
        head, rest, other = unescape(argv[4]), unescape(argv[5]), unescape(argv[6])
        with connect(port) as first:
            first.sendall(head)
            deadline = time.monotonic() + 60
            while marker not in open(log, errors="replace").read():
                if time.monotonic() > deadline:
                    print("marker '%s' never appeared in %s" % (marker, log))
                    return 1
                time.sleep(0.02)
            with connect(port) as second:
                second.sendall(other)
                print(answer(second, 30))
            first.sendall(rest)
            print(answer(first, 30))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
