#!/usr/bin/env bats
# Signals (SPEC §4): forwarded to the command's process group while it runs; while
# waiting for the lock, lockrun exits 128+N holding nothing; ignored signals stay ignored.

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# assert_forwarded SIGNAL CODE: SIGNAL sent to a holding lockrun reaches the command, whose
# trap records it and then dies of it, and lockrun exits CODE (128+N). A lockrun that died
# of SIGNAL itself would exit CODE too: the record is what tells them apart.
assert_forwarded() {
    spawn holder "$LOCKRUN" --no-cache --key fwd --lease 30s \
        -c "trap 'echo $1 > got-signal; trap - $1; kill -$1 \$\$' $1; $(hold_cmd holder)"
    wait_until 10 test -s holder.started
    kill -"$1" "${SPAWNED[holder]}"
    assert_exit holder "$2" 10
    assert_equal "$(cat got-signal)" "$1"
}

@test "SIGTERM to a holder reaches the command, and lockrun exits 143" {
    assert_forwarded TERM 143
}

@test "SIGINT to a holder reaches the command, and lockrun exits 130" {
    assert_forwarded INT 130
}

@test "SIGHUP to a holder reaches the command, and lockrun exits 129" {
    assert_forwarded HUP 129
}

@test "SIGQUIT to a holder reaches the command, and lockrun exits 131" {
    assert_forwarded QUIT 131
}

@test "after a forwarded SIGTERM the lock is released at once" {
    start_holder holder --key fwd --lease 30s
    kill -TERM "${SPAWNED[holder]}"
    assert_exit holder 143 10
    assert_nothing_held
}

@test "after a forwarded SIGTERM a waiter proceeds long before the lease ends" {
    start_holder holder --key fwd --lease 30s
    local base
    base=$(subscribers fwd)
    spawn waiter "$LOCKRUN" --no-cache --wait 30 --lease 30s --key fwd -c 'date +%s%3N > waiter.ran'
    wait_for_waiter fwd "$base" waiter

    local signalled_at
    signalled_at=$(now_ms)
    kill -TERM "${SPAWNED[holder]}"
    assert_exit holder 143 10
    assert_exit waiter 0 10
    assert_between "ms from SIGTERM to the waiter's start" $(($(<waiter.ran) - signalled_at)) 0 2000
}

# assert_waiter_interrupted SIGNAL CODE: SIGNAL sent to a lockrun that waits for a held
# lock ends it with CODE at once; its command never ran, and the holder's lock is as it was.
assert_waiter_interrupted() {
    start_holder holder --key waiting --lease 30s
    local holder_before base
    holder_before=$(holder_of waiting)
    assert_regex "$holder_before" "^held pid=${SPAWNED[holder]} fence=[0-9]+\$"
    base=$(subscribers waiting)
    spawn waiter "$LOCKRUN" --no-cache --wait 30 --key waiting -- touch waiter.ran
    wait_for_waiter waiting "$base" waiter

    local signalled_at
    signalled_at=$(now_ms)
    kill -"$1" "${SPAWNED[waiter]}"
    assert_exit waiter "$2" 10
    assert_between "ms from the signal to the waiter's exit" $(($(now_ms) - signalled_at)) 0 2000
    assert [ ! -e waiter.ran ]
    assert_equal "$(holder_of waiting)" "$holder_before"
    wait_until 5 subscribers_at_most waiting "$base"

    release holder
    assert_exit holder 0 10
}

@test "SIGINT to a waiting lockrun: exit 130, its command never ran, holder untouched" {
    assert_waiter_interrupted INT 130
}

@test "SIGTERM to a waiting lockrun: exit 143, its command never ran, holder untouched" {
    assert_waiter_interrupted TERM 143
}

