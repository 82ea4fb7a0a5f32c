#!/usr/bin/env bats
# What the command sees: LOCKRUN_KEY, LOCKRUN_LEASE_MS, LOCKRUN_FENCING_TOKEN (SPEC §2).

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "LOCKRUN_KEY is the key" {
    run --separate-stderr lockrun --no-cache --key 'report:2026-11-22 eu' -c 'printf %s "$LOCKRUN_KEY"'
    assert_status 0
    assert_output 'report:2026-11-22 eu'
}

@test "LOCKRUN_LEASE_MS is --lease in milliseconds" {
    run --separate-stderr lockrun --no-cache --lease 2500ms --key env -c 'printf %s "$LOCKRUN_LEASE_MS"'
    assert_status 0
    assert_output 2500
}

@test "the default lease is 30 s" {
    run --separate-stderr lockrun --no-cache --key env -c 'printf %s "$LOCKRUN_LEASE_MS"'
    assert_status 0
    assert_output 30000
}

@test "durations take ms, s, m, h, d and a bare number of seconds" {
    local spelling expected
    for spelling in 250ms:250 30s:30000 5m:300000 2h:7200000 1d:86400000 3:3000; do
        expected=${spelling#*:}
        run --separate-stderr lockrun --no-cache --lease "${spelling%%:*}" --key env -c 'printf %s "$LOCKRUN_LEASE_MS"'
        assert_status 0
        assert_output "$expected"
    done
}

@test "LOCKRUN_FENCING_TOKEN strictly increases across runs of one key" {
    local tokens=() i
    for i in 1 2 3; do
        run --separate-stderr lockrun --no-cache --key fenced -c 'printf %s "$LOCKRUN_FENCING_TOKEN"'
        assert_status 0
        assert_regex "$output" '^[0-9]+$'
        tokens+=("$output")
    done
    assert [ "${tokens[1]}" -gt "${tokens[0]}" ]
    assert [ "${tokens[2]}" -gt "${tokens[1]}" ]
}
