#!/usr/bin/python3
"""Runs a program on a terminal of its own, for the tests of a command that reads it.

    on_terminal.py [--send TEXT --after MARK]... [--timeout S] -- PROGRAM [ARG...]

PROGRAM runs in a new session whose controlling terminal is a new pseudo-terminal, as the
foreground job on it (a shell's command, as typed). Everything it writes there is copied to
stdout. Each TEXT (with \\n and \\x03 for Ctrl-C, \\x1a for Ctrl-Z) is typed on the terminal
once the output holds its MARK, in order. Line ends are printed as \\n, not the terminal's
\\r\\n. Exits with PROGRAM's status (128+N if signal N
ended it), or 124 when it has not ended within S seconds (10), after killing its session.
"""
import argparse
import os
import pty
import select
import signal
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--send", action="append", default=[])
    parser.add_argument("--after", action="append", default=[])
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("program", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    program = args.program[1:] if args.program[:1] == ["--"] else args.program
    if len(args.send) != len(args.after) or not program:
        parser.error("each --send needs its --after, and a program is needed")
    to_type = [(mark.encode(), text.encode().decode("unicode_escape").encode())
               for mark, text in zip(args.after, args.send)]

    pid, master = pty.fork()  # the child: a session leader, the terminal its controlling one
    if pid == 0:
        try:
            os.execvp(program[0], program)
        finally:
            os._exit(127)

    output = b""
    typed = 0  # how much of the output the marks have been looked for in
    deadline = time.monotonic() + args.timeout
    status = None
    while status is None:
        if to_type and to_type[0][0] in output[typed:]:
            typed = output.index(to_type[0][0], typed) + len(to_type[0][0])
            os.write(master, to_type.pop(0)[1])
        left = deadline - time.monotonic()
        if left <= 0:
            os.killpg(pid, signal.SIGKILL)  # the session's first group; the others end with it
            os.waitpid(pid, 0)
            sys.stdout.buffer.write(output.replace(b"\r\n", b"\n"))
            print(f"\non_terminal.py: still running after {args.timeout} s: killed", file=sys.stderr)
            return 124
        ready, _, _ = select.select([master], [], [], min(left, 0.05))
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every process of the session has closed the terminal
                chunk = b""
            output += chunk
        done, wait_status = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(wait_status)
    # What it wrote just before its end.
    while select.select([master], [], [], 0.1)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    sys.stdout.buffer.write(output.replace(b"\r\n", b"\n"))
    return status if status >= 0 else 128 - status


if __name__ == "__main__":
    sys.exit(main())
