#!/usr/bin/env python3
"""What an idle server costs: its CPU time and its wake-ups over a window,
with no connection and with N idle ones.

    python3 bench/idle_cpu.py --pid PID --addr 127.0.0.1:9090 [-n 10000] [--window 60]

Wake-ups are the context switches of all the server's threads (voluntary
ones: a thread that slept and was woken), read from /proc/PID/task/*/status
before and after the window; CPU is the threads' run time from
/proc/PID/task/*/schedstat. The
idle connections each make one framed echo call first (as idle_rss.py), then
stay open doing nothing; they are closed at the end.
"""
import argparse
import os
import resource
import socket
import time

from idle_rss import echo_call, recv_frame


def switches(pid):
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def cpu_seconds(pid):
    """CPU time of all the process's threads, in seconds: the run time in
    /proc/PID/task/*/schedstat (nanoseconds), finer than the 10 ms ticks of
    utime + stime in /proc/PID/stat, which an idle server barely moves."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / 1e9


def measure(pid, window, label):
    s0, c0, t0 = switches(pid), cpu_seconds(pid), time.monotonic()
    time.sleep(window)
    s1, c1, t1 = switches(pid), cpu_seconds(pid), time.monotonic()
    seconds = t1 - t0
    print(f"{label}: {(s1 - s0) / seconds:.1f} wake-ups/s, "
          f"CPU {(c1 - c0) / seconds * 100:.3f}% of one core over {seconds:.0f} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--addr", default="127.0.0.1:9090")
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--window", type=float, default=60.0)
    args = ap.parse_args()
    host, port = args.addr.rsplit(":", 1)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.n + 100
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    time.sleep(1.0)
    measure(args.pid, args.window, "no connections")
    socks = []
    try:
        for i in range(args.n):
            s = socket.create_connection((host, int(port)), timeout=10)
            s.sendall(echo_call(i))
            recv_frame(s)
            socks.append(s)
        time.sleep(1.0)
        measure(args.pid, args.window, f"{args.n} idle connections")
    finally:
        for s in socks:
            s.close()


if __name__ == "__main__":
    main()
