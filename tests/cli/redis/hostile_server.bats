#!/usr/bin/env bats
# What other clients of the server, its configuration and its ACL can do to lockrun (issue 11):
# a lock hash whose pid, fence or start are not numbers is a holder whose details are unknown,
# never a crash; a lock key of another type is a configuration error (78) that says how to
# remove it; a finish the server refuses (a result over its proto-max-bulk-len) still
# releases the lock at once; an ACL that forbids what lockrun needs, and a server that
# never runs the scripts (NOSCRIPT after EVAL), are configuration errors (78), not an
# unavailable backend (69).

# Redis only, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=redis
load ../common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() {
    per_test_setup
    export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg
    unset LOCKRUN_CONFIG
}
teardown() {
    if [[ -s noscript.pid ]]; then
        kill -TERM "$(<noscript.pid)" 2>/dev/null || true
        wait "$(<noscript.pid)" 2>/dev/null || true
        rm -f noscript.pid
    fi
    rcli CONFIG SET proto-max-bulk-len 536870912 >/dev/null 2>&1 || true
    local user
    for user in limited nopub nosub; do
        rcli ACL DELUSER "$user" >/dev/null 2>&1 || true
    done
    per_test_teardown
}

# garbage_lock KEY: a lock hash as another client could write it: a token that is not ours,
# and a fence, pid and start time that are not numbers; 30 s of lease.
garbage_lock() {
    rcli HSET "$(lock_key "$1")" token not-ours fence 'fence?' host elsewhere pid $'\r\nSET x y' \
        user mallory command 'sleep 1000' started yesterday >/dev/null
    rcli PEXPIRE "$(lock_key "$1")" 30000 >/dev/null
}

# --- holder metadata that is not numbers -------------------------------------------------

@test "a lock whose pid, fence and start are not numbers: a run gives up with 75, not 70" {
    garbage_lock garbage
    run --separate-stderr lockrun --no-cache --key garbage --wait 200ms -- touch ran
    assert_status 75
    assert [ ! -e ran ]
    assert_equal "$(rcli EXISTS x)" 0
}

@test "status shows a lock whose pid, fence and start are not numbers as held, details unknown" {
    garbage_lock garbage
    run --separate-stderr lockrun status garbage
    assert_status 0
    assert_output --partial elsewhere
    run --separate-stderr lockrun status garbage --json
    assert_status 0
    assert_output --regexp '"held":true'
}

@test "a waiter waits for a lock whose details are unknown, and runs when it is force-released" {
    garbage_lock garbage
    local base
    base=$(subscribers garbage)
    spawn waiter "$LOCKRUN" --no-cache --key garbage --wait 20s -- echo waited
    wait_for_waiter garbage "$base" waiter
    force_release garbage
    assert_exit waiter 0 5
    assert_equal "$(<waiter.out)" waited
}

@test "release --force frees a lock whose pid, fence and start are not numbers" {
    garbage_lock garbage
    run --separate-stderr lockrun release garbage --force
    assert_status 0
    assert_nothing_held
}

# --- a lock key of another type (WRONGTYPE) ------------------------------------------------

@test "a lock key that is a string: exit 78, one line naming it and how to remove it" {
    rcli SET "$(lock_key wrong)" hello >/dev/null
    run --separate-stderr lockrun --no-cache --key wrong -- touch ran
    assert_status 78
    assert_output ''
    assert_one_error_line "the key lockrun:\\{wrong\\}:lock is a string, not a lockrun lock \\(remove it with \`lockrun release wrong --force\`, or DEL\\)$"
    assert [ ! -e ran ]
    assert_equal "$(rcli GET "$(lock_key wrong)")" hello
}

@test "a lock key that is a list: a run exits 78 with the advice, status shows it held, release --force removes it" {
    rcli RPUSH "$(lock_key wrong)" a b >/dev/null
    run --separate-stderr lockrun --no-cache --key wrong -- touch ran
    assert_status 78
    assert_one_error_line "lockrun:\\{wrong\\}:lock is a list, not a lockrun lock .*lockrun release wrong --force"
    assert [ ! -e ran ]
    run --separate-stderr lockrun status wrong --json
    assert_status 0
    assert_output --regexp '"held":true'
    run --separate-stderr lockrun release wrong --force
    assert_status 0
    assert_equal "$(rcli EXISTS "$(lock_key wrong)")" 0
    run --separate-stderr lockrun --no-cache --key wrong -- echo ok
    assert_status 0
    assert_output ok
}

@test "a result key that is a hash: a run exits 78 naming it and cache drop" {
    rcli HSET "$(out_key wrong)" a b >/dev/null
    run --separate-stderr lockrun --key wrong -- touch ran
    assert_status 78
    assert_one_error_line "the key lockrun:\\{wrong\\}:out is a hash, not a lockrun result \\(remove it with \`lockrun cache drop wrong\`, or DEL\\)$"
    assert [ ! -e ran ]
    assert_nothing_held
}

# --- a finish that the server refuses --------------------------------------------------------

