#!/usr/bin/env bats
# Hardening (SPEC §3): lockrun started with its standard descriptors closed, strings from the
# backend that would drive a terminal, durations past any sane bound, and a holder record
# that would show a secret.

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# The command of the closed-descriptor tests: it writes to both streams.
both_streams='echo out; echo err >&2; echo ran > ran'

@test "stdout closed: the run ends, exit 0, nothing held" {
    run lockrun --no-cache --key fd:out -c "$both_streams" >&-
    assert_status 0
    assert [ -e ran ]
    assert_nothing_held
}

@test "stderr closed: the run ends, exit 0, nothing held" {
    run lockrun --no-cache --key fd:err -c "$both_streams" 2>&-
    assert_status 0
    assert [ -e ran ]
    assert_nothing_held
}

@test "stdout and stderr closed, a cached run and its replay: both end, nothing held" {
    run lockrun --key fd:both -c "$both_streams" 1>&- 2>&-
    assert_status 0
    run lockrun --key fd:both -c "$both_streams" 1>&- 2>&-
    assert_status 0
    assert_nothing_held
}

@test "stdin closed: the run ends, exit 0, nothing held" {
    run lockrun --no-cache --key fd:in -c "$both_streams" <&-
    assert_status 0
    assert [ -e ran ]
    assert_nothing_held
}

@test "stdout and stderr closed while a holder's record carries a protocol line: nothing reaches the server" {
    # The holder's command (shown in the conflict warning) holds a Redis command line.
    local injected
    injected=$(printf '\r\nSET pwned yes\r\n')
    spawn holder "$LOCKRUN" --no-cache --key fd:inject -c ": '$injected'; $(hold_cmd holder)"
    wait_until 10 test -s holder.started
    run lockrun --no-cache --key fd:inject -- true 1>&- 2>&-
    assert_status 75
    if backend_is redis; then
        assert_equal "pwned: $(rcli GET pwned)" "pwned: "
    fi
    release holder
    assert_exit holder 0 10
    assert_nothing_held
}

@test "terminal escapes and line breaks in the holder's record are shown escaped, never raw" {
    local hostile
    hostile=$(printf 'x\033]0;owned\007 \302\2331m\nlockrun: forged')
    spawn holder "$LOCKRUN" --no-cache --key esc:holder -c ": '$hostile'; $(hold_cmd holder)"
    wait_until 10 test -s holder.started
    run --separate-stderr lockrun --no-cache --key esc:holder -- true
    assert_status 75
    assert_one_error_line 'is held by'
    assert_regex "$stderr" '\\x1b\]0;owned\\x07 \\u009b1m\\nlockrun: forged'
    run --separate-stderr lockrun status esc:holder
    assert_status 0
    run ! grep -q $'\033' <<<"$output"
    run ! grep -q $'\302\233' <<<"$output"
    assert_equal "$(grep -c '^lockrun: forged' <<<"$output")" 0
    run --separate-stderr lockrun list
    assert_status 0
    run ! grep -q $'\033' <<<"$output"
    # release names the holder it freed: escaped too. Its command then stops (76).
    run --separate-stderr lockrun release esc:holder --force
    assert_status 0
    assert_equal "${#lines[@]}" 1
    run ! grep -q $'\033' <<<"$output"
    assert_exit holder 76 20
}

@test "durations past 100 years are usage errors, not an instant give-up, loss or failure" {
    assert_rejected 64 'wait' --wait 106752d --key dur:wait -- touch ran
    assert_rejected 64 'lease' --lease 200000d --key dur:lease -- touch ran
    assert_rejected 64 'io-timeout' --io-timeout 200000d --key dur:io -- touch ran
    assert_rejected 64 'lease' --lease 9223372036854775806ms --key dur:max -- touch ran
}

@test "100 years is still a duration" {
    run --separate-stderr lockrun --no-cache --wait 36525d --lease 36525d --key dur:ok -- echo fine
    assert_status 0
    assert_output fine
}

@test "--no-holder-command keeps the arguments out of the holder record" {
    spawn holder "$LOCKRUN" --no-holder-command --no-cache --key holder:private \
        -- sh -c "$(hold_cmd holder) # Authorization: secret-token"
    wait_until 10 test -s holder.started
    run --separate-stderr lockrun status holder:private --json
    assert_status 0
    assert_equal "$(jq -r .holder.command <<<"$output")" sh
    run ! grep -q secret-token <<<"$output"
    release holder
    assert_exit holder 0 10
}
