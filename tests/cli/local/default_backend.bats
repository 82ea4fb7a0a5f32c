#!/usr/bin/env bats
# Which backend runs (SPEC §2 --backend): redis when a Redis URL is configured, else the
# embedded local backend, so that lockrun works out of the box with no server at all;
# --backend (LOCKRUN_BACKEND) overrides the default, and redis without a URL is a
# configuration error (78).

# The local backend, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=local
load ../common
load default_dir
setup() { per_test_setup; }
teardown() {
    cleanup_default_dir
    per_test_teardown
}

@test "with no backend configured at all, lockrun works out of the box, result cache included" {
    unset LOCKRUN_BACKEND LOCKRUN_REDIS_URL
    use_default_dir # /tmp/lockrun-$UID, under a key of the test's own
    run --separate-stderr lockrun --key "$DEFAULT_DIR_KEY" -c 'echo run >> runs; echo result'
    assert_status 0
    assert_output result
    run --separate-stderr lockrun --key "$DEFAULT_DIR_KEY" -c 'echo run >> runs; echo result'
    assert_status 0
    assert_output result
    assert_equal "runs: $(wc -l <runs)" "runs: 1"
    assert [ -f "$(state_file "$DEFAULT_DIR_KEY" out "$DEFAULT_DIR")" ]
}

@test "--backend redis with no Redis URL: 78, one line, the command not run" {
    unset LOCKRUN_BACKEND
    assert_rejected 78 'redis' --backend redis --no-cache --key k -- touch ran
}

@test "LOCKRUN_BACKEND=redis with no Redis URL: 78" {
    export LOCKRUN_BACKEND=redis
    assert_rejected 78 'redis' --no-cache --key k -- touch ran
}

@test "--backend bogus: 64" {
    assert_rejected 64 'backend|bogus' --backend bogus --no-cache --key k -- touch ran
}

@test "a configured Redis URL makes redis the default backend" {
    unset LOCKRUN_BACKEND
    local port
    port=$(free_port)
    export LOCKRUN_REDIS_URL=redis://127.0.0.1:$port
    # Nothing listens there: reaching for it shows which backend was chosen.
    run --separate-stderr lockrun --connect-timeout 1s --no-cache --key k -- touch ran
    assert_status 69
    assert_one_error_line "127\\.0\\.0\\.1:$port"
    assert [ ! -e ran ]
    assert_backend_untouched
}

@test "--backend local wins over a configured Redis URL" {
    unset LOCKRUN_BACKEND
    export LOCKRUN_REDIS_URL=redis://127.0.0.1:$(free_port)
    run --separate-stderr lockrun --backend local --no-cache --key k -- echo ran
    assert_status 0
    assert_output ran
    assert [ -f "$(state_file k lock)" ]
}

@test "backend options stand before or after an operator subcommand" {
    unset LOCKRUN_BACKEND LOCKRUN_STATE_DIR
    mkdir -m 700 other
    run --separate-stderr lockrun --backend local --state-dir "$PWD/other" --key k -- echo ran
    assert_status 0
    run --separate-stderr lockrun --backend local --state-dir "$PWD/other" cache show k
    assert_status 0
    assert_output ran
    run --separate-stderr lockrun cache show k --backend local --state-dir "$PWD/other"
    assert_status 0
    assert_output ran
}
