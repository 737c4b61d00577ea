#!/usr/bin/env python3
"""Many request bodies arriving slowly, on few threads (issue 17).

    slow_bodies.py WHIRL COMPONENT [--requests N] [--workers W] [--parts P]
                   [--part-bytes B] [--readers R] [--big-kib K] [--wagi MODULE]

Starts `whirl serve --workers W --metrics` with COMPONENT
(tests/serve/js/test.js built by componentize-js, whose .../echo route
answers the request body back), then opens N connections that each POST a
body of P parts of B bytes to .../echo, sending one part at a time to all
of them; then R clients ask for K KiB each and read nothing until the
writers wait. With --wagi, the same again against MODULE
(tests/serve/guests/wagi_test.c: its stdin and stdout wait the same way). Pacing is by events read from the server's metrics, not by
sleeps: the next part goes out once every guest has taken the previous one
and waits again (requests_suspended back at N, guest_resumes_total grown by
at least N since the part was sent).

Checks: with every guest waiting for its body, fast requests are answered
(a worker is free) and no guest is resumed meanwhile (its body stream waits
to be notified, no periodic re-checks); the same with the writers waiting
for their readers; every answer is 200 with the exact
body; the server's thread count (/proc/PID/task, at each step) stays below
W + HELPER_THREADS; the server exits cleanly. Prints its figures and
"N passed, M failed"; exits non-zero if a check failed.
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import threading
import time

from concurrency import HELPER_THREADS, read_int

# How long the whole test may wait for any one event before failing (a
# hang guard, not a timing assertion).
EVENT_TIMEOUT_S = 120
# Fast requests sent while the slow ones wait: each needs a free worker.
FAST_REQUESTS = 20
# Polls in a row without a resume before the writers count as settled.
SETTLE_POLLS = 10


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("whirl")
    ap.add_argument("component")
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--parts", type=int, default=4)
    ap.add_argument("--part-bytes", type=int, default=3000)
    ap.add_argument("--readers", type=int, default=10)
    ap.add_argument("--big-kib", type=int, default=4096)
    ap.add_argument("--wagi", help="also run against this WAGI module (wagi_test.c)")
    return ap.parse_args()


def metrics(port):
    """The server's metrics as a dict (answered on its HTTP thread)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /.well-known/whirl/metrics HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
        data = b""
        while True:
            got = s.recv(65536)
            if not got:
                break
            data += got
    return {m.group(1).decode(): int(m.group(2))
            for m in re.finditer(rb"\nwhirl_(\w+) (\d+)", data)}


