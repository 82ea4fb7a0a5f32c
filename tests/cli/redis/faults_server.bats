#!/usr/bin/env bats
# Fault injection on the server side: a Redis that freezes (SIGSTOP), crashes and comes back
# empty, dies under a crowd of waiters, or is out of memory. Each test that breaks a server
# starts a redis-server of its own on a free loopback port (never the file's shared one) and
# points LOCKRUN_REDIS_URL, REDIS_PORT (rcli and the helpers of common.bash) at it; teardown
# stops it by PID, also when the test failed while it was stopped.
#
# What is proved here (SPEC §3, §5): a holder that cannot keep its lease stops its command on
# its own clock and exits 76 with nothing cached; a waiter whose server goes away exits 69 at
# once, one line, instead of hanging; a server out of memory is refused cleanly (69) with
# nothing half-written; and nothing is left held.

# Redis only, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=redis
load ../common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() {
    per_test_setup
    SHARED_REDIS_PORT=$REDIS_PORT
}
teardown() {
    stop_redis_servers "$BATS_TEST_TMPDIR" # this test's own, stopped or not
    export REDIS_PORT=$SHARED_REDIS_PORT
    export LOCKRUN_REDIS_URL=redis://127.0.0.1:$SHARED_REDIS_PORT
    per_test_teardown
}

# --- this file's own servers ----------------------------------------------------------------

# own_redis_start PORT|any [REDIS-SERVER-ARGS...]: starts a redis-server of this test on PORT,
# or on a free port (start_redis_server), whose PID is OWN_REDIS_PID; then REDIS_PORT and
# LOCKRUN_REDIS_URL name it, for rcli, the helpers and lockrun.
own_redis_start() {
    start_redis_server "$BATS_TEST_TMPDIR" own-redis "$1" -- "${@:2}"
    OWN_REDIS_PID=$REDIS_SERVER_PID
    export REDIS_PORT=$REDIS_SERVER_PORT
    export LOCKRUN_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
}

# own_redis_crash: SIGKILLs the test's server (no chance to say goodbye) and reaps it.
own_redis_crash() {
    kill -KILL "$OWN_REDIS_PID"
    wait "$OWN_REDIS_PID" 2>/dev/null || true
}

# --- commands and assertions ----------------------------------------------------------------

# term_cmd NAME: a -c command that prints "partial" (so that there is output that must not be
# cached), writes NAME.started, then sleeps 20 s; on SIGTERM it writes the time (ms) to
# got-term and exits 143. The sleep runs in the background so that the trap runs at once; its
# PID goes to NAME.cmd.pid with the shell's, for teardown. The shell's own stderr goes to
# cmd.err: NAME.err holds only lockrun's lines.
term_cmd() {
    local n=$1
    printf '%s' "exec 2>cmd.err; trap 'date +%s%3N > got-term; exit 143' TERM; echo \$\$ > $n.cmd.pid; echo partial; sleep 20 & echo \$! >> $n.cmd.pid; date +%s%3N > $n.started; wait"
}

# assert_ends_with_error REGEX: $stderr (load_stderr) is lockrun's only ("lockrun: " on every
# line); its last line is the run's error and matches the case-insensitive REGEX, and no other
# line does (the lines before it are warnings, such as a release the server could not answer).
assert_ends_with_error() {
    local line matches=0 last=
    if [[ -z ${stderr-} ]]; then
        fail "expected lockrun's error on stderr, got nothing"
    fi
    shopt -s nocasematch
    for line in "${stderr_lines[@]}"; do
        if [[ $line != 'lockrun: '* ]]; then
            shopt -u nocasematch
            fail "a stderr line that is not lockrun's: $line"
        fi
        if [[ $line =~ $1 ]]; then
            matches=$((matches + 1))
        fi
        last=$line
    done
    if ! [[ $last =~ $1 ]]; then
        shopt -u nocasematch
        fail "the last stderr line does not match /$1/: $stderr"
    fi
    shopt -u nocasematch
    if ((matches != 1)); then
        fail "$matches stderr lines match /$1/, expected one: $stderr"
    fi
}

# assert_nothing_cached KEY: `lockrun cache show KEY` finds nothing (exit 1, no stdout) and KEY's
# :out record does not exist.
assert_nothing_cached() {
    run --separate-stderr lockrun cache show "$1"
    assert_status 1
    assert_output ''
    assert_equal "out exists: $(rcli EXISTS "$(out_key "$1")")" 'out exists: 0'
}

