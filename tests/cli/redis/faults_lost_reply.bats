#!/usr/bin/env bats
# Fault injection on the wire: the connection drops after Redis ran check-and-acquire but
# before its reply reached lockrun. Redis has taken the lock for lockrun's token and raised the
# fence; lockrun does not know it. SPEC §5 plans for exactly this ("if the lock holds our own
# token (a retry whose reply was lost), refresh it and return the fence"): lockrun reconnects
# and asks again with the same token, gets the same lock and fence back, and runs the command
# once. Neither a second fence step, nor a run that waits for its own lock, nor a 69 that
# leaves a burnt fence and no run.
#
# fault_proxy.py sits between lockrun and the file's redis-server, forwards everything, and
# swallows one reply (see its header): the first check-and-acquire reply that says "acquired"
# once proxy.armed exists; it then describes what it swallowed in proxy.fired.

# Redis only, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=redis
load ../common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() {
    if [[ -n ${PROXY_PID:-} ]]; then
        kill -TERM "$PROXY_PID" 2>/dev/null || true
        wait "$PROXY_PID" 2>/dev/null || true
    fi
    per_test_teardown
}

FAULT_PROXY=$BATS_TEST_DIRNAME/fault_proxy.py

# start_fault_proxy: starts fault_proxy.py in front of the file's redis-server, disarmed, and
# waits until it listens; PROXY_PORT, PROXY_PID, PROXY_URL. It stops itself after 120 s.
start_fault_proxy() {
    if [[ ! -x /usr/bin/python3 ]]; then
        fail "/usr/bin/python3 is required for the fault proxy"
    fi
    /usr/bin/python3 "$FAULT_PROXY" --upstream-port "$REDIS_PORT" --port-file proxy.port \
        --arm-file proxy.armed --fired-file proxy.fired >proxy.log 2>&1 </dev/null 3>&- &
    PROXY_PID=$!
    echo "$PROXY_PID" >proxy.pid # per_test_teardown's last resort
    if ! poll_until 10 test -s proxy.port; then
        fail "fault_proxy.py did not start: $(cat proxy.log)"
    fi
    PROXY_PORT=$(<proxy.port)
    PROXY_URL=redis://127.0.0.1:$PROXY_PORT
    # Through the proxy, the server answers as itself.
    assert_equal "$(redis-cli -p "$PROXY_PORT" PING)" PONG
}

# The command: counts its runs in ./runs and prints the fencing token it was given.
COUNTED='echo run >> runs; echo "fence=$LOCKRUN_FENCING_TOKEN"'

@test "proxy sanity: disarmed, it forwards lockrun's whole run unchanged" {
    start_fault_proxy
    run --separate-stderr lockrun --redis "$PROXY_URL" --key through -c "$COUNTED"
    assert_status 0
    assert_regex "$output" '^fence=[0-9]+$'
    local first=$output
    assert [ ! -e proxy.fired ]
    run --separate-stderr lockrun --redis "$PROXY_URL" --key through -c "$COUNTED"
    assert_status 0
    assert_output "$first" # the cached result, replayed through the proxy
    assert_equal "$(wc -l <runs)" 1
}

@test "the reply to the first check-and-acquire is lost: lockrun retries with its token, runs once, fence +1, exit 0" {
    assert_equal "$(rcli SET "$(fence_key lostreply)" 7)" OK
    start_fault_proxy
    touch proxy.armed

    run --separate-stderr lockrun --redis "$PROXY_URL" --key lostreply -c "$COUNTED"
    # The fault happened: Redis granted the lock (fence 8) and lockrun never saw the reply.
    assert_equal "$(cat proxy.fired 2>/dev/null)" 'acquired 8'
    assert_status 0
    assert_output 'fence=8'
    assert_equal "runs: $(wc -l <runs)" 'runs: 1'
    assert_equal "$(rcli GET "$(fence_key lostreply)")" 8
    assert_nothing_held
    # And the run's result was stored once, under the fence it ran with.
    run --separate-stderr lockrun cache show lostreply
    assert_status 0
    assert_output 'fence=8'
}

@test "the reply to a waiter's check-and-acquire is lost after the release: it retries, runs once, fence +1" {
    start_holder holder --key lostwake
    local fence
    fence=$(rcli GET "$(fence_key lostwake)")
    assert_regex "$fence" '^[0-9]+$'
    start_fault_proxy
    touch proxy.armed # a "held" reply passes; the proxy waits for the one that says "acquired"
    spawn waiter "$LOCKRUN" --redis "$PROXY_URL" --no-cache --wait 20 --key lostwake -c "$COUNTED"
    wait_for_waiter lostwake 0 waiter

    release holder
    assert_exit holder 0 10
    assert_exit waiter 0 15
    assert_equal "$(cat proxy.fired 2>/dev/null)" "acquired $((fence + 1))"
    assert_equal "$(<waiter.out)" "fence=$((fence + 1))"
    assert_equal "runs: $(wc -l <runs)" 'runs: 1'
    assert_equal "$(rcli GET "$(fence_key lostwake)")" $((fence + 1))
    assert_nothing_held
}
