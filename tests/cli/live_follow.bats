#!/usr/bin/env bats
# Following a run live (SPEC §1): a caller that waits for a run prints its output as the
# run produces it and exits with its status; output over --cache-max-bytes is still shared
# with the callers already waiting; a waiter whose --wait runs out exits 75 after what it
# printed; the followers of a run that loses its lock exit 76; a follower that falls
# behind the kept window says so and exits 74, never printing torn output; memory stays
# bounded on both sides.

load common
load cache_helpers
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# size_at_least FILE BYTES: FILE holds BYTES bytes or more.
size_at_least() {
    (($(stat -c %s "$1") >= $2))
}

# inotify_instances PID: how many inotify instances process PID holds open.
inotify_instances() {
    find "/proc/$1/fd" -lname 'anon_inode:inotify' 2>/dev/null | wc -l
}

# peak_kib NAME: the peak RSS (KiB) that GNU time wrote to NAME.time.
peak_kib() {
    tail -n 1 "$1.time"
}

@test "a waiter prints the run's first line while the run still goes on, then the rest, and its status" {
    spawn holder "$LOCKRUN" --key live:first \
        -c "echo run >> runs; echo 'first line'; echo 'to stderr' >&2; $(wait_for_go_cmd); echo 'second line'; exit 3"
    wait_until 10 test -s runs
    spawn follower "$LOCKRUN" -v --wait 30 --key live:first -c 'echo run >> runs'
    # The holder is still blocked on ./go: the line can only have come live.
    wait_until 10 grep -qx 'first line' follower.out
    wait_until 10 grep -qx 'to stderr' follower.err
    assert [ ! -e go ]
    run is_gone "${SPAWNED[holder]}"
    assert_failure
    touch go
    assert_exit holder 3 10
    assert_exit follower 3 10
    assert_runs 1
    assert_equal "$(<follower.out)" $'first line\nsecond line'
    if backend_is redis; then
        # It left its consumer group, without waiting for the answer, before it exited: the
        # key's next run waits for no follower of this one.
        assert_equal "groups: $(rcli XINFO GROUPS "$(key_base live:first)live" | grep -c follower)" 'groups: 0'
    fi
    run grep -c 'followed the run of .* (fence [0-9]*) live to its end, exit 3' follower.err
    assert_output 1
    run grep -c '^to stderr$' follower.err
    assert_output 1
}

@test "20 waiters of a run printing 24 MiB, over --cache-max-bytes, all print it whole; it ran once" {
    # Three times the 8 MiB window, and over the 16 MiB --cache-max-bytes.
    head -c $((24 << 20)) /dev/urandom >big
    local sum
    sum=$(sha256sum <big)
    local cmd="echo run >> runs; $(wait_for_go_cmd); cat big"
    spawn holder bash -o pipefail -c "\"\$0\" --key live:big -c '$cmd' | sha256sum" "$LOCKRUN"
    wait_until 10 test -s runs
    local i
    for i in $(seq 20); do
        spawn "f$i" bash -o pipefail -c \
            "\"\$0\" -v --wait 60 --key live:big -c 'echo run >> runs' | sha256sum" "$LOCKRUN"
    done
    waiting() { (($(cat f*.err 2>/dev/null | grep -c 'waiting for') >= 20)); }
    wait_until 20 waiting
    touch go
    assert_exit holder 0 60
    assert_equal "holder: $(<holder.out)" "holder: $sum"
    for i in $(seq 20); do
        assert_exit "f$i" 0 60
        assert_equal "f$i: $(<"f$i.out")" "f$i: $sum"
        run grep -c 'live to its end, exit 0' "f$i.err"
        assert_output 1
    done
    assert_runs 1
    run grep -c 'over --cache-max-bytes' holder.err
    assert_output 1
    # Only the storing was capped: a later caller runs it again.
    run --separate-stderr lockrun --key live:big -c 'echo run >> runs; echo again'
    assert_output again
    assert_runs 2
}

