#!/usr/bin/env bats
# rediss:// (SPEC §2 --redis, --tls-*): the server's certificate is always verified, against
# --tls-ca-file or the system's CAs, and its name against --tls-server-name or the URL's
# host; a client certificate for mutual TLS. What is wrong with the configuration exits 78
# with one line that says what to check; a server that cannot be reached exits 69 (SPEC §3).
#
# setup_file makes a throwaway PKI with the openssl CLI and starts private redis-servers
# (TLS only, TLS with client certificates required, TLS with a certificate that names no
# IP address, and one plain), each on a free loopback port, stopped by PID in teardown_file.

# Redis only, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=redis
load ../common

load test_pki


setup_file() {
    export PKI=$BATS_FILE_TMPDIR/pki
    make_pki "$PKI"
    local tls=(--port 0 --tls-port '{port}' --tls-ca-cert-file "$PKI/ca.crt")
    local cli=(--tls --cacert "$PKI/ca.crt" --cert "$PKI/client.crt" --key "$PKI/client.key")
    start_server tls "${cli[@]}" -- "${tls[@]}" \
        --tls-cert-file "$PKI/server.crt" --tls-key-file "$PKI/server.key" \
        --tls-auth-clients optional
    start_server mtls "${cli[@]}" -- "${tls[@]}" \
        --tls-cert-file "$PKI/server.crt" --tls-key-file "$PKI/server.key" \
        --tls-auth-clients yes
    start_server dns-only "${cli[@]}" -- "${tls[@]}" \
        --tls-cert-file "$PKI/server-dns.crt" --tls-key-file "$PKI/server-dns.key" \
        --tls-auth-clients optional
    start_server plain
}

teardown_file() { stop_redis; }

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
}

teardown() {
    # The silent-server test stops one; never leave it stopped for the next test.
    kill -CONT "$PLAIN_PID" 2>/dev/null || true
}

# tls_cli PORT ARGS...: redis-cli over TLS, trusting our CA, with our client certificate.
tls_cli() {
    local port=$1
    shift
    redis-cli --tls --cacert "$PKI/ca.crt" --cert "$PKI/client.crt" --key "$PKI/client.key" \
        -p "$port" "$@"
}

# A command that prints whether KEY's lock exists, asked over TLS while lockrun holds it.
lock_exists_cmd() {
    printf 'redis-cli --tls --cacert %q -p %q EXISTS %q' "$PKI/ca.crt" "$1" "lockrun:{$2}:lock"
}

@test "rediss:// with --tls-ca-file: the command runs under a lock taken over TLS" {
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$TLS_PORT" --tls-server-name localhost --tls-ca-file "$PKI/ca.crt" \
        --key tls-works -c "$(lock_exists_cmd "$TLS_PORT" tls-works); readlink /proc/\$PPID/exe"
    assert_status 0
    assert_line --index 0 1
    # Run by lockrun-openssl, which lockrun became: lockrun itself carries no TLS.
    assert_line --index 1 "$(dirname "$(readlink -f "$LOCKRUN")")/lockrun-openssl"
    assert_equal "$stderr" ''
    # The fence and the cached result were written on the TLS server.
    assert_regex "$(tls_cli "$TLS_PORT" GET 'lockrun:{tls-works}:fence')" '^[0-9]{13}$' # a fence starts from the clock (ms)
    assert_equal "$(tls_cli "$TLS_PORT" EXISTS 'lockrun:{tls-works}:out')" 1
    # And the cached result is read back over TLS.
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$TLS_PORT" --tls-server-name localhost --tls-ca-file "$PKI/ca.crt" \
        --key tls-works -- touch ran
    assert_status 0
    assert_line --index 0 1
    assert [ ! -e ran ]
}

@test "rediss:// without --tls-ca-file: exit 78, certificate verify failed" {
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$TLS_PORT" --tls-server-name localhost --no-cache --key k -- touch ran
    assert_status 78
    assert_output ''
    assert_one_error_line "rediss://127.0.0.1:$TLS_PORT: certificate verify failed: .*\\(check --tls-ca-file\\)$"
    assert [ ! -e ran ]
}

@test "rediss:// with another CA's --tls-ca-file: exit 78, certificate verify failed" {
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$TLS_PORT" --tls-server-name localhost --tls-ca-file "$PKI/other-ca.crt" \
        --no-cache --key k -- touch ran
    assert_status 78
    assert_one_error_line 'certificate verify failed: .*--tls-ca-file'
    assert [ ! -e ran ]
}

@test "rediss://127.0.0.1: the certificate's IP address is verified" {
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$TLS_PORT" --tls-ca-file "$PKI/ca.crt" \
        --no-cache --key k -- echo ran
    assert_status 0
    assert_output ran
}

