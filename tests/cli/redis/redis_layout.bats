#!/usr/bin/env bats
# The Redis keys of one KEY (SPEC §5): PREFIX{TAG}:lock (a hash, PX = lease),
# PREFIX{TAG}:fence (the fencing counter), the release channel; TAG is KEY, or the hex
# SHA-256 of KEY when KEY has { or }. The commands here look at Redis while they run.

# Redis only, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=redis
load ../common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "while the command runs, PREFIX{KEY}:lock exists with a PTTL within the lease" {
    run --separate-stderr lockrun --no-cache --lease 5s --key report:1 \
        -c 'redis-cli -p "$REDIS_PORT" PTTL "lockrun:{report:1}:lock"'
    assert_status 0
    assert_between "PTTL of lockrun:{report:1}:lock" "$output" 1 5000
}

@test "PREFIX{KEY}:fence is an integer equal to the command's fencing token" {
    run --separate-stderr lockrun --no-cache --key report:1 \
        -c 'redis-cli -p "$REDIS_PORT" GET "lockrun:{report:1}:fence"; echo "$LOCKRUN_FENCING_TOKEN"'
    assert_status 0
    assert_regex "${lines[0]}" '^[0-9]+$'
    assert_equal "${lines[1]}" "${lines[0]}"
}

@test "each acquisition increments the fence by one" {
    run --separate-stderr lockrun --no-cache --key report:1 -c 'echo "$LOCKRUN_FENCING_TOKEN"'
    assert_status 0
    local first=$output
    run --separate-stderr lockrun --no-cache --key report:1 -c 'echo "$LOCKRUN_FENCING_TOKEN"'
    assert_status 0
    assert_equal "$output" $((first + 1))
}

@test "the lock hash has the fields token, fence, host, pid, user, command, started, key" {
    run --separate-stderr lockrun --no-cache --key report:1 \
        -c 'redis-cli -p "$REDIS_PORT" HKEYS "lockrun:{report:1}:lock"'
    assert_status 0
    local field
    for field in token fence host pid user command started key; do
        assert_line "$field"
    done
}

@test "a lock hash without a token (another client's) is replaced, not added to" {
    rcli HSET "$(lock_key report:1)" token-less yes owner someone-else >/dev/null
    run --separate-stderr lockrun --no-cache --key report:1 \
        -c 'redis-cli -p "$REDIS_PORT" HKEYS "lockrun:{report:1}:lock" | sort | paste -sd " "'
    assert_status 0
    assert_equal "$output" "command fence host key pid started token user"
    assert_equal "$(rcli EXISTS "$(lock_key report:1)")" 0
}

@test "a writer's mark (--shared readers in force) is gone once the writer holds the lock" {
    local mark
    mark="$(key_base rw:1)writer"
    start_holder reader --shared --key rw:1 --lease 30s
    spawn writer "$LOCKRUN" --no-cache --wait 30 --key rw:1 -c "$(hold_cmd writer)"
    # It finds the reader, and marks the key so that new readers wait behind it...
    wait_until 10 prints 1 rcli EXISTS "$mark"
    release reader
    assert_exit reader 0 10
    # ... until it holds the lock: then the mark, which would last as long as the reader's
    # lease, is deleted, not left to keep readers out after this run.
    wait_until 10 test -s writer.started
    assert_equal "$(rcli EXISTS "$mark")" 0
    release writer
    assert_exit writer 0 10
    assert_nothing_held
}

@test "the lock hash records the key itself, also one whose tag is its SHA-256 (for list)" {
    local key
    for key in report:1 'a{b}c'; do
        LOCK=$(lock_key "$key") run --separate-stderr lockrun --no-cache --key "$key" \
            -c 'redis-cli -p "$REDIS_PORT" HGET "$LOCK" key'
        assert_status 0
        assert_output "$key"
    done
}

@test "the lock hash names the holder: lockrun's pid, the host and the uid" {
    run --separate-stderr lockrun --no-cache --key report:1 -c '
        echo "$PPID"
        redis-cli -p "$REDIS_PORT" HGET "lockrun:{report:1}:lock" pid
        redis-cli -p "$REDIS_PORT" HGET "lockrun:{report:1}:lock" host
        redis-cli -p "$REDIS_PORT" HGET "lockrun:{report:1}:lock" user'
    assert_status 0
    assert_equal "pid ${lines[1]}" "pid ${lines[0]}"
    assert_equal "host ${lines[2]}" "host $(uname -n)"
    assert_equal "user ${lines[3]}" "user $(id -u)"
}

@test "the lock hash holds the fence and the command" {
    run --separate-stderr lockrun --no-cache --key report:1 -c '
        : layout-marker
        echo "$LOCKRUN_FENCING_TOKEN"
        redis-cli -p "$REDIS_PORT" HGET "lockrun:{report:1}:lock" fence
        redis-cli -p "$REDIS_PORT" HGET "lockrun:{report:1}:lock" command'
    assert_status 0
    assert_equal "fence ${lines[1]}" "fence ${lines[0]}"
    assert_output --partial layout-marker
}

