#!/usr/bin/python3
"""A TCP proxy in front of a test's redis-server that loses one reply on purpose.

The fault it makes is the one SPEC §5 plans for with "a retry whose reply was lost": the
server ran lockrun's check-and-acquire script (so it may have taken the lock and raised
the fence), but the client never learns it, because the connection drops between the
command and its reply. Everything else is forwarded unchanged, both ways.

    fault_proxy.py --upstream-port P --port-file F --arm-file A --fired-file X
                   [--match acquired|any] [--max-seconds N]

It listens on a free loopback port and writes that port to F (atomically, once it
listens). While A exists and it has not fired yet, the first check-and-acquire call it
sees (EVALSHA or EVAL with 7 keys: :lock :fence :out :last :holders :holder :writer) whose reply matches
--match ("acquired": the reply says the lock was taken; "any": any reply that is not an
error, so that a NOSCRIPT answer still passes) is swallowed: the proxy reads the reply
from Redis, does not forward it, closes both sides of that connection, and writes a line
describing the swallowed reply to X. It fires once per process. It exits on SIGTERM, or
after --max-seconds so that nothing outlives a failed test for long.

Standard library only; run with /usr/bin/python3.
"""

import argparse
import collections
import os
import signal
import socket
import sys
import threading


class Incomplete(Exception):
    """The buffer ends inside a RESP value: wait for more bytes."""


def parse_resp(buf, pos):
    """Parses one RESP2 value at buf[pos:]; returns (value, next_pos) or raises Incomplete.

    Values: bytes (simple and bulk strings), int, None (nil), list, or ("error", bytes).
    """
    end = buf.find(b"\r\n", pos)
    if end < 0:
        raise Incomplete()
    kind = buf[pos:pos + 1]
    line = bytes(buf[pos + 1:end])
    after = end + 2
    if kind == b"+":
        return line, after
    if kind == b"-":
        return ("error", line), after
    if kind == b":":
        return int(line), after
    if kind == b"$":
        length = int(line)
        if length < 0:
            return None, after
        if len(buf) < after + length + 2:
            raise Incomplete()
        return bytes(buf[after:after + length]), after + length + 2
    if kind == b"*":
        count = int(line)
        if count < 0:
            return None, after
        items = []
        for _ in range(count):
            item, after = parse_resp(buf, after)
            items.append(item)
        return items, after
    # An inline command (what a telnet user types): words up to the line end.
    return [bytes(w) for w in bytes(buf[pos:end]).split()], after


def is_check_and_acquire(command):
    """EVALSHA/EVAL of a script over the keys of SPEC §5's check-and-acquire (:lock :fence
    :out :last, then a semaphore's or readers' :holders :holder and a writer's :writer, which
    it checks)."""
    if not isinstance(command, list) or len(command) < 10:
        return False
    if not all(isinstance(part, bytes) for part in command[:10]):
        return False
    verb = command[0].upper()
    return (verb in (b"EVALSHA", b"EVAL") and command[2] == b"7"
            and command[3].endswith(b":lock") and command[4].endswith(b":fence")
            and command[5].endswith(b":out") and command[6].endswith(b":last")
            and command[7].endswith(b":holders") and command[8].endswith(b":holder")
            and command[9].endswith(b":writer"))


def reply_matches(reply, mode):
    if isinstance(reply, tuple):  # an error: NOSCRIPT, OOM... passes through
        return False
    if mode == "any":
        return True
    return isinstance(reply, list) and len(reply) >= 1 and reply[0] == b"acquired"


def describe(reply):
    if isinstance(reply, list):
        return " ".join(x.decode("utf-8", "replace") if isinstance(x, bytes) else repr(x)
                        for x in reply)
    return repr(reply)


class Proxy:
    def __init__(self, options):
        self.options = options
        self.fired = False
        self.fire_lock = threading.Lock()

    def armed(self):
        return not self.fired and os.path.exists(self.options.arm_file)

    def fire(self, reply):
        """Claims the one fault of this process; True when this caller got it."""
        with self.fire_lock:
            if self.fired or not os.path.exists(self.options.arm_file):
                return False
            self.fired = True
        temp = self.options.fired_file + ".tmp"
        with open(temp, "w") as f:
            f.write(describe(reply) + "\n")
        os.rename(temp, self.options.fired_file)
        return True

    def serve(self, client):
        try:
            upstream = socket.create_connection(("127.0.0.1", self.options.upstream_port))
        except OSError:
            client.close()
            return
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # One flag per command sent and not yet answered: Redis answers in order. A
        # subscriber connection also gets messages nobody asked for; they find the queue
        # empty and pass through (no check-and-acquire is ever sent on one).
        pending = collections.deque()
        pending_lock = threading.Lock()
        closed = threading.Event()

        def close_both():
            closed.set()
            for s in (client, upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        def client_to_server():
            buf = bytearray()
            try:
                while not closed.is_set():
                    data = client.recv(65536)
                    if not data:
                        break
                    buf += data
                    pos = 0
                    # Flags first, bytes after: the reply cannot overtake its flag.
                    while True:
                        try:
                            command, pos2 = parse_resp(buf, pos)
                        except Incomplete:
                            break
                        pos = pos2
                        with pending_lock:
                            pending.append(is_check_and_acquire(command))
                    del buf[:pos]
                    upstream.sendall(data)
            except OSError:
                pass
            close_both()

        def server_to_client():
            buf = bytearray()
            try:
                while not closed.is_set():
                    data = upstream.recv(65536)
                    if not data:
                        break
                    buf += data
                    pos = 0
                    while True:
                        start = pos
                        try:
                            reply, pos = parse_resp(buf, pos)
                        except Incomplete:
                            pos = start
                            break
                        with pending_lock:
                            flagged = pending.popleft() if pending else False
                        if (flagged and self.armed()
                                and reply_matches(reply, self.options.match)
                                and self.fire(reply)):
                            # The reply is read and dropped: the client sees the
                            # connection close after its command was executed.
                            close_both()
                            return
                        client.sendall(bytes(buf[start:pos]))
                    del buf[:pos]
            except OSError:
                pass
            close_both()

        threads = [threading.Thread(target=f, daemon=True)
                   for f in (client_to_server, server_to_client)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        client.close()
        upstream.close()

    def run(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(512)
        temp = self.options.port_file + ".tmp"
        with open(temp, "w") as f:
            f.write("%d\n" % listener.getsockname()[1])
        os.rename(temp, self.options.port_file)
        while True:
            client, _ = listener.accept()
            threading.Thread(target=self.serve, args=(client,), daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--arm-file", required=True)
    parser.add_argument("--fired-file", required=True)
    parser.add_argument("--match", choices=("acquired", "any"), default="acquired")
    parser.add_argument("--max-seconds", type=float, default=120)
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGALRM, lambda *_: os._exit(3))
    signal.setitimer(signal.ITIMER_REAL, options.max_seconds)
    Proxy(options).run()


if __name__ == "__main__":
    sys.exit(main())