@test "a waiter whose --wait runs out exits 75 after the part of the output it printed" {
    spawn holder "$LOCKRUN" --key live:wait \
        -c "echo run >> runs; echo 'part one'; $(wait_for_go_cmd); echo 'part two'"
    wait_until 10 test -s runs
    spawn follower "$LOCKRUN" --wait 2s --key live:wait -c 'echo run >> runs'
    assert_exit follower 75 10
    assert_equal "$(<follower.out)" 'part one'
    run grep -c 'gave up after --wait 2s' follower.err
    assert_output 1
    touch go
    assert_exit holder 0 10
    assert_runs 1
}

@test "the followers of a run whose lock is deleted from outside exit 76 after what they printed" {
    spawn holder "$LOCKRUN" --lease 3s --key live:lost \
        -c "echo run >> runs; echo before; $(wait_for_go_cmd); echo after"
    wait_until 10 test -s runs
    local i
    for i in 1 2 3; do
        spawn "f$i" "$LOCKRUN" --wait 60 --key live:lost -c 'echo run >> runs'
    done
    for i in 1 2 3; do wait_until 10 grep -qx before "f$i.out"; done
    force_release live:lost
    for i in 1 2 3; do
        assert_exit "f$i" 76 10
        assert_equal "f$i: $(<"f$i.out")" "f$i: before"
        run grep -c 'ended without an outcome after 7 bytes of its output: it lost its lock' "f$i.err"
        assert_output 1
    done
    assert_exit holder 76 15
    assert_runs 1
}

@test "a follower of a 256 MiB run, and its holder, keep their memory bounded" {
    # 32 times the kept window, and four times the largest peak allowed below.
    local cmd="echo run >> runs; $(wait_for_go_cmd); head -c $((256 << 20)) /dev/urandom"
    spawn holder bash -o pipefail -c \
        "/usr/bin/time -f %M -o holder.time \"\$0\" --key live:gib -c '$cmd' | wc -c" "$LOCKRUN"
    wait_until 10 test -s runs
    spawn follower bash -o pipefail -c \
        "/usr/bin/time -f %M -o follower.time \"\$0\" -v --wait 120 --key live:gib -c 'echo run >> runs' | wc -c" \
        "$LOCKRUN"
    wait_until 10 grep -q 'waiting for' follower.err
    touch go
    assert_exit holder 0 120
    assert_exit follower 0 120
    assert_equal "$(<follower.out)" $((256 << 20))
    assert_equal "holder printed: $(<holder.out)" "holder printed: $((256 << 20))"
    assert_runs 1
    # The kept window is 8 MiB and a read 128 KiB: whatever the output's size, neither side
    # holds more than some tens of MiB (the holder's capture stops at --cache-max-bytes).
    assert [ "$(peak_kib follower)" -lt $((48 << 10)) ]
    assert [ "$(peak_kib holder)" -lt $((64 << 10)) ]
}

@test "a follower stopped past the window says so in one line and exits 74, never printing torn output" {
    # The holder prints 1 KiB, then (after ./go) 40 MiB, more than the 8 MiB window.
    head -c $((40 << 20)) /dev/urandom >rest
    local cmd="echo run >> runs; head -c 1024 /dev/zero; $(wait_for_go_cmd); cat rest; touch printed; $(wait_for_go_cmd go2)"
    spawn holder "$LOCKRUN" --key live:behind -c "$cmd"
    wait_until 10 test -s runs
    spawn follower "$LOCKRUN" --wait 60 --key live:behind -c 'echo run >> runs'
    wait_until 10 size_at_least follower.out 1024
    kill -STOP "${SPAWNED[follower]}"
    local released
    released=$(now_ms)
    touch go
    wait_until 30 test -e printed
    # The holder waited for the stopped follower, within its budget (2 s), then went on.
    assert_between "holder printed its 40 MiB after (ms)" $(($(now_ms) - released)) 0 8000
    kill -CONT "${SPAWNED[follower]}"
    assert_exit follower 74 20
    # What it printed is the run's output up to where it fell behind, never past a gap.
    head -c 1024 /dev/zero >expected
    cat rest >>expected
    local printed
    printed=$(stat -c %s follower.out)
    assert [ "$printed" -lt $((40 << 20)) ]
    run cmp -n "$printed" follower.out expected
    assert_success
    run grep -c 'fell behind the run of .* (fence [0-9]*) of live:behind: after [0-9]* bytes' follower.err
    assert_output 1
    assert_equal "stderr lines: $(wc -l <follower.err)" 'stderr lines: 1'
    touch go2
    assert_exit holder 0 20
    assert_runs 1
}

