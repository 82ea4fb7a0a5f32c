#!/usr/bin/env bats
# Hand-off: a waiter is woken by the holder's release, not by its lease running out or by
# polling (SPEC §1 step 2, §5, §6). The benchmark measures the latency; this asserts a bound.

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "a waiter starts its command within 1 s of the holder's command ending" {
    start_holder holder --key handoff --lease 30s
    local base
    base=$(subscribers handoff)
    spawn waiter "$LOCKRUN" --no-cache --wait 30 --lease 30s --key handoff -c 'date +%s%3N > waiter.ran'
    wait_for_waiter handoff "$base" waiter

    release holder
    assert_exit holder 0 10
    assert_exit waiter 0 10
    assert_between "ms from the holder's end to the waiter's start" \
        $(($(<waiter.ran) - $(<holder.ended))) 0 1000
}

@test "with --no-cache a waiter runs its own command after the holder's failed" {
    spawn holder "$LOCKRUN" --no-cache --key handoff --lease 30s -c "$(hold_cmd holder); exit 7"
    wait_until 10 test -s holder.started
    local base
    base=$(subscribers handoff)
    spawn waiter "$LOCKRUN" --no-cache --wait 30 --key handoff -c 'echo waiter ran; exit 0'
    wait_for_waiter handoff "$base" waiter

    release holder
    assert_exit holder 7 10
    assert_exit waiter 0 10
    assert_equal "$(<waiter.out)" 'waiter ran'
}

@test "two waiters both run after the holder, one after the other" {
    start_holder holder --key handoff --lease 30s
    local base
    base=$(subscribers handoff)
    spawn first "$LOCKRUN" --no-cache --wait 30 --key handoff -c 'echo "$LOCKRUN_FENCING_TOKEN" > first.ran'
    spawn second "$LOCKRUN" --no-cache --wait 30 --key handoff -c 'echo "$LOCKRUN_FENCING_TOKEN" > second.ran'
    wait_for_waiter handoff "$base" first second

    release holder
    assert_exit holder 0 10
    assert_exit first 0 10
    assert_exit second 0 10
    assert_not_equal "$(<first.ran)" "$(<second.ran)"
    assert_nothing_held
}
