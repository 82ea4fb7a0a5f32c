#!/usr/bin/env bats
# --stale DUR (SPEC §1, stale-while-revalidate): a stored result older than DUR is replayed
# at once, and the first such caller starts one detached refresh under the lock, whose
# output goes only to the cache; a refresh that fails is logged (syslog) and leaves the old
# result in place. Every counted command appends a line to ./runs.

load common
load cache_helpers
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() {
    per_test_setup
    # Where the background refresh's syslog(3) lines go (tests/support/syslog_to_file.cpp).
    export LD_PRELOAD=$(dirname "$LOCKRUN")/libtest_syslog_to_file.so
    export LOCKRUN_TEST_SYSLOG=$BATS_TEST_TMPDIR/syslog
}
teardown() { per_test_teardown; }

# job VERSION: a -c command that counts itself, takes 1 s, and prints VERSION.
job() { printf 'echo run >>runs; sleep 1; echo %s' "$1"; }

# runs_are N: ./runs has N lines (for wait_until).
runs_are() { [[ $(runs_count) == "$1" ]]; }
# refresh_done: no lockrun of this test is left (the background refresh has ended).
refresh_done() { ! pgrep -f "lockrun.*-k stale-sw" >/dev/null; }

@test "a stale result is replayed at once, refreshed in the background, and later callers get the new one" {
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h -c "$(job old)"
    assert_output old
    sleep 1.1
    local started=$(now_ms)
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h --stale 1s \
        -c 'echo run >>runs; sleep 5; echo new'
    # Well under the command's 5 s: nothing ran in this caller.
    (($(now_ms) - started < 2500)) || fail "the stale caller took $(($(now_ms) - started)) ms"
    assert_success
    assert_output old
    assert_regex "$stderr" "^lockrun: stale-sw: replayed the run of .*; stale \\(older than --stale 1s\\): refreshing it in the background$"
    wait_until 10 runs_are 2
    wait_until 15 refresh_done
    # (--stale 30m here: the new result is fresh, however slow this machine is today.)
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h --stale 30m -c "$(job newer)"
    assert_output new
    assert_regex "$stderr" "; --refresh runs it again$"
    assert_runs 2
    # The refresh printed nowhere: its output went to the cache only.
    [[ ! -s "$LOCKRUN_TEST_SYSLOG" ]] || fail "$(cat "$LOCKRUN_TEST_SYSLOG")"
}

@test "a stale replay whose stdout fails (74) still starts the refresh it claimed" {
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h -c "$(job old)"
    sleep 1.1
    run --separate-stderr bash -c 'lockrun -k stale-sw --cache-ttl 1h --stale 1s -c "$0" >/dev/full' "$(job new)"
    assert_status 74
    assert_regex "$stderr" "its output could not be written to stdout"
    # The claim is this caller's: without its refresh, none would run for the claim's period.
    wait_until 10 runs_are 2
    wait_until 15 refresh_done
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h --stale 30m -c "$(job newer)"
    assert_output new
    assert_runs 2
}

@test "a result younger than --stale is replayed as any other, and nothing is refreshed" {
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h -c "$(job old)"
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h --stale 1m -c "$(job new)"
    assert_output old
    assert_regex "$stderr" "; --refresh runs it again$"
    sleep 0.5
    assert_runs 1
}

@test "a stampede of 20 stale callers: all replay at once, and exactly one refresh runs" {
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h -c "$(job old)"
    # A claim lasts --stale: 3 s, so that the 20 callers all come within one claim even on
    # a loaded machine (with 1 s, starting them took longer under ctest -j, and a second
    # caller rightly claimed the next period).
    sleep 3.1
    local i
    for i in $(seq 20); do
        spawn "caller$i" "$LOCKRUN" -k stale-sw --cache-ttl 1h --stale 3s -c "$(job new)"
    done
    for i in $(seq 20); do
        assert_exit "caller$i" 0 10
        assert_equal "$(cat "caller$i.out")" old
    done
    wait_until 10 runs_are 2
    wait_until 15 refresh_done
    assert_runs 2
    # One caller claimed the refresh; the others said one was under way.
    assert_equal "$(grep -l 'refreshing it in the background' caller*.err | wc -l)" 1
    assert_equal "$(grep -l 'a refresh was started within the last 3s' caller*.err | wc -l)" 19
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h --stale 1s -c "$(job newer)"
    assert_output new
}

