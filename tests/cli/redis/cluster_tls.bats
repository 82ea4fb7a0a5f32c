#!/usr/bin/env bats
# A Redis Cluster over TLS (SPEC §8): three masters that speak TLS only, to clients and on
# their bus, each with a certificate for 127.0.0.1 alone, and announcing themselves as
# 127.0.0.2 (they listen on both). A seed reached as 127.0.0.1 redirects to 127.0.0.2: each
# node's certificate is checked against --tls-server-name, else the name it was reached by,
# and a failure says which name. (Addresses only: a bare machine may resolve no name.)

LOCKRUN_TEST_BACKEND=redis
load ../common
load cluster_fixture
load test_pki

setup_file() {
    export PKI=$BATS_FILE_TMPDIR/pki
    make_pki "$PKI"
    export CLUSTER_CLI_ARGS="--tls --cacert $PKI/ca.crt --cert $PKI/client.crt --key $PKI/client.key"
    CLUSTER_SERVER_ARGS="--port 0 --tls-port {port} --tls-cluster yes --tls-ca-cert-file $PKI/ca.crt"
    CLUSTER_SERVER_ARGS+=" --tls-cert-file $PKI/server-ip.crt --tls-key-file $PKI/server-ip.key"
    CLUSTER_SERVER_ARGS+=" --tls-auth-clients optional --bind 127.0.0.1 127.0.0.2"
    CLUSTER_SERVER_ARGS+=" --cluster-announce-ip 127.0.0.2"
    start_cluster 3 0
}
teardown_file() { stop_cluster; }
setup() {
    cluster_test_setup
    export LOCKRUN_TLS_CA_FILE=$PKI/ca.crt
}
teardown() { per_test_teardown; }

@test "a TLS seed that owns the slot: its certificate is checked against the name it was reached by" {
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$(owner_port tc:1)" -k tc:1 -- echo ran
    assert_success
    assert_output ran
}

@test "a MOVED to 127.0.0.2, whose certificate names only 127.0.0.1: 78 naming 127.0.0.2; --tls-server-name 127.0.0.1 passes" {
    local seed owner
    seed=$(other_port tc:2)
    owner=$(owner_port tc:2)
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$seed" --no-cache -k tc:2 -c 'touch ran'
    assert_status 78
    assert_one_error_line "rediss://127\\.0\\.0\\.2:$owner.*'127\\.0\\.0\\.2'.*\\(check --tls-server-name, or the host in the URL\\)$"
    [ ! -e ran ]
    run --separate-stderr lockrun --redis "rediss://127.0.0.1:$seed" --tls-server-name 127.0.0.1 -k tc:2 -- echo ran
    assert_success
    assert_output ran
    # Stored on the owner, over TLS.
    assert_equal "$(ccli -p "$owner" EXISTS 'lockrun:{tc:2}:out')" 1
}

@test "a waiter through another TLS node is woken by sharded pub/sub on the owner" {
    local owner seed
    owner=$(owner_port tc:3)
    seed=$(other_port tc:3)
    export LOCKRUN_TLS_SERVER_NAME=127.0.0.1
    LOCKRUN_REDIS_URL="rediss://127.0.0.1:$owner" start_holder holder -k tc:3 || fail "$(cat holder.err)"
    spawn waiter "$LOCKRUN" -v --redis "rediss://127.0.0.1:$seed" --no-cache -w 30 -k tc:3 -- echo waited
    assert_listening waiter "sharded and global pub/sub (SSUBSCRIBE and SUBSCRIBE) on rediss://127.0.0.2:$owner (a Redis Cluster)"
    release_and_assert_woken holder waiter
    run cat waiter.out
    assert_output waited
}