@test "rediss://127.0.0.1 to a certificate without that address: exit 78" {
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$DNS_ONLY_PORT" \
        --tls-ca-file "$PKI/ca.crt" --no-cache --key k -- touch ran
    assert_status 78
    assert_one_error_line "not valid for '127\\.0\\.0\\.1'.*--tls-server-name"
    assert [ ! -e ran ]
}

@test "--tls-server-name localhost verifies rediss://127.0.0.1 as localhost" {
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$DNS_ONLY_PORT" \
        --tls-ca-file "$PKI/ca.crt" --tls-server-name localhost --no-cache --key k -- echo ran
    assert_status 0
    assert_output ran
}

@test "--tls-server-name that the certificate does not carry: exit 78" {
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$TLS_PORT" --tls-ca-file "$PKI/ca.crt" \
        --tls-server-name wrong.example --no-cache --key k -- touch ran
    assert_status 78
    assert_output ''
    assert_one_error_line "not valid for 'wrong\\.example' \\(check --tls-server-name"
    assert [ ! -e ran ]
}

@test "mutual TLS: with --tls-cert-file and --tls-key-file the command runs" {
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$MTLS_PORT" --tls-server-name localhost --tls-ca-file "$PKI/ca.crt" \
        --tls-cert-file "$PKI/client.crt" --tls-key-file "$PKI/client.key" \
        --key mtls -- echo ran
    assert_status 0
    assert_output ran
    assert_regex "$(tls_cli "$MTLS_PORT" GET 'lockrun:{mtls}:fence')" '^[0-9]{13}$' # a fence starts from the clock (ms)
}

# The server verifies the client certificate after the client's half of the TLS 1.3
# handshake, so the refusal (an alert, then a hang-up) arrives as the answer to the first
# command. 78, not 69: like a rejected password (SPEC §3), it is the configuration that must
# change; trying again, or running unguarded under --on-backend-error run, cannot help.
@test "mutual TLS without a client certificate: exit 78, one line saying to give one" {
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$MTLS_PORT" --tls-server-name localhost --tls-ca-file "$PKI/ca.crt" \
        --no-cache --key k -- touch ran
    assert_status 78
    assert_output ''
    assert_one_error_line "rediss://127.0.0.1:$MTLS_PORT requires a client certificate: .*--tls-cert-file"
    assert [ ! -e ran ]
}

@test "mutual TLS with a certificate from another CA: exit 78, rejected" {
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$MTLS_PORT" --tls-server-name localhost --tls-ca-file "$PKI/ca.crt" \
        --tls-cert-file "$PKI/stranger.crt" --tls-key-file "$PKI/stranger.key" \
        --on-backend-error run --no-cache --key k -- touch ran
    assert_status 78
    assert_one_error_line 'rejected the client certificate: .*--tls-cert-file'
    assert [ ! -e ran ]
}

@test "--tls-cert-file without --tls-key-file: exit 78" {
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$MTLS_PORT" --tls-server-name localhost --tls-ca-file "$PKI/ca.crt" \
        --tls-cert-file "$PKI/client.crt" --no-cache --key k -- touch ran
    assert_status 78
    assert_one_error_line 'needs both --tls-cert-file and --tls-key-file'
    assert [ ! -e ran ]
}

@test "a --tls-key-file that is not the certificate's key: exit 78, naming both files" {
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$MTLS_PORT" --tls-server-name localhost --tls-ca-file "$PKI/ca.crt" \
        --tls-cert-file "$PKI/client.crt" --tls-key-file "$PKI/stranger.key" --no-cache --key k -- touch ran
    assert_status 78
    assert_one_error_line 'stranger\.key is not the key of --tls-cert-file .*client\.crt'
    assert [ ! -e ran ]
}

@test "a --tls-ca-file that does not exist: exit 78, naming it" {
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$TLS_PORT" --tls-server-name localhost --tls-ca-file "$PKI/absent.crt" \
        --no-cache --key k -- touch ran
    assert_status 78
    assert_output ''
    assert_one_error_line 'cannot read --tls-ca-file .*/absent\.crt.*No such file'
    assert [ ! -e ran ]
}

@test "a --tls-ca-file that holds no certificate: exit 78, naming it" {
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$TLS_PORT" --tls-server-name localhost --tls-ca-file "$PKI/client.key" \
        --no-cache --key k -- touch ran
    assert_status 78
    assert_one_error_line 'cannot use --tls-ca-file .*/client\.key'
    assert [ ! -e ran ]
}

