#!/usr/bin/env bats
# A backend that cannot be reached: exit 69 within the deadline, one line naming the URL,
# the command not run (SPEC §3, --on-backend-error fail by default). Only loopback and
# local sockets are used here; never an external address.

# Redis only, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=redis
load ../common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "a port nothing listens on: exit 69 within the connect timeout, naming the URL" {
    local port started_at
    port=$(free_port)
    started_at=$(now_ms)
    run --separate-stderr lockrun --no-cache --redis "redis://127.0.0.1:$port" --connect-timeout 1s \
        --key down -- touch ran
    assert_between "ms until lockrun gave up" $(($(now_ms) - started_at)) 0 3000
    assert_status 69
    assert_output ''
    assert_one_error_line "127\\.0\\.0\\.1:$port"
    assert [ ! -e ran ]
}

@test "an unreachable LOCKRUN_REDIS_URL: exit 69, naming the URL" {
    local port
    port=$(free_port)
    export LOCKRUN_REDIS_URL=redis://127.0.0.1:$port
    run --separate-stderr lockrun --no-cache --connect-timeout 1s --key down -- touch ran
    assert_status 69
    assert_one_error_line "127\\.0\\.0\\.1:$port"
    assert [ ! -e ran ]
}

@test "a unix socket that does not exist: exit 69, naming the path" {
    local started_at
    started_at=$(now_ms)
    run --separate-stderr lockrun --no-cache --redis "unix://$BATS_TEST_TMPDIR/absent.sock" \
        --connect-timeout 1s --key down -- touch ran
    assert_between "ms until lockrun gave up" $(($(now_ms) - started_at)) 0 3000
    assert_status 69
    assert_output ''
    assert_one_error_line 'absent\.sock'
    assert [ ! -e ran ]
}

@test "a server that does not answer: exit 69 after --io-timeout" {
    assert_equal "$(rcli CLIENT PAUSE 4000 ALL)" OK
    local started_at
    started_at=$(now_ms)
    run --separate-stderr lockrun --no-cache --io-timeout 500ms --connect-timeout 1s --key down -- touch ran
    # Well before the server answers again.
    assert_between "ms until lockrun gave up" $(($(now_ms) - started_at)) 0 3000
    # Redis 7.0 runs UNPAUSE only when the pause is over: this waits for the server.
    rcli CLIENT UNPAUSE >/dev/null
    assert_status 69
    assert_output ''
    assert_one_error_line "127\\.0\\.0\\.1:$REDIS_PORT"
    assert [ ! -e ran ]
}

@test "-q does not silence the backend error" {
    local port
    port=$(free_port)
    run --separate-stderr lockrun -q --no-cache --redis "redis://127.0.0.1:$port" --connect-timeout 1s \
        --key down -- touch ran
    assert_status 69
    assert_one_error_line "127\\.0\\.0\\.1:$port"
}
