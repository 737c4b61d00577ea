#!/usr/bin/env python3
"""Many requests waiting at once on few threads (issue 17).

    concurrency.py WHIRL COMPONENT [--requests N] [--workers W] [--delay-ms D]
                   [--bench]

Starts an upstream on loopback (asyncio: each request is answered after
D ms, 200 by default), then `whirl serve --workers W` with COMPONENT
(tests/serve/js/outbound.js built by componentize-js, whose .../get route
fetch()es the URL in its query), then sends N requests (1000 by default) at
once, each on its own connection, from one asyncio client: every one waits
for the upstream, so all N are in flight in the server together.

Checks: every answer is 200 with the upstream's status and body, and the
server's thread count (/proc/PID/task, sampled while the requests run)
stays below W + HELPER_THREADS, not near N. The guests run on the
interpreter (-C tier=interp): the LLVM tier would spend minutes compiling
SpiderMonkey in the background, and the server waits for that at exit. Prints what it measured (total
time, p99 latency, threads, RSS per suspended request); --bench prints only
those figures, as one line of key=value pairs, for bench/serve/run.
Exits non-zero if a check failed; prints "N passed, M failed".
"""
import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
import threading
import time

# Threads besides the workers: main (signals), the HTTP thread
# (libmicrohttpd), the accept gate, the `self` listener, the pool's ticker,
# the epoch ticker, the WASI reactor, the outbound client's I/O thread, and
# a few spare for libraries (libcurl's resolver).
HELPER_THREADS = 14


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("whirl")
    ap.add_argument("component")
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--delay-ms", type=int, default=200)
    ap.add_argument("--bench", action="store_true")
    return ap.parse_args()


async def upstream(reader, writer, delay):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if not head:
                break
            await asyncio.sleep(delay)
            body = b"slow answer"
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nx-upstream: yes\r\n\r\n%s"
                         % (len(body), body))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def one_request(port, path):
    t0 = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                 % path.encode())
    await writer.drain()
    data = await reader.read()  # to EOF: Connection: close
    writer.close()
    took = time.monotonic() - t0
    m = re.match(rb"HTTP/1\.1 (\d{3})", data)
    status = int(m.group(1)) if m else 0
    body = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
    return status, body, took


