#!/usr/bin/env bats
# The live waiting line (SPEC §7): on a terminal only, redrawn in place, erased at the end.

load common

setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# script(1) gives lockrun a pseudo-terminal for stdin/stdout/stderr and records it in
# ./typescript (-f: as it comes, so that a test can wait on it).

@test "waiting on a terminal draws one status line and erases it" {
    start_holder holder -k live:1
    spawn waiter script -qfec "$LOCKRUN --no-cache --wait 20 -k live:1 -- echo done" typescript
    wait_until 10 grep -q "giving up in" typescript
    release holder
    assert_exit waiter 0 10
    run cat -v typescript
    assert_output --partial "lockrun: waiting for live:1: held by pid"
    # Erased in place (carriage return, clear to end of line), then the command's output.
    assert_output --regexp '\^M\^\[\[K.*done'
}

@test "waiting without a terminal draws nothing" {
    start_holder holder -k live:2
    local base
    base=$(subscribers live:2)
    spawn waiter "$LOCKRUN" --no-cache --wait 20 -k live:2 -- echo done
    wait_for_waiter live:2 "$base" waiter
    release holder
    assert_exit waiter 0 10
    assert_equal "$(<waiter.out)" done
    assert_equal "stderr: '$(<waiter.err)'" "stderr: ''"
}

@test "-q on a terminal draws nothing" {
    start_holder holder -k live:3
    local base
    base=$(subscribers live:3)
    spawn waiter script -qfec "$LOCKRUN -q --no-cache --wait 20 -k live:3 -- echo done" typescript
    wait_for_waiter live:3 "$base"
    release holder
    assert_exit waiter 0 10
    run cat -v typescript
    refute_output --partial "waiting for"
    assert_output --partial done
}
