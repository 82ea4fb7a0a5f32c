#!/usr/bin/env bats
# Secrets and the settings around them (SPEC §2, §3): no step may hang on a password file
# that is not a file, TLS settings never silently fall back to clear text, and the command
# does not inherit lockrun's password.

LOCKRUN_TEST_BACKEND=redis
load ../common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "a password file that is a FIFO: 78 at once, one line, no hang" {
    mkfifo pw.fifo
    local started=$(now_ms)
    run --separate-stderr timeout 5 "$LOCKRUN" --redis-password-file pw.fifo --key s:fifo -- touch ran
    assert_status 78
    assert_one_error_line 'pw.fifo is not a regular file'
    assert_between "ms to refuse the FIFO" $(($(now_ms) - started)) 0 3000
    assert [ ! -e ran ]
}

@test "a password file that is a directory: 78, one line" {
    mkdir pw.dir
    assert_rejected 78 'pw.dir is not a regular file' --redis-password-file pw.dir --key s:dir -- touch ran
}

@test "a TLS flag with a redis:// URL: 78 naming the flag and the scheme, nothing sent in clear" {
    assert_rejected 78 '--tls-ca-file sets tls-ca-file, but the Redis URL redis://127\.0\.0\.1:[0-9]+ does not use TLS' \
        --tls-ca-file /etc/ssl/certs/ca-certificates.crt --key s:tls -- touch ran
}

@test "a TLS setting from the environment with a redis:// URL: 78 naming the variable" {
    LOCKRUN_TLS_SERVER_NAME=redis.example run --separate-stderr lockrun --key s:tlsenv -- touch ran
    assert_status 78
    assert_one_error_line 'LOCKRUN_TLS_SERVER_NAME sets tls-server-name, but the Redis URL .* does not use TLS'
    assert [ ! -e ran ]
}

@test "the command does not see LOCKRUN_REDIS_PASSWORD, nor the password in LOCKRUN_REDIS_URL" {
    rcli CONFIG SET requirepass s3cret >/dev/null
    LOCKRUN_REDIS_URL="redis://:s3cret@127.0.0.1:$REDIS_PORT" run --separate-stderr lockrun \
        --no-cache --key s:env -c 'echo "url=$LOCKRUN_REDIS_URL pw=${LOCKRUN_REDIS_PASSWORD-unset}"'
    assert_status 0
    assert_output "url=redis://127.0.0.1:$REDIS_PORT pw=unset"
    LOCKRUN_REDIS_PASSWORD=s3cret run --separate-stderr lockrun --no-cache --key s:env2 \
        -c 'echo "url=$LOCKRUN_REDIS_URL pw=${LOCKRUN_REDIS_PASSWORD-unset}"'
    assert_status 0
    assert_output "url=redis://127.0.0.1:$REDIS_PORT pw=unset"
    rcli -a s3cret --no-auth-warning CONFIG SET requirepass '' >/dev/null
}
