#!/usr/bin/python3
"""Runs a command with a DNS resolver that never answers: a name lookup hangs.

    unshare --mount --net silent_dns.py [--check NAME | -- COMMAND [ARG...]]

Meant to run as the first process of a new network and mount namespace (as root, or in a
user namespace: `unshare --user --map-root-user --mount --net`), where it changes nothing
outside. It brings up the namespace's loopback, binds UDP and TCP port 53 on 127.0.0.1
and never reads from either (so a query gets no answer, not even a refusal), makes
127.0.0.1 the only nameserver (a bind mount over /etc/resolv.conf when there is one;
without one, glibc asks 127.0.0.1 anyway), and then runs COMMAND and exits with its
status. With --check NAME it instead tells whether a lookup of NAME is still unanswered
after 1.5 s (exit 0) or ended (exit 1, with what it ended with): the sanity check that
this machine's resolver really goes through the silent server.

Standard library only; run with /usr/bin/python3.
"""

import fcntl
import multiprocessing
import os
import socket
import struct
import subprocess
import sys
import tempfile

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1


def bring_up_loopback():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def silent_port_53():
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 53))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 53))
    tcp.listen(16)
    return udp, tcp


def point_resolver_at_loopback():
    if not os.path.exists("/etc/resolv.conf"):
        return
    conf = tempfile.NamedTemporaryFile("w", prefix="silent-dns-", suffix=".conf", delete=False)
    conf.write("nameserver 127.0.0.1\noptions timeout:30 attempts:5\n")
    conf.close()
    subprocess.run(["mount", "--bind", conf.name, "/etc/resolv.conf"], check=True)
    os.unlink(conf.name)  # the mount keeps it


def lookup(name, answer):
    try:
        answer.put(repr(socket.getaddrinfo(name, 6379, type=socket.SOCK_STREAM)))
    except OSError as e:
        answer.put(repr(e))


def check(name):
    answer = multiprocessing.Queue()
    child = multiprocessing.Process(target=lookup, args=(name, answer), daemon=True)
    child.start()
    child.join(1.5)
    if child.is_alive():
        child.kill()
        return 0
    print("the lookup of %s ended: %s" % (name, answer.get()), file=sys.stderr)
    return 1


def main():
    args = sys.argv[1:]
    bring_up_loopback()
    sockets = silent_port_53()
    point_resolver_at_loopback()
    if len(args) == 2 and args[0] == "--check":
        return check(args[1])
    if not args or args[0] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    status = subprocess.call(args[1:])
    del sockets
    return status if status >= 0 else 128 - status


if __name__ == "__main__":
    sys.exit(main())
