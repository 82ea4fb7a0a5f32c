#!/usr/bin/python3
"""A TCP server that accepts connections, reads what it is sent, and never answers.

It stands for a Redis server that is up but stuck (a long-running command, a frozen host,
a proxy whose upstream is gone): the connect succeeds, no reply ever comes. With --answer,
it answers every read with those bytes instead: something that speaks RESP but is not
Redis (`+OK\r\n` to everything).

    silent_server.py --port-file F [--max-seconds N] [--answer TEXT]

It listens on a free loopback port and writes that port to F (atomically, once it
listens). It exits on SIGTERM, or after --max-seconds (default 120) so that nothing
outlives a failed test for long.

Standard library only; run with /usr/bin/python3.
"""

import argparse
import os
import selectors
import signal
import socket
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--max-seconds", type=float, default=120)
    parser.add_argument("--answer", default="", help="bytes to send for every read (\\r\\n: CRLF)")
    args = parser.parse_args()
    answer = args.answer.replace("\\r", "\r").replace("\\n", "\n").encode()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(listener.getsockname()[1]))
    os.rename(tmp, args.port_file)

    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    end = time.monotonic() + args.max_seconds
    while time.monotonic() < end:
        for key, _ in selector.select(timeout=0.5):
            if key.fileobj is listener:
                conn, _ = listener.accept()
                selector.register(conn, selectors.EVENT_READ)
                continue
            try:
                data = key.fileobj.recv(65536)
            except OSError:
                data = b""
            if not data:  # the client went away: forget it
                selector.unregister(key.fileobj)
                key.fileobj.close()
            elif answer:
                key.fileobj.sendall(answer)


if __name__ == "__main__":
    main()
