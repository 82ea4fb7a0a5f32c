#!/usr/bin/env bats
# Where the server is (SPEC §2 --redis): unix sockets, database numbers, the precedence
# of --redis over LOCKRUN_REDIS_URL, and malformed URLs (78, SPEC §3: one `lockrun:` line,
# the command not run, Redis untouched).

# Redis only, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=redis
load ../common
setup_file() {
    start_redis
    # For redis://SECRET@host: a server whose default user has a password.
    start_server auth -a S3cretPw --no-auth-warning -- --requirepass S3cretPw
}
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

@test "URL redis:// (no host): 78" {
    assert_rejected 78 'url|redis://' --no-cache --redis 'redis://' --key k -- touch ran
}

@test "URL http://x (unsupported scheme): 78" {
    assert_rejected 78 'http' --no-cache --redis 'http://x' --key k -- touch ran
}

@test "URL redis://h:99999 (port out of range): 78" {
    assert_rejected 78 '99999|port' --no-cache --redis 'redis://h:99999' --key k -- touch ran
}

@test "URL unix://relative (path not absolute): 78" {
    assert_rejected 78 'unix|relative|absolute' --no-cache --redis 'unix://relative' --key k -- touch ran
}

@test "a malformed LOCKRUN_REDIS_URL: 78" {
    export LOCKRUN_REDIS_URL='http://x'
    assert_rejected 78 'http' --no-cache --key k -- touch ran
}

# As redis-cli reads it, a userinfo without ':' is the password of the default user: it is
# sent with AUTH, and shown nowhere (SPEC §3: secrets are redacted in every message).
@test "redis://SECRET@host logs in with SECRET as the default user's password" {
    LOCKRUN_REDIS_URL="redis://S3cretPw@127.0.0.1:$AUTH_PORT" run --separate-stderr lockrun \
        --no-cache --key userinfo -c 'redis-cli -p "$AUTH_PORT" --no-auth-warning -a S3cretPw EXISTS "lockrun:{userinfo}:lock"'
    assert_status 0
    assert_output 1
    refute_output --partial S3cretPw
    assert_equal "$stderr" ''
}

@test "lockrun config shows redis://SECRET@host as redis://***@host, never SECRET" {
    LOCKRUN_REDIS_URL="redis://S3cretPw@127.0.0.1:$AUTH_PORT" run --separate-stderr lockrun config
    assert_status 0
    assert_output --partial "redis://***@127.0.0.1:$AUTH_PORT"
    refute_output --partial S3cretPw
    refute [ "$(printf '%s' "$stderr" | grep -c S3cretPw)" != 0 ]
}

@test "a wrong redis://SECRET@host password: 78, and the message never shows SECRET" {
    LOCKRUN_REDIS_URL="redis://Wr0ngSecret@127.0.0.1:$AUTH_PORT" run --separate-stderr lockrun \
        --no-cache --key userinfo -- touch ran
    assert_status 78
    assert_one_error_line "redis://\\*\\*\\*@127\\.0\\.0\\.1:$AUTH_PORT rejected the login"
    refute [ "$(printf '%s' "$stderr" | grep -c Wr0ngSecret)" != 0 ]
    assert [ ! -e ran ]
}

@test "redis://SECRET@host that cannot be reached: 69, and the message never shows SECRET" {
    LOCKRUN_REDIS_URL="redis://S3cretPw@127.0.0.1:$(free_port)" run --separate-stderr lockrun \
        --no-cache --key userinfo -- touch ran
    assert_status 69
    assert_one_error_line 'redis://\*\*\*@127\.0\.0\.1:[0-9]+'
    refute [ "$(printf '%s' "$stderr" | grep -c S3cretPw)" != 0 ]
}