@test "a forwarded signal reaches the command's whole process group" {
    spawn holder "$LOCKRUN" --no-cache --key group -c 'sleep 30 >/dev/null 2>&1 & echo $! > grandchild.pid; wait'
    wait_until 10 test -s grandchild.pid
    local grandchild
    grandchild=$(<grandchild.pid)
    assert is_running "$grandchild"
    kill -TERM "${SPAWNED[holder]}"
    assert_exit holder 143 10
    wait_until 5 is_gone "$grandchild"
}

@test "SIGINT ignored when lockrun starts stays ignored by lockrun" {
    # The command waits for the test's go-ahead rather than a fixed sleep: on a loaded
    # machine lockrun could otherwise have exited, and a zombie ignores nothing, before the
    # test looked at it.
    spawn holder bash -c 'trap "" INT; exec "$LOCKRUN" --no-cache --key ignored -c "date +%s%3N > started; until [ -e go ]; do sleep 0.05; done; echo survived"'
    wait_until 10 test -s started
    assert sig_ignored "${SPAWNED[holder]}" 2
    kill -INT "${SPAWNED[holder]}"
    sleep 0.3 # give a SIGINT that was not ignored the time to end the run
    assert is_running "${SPAWNED[holder]}"
    touch go
    assert_exit holder 0 10
    assert_equal "$(<holder.out)" survived
}

@test "SIGINT ignored when lockrun starts stays ignored in the command" {
    spawn holder bash -c 'trap "" INT; exec "$LOCKRUN" --no-cache --key ignored -c "echo \$\$ > cmd.pid; until [ -e go ]; do sleep 0.05; done; echo survived"'
    wait_until 10 test -s cmd.pid
    local command_pid
    command_pid=$(<cmd.pid)
    assert sig_ignored "$command_pid" 2
    kill -INT "$command_pid"
    sleep 0.3 # give a SIGINT that was not ignored the time to end the command
    assert is_running "$command_pid"
    touch go
    assert_exit holder 0 10
    assert_equal "$(<holder.out)" survived
}

@test "SIGPIPE is at its default in the command" {
    run --separate-stderr lockrun --no-cache --key pipe -c '(yes; echo "yes exited $?" >&2) | head -1 >/dev/null'
    assert_status 0
    assert_equal "$stderr" 'yes exited 141'
}

@test "the command ignores the signals that lockrun's caller ignored, and no other" {
    # glibc's posix_spawn, which lockrun used to start it, left signals 32 and 33 (glibc's
    # own) ignored in every command.
    local ignored
    ignored=$(grep SigIgn /proc/self/status)
    run --separate-stderr lockrun --no-cache --key ignored -- grep SigIgn /proc/self/status
    assert_status 0
    assert_output "$ignored"
}