# --- a frozen server --------------------------------------------------------------------------

@test "Redis frozen (SIGSTOP) past the lease: SIGTERM on lockrun's own clock, exit 76, nothing cached; the next caller runs" {
    own_redis_start any
    spawn holder "$LOCKRUN" --lease 1s --key frozen -c "$(term_cmd holder)"
    wait_until 10 test -s holder.started
    local first_fence
    first_fence=$(rcli GET "$(fence_key frozen)")
    assert_regex "$first_fence" '^[0-9]{13}$' # a fence starts from the clock (ms)

    kill -STOP "$OWN_REDIS_PID"
    local stopped_at
    stopped_at=$(now_ms)

    # The server says nothing now, not even "lost": lockrun's own clock must notice that no
    # renewal was confirmed within the 1 s lease (SPEC §5) and stop the command.
    wait_until 5 test -s got-term
    assert_between "ms from the freeze to SIGTERM" $(($(<got-term) - stopped_at)) 0 1500
    # Exit: the lease (1 s), then one --io-timeout (2 s default) spent on the release that the
    # frozen server cannot answer, and 1.5 s of margin.
    assert_exit holder 76 10
    assert_between "ms from the freeze to lockrun's exit" $(($(now_ms) - stopped_at)) 0 4500
    load_stderr holder
    assert_ends_with_error 'lost the lock'
    # Output already streamed stays streamed; it is just never cached.
    assert_equal "$(<holder.out)" partial

    kill -CONT "$OWN_REDIS_PID"
    assert_nothing_cached frozen
    # The lock expired in Redis while it was frozen: the next caller takes it (the next
    # fence) and runs.
    run --separate-stderr lockrun --wait 5 --key frozen -c 'touch second.ran; echo "second fence=$LOCKRUN_FENCING_TOKEN"'
    assert_status 0
    assert_output "second fence=$((first_fence + 1))"
    assert [ -e second.ran ]
    assert_nothing_held
}

# --- a server that crashes and comes back empty -----------------------------------------------

@test "Redis restarted mid-run: the holder cannot renew on the new, empty server; exit 76, nothing cached" {
    local port crashed_at
    own_redis_start any
    port=$REDIS_PORT
    spawn holder "$LOCKRUN" --lease 2s --key restarted -c "$(term_cmd holder)"
    wait_until 10 test -s holder.started

    own_redis_crash
    crashed_at=$(now_ms)
    own_redis_start "$port"

    # The restarted server has no lock (no persistence): renewal there says "not yours", and
    # that is a lost lock however quick the restart (SPEC §5: renew never re-creates a lock).
    assert_exit holder 76 10
    assert_between "ms from the crash to lockrun's exit" $(($(now_ms) - crashed_at)) 0 4000
    assert [ -s got-term ]
    load_stderr holder
    assert_ends_with_error 'lost the lock'
    assert_nothing_cached restarted
    assert_nothing_held
}

@test "Redis restarted mid-wait: a waiter with --wait 30 exits 69 at once, one line, does not run" {
    local port crashed_at
    own_redis_start any
    port=$REDIS_PORT
    start_holder holder --lease 2s --key rewait
    spawn waiter "$LOCKRUN" --wait 30 --key rewait -- touch waiter.ran
    wait_for_waiter rewait 0 waiter

    own_redis_crash
    crashed_at=$(now_ms)
    own_redis_start "$port"

    # Its subscription is cut: a waiter never sits out its --wait on a dead connection. Bound:
    # one --connect-timeout plus one --io-timeout (2 s each), far below --wait 30.
    assert_exit waiter 69 6
    assert_between "ms from the crash to the waiter's exit" $(($(now_ms) - crashed_at)) 0 4000
    load_stderr waiter
    assert_one_error_line "127\\.0\\.0\\.1:$port"
    assert [ ! -e waiter.ran ]
    # The holder meets the empty server too (see the test above).
    assert_exit holder 76 10
    assert_nothing_held
}

# --- a server that dies under a crowd ---------------------------------------------------------