@test "every run has its own token of at least 16 bytes" {
    local script='redis-cli -p "$REDIS_PORT" HGET "lockrun:{report:1}:lock" token'
    run --separate-stderr lockrun --no-cache --key report:1 -c "$script"
    assert_status 0
    local first=$output
    assert [ "${#first}" -ge 16 ]
    run --separate-stderr lockrun --no-cache --key report:1 -c "$script"
    assert_status 0
    assert [ "${#output}" -ge 16 ]
    assert_not_equal "$output" "$first"
}

@test "after the run the lock key is gone and the fence counter stays" {
    run --separate-stderr lockrun --no-cache --key report:1 -c 'echo "$LOCKRUN_FENCING_TOKEN"'
    assert_status 0
    assert_equal "$(rcli EXISTS 'lockrun:{report:1}:lock')" 0
    assert_equal "$(rcli GET 'lockrun:{report:1}:fence')" "$output"
}

@test "with --no-cache nothing is written under PREFIX{KEY}:out" {
    run --separate-stderr lockrun --no-cache --key report:1 -- echo result
    assert_status 0
    assert_equal "$(rcli EXISTS 'lockrun:{report:1}:out')" 0
}

@test "a key containing { uses the hex SHA-256 of the key as its tag" {
    local expected_lock
    expected_lock=$(lock_key 'a{b}c')
    assert_regex "$expected_lock" '^lockrun:\{[0-9a-f]{64}\}:h:lock$'
    run --separate-stderr lockrun --no-cache --key 'a{b}c' \
        -c 'redis-cli -p "$REDIS_PORT" --scan --pattern "*:lock"'
    assert_status 0
    assert_output "$expected_lock"
}

@test "a key containing } uses the hex SHA-256 of the key as its tag" {
    run --separate-stderr lockrun --no-cache --key 'x}y' \
        -c 'redis-cli -p "$REDIS_PORT" --scan --pattern "*:lock"'
    assert_status 0
    assert_output "$(lock_key 'x}y')"
}

@test "a key with braces and the key that is its SHA-256 in hex share no lock and no result" {
    local digest
    digest=$(key_tag 'tenant{A}')
    run --separate-stderr lockrun --key 'tenant{A}' -- echo braced
    assert_output braced
    run --separate-stderr lockrun --key "$digest" -- echo digest
    assert_status 0
    assert_output digest
    start_holder holder --key 'tenant{A}'
    run --separate-stderr lockrun --no-cache --key "$digest" -- echo free
    assert_status 0
    assert_output free
    release holder
    assert_exit holder 0 10
}

@test "the fence of a key with { shares its SHA-256 tag" {
    run --separate-stderr lockrun --no-cache --key 'a{b}c' -c 'echo "$LOCKRUN_FENCING_TOKEN"'
    assert_status 0
    assert_equal "$(rcli GET "$(fence_key 'a{b}c')")" "$output"
}

@test "--prefix jobs: puts every key under jobs:{KEY}" {
    run --separate-stderr lockrun --no-cache --prefix jobs: --key pfx \
        -c 'redis-cli -p "$REDIS_PORT" --scan --pattern "*"'
    assert_status 0
    assert_line 'jobs:{pfx}:lock'
    local key
    for key in "${lines[@]}" $(rcli --scan --pattern '*'); do
        assert_regex "$key" '^jobs:\{pfx\}:'
    done
    assert_equal "$(rcli EXISTS 'jobs:{pfx}:fence')" 1
}

@test "a waiter subscribes to PREFIX{KEY}:released" {
    start_holder holder --key report:1 --lease 30s
    local base
    base=$(subscribers report:1)
    spawn waiter "$LOCKRUN" -v --no-cache --wait 30 --key report:1 -- true
    wait_until 10 subscribers_above report:1 "$base"
    release holder
    assert_exit holder 0 10
    assert_exit waiter 0 10
    # One server, not a cluster: global pub/sub (SPEC §8), and -v says so.
    grep -qF "report:1: listening for its release with global pub/sub (SUBSCRIBE) on redis://127.0.0.1:$REDIS_PORT (not a Redis Cluster)" waiter.err ||
        fail "$(cat waiter.err)"
}

@test "the end of a run is published on PREFIX{KEY}:released" {
    spawn subscriber redis-cli -p "$REDIS_PORT" SUBSCRIBE 'lockrun:{report:1}:released'
    wait_until 10 subscribers_above report:1 0
    spawn ssubscriber redis-cli -p "$REDIS_PORT" SSUBSCRIBE 'lockrun:{report:1}:released'
    wait_until 10 grep -qx ssubscribe ssubscriber.out
    run --separate-stderr lockrun --no-cache --key report:1 -- true
    assert_status 0
    wait_until 5 grep -qx message subscriber.out
    # And with SPUBLISH, for the sharded subscribers of a cluster.
    wait_until 5 grep -qx smessage ssubscriber.out
}