@test "a caller that comes after an unfollowed run passed its head waits for its end, and prints it once" {
    # 2 MiB, past the 1 MiB that is always published, and under --cache-max-bytes: stored.
    head -c $((2 << 20)) /dev/urandom >two
    spawn holder "$LOCKRUN" --key live:late -c "echo run >> runs; cat two; $(wait_for_go_cmd)"
    wait_until 10 size_at_least holder.out $((2 << 20))
    spawn late "$LOCKRUN" -v --wait 30 --key live:late -c 'echo run >> runs'
    wait_until 10 grep -q 'so far is no longer kept; waiting for its end' late.err
    assert_equal "late printed: $(stat -c %s late.out)" 'late printed: 0'
    if backend_is local; then
        # It stopped watching the lock to follow, and watches it again to wait.
        wait_until 5 prints 1 inotify_instances "${SPAWNED[late]}"
    fi
    touch go
    assert_exit holder 0 10
    assert_exit late 0 10
    run cmp late.out two
    assert_success
    assert_runs 1
}

@test "--no-cache and --refresh callers wait without following; -q hides the follower's line" {
    spawn holder "$LOCKRUN" --key live:modes -c "echo run >> runs; echo shared; $(wait_for_go_cmd)"
    wait_until 10 test -s runs
    spawn quiet "$LOCKRUN" -q --wait 30 --key live:modes -c 'echo run >> runs'
    spawn nocache "$LOCKRUN" --no-cache --wait 30 --key live:modes -c 'echo run >> runs; echo own'
    wait_until 10 grep -qx shared quiet.out
    touch go
    assert_exit holder 0 10
    assert_exit quiet 0 10
    assert_exit nocache 0 10
    assert_equal "$(<quiet.out)" shared
    assert_equal "quiet stderr: $(<quiet.err)" 'quiet stderr: '
    assert_equal "$(<nocache.out)" own
    assert_runs 2
}

@test "with --cache-key-file nothing is followed: the waiter prints the signed outcome at the end" {
    head -c 32 /dev/urandom | base64 >cache.key
    chmod 600 cache.key
    spawn holder "$LOCKRUN" --cache-key-file cache.key --key live:signed \
        -c "echo run >> runs; echo first; $(wait_for_go_cmd); echo second"
    wait_until 10 test -s runs
    spawn waiter "$LOCKRUN" -v --cache-key-file cache.key --wait 30 --key live:signed \
        -c 'echo run >> runs'
    wait_until 10 grep -q 'waiting for' waiter.err
    sleep 0.5
    assert_equal "waiter printed: $(<waiter.out)" 'waiter printed: '
    touch go
    assert_exit holder 0 10
    assert_exit waiter 0 10
    assert_equal "$(<waiter.out)" $'first\nsecond'
    run grep -c 'replayed the run of .*(fence [0-9]*)' waiter.err
    assert_output 1
    assert_runs 1
}