@test "a refresh that fails is logged and leaves the old result in place" {
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h -c "$(job old)"
    sleep 3.1
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h --stale 3s -c 'echo run >>runs; echo broken; exit 3'
    assert_output old
    wait_until 10 test -s "$LOCKRUN_TEST_SYSLOG"
    run cat "$LOCKRUN_TEST_SYSLOG"
    # LOG_USER | LOG_WARNING is 12.
    assert_output "<12> stale-sw: the background refresh of its stale result failed (exit 3); the old result stays"
    wait_until 10 refresh_done
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h -c "$(job never)"
    assert_output old
    # A failing job is not run again by every stale caller: not within --stale of the try.
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h --stale 3s -c 'echo run >>runs; exit 3'
    assert_output old
    assert_regex "$stderr" "a refresh was started within the last 3s$"
    sleep 0.5
    assert_runs 2
}

@test "a refresh finds the key held: it gives up at once, and the holder's run is the refresh" {
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h -c "$(job old)"
    sleep 1.1
    # A --refresh run holds the key while the stale caller comes.
    spawn holder "$LOCKRUN" -k stale-sw --cache-ttl 1h --refresh -c "echo run >>runs; $(wait_for_go_cmd); echo fresh"
    wait_until 10 runs_are 2
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h --stale 1s -c "$(job new)"
    assert_output old
    sleep 1 # its refresh, finding the key held, ends at once
    touch go
    assert_exit holder 0 10
    assert_runs 2
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h -c "$(job never)"
    assert_output fresh
    [[ ! -s "$LOCKRUN_TEST_SYSLOG" ]] || fail "$(cat "$LOCKRUN_TEST_SYSLOG")"
}

@test "--stale needs the cache, and must be shorter than --cache-ttl" {
    run --separate-stderr lockrun -k stale-sw --stale 1s --no-cache -c 'touch ran'
    assert_status 64
    assert_one_error_line '^lockrun: --stale 1s needs the cache, which --no-cache turns off$'
    run --separate-stderr lockrun -k stale-sw --stale 10m --cache-ttl 5m -c 'touch ran'
    assert_status 64
    assert_one_error_line '^lockrun: --stale 10m is not shorter than --cache-ttl 5m: no result would ever be stale$'
    [ ! -e ran ]
}

@test "the refresh's command starts as a normal run's: the same signal mask, no descriptor of the caller's" {
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h -c "$(job old)"
    sleep 1.1
    # fd 7 open in the caller, as an outer flock(1) or a CI runner would leave one.
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h --stale 1s \
        -c 'if [ -e /proc/$$/fd/7 ]; then echo open; else echo closed; fi >fd7
            exec grep -E "^Sig(Blk|Ign)" /proc/self/status >signals' 7</dev/null
    assert_output old
    wait_until 10 test -s signals
    run cat fd7
    assert_output closed
    # The signals blocked and ignored are those of a command that lockrun runs itself (read
    # by the command's own process: a shell blocks signals for a moment around a fork).
    run --separate-stderr lockrun -k stale-plain --no-cache \
        -c 'exec grep -E "^Sig(Blk|Ign)" /proc/self/status >plain-signals'
    assert_equal "$(cat signals)" "$(cat plain-signals)"
}

@test "a refresh that runs but stores nothing (its output over --cache-max-bytes) says so in syslog" {
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h -c "$(job old)"
    sleep 1.1
    run --separate-stderr lockrun -k stale-sw --cache-ttl 1h --stale 1s --cache-max-bytes 10 \
        -c 'echo run >>runs; head -c 100 /dev/zero | tr "\0" x'
    assert_output old
    wait_until 10 test -s "$LOCKRUN_TEST_SYSLOG"
    run cat "$LOCKRUN_TEST_SYSLOG"
    assert_output "<12> stale-sw: the background refresh of its stale result ran (exit 0) but stored nothing (its output over --cache-max-bytes?); the old result stays"
}
