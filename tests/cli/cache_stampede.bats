#!/usr/bin/env bats
# A stampede (SPEC §1): many callers of one key at once; exactly one runs the command and
# the others wait for it and share its outcome, its failure included (singleflight).
# The commands append a line to `runs`, so its line count is how many times they ran.
# Waiters are started with -v: the info line "waiting for KEY: held by ..." says that a
# caller found the run's lock held and now waits for that run, whatever the backend.

load common
load cache_helpers
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

k_callers=50

# gated_cmd TEXT CODE: a -c command that counts its run, waits until ./go exists (at most
# 30 s), prints TEXT and exits CODE.
gated_cmd() {
    printf '%s' "echo run >> runs; $(wait_for_go_cmd); echo $1; exit $2"
}

# callers_waiting N: at least N of the spawned callers c1..c$k_callers logged that they
# wait for the run.
callers_waiting() {
    local n=0 i
    for ((i = 1; i <= k_callers; i++)); do
        if grep -q 'waiting for' "c$i.err" 2>/dev/null; then
            n=$((n + 1))
        fi
    done
    ((n >= $1))
}

# spawn_callers ARGS...: spawns c1..c$k_callers as `lockrun ARGS...`.
spawn_callers() {
    local i
    for ((i = 1; i <= k_callers; i++)); do
        spawn "c$i" "$LOCKRUN" "$@"
    done
}

# assert_callers CODE TEXT: every caller exited CODE and printed exactly TEXT.
assert_callers() {
    local i
    for ((i = 1; i <= k_callers; i++)); do
        assert_exit "c$i" "$1" 30
        assert_equal "c$i stdout: $(<"c$i.out")" "c$i stdout: $2"
    done
}

@test "50 concurrent callers of a 1 s command: it runs once, all 50 print its output and exit 0" {
    spawn_callers --wait 30 --key stampede:ok -c 'echo run >> runs; sleep 1; echo "the report"'
    assert_callers 0 'the report'
    assert_runs 1
}

@test "50 callers waiting for a failing run: it runs once, all 50 exit 3 and print its output" {
    spawn_callers -v --wait 30 --key stampede:fail -c "$(gated_cmd failed 3)"
    # One caller runs the command; the other 49 found its lock held and wait for it.
    wait_until 10 test -s runs
    wait_until 20 callers_waiting $((k_callers - 1))
    touch go
    assert_callers 3 failed
    assert_runs 1
}

@test "a caller that arrives after a failing run ended runs the command again" {
    spawn_callers -v --wait 30 --key stampede:after -c "$(gated_cmd failed 3)"
    wait_until 10 test -s runs
    wait_until 20 callers_waiting $((k_callers - 1))
    touch go
    assert_callers 3 failed
    assert_runs 1

    run --separate-stderr lockrun --wait 30 --key stampede:after -c "$(gated_cmd failed 3)"
    assert_status 3
    assert_output failed
    assert_runs 2
}

@test "the failure shared with the waiters is not stored" {
    spawn holder "$LOCKRUN" --key stampede:notstored -c "$(gated_cmd failed 3)"
    wait_until 10 test -s runs
    spawn waiter "$LOCKRUN" -v --wait 30 --key stampede:notstored -c "$(gated_cmd failed 3)"
    wait_until 10 grep -q 'waiting for' waiter.err
    touch go
    assert_exit holder 3 10
    assert_exit waiter 3 10
    assert_equal "$(<waiter.out)" failed
    run --separate-stderr lockrun status stampede:notstored --json
    assert_status 0
    assert_equal "cache: $(jq -c .cache <<<"$output")" "cache: null"
}

@test "a --refresh caller that waited for a failing run runs the command itself" {
    spawn holder "$LOCKRUN" --key stampede:refresh -c "$(gated_cmd failed 3)"
    wait_until 10 test -s runs
    spawn waiter "$LOCKRUN" -v --refresh --wait 30 --key stampede:refresh \
        -c 'echo run >> runs; echo refreshed'
    wait_until 10 grep -q 'waiting for' waiter.err
    touch go
    assert_exit holder 3 10
    assert_exit waiter 0 10
    assert_equal "$(<waiter.out)" refreshed
    assert_runs 2
}

@test "a waiter replays the stored success of the run it waited for, without running" {
    spawn holder "$LOCKRUN" --key stampede:success -c "$(gated_cmd 'the report' 0)"
    wait_until 10 test -s runs
    spawn waiter "$LOCKRUN" -v --wait 30 --key stampede:success -c 'echo run >> runs; echo other'
    wait_until 10 grep -q 'waiting for' waiter.err
    touch go
    assert_exit holder 0 10
    assert_exit waiter 0 10
    assert_equal "$(<waiter.out)" 'the report'
    assert_runs 1
}