@test "--wait bounds a follow even while output is there to print: 75 after a part of it" {
    head -c $((6 << 20)) /dev/urandom >six
    spawn holder "$LOCKRUN" --key live:waitflow \
        -c "echo run >> runs; $(wait_for_go_cmd go1); cat six; $(wait_for_go_cmd)"
    wait_until 10 test -s runs
    # Its reader takes nothing for 3 s: by then all 6 MiB wait to be printed, and --wait is
    # over.
    spawn follower bash -c \
        "\"\$0\" -v --wait 1s --key live:waitflow -c 'echo run >> runs' | (sleep 3; cat) >slow.out; exit \${PIPESTATUS[0]}" \
        "$LOCKRUN"
    wait_until 10 grep -q 'waiting for' follower.err
    touch go1
    assert_exit follower 75 20
    local printed
    printed=$(stat -c %s slow.out)
    assert [ "$printed" -gt 0 ]
    assert [ "$printed" -lt $((6 << 20)) ]
    run cmp -n "$printed" slow.out six
    assert_success
    touch go
    assert_exit holder 0 10
    assert_runs 1
}

@test "the followers of a run read on after the next run of the key has started" {
    # The first run ends while its follower, read slowly, is still behind; a second run of
    # the key starts at once: the follower still prints all of the first run's output.
    head -c $((3 << 20)) /dev/urandom >three
    spawn holder "$LOCKRUN" --cache-ttl 0 --key live:next -c "echo run >> runs; $(wait_for_go_cmd); cat three"
    wait_until 10 test -s runs
    spawn follower bash -c "\"\$0\" -v --wait 60 --key live:next -c 'echo run >> runs' | (sleep 3; cat) >slow.out" "$LOCKRUN"
    wait_until 10 grep -q 'waiting for' follower.err
    touch go
    assert_exit holder 0 10
    run --separate-stderr lockrun --cache-ttl 0 --key live:next -c 'echo run >> runs; echo second'
    assert_output second
    assert_exit follower 0 30
    run cmp slow.out three
    assert_success
    assert_runs 2
}

@test "a local follower holds no inotify instance: it waits on the run's file" {
    # Closing an instance waits for the kernel to retire its watches (tens of ms while a
    # stampede's followers close theirs), and a user has only 128: a follower waits on the
    # live file's wake word (futex), with no instance from its first look to its exit.
    backend_is local || skip "inotify is the local backend's"
    spawn holder "$LOCKRUN" --key live:ino -c "echo run >> runs; echo before; $(wait_for_go_cmd); echo after"
    wait_until 10 test -s runs
    spawn follower "$LOCKRUN" --wait 60 --key live:ino -c 'echo run >> runs'
    wait_until 10 grep -qx before follower.out
    assert_equal "instances: $(inotify_instances "${SPAWNED[follower]}")" 'instances: 0'
    touch go
    assert_exit holder 0 10
    assert_exit follower 0 10
    assert_equal "$(<follower.out)" $'before\nafter'
    assert_runs 1
}

# subscribed_clients: how many of the test server's connections hold a subscription.
subscribed_clients() {
    rcli CLIENT LIST | grep -cE ' (sub|ssub)=[1-9]'
}

@test "a follower listens for no release: it reads the run's end from the run's output" {
    # A wake-up armed for the release was a second connection and a second look for every
    # follower of a stampede (an inotify instance on the local backend), never used.
    backend_is redis || skip "the subscription is Redis's; that a local follower holds no inotify instance is tested above"
    spawn holder "$LOCKRUN" --key live:sub -c "echo run >> runs; echo before; $(wait_for_go_cmd); echo after"
    wait_until 10 test -s runs
    # A caller that does not follow (--no-cache) still subscribes: the count sees it.
    spawn waiter "$LOCKRUN" --no-cache --wait 60 --key live:sub -c 'echo waited'
    wait_until 10 prints 1 subscribed_clients
    spawn follower "$LOCKRUN" --wait 60 --key live:sub -c 'echo run >> runs'
    wait_until 10 grep -qx before follower.out
    assert_equal "subscribed: $(subscribed_clients)" 'subscribed: 1'
    touch go
    assert_exit holder 0 10
    assert_exit follower 0 10
    assert_exit waiter 0 10
    assert_equal "$(<follower.out)" $'before\nafter'
    assert_equal "$(<waiter.out)" waited
    assert_runs 1
}

