#!/usr/bin/env bats
# A local lock has no lease (SPEC §6): a holder paused for longer than --lease still holds
# its flock, nobody else can run meanwhile, and when it resumes its run ends as usual.

LOCKRUN_TEST_BACKEND=local
load ../common
load ../cache_helpers
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "a local holder paused past its lease keeps the lock, and its run is stored" {
    spawn holder "$LOCKRUN" --lease 1s --key paused:local \
        -c 'echo run >> runs; touch started; sleep 1.5; echo first'
    wait_until 10 test -e started
    kill -STOP "${SPAWNED[holder]}"
    sleep_until_ms $(($(now_ms) + 2500))
    run --separate-stderr lockrun --key paused:local -c 'echo run >> runs; echo second'
    assert_status 75
    kill -CONT "${SPAWNED[holder]}"
    assert_exit holder 0 10
    assert_equal "$(<holder.out)" first
    run grep -c 'lost' holder.err
    assert_output 0
    assert_runs 1
    run --separate-stderr lockrun cache show paused:local
    assert_output first
}
