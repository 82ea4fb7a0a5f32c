#!/usr/bin/python3
"""A stand-in for a server that does not know Redis 7's "#!lua" script header (Redis 6.x,
KeyDB and others), for tests/cli/redis/compat_scripts.bats: a proxy in front of a real
redis-server that answers EVAL and SCRIPT LOAD of a script that starts with "#!" exactly as
Redis 6.2's script compiler does, and passes everything else through unchanged.

    redis62_standin.py LISTEN_PORT UPSTREAM_PORT     (prints "ready PORT" when it listens)

LISTEN_PORT 0 takes a port that the kernel chooses, free by construction: a port found free a
moment before may be another test's by the time it is bound (ctest -j).
"""
import socket
import sys
import threading

# Redis 6.2's eval.c: addReplyErrorFormat(c, "Error compiling script (new function): %s\n",
# lua_tostring(lua, -1)), whose newline becomes a space; Lua 5.1 names the script
# "user_script" and stops at the '#' of line 1.
REFUSAL = b"-ERR Error compiling script (new function): user_script:1: unexpected symbol near '#' \r\n"


def read_line(stream):
    line = stream.readline()
    if not line:
        raise EOFError
    return line


def read_command(stream):
    """One RESP array of bulk strings (what clients send): its raw bytes and its words."""
    first = read_line(stream)
    raw = [first]
    if not first.startswith(b"*"):
        return first, first.split()  # an inline command
    words = []
    for _ in range(int(first[1:])):
        header = read_line(stream)
        data = stream.read(int(header[1:]) + 2)
        raw += [header, data]
        words.append(data[:-2])
    return b"".join(raw), words


def pump(source, sink):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    for s in (source, sink):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(client, upstream_port):
    upstream = socket.create_connection(("127.0.0.1", upstream_port))
    threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
    stream = client.makefile("rb")
    try:
        while True:
            raw, words = read_command(stream)
            verb = words[0].upper() if words else b""
            script = None
            if verb == b"EVAL" and len(words) > 1:
                script = words[1]
            elif verb == b"SCRIPT" and len(words) > 2 and words[1].upper() == b"LOAD":
                script = words[2]
            if script is not None and script.startswith(b"#!"):
                client.sendall(REFUSAL)
            else:
                upstream.sendall(raw)
    except (EOFError, OSError, ValueError):
        pass
    for s in (client, upstream):
        try:
            s.close()
        except OSError:
            pass


def main():
    listen_port, upstream_port = int(sys.argv[1]), int(sys.argv[2])
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen_port))
    server.listen(64)
    print(f"ready {server.getsockname()[1]}", flush=True)
    while True:
        try:
            client, _ = server.accept()
        except OSError as error:  # a connection reset before it was accepted: the next
            print(f"stand-in: accept: {error}", flush=True)
            continue
        threading.Thread(target=serve, args=(client, upstream_port), daemon=True).start()


main()
