#!/usr/bin/env bats
# Losing the lock while the command runs (SPEC §3 code 76): freed from outside with
# `lockrun release KEY --force` (SPEC §7), which the holder notices at its next renewal
# (every lease/3). --on-lock-lost and --kill-after. Losses that only Redis has (a key
# deleted or taken over in Redis, a server that stops answering) are in redis/lock_lost.bats.

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# A command that notes the time it got SIGTERM in ./got-term, then exits. Its own stderr
# goes to cmd.err: the shell reports the killed `sleep` ("Terminated"), and holder.err
# must hold only lockrun's lines.
trapping_cmd() {
    printf '%s' "exec 2>cmd.err; trap 'date +%s%3N > got-term; exit 143' TERM; $(hold_cmd holder)"
}

@test "a lock freed with release --force stops the command with SIGTERM: exit 76, one line" {
    spawn holder "$LOCKRUN" --no-cache --lease 1s --key lost -c "$(trapping_cmd)"
    wait_until 10 test -s holder.started
    force_release lost
    local released_at
    released_at=$(now_ms)

    assert_exit holder 76 10
    assert_between "ms from the release to lockrun's exit" $(($(now_ms) - released_at)) 0 3000
    assert [ -s got-term ]
    load_stderr holder
    assert_one_error_line 'lost'
    assert_nothing_held
}

@test "a lock freed from outside that the command outlives to its end unseen: 76 all the same, nothing stored" {
    # A 30 s lease is renewed every 10 s: the command ends before the holder could notice,
    # and only the release finds the lock gone. Another run may have started meanwhile:
    # lockrun 0.1 exited with the command's status, as if nothing had happened.
    spawn holder "$LOCKRUN" --lease 30s --key freed -c "echo run >> runs; $(hold_cmd holder)"
    wait_until 10 test -s holder.started
    force_release freed
    run --separate-stderr lockrun --key freed -c 'echo run >> runs; echo second'
    assert_output second
    release holder
    assert_exit holder 76 10
    load_stderr holder
    assert_one_error_line 'lost the lock on freed: the lock was no longer this run.s when lockrun released it; the command ran to its end \(exit 0\) while another run may have held the key; nothing was stored'
    # The second run's result is the one kept.
    run --separate-stderr lockrun --key freed -c 'echo run >> runs'
    assert_output second
}

@test "--on-lock-lost kill stops the command with SIGKILL: no trap runs, exit 76" {
    spawn holder "$LOCKRUN" --no-cache --lease 1s --on-lock-lost kill --key lost -c "$(trapping_cmd)"
    wait_until 10 test -s holder.started
    force_release lost

    assert_exit holder 76 10
    assert [ ! -e got-term ]
    assert is_gone "$(<holder.cmd.pid)"
}

@test "--on-lock-lost ignore lets the command finish and exits with its status" {
    spawn holder "$LOCKRUN" --no-cache --lease 1s --on-lock-lost ignore --key lost -c "$(trapping_cmd); exit 5"
    wait_until 10 test -s holder.started
    force_release lost
    # On the clock: a 1 s lease is found lost within about a second; give it two.
    sleep_until_ms $(($(now_ms) + 2000))
    assert is_running "${SPAWNED[holder]}"

    release holder
    assert_exit holder 5 10
    assert [ ! -e got-term ]
    load_stderr holder
    assert_one_error_line 'lost'
}

@test "--kill-after 1s: a command that ignores SIGTERM is killed about 1 s later, exit 76" {
    spawn holder "$LOCKRUN" --no-cache --lease 1s --kill-after 1s --key lost \
        -c "trap '' TERM; $(hold_cmd holder)"
    wait_until 10 test -s holder.started
    force_release lost
    local released_at
    released_at=$(now_ms)

    assert_exit holder 76 10
    assert_between "ms from the release to lockrun's exit" $(($(now_ms) - released_at)) 900 5000
    assert is_gone "$(<holder.cmd.pid)"
}

