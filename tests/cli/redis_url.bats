#!/usr/bin/env bats
# Where the server is (SPEC §2 --redis): unix sockets, database numbers, and the
# precedence of --redis over LOCKRUN_REDIS_URL.

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "unix:///path.sock reaches the server through its socket" {
    run --separate-stderr lockrun --no-cache --redis "unix://$REDIS_SOCK" --key sock \
        -c 'redis-cli -p "$REDIS_PORT" EXISTS "lockrun:{sock}:lock"'
    assert_status 0
    assert_output 1
    assert_nothing_held
}

@test "unix:///path.sock?db=3 uses database 3" {
    run --separate-stderr lockrun --no-cache --redis "unix://$REDIS_SOCK?db=3" --key sock -c '
        redis-cli -p "$REDIS_PORT" -n 3 EXISTS "lockrun:{sock}:lock"
        redis-cli -p "$REDIS_PORT" -n 0 EXISTS "lockrun:{sock}:lock"'
    assert_status 0
    assert_equal "${lines[*]}" '1 0'
}

@test "redis://host:port/3 puts the keys in database 3" {
    run --separate-stderr lockrun --no-cache --redis "redis://127.0.0.1:$REDIS_PORT/3" --key db -c '
        redis-cli -p "$REDIS_PORT" -n 3 EXISTS "lockrun:{db}:lock"
        redis-cli -p "$REDIS_PORT" -n 0 EXISTS "lockrun:{db}:lock"'
    assert_status 0
    assert_equal "${lines[*]}" '1 0'
    assert_equal "$(rcli -n 3 EXISTS 'lockrun:{db}:fence')" 1
    assert_nothing_held -n 3
}

@test "LOCKRUN_REDIS_URL is used when there is no --redis" {
    export LOCKRUN_REDIS_URL="unix://$REDIS_SOCK?db=2"
    run --separate-stderr lockrun --no-cache --key env -c '
        redis-cli -p "$REDIS_PORT" -n 2 EXISTS "lockrun:{env}:lock"'
    assert_status 0
    assert_output 1
}

@test "--redis overrides LOCKRUN_REDIS_URL" {
    export LOCKRUN_REDIS_URL=redis://127.0.0.1:$(free_port)
    run --separate-stderr lockrun --no-cache --redis "redis://127.0.0.1:$REDIS_PORT" --key flag -- echo ran
    assert_status 0
    assert_output ran
}
