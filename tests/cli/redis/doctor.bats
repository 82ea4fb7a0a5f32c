#!/usr/bin/env bats
# lockrun doctor against real redis-servers configured the ways that endanger locks.

load ../common

setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() {
    stop_redis_servers "$BATS_TEST_TMPDIR"
    per_test_teardown
}

# extra_server NAME [redis-server args...]: another server for this test; its URL in
# $URL_<NAME>.
extra_server() {
    start_redis_server "$BATS_TEST_TMPDIR" "$1" any -- "${@:2}"
    printf -v "URL_$1" 'redis://127.0.0.1:%s' "$REDIS_SERVER_PORT"
}

@test "doctor on a plain test server: usable, names the version and the round trip" {
    run --separate-stderr "$LOCKRUN" doctor
    assert_status 0
    assert_output --partial "reachable"
    assert_output --regexp "round trip: +PING [0-9.]+ ms"
    assert_output --regexp "Redis 7\."
    assert_output --partial "noeviction"
    assert_line "usable"
    [ -z "$stderr" ]
}

@test "doctor warns that persistence is off" {
    run "$LOCKRUN" doctor
    assert_status 0
    assert_line --regexp '^warn +persistence: +off'
}

@test "doctor is content with persistence on" {
    extra_server durable --appendonly yes
    run "$LOCKRUN" --redis "$URL_durable" doctor
    assert_status 0
    assert_line --regexp '^ok +persistence: +AOF on'
}

@test "doctor warns about an evicting maxmemory-policy" {
    extra_server lru --maxmemory-policy allkeys-lru
    run "$LOCKRUN" --redis "$URL_lru" doctor
    assert_status 0
    assert_line --regexp '^warn +maxmemory-policy: +allkeys-lru: .*fencing counter.*noeviction'
}

@test "doctor warns that volatile policies evict held locks" {
    extra_server volatile --maxmemory-policy volatile-ttl
    run "$LOCKRUN" --redis "$URL_volatile" doctor
    assert_status 0
    assert_line --regexp '^warn +maxmemory-policy: +volatile-ttl: .*held locks'
}

@test "doctor warns about replicas, and fails on a replica itself" {
    extra_server replica --replicaof 127.0.0.1 "$REDIS_PORT"
    wait_until 10 bash -c "redis-cli -p $REDIS_PORT INFO replication | grep -q 'connected_slaves:1'"
    run "$LOCKRUN" doctor
    assert_status 0
    assert_line --regexp '^warn +replicas: +1 connected: a failover can lose a lock'

    run --separate-stderr "$LOCKRUN" --redis "$URL_replica" doctor
    assert_status 69
    assert_line --regexp '^FAIL +role: .*replica'
    assert_line "NOT usable"
}

@test "doctor warns about a prefix with braces" {
    run "$LOCKRUN" doctor --prefix 'jobs{x}:'
    assert_status 0
    assert_line --regexp "^warn +prefix: +'jobs\{x\}:' contains"
}

@test "doctor on a server nobody runs: 69 and one line" {
    run --separate-stderr "$LOCKRUN" --redis "redis://127.0.0.1:$(free_port)" doctor --connect-timeout 1s
    assert_status 69
    assert_one_error_line 'cannot reach'
    assert_output ""
}
