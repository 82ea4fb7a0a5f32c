#!/usr/bin/env bats
# A holder that dies without releasing: the kernel drops its flock(2) at once, so the key is
# free at once, not when a lease runs out (SPEC §6; with Redis it is the lease,
# redis/lease_expiry.bats). A waiter is woken by it (inotify on the lock file).

# The local backend, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=local
load ../common
setup() { per_test_setup; }
teardown() { per_test_teardown; }

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
    # The killed holder's command (holder.cmd.pid) is an orphan now; teardown kills it.
}

@test "right after a holder is SIGKILLed the key is free: --wait 0 runs" {
    start_holder holder --lease 30s --key crash
    kill -KILL "${SPAWNED[holder]}"
    wait_exit holder 5
    assert_equal "$(holder_of crash)" free

    run --separate-stderr lockrun --no-cache --wait 0 --lease 30s --key crash -- echo ran
    assert_status 0
    assert_output ran
}
