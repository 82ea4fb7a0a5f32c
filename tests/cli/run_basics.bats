#!/usr/bin/env bats
# Running a command: argv and -c, and what passes through untouched (SPEC §1, §2).

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "runs an argv command with its arguments intact" {
    run --separate-stderr lockrun --no-cache --key basics -- printf '%s|' 'a b' '' 'c*' '$HOME'
    assert_status 0
    assert_output 'a b||c*|$HOME|'
}

@test "-c runs a shell command through /bin/sh" {
    run --separate-stderr lockrun --no-cache --key basics -c 'x=4; echo $((x * 2)) | tr 8 z'
    assert_status 0
    assert_output z
}

@test "stdout without a trailing newline passes through byte-exact" {
    lockrun --no-cache --key basics -- printf 'no newline' >out
    printf 'no newline' >expected
    cmp expected out
}

@test "NUL bytes in stdout pass through byte-exact" {
    lockrun --no-cache --key basics -c "printf 'a\\000b\\nc\\000'" >out
    printf 'a\000b\nc\000' >expected
    cmp expected out
}

@test "the command's stderr passes through, apart from its stdout" {
    run --separate-stderr lockrun --no-cache --key basics -c 'echo to-stderr >&2; echo to-stdout'
    assert_status 0
    assert_output to-stdout
    assert_equal "$stderr" to-stderr
}

@test "stdin passes through to the command" {
    run --separate-stderr bash -c 'echo hi | lockrun --no-cache --key basics -- cat'
    assert_status 0
    assert_output hi
}

@test "the command runs in the caller's working directory" {
    run --separate-stderr lockrun --no-cache --key basics -- pwd
    assert_status 0
    assert_output "$PWD"
}

@test "the caller's environment reaches the command" {
    export CALLER_VARIABLE='from the caller'
    run --separate-stderr lockrun --no-cache --key basics -c 'printf %s "$CALLER_VARIABLE"'
    assert_status 0
    assert_output 'from the caller'
}

@test "the lock is held while the command runs, by lockrun, with the command's fence" {
    run --separate-stderr lockrun --no-cache --key basics \
        -c 'echo "held pid=$PPID fence=$LOCKRUN_FENCING_TOKEN"; "$LOCKRUN" status basics --json'
    assert_status 0
    assert_regex "${lines[0]}" '^held pid=[0-9]+ fence=[0-9]+$'
    assert_equal "$(status_summary "${lines[1]}")" "${lines[0]}"
}

@test "nothing is held after the command ends" {
    run --separate-stderr lockrun --no-cache --key basics -- true
    assert_status 0
    assert_nothing_held
}

@test "short options -k, -l and -w work like the long ones" {
    run --separate-stderr lockrun --no-cache -k short -l 2500ms -w 1s -c 'echo "$LOCKRUN_KEY $LOCKRUN_LEASE_MS"'
    assert_status 0
    assert_output 'short 2500'
}