# is_stopped PID: the process is stopped (state T).
is_stopped() {
    local stat
    stat=$(<"/proc/$1/stat") || return 1
    stat=${stat##*) }
    [[ ${stat%% *} == T ]]
}

# ticking_cmd N: a command that appends a line to ./ticks every 50 ms, N times.
ticking_cmd() {
    printf '%s' "echo \$\$ > holder.cmd.pid; for i in \$(seq $1); do echo A >> ticks; sleep 0.05; done"
}

# ticks_stand_still: no tick in 300 ms: the ticking command is stopped. (Its shell may show
# state D rather than T: it waits in vfork(2) for its `sleep`, which is the one stopped.)
ticks_stand_still() {
    local before
    before=$(wc -l <ticks)
    sleep 0.3
    (($(wc -l <ticks) == before))
}

@test "SIGTSTP (Ctrl-Z) stops the command with lockrun; continued within the lease, both go on" {
    # lockrun 0.1 stopped alone: its command ran on, unguarded, while the lease ran out.
    spawn holder "$LOCKRUN" --no-cache --lease 30s --key tstp -c "$(ticking_cmd 40)"
    wait_until 10 test -s ticks
    kill -TSTP "${SPAWNED[holder]}"
    # lockrun stops the command's group before itself.
    wait_until 5 is_stopped "${SPAWNED[holder]}"
    wait_until 5 ticks_stand_still
    local stopped_at
    stopped_at=$(wc -l <ticks)
    sleep_until_ms $(($(now_ms) + 500))
    assert_equal "ticks while stopped: $(($(wc -l <ticks) - stopped_at))" 'ticks while stopped: 0'
    kill -CONT "${SPAWNED[holder]}"
    assert_exit holder 0 10
    assert_equal "ticks: $(wc -l <ticks)" 'ticks: 40'
    assert_nothing_held
}

@test "SIGTSTP ignored when lockrun starts stays ignored: neither lockrun nor its command stops" {
    # As SIGINT above: a job started with Ctrl-Z ignored (nohup-like launchers) keeps it so.
    spawn holder env --ignore-signal=TSTP "$LOCKRUN" --no-cache --lease 30s --key tstp-ign \
        -c "$(ticking_cmd 20)"
    wait_until 10 test -s ticks
    kill -TSTP "${SPAWNED[holder]}"
    assert_exit holder 0 10
    assert_equal "ticks: $(wc -l <ticks)" 'ticks: 20'
    assert_nothing_held
}

@test "stopped past its lease, a holder never overlaps the run that took the key: continued, 76" {
    spawn holder "$LOCKRUN" --no-cache --lease 1s --key tstp -c "$(ticking_cmd 40)"
    wait_until 10 test -s ticks
    kill -TSTP "${SPAWNED[holder]}"
    wait_until 5 is_stopped "${SPAWNED[holder]}"
    wait_until 5 ticks_stand_still
    sleep_until_ms $(($(now_ms) + 1500))
    if backend_is redis; then
        # The lease ran out: another caller runs, while the stopped command does not.
        run --separate-stderr lockrun --no-cache --key tstp -c 'echo B >> ticks'
        assert_status 0
        kill -CONT "${SPAWNED[holder]}"
        assert_exit holder 76 10
        load_stderr holder
        assert_one_error_line 'lost the lock on tstp: .*; stopped the command'
        # Nothing of the stopped run came after B's.
        assert_equal "last: $(tail -1 ticks)" 'last: B'
    else
        # The local lock has no lease: it stays held by the stopped run.
        run --separate-stderr lockrun --no-cache --key tstp -c 'echo B >> ticks'
        assert_status 75
        kill -CONT "${SPAWNED[holder]}"
        assert_exit holder 0 10
        run grep -c B ticks
        assert_output 0
    fi
}

@test "a command stopped by SIGTTIN, without a terminal, still ends on Ctrl-C: 130" {
    # A command stopped (a kill -TTIN, or a read of a terminal lockrun could not give it:
    # terminal.bats) kept SIGINT pending, and lockrun waited for ever. In a session of its
    # own (setsid), lockrun has no terminal wherever the suite runs.
    spawn holder setsid -w "$LOCKRUN" --no-cache --lease 30s --key ttin -c "$(ticking_cmd 400)"
    wait_until 10 test -s ticks
    kill -TTIN -- "-$(ps -o pgid= -p "$(<holder.cmd.pid)" | tr -d ' ')"
    wait_until 5 ticks_stand_still
    kill -INT "$(ps -o ppid= -p "$(<holder.cmd.pid)" | tr -d ' ')"
    assert_exit holder 130 5
    assert_nothing_held
}

@test "SIGKILL to a lockrun stopped with its command: the command is killed too, even ignoring SIGHUP" {
    spawn holder "$LOCKRUN" --no-cache --lease 30s --key tstp-kill -c "trap '' HUP; $(ticking_cmd 400)"
    wait_until 10 test -s ticks
    kill -TSTP "${SPAWNED[holder]}"
    wait_until 5 is_stopped "${SPAWNED[holder]}"
    wait_until 5 ticks_stand_still
    kill -KILL "${SPAWNED[holder]}"
    wait_until 5 is_gone "$(<holder.cmd.pid)"
}
