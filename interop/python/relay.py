#!/usr/bin/env python3
"""A TCP relay on 127.0.0.1 that logs what crosses it, to capture another
implementation's exact bytes (how the Volo vectors of
runtime/tests/wire_vectors.rs were taken):

    relay.py LISTEN_PORT TARGET_PORT LOG [--chunks N]

Every connection to 127.0.0.1:LISTEN_PORT is relayed to
127.0.0.1:TARGET_PORT. The first N chunks (default 4) of each direction of
each connection are appended to LOG, one line each:
`CONNECTION req|rep LENGTH HEX`. Stop it with SIGINT or SIGTERM.
"""

import argparse
import socket
import threading

lock = threading.Lock()


def pump(src, dst, log, tag, conn_id, chunks):
    logged = 0
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if logged < chunks:
                with lock, open(log, "a") as f:
                    f.write("%d %s %d %s\n" % (conn_id, tag, len(data), data.hex()))
                logged += 1
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("listen_port", type=int)
    parser.add_argument("target_port", type=int)
    parser.add_argument("log")
    parser.add_argument("--chunks", type=int, default=4)
    args = parser.parse_args()
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", args.listen_port))
    server.listen(64)
    print("relay: 127.0.0.1:%d -> 127.0.0.1:%d" % (args.listen_port, args.target_port), flush=True)
    conn_id = 0
    while True:
        client, _ = server.accept()
        conn_id += 1
        upstream = socket.create_connection(("127.0.0.1", args.target_port))
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for src, dst, tag in ((client, upstream, "req"), (upstream, client, "rep")):
            threading.Thread(
                target=pump, args=(src, dst, args.log, tag, conn_id, args.chunks), daemon=True
            ).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
