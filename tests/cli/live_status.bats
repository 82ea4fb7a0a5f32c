#!/usr/bin/env bats
# The live waiting line (SPEC §7): on a terminal only, redrawn in place, erased at the end.

load common

setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "waiting on a terminal draws one status line and erases it" {
    start_holder holder -k live:1
    ( sleep 1.5; touch holder.go ) 3>&- &
    # script(1) gives lockrun a pseudo-terminal for stdin/stdout/stderr and records it.
    script -qec "$LOCKRUN --no-cache --wait 20 -k live:1 -- echo done" typescript >/dev/null 2>&1
    run cat -v typescript
    assert_output --partial "lockrun: waiting for live:1: held by pid"
    assert_output --partial "giving up in"
    # Erased in place (carriage return, clear to end of line), then the command's output.
    assert_output --regexp '\^M\^\[\[K.*done'
}

@test "waiting without a terminal draws nothing" {
    start_holder holder -k live:2
    ( sleep 1; touch holder.go ) 3>&- &
    run --separate-stderr lockrun --no-cache --wait 20 -k live:2 -- echo done
    assert_status 0
    assert_output done
    [ -z "$stderr" ]
}

@test "-q on a terminal draws nothing" {
    start_holder holder -k live:3
    ( sleep 1; touch holder.go ) 3>&- &
    script -qec "$LOCKRUN -q --no-cache --wait 20 -k live:3 -- echo done" typescript >/dev/null 2>&1
    run cat -v typescript
    refute_output --partial "waiting for"
    assert_output --partial done
}
