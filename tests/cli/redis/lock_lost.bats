#!/usr/bin/env bats
# Losing a Redis lock while the command runs (SPEC §3 code 76, §5 renew): the key deleted or
# taken over in Redis behind lockrun's back, or the server silent past the lease.

# Redis only, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=redis
load ../common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# A command that notes the time it got SIGTERM in ./got-term, then exits. Its own stderr
# goes to cmd.err: the shell reports the killed `sleep` ("Terminated"), and holder.err
# must hold only lockrun's lines.
trapping_cmd() {
    printf '%s' "exec 2>cmd.err; trap 'date +%s%3N > got-term; exit 143' TERM; $(hold_cmd holder)"
}

@test "a deleted lock key stops the command with SIGTERM: exit 76, one line" {
    spawn holder "$LOCKRUN" --no-cache --lease 1s --key lost -c "$(trapping_cmd)"
    wait_until 10 test -s holder.started
    assert_equal "$(rcli DEL "$(lock_key lost)")" 1
    local deleted_at
    deleted_at=$(now_ms)

    assert_exit holder 76 10
    assert_between "ms from DEL to lockrun's exit" $(($(now_ms) - deleted_at)) 0 3000
    assert [ -s got-term ]
    load_stderr holder
    assert_one_error_line 'lost'
    assert_nothing_held
}

@test "a lock taken over by another token is lost, and the other holder's lock is kept" {
    spawn holder "$LOCKRUN" --no-cache --lease 1s --key lost -c "$(trapping_cmd)"
    wait_until 10 test -s holder.started
    rcli HSET "$(lock_key lost)" token intruder >/dev/null
    rcli PERSIST "$(lock_key lost)" >/dev/null

    assert_exit holder 76 10
    assert [ -s got-term ]
    assert_equal "$(rcli HGET "$(lock_key lost)" token)" intruder
}

@test "a server that stops answering costs the lock when the lease runs out" {
    spawn holder "$LOCKRUN" --no-cache --lease 1s --key lost -c "$(trapping_cmd)"
    wait_until 10 test -s holder.started
    local paused_at
    paused_at=$(now_ms)
    assert_equal "$(rcli CLIENT PAUSE 4000 ALL)" OK

    # lockrun counts the lease on its own clock: the command is stopped at lease end,
    # not when the server answers again 4 s later.
    wait_until 5 test -s got-term
    assert_between "ms from the pause to SIGTERM" $(($(<got-term) - paused_at)) 0 2000
    assert_exit holder 76 15

    # Redis 7.0 runs UNPAUSE only when the pause is over: this waits for the server.
    rcli CLIENT UNPAUSE >/dev/null
    wait_until 5 no_lock_keys
}

# A command that appends a line to ./ticks every 50 ms, and notes SIGTERM there too.
ticking_until_term_cmd() {
    printf '%s' "exec 2>cmd.err; echo \$\$ > cmd.pid; trap 'echo TERM >> ticks; exit 143' TERM
        while :; do echo A >> ticks; sleep 0.05; done"
}

@test "a holder stopped with SIGSTOP: its watcher stops the command at the lease's end, before another run takes the key" {
    # lockrun cannot act while stopped; its lease runs out, and another caller takes the
    # key. lockrun-watcher knows when the lease ends and stops the command then
    # (--on-lock-lost term: SIGTERM), so the two never overlap. Continued: 76.
    [[ -x $(dirname "$LOCKRUN")/lockrun-watcher ]] || skip "lockrun-watcher is built for x86-64 and arm64 only"
    spawn holder "$LOCKRUN" --no-cache --lease 1s --kill-after 1s --key stopped \
        -c "$(ticking_until_term_cmd)"
    wait_until 10 test -s ticks
    kill -STOP "${SPAWNED[holder]}"
    wait_until 5 grep -qx TERM ticks
    run --separate-stderr lockrun --no-cache --wait 10 --key stopped -c 'echo B >> ticks'
    assert_success
    # Nothing of the stopped holder's command after the TERM: B is the last line.
    wait_until 5 is_gone "$(<cmd.pid)"
    assert_equal "$(tail -2 ticks | tr '\n' ' ')" 'TERM B '
    kill -CONT "${SPAWNED[holder]}"
    assert_exit holder 76 10
    assert_nothing_held
}

@test "--on-lock-lost kill: the watcher of a stopped holder kills the command at the lease's end" {
    [[ -x $(dirname "$LOCKRUN")/lockrun-watcher ]] || skip "lockrun-watcher is built for x86-64 and arm64 only"
    spawn holder "$LOCKRUN" --no-cache --lease 1s --on-lock-lost kill --key stopped-kill \
        -c "$(ticking_until_term_cmd)"
    wait_until 10 test -s ticks
    kill -STOP "${SPAWNED[holder]}"
    wait_until 5 is_gone "$(<cmd.pid)"
    refute grep -qx TERM ticks  # killed, not asked
    kill -CONT "${SPAWNED[holder]}"
    assert_exit holder 76 10
}