def body_of(i, parts, part_bytes):
    """Request i's body: distinct per request and per part."""
    return [(b"%06d:%02d:" % (i, k) * (part_bytes // 10 + 1))[:part_bytes]
            for k in range(parts)]


# What each kind of app answers: the echo, big-response and fast routes,
# and a marker of the fast route's answer.
JS = {"name": "wasi:http", "flags": [], "echo": b"/slow/echo", "big": b"/reader/big",
      "fast": b"/fast/info", "fast_mark": b"path=/fast/info", "length_header": True}
WAGI = {"name": "wagi", "flags": ["--wagi"], "echo": b"/echo", "big": b"/big",
        "fast": b"/hello", "fast_mark": b"hello from wagi_test", "length_header": False}


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, name, cond, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAILED: %s %s" % (name, detail), file=sys.stderr)
        return cond


def main():
    args = parse_args()
    checks = Checks()
    run_target(args, JS, args.component, checks)
    if args.wagi:
        run_target(args, WAGI, args.wagi, checks)
    print("%d passed, %d failed" % (checks.passed, checks.failed))
    return 1 if checks.failed else 0


def run_target(args, kind, app, checks):
    def check(name, cond, detail=""):
        return checks("%s: %s" % (kind["name"], name), cond, detail)

    server = subprocess.Popen(
        [args.whirl, "serve", "--listen", "127.0.0.1:0", "--workers", str(args.workers),
         "--max-queue", str(args.requests + 8), "--metrics", "--queue-timeout", "120s",
         "--timeout", "300s", "--quiet", "-C", "tier=interp"] + kind["flags"] + [app],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    port = None
    for line in server.stderr:
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    if port is None:
        check("whirl serve started", False)
        server.kill()
        return
    threading.Thread(target=lambda: [sys.stderr.write(l) for l in server.stderr],
                     daemon=True).start()

    max_threads = 0
    idle_in = idle_out = writers_waiting = -1

    def threads():
        nonlocal max_threads
        try:
            n = len(os.listdir("/proc/%d/task" % server.pid))
        except OSError:
            return 0
        max_threads = max(max_threads, n)
        return n

    def wait_for(what, cond):
        """Polls the metrics until cond(metrics) holds (an event the server
        reports, checked as it changes), or EVENT_TIMEOUT_S passes."""
        end = time.monotonic() + EVENT_TIMEOUT_S
        while True:
            m = metrics(port)
            threads()
            if cond(m):
                return m
            if time.monotonic() > end:
                check(what, False, "never happened; last metrics: suspended=%s resumes=%s"
                      % (m.get("requests_suspended"), m.get("guest_resumes_total")))
                return None
            time.sleep(0.005)  # the polling interval of an event wait

    def fast_request(path):
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path)
            data = b""
            while True:
                got = s.recv(65536)
                if not got:
                    break
                data += got
        return data

    data = fast_request(kind["fast"])
    check("warm-up request", data.startswith(b"HTTP/1.1 200") and kind["fast_mark"] in data,
          repr(data[:200]))
    idle_threads = threads()
    idle_rss = read_int("/proc/%d/status" % server.pid, "VmRSS:")

    n = args.requests
    bodies = [body_of(i, args.parts, args.part_bytes) for i in range(n)]
    total_len = args.parts * args.part_bytes
    conns = []
    t0 = time.monotonic()
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=EVENT_TIMEOUT_S)
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  b"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n"
                  % (kind["echo"], total_len) + bodies[i][0])
        conns.append(s)

    # Every guest has its first part and waits for the next.
    m = wait_for("all %d guests waiting for their bodies" % n,
                 lambda m: m.get("requests_suspended") == n)
    rss_waiting = read_int("/proc/%d/status" % server.pid, "VmRSS:")
    if m:
        before = m.get("guest_resumes_total", 0)
        answers = [fast_request(kind["fast"]) for _ in range(FAST_REQUESTS)]
        check("fast requests answered while %d bodies are pending" % n,
              all(a.startswith(b"HTTP/1.1 200") and kind["fast_mark"] in a for a in answers),
              repr([a[:100] for a in answers]))
        after = metrics(port)
        check("the waiting guests stay suspended", after.get("requests_suspended") == n,
              "suspended=%s" % after.get("requests_suspended"))
        # Nothing changed for them: a guest re-checking its stream
        # periodically would have been resumed (each of N, every 10 ms).
        idle_resumes = idle_in = after.get("guest_resumes_total", 0) - before
        check("no guest resumed while nothing arrived", idle_resumes == 0,
              "%d resumes" % idle_resumes)

    for k in range(1, args.parts):
        before = metrics(port).get("guest_resumes_total", 0)
        for i, s in enumerate(conns):
            s.sendall(bodies[i][k])
        if k + 1 < args.parts:
            wait_for("part %d taken by every guest" % (k + 1),
                     lambda m: m.get("guest_resumes_total", 0) >= before + n
                     and m.get("requests_suspended") == n)
        threads()

    bad = []
    for i, s in enumerate(conns):
        data = b""
        try:
            while True:
                got = s.recv(65536)
                if not got:
                    break
                data += got
        except OSError as e:
            bad.append((i, "error %s" % e))
            continue
        finally:
            s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200") or (
                kind["length_header"] and b"x-body-length: %d" % total_len not in head.lower()):
            bad.append((i, head[:200]))
            continue
        if b"transfer-encoding: chunked" in head.lower():
            out, rest = b"", body
            while rest:
                size_line, _, rest = rest.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    break
                out += rest[:size]
                rest = rest[size + 2:]
            body = out
        if body != b"".join(bodies[i]):
            bad.append((i, "body differs (%d bytes)" % len(body)))
    total = time.monotonic() - t0
    check("every slow body echoed back whole", not bad, "%d bad, first: %r" % (len(bad), bad[:3]))

    # Slow readers: responses larger than what the server buffers (its
    # output window and the sockets') to clients that read nothing yet. Each
    # guest's write must wait for room; it waits suspended, and is resumed
    # only as its client reads.
    readers = []
    big = args.big_kib * 1024
    base_total = metrics(port).get("requests_total", 0)
    for i in range(args.readers):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(EVENT_TIMEOUT_S)
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET %s?%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                  % (kind["big"], args.big_kib))
        readers.append(s)
    # Every writer either waits for its reader or has finished (the kernel's
    # socket buffers can take a whole response, depending on its tuning):
    # all heads read, no worker busy, nothing queued, every request still in
    # flight suspended, and some are.
    # The HTTP thread may still be moving bytes into sockets the kernel is
    # growing, each move waking a writer: settled is also no resume over
    # SETTLE_POLLS polls in a row.
    seen = {"resumes": -1, "same": 0}

    def settled(m):
        r = m.get("guest_resumes_total", 0)
        seen["same"] = seen["same"] + 1 if r == seen["resumes"] else 0
        seen["resumes"] = r
        return (m.get("requests_total", 0) >= base_total + args.readers
                and m.get("workers_busy") == 0 and m.get("queue_length") == 0
                and m.get("requests_suspended") == m.get("requests_in_flight")
                and m.get("requests_suspended", 0) >= 1 and seen["same"] >= SETTLE_POLLS)
    m = wait_for("the %d writers waiting for their readers or done" % args.readers, settled)
    if m:
        writers_waiting = m.get("requests_suspended")
        before = m.get("guest_resumes_total", 0)
        answers = [fast_request(kind["fast"]) for _ in range(FAST_REQUESTS)]
        check("fast requests answered while %d writers wait" % args.readers,
              all(a.startswith(b"HTTP/1.1 200") and kind["fast_mark"] in a for a in answers),
              repr([a[:100] for a in answers]))
        after = metrics(port)
        idle_resumes = idle_out = after.get("guest_resumes_total", 0) - before
        # The kernel may still take a few bytes (a late window update, the
        # send buffer growing), which legitimately wakes a writer; periodic
        # re-checks would resume every writer several times meanwhile.
        check("writers not resumed while no reader read", idle_resumes < args.readers,
              "%d resumes" % idle_resumes)
    short = []
    for i, s in enumerate(readers):
        data = b""
        try:
            while True:
                got = s.recv(65536)
                if not got:
                    break
                data += got
        except OSError as e:
            short.append((i, "error %s" % e))
            continue
        finally:
            s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        # Chunked framing adds bytes; the body holds only 'x' and framing.
        xs = body.count(b"x")
        if not head.startswith(b"HTTP/1.1 200") or xs != big:
            short.append((i, "%r, %d of %d bytes" % (head[:60], xs, big)))
    check("every slow reader got its whole response", not short,
          "%d short, first: %r" % (len(short), short[:3]))
    bound = args.workers + HELPER_THREADS
    check("bounded threads", max_threads <= bound,
          "max %d threads, bound %d" % (max_threads, bound))

    print("%s: requests=%d workers=%d parts=%d part_bytes=%d slow_bodies_s=%.3f readers=%d "
          "big_kib=%d writers_waiting=%d idle_resumes_bodies=%d idle_resumes_writers=%d threads_idle=%d threads_max=%d "
          "rss_idle_mib=%.1f rss_waiting_mib=%.1f"
          % (kind["name"], n, args.workers, args.parts, args.part_bytes, total, args.readers, args.big_kib,
             writers_waiting, idle_in, idle_out, idle_threads, max_threads, idle_rss / 1024, rss_waiting / 1024))
    server.terminate()
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    check("graceful exit", server.returncode == 0, "exit status %s" % server.returncode)


if __name__ == "__main__":
    sys.exit(main())