@test "rediss:// to a plain Redis port: exit 78, not speaking TLS" {
    local started_at
    started_at=$(now_ms)
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$PLAIN_PORT" --tls-ca-file "$PKI/ca.crt" \
        --connect-timeout 300ms --no-cache --key k -- touch ran
    assert_status 78
    assert_output ''
    assert_one_error_line "rediss://127\\.0\\.0\\.1:$PLAIN_PORT is not speaking TLS \\(check the port, or use redis://\\)$"
    assert [ ! -e ran ]
    assert_between "ms until lockrun gave up" $(($(now_ms) - started_at)) 0 5000
}

@test "rediss:// to a server that does not answer: exit 69 after --connect-timeout" {
    local started_at
    kill -STOP "$PLAIN_PID"
    started_at=$(now_ms)
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$PLAIN_PORT" --tls-ca-file "$PKI/ca.crt" \
        --connect-timeout 300ms --no-cache --key k -- touch ran
    kill -CONT "$PLAIN_PID"
    assert_status 69
    assert_one_error_line "rediss://127\\.0\\.0\\.1:$PLAIN_PORT: the TLS handshake timed out after 300ms"
    assert [ ! -e ran ]
    assert_between "ms until lockrun gave up" $(($(now_ms) - started_at)) 0 5000
}

@test "redis:// (plain) to the TLS port: one line, no hang" {
    local started_at
    started_at=$(now_ms)
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$TLS_PORT" --io-timeout 1s \
        --no-cache --key k -- touch ran
    assert_between "ms until lockrun gave up" $(($(now_ms) - started_at)) 0 3000
    assert_status 69
    assert_output ''
    assert_one_error_line "redis://127\\.0\\.0\\.1:$TLS_PORT.*use rediss://"
    assert [ ! -e ran ]
}

@test "status over rediss:// reads the lock like any other subcommand" {
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$TLS_PORT" --tls-server-name localhost --tls-ca-file "$PKI/ca.crt" \
        status tls-status --json
    assert_status 0
    assert_output --partial '"held":false'
}

@test "over TLS, renewals keep the lease while the command outlives it several times" {
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$TLS_PORT" --tls-server-name localhost --tls-ca-file "$PKI/ca.crt" \
        --lease 300ms --no-cache --key tls-renew -- sleep 1.2
    assert_status 0
    assert_equal "$stderr" ''
}

@test "over TLS, a waiter is woken by the release and replays the holder's result" {
    local tls=(--redis "rediss://127.0.0.1:$TLS_PORT" --tls-server-name localhost --tls-ca-file "$PKI/ca.crt")
    # A --refresh run publishes no output to follow: its waiter waits for the release.
    spawn holder "$LOCKRUN" "${tls[@]}" --refresh --key tls-handoff \
        -c "touch started; $(wait_for_go_cmd); echo from-holder"
    wait_until 10 test -e started
    spawn waiter "$LOCKRUN" "${tls[@]}" --wait 20s --key tls-handoff -- echo from-waiter
    # The waiter subscribes to the release channel (over TLS) before it waits.
    wait_until 10 tls_subscribed 'lockrun:{tls-handoff}:released'
    touch go
    assert_exit holder 0 10
    assert_exit waiter 0 10
    assert_equal "$(<waiter.out)" from-holder
}

@test "over TLS, a waiter follows the run live on its one connection, and exits with it" {
    local tls=(--redis "rediss://127.0.0.1:$TLS_PORT" --tls-server-name localhost --tls-ca-file "$PKI/ca.crt")
    spawn holder "$LOCKRUN" "${tls[@]}" --key tls-follow \
        -c "echo before; $(wait_for_go_cmd); echo after; exit 3"
    wait_until 10 grep -qx before holder.out
    spawn follower "$LOCKRUN" "${tls[@]}" --wait 20s --key tls-follow -- echo from-follower
    wait_until 10 grep -qx before follower.out
    run tls_subscribed 'lockrun:{tls-follow}:released'
    assert_failure  # no second connection: it listens for no release
    touch go
    assert_exit holder 3 10
    assert_exit follower 3 10
    assert_equal "$(<follower.out)" $'before\nafter'
}

