#!/usr/bin/env bats
# The name lookup of a Redis host is part of the step it connects in (SPEC §3: "One
# --connect-timeout + --io-timeout bounds each backend step, retries included (name lookup
# too)"). getaddrinfo has no timeout of its own, so lockrun looks a name up in a child that
# it can abandon: a resolver that never answers costs --connect-timeout, a signal still
# ends lockrun at once, and no lookup process outlives lockrun, even one killed by SIGKILL.
#
# The resolver that never answers: tests/support/hanging_getaddrinfo.cpp, built beside the
# binary and preloaded (LD_PRELOAD): every lookup of a name blocks forever, as against a
# resolver that never replies; numeric lookups (AI_NUMERICHOST) go through. It needs no
# network, no namespace and no change to /etc, so it works as root, as a user, and in a
# bare chroot alike. The first test checks that it really makes a lookup hang, so that the
# others cannot pass for want of a hang.

# Redis only, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=redis
load ../common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# A name that no hosts file has.
UNANSWERED=lockrun-test-unanswered.invalid
HANGING_RESOLVER=$(dirname "$LOCKRUN")/libtest_hanging_resolver.so

# in_silent_dns -- COMMAND...: runs COMMAND with a resolver that never answers.
in_silent_dns() {
    if [[ ! -f $HANGING_RESOLVER ]]; then
        fail "$HANGING_RESOLVER is missing: build with -DLOCKRUN_TESTS=ON (scripts/test does)"
    fi
    [[ $1 == -- ]] && shift
    LD_PRELOAD=$HANGING_RESOLVER timeout -k 5 60 "$@"
}

@test "the test's resolver really never answers (sanity check of the preloaded getaddrinfo)" {
    run in_silent_dns -- timeout 2 getent ahosts "$UNANSWERED"
    assert_status 124
}

@test "a name lookup that never ends: exit 69 after --connect-timeout, naming the host and the bound" {
    local started_at
    started_at=$(now_ms)
    run --separate-stderr in_silent_dns -- "$LOCKRUN" --redis "redis://$UNANSWERED:6379" \
        --connect-timeout 1s --no-cache --key lookup -- touch ran
    # It used to wait for the resolver: 30s x 5 attempts here.
    assert_between "ms until lockrun gave up" $(($(now_ms) - started_at)) 900 2500
    assert_status 69
    assert_output ''
    assert_one_error_line "cannot reach redis://$UNANSWERED:6379: name lookup of '$UNANSWERED' did not finish within 1s \\(check --redis and --connect-timeout\\)"
    assert [ ! -e ran ]
}

@test "status: the name lookup is bounded too" {
    local started_at
    started_at=$(now_ms)
    run --separate-stderr in_silent_dns -- "$LOCKRUN" status lookup --redis "redis://$UNANSWERED" \
        --connect-timeout 1s
    assert_between "ms until lockrun gave up" $(($(now_ms) - started_at)) 900 2500
    assert_status 69
    assert_one_error_line "name lookup of '$UNANSWERED' did not finish within 1s"
}

# lookup_then SIGNAL: with the silent resolver, starts lockrun with a long connect
# timeout, waits until its lookup child exists, sends SIGNAL to lockrun, and reports in
# ./report: lockrun's exit status, how long it took to exit, and whether the lookup child
# was gone within a second after that.
lookup_then() {
    cat >probe.sh <<'SCRIPT'
"$LR" --redis "redis://$NAME:6379" --connect-timeout 30s --no-cache --key lookup -- touch ran &
pid=$!
child=
for _ in $(seq 200); do
    read -r child _ <"/proc/$pid/task/$pid/children" 2>/dev/null
    [ -n "$child" ] && break
    sleep 0.05
done
[ -n "$child" ] || { echo "no lookup child"; kill -KILL "$pid"; exit 1; }
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}
started=$(date +%s%3N)
kill "-$SIG" "$pid"
wait "$pid"
code=$?
took=$(($(date +%s%3N) - started))
for _ in $(seq 20); do alive "$child" || break; sleep 0.05; done
if alive "$child"; then left=left; kill -KILL "$child"; else left=gone; fi
echo "exit=$code took_ms=$took child=$left"
SCRIPT
    LR=$LOCKRUN NAME=$UNANSWERED SIG=$1 in_silent_dns -- bash probe.sh >report 2>&1
}

# read_report: EXIT, TOOK_MS and CHILD (gone or left) from ./report.
read_report() {
    local report
    report=$(<report)
    if ! [[ $report =~ exit=([0-9]+)\ took_ms=([0-9]+)\ child=([a-z]+) ]]; then
        fail "report: $report"
    fi
    EXIT=${BASH_REMATCH[1]} TOOK_MS=${BASH_REMATCH[2]} CHILD=${BASH_REMATCH[3]}
}

@test "SIGTERM during a name lookup: lockrun exits 143 at once and the lookup is gone" {
    lookup_then TERM
    read_report
    assert_equal "exit $EXIT" "exit 143"
    assert_between "ms from SIGTERM to exit" "$TOOK_MS" 0 1000
    assert_equal "lookup child $CHILD" "lookup child gone"
    assert [ ! -e ran ]
}

@test "lockrun killed by SIGKILL during a name lookup: the lookup child dies with it" {
    lookup_then KILL
    read_report
    assert_equal "exit $EXIT" "exit 137"
    assert_equal "lookup child $CHILD" "lookup child gone"
}

@test "a numeric address is not looked up: the run works with a resolver that never answers" {
    # The in-process fast path: no child, no resolver, so the run goes ahead.
    local started_at
    started_at=$(now_ms)
    run --separate-stderr in_silent_dns -- "$LOCKRUN" --redis "redis://127.0.0.1:$REDIS_PORT" \
        --connect-timeout 5s --no-cache --key lookup -- touch ran
    assert_between "ms until the run ended" $(($(now_ms) - started_at)) 0 1500
    assert_status 0
    assert [ -e ran ]
}