def read_int(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    """Samples the server's threads and RSS until stopped (a measurement,
    not a synchronisation: nothing waits for it)."""

    def __init__(self, pid, port):
        super().__init__(daemon=True)
        self.pid = pid
        self.port = port
        self.max_threads = 0
        self.max_rss_kib = 0
        self.max_suspended = 0
        self.done = threading.Event()

    def suspended(self):
        """The server's requests_suspended gauge (--metrics), answered on
        its HTTP thread."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                s.sendall(b"GET /.well-known/whirl/metrics HTTP/1.1\r\nHost: x\r\n"
                          b"Connection: close\r\n\r\n")
                data = b""
                while True:
                    got = s.recv(65536)
                    if not got:
                        break
                    data += got
        except OSError:
            return 0
        m = re.search(rb"\nwhirl_requests_suspended (\d+)", data)
        return int(m.group(1)) if m else 0

    def sample(self):
        try:
            n = len(os.listdir("/proc/%d/task" % self.pid))
        except OSError:
            return
        self.max_threads = max(self.max_threads, n)
        self.max_rss_kib = max(self.max_rss_kib,
                               read_int("/proc/%d/status" % self.pid, "VmRSS:"))
        self.max_suspended = max(self.max_suspended, self.suspended())

    def run(self):
        while not self.done.wait(0.01):
            self.sample()
        self.sample()


async def main_async(args, port, up_port, sampler):
    path = "/get?u=http://127.0.0.1:%d/slow" % up_port
    t0 = time.monotonic()
    results = await asyncio.gather(*(one_request(port, path)
                                     for _ in range(args.requests)),
                                   return_exceptions=True)
    total = time.monotonic() - t0
    return results, total


def main():
    args = parse_args()
    passed = failed = 0

    def check(name, cond, detail=""):
        nonlocal passed, failed
        if cond:
            passed += 1
        else:
            failed += 1
            print("FAILED: %s %s" % (name, detail), file=sys.stderr)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    delay = args.delay_ms / 1000.0
    up = loop.run_until_complete(asyncio.start_server(
        lambda r, w: upstream(r, w, delay), "127.0.0.1", 0, backlog=4096))
    up_port = up.sockets[0].getsockname()[1]

    log = open(os.devnull if args.bench else "/dev/stderr", "w")
    server = subprocess.Popen(
        [args.whirl, "serve", "--listen", "127.0.0.1:0", "--workers", str(args.workers),
         "--max-queue", str(args.requests), "--metrics", "--queue-timeout", "30s", "--timeout", "30s",
         "--quiet", "-C", "tier=interp", "-S", "allow-http=http://127.0.0.1:%d" % up_port, args.component],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    port = None
    for line in server.stderr:
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    if port is None:
        print("FAILED: whirl serve did not start", file=sys.stderr)
        server.kill()
        return 1
    # The rest of the server's log goes on to ours (a thread drains it).
    threading.Thread(target=lambda: [log.write(l) for l in server.stderr], daemon=True).start()

    # One request first: the instance pool and code are warm, and the idle
    # figures are taken after it.
    status, body, _ = loop.run_until_complete(
        one_request(port, "/get?u=http://127.0.0.1:%d/slow" % up_port))
    check("warm-up request", status == 200 and b"body=slow answer" in body,
          "status %d body %r" % (status, body[:200]))
    idle_threads = len(os.listdir("/proc/%d/task" % server.pid))
    idle_rss = read_int("/proc/%d/status" % server.pid, "VmRSS:")

    sampler = Sampler(server.pid, port)
    sampler.start()
    results, total = loop.run_until_complete(main_async(args, port, up_port, sampler))
    sampler.done.set()
    sampler.join()

    errors = [r for r in results if isinstance(r, BaseException)]
    answers = [r for r in results if not isinstance(r, BaseException)]
    bad = [(s, b[:120]) for s, b, _ in answers
           if s != 200 or b"status=200" not in b or b"body=slow answer" not in b]
    five = sum(1 for s, _, _ in answers if s >= 500)
    check("no connection errors", not errors, "%d: %r" % (len(errors), errors[:3]))
    check("every answer 200 from the upstream", not bad,
          "%d bad, first: %r" % (len(bad), bad[:3]))
    check("no 5xx", five == 0, "%d answers were 5xx" % five)
    bound = args.workers + HELPER_THREADS
    check("requests waited at once", sampler.max_suspended > 1,
          "at most %d suspended at once" % sampler.max_suspended)
    check("bounded threads", sampler.max_threads <= bound,
          "max %d threads, bound %d" % (sampler.max_threads, bound))

    lat = sorted(t for _, _, t in answers)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else 0.0
    # The RSS above idle at its peak, shared by the requests waiting then.
    rss_per = ((sampler.max_rss_kib - idle_rss) / sampler.max_suspended
               if sampler.max_suspended else 0)
    figures = ("requests=%d workers=%d total_s=%.3f p99_s=%.3f threads_idle=%d "
               "threads_max=%d suspended_max=%d rss_idle_mib=%.1f rss_max_mib=%.1f "
               "rss_per_suspended_kib=%.0f"
               % (args.requests, args.workers, total, p99, idle_threads, sampler.max_threads,
                  sampler.max_suspended, idle_rss / 1024, sampler.max_rss_kib / 1024, rss_per))
    print(figures)

    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        if os.environ.get("DEBUG_HANG"):
            subprocess.run(["gdb", "-p", str(server.pid), "-batch", "-ex", "thread apply all bt"])
        server.kill()
        server.wait()
    check("graceful exit", server.returncode == 0, "exit status %s" % server.returncode)
    # The upstream's connections end with the server; their handlers too.
    up.close()
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in pending:
        t.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    if not args.bench:
        print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