# tls_subscribed CHANNEL: some client listens on CHANNEL of the TLS server.
tls_subscribed() {
    local reply
    reply=$(tls_cli "$TLS_PORT" PUBSUB NUMSUB "$1")
    [[ ${reply##*$'\n'} -ge 1 ]]
}

@test "over TLS, a large output is stored and replayed byte for byte" {
    head -c 3000000 /dev/urandom >big
    run lockrun --redis "rediss://127.0.0.1:$TLS_PORT" --tls-server-name localhost --tls-ca-file "$PKI/ca.crt" \
        --cache-max-bytes 8MiB --key tls-big -- cat big
    assert_status 0
    lockrun --redis "rediss://127.0.0.1:$TLS_PORT" --tls-server-name localhost --tls-ca-file "$PKI/ca.crt" \
        --cache-max-bytes 8MiB --key tls-big -- touch ran >replayed
    assert [ ! -e ran ]
    cmp big replayed
}

# A TLS file that is a FIFO (or a device) would block open(2) and read(2) forever, where
# `timeout` cannot end lockrun's wait: it is refused at once, nothing held, nothing run.
@test "a --tls-ca-file, --tls-cert-file or --tls-key-file that is a FIFO: exit 78 at once" {
    mkfifo fifo
    local option start
    for option in --tls-ca-file --tls-cert-file --tls-key-file; do
        local args=(--tls-ca-file "$PKI/ca.crt" --tls-cert-file "$PKI/client.crt" --tls-key-file "$PKI/client.key")
        case $option in
            --tls-ca-file) args[1]=$PWD/fifo ;;
            --tls-cert-file) args[3]=$PWD/fifo ;;
            --tls-key-file) args[5]=$PWD/fifo ;;
        esac
        start=$(now_ms)
        run --separate-stderr timeout -k 1 5 "$LOCKRUN" --redis "rediss://127.0.0.1:$MTLS_PORT" \
            --tls-server-name localhost "${args[@]}" --no-cache --key tls-fifo -- touch ran
        assert_status 78
        assert_one_error_line "^lockrun: $option $PWD/fifo is not a regular file"
        assert_between "time to refuse $option (ms)" $(($(now_ms) - start)) 0 3000
        assert [ ! -e ran ]
    done
    assert_equal "$(tls_cli "$MTLS_PORT" EXISTS 'lockrun:{tls-fifo}:lock')" 0
}

@test "a --tls-ca-file that is a directory: exit 78, not a regular file" {
    run --separate-stderr timeout -k 1 5 "$LOCKRUN" --redis "rediss://127.0.0.1:$TLS_PORT" \
        --tls-server-name localhost --tls-ca-file "$PKI" --no-cache --key k -- touch ran
    assert_status 78
    assert_one_error_line "--tls-ca-file $PKI is not a regular file"
    assert [ ! -e ran ]
}

@test "a CA bundle of several certificates, read from memory, verifies against any of them" {
    cat "$PKI/other-ca.crt" "$PKI/ca.crt" >bundle.crt
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$MTLS_PORT" --tls-server-name localhost \
        --tls-ca-file bundle.crt --tls-cert-file "$PKI/client.crt" --tls-key-file "$PKI/client.key" \
        --no-cache --key tls-bundle -- echo bundled
    assert_status 0
    assert_output bundled
}

# tls_waiter_subscribed: a caller waits for the release of tls-config, on the TLS server.
tls_waiter_subscribed() {
    [[ $(tls_cli "$TLS_PORT" PUBSUB NUMSUB "lockrun:{${1:-tls-config}}:released" | tail -n 1) == 1 ]]
}

@test "rediss:// reads OpenSSL's configuration, once for a waiter's two connections" {
    start_holder holder --redis "rediss://127.0.0.1:$TLS_PORT" --tls-server-name localhost \
        --tls-ca-file "$PKI/ca.crt" --key tls-config
    : >opened
    spawn waiter env LD_PRELOAD="$(dirname "$LOCKRUN")/libtest_open_logger.so" \
        LOCKRUN_TEST_OPEN_LOG="$PWD/opened" "$LOCKRUN" --redis "rediss://127.0.0.1:$TLS_PORT" \
        --tls-server-name localhost --tls-ca-file "$PKI/ca.crt" --key tls-config --wait 20s -- true
    wait_until 10 tls_waiter_subscribed
    release holder
    assert_exit waiter 0 20
    run grep -c 'openssl.cnf' opened
    assert_output 1
}

@test "a waiter's two TLS connections load the CA file once" {
    start_holder holder --redis "rediss://127.0.0.1:$TLS_PORT" --tls-server-name localhost \
        --tls-ca-file "$PKI/ca.crt" --key tls-ca-once
    mkdir traces
    spawn waiter strace -ff -qq -o traces/t -e trace=openat "$LOCKRUN" \
        --redis "rediss://127.0.0.1:$TLS_PORT" --tls-server-name localhost \
        --tls-ca-file "$PKI/ca.crt" --key tls-ca-once --wait 20s -- true
    wait_until 10 tls_waiter_subscribed tls-ca-once
    release holder
    assert_exit waiter 0 20
    run bash -c "cat traces/t.* | grep -c '\"$PKI/ca.crt\"'"
    assert_output 1
}
