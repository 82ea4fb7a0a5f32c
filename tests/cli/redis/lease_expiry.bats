#!/usr/bin/env bats
# The Redis lease (SPEC §5): the only thing that frees the key of a holder that died without
# releasing it, and renewed (PEXPIRE to the full lease) while the command runs.

# Redis only, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=redis
load ../common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "a SIGKILLed holder keeps the key held until its lease runs out" {
    spawn holder "$LOCKRUN" --no-cache --lease 2s --key expiry -c 'echo $$ > holder.cmd.pid; exec sleep 30'
    wait_until 10 test -s holder.cmd.pid
    kill -KILL "${SPAWNED[holder]}"
    wait_exit holder 5

    run --separate-stderr lockrun --no-cache --wait 0 --key expiry -- touch early.ran
    assert_status 75
    assert [ ! -e early.ran ]
}

@test "a SIGKILLed holder's key is free when its lease runs out" {
    spawn holder "$LOCKRUN" --no-cache --lease 2s --key expiry -c 'echo $$ > holder.cmd.pid; exec sleep 30'
    wait_until 10 test -s holder.cmd.pid
    kill -KILL "${SPAWNED[holder]}"
    local killed_at
    killed_at=$(now_ms)
    wait_exit holder 5

    spawn waiter "$LOCKRUN" --no-cache --wait 10 --lease 2s --key expiry -c 'date +%s%3N > waiter.ran'
    assert_exit waiter 0 15
    # The lease was renewed at most lease/3 before the kill: 1.3-2 s were left.
    assert_between "ms from the kill to the waiter's start" $(($(<waiter.ran) - killed_at)) 1000 4000

    # The killed holder's command died with it (SPEC §4), long before the waiter ran.
    run is_running "$(<holder.cmd.pid)"
    assert_failure
}

@test "the lock key's PTTL is renewed while the command runs longer than the lease" {
    start_holder holder --lease 1s --key renewed
    # Wait on the clock, not on state: 1.5 leases into the run, when the key would be gone
    # without a renewal (lease_expiry.bats checks that the key stays held for longer).
    sleep_until_ms $(($(<holder.started) + 1500))

    local pttl
    pttl=$(rcli PTTL "$(lock_key renewed)")
    assert_between "PTTL of the renewed lock" "$pttl" 1 1000

    release holder
    assert_exit holder 0 10
    assert_nothing_held
}
