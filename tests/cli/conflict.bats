#!/usr/bin/env bats
# A caller that finds the lock held and has no --wait time left: exit 75 (or -E N), the
# command not run (SPEC §1, §2 -w/-E, §3).

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# end_holder: lets the holder finish and checks that the conflict did not disturb it.
end_holder() {
    release holder
    assert_exit holder 0 10
}

@test "--wait 0: exit 75 at once with one line naming the key, command not run" {
    start_holder holder --key busy --lease 30s
    local started_at
    started_at=$(now_ms)
    run --separate-stderr lockrun --no-cache --wait 0 --key busy -- touch ran
    assert_between "ms until the conflict" $(($(now_ms) - started_at)) 0 1500
    assert_status 75
    assert_output ''
    assert_one_error_line 'busy|held'
    assert [ ! -e ran ]
    end_holder
}

@test "without --wait a held lock is a conflict (the default wait is 0)" {
    start_holder holder --key busy --lease 30s
    run --separate-stderr lockrun --no-cache --key busy -- touch ran
    assert_status 75
    assert [ ! -e ran ]
    end_holder
}

@test "a conflicting caller leaves the holder's lock as it was" {
    start_holder holder --key busy --lease 30s
    local holder_before
    holder_before=$(holder_of busy)
    assert_regex "$holder_before" "^held pid=${SPAWNED[holder]} fence=[0-9]+\$"
    run --separate-stderr lockrun --no-cache --wait 0 --key busy -- touch ran
    assert_status 75
    assert_equal "$(holder_of busy)" "$holder_before"
    end_holder
}

@test "-E 3 makes the conflict exit 3" {
    start_holder holder --key busy --lease 30s
    run --separate-stderr lockrun --no-cache -E 3 --key busy -- touch ran
    assert_status 3
    assert [ ! -e ran ]
    end_holder
}

@test "-E 0 skips: exit 0 without running the command" {
    start_holder holder --key busy --lease 30s
    run --separate-stderr lockrun --no-cache -E 0 --key busy -- touch ran
    assert_status 0
    assert_output ''
    assert [ ! -e ran ]
    end_holder
}

@test "-q silences the conflict message" {
    start_holder holder --key busy --lease 30s
    run --separate-stderr lockrun -q --no-cache --wait 0 --key busy -- touch ran
    assert_status 75
    assert_equal "$stderr" ''
    end_holder
}

@test "--wait 1s gives up with 75 after about a second" {
    start_holder holder --key busy --lease 30s
    local started_at
    started_at=$(now_ms)
    run --separate-stderr lockrun --no-cache --wait 1s --key busy -- touch ran
    assert_between "ms until lockrun gave up" $(($(now_ms) - started_at)) 800 3000
    assert_status 75
    assert_one_error_line 'busy|held'
    assert [ ! -e ran ]
    end_holder
}

@test "--wait inf waits until the holder ends, then runs" {
    start_holder holder --key busy --lease 1s
    local base
    base=$(subscribers busy)
    spawn waiter "$LOCKRUN" --no-cache --wait inf --key busy -c 'echo ran > waiter.ran'
    wait_for_waiter busy "$base" waiter
    # On the clock: well past the holder's lease (renewed meanwhile), it still waits.
    sleep_until_ms $(($(now_ms) + 1500))
    assert is_running "${SPAWNED[waiter]}"
    assert [ ! -e waiter.ran ]

    release holder
    assert_exit holder 0 10
    assert_exit waiter 0 10
    assert_equal "$(<waiter.ran)" ran
}