@test "Redis killed while 20 callers wait: all 20 exit 69 within 5 s, one line each; the holder exits 76" {
    local port killed_at i
    own_redis_start any
    port=$REDIS_PORT
    start_holder holder --lease 2s --key crowd
    for i in $(seq 20); do
        spawn "w$i" "$LOCKRUN" --wait 60 --key crowd -- touch "w$i.ran"
    done
    wait_until 20 subscribers_above crowd 19

    own_redis_crash
    killed_at=$(now_ms)

    for i in $(seq 20); do
        assert_exit "w$i" 69 6
    done
    assert_between "ms from the kill to the last waiter's exit" $(($(now_ms) - killed_at)) 0 5000
    for i in $(seq 20); do
        load_stderr "w$i"
        assert_one_error_line "127\\.0\\.0\\.1:$port"
        assert [ ! -e "w$i.ran" ]
    done

    # The holder: 76, not 69. Its command had started, so what its caller must learn is that
    # the command was cut off mid-way (SPEC §3: 76, "the lock was lost while the command ran
    # and was stopped; nothing was cached"), not that the backend refused it before anything
    # ran (69). SPEC §5 says the same from the other side: with no renewal confirmed by the
    # lease's end "the lock is lost (SPEC §3, code 76)" - and a dead server confirms none.
    # Bound: the lease (2 s) and a second of margin; the release finds the port closed at once.
    assert_exit holder 76 10
    assert_between "ms from the kill to the holder's exit" $(($(now_ms) - killed_at)) 0 3500
    assert [ -s holder.started ]
    assert [ ! -e holder.ended ]
    load_stderr holder
    assert_ends_with_error 'lost the lock'
}

# --- a server out of memory -------------------------------------------------------------------

# fill_until_oom: SETRANGE makes a 400 kB value from a tiny command, so that the server goes
# past its maxmemory (a large SET would be refused before it got there: Redis counts the
# command's own buffer); keys are added until a write is refused.
fill_until_oom() {
    local i reply
    for i in $(seq 20); do
        reply=$(rcli SETRANGE "filler:$i" 400000 x)
        if [[ $reply == OOM* ]]; then
            return 0
        fi
    done
    fail "the server never refused a write: $(rcli INFO memory | grep -E '^(used_memory|maxmemory):')"
}

@test "Redis at maxmemory with noeviction: exit 69, one line, the command not run, nothing written" {
    own_redis_start any --maxmemory 1mb --maxmemory-policy noeviction
    assert_equal "$(rcli SET "$(fence_key full)" 41)" OK
    fill_until_oom
    assert_equal "$(rcli SET probe 1)" "OOM command not allowed when used memory > 'maxmemory'."

    run --separate-stderr lockrun --key full -- touch ran
    # 69, not 78. SPEC §3's 69 is "backend unavailable ... refused": the server is reachable
    # but will not do the work now, a state of the server that can pass (keys expire, an
    # operator frees memory) like any other outage, and exactly what --on-backend-error run
    # exists for. 78 is for what the user must fix in lockrun's own settings (a URL, a file,
    # credentials, a certificate); nothing in them is wrong here.
    assert_status 69
    assert_output ''
    assert_one_error_line 'OOM|memory'
    assert [ ! -e ran ]
    # The script was refused before it wrote anything (SPEC §5, "#!lua"): no lock, no fence step.
    assert_equal "$(rcli GET "$(fence_key full)")" 41
    assert_equal "lock exists: $(rcli EXISTS "$(lock_key full)")" 'lock exists: 0'
    assert_equal "out exists: $(rcli EXISTS "$(out_key full)")" 'out exists: 0'
}

@test "Redis reaching maxmemory during the run: the command's status, nothing cached, and the lock still released" {
    own_redis_start any --maxmemory 4mb --maxmemory-policy noeviction
    spawn holder "$LOCKRUN" --key filled -c "$(hold_cmd holder); echo done"
    wait_until 10 test -s holder.started
    assert_equal "$(rcli SETRANGE filler 6000000 x)" 6000001
    assert_equal "$(rcli SET probe 1)" "OOM command not allowed when used memory > 'maxmemory'."

    release holder
    # The command succeeded: its status. Its result cannot be stored (a warning says so).
    assert_exit holder 0 10
    assert_equal "$(<holder.out)" done
    assert_equal "out exists: $(rcli EXISTS "$(out_key filled)")" 'out exists: 0'
    # SPEC §3: "whatever the error, nothing is left held: a lock taken is released". Freeing
    # a key is what a full server still allows (DEL is not refused under OOM); the waiters must
    # not sit out the 30 s lease.
    if ! poll_until 2 no_lock_keys; then
        load_stderr holder
        fail "the lock outlived its run: $(lock_key filled) still has $(rcli PTTL "$(lock_key filled)") ms of lease; the holder said: $stderr"
    fi
}