@test "a result over proto-max-bulk-len: the lock is released at once, nothing stored, one warning" {
    assert_equal "$(rcli CONFIG SET proto-max-bulk-len 1mb)" OK
    spawn holder "$LOCKRUN" --lease 30s --cache-max-bytes 4MiB --key big \
        -c "head -c 1572864 /dev/urandom; $(hold_cmd holder)"
    wait_until 10 test -s holder.started
    local base
    base=$(subscribers big)
    spawn waiter "$LOCKRUN" --no-cache --lease 30s --wait 60s --key big -- echo waiter-ran
    wait_for_waiter big "$base" waiter
    local released_at
    released_at=$(now_ms)
    release holder
    assert_exit holder 0 10
    assert_exit waiter 0 10
    assert_between "ms from the holder's release to the waiter's end" $(($(now_ms) - released_at)) 0 5000
    load_stderr holder
    assert_one_error_line "refused to store the result \\(.*\\): the lock was released but the result was not stored"
    assert_equal "$(wc -c <holder.out)" 1572864
    assert_nothing_held
    assert_equal "$(<waiter.out)" waiter-ran
    assert_equal "$(rcli EXISTS "$(out_key big)")" 0
}

# --- the ACL ----------------------------------------------------------------------------

# acl_url USER: the test server's URL naming USER; the password (pw) goes in the environment
# (LOCKRUN_REDIS_PASSWORD=pw), so that the only line on stderr is the error.
acl_url() {
    echo "redis://$1:@127.0.0.1:$REDIS_PORT"
}

@test "an ACL that forbids EVALSHA: exit 78, one line naming the user, the command and the grant" {
    rcli ACL SETUSER limited on '>pw' '~*' '&*' +@all -evalsha -eval >/dev/null
    LOCKRUN_REDIS_PASSWORD=pw run --separate-stderr lockrun --redis "$(acl_url limited)" --no-cache --key acl -- touch ran
    assert_status 78
    assert_output ''
    assert_one_error_line "the ACL of user 'limited' forbids EVALSHA \\(NOPERM .*\\); check the ACL: grant .*\\+@scripting.*~lockrun:\\* &lockrun:\\*"
    assert [ ! -e ran ]
    assert_nothing_held
}

# The finish script's PUBLISH is refused after the command ran; Redis does not undo the
# script's DEL of the lock, and lockrun's own release finds nothing of its own.
@test "an ACL that forbids PUBLISH inside the scripts: exit 78, not 69, nothing held" {
    rcli ACL SETUSER nopub on '>pw' '~*' '&*' +@all -publish >/dev/null
    LOCKRUN_REDIS_PASSWORD=pw run --separate-stderr lockrun --redis "$(acl_url nopub)" --no-cache --key acl -- echo ran
    assert_status 78
    assert_one_error_line "the ACL of user 'nopub' forbids a command inside lockrun's scripts \\(ERR The user executing the script can't run this command.*; check the ACL: grant .*\\+publish"
    assert_nothing_held
}

@test "an ACL that forbids SUBSCRIBE: a waiter exits 78 naming SUBSCRIBE" {
    rcli ACL SETUSER nosub on '>pw' '~*' '&*' +@all -subscribe >/dev/null
    start_holder holder --key acl-wait
    LOCKRUN_REDIS_PASSWORD=pw run --separate-stderr lockrun --redis "$(acl_url nosub)" --no-cache --key acl-wait --wait 5s -- touch ran
    assert_status 78
    assert_one_error_line "the ACL of user 'nosub' forbids SUBSCRIBE"
    assert [ ! -e ran ]
    release holder
    assert_exit holder 0 10
}

# --- a server that never runs the scripts ----------------------------------------------------

# start_noscript_server: a RESP server on a free port that answers PING and NOSCRIPT to
# everything else, EVAL included (a proxy that cannot run scripts); exports NOSCRIPT_PORT.
start_noscript_server() {
    cat >noscript.py <<'PY'
import socket, sys
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(8)
open(sys.argv[1], "w").write(str(listener.getsockname()[1]))
def serve(conn):
    data = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
        while True:
            # One array of bulk strings: *N\r\n($len\r\nbytes\r\n)*N
            if not data.startswith(b"*") or b"\r\n" not in data:
                break
            head, rest = data.split(b"\r\n", 1)
            args, ok = [], True
            for _ in range(int(head[1:])):
                if b"\r\n" not in rest:
                    ok = False
                    break
                size_line, rest = rest.split(b"\r\n", 1)
                size = int(size_line[1:])
                if len(rest) < size + 2:
                    ok = False
                    break
                args.append(rest[:size])
                rest = rest[size + 2:]
            if not ok:
                break
            data = rest
            if args and args[0].upper() == b"PING":
                conn.sendall(b"+PONG\r\n")
            else:
                conn.sendall(b"-NOSCRIPT No matching script. Please use EVAL.\r\n")
while True:
    conn, _ = listener.accept()
    try:
        serve(conn)
    except Exception:
        pass
    conn.close()
PY
    python3 noscript.py noscript.port >/dev/null 2>&1 </dev/null 3>&- &
    echo $! >noscript.pid
    wait_until 10 test -s noscript.port
    NOSCRIPT_PORT=$(<noscript.port)
}

@test "a server that answers NOSCRIPT even to EVAL: exit 78 at once, one line, not a loop" {
    start_noscript_server
    local start
    start=$(now_ms)
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$NOSCRIPT_PORT" --no-cache --key ns -- touch ran
    assert_status 78
    assert_output ''
    assert_one_error_line "answered NOSCRIPT to EVAL, after the script was sent whole"
    assert [ ! -e ran ]
    assert_between "ms until lockrun gave up" $(($(now_ms) - start)) 0 3000
}
