#!/usr/bin/env bats
# SPEC §3: "One --connect-timeout + --io-timeout bounds each backend step, retries
# included". A server that accepts connections and never answers, or one that stops
# answering in the middle of a run, costs one step's bound (lockrun used to retry on a
# fresh connection with a fresh --io-timeout, and again to release: three of them), and
# the message says what was observed and the bound that was applied.
#
# The values are chosen so that the old cost (2 or 3 x --io-timeout) falls well outside
# the windows: --connect-timeout 500ms + --io-timeout 2s or 3s. The name lookup's share of
# the step is tested in name_lookup.bats.

# Redis only, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=redis
load ../common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() {
    if [[ -n ${SILENT_PID:-} ]]; then
        kill -TERM "$SILENT_PID" 2>/dev/null || true
        wait "$SILENT_PID" 2>/dev/null || true
    fi
    per_test_teardown
}

# start_silent_server [ARG...]: a server that accepts and never answers (silent_server.py;
# --answer TEXT: answers TEXT to everything); SILENT_URL, SILENT_PID. It stops itself after
# 120 s.
start_silent_server() {
    if [[ ! -x /usr/bin/python3 ]]; then
        fail "/usr/bin/python3 is required for the silent server"
    fi
    /usr/bin/python3 "$BATS_TEST_DIRNAME/silent_server.py" --port-file silent.port "$@" \
        >silent.log 2>&1 </dev/null 3>&- &
    SILENT_PID=$!
    echo "$SILENT_PID" >silent.pid # per_test_teardown's last resort
    if ! poll_until 10 test -s silent.port; then
        fail "silent_server.py did not start: $(cat silent.log)"
    fi
    SILENT_URL=redis://127.0.0.1:$(<silent.port)
}

@test "a server that never answers: exit 69 after one step, not a retry and a release more" {
    start_silent_server
    local started_at
    started_at=$(now_ms)
    run --separate-stderr lockrun --redis "$SILENT_URL" --connect-timeout 500ms --io-timeout 2s \
        --no-cache --key silent -- touch ran
    # One step is 2.5s; it used to be 6s (2s, a retry of 2s, and a release of 2s).
    assert_between "ms until lockrun gave up" $(($(now_ms) - started_at)) 2400 4000
    assert_status 69
    assert_output ''
    assert_one_error_line \
        'no reply within 2s500ms \(--connect-timeout 500ms \+ --io-timeout 2s; check --io-timeout\)'
    assert [ ! -e ran ]
}

@test "the message names --io-timeout alone when one exchange ran out and the step did not" {
    start_silent_server
    local started_at
    started_at=$(now_ms)
    # The step is 5.5s: the exchange (500ms) and its retry (500ms) run out first.
    run --separate-stderr lockrun --redis "$SILENT_URL" --connect-timeout 5s --io-timeout 500ms \
        --no-cache --key silent -- touch ran
    assert_between "ms until lockrun gave up" $(($(now_ms) - started_at)) 900 2500
    assert_status 69
    assert_one_error_line 'no reply within 500ms \(check --io-timeout\)'
}

@test "status of a server that never answers: 69 after one step" {
    start_silent_server
    local started_at
    started_at=$(now_ms)
    run --separate-stderr lockrun status silent --redis "$SILENT_URL" --connect-timeout 500ms \
        --io-timeout 3s
    # One step is 3.5s; it used to be 6s (3s and a retry of 3s).
    assert_between "ms until lockrun gave up" $(($(now_ms) - started_at)) 3400 5000
    assert_status 69
    assert_one_error_line 'no reply within 3s500ms'
}

@test "a server that stops answering during the run: finishing costs one step" {
    # The command pauses every write for 6s, the finish script's included: its reply comes
    # after the step, if at all. It used to cost 2 x --io-timeout (6s here).
    local started_at
    started_at=$(now_ms)
    run --separate-stderr lockrun --connect-timeout 500ms --io-timeout 3s --no-cache \
        --key paused-finish -c 'redis-cli -p "$REDIS_PORT" CLIENT PAUSE 6000 WRITE >/dev/null; echo ran'
    local took=$(($(now_ms) - started_at))
    assert_between "ms until lockrun ended" "$took" 3400 5000
    assert_output ran
    [[ $stderr == *'no reply within 3s500ms (--connect-timeout 500ms + --io-timeout 3s; check --io-timeout)'* ]] ||
        fail "unexpected stderr: $stderr"
}

@test "a server that answers +OK to everything (not Redis): 69, one line asking whether it is Redis" {
    # lockrun 0.1 called it an internal error (70, "please report it").
    start_silent_server --answer '+OK\r\n'
    run --separate-stderr lockrun --redis "$SILENT_URL" --no-cache --key not-redis -- touch ran
    assert_status 69
    assert_one_error_line "the server's reply is not what Redis returns for lockrun's request \\(check-and-acquire did not return an array\\): is it a Redis server"
    assert [ ! -e ran ]
    run --separate-stderr lockrun --redis "$SILENT_URL" status not-redis
    assert_status 69
}
