#!/usr/bin/env bats
# A server that does not know Redis 7's "#!lua" script header (Redis 6.x, KeyDB; SPEC §5):
# lockrun switches, once per connection, to the same scripts without it. No such server is
# packaged here, so the stand-in is tests/support/redis62_standin.py: a proxy in front of
# this file's redis-server that refuses a script starting with "#!" with the error text of
# Redis 6.2's script compiler, and passes everything else through. Behind it, a
# redis-server without SPUBLISH and SSUBSCRIBE, which Redis 6.x lacks too (SPEC §8: a
# release is published sharded only where the server can).

LOCKRUN_TEST_BACKEND=redis
load ../common

setup_file() {
    start_redis
    start_server old -- --rename-command SPUBLISH '' --rename-command SSUBSCRIBE ''
    export REDIS_PORT=$OLD_PORT
}
teardown_file() { stop_redis; }
# common.bash points LOCKRUN_REDIS_URL at the real server for every test: here, the stand-in,
# one for each test, on a port the kernel chose for it. (It took one that free_port had
# found free, which under ctest -j another file could take first: the stand-in then died of
# "Address already in use", and `grep ready` read that as its "ready".)
setup() {
    per_test_setup
    /usr/bin/python3 "$BATS_TEST_DIRNAME/../../support/redis62_standin.py" 0 "$REDIS_PORT" \
        >standin.out 2>&1 3>&- &
    STANDIN_PID=$!
    local deadline=$((SECONDS + 10))
    until STANDIN_PORT=$(sed -n 's/^ready \([0-9]\+\)$/\1/p' standin.out) && [[ -n $STANDIN_PORT ]]; do
        ((SECONDS < deadline)) && is_running "$STANDIN_PID" ||
            fail "the stand-in did not start: $(cat standin.out)"
        sleep 0.05
    done
    export LOCKRUN_REDIS_URL=redis://127.0.0.1:$STANDIN_PORT
}
teardown() {
    per_test_teardown
    # Not reaped yet, so this PID is still the stand-in's, gone or not.
    if [[ $(ps -o stat= -p "$STANDIN_PID") == Z* ]]; then
        echo "# the stand-in ended during the test; it printed: $(cat standin.out)" >&3
    fi
    kill -TERM "$STANDIN_PID" 2>/dev/null || true
    wait "$STANDIN_PID" 2>/dev/null || true
}

@test "the stand-in refuses a #!lua script as Redis 6.2 does" {
    run redis-cli -p "$STANDIN_PORT" EVAL $'#!lua\nreturn 1' 0
    assert_output --partial "Error compiling script (new function): user_script:1: unexpected symbol near '#'"
    run redis-cli -p "$STANDIN_PORT" EVAL 'return 1' 0
    assert_output 1
}

@test "a run, its replay and its operator commands work without the #!lua line" {
    run --separate-stderr lockrun -k compat:1 -- printf 'out\n'
    assert_success
    assert_output out
    run --separate-stderr lockrun -k compat:1 -- echo never
    assert_success
    assert_output out
    [[ $stderr == *replayed* ]]
    run --separate-stderr lockrun status compat:1 --json
    assert_success
    run jq -e '.held == false and .cache.exit_code == 0' <<<"$output"
    assert_success
    run --separate-stderr lockrun list --json
    run jq -e 'map(.key) == ["compat:1"]' <<<"$output"
    assert_success
    run --separate-stderr lockrun cache drop compat:1
    assert_success
    # The scripts that ran are the ones without the line: the server never saw "#!".
    run redis-cli -p "$REDIS_PORT" SCRIPT FLUSH
    run --separate-stderr lockrun -k compat:1 -- echo again
    assert_output again
}

@test "renewals, a waiter and a forced release work without the #!lua line" {
    spawn holder "$LOCKRUN" --lease 300ms --no-cache -k compat:2 -c 'touch started; sleep 1.2; echo held'
    wait_until 10 test -e started
    spawn waiter "$LOCKRUN" -v --no-cache -w 20 -k compat:2 -- echo waited
    assert_exit holder 0 10
    assert_exit waiter 0 10
    grep -qF "global pub/sub (SUBSCRIBE) on redis://127.0.0.1:$STANDIN_PORT (not a Redis Cluster)" waiter.err ||
        fail "$(cat waiter.err)"
    run cat holder.out
    assert_output held
    run cat waiter.out
    assert_output waited

    # A short lease: the holder finds its lock gone at its next renewal, lease/3 later.
    start_holder holder2 --lease 1s -k compat:3
    force_release compat:3
    assert_exit holder2 76 10
}

# subscribed N / published CHANNEL: what redis-cli SUBSCRIBE wrote to subscriber.out so far.
subscribed() { [[ $(grep -cx subscribe subscriber.out) -eq $1 ]]; }
published() { grep -x -A1 message subscriber.out | grep -qxF "$1"; }

@test "a server without SPUBLISH: the release is still published, and nothing of the script is undone" {
    spawn subscriber redis-cli -p "$REDIS_PORT" SUBSCRIBE \
        'lockrun:{compat:4}:released' 'lockrun:{compat:5}:released' 'lockrun:{compat:6}:released'
    wait_until 10 subscribed 3
    # finish: stores, releases, publishes.
    run --separate-stderr lockrun -k compat:4 -- echo stored
    assert_success
    assert_equal "$stderr" ""
    wait_until 10 published 'lockrun:{compat:4}:released'
    assert_equal "$(redis-cli -p "$REDIS_PORT" EXISTS 'lockrun:{compat:4}:lock')" 0
    run --separate-stderr lockrun -k compat:4 -- echo never
    assert_output stored
    # The release-only script: a command that cannot start.
    run -127 --separate-stderr lockrun --no-cache -k compat:5 -- /nonexistent/command
    wait_until 10 published 'lockrun:{compat:5}:released'
    assert_equal "$(redis-cli -p "$REDIS_PORT" EXISTS 'lockrun:{compat:5}:lock')" 0
    # The forced release.
    start_holder holder --lease 30s -k compat:6
    run --separate-stderr lockrun release --force compat:6
    assert_success
    wait_until 10 published 'lockrun:{compat:6}:released'
    assert_exit holder 76 10
}
