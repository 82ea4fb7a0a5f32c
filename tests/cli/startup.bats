#!/usr/bin/env bats
# What lockrun reads before it runs the command: OpenSSL's configuration only for TLS
# (rediss://, tests/cli/redis/tls.bats, which also shows that the logger below sees the
# file when it is read), never for a local or a plain redis:// run.

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

OPEN_LOGGER=$(dirname "$LOCKRUN")/libtest_open_logger.so

# opened_files ARGS...: runs lockrun ARGS with every fopen(3) logged to ./opened.
opened_files() {
    : >opened
    LD_PRELOAD=$OPEN_LOGGER LOCKRUN_TEST_OPEN_LOG=$PWD/opened lockrun "$@"
}

@test "a run does not read OpenSSL's configuration" {
    run opened_files --no-cache --key startup -- true
    assert_status 0
    run ! grep 'openssl' opened
}

@test "a cached run, and its replay, do not read OpenSSL's configuration" {
    run opened_files --key startup-cached -- echo hi
    assert_status 0
    run opened_files --key startup-cached -- echo hi
    assert_output --partial hi
    run ! grep 'openssl' opened
}

@test "--key-from-command hashes the command without reading OpenSSL's configuration" {
    run opened_files --no-cache --key-from-command -- true
    assert_status 0
    run ! grep 'openssl' opened
}
