#!/usr/bin/env python3
"""A hostile Redis server for tests/serve/spin_host.sh: whatever command
comes, it answers with one reply shaped by MODE, to check that whirl's
Redis client bounds what a server can make it hold or wait for.

    fake_redis.py MODE     prints its loopback port, then serves until killed

- drip:  a 100-byte bulk string sent one byte every 100 ms (forever, while
         the client stays): only the request's deadline can end the wait;
- many:  an array of 2,000,000 integers (8 MB on the wire);
- big:   a bulk string of 200,000,000 bytes, streamed while the client reads;
- silent: never reads nor answers, for any protocol (Redis, PostgreSQL,
         MySQL); prints "accepted" for each connection, so the test knows
         how many clients wait on it at once.
"""
import socket
import sys
import threading
import time


def serve(conn, mode):
    try:
        if mode == "silent":
            print("accepted", flush=True)
            time.sleep(3600)
            return
        conn.recv(65536)  # the command, whatever it is
        if mode == "drip":
            conn.sendall(b"$100\r\n")
            for _ in range(100):
                time.sleep(0.1)
                conn.sendall(b"a")
            time.sleep(3600)
        elif mode == "many":
            n = 2000000
            conn.sendall(b"*%d\r\n" % n + b":1\r\n" * n)
            time.sleep(3600)
        elif mode == "big":
            n = 200000000
            conn.sendall(b"$%d\r\n" % n)
            chunk = b"a" * (1 << 20)
            for _ in range(n >> 20):
                conn.sendall(chunk)
            time.sleep(3600)
    except OSError:
        pass  # the client went away: what the test wants
    finally:
        conn.close()


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("drip", "many", "big", "silent"):
        print(__doc__)
        return 2
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    print(s.getsockname()[1], flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, sys.argv[1]), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
