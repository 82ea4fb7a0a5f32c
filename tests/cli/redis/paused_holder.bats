#!/usr/bin/env bats
# A holder or a server that stops answering for a while (SPEC §3, §5): lockrun never starts
# a command on a lock it cannot keep, says 76 whenever another run may have overlapped its
# command, and says what it observed when only the release failed.

# Redis only, whatever LOCKRUN_TEST_BACKEND says: these are about leases that expire.
LOCKRUN_TEST_BACKEND=redis
load ../common
load ../cache_helpers
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "a holder paused past its lease exits 76 and stores nothing; its watcher stopped the command before another run" {
    # lockrun 0.1 let the command run to its end meanwhile, beside the other run.
    [[ -x $(dirname "$LOCKRUN")/lockrun-watcher ]] || skip "lockrun-watcher is built for x86-64 and arm64 only"
    spawn holder "$LOCKRUN" --lease 1s --key paused \
        -c 'echo run >> runs; touch started; sleep 1.5; echo first'
    wait_until 10 test -e started
    kill -STOP "${SPAWNED[holder]}"
    # The lease runs out on the server, and another caller runs meanwhile.
    wait_until 10 no_lock_keys
    run --separate-stderr lockrun --lease 5s --key paused -c 'echo run >> runs; echo second'
    assert_status 0
    assert_output second
    assert_equal "runs: $(runs_count)" 'runs: 2'
    sleep_until_ms $(($(now_ms) + 500)) # the paused holder's command has ended by now
    kill -CONT "${SPAWNED[holder]}"
    assert_exit holder 76 10
    run grep -c "lost the lock on paused: .*; the command was ended by signal 15 (exit 143) while another run may have held the key; nothing was stored" holder.err
    assert_output 1
    assert_equal "$(<holder.out)" ''  # stopped at the lease's end, before its `echo first`
    # The second run's result is the one stored.
    run --separate-stderr lockrun cache show paused
    assert_output second
}

@test "with --on-lock-lost ignore, the paused holder warns and exits with its command's status" {
    spawn holder "$LOCKRUN" --no-cache --on-lock-lost ignore --lease 1s --key paused:ignore \
        -c 'touch started; sleep 1.5; exit 4'
    wait_until 10 test -e started
    kill -STOP "${SPAWNED[holder]}"
    wait_until 10 no_lock_keys
    sleep_until_ms $(($(now_ms) + 1000))
    kill -CONT "${SPAWNED[holder]}"
    assert_exit holder 4 10
    run grep -c 'lost the lock on paused:ignore: .*(exit 4).*(--on-lock-lost ignore)' holder.err
    assert_output 1
}

@test "a lock confirmed after its lease would have run out is renewed before the command starts" {
    # Writes wait on the server for 1.5 s: the acquisition is confirmed long after the
    # 500ms lease counted from its sending, although the key on the server is fresh.
    rcli CLIENT PAUSE 1500 WRITE
    run --separate-stderr lockrun -v --key late:confirm --lease 500ms --io-timeout 5s --no-cache \
        -- /bin/echo x
    assert_status 0
    assert_output x
    assert_regex "$stderr" 'the server confirmed the lock on late:confirm after [0-9a-z]+, past its 500ms lease; renewed it before starting the command'
    run ! grep -q 'lost the lock' <<<"$stderr"
}

@test "a server that stalls after the command ended within its lease: the command's status and what was seen" {
    run --separate-stderr lockrun --key stall:after --lease 30s --connect-timeout 500ms \
        --io-timeout 500ms -c "echo done; redis-cli -p $REDIS_PORT CLIENT PAUSE 4000 ALL >/dev/null"
    assert_status 0
    assert_output done
    assert_regex "$stderr" 'the command of stall:after ended within its lease \(exit 0\), but releasing the lock failed: .*; its result was not stored'
    run ! grep -q 'taken over' <<<"$stderr"
    run ! grep -q 'unguarded' <<<"$stderr"
}
