#!/usr/bin/env bats
# The fencing counter PREFIX{KEY}:fence (SPEC §5): it expires after 7 days unused, and a
# counter created afresh starts from the server's clock in milliseconds (TIME), so that
# fencing tokens only increase, also across a counter that expired (or was deleted).

# Redis only, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=redis
load ../common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

SEVEN_DAYS_MS=604800000

# server_ms: the server's clock (TIME) in milliseconds.
server_ms() {
    local time
    mapfile -t time < <(rcli TIME)
    echo $((time[0] * 1000 + 10#${time[1]} / 1000))
}

# run_fence KEY: runs KEY once and sets FENCE to the command's LOCKRUN_FENCING_TOKEN.
run_fence() {
    run --separate-stderr lockrun --no-cache --key "$1" -c 'echo "$LOCKRUN_FENCING_TOKEN"'
    assert_status 0
    assert_regex "$output" '^[0-9]+$'
    FENCE=$output
}

@test "after a run, the fence counter expires in 7 days" {
    run_fence seven
    local pttl
    pttl=$(rcli PTTL "$(fence_key seven)")
    assert_between "PTTL of the fence" "$pttl" $((SEVEN_DAYS_MS - 60000)) "$SEVEN_DAYS_MS"
}

@test "every acquisition gives the fence counter its 7 days again" {
    run_fence renewed
    assert_equal "$(rcli PEXPIRE "$(fence_key renewed)" 5000)" 1
    run_fence renewed
    assert_between "PTTL of the fence" "$(rcli PTTL "$(fence_key renewed)")" \
        $((SEVEN_DAYS_MS - 60000)) "$SEVEN_DAYS_MS"
}

@test "a new key's first fencing token is the server's clock in milliseconds, plus one" {
    local before after
    before=$(server_ms)
    run_fence fresh
    after=$(server_ms)
    assert_between "first fencing token" "$FENCE" $((before + 1)) $((after + 1))
    assert_equal "$(rcli GET "$(fence_key fresh)")" "$FENCE"
}

@test "a fence counter that expired (or was deleted) starts again above the tokens it gave" {
    run_fence gone
    run_fence gone
    local previous=$FENCE
    assert_equal "$(rcli DEL "$(fence_key gone)")" 1
    local before
    before=$(server_ms)
    run_fence gone
    assert [ "$FENCE" -gt "$previous" ]
    assert [ "$FENCE" -ge "$before" ]
}

@test "a counter that exists keeps counting by one, with its 7 days" {
    assert_equal "$(rcli SET "$(fence_key counting)" 41)" OK
    run_fence counting
    assert_equal "$FENCE" 42
    assert_between "PTTL of the fence" "$(rcli PTTL "$(fence_key counting)")" \
        $((SEVEN_DAYS_MS - 60000)) "$SEVEN_DAYS_MS"
}

@test "a counter of the wrong type: 78 naming it, and the script wrote nothing" {
    assert_equal "$(rcli HSET "$(fence_key broken)" x 1)" 1
    run --separate-stderr lockrun --no-cache --key broken -- touch ran
    assert_status 78
    assert_one_error_line "the key $(fence_key broken | sed 's/[{}]/\\&/g') is a hash, not a lockrun fencing counter"
    assert [ ! -e ran ]
    assert_equal "$(rcli EXISTS "$(lock_key broken)")" 0
    assert_equal "$(rcli TYPE "$(fence_key broken)")" hash
    assert_equal "$(rcli PTTL "$(fence_key broken)")" -1
}

@test "a counter that is a string but not a number: 78 naming it, and nothing written" {
    # lockrun 0.1 said "backend unavailable" (69) with the script's raw error.
    rcli SET "$(fence_key text)" abc >/dev/null
    run --separate-stderr lockrun --no-cache --key text -- touch ran
    assert_status 78
    assert_one_error_line "the key lockrun:\\{text\\}:fence is not a lockrun fencing counter: it does not hold an integer \\(remove it with DEL\\)$"
    assert [ ! -e ran ]
    assert_equal "$(rcli EXISTS "$(lock_key text)")" 0
    assert_equal "$(rcli GET "$(fence_key text)")" abc
    rcli DEL "$(fence_key text)" >/dev/null
    run --separate-stderr lockrun --no-cache --key text -- echo ok
    assert_output ok
}

@test "a counter at the largest integer: 78 naming it, and nothing written" {
    rcli SET "$(fence_key full)" 9223372036854775807 >/dev/null
    run --separate-stderr lockrun --no-cache --key full -- touch ran
    assert_status 78
    assert_one_error_line "the fencing counter lockrun:\\{full\\}:fence is at its largest value \\(remove it with DEL"
    assert [ ! -e ran ]
    assert_equal "$(rcli EXISTS "$(lock_key full)")" 0
}
