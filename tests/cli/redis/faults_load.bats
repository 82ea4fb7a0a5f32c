#!/usr/bin/env bats
# Fault injection by load: a stampede of 200 callers on one key, and 100 MB of output through
# one run. Single flight must hold under the herd (one execution, 200 identical results), and
# a big output must stream through in bounded memory without being half-cached.

# Redis only, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=redis
load ../common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "200 concurrent callers, cache on: one execution, 200 identical outputs, all exit 0" {
    local n=200 i first
    # Whoever gets the lock counts its run, then waits (at most 30 s) until the test has seen
    # all the others wait, so that the 199 are woken together by one release - a true
    # thundering herd, however slowly 200 processes start on 2 cores - then works 0.5 s. Its
    # output names its shell's PID: identical outputs can only be replays of one run.
    local cmd="echo run >> counter; $(wait_for_go_cmd); sleep 0.5; echo \"result fence=\$LOCKRUN_FENCING_TOKEN pid=\$\$\""
    # xargs starts the 200 at once from a small process (200 forks of the test's shell take
    # seconds); each little sh records its lockrun's PID (for teardown) and exit status.
    # shellcheck disable=SC2016
    local caller='"$LOCKRUN" --wait 60 --key herd -c "$1" >"c$2.out" 2>"c$2.err" &
        echo $! >"c$2.pid"; wait $!; s=$?; echo $s >"c$2.status"; exit $s'
    seq "$n" >callers
    spawn herd xargs -P "$n" -I{} -a callers /bin/sh -c "$caller" sh "$cmd" {}
    wait_until 30 test -s counter
    wait_until 30 waiting_above herd $((n - 2))
    touch go

    wait_exit herd 40
    assert_equal "executions: $(wc -l <counter)" 'executions: 1'
    # Read with the read builtin: 600 files, no process each.
    local status out err
    IFS= read -r -d '' first <c1.out || true
    [[ $first =~ ^result\ fence=([0-9]+)\ pid=[0-9]+$'\n'$ ]] || fail "unexpected output: $first"
    local fence=${BASH_REMATCH[1]}
    for i in $(seq "$n"); do
        status=missing out='' err=''
        IFS= read -r status <"c$i.status" || true
        IFS= read -r -d '' out <"c$i.out" || true
        IFS= read -r -d '' err <"c$i.err" || true
        [[ $status == 0 ]] || fail "c$i exited ${status}: $err"
        [[ $out == "$first" ]] || fail "c$i printed '$out', c1 printed '$first'"
        # Nothing but the one line of a caller that replays or followed the run (SPEC §1).
        [[ -z $err || $err =~ ^lockrun:\ herd:\ (replayed|followed)\ the\ run\ of\ [^$'\n']*$'\n'$ ]] ||
            fail "c$i wrote to stderr: $err"
    done
    assert_equal "xargs: $EXIT_STATUS" 'xargs: 0'
    assert_equal "$(rcli GET "$(fence_key herd)")" "$fence"
    assert_nothing_held
}

@test "100 MB of stdout: streamed intact, one warning, nothing cached, peak RSS under 64 MiB" {
    if [[ ! -x /usr/bin/time ]]; then
        fail "/usr/bin/time is required to measure peak RSS (apt-get install time)"
    fi
    head -c 100000000 /dev/urandom >big

    local cmp_status=0 lockrun_status rss_kib
    # lockrun's stdout is a pipe to cmp: streamed, compared byte by byte, never on disk.
    {
        code=0
        timeout -k 5 60 /usr/bin/time -f %M -o rss.kib "$LOCKRUN" --key big -- cat big 2>big.err || code=$?
        echo "$code" >lockrun.status
    } | cmp - big >cmp.out 2>&1 || cmp_status=$?
    lockrun_status=$(<lockrun.status)
    assert_equal "lockrun exit: $lockrun_status" 'lockrun exit: 0'
    assert_equal "cmp: $cmp_status $(<cmp.out)" 'cmp: 0 '

    # One warning: the output is over --cache-max-bytes (16 MiB), so it is not cached.
    load_stderr big
    assert_one_error_line 'cach'
    run --separate-stderr lockrun cache show big
    assert_status 1
    assert_output ''
    assert_equal "out exists: $(rcli EXISTS "$(out_key big)")" 'out exists: 0'
    assert_nothing_held

    # GNU time's %M: lockrun's peak resident set, in KiB (its last line; a line before it
    # would say the command failed).
    rss_kib=$(tail -n 1 rss.kib)
    assert_between "peak RSS of lockrun (KiB)" "$rss_kib" 1 65535
}