@test "a follower whose stdout refuses the output says so and exits 74; one with a non-blocking stdout prints it whole" {
    head -c 1500000 /dev/urandom >in.bin
    spawn holder "$LOCKRUN" --key live:full -c "echo run >> runs; head -c 1000 in.bin; $(wait_for_go_cmd); tail -c +1001 in.bin"
    wait_until 10 test -s runs
    spawn full bash -c '"$0" -v --wait 60 --key live:full -c "echo run >> runs" >/dev/full' "$LOCKRUN"
    # O_NONBLOCK on its stdout (a CI runner's, a Node.js parent's), and a slow reader.
    spawn nonblocking bash -c 'python3 -c "import os, sys; os.set_blocking(1, False); os.execv(sys.argv[1], sys.argv[1:])" "$0" -v --wait 60 --key live:full -c "echo run >> runs" | { sleep 2.5; cat; } >nonblocking.bin' "$LOCKRUN"
    wait_until 10 grep -q 'following the run of' full.err
    wait_until 10 grep -q 'following the run of' nonblocking.err
    touch go
    assert_exit holder 0 10
    assert_exit full 74 10
    run grep -c 'live:full: its output could not be written to stdout: No space left on device; what was printed is incomplete (the command.s status: 0)' full.err
    assert_output 1
    assert_exit nonblocking 0 10
    cmp in.bin nonblocking.bin
    assert_runs 1
}

@test "the followers of a run whose own reader went away exit 74 after what they printed; nothing is stored" {
    # The holder's `| head -c 10` cuts its command off (SIGPIPE), which exits 0 all the same:
    # its followers must not end as if they had printed the run's output.
    spawn holder bash -c '"$0" --key live:cut -c "echo run >> runs; head -c 1000 /dev/zero; $1; seq 1 200000; true" | head -c 10 >/dev/null' "$LOCKRUN" "$(wait_for_go_cmd)"
    wait_until 10 test -s runs
    spawn follower "$LOCKRUN" --wait 60 --key live:cut -c 'echo run >> runs'
    wait_until 10 size_at_least follower.out 1000
    touch go
    assert_exit holder 0 10
    assert_exit follower 74 10
    run grep -c 'live:cut was cut off after [0-9]* bytes: the reader of its holder.s output went away, which stopped the command (SIGPIPE; exit 0); nothing was stored' follower.err
    assert_output 1
    # A later caller runs it: nothing was stored.
    run --separate-stderr lockrun --key live:cut -c 'echo run >> runs; echo again'
    assert_output again
    assert_runs 2
}

@test "SIGINT to a follower: it exits 130 at once, and the run goes on without it" {
    spawn holder "$LOCKRUN" --key live:int -c "echo run >> runs; echo before; $(wait_for_go_cmd); echo after"
    wait_until 10 test -s runs
    spawn follower "$LOCKRUN" --wait 60 --key live:int -c 'echo run >> runs'
    wait_until 10 grep -qx before follower.out
    if backend_is redis; then
        assert_equal "groups: $(rcli XINFO GROUPS "$(key_base live:int)live" | grep -c follower)" 'groups: 1'
    fi
    kill -INT "${SPAWNED[follower]}"
    assert_exit follower 130 3
    if backend_is redis; then
        # It left its consumer group: the holder waits for nobody.
        assert_equal "groups: $(rcli XINFO GROUPS "$(key_base live:int)live" | grep -c follower)" 'groups: 0'
    fi
    touch go
    assert_exit holder 0 10
    assert_equal "$(<holder.out)" $'before\nafter'
    assert_runs 1
}
