#!/usr/bin/env python3
"""Opens N idle connections to a server and reports its RSS per connection.

    python3 bench/idle_rss.py --pid PID --addr 127.0.0.1:9090 [-n 10000]

Each connection sends one framed echo call first (so the server has really
set it up: detected its dialect, used and released its buffers), reads the
reply, then stays open doing nothing. RSS is read from /proc/PID/status before
and after; the difference divided by N is the cost of an idle connection.
Everything is closed at the end. Needs a file-descriptor limit above N (the
script raises its own soft limit when it can; the server needs the same).
"""
import argparse
import resource
import socket
import struct
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def echo_call(seqid):
    def string(s):
        return struct.pack(">i", len(s)) + s

    body = struct.pack(">I", 0x80010001) + string(b"Echo") + struct.pack(">i", seqid)
    body += b"\x0c" + struct.pack(">h", 1)  # field 1: struct Request
    body += b"\x0b" + struct.pack(">h", 1) + string(b"echo")
    body += b"\x0b" + struct.pack(">h", 2) + string(b"x" * 64)
    body += b"\x00"  # end of Request
    body += b"\x00"  # end of args
    return struct.pack(">I", len(body)) + body


def recv_frame(sock):
    head = b""
    while len(head) < 4:
        chunk = sock.recv(4 - len(head))
        if not chunk:
            raise RuntimeError("closed")
        head += chunk
    (n,) = struct.unpack(">I", head)
    body = b""
    while len(body) < n:
        chunk = sock.recv(n - len(body))
        if not chunk:
            raise RuntimeError("closed")
        body += chunk
    return body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--addr", default="127.0.0.1:9090")
    ap.add_argument("-n", type=int, default=10000)
    args = ap.parse_args()
    host, port = args.addr.rsplit(":", 1)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.n + 100
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    before = rss_kib(args.pid)
    socks = []
    try:
        for i in range(args.n):
            s = socket.create_connection((host, int(port)), timeout=10)
            s.sendall(echo_call(i))
            recv_frame(s)
            socks.append(s)
        time.sleep(1.0)
        after = rss_kib(args.pid)
        per = (after - before) * 1024 / args.n
        print(f"idle connections {args.n}: server RSS {before} KiB -> {after} KiB, "
              f"{per:.0f} bytes per connection")
    finally:
        for s in socks:
            s.close()


if __name__ == "__main__":
    main()
