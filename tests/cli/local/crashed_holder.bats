#!/usr/bin/env bats
# A holder that dies without releasing (SPEC §4, §6): the kernel drops its flock(2) once every
# process holding it is gone: lockrun and the command's processes, which inherit the locked
# descriptor, as with flock(1). The command's process group dies with lockrun, so the key is
# free at once, not when a lease runs out (with Redis it is the lease,
# redis/lease_expiry.bats); a process of the command that left its group keeps the key
# locked until it ends. A waiter is woken by the release (inotify on the lock file).

# The local backend, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=local
load ../common
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# key_is_free KEY: `lockrun status` says KEY is free.
key_is_free() {
    [[ $(holder_of "$1") == free ]]
}

@test "a SIGKILLed holder frees the key at once: a waiter proceeds within 1 s despite --lease 30s" {
    start_holder holder --lease 30s --key crash
    local base
    base=$(subscribers crash)
    spawn waiter "$LOCKRUN" --no-cache --wait 10 --lease 30s --key crash -c 'date +%s%3N > waiter.ran'
    wait_for_waiter crash "$base" waiter

    local killed_at
    killed_at=$(now_ms)
    kill -KILL "${SPAWNED[holder]}"
    assert_exit waiter 0 10
    assert_between "ms from the kill to the waiter's start" $(($(<waiter.ran) - killed_at)) 0 1000
    wait_exit holder 5
    assert_nothing_held
}

@test "once a SIGKILLed holder's command is gone the key is free: --wait 0 runs" {
    start_holder holder --lease 30s --key crash
    kill -KILL "${SPAWNED[holder]}"
    wait_exit holder 5
    # The command's process group is killed with its guard (SPEC §4).
    wait_until 5 is_gone "$(<holder.cmd.pid)"
    wait_until 5 key_is_free crash

    run --separate-stderr lockrun --no-cache --wait 0 --lease 30s --key crash -- echo ran
    assert_status 0
    assert_output ran
}

@test "a process of the command that outlives its SIGKILLed lockrun keeps the key locked until it ends" {
    # The command starts a process that leaves its process group (so the kill of the group
    # spares it) and keeps the descriptors it inherited, the lock's among them.
    spawn holder "$LOCKRUN" --no-cache --key crash -c \
        "setsid sh -c 'echo \$\$ > escaped.pid; exec sleep 30' </dev/null >/dev/null 2>&1 & $(hold_cmd holder)"
    wait_until 10 test -s holder.started
    wait_until 10 test -s escaped.pid
    kill -KILL "${SPAWNED[holder]}"
    wait_exit holder 5
    wait_until 5 is_gone "$(<holder.cmd.pid)"

    run --separate-stderr lockrun --no-cache --wait 0 --key crash -- touch ran
    assert_status 75
    assert [ ! -e ran ]
    assert_regex "$(holder_of crash)" '^held '

    kill -KILL "$(<escaped.pid)"
    wait_until 5 is_gone "$(<escaped.pid)"
    wait_until 5 key_is_free crash
    run --separate-stderr lockrun --no-cache --wait 0 --key crash -- echo ran
    assert_status 0
    assert_output ran
}

@test "a background process that outlives a finished run does not keep the key locked" {
    run --separate-stderr lockrun --no-cache --key leftover \
        -c 'sleep 30 </dev/null >/dev/null 2>&1 & echo $! > leftover.pid; echo done'
    assert_status 0
    assert_output done
    assert is_running "$(<leftover.pid)"
    # It holds the lock's descriptor that it inherited, yet the key is free.
    assert_equal "$(holder_of leftover)" free
    run --separate-stderr lockrun --no-cache --wait 0 --key leftover -- echo ran
    assert_status 0
    assert_output ran
}
